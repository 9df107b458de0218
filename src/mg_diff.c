/*-------------------------------------------------------------------------
 *
 * mg_diff.c
 *	  The pure schema diff: two models (mg_schema.h) in, the ordered
 *	  statements turning the first into the second out.
 *
 * Owns: the order of the steps, the SQL text of each, its hazard, and the
 * reports of what cannot be generated (a step with a NULL statement).
 * Must not: call the server, read catalogs, raise errors, or use any
 * PostgreSQL header -- it links into test/unit/test_diff without the
 * server.  All memory comes from the caller's MgsAlloc and is never freed
 * here (the backend passes a memory context).
 *
 * Order of the steps (within a phase, name order unless said otherwise;
 * doc/design.md):
 *   1  drop triggers removed or changed
 *   2  drop views removed, changed, or reading a table whose columns
 *      change (dependents first); drop matview indexes removed or
 *      changed on kept matviews
 *   3  drop foreign keys removed or changed, or pointing at a key that is
 *      rebuilt
 *   4  drop other constraints and indexes removed or changed
 *   5  drop tables (partitions first)
 *   6  create schemas, extensions; create enums, add enum labels;
 *      create and alter domains and composite types; create and alter
 *      sequences; create or replace functions
 *   7  create tables (parents first), alter columns of kept tables
 *   8  sequence ownership
 *   9  add constraints (not foreign keys), create indexes
 *  10  add foreign keys
 *  11  create views (dependencies first), matview indexes; triggers
 *  12  comments
 *  13  drop functions, sequences, composite types, domains, enums,
 *      extensions, schemas
 *
 * Renames are never guessed: a renamed object is a drop and a create.
 *
 * Copyright (c) the migrations authors
 *-------------------------------------------------------------------------
 */
#include "mg_schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- strings ---- */

/* A copy of s in the caller's allocator */
static char *
xstrdup(const MgsAlloc *a, const char *s)
{
	size_t		n = strlen(s);
	char	   *r = a->alloc(a->ctx, n + 1);

	memcpy(r, s, n + 1);
	return r;
}

static char *
xprintf(const MgsAlloc *a, const char *fmt,...)
	__attribute__((format(printf, 2, 3)));

/*
 * xprintf
 *		printf into a string of exactly the needed size from the caller's
 *		allocator; the P() of every statement and object name below.
 */
static char *
xprintf(const MgsAlloc *a, const char *fmt,...)
{
	va_list		ap;
	int			n;
	char	   *r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	r = a->alloc(a->ctx, (size_t) n + 1);
	va_start(ap, fmt);
	vsnprintf(r, (size_t) n + 1, fmt, ap);
	va_end(ap);
	return r;
}

/* Are two optional strings equal?  Two NULLs are; NULL and a string are not */
static bool
streq(const char *x, const char *y)
{
	if (x == NULL || y == NULL)
		return x == y;
	return strcmp(x, y) == 0;
}

/* always quoted: correct for every name, keywords included */
const char *
mgs_quote_ident(const MgsAlloc *a, const char *s)
{
	size_t		n = strlen(s);
	char	   *r = a->alloc(a->ctx, 2 * n + 3);
	char	   *p = r;

	*p++ = '"';
	for (; *s; s++)
	{
		if (*s == '"')
			*p++ = '"';
		*p++ = *s;
	}
	*p++ = '"';
	*p = '\0';
	return r;
}

/* a standard-conforming string literal (standard_conforming_strings on) */
const char *
mgs_quote_literal(const MgsAlloc *a, const char *s)
{
	size_t		n;
	char	   *r;
	char	   *p;

	if (s == NULL)
		return "NULL";
	n = strlen(s);
	r = a->alloc(a->ctx, 2 * n + 3);
	p = r;
	*p++ = '\'';
	for (; *s; s++)
	{
		if (*s == '\'')
			*p++ = '\'';
		*p++ = *s;
	}
	*p++ = '\'';
	*p = '\0';
	return r;
}

/* one identifier as format('%I') writes it; returns the end, or NULL */
static const char *
scan_ident(const char *s)
{
	if (*s == '"')
	{
		s++;
		for (;;)
		{
			if (*s == '\0')
				return NULL;
			if (*s == '"')
			{
				if (s[1] == '"')
				{
					s += 2;
					continue;
				}
				return s + 1;
			}
			s++;
		}
	}
	if (!((*s >= 'a' && *s <= 'z') || *s == '_' || (unsigned char) *s >= 0x80))
		return NULL;
	while ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		   *s == '$' || (unsigned char) *s >= 0x80)
		s++;
	return s;
}

/*
 * Is s "schema.name" (each part an identifier as %I writes it), followed,
 * when with_args, by "(...)" with balanced parentheses and no semicolon
 * outside quotes?  Keys are pasted into statements, so a key that is not
 * a name must be refused before the diff sees it.
 */
bool
mgs_valid_key(const char *s, bool with_args)
{
	int			depth = 0;
	bool		inq = false;

	s = scan_ident(s);
	if (s == NULL || *s != '.')
		return false;
	s = scan_ident(s + 1);
	if (s == NULL)
		return false;
	if (!with_args)
		return *s == '\0';
	if (*s != '(')
		return false;
	for (; *s; s++)
	{
		if (inq)
		{
			if (*s == '"')
				inq = false;
			continue;
		}
		if (*s == '"')
			inq = true;
		else if (*s == '(')
			depth++;
		else if (*s == ')')
		{
			if (--depth == 0)
				return s[1] == '\0';
		}
		else if (*s == ';' || *s == '\'' || (*s == '-' && s[1] == '-') ||
				 (*s == '/' && s[1] == '*'))
			return false;
	}
	return false;
}

/* the schema part of a key, as written (quoted or not) */
static const char *
key_schema(const MgsAlloc *a, const char *key)
{
	const char *e = scan_ident(key);
	size_t		n;
	char	   *r;

	if (e == NULL)
		return xstrdup(a, key);
	n = (size_t) (e - key);
	r = a->alloc(a->ctx, n + 1);
	memcpy(r, key, n);
	r[n] = '\0';
	return r;
}

/* ---- sorting and lookup ---- */

/* qsort comparators: one per element type, by its name or key field */
#define DEFINE_CMP(fn, type, field) \
static int fn(const void *x, const void *y) \
{ return strcmp(((const type *) x)->field, ((const type *) y)->field); }

DEFINE_CMP(cmp_column, MgsColumn, name)
DEFINE_CMP(cmp_constraint, MgsConstraint, name)
DEFINE_CMP(cmp_def, MgsDef, name)
DEFINE_CMP(cmp_table, MgsTable, key)
DEFINE_CMP(cmp_sequence, MgsSequence, key)
DEFINE_CMP(cmp_view, MgsView, key)
DEFINE_CMP(cmp_enum, MgsEnum, key)
DEFINE_CMP(cmp_function, MgsFunction, key)
DEFINE_CMP(cmp_domain, MgsDomain, key)
DEFINE_CMP(cmp_composite, MgsComposite, key)
DEFINE_CMP(cmp_extension, MgsExtension, name)
DEFINE_CMP(cmp_schema, MgsSchema, name)

/* qsort comparator of an array of strings (a view's dependencies) */
static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *) x, *(const char *const *) y);
}

#define SORT(arr, n, cmp) do { if ((n) > 1) qsort((arr), (size_t) (n), sizeof(*(arr)), cmp); } while (0)

/*
 * mgs_model_sort
 *		Sort every array of m, and the arrays inside each table, view,
 *		domain and composite, by name or key (strcmp order), in place.
 *		mgs_diff needs this: the find_ functions search by bisection, and
 *		each phase emits in name order.  Cannot fail.
 */
void
mgs_model_sort(MgsModel *m)
{
	SORT(m->schemas, m->nschemas, cmp_schema);
	SORT(m->extensions, m->nextensions, cmp_extension);
	SORT(m->tables, m->ntables, cmp_table);
	for (int i = 0; i < m->ntables; i++)
	{
		MgsTable   *t = &m->tables[i];

		SORT(t->columns, t->ncolumns, cmp_column);
		SORT(t->constraints, t->nconstraints, cmp_constraint);
		SORT(t->indexes, t->nindexes, cmp_def);
		SORT(t->triggers, t->ntriggers, cmp_def);
	}
	SORT(m->sequences, m->nsequences, cmp_sequence);
	SORT(m->views, m->nviews, cmp_view);
	for (int i = 0; i < m->nviews; i++)
	{
		SORT(m->views[i].depends, m->views[i].ndepends, cmp_str);
		SORT(m->views[i].indexes, m->views[i].nindexes, cmp_def);
	}
	SORT(m->enums, m->nenums, cmp_enum);
	SORT(m->domains, m->ndomains, cmp_domain);
	for (int i = 0; i < m->ndomains; i++)
		SORT(m->domains[i].constraints, m->domains[i].nconstraints, cmp_constraint);
	SORT(m->composites, m->ncomposites, cmp_composite);
	for (int i = 0; i < m->ncomposites; i++)
		SORT(m->composites[i].attributes, m->composites[i].nattributes, cmp_column);
	SORT(m->functions, m->nfunctions, cmp_function);
}

/* binary search by key on a sorted array of the model */
#define DEFINE_FIND(fn, type, arrf, nf, field) \
static const type *fn(const MgsModel *m, const char *k) \
{ \
	int lo = 0, hi = m->nf - 1; \
	while (lo <= hi) { \
		int mid = lo + (hi - lo) / 2; \
		int c = strcmp(m->arrf[mid].field, k); \
		if (c == 0) return &m->arrf[mid]; \
		if (c < 0) lo = mid + 1; else hi = mid - 1; \
	} \
	return NULL; \
}

DEFINE_FIND(find_table, MgsTable, tables, ntables, key)
DEFINE_FIND(find_view, MgsView, views, nviews, key)

/* The column named name in t (columns sorted by name), or NULL */
static const MgsColumn *
find_column(const MgsTable *t, const char *name)
{
	int			lo = 0,
				hi = t->ncolumns - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = strcmp(t->columns[mid].name, name);

		if (c == 0)
			return &t->columns[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* The constraint named name in t, or NULL; a linear scan */
static const MgsConstraint *
find_constraint(const MgsTable *t, const char *name)
{
	for (int i = 0; i < t->nconstraints; i++)
		if (strcmp(t->constraints[i].name, name) == 0)
			return &t->constraints[i];
	return NULL;
}

/* The index or trigger named name among the n in d, or NULL; a linear scan */
static const MgsDef *
find_def(const MgsDef *d, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(d[i].name, name) == 0)
			return &d[i];
	return NULL;
}

/* ---- output ---- */

typedef struct Diff
{
	const MgsAlloc *a;
	const MgsModel *src;
	const MgsModel *dst;
	MgsSteps	out;
	/* per source view: must be dropped (and recreated if in target) */
	bool	   *view_rebuild;
	/* per source table: some column is dropped or changes type */
	bool	   *table_cols_change;
	/* per source table: its primary key or a unique constraint is rebuilt */
	bool	   *table_keys_change;
} Diff;

/*
 * emit
 *		Append a step; stmt NULL makes it a report (note says why), hazard
 *		is an MGS_HAZARD_ constant or NULL.  The strings are kept, not
 *		copied.  The array doubles from 64 when full; the old one is left to
 *		the allocator.
 */
static void
emit(Diff *d, const char *stmt, const char *object, const char *hazard,
	 const char *note)
{
	if (d->out.nsteps == d->out.cap)
	{
		int			ncap = d->out.cap ? d->out.cap * 2 : 64;
		MgsStep    *n = d->a->alloc(d->a->ctx, sizeof(MgsStep) * (size_t) ncap);

		if (d->out.nsteps)
			memcpy(n, d->out.steps, sizeof(MgsStep) * (size_t) d->out.nsteps);
		d->out.steps = n;
		d->out.cap = ncap;
	}
	d->out.steps[d->out.nsteps].statement = stmt;
	d->out.steps[d->out.nsteps].object = object;
	d->out.steps[d->out.nsteps].hazard = hazard;
	d->out.steps[d->out.nsteps].note = note;
	d->out.nsteps++;
}

#define Q(s) mgs_quote_ident(d->a, (s))
#define L(s) mgs_quote_literal(d->a, (s))
#define P(...) xprintf(d->a, __VA_ARGS__)

/* a table holds rows, or nothing says it does not */
static bool
nonempty(const MgsTable *t)
{
	return t == NULL || t->size_bytes != 0;
}

/* The hazard of a scan or build under lock on t: long_lock unless t is empty */
static const char *
lock_if_nonempty(const MgsTable *t)
{
	return nonempty(t) ? MGS_HAZARD_LONG_LOCK : NULL;
}

/* Does hay (NULL: no) hold needle?  A plain substring test on a definition */
static bool
contains(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

/* ---- hazards of a type change ---- */

/*
 * Split a type into its base and typmods: "character varying(10)" gives
 * base "character varying", n 10, scale -1; "numeric(10,2)" gives n 10,
 * scale 2; no parentheses gives n -1.  Returns false when the base does
 * not fit basesz, the parentheses do not end the type, or they do not
 * open with an integer (the caller then assumes a rewrite).
 */
static bool
split_typmod(const char *type, char *base, size_t basesz, long *n, long *scale)
{
	const char *p = strchr(type, '(');
	size_t		len;

	*scale = -1;
	if (p == NULL)
	{
		snprintf(base, basesz, "%s", type);
		*n = -1;
		return true;
	}
	len = (size_t) (p - type);
	if (len >= basesz || strchr(p, ')') == NULL || strchr(p, ')')[1] != '\0')
		return false;
	memcpy(base, type, len);
	base[len] = '\0';
	if (sscanf(p, "(%ld,%ld)", n, scale) == 2)
		return true;
	*scale = -1;
	return sscanf(p, "(%ld)", n) == 1;
}

/*
 * type_change_hazard
 *		The hazard of ALTER COLUMN TYPE from -> to: none for a collation
 *		change alone and for the changes PostgreSQL makes without rewriting
 *		(a longer or unlimited varchar or varbit, varchar to text, a wider
 *		numeric of the same scale, an unconstrained numeric); data_loss for
 *		a shorter length, a smaller precision or scale, a constrained
 *		numeric from an unconstrained one, text to varchar, or a narrower
 *		integer; table_rewrite otherwise, a longer character(n) and any type
 *		it cannot split included.  Looks at the
 *		type names only: cannot fail.
 */
static const char *
type_change_hazard(const char *from, const char *to, bool collation_change)
{
	char		fb[128],
				tb[128];
	long		fn,
				tn,
				fs,
				ts;

	if (collation_change && streq(from, to))
		return NULL;			/* the indexes are rebuilt, not the table */
	if (!split_typmod(from, fb, sizeof(fb), &fn, &fs) ||
		!split_typmod(to, tb, sizeof(tb), &tn, &ts))
		return MGS_HAZARD_REWRITE;
	if (strcmp(fb, tb) == 0 && (strcmp(fb, "character varying") == 0 ||
								strcmp(fb, "character") == 0 ||
								strcmp(fb, "bit varying") == 0))
	{
		if (tn == -1 || (fn != -1 && tn >= fn))
			return strcmp(fb, "character") == 0 && tn != fn ? MGS_HAZARD_REWRITE : NULL;
		return MGS_HAZARD_DATA_LOSS;
	}
	if (strcmp(fb, tb) == 0 && strcmp(fb, "numeric") == 0)
	{
		if (tn == -1)
			return NULL;
		if (fn == -1 || tn < fn || ts < fs)
			return MGS_HAZARD_DATA_LOSS;
		return ts == fs ? NULL : MGS_HAZARD_REWRITE;
	}
	if (strcmp(to, "text") == 0 && strcmp(fb, "character varying") == 0)
		return NULL;
	if ((strcmp(fb, "integer") == 0 && strcmp(tb, "smallint") == 0) ||
		(strcmp(fb, "bigint") == 0 && (strcmp(tb, "integer") == 0 ||
									   strcmp(tb, "smallint") == 0)) ||
		(strcmp(fb, "text") == 0 && strcmp(tb, "character varying") == 0))
		return MGS_HAZARD_DATA_LOSS;
	return MGS_HAZARD_REWRITE;
}

/* ---- pieces of statements ---- */

/*
 * A column as CREATE TABLE and ADD COLUMN write it: quoted name, type,
 * collation, generation, default, NOT NULL and identity.
 */
static const char *
column_definition(Diff *d, const MgsColumn *c)
{
	const char *s = P("%s %s", Q(c->name), c->type);

	if (c->collation)
		s = P("%s COLLATE %s", s, c->collation);
	if (c->generated)
		s = P("%s GENERATED ALWAYS AS (%s) STORED", s, c->generated);
	if (c->default_expr)
		s = P("%s DEFAULT %s", s, c->default_expr);
	if (c->not_null)
		s = P("%s NOT NULL", s);
	if (c->identity)
		s = P("%s GENERATED %s AS IDENTITY", s,
			  c->identity == 'a' ? "ALWAYS" : "BY DEFAULT");
	return s;
}

/* Every option of s, as CREATE SEQUENCE and ALTER SEQUENCE both take them */
static const char *
sequence_options(Diff *d, const MgsSequence *s)
{
	return P("AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s",
			 s->type, s->increment, s->min, s->max, s->start, s->cache,
			 s->cycle ? "CYCLE" : "NO CYCLE");
}

/*
 * Emit COMMENT ON what name when the comment changes from from to to; on
 * a new (or recreated) object, only when to is a comment.  to NULL writes
 * IS NULL, which removes one.
 */
static void
emit_comment(Diff *d, const char *what, const char *name, const char *from,
			 const char *to, bool is_new)
{
	if (streq(from, to) || (is_new && to == NULL))
		return;
	emit(d, P("COMMENT ON %s %s IS %s", what, name, L(to)),
		 P("comment on %s %s", what, name), NULL, NULL);
}

/* ---- views ---- */

/* Must source view s be dropped: is t (NULL: removed) another view? */
static bool
view_changed(const MgsView *s, const MgsView *t)
{
	return t == NULL || s->kind != t->kind || !streq(s->definition, t->definition);
}

/*
 * mark_views
 *		Fill d->view_rebuild: a source view is dropped when it is removed or
 *		changed, reads a table that is dropped or whose columns change
 *		(d->table_cols_change, filled first), or reads a marked view.  Runs
 *		to a fixpoint, passes over views x their dependencies until none is
 *		newly marked (cheap for real schemas).  Cannot fail.
 */
static void
mark_views(Diff *d)
{
	bool		more = true;

	for (int i = 0; i < d->src->nviews; i++)
		d->view_rebuild[i] = view_changed(&d->src->views[i],
										  find_view(d->dst, d->src->views[i].key));
	while (more)
	{
		more = false;
		for (int i = 0; i < d->src->nviews; i++)
		{
			const MgsView *v = &d->src->views[i];

			if (d->view_rebuild[i])
				continue;
			for (int k = 0; k < v->ndepends && !d->view_rebuild[i]; k++)
			{
				const MgsTable *t = find_table(d->src, v->depends[k]);
				const MgsView *w = find_view(d->src, v->depends[k]);

				if (t && (d->table_cols_change[t - d->src->tables] ||
						  find_table(d->dst, t->key) == NULL))
					d->view_rebuild[i] = true;
				if (w && d->view_rebuild[w - d->src->views])
					d->view_rebuild[i] = true;
			}
			if (d->view_rebuild[i])
				more = true;
		}
	}
}

/*
 * Append view i of m, after the views it depends on, to order[] (indexes
 * into m->views; *n counts them), depth first.  state per view: 0 new,
 * 1 on the path (a cycle, impossible in a real catalog, is cut), 2 done.
 */
static void
view_visit(const MgsModel *m, int i, char *state, int *order, int *n)
{
	const MgsView *v = &m->views[i];

	if (state[i])
		return;
	state[i] = 1;
	for (int k = 0; k < v->ndepends; k++)
	{
		const MgsView *w = find_view(m, v->depends[k]);

		if (w)
			view_visit(m, (int) (w - m->views), state, order, n);
	}
	state[i] = 2;
	order[(*n)++] = i;
}

/*
 * view_order
 *		Every view of m, dependencies before dependents (see view_visit), as
 *		indexes into m->views; *n gets the count.  Allocated from d's
 *		allocator; linear in views plus dependencies, each looked up by
 *		bisection.
 */
static int *
view_order(Diff *d, const MgsModel *m, int *n)
{
	char	   *state = d->a->alloc(d->a->ctx, (size_t) m->nviews + 1);
	int		   *order = d->a->alloc(d->a->ctx, sizeof(int) * ((size_t) m->nviews + 1));

	memset(state, 0, (size_t) m->nviews + 1);
	*n = 0;
	for (int i = 0; i < m->nviews; i++)
		view_visit(m, i, state, order, n);
	return order;
}

/*
 * pg_get_viewdef() ends its query with a semicolon, which cannot sit
 * inside CREATE VIEW ... AS: a copy without the trailing semicolons,
 * blanks and newlines.
 */
static const char *
strip_semicolon(const MgsAlloc *a, const char *def)
{
	size_t		n = strlen(def);
	char	   *r;

	while (n > 0 && (def[n - 1] == ';' || def[n - 1] == ' ' || def[n - 1] == '\n'))
		n--;
	r = a->alloc(a->ctx, n + 1);
	memcpy(r, def, n);
	r[n] = '\0';
	return r;
}

/* The SQL keyword of a view kind: 'm' MATERIALIZED VIEW, else VIEW */
static const char *
view_word(char kind)
{
	return kind == 'm' ? "MATERIALIZED VIEW" : "VIEW";
}

/* ---- tables ---- */

/*
 * How many partition_of links lead from t to its root table in m; a
 * missing parent ends the walk, and 64 links cap it (a cycle, which no
 * catalog holds, cannot loop).
 */
static int
table_depth(const MgsModel *m, const MgsTable *t)
{
	int			depth = 0;

	while (t && t->partition_of && depth < 64)
	{
		t = find_table(m, t->partition_of);
		depth++;
	}
	return depth;
}

/* Must constraint s be dropped: has t (NULL: removed) another type or text? */
static bool
constraint_changed(const MgsConstraint *s, const MgsConstraint *t)
{
	return t == NULL || s->type != t->type || !streq(s->definition, t->definition);
}

/*
 * Does source table s lose a column, or change a column's type, collation
 * or generation expression, in t (NULL: t is dropped)?  Views reading s
 * are then rebuilt.  A partition's columns are its parent's: false.
 */
static bool
columns_change(const MgsTable *s, const MgsTable *t)
{
	if (t == NULL)
		return true;
	if (s->partition_of)
		return false;
	for (int i = 0; i < s->ncolumns; i++)
	{
		const MgsColumn *sc = &s->columns[i];
		const MgsColumn *tc = find_column(t, sc->name);

		if (tc == NULL || !streq(sc->type, tc->type) ||
			!streq(sc->collation, tc->collation) ||
			(tc->generated && !streq(sc->generated, tc->generated)))
			return true;
	}
	return false;
}

/*
 * CREATE TABLE with every column inline, in position order (defaults,
 * NOT NULL, identity, generation); constraints and indexes come later, in
 * their own phases.  A partition is created PARTITION OF its parent and
 * takes its columns from it.
 */
static void
create_table(Diff *d, const MgsTable *t)
{
	const char *s;

	if (t->partition_of)
	{
		s = P("CREATE TABLE %s PARTITION OF %s %s", t->key, t->partition_of,
			  t->partition_bound ? t->partition_bound : "DEFAULT");
	}
	else
	{
		const MgsColumn **byPos = d->a->alloc(d->a->ctx,
											  sizeof(*byPos) * ((size_t) t->ncolumns + 1));
		int			n = 0;

		/* by position: a simple insertion into place */
		for (int i = 0; i < t->ncolumns; i++)
		{
			int			j = n++;

			while (j > 0 && byPos[j - 1]->position > t->columns[i].position)
			{
				byPos[j] = byPos[j - 1];
				j--;
			}
			byPos[j] = &t->columns[i];
		}
		s = P("CREATE TABLE %s (", t->key);
		for (int i = 0; i < n; i++)
			s = P("%s%s%s", s, i ? ", " : "", column_definition(d, byPos[i]));
		s = P("%s)", s);
	}
	if (t->kind == 'p' && t->partition_key)
		s = P("%s PARTITION BY %s", s, t->partition_key);
	emit(d, s, P("table %s", t->key), NULL, NULL);
}

/*
 * Do the columns of s that t keeps come in another relative order in t?
 * Quadratic in the columns of one table (at most 1600).
 */
static bool
kept_order_differs(const MgsTable *s, const MgsTable *t)
{
	for (int i = 0; i < s->ncolumns; i++)
	{
		const MgsColumn *a1 = &s->columns[i];
		const MgsColumn *b1 = find_column(t, a1->name);

		if (b1 == NULL)
			continue;
		for (int j = 0; j < s->ncolumns; j++)
		{
			const MgsColumn *a2 = &s->columns[j];
			const MgsColumn *b2 = find_column(t, a2->name);

			if (b2 && a1->position < a2->position && b1->position > b2->position)
				return true;
		}
	}
	return false;
}

/* kept columns reordered, or a new column not after every kept one */
static bool
column_order_differs(const MgsTable *s, const MgsTable *t)
{
	int			max_common = 0;
	int			min_added = 1 << 30;

	for (int i = 0; i < t->ncolumns; i++)
	{
		if (find_column(s, t->columns[i].name))
		{
			if (t->columns[i].position > max_common)
				max_common = t->columns[i].position;
		}
		else if (t->columns[i].position < min_added)
			min_added = t->columns[i].position;
	}
	return min_added < max_common || kept_order_differs(s, t);
}

/*
 * alter_columns
 *		Phase 7 for a table s kept as t: for each source column in name
 *		order, its drop or its changes in place (default, identity,
 *		generation, type and collation, NOT NULL); a column whose
 *		generation expression is added or changed is dropped and added
 *		again there.  Then the new columns are appended, and a report is
 *		emitted when the kept columns change relative order or a new
 *		column would not land after them.  A partition is skipped (its
 *		columns are its parent's).  Hazards: data_loss for a drop,
 *		type_change_hazard for a type, long_lock for SET NOT NULL on a table
 *		with rows, table_rewrite for an added identity or generated column.
 *		Cost: columns x log columns, plus kept_order_differs.
 */
static void
alter_columns(Diff *d, const MgsTable *s, const MgsTable *t)
{
	int			max_common_pos = 0;
	int			min_added_pos = 1 << 30;
	bool		order_differs = false;
	bool		readd = false;

	if (t->partition_of)
		return;					/* a partition's columns follow its parent */

	for (int i = 0; i < s->ncolumns; i++)
	{
		const MgsColumn *sc = &s->columns[i];
		const MgsColumn *tc = find_column(t, sc->name);
		const char *obj = P("column %s.%s", s->key, Q(sc->name));

		if (tc == NULL)
		{
			emit(d, P("ALTER TABLE %s DROP COLUMN %s", s->key, Q(sc->name)),
				 obj, MGS_HAZARD_DATA_LOSS, NULL);
			continue;
		}
		if (tc->generated && !streq(sc->generated, tc->generated))
		{
			/* PostgreSQL 15 cannot change or add a generation expression */
			emit(d, P("ALTER TABLE %s DROP COLUMN %s", s->key, Q(sc->name)),
				 obj, MGS_HAZARD_DATA_LOSS,
				 "a generation expression cannot be added or changed in place: the column is dropped and added again");
			emit(d, P("ALTER TABLE %s ADD COLUMN %s", s->key, column_definition(d, tc)),
				 obj, MGS_HAZARD_REWRITE, NULL);
			readd = true;
			continue;
		}
		if (sc->default_expr && !streq(sc->default_expr, tc->default_expr))
			emit(d, P("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", s->key, Q(sc->name)),
				 obj, NULL, NULL);
		if (sc->identity && !tc->identity)
			emit(d, P("ALTER TABLE %s ALTER COLUMN %s DROP IDENTITY", s->key, Q(sc->name)),
				 obj, NULL, NULL);
		if (sc->generated && !tc->generated)
			emit(d, P("ALTER TABLE %s ALTER COLUMN %s DROP EXPRESSION", s->key, Q(sc->name)),
				 obj, NULL, NULL);
		if (!streq(sc->type, tc->type) || !streq(sc->collation, tc->collation))
		{
			const char *hz = type_change_hazard(sc->type, tc->type,
												!streq(sc->collation, tc->collation));

			emit(d, P("ALTER TABLE %s ALTER COLUMN %s TYPE %s%s%s USING %s::%s",
					  s->key, Q(sc->name), tc->type,
					  tc->collation ? " COLLATE " : "",
					  tc->collation ? tc->collation : "",
					  Q(sc->name), tc->type),
				 obj, hz, NULL);
		}
		if (tc->default_expr && !streq(sc->default_expr, tc->default_expr))
			emit(d, P("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", s->key,
					  Q(sc->name), tc->default_expr), obj, NULL, NULL);
		if (sc->not_null && !tc->not_null)
			emit(d, P("ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL", s->key, Q(sc->name)),
				 obj, NULL, NULL);
		if (!sc->not_null && tc->not_null)
			emit(d, P("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL", s->key, Q(sc->name)),
				 obj, lock_if_nonempty(s),
				 nonempty(s) ? "scans the table under an ACCESS EXCLUSIVE lock" : NULL);
		if (tc->identity && !sc->identity)
			emit(d, P("ALTER TABLE %s ALTER COLUMN %s ADD GENERATED %s AS IDENTITY",
					  s->key, Q(sc->name), tc->identity == 'a' ? "ALWAYS" : "BY DEFAULT"),
				 obj, NULL, NULL);
		else if (tc->identity && sc->identity && tc->identity != sc->identity)
			emit(d, P("ALTER TABLE %s ALTER COLUMN %s SET GENERATED %s", s->key,
					  Q(sc->name), tc->identity == 'a' ? "ALWAYS" : "BY DEFAULT"),
				 obj, NULL, NULL);
	}
	for (int i = 0; i < t->ncolumns; i++)
	{
		const MgsColumn *tc = &t->columns[i];
		const MgsColumn *sc = find_column(s, tc->name);

		if (sc && !(tc->generated && !streq(sc->generated, tc->generated)))
		{
			if (tc->position > max_common_pos)
				max_common_pos = tc->position;
			continue;
		}
		if (tc->position < min_added_pos)
			min_added_pos = tc->position;
		if (sc)
			continue;			/* re-added above */
		emit(d, P("ALTER TABLE %s ADD COLUMN %s", s->key, column_definition(d, tc)),
			 P("column %s.%s", s->key, Q(tc->name)),
			 tc->identity || tc->generated ? MGS_HAZARD_REWRITE : NULL,
			 tc->not_null && !tc->default_expr && !tc->identity && !tc->generated && nonempty(s) ?
			 "fails if the table has rows: NOT NULL without a default" : NULL);
	}
	order_differs = kept_order_differs(s, t);
	if (order_differs || min_added_pos < max_common_pos)
		emit(d, NULL, P("table %s", s->key), NULL,
			 readd && !order_differs ?
			 "column order differs: a column dropped and added again moves to the end; only appends are generated" :
			 "column order differs: only appends are generated; reorder by hand (rebuild the table) if the order matters");
}

/*
 * pg_get_indexdef() writes "ON ONLY" for the index of a partitioned
 * table, which would build no index on the partitions: the diff creates
 * the index on the whole tree (the partitions' indexes, attached to it,
 * are not in the model).
 */
static const char *
without_only(const MgsAlloc *a, const char *def)
{
	const char *p = strstr(def, " ON ONLY ");
	size_t		n;
	char	   *r;

	if (p == NULL)
		return def;
	n = strlen(def);
	r = a->alloc(a->ctx, n + 1);
	memcpy(r, def, (size_t) (p - def));
	strcpy(r + (p - def), " ON ");
	strcat(r, p + strlen(" ON ONLY "));
	return r;
}

/* ---- the phases ---- */

/*
 * Phases 3 (fks) and 4 (!fks): drop the constraints and indexes of kept
 * tables that are removed or change, the foreign keys pointing at a key
 * that is rebuilt, and the foreign keys between two tables that are both
 * dropped (anything else goes with its table).
 */
static void
drop_table_subobjects(Diff *d, bool fks)
{
	for (int i = 0; i < d->src->ntables; i++)
	{
		const MgsTable *s = &d->src->tables[i];
		const MgsTable *t = find_table(d->dst, s->key);

		if (t == NULL)
		{
			/*
			 * Its constraints go with it, except a foreign key to another
			 * table dropped too: that would stop the other table's drop.
			 */
			for (int k = 0; fks && k < s->nconstraints; k++)
			{
				const MgsConstraint *c = &s->constraints[k];

				if (c->type == 'f' && c->references &&
					strcmp(c->references, s->key) != 0 &&
					find_table(d->dst, c->references) == NULL)
					emit(d, P("ALTER TABLE %s DROP CONSTRAINT %s", s->key, Q(c->name)),
						 P("constraint %s on %s", Q(c->name), s->key), NULL,
						 "the tables it joins are both dropped");
			}
			continue;
		}
		for (int k = 0; k < s->nconstraints; k++)
		{
			const MgsConstraint *c = &s->constraints[k];
			bool		rebuild;

			if ((c->type == 'f') != fks)
				continue;
			rebuild = constraint_changed(c, find_constraint(t, c->name));
			if (!rebuild && c->type == 'f' && c->references)
			{
				const MgsTable *r = find_table(d->src, c->references);

				rebuild = r && d->table_keys_change[r - d->src->tables];
			}
			if (rebuild)
				emit(d, P("ALTER TABLE %s DROP CONSTRAINT %s", s->key, Q(c->name)),
					 P("constraint %s on %s", Q(c->name), s->key), NULL, NULL);
		}
		if (fks)
			continue;
		for (int k = 0; k < s->nindexes; k++)
		{
			const MgsDef *x = &s->indexes[k];
			const MgsDef *y = find_def(t->indexes, t->nindexes, x->name);

			if (y == NULL || !streq(x->definition, y->definition))
				emit(d, P("DROP INDEX %s.%s", key_schema(d->a, s->key), Q(x->name)),
					 P("index %s.%s", key_schema(d->a, s->key), Q(x->name)), NULL, NULL);
		}
	}
}

/*
 * Phases 9 (!fks) and 10 (fks): add the constraints and create the
 * indexes that are new or changed, and the foreign keys dropped around a
 * rebuilt key (drop_table_subobjects).  long_lock on a kept table with
 * rows (or no size), except for a NOT VALID constraint; none on a new
 * table.  The index of a partitioned table is created on the whole tree
 * (without_only).
 */
static void
add_table_subobjects(Diff *d, bool fks)
{
	for (int i = 0; i < d->dst->ntables; i++)
	{
		const MgsTable *t = &d->dst->tables[i];
		const MgsTable *s = find_table(d->src, t->key);

		/* a key rebuilt on the referenced table: its foreign keys were dropped */
		for (int k = 0; k < t->nconstraints; k++)
		{
			const MgsConstraint *c = &t->constraints[k];
			const MgsConstraint *sc;
			bool		add;
			bool		keys_rebuilt = false;
			const char *hz = NULL;

			if ((c->type == 'f') != fks)
				continue;
			sc = s ? find_constraint(s, c->name) : NULL;
			add = sc == NULL || constraint_changed(sc, c);
			if (!add && c->type == 'f' && c->references)
			{
				const MgsTable *r = find_table(d->src, c->references);

				add = r && d->table_keys_change[r - d->src->tables];
				keys_rebuilt = add;
			}
			if (!add)
				continue;
			if (s && !contains(c->definition, "NOT VALID"))
				hz = lock_if_nonempty(s);
			emit(d, P("ALTER TABLE %s ADD CONSTRAINT %s %s", t->key, Q(c->name), c->definition),
				 P("constraint %s on %s", Q(c->name), t->key), hz,
				 hz && c->type == 'f' ? "validates every row; add NOT VALID and VALIDATE later to shorten the lock" :
				 keys_rebuilt ? "recreated: the key it references was rebuilt" : NULL);
		}
		if (fks)
			continue;
		for (int k = 0; k < t->nindexes; k++)
		{
			const MgsDef *x = &t->indexes[k];
			const MgsDef *y = s ? find_def(s->indexes, s->nindexes, x->name) : NULL;

			if (y && streq(x->definition, y->definition))
				continue;
			emit(d, t->kind == 'p' ? without_only(d->a, x->definition) : x->definition,
				 P("index %s.%s", key_schema(d->a, t->key), Q(x->name)),
				 s ? lock_if_nonempty(s) : NULL,
				 s && nonempty(s) ?
				 (t->kind == 'p' ? "blocks writes to every partition while it builds" :
				  "blocks writes while it builds; CREATE INDEX CONCURRENTLY outside a transaction avoids it") : NULL);
		}
	}
}

/*
 * Phase 1 (drop): DROP TRIGGER for each trigger of a kept table that is
 * removed or changed (a dropped table takes its own).  Phase 11 (!drop):
 * create each target trigger that is new or changed, those of new tables
 * included.
 */
static void
do_triggers(Diff *d, bool drop)
{
	const MgsModel *m = drop ? d->src : d->dst;
	const MgsModel *o = drop ? d->dst : d->src;

	for (int i = 0; i < m->ntables; i++)
	{
		const MgsTable *x = &m->tables[i];
		const MgsTable *y = find_table(o, x->key);

		if (drop && y == NULL)
			continue;
		for (int k = 0; k < x->ntriggers; k++)
		{
			const MgsDef *g = &x->triggers[k];
			const MgsDef *h = y ? find_def(y->triggers, y->ntriggers, g->name) : NULL;

			if (h && streq(g->definition, h->definition))
				continue;
			if (drop)
				emit(d, P("DROP TRIGGER %s ON %s", Q(g->name), x->key),
					 P("trigger %s on %s", Q(g->name), x->key), NULL, NULL);
			else
				emit(d, g->definition, P("trigger %s on %s", Q(g->name), x->key), NULL, NULL);
		}
	}
}

/*
 * Phase 6: enums created, or given their new labels in place (a new first
 * label goes BEFORE the first kept one, or plainly when the enum had no
 * label; any other AFTER the label before it in the target).  Labels removed or reordered: reported with
 * data_loss, not generated.  Quadratic in the enums (a linear lookup).
 */
static void
do_enums(Diff *d)
{
	for (int i = 0; i < d->dst->nenums; i++)
	{
		const MgsEnum *t = &d->dst->enums[i];
		const MgsEnum *s = NULL;
		int			j = 0;

		for (int k = 0; k < d->src->nenums; k++)
			if (strcmp(d->src->enums[k].key, t->key) == 0)
				s = &d->src->enums[k];
		if (s == NULL)
		{
			const char *stmt = P("CREATE TYPE %s AS ENUM (", t->key);

			for (int k = 0; k < t->nlabels; k++)
				stmt = P("%s%s%s", stmt, k ? ", " : "", L(t->labels[k]));
			emit(d, P("%s)", stmt), P("type %s", t->key), NULL, NULL);
			continue;
		}
		/* the source's labels a subsequence of the target's: add the others */
		for (int k = 0; k < t->nlabels && j < s->nlabels; k++)
			if (strcmp(t->labels[k], s->labels[j]) == 0)
				j++;
		if (j < s->nlabels)
		{
			emit(d, NULL, P("type %s", t->key), MGS_HAZARD_DATA_LOSS,
				 "enum labels removed or reordered: not generated (PostgreSQL cannot drop an enum label; recreate the type by hand)");
			continue;
		}
		j = 0;
		for (int k = 0; k < t->nlabels; k++)
		{
			if (j < s->nlabels && strcmp(t->labels[k], s->labels[j]) == 0)
			{
				j++;
				continue;
			}
			if (k == 0 && s->nlabels == 0)
				emit(d, P("ALTER TYPE %s ADD VALUE %s", t->key, L(t->labels[k])),
					 P("type %s", t->key), NULL, NULL);
			else if (k == 0)
				emit(d, P("ALTER TYPE %s ADD VALUE %s BEFORE %s", t->key, L(t->labels[k]),
						  L(s->labels[0])),
					 P("type %s", t->key), NULL, NULL);
			else
				emit(d, P("ALTER TYPE %s ADD VALUE %s AFTER %s", t->key, L(t->labels[k]),
						  L(t->labels[k - 1])),
					 P("type %s", t->key), NULL,
					 "the new label cannot be used before the transaction commits");
		}
	}
}

/* The domain keyed k in m, or NULL; a linear scan */
static const MgsDomain *
find_domain(const MgsModel *m, const char *k)
{
	for (int i = 0; i < m->ndomains; i++)
		if (strcmp(m->domains[i].key, k) == 0)
			return &m->domains[i];
	return NULL;
}

/* The composite type keyed k in m, or NULL; a linear scan */
static const MgsComposite *
find_composite(const MgsModel *m, const char *k)
{
	for (int i = 0; i < m->ncomposites; i++)
		if (strcmp(m->composites[i].key, k) == 0)
			return &m->composites[i];
	return NULL;
}

/* The constraint named name of domain dm, or NULL */
static const MgsConstraint *
find_domain_constraint(const MgsDomain *dm, const char *name)
{
	for (int i = 0; i < dm->nconstraints; i++)
		if (strcmp(dm->constraints[i].name, name) == 0)
			return &dm->constraints[i];
	return NULL;
}

/*
 * Phase 6: domains created or altered (before the tables that use them).
 * Constraints removed or changed are dropped before the default, NOT NULL
 * and the new constraints are set; SET NOT NULL, and a constraint added
 * without NOT VALID, carry long_lock.  A change of base type or collation
 * is reported, not generated: columns of the domain would have to move to
 * a new one.  Quadratic in the domains (a linear lookup).
 */
static void
do_domains(Diff *d)
{
	for (int i = 0; i < d->dst->ndomains; i++)
	{
		const MgsDomain *t = &d->dst->domains[i];
		const MgsDomain *s = find_domain(d->src, t->key);
		const char *obj = P("domain %s", t->key);

		if (s == NULL)
		{
			const char *stmt = P("CREATE DOMAIN %s AS %s", t->key, t->type);

			if (t->collation)
				stmt = P("%s COLLATE %s", stmt, t->collation);
			if (t->default_expr)
				stmt = P("%s DEFAULT %s", stmt, t->default_expr);
			if (t->not_null)
				stmt = P("%s NOT NULL", stmt);
			emit(d, stmt, obj, NULL, NULL);
			for (int k = 0; k < t->nconstraints; k++)
				emit(d, P("ALTER DOMAIN %s ADD CONSTRAINT %s %s", t->key,
						  Q(t->constraints[k].name), t->constraints[k].definition),
					 obj, NULL, NULL);
			continue;
		}
		if (!streq(s->type, t->type) || !streq(s->collation, t->collation))
		{
			emit(d, NULL, obj, NULL,
				 "the base type or collation of a domain changes: not generated (create another domain and move its columns by hand)");
			continue;
		}
		for (int k = 0; k < s->nconstraints; k++)
		{
			const MgsConstraint *c = &s->constraints[k];

			if (constraint_changed(c, find_domain_constraint(t, c->name)))
				emit(d, P("ALTER DOMAIN %s DROP CONSTRAINT %s", t->key, Q(c->name)),
					 obj, NULL, NULL);
		}
		if (!streq(s->default_expr, t->default_expr))
			emit(d, t->default_expr ? P("ALTER DOMAIN %s SET DEFAULT %s", t->key, t->default_expr)
				 : P("ALTER DOMAIN %s DROP DEFAULT", t->key), obj, NULL, NULL);
		if (s->not_null != t->not_null)
			emit(d, P("ALTER DOMAIN %s %s NOT NULL", t->key, t->not_null ? "SET" : "DROP"),
				 obj, t->not_null ? MGS_HAZARD_LONG_LOCK : NULL,
				 t->not_null ? "checks every column of the domain" : NULL);
		for (int k = 0; k < t->nconstraints; k++)
		{
			const MgsConstraint *c = &t->constraints[k];
			const MgsConstraint *sc = find_domain_constraint(s, c->name);
			bool		valid = !contains(c->definition, "NOT VALID");

			if (sc == NULL || constraint_changed(sc, c))
				emit(d, P("ALTER DOMAIN %s ADD CONSTRAINT %s %s", t->key, Q(c->name), c->definition),
					 obj, valid ? MGS_HAZARD_LONG_LOCK : NULL,
					 valid ? "checks every column of the domain" : NULL);
		}
	}
}

/* An attribute's type with its collation, as CREATE and ALTER TYPE write it */
static const char *
attribute_type(Diff *d, const MgsColumn *c)
{
	return c->collation ? P("%s COLLATE %s", c->type, c->collation) : c->type;
}

/*
 * Phase 6: composite types created or altered: attributes dropped, changed in
 * place, appended; a change of attribute order is reported.  ALTER TYPE
 * refuses a type that a table column uses (no CASCADE is generated).
 */
static void
do_composites(Diff *d)
{
	for (int i = 0; i < d->dst->ncomposites; i++)
	{
		const MgsComposite *t = &d->dst->composites[i];
		const MgsComposite *s = find_composite(d->src, t->key);
		const char *obj = P("type %s", t->key);
		MgsTable	st,
					tt;

		if (s == NULL)
		{
			const char *stmt = P("CREATE TYPE %s AS (", t->key);
			int			n = 0;

			/* attributes by position: at most 1600, a quadratic pick is fine */
			for (int pos = 1; n < t->nattributes && pos <= 1600; pos++)
				for (int k = 0; k < t->nattributes; k++)
					if (t->attributes[k].position == pos)
						stmt = P("%s%s%s %s", stmt, n++ ? ", " : "", Q(t->attributes[k].name),
								 attribute_type(d, &t->attributes[k]));
			emit(d, P("%s)", stmt), obj, NULL, NULL);
			continue;
		}
		for (int k = 0; k < s->nattributes; k++)
		{
			const MgsColumn *sa = &s->attributes[k];
			const MgsColumn *ta = NULL;

			for (int j = 0; j < t->nattributes; j++)
				if (strcmp(t->attributes[j].name, sa->name) == 0)
					ta = &t->attributes[j];
			if (ta == NULL)
				emit(d, P("ALTER TYPE %s DROP ATTRIBUTE %s", t->key, Q(sa->name)), obj,
					 MGS_HAZARD_DATA_LOSS, NULL);
			else if (!streq(sa->type, ta->type) || !streq(sa->collation, ta->collation))
				emit(d, P("ALTER TYPE %s ALTER ATTRIBUTE %s TYPE %s", t->key, Q(sa->name),
						  attribute_type(d, ta)), obj, NULL, NULL);
		}
		for (int k = 0; k < t->nattributes; k++)
		{
			bool		found = false;

			for (int j = 0; j < s->nattributes; j++)
				if (strcmp(s->attributes[j].name, t->attributes[k].name) == 0)
					found = true;
			if (!found)
				emit(d, P("ALTER TYPE %s ADD ATTRIBUTE %s %s", t->key, Q(t->attributes[k].name),
						  attribute_type(d, &t->attributes[k])), obj, NULL, NULL);
		}
		/* the order check of tables, on two tables made of the attributes */
		memset(&st, 0, sizeof(st));
		memset(&tt, 0, sizeof(tt));
		st.columns = s->attributes;
		st.ncolumns = s->nattributes;
		tt.columns = t->attributes;
		tt.ncolumns = t->nattributes;
		if (column_order_differs(&st, &tt))
			emit(d, NULL, obj, NULL,
				 "attribute order differs: only appends are generated; recreate the type by hand if the order matters");
	}
}

/* The sequence keyed k in m, or NULL; a linear scan */
static const MgsSequence *
find_sequence(const MgsModel *m, const char *k)
{
	for (int i = 0; i < m->nsequences; i++)
		if (strcmp(m->sequences[i].key, k) == 0)
			return &m->sequences[i];
	return NULL;
}

/* The function or procedure keyed k (name and argument types) in m, or NULL */
static const MgsFunction *
find_function(const MgsModel *m, const char *k)
{
	for (int i = 0; i < m->nfunctions; i++)
		if (strcmp(m->functions[i].key, k) == 0)
			return &m->functions[i];
	return NULL;
}

/* The SQL keyword of a routine kind: 'p' PROCEDURE, else FUNCTION */
static const char *
function_word(char kind)
{
	return kind == 'p' ? "PROCEDURE" : "FUNCTION";
}

/* Does m hold a schema named name? */
static bool
has_schema(const MgsModel *m, const char *name)
{
	for (int i = 0; i < m->nschemas; i++)
		if (strcmp(m->schemas[i].name, name) == 0)
			return true;
	return false;
}

/* The extension named name in m, or NULL */
static const MgsExtension *
find_extension(const MgsModel *m, const char *name)
{
	for (int i = 0; i < m->nextensions; i++)
		if (strcmp(m->extensions[i].name, name) == 0)
			return &m->extensions[i];
	return NULL;
}

/*
 * Phase 12: every comment of the target that differs from the source's,
 * or that sits on an object the diff (re)creates; NULL removes one.
 */
static void
do_comments(Diff *d)
{
	const MgsModel *src = d->src;
	const MgsModel *dst = d->dst;

	for (int i = 0; i < dst->nschemas; i++)
	{
		const MgsSchema *t = &dst->schemas[i];
		const char *from = NULL;
		bool		is_new = true;

		for (int k = 0; k < src->nschemas; k++)
			if (strcmp(src->schemas[k].name, t->name) == 0)
			{
				from = src->schemas[k].comment;
				is_new = false;
			}
		emit_comment(d, "SCHEMA", Q(t->name), from, t->comment, is_new);
	}
	for (int i = 0; i < dst->ntables; i++)
	{
		const MgsTable *t = &dst->tables[i];
		const MgsTable *s = find_table(src, t->key);

		emit_comment(d, "TABLE", t->key, s ? s->comment : NULL, t->comment, s == NULL);
		for (int k = 0; k < t->ncolumns; k++)
		{
			const MgsColumn *tc = &t->columns[k];
			const MgsColumn *sc = s ? find_column(s, tc->name) : NULL;

			emit_comment(d, "COLUMN", P("%s.%s", t->key, Q(tc->name)),
						 sc ? sc->comment : NULL, tc->comment, sc == NULL);
		}
		for (int k = 0; k < t->nconstraints; k++)
		{
			const MgsConstraint *tc = &t->constraints[k];
			const MgsConstraint *sc = s ? find_constraint(s, tc->name) : NULL;
			bool		fresh = sc == NULL || constraint_changed(sc, tc);

			emit_comment(d, "CONSTRAINT", P("%s ON %s", Q(tc->name), t->key),
						 fresh ? NULL : sc->comment, tc->comment, fresh);
		}
		for (int k = 0; k < t->nindexes; k++)
		{
			const MgsDef *x = &t->indexes[k];
			const MgsDef *y = s ? find_def(s->indexes, s->nindexes, x->name) : NULL;
			bool		fresh = y == NULL || !streq(x->definition, y->definition);

			emit_comment(d, "INDEX", P("%s.%s", key_schema(d->a, t->key), Q(x->name)),
						 fresh ? NULL : y->comment, x->comment, fresh);
		}
		for (int k = 0; k < t->ntriggers; k++)
		{
			const MgsDef *x = &t->triggers[k];
			const MgsDef *y = s ? find_def(s->triggers, s->ntriggers, x->name) : NULL;
			bool		fresh = y == NULL || !streq(x->definition, y->definition);

			emit_comment(d, "TRIGGER", P("%s ON %s", Q(x->name), t->key),
						 fresh ? NULL : y->comment, x->comment, fresh);
		}
	}
	for (int i = 0; i < dst->nsequences; i++)
	{
		const MgsSequence *t = &dst->sequences[i];
		const MgsSequence *s = find_sequence(src, t->key);

		emit_comment(d, "SEQUENCE", t->key, s ? s->comment : NULL, t->comment, s == NULL);
	}
	for (int i = 0; i < dst->nviews; i++)
	{
		const MgsView *t = &dst->views[i];
		const MgsView *s = find_view(src, t->key);
		bool		fresh = s == NULL || d->view_rebuild[s - src->views];

		emit_comment(d, view_word(t->kind), t->key, fresh ? NULL : s->comment,
					 t->comment, fresh);
		for (int k = 0; k < t->nindexes; k++)
		{
			const MgsDef *x = &t->indexes[k];
			const MgsDef *y = !fresh ? find_def(s->indexes, s->nindexes, x->name) : NULL;
			bool		xfresh = y == NULL || !streq(x->definition, y->definition);

			emit_comment(d, "INDEX", P("%s.%s", key_schema(d->a, t->key), Q(x->name)),
						 xfresh ? NULL : y->comment, x->comment, xfresh);
		}
	}
	for (int i = 0; i < dst->nenums; i++)
	{
		const MgsEnum *t = &dst->enums[i];
		const MgsEnum *s = NULL;

		for (int k = 0; k < src->nenums; k++)
			if (strcmp(src->enums[k].key, t->key) == 0)
				s = &src->enums[k];
		emit_comment(d, "TYPE", t->key, s ? s->comment : NULL, t->comment, s == NULL);
	}
	for (int i = 0; i < dst->ndomains; i++)
	{
		const MgsDomain *t = &dst->domains[i];
		const MgsDomain *s = find_domain(src, t->key);

		emit_comment(d, "DOMAIN", t->key, s ? s->comment : NULL, t->comment, s == NULL);
		for (int k = 0; k < t->nconstraints; k++)
		{
			const MgsConstraint *tc = &t->constraints[k];
			const MgsConstraint *sc = s ? find_domain_constraint(s, tc->name) : NULL;
			bool		fresh = sc == NULL || constraint_changed(sc, tc);

			emit_comment(d, "CONSTRAINT", P("%s ON DOMAIN %s", Q(tc->name), t->key),
						 fresh ? NULL : sc->comment, tc->comment, fresh);
		}
	}
	for (int i = 0; i < dst->ncomposites; i++)
	{
		const MgsComposite *t = &dst->composites[i];
		const MgsComposite *s = find_composite(src, t->key);

		emit_comment(d, "TYPE", t->key, s ? s->comment : NULL, t->comment, s == NULL);
	}
	for (int i = 0; i < dst->nfunctions; i++)
	{
		const MgsFunction *t = &dst->functions[i];
		const MgsFunction *s = find_function(src, t->key);
		bool		fresh = s == NULL || s->kind != t->kind || !streq(s->result, t->result);

		emit_comment(d, function_word(t->kind), t->key, fresh ? NULL : s->comment,
					 t->comment, fresh);
	}
}

/*
 * mgs_diff
 *		The diff.  Takes two models sorted by mgs_model_sort (unsorted ones
 *		give wrong steps: tables, views and columns are found by bisection)
 *		and the allocator; returns the steps in execution order (see the
 *		banner), every string from the allocator.  Cannot fail; the
 *		allocator must not return NULL.  Cost: O(n log n) in the tables,
 *		views and columns, plus views x dependencies for the view marks and
 *		(partition depth)^2 x tables for phases 5 and 7; domains, composites,
 *		sequences, functions, enums, extensions, schemas and constraints
 *		are found by linear scan, quadratic in their count.
 */
MgsSteps
mgs_diff(const MgsModel *source, const MgsModel *target, const MgsAlloc *a)
{
	Diff		dd;
	Diff	   *d = &dd;
	int			nord;
	int		   *ord;
	int			maxdepth = 0;

	memset(d, 0, sizeof(*d));
	d->a = a;
	d->src = source;
	d->dst = target;
	d->view_rebuild = a->alloc(a->ctx, (size_t) source->nviews + 1);
	d->table_cols_change = a->alloc(a->ctx, (size_t) source->ntables + 1);
	d->table_keys_change = a->alloc(a->ctx, (size_t) source->ntables + 1);
	for (int i = 0; i < source->ntables; i++)
	{
		const MgsTable *s = &source->tables[i];
		const MgsTable *t = find_table(target, s->key);

		d->table_cols_change[i] = columns_change(s, t);
		d->table_keys_change[i] = false;
		for (int k = 0; k < s->nconstraints; k++)
			if ((s->constraints[k].type == 'p' || s->constraints[k].type == 'u') &&
				(t == NULL || constraint_changed(&s->constraints[k],
												 find_constraint(t, s->constraints[k].name))))
				d->table_keys_change[i] = true;
		/* a unique index rebuilt can be a foreign key's too */
		for (int k = 0; t && k < s->nindexes; k++)
		{
			const MgsDef *y = find_def(t->indexes, t->nindexes, s->indexes[k].name);

			if (contains(s->indexes[k].definition, "CREATE UNIQUE") &&
				(y == NULL || !streq(y->definition, s->indexes[k].definition)))
				d->table_keys_change[i] = true;
		}
	}
	mark_views(d);

	/* 1, 2: triggers and views */
	do_triggers(d, true);
	ord = view_order(d, source, &nord);
	for (int i = nord - 1; i >= 0; i--)
	{
		const MgsView *v = &source->views[ord[i]];

		if (d->view_rebuild[ord[i]])
			emit(d, P("DROP %s %s", view_word(v->kind), v->key),
				 P("%s %s", v->kind == 'm' ? "materialized view" : "view", v->key),
				 NULL, find_view(target, v->key) ? "dropped to be recreated" : NULL);
	}
	/* matview indexes removed or changed on kept matviews */
	for (int i = 0; i < source->nviews; i++)
	{
		const MgsView *v = &source->views[i];
		const MgsView *w = find_view(target, v->key);

		if (d->view_rebuild[i] || w == NULL)
			continue;
		for (int k = 0; k < v->nindexes; k++)
		{
			const MgsDef *y = find_def(w->indexes, w->nindexes, v->indexes[k].name);

			if (y == NULL || !streq(y->definition, v->indexes[k].definition))
				emit(d, P("DROP INDEX %s.%s", key_schema(a, v->key), Q(v->indexes[k].name)),
					 P("index %s.%s", key_schema(a, v->key), Q(v->indexes[k].name)), NULL, NULL);
		}
	}

	/* 3, 4: foreign keys, then other constraints and indexes */
	drop_table_subobjects(d, true);
	drop_table_subobjects(d, false);

	/* 5: tables removed, deepest partitions first */
	for (int i = 0; i < source->ntables; i++)
	{
		int			dep = table_depth(source, &source->tables[i]);

		if (dep > maxdepth)
			maxdepth = dep;
	}
	for (int dep = maxdepth; dep >= 0; dep--)
		for (int i = 0; i < source->ntables; i++)
		{
			const MgsTable *s = &source->tables[i];
			const MgsTable *p;

			if (find_table(target, s->key) || table_depth(source, s) != dep)
				continue;
			/* a partition of a parent dropped too goes with it */
			p = s->partition_of ? find_table(source, s->partition_of) : NULL;
			if (p && find_table(target, p->key) == NULL)
				continue;
			emit(d, P("DROP TABLE %s", s->key), P("table %s", s->key),
				 MGS_HAZARD_DATA_LOSS, NULL);
		}

	/* 6: schemas, extensions, enums, sequences, functions */
	for (int i = 0; i < target->nschemas; i++)
		if (!has_schema(source, target->schemas[i].name))
			emit(d, P("CREATE SCHEMA %s", Q(target->schemas[i].name)),
				 P("schema %s", Q(target->schemas[i].name)), NULL, NULL);
	for (int i = 0; i < target->nextensions; i++)
	{
		const MgsExtension *t = &target->extensions[i];
		const MgsExtension *s = find_extension(source, t->name);

		if (s == NULL)
			emit(d, P("CREATE EXTENSION %s WITH SCHEMA %s VERSION %s", Q(t->name),
					  Q(t->schema), L(t->version)),
				 P("extension %s", Q(t->name)), NULL, NULL);
		else
		{
			if (!streq(s->version, t->version))
				emit(d, P("ALTER EXTENSION %s UPDATE TO %s", Q(t->name), L(t->version)),
					 P("extension %s", Q(t->name)), NULL, NULL);
			if (!streq(s->schema, t->schema))
				emit(d, P("ALTER EXTENSION %s SET SCHEMA %s", Q(t->name), Q(t->schema)),
					 P("extension %s", Q(t->name)), NULL, NULL);
		}
	}
	do_enums(d);
	do_domains(d);
	do_composites(d);
	for (int i = 0; i < target->nsequences; i++)
	{
		const MgsSequence *t = &target->sequences[i];
		const MgsSequence *s = find_sequence(source, t->key);

		if (s == NULL)
			emit(d, P("CREATE SEQUENCE %s %s", t->key, sequence_options(d, t)),
				 P("sequence %s", t->key), NULL, NULL);
		else if (!streq(s->type, t->type) || !streq(s->start, t->start) ||
				 !streq(s->increment, t->increment) || !streq(s->min, t->min) ||
				 !streq(s->max, t->max) || !streq(s->cache, t->cache) ||
				 s->cycle != t->cycle)
			emit(d, P("ALTER SEQUENCE %s %s", t->key, sequence_options(d, t)),
				 P("sequence %s", t->key), NULL, NULL);
	}
	for (int i = 0; i < target->nfunctions; i++)
	{
		const MgsFunction *t = &target->functions[i];
		const MgsFunction *s = find_function(source, t->key);

		if (s && streq(s->definition, t->definition))
			continue;
		if (s && (s->kind != t->kind || !streq(s->result, t->result)))
			emit(d, P("DROP %s %s", function_word(s->kind), s->key),
				 P("%s %s", s->kind == 'p' ? "procedure" : "function", s->key), NULL,
				 "the result type changes: dropped and created again");
		emit(d, t->definition,
			 P("%s %s", t->kind == 'p' ? "procedure" : "function", t->key), NULL, NULL);
	}

	/* 7: tables created (parents first), columns of kept tables */
	maxdepth = 0;
	for (int i = 0; i < target->ntables; i++)
	{
		int			dep = table_depth(target, &target->tables[i]);

		if (dep > maxdepth)
			maxdepth = dep;
	}
	for (int dep = 0; dep <= maxdepth; dep++)
		for (int i = 0; i < target->ntables; i++)
			if (table_depth(target, &target->tables[i]) == dep &&
				find_table(source, target->tables[i].key) == NULL)
				create_table(d, &target->tables[i]);
	for (int i = 0; i < source->ntables; i++)
	{
		const MgsTable *s = &source->tables[i];
		const MgsTable *t = find_table(target, s->key);

		if (t == NULL)
			continue;
		if (!streq(s->partition_of, t->partition_of) ||
			!streq(s->partition_bound, t->partition_bound) ||
			s->kind != t->kind || !streq(s->partition_key, t->partition_key))
			emit(d, NULL, P("table %s", s->key), NULL,
				 "partitioning differs: not generated (detach, attach or rebuild the table by hand)");
		alter_columns(d, s, t);
	}

	/* 8: sequence ownership */
	for (int i = 0; i < target->nsequences; i++)
	{
		const MgsSequence *t = &target->sequences[i];
		const MgsSequence *s = find_sequence(source, t->key);

		if (s && streq(s->owned_table, t->owned_table) &&
			streq(s->owned_column, t->owned_column))
			continue;
		if (t->owned_table && t->owned_column)
			emit(d, P("ALTER SEQUENCE %s OWNED BY %s.%s", t->key, t->owned_table,
					  Q(t->owned_column)), P("sequence %s", t->key), NULL, NULL);
		else if (s)
			emit(d, P("ALTER SEQUENCE %s OWNED BY NONE", t->key),
				 P("sequence %s", t->key), NULL, NULL);
	}

	/* 9, 10: constraints and indexes, then foreign keys */
	add_table_subobjects(d, false);
	add_table_subobjects(d, true);

	/* 11: views, their indexes; triggers */
	ord = view_order(d, target, &nord);
	for (int i = 0; i < nord; i++)
	{
		const MgsView *t = &target->views[ord[i]];
		const MgsView *s = find_view(source, t->key);
		bool		fresh = s == NULL || d->view_rebuild[s - source->views];

		if (fresh)
			emit(d, P("CREATE %s %s AS %s", view_word(t->kind), t->key,
					  strip_semicolon(d->a, t->definition)),
				 P("%s %s", t->kind == 'm' ? "materialized view" : "view", t->key),
				 NULL, NULL);
		for (int k = 0; k < t->nindexes; k++)
		{
			const MgsDef *y = fresh ? NULL : find_def(s->indexes, s->nindexes, t->indexes[k].name);

			if (y == NULL || !streq(y->definition, t->indexes[k].definition))
				emit(d, t->indexes[k].definition,
					 P("index %s.%s", key_schema(a, t->key), Q(t->indexes[k].name)), NULL, NULL);
		}
	}
	do_triggers(d, false);

	/* 12: comments */
	do_comments(d);

	/* 13: drops of what tables no longer use */
	for (int i = 0; i < source->nfunctions; i++)
		if (find_function(target, source->functions[i].key) == NULL)
			emit(d, P("DROP %s %s", function_word(source->functions[i].kind),
					  source->functions[i].key),
				 P("%s %s", source->functions[i].kind == 'p' ? "procedure" : "function",
				   source->functions[i].key), NULL, NULL);
	for (int i = 0; i < source->nsequences; i++)
	{
		const MgsSequence *s = &source->sequences[i];
		const MgsTable *ot;

		if (find_sequence(target, s->key))
			continue;
		/* an owned sequence goes with its table or column */
		ot = s->owned_table ? find_table(source, s->owned_table) : NULL;
		if (ot && s->owned_column)
		{
			const MgsTable *tt = find_table(target, ot->key);

			if (tt == NULL || find_column(tt, s->owned_column) == NULL)
				continue;
		}
		emit(d, P("DROP SEQUENCE %s", s->key), P("sequence %s", s->key),
			 MGS_HAZARD_DATA_LOSS, NULL);
	}
	for (int i = 0; i < source->ncomposites; i++)
		if (find_composite(target, source->composites[i].key) == NULL)
			emit(d, P("DROP TYPE %s", source->composites[i].key),
				 P("type %s", source->composites[i].key), NULL, NULL);
	for (int i = 0; i < source->ndomains; i++)
		if (find_domain(target, source->domains[i].key) == NULL)
			emit(d, P("DROP DOMAIN %s", source->domains[i].key),
				 P("domain %s", source->domains[i].key), NULL, NULL);
	for (int i = 0; i < source->nenums; i++)
	{
		bool		kept = false;

		for (int k = 0; k < target->nenums; k++)
			if (strcmp(target->enums[k].key, source->enums[i].key) == 0)
				kept = true;
		if (!kept)
			emit(d, P("DROP TYPE %s", source->enums[i].key),
				 P("type %s", source->enums[i].key), NULL, NULL);
	}
	for (int i = 0; i < source->nextensions; i++)
		if (find_extension(target, source->extensions[i].name) == NULL)
			emit(d, P("DROP EXTENSION %s", Q(source->extensions[i].name)),
				 P("extension %s", Q(source->extensions[i].name)), NULL, NULL);
	for (int i = 0; i < source->nschemas; i++)
		if (!has_schema(target, source->schemas[i].name))
			emit(d, P("DROP SCHEMA %s", Q(source->schemas[i].name)),
				 P("schema %s", Q(source->schemas[i].name)), NULL, NULL);

	return d->out;
}
