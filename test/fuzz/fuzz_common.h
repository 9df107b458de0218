/*-------------------------------------------------------------------------
 *
 * fuzz_common.h
 *	  Invariant checks shared by the fuzz targets of the graph core
 *	  (fuzz_target.c, fuzz_graph.c): a model of a valid graph read back
 *	  through the accessors, a simulated version table, checks of upgrade,
 *	  downgrade and stamp plans, history, current and errors, a literal port
 *	  of Alembic's topological sort as the reference for orders, and the
 *	  commands both targets run (do_upgrade and so on).
 *
 * The graph under test is built and kept the way the backend keeps its
 * graph (strings owned by the graph, blocks from a counting allocator, a
 * mark released after every command); when Model.twin is set, every
 * command also runs on a plainly built twin and the results must agree.
 *
 * A broken invariant prints what broke and aborts, which libFuzzer (and the
 * plain replay driver, replay_main.c) reports as a crash.  Everything here
 * is static: each fuzz target is one translation unit plus the code under
 * test.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include "mg_core.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define FUZZ_UNUSED __attribute__((unused))
#define FUZZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FUZZ_UNUSED
#define FUZZ_PRINTF(f, a)
#endif

static void fuzz_fail(const char *file, int line, const char *fmt,...)
			FUZZ_PRINTF(3, 4) FUZZ_UNUSED;

static void
fuzz_fail(const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "FUZZ INVARIANT BROKEN at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

#define FUZZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* Reads bytes from the input; zeros once it is used up */
typedef struct FuzzReader
{
	const uint8_t *data;
	size_t		size;
	size_t		pos;
} FuzzReader;

static FUZZ_UNUSED unsigned
fuzz_byte(FuzzReader *rd)
{
	return rd->pos < rd->size ? rd->data[rd->pos++] : 0;
}

static FUZZ_UNUSED bool
fuzz_more(const FuzzReader *rd)
{
	return rd->pos < rd->size;
}

/*
 * Graphs as the backend builds and keeps them: arena blocks from a counting
 * allocator (a memory context there), revisions added with their strings
 * already in the graph (mg_graph_add_owned), and a mark taken once the
 * graph is finished that each use releases back to.
 */
typedef struct FuzzArena
{
	long		live;			/* blocks handed out and not freed */
	long		total;
} FuzzArena;

static void *
fuzz_alloc_fn(void *ctx, size_t size)
{
	FuzzArena  *fa = ctx;
	void	   *p = malloc(size);

	FUZZ_CHECK(p != NULL, "out of memory");
	fa->live++;
	fa->total++;
	return p;
}

static void
fuzz_free_fn(void *ctx, void *ptr)
{
	FuzzArena  *fa = ctx;

	FUZZ_CHECK(ptr != NULL, "arena frees NULL");
	fa->live--;
	free(ptr);
}

static FUZZ_UNUSED MgGraph *
graph_new_counted(FuzzArena *fa)
{
	memset(fa, 0, sizeof(FuzzArena));
	return mg_graph_new_in(fuzz_alloc_fn, fuzz_free_fn, fa);
}

static FUZZ_UNUSED void
graph_free_counted(MgGraph *g, FuzzArena *fa)
{
	mg_graph_free(g);
	FUZZ_CHECK(fa->live == 0, "%ld arena blocks not freed", fa->live);
}

static const char **
owned_strs(MgGraph *g, const char *const *src, int n)
{
	const char **dst;

	if (n <= 0)
		return NULL;
	dst = mg_graph_alloc(g, sizeof(char *) * (size_t) n);
	for (int i = 0; i < n; i++)
		dst[i] = mg_graph_strdup(g, src[i] ? src[i] : "");
	return dst;
}

/* Add a revision the backend's way: copied into the graph first */
static FUZZ_UNUSED void
graph_add_owned(MgGraph *g, const MgRevInput *in)
{
	MgRevInput	own = *in;

	own.id = in->id ? mg_graph_strdup(g, in->id) : NULL;
	own.message = in->message ? mg_graph_strdup(g, in->message) : NULL;
	own.down = owned_strs(g, in->down, in->ndown);
	own.deps = owned_strs(g, in->deps, in->ndeps);
	own.labels = owned_strs(g, in->labels, in->nlabels);
	mg_graph_add_owned(g, &own);
}

static FUZZ_UNUSED void
same_error(const char *what, const MgError *a, const MgError *b)
{
	FUZZ_CHECK(a->code == b->code && strcmp(a->message, b->message) == 0 &&
			   ((a->detail == NULL && b->detail == NULL) ||
				(a->detail && b->detail && strcmp(a->detail, b->detail) == 0)) &&
			   ((a->hint == NULL && b->hint == NULL) ||
				(a->hint && b->hint && strcmp(a->hint, b->hint) == 0)),
			   "%s: kept graph and fresh graph fail differently: \"%s\" / \"%s\"", what,
			   a->message, b->message);
}

static FUZZ_UNUSED void
same_list_items(const char *what, MgList a, MgList b)
{
	FUZZ_CHECK(a.n == b.n, "%s: kept graph lists %d, fresh graph %d", what, a.n, b.n);
	for (int i = 0; i < a.n; i++)
		FUZZ_CHECK(a.items[i] == b.items[i], "%s: item %d differs between kept and fresh graph",
				   what, i);
}

/* Results on the kept graph and on the fresh one must be the same */
static FUZZ_UNUSED void
same_plan(const char *what, bool oka, const MgPlan *a, const MgError *ea,
		  bool okb, const MgPlan *b, const MgError *eb)
{
	FUZZ_CHECK(oka == okb, "%s: %s on the kept graph, %s on a fresh one", what,
			   oka ? "planned" : "failed", okb ? "planned" : "failed");
	if (!oka)
	{
		same_error(what, ea, eb);
		return;
	}
	FUZZ_CHECK(a->nsteps == b->nsteps, "%s: %d steps on the kept graph, %d on a fresh one",
			   what, a->nsteps, b->nsteps);
	for (int s = 0; s < a->nsteps; s++)
	{
		FUZZ_CHECK(a->steps[s].direction == b->steps[s].direction &&
				   a->steps[s].rev == b->steps[s].rev &&
				   a->steps[s].nops == b->steps[s].nops,
				   "%s: step %d differs between kept and fresh graph", what, s);
		for (int k = 0; k < a->steps[s].nops; k++)
			FUZZ_CHECK(a->steps[s].ops[k].kind == b->steps[s].ops[k].kind &&
					   a->steps[s].ops[k].a == b->steps[s].ops[k].a &&
					   (a->steps[s].ops[k].kind != MG_OP_UPDATE ||
						a->steps[s].ops[k].b == b->steps[s].ops[k].b),
					   "%s: op %d of step %d differs between kept and fresh graph", what, k, s);
	}
	same_list_items(what, a->final_rows, b->final_rows);
}

/*
 * The model: a valid graph as the accessors show it, with the sets the
 * invariants need.  All arrays are malloc'ed; model_free releases them.
 */
typedef struct Model
{
	MgGraph    *g;
	MgGraph    *twin;			/* the same graph built apart, or NULL */
	int			n;
	MgList	   *down;
	MgList	   *deps;
	MgList	   *norm;
	MgList	   *next;
	bool	   *scratch;		/* n flags, for closures */
	int		   *stack;
} Model;

static FUZZ_UNUSED void
model_init(Model *m, MgGraph *g)
{
	m->g = g;
	m->twin = NULL;
	m->n = mg_graph_size(g);
	m->down = calloc((size_t) m->n + 1, sizeof(MgList));
	m->deps = calloc((size_t) m->n + 1, sizeof(MgList));
	m->norm = calloc((size_t) m->n + 1, sizeof(MgList));
	m->next = calloc((size_t) m->n + 1, sizeof(MgList));
	m->scratch = calloc((size_t) m->n + 1, sizeof(bool));
	m->stack = calloc((size_t) m->n + 1, sizeof(int));
	for (int i = 0; i < m->n; i++)
	{
		m->down[i] = mg_rev_down(g, i);
		m->deps[i] = mg_rev_deps(g, i);
		m->norm[i] = mg_rev_normalized_down(g, i);
		m->next[i] = mg_rev_children(g, i);
		for (int k = 0; k < m->norm[i].n; k++)
			FUZZ_CHECK(m->norm[i].items[k] >= 0 && m->norm[i].items[k] < m->n,
					   "normalized down revision out of range");
	}
}

static FUZZ_UNUSED void
model_free(Model *m)
{
	free(m->down);
	free(m->deps);
	free(m->norm);
	free(m->next);
	free(m->scratch);
	free(m->stack);
}

static FUZZ_UNUSED bool
list_has(MgList l, int x)
{
	for (int i = 0; i < l.n; i++)
		if (l.items[i] == x)
			return true;
	return false;
}

/* out[i] = i is one of starts or below one (normalized down revisions) */
static FUZZ_UNUSED void
model_closure(Model *m, const int *starts, int nstarts, bool *out)
{
	int			sp = 0;

	memset(out, 0, sizeof(bool) * (size_t) m->n);
	for (int i = 0; i < nstarts; i++)
		if (starts[i] >= 0 && !out[starts[i]])
		{
			out[starts[i]] = true;
			m->stack[sp++] = starts[i];
		}
	while (sp > 0)
	{
		MgList		e = m->norm[m->stack[--sp]];

		for (int j = 0; j < e.n; j++)
			if (!out[e.items[j]])
			{
				out[e.items[j]] = true;
				m->stack[sp++] = e.items[j];
			}
	}
}

/* Is anc strictly below x? */
static FUZZ_UNUSED bool
model_below(Model *m, int anc, int x)
{
	model_closure(m, m->norm[x].items, m->norm[x].n, m->scratch);
	return m->scratch[anc];
}

/* Rows with no row below another row */
static FUZZ_UNUSED bool
model_minimal(Model *m, const int *rows, int n, int *bad_a, int *bad_b)
{
	int			nparents = 0;
	int		   *parents;
	bool		minimal = true;

	/* one walk: everything strictly below some row */
	for (int i = 0; i < n; i++)
		nparents += m->norm[rows[i]].n;
	parents = calloc((size_t) nparents + 1, sizeof(int));
	nparents = 0;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < m->norm[rows[i]].n; k++)
			parents[nparents++] = m->norm[rows[i]].items[k];
	model_closure(m, parents, nparents, m->scratch);
	free(parents);
	for (int i = 0; i < n && minimal; i++)
		if (m->scratch[rows[i]])
		{
			minimal = false;
			*bad_a = rows[i];
			*bad_b = -1;
			for (int j = 0; j < n && *bad_b < 0; j++)
				if (j != i && model_below(m, rows[i], rows[j]))
					*bad_b = rows[j];
		}
	return minimal;
}

/* A simulated version table: a set of revision indexes */
typedef struct Table
{
	int		   *rows;
	int			n;
	int			cap;
} Table;

static FUZZ_UNUSED int
table_find(const Table *t, int x)
{
	for (int i = 0; i < t->n; i++)
		if (t->rows[i] == x)
			return i;
	return -1;
}

static FUZZ_UNUSED void
table_set(Table *t, const int *rows, int n)
{
	if (n > t->cap)
	{
		t->cap = n + 16;
		t->rows = realloc(t->rows, sizeof(int) * (size_t) t->cap);
	}
	t->n = 0;
	for (int i = 0; i < n; i++)
		if (table_find(t, rows[i]) < 0)
			t->rows[t->n++] = rows[i];
}

static FUZZ_UNUSED void
table_add(Table *t, int x)
{
	if (t->n == t->cap)
	{
		t->cap = t->cap ? t->cap * 2 : 16;
		t->rows = realloc(t->rows, sizeof(int) * (size_t) t->cap);
	}
	t->rows[t->n++] = x;
}

static FUZZ_UNUSED MgList
table_list(Table *t)
{
	MgList		l;

	l.items = t->rows;
	l.n = t->n;
	return l;
}

/* Apply one planned step's operations, checking each against the table */
static FUZZ_UNUSED void
table_apply(Model *m, Table *t, const MgStep *st)
{
	for (int i = 0; i < st->nops; i++)
	{
		const MgOp *op = &st->ops[i];
		int			at;

		FUZZ_CHECK(op->a >= 0 && op->a < m->n, "op row %d out of range", op->a);
		at = table_find(t, op->a);
		switch (op->kind)
		{
			case MG_OP_INSERT:
				FUZZ_CHECK(at < 0, "INSERT of row \"%s\", which is present",
						   mg_rev_id(m->g, op->a));
				table_add(t, op->a);
				break;
			case MG_OP_DELETE:
				FUZZ_CHECK(at >= 0, "DELETE of row \"%s\", which is absent",
						   mg_rev_id(m->g, op->a));
				t->rows[at] = t->rows[--t->n];
				break;
			case MG_OP_UPDATE:
				FUZZ_CHECK(op->b >= 0 && op->b < m->n, "UPDATE to %d out of range", op->b);
				FUZZ_CHECK(at >= 0, "UPDATE of row \"%s\", which is absent",
						   mg_rev_id(m->g, op->a));
				FUZZ_CHECK(table_find(t, op->b) < 0, "UPDATE to row \"%s\", which is present",
						   mg_rev_id(m->g, op->b));
				t->rows[at] = op->b;
				break;
			default:
				FUZZ_CHECK(false, "unknown op kind %d", (int) op->kind);
		}
	}
}

/* The plan's final rows must equal the simulated table, as sets */
static FUZZ_UNUSED void
check_final_rows(Model *m, const Table *t, const MgPlan *plan)
{
	FUZZ_CHECK(plan->final_rows.n == t->n, "final rows: %d, simulated table: %d",
			   plan->final_rows.n, t->n);
	for (int i = 0; i < plan->final_rows.n; i++)
	{
		int			x = plan->final_rows.items[i];

		FUZZ_CHECK(x >= 0 && x < m->n, "final row %d out of range", x);
		FUZZ_CHECK(table_find(t, x) >= 0, "final row \"%s\" not in the simulated table",
				   mg_rev_id(m->g, x));
		for (int j = 0; j < i; j++)
			FUZZ_CHECK(plan->final_rows.items[j] != x, "final row \"%s\" twice",
					   mg_rev_id(m->g, x));
	}
}

/* closure(table) must be exactly the applied set, and the table minimal */
static FUZZ_UNUSED void
check_table_state(Model *m, const Table *t, const bool *applied, const char *what,
				  int step)
{
	bool	   *cl = malloc(sizeof(bool) * ((size_t) m->n + 1));
	int			a,
				b;

	model_closure(m, t->rows, t->n, cl);
	for (int i = 0; i < m->n; i++)
		FUZZ_CHECK(cl[i] == applied[i],
				   "%s step %d: revision \"%s\" is %s by the version table but %s",
				   what, step, mg_rev_id(m->g, i), cl[i] ? "implied" : "not implied",
				   applied[i] ? "applied" : "not applied");
	free(cl);
	FUZZ_CHECK(model_minimal(m, t->rows, t->n, &a, &b),
			   "%s step %d: version table holds \"%s\" and its ancestor \"%s\"",
			   what, step, mg_rev_id(m->g, b), mg_rev_id(m->g, a));
}

/* Is s valid UTF-8 (no overlong forms, surrogates or values past U+10FFFF)? */
static FUZZ_UNUSED bool
utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *) str;

	while (*s)
	{
		int			n;
		unsigned int cp;

		if (s[0] < 0x80)
		{
			s++;
			continue;
		}
		if (s[0] >= 0xc2 && s[0] <= 0xdf)
			n = 2, cp = s[0] & 0x1f;
		else if (s[0] >= 0xe0 && s[0] <= 0xef)
			n = 3, cp = s[0] & 0x0f;
		else if (s[0] >= 0xf0 && s[0] <= 0xf4)
			n = 4, cp = s[0] & 0x07;
		else
			return false;
		for (int i = 1; i < n; i++)
		{
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
			(cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n;
	}
	return true;
}

/*
 * An error must be well formed; when the input it was about is valid
 * UTF-8, so must be its texts (a name cut short must not cut a character).
 */
static FUZZ_UNUSED void
check_error_for(const MgError *err, const char *input)
{
	FUZZ_CHECK(err->code > MG_OK && err->code <= MG_E_STATE, "error code %d", (int) err->code);
	FUZZ_CHECK(err->message != NULL && err->message[0] != '\0', "error without a message");
	FUZZ_CHECK(err->detail == NULL || err->detail[0] != '\0', "empty error detail");
	FUZZ_CHECK(err->hint == NULL || err->hint[0] != '\0', "empty error hint");
	if (input && utf8_valid(input))
		FUZZ_CHECK(utf8_valid(err->message) && (!err->detail || utf8_valid(err->detail)) &&
				   (!err->hint || utf8_valid(err->hint)),
				   "error about valid UTF-8 input \"%s\" is not valid UTF-8: %s", input,
				   err->message);
}

static FUZZ_UNUSED void
check_error(const MgError *err)
{
	check_error_for(err, NULL);
}

/*
 * An upgrade plan from minimal rows: each step runs a revision that is not
 * applied, after all its parents and dependencies, and afterwards the
 * version table implies exactly what is applied and stays minimal.
 */
static FUZZ_UNUSED void
check_upgrade(Model *m, Table *t, const MgPlan *plan, bool *applied)
{
	model_closure(m, t->rows, t->n, applied);
	for (int s = 0; s < plan->nsteps; s++)
	{
		const MgStep *st = &plan->steps[s];
		int			r = st->rev;

		FUZZ_CHECK(st->direction == MG_UPGRADE, "upgrade step %d has direction %d", s,
				   (int) st->direction);
		FUZZ_CHECK(r >= 0 && r < m->n, "upgrade step %d: revision %d out of range", s, r);
		FUZZ_CHECK(!applied[r], "upgrade step %d runs \"%s\", which is applied", s,
				   mg_rev_id(m->g, r));
		for (int k = 0; k < m->down[r].n; k++)
			FUZZ_CHECK(applied[m->down[r].items[k]],
					   "upgrade step %d runs \"%s\" before its parent \"%s\"", s,
					   mg_rev_id(m->g, r), mg_rev_id(m->g, m->down[r].items[k]));
		for (int k = 0; k < m->deps[r].n; k++)
			FUZZ_CHECK(applied[m->deps[r].items[k]],
					   "upgrade step %d runs \"%s\" before its dependency \"%s\"", s,
					   mg_rev_id(m->g, r), mg_rev_id(m->g, m->deps[r].items[k]));
		applied[r] = true;
		table_apply(m, t, st);
		check_table_state(m, t, applied, "upgrade", s);
	}
	check_final_rows(m, t, plan);
}

/*
 * A downgrade plan from minimal rows: each step removes an applied
 * revision that nothing applied builds on or depends on.
 */
static FUZZ_UNUSED void
check_downgrade(Model *m, Table *t, const MgPlan *plan, bool *applied)
{
	model_closure(m, t->rows, t->n, applied);
	for (int s = 0; s < plan->nsteps; s++)
	{
		const MgStep *st = &plan->steps[s];
		int			r = st->rev;

		FUZZ_CHECK(st->direction == MG_DOWNGRADE, "downgrade step %d has direction %d", s,
				   (int) st->direction);
		FUZZ_CHECK(r >= 0 && r < m->n, "downgrade step %d: revision %d out of range", s, r);
		FUZZ_CHECK(applied[r], "downgrade step %d runs \"%s\", which is not applied", s,
				   mg_rev_id(m->g, r));
		for (int x = 0; x < m->n; x++)
			FUZZ_CHECK(x == r || !applied[x] ||
					   (!list_has(m->down[x], r) && !list_has(m->deps[x], r)),
					   "downgrade step %d removes \"%s\" below applied \"%s\"", s,
					   mg_rev_id(m->g, r), mg_rev_id(m->g, x));
		applied[r] = false;
		table_apply(m, t, st);
		check_table_state(m, t, applied, "downgrade", s);
	}
	check_final_rows(m, t, plan);
}

/* A stamp plan: consistent operations only (stamp need not stay minimal) */
static FUZZ_UNUSED void
check_stamp(Model *m, Table *t, const MgPlan *plan)
{
	for (int s = 0; s < plan->nsteps; s++)
	{
		const MgStep *st = &plan->steps[s];

		FUZZ_CHECK(st->direction == MG_STAMP, "stamp step %d has direction %d", s,
				   (int) st->direction);
		FUZZ_CHECK(st->rev == MG_NONE || (st->rev >= 0 && st->rev < m->n),
				   "stamp step %d: revision %d out of range", s, st->rev);
		table_apply(m, t, st);
	}
	check_final_rows(m, t, plan);
}

/*
 * A history listing: no revision twice, and newest first: a revision
 * comes before its parents and dependencies that are listed too.
 */
static FUZZ_UNUSED void
check_history(Model *m, MgList h)
{
	int		   *pos = malloc(sizeof(int) * ((size_t) m->n + 1));

	for (int i = 0; i < m->n; i++)
		pos[i] = -1;
	for (int i = 0; i < h.n; i++)
	{
		int			x = h.items[i];

		FUZZ_CHECK(x >= 0 && x < m->n, "history item %d out of range", x);
		FUZZ_CHECK(pos[x] < 0, "history lists \"%s\" twice", mg_rev_id(m->g, x));
		pos[x] = i;
	}
	for (int i = 0; i < h.n; i++)
	{
		int			x = h.items[i];

		for (int k = 0; k < m->norm[x].n; k++)
		{
			int			p = m->norm[x].items[k];

			FUZZ_CHECK(pos[p] < 0 || pos[p] > i,
					   "history lists \"%s\" before its descendant \"%s\"",
					   mg_rev_id(m->g, p), mg_rev_id(m->g, x));
		}
	}
	free(pos);
}

/* current: the applied revisions with no applied child through down */
static FUZZ_UNUSED void
check_current(Model *m, const Table *t, MgList cur)
{
	bool	   *app = malloc(sizeof(bool) * ((size_t) m->n + 1));
	bool	   *in = calloc((size_t) m->n + 1, sizeof(bool));

	model_closure(m, t->rows, t->n, app);
	for (int i = 0; i < cur.n; i++)
	{
		int			x = cur.items[i];

		FUZZ_CHECK(x >= 0 && x < m->n, "current item %d out of range", x);
		FUZZ_CHECK(!in[x], "current lists \"%s\" twice", mg_rev_id(m->g, x));
		in[x] = true;
	}
	for (int x = 0; x < m->n; x++)
	{
		bool		tip = app[x];

		for (int k = 0; k < m->next[x].n && tip; k++)
			if (app[m->next[x].items[k]])
				tip = false;
		FUZZ_CHECK(tip == in[x], "current %s \"%s\"", in[x] ? "lists" : "lacks",
				   mg_rev_id(m->g, x));
	}
	free(app);
	free(in);
}

/*
 * Alembic's topological_sort (doc/semantics.md §8.4), ported literally with its
 * quadratic cost, as the reference for the core's faster version.  Returns
 * the number of revisions written to out (tips first); *complete is false
 * when revisions of todo were never reached (Alembic's assertion).
 */
static FUZZ_UNUSED int
ref_topo_sort(Model *m, const bool *todo_in, const int *heads, int nheads,
			  int *out, bool *complete)
{
	int			n = m->n;
	bool	   *todo = malloc(sizeof(bool) * ((size_t) n + 1));
	int		   *cur = malloc(sizeof(int) * ((size_t) n + 1));
	bool	  **anc = malloc(sizeof(bool *) * ((size_t) n + 1));
	int			ncur = 0;
	int			nout = 0;
	int			i = 0;
	long		guard = 0;

	memcpy(todo, todo_in, sizeof(bool) * (size_t) n);
	/* cur = sorted({h for h in heads if h in todo}, key=order) */
	for (int x = 0; x < n; x++)
	{
		bool		is_head = false;

		for (int k = 0; k < nheads && !is_head; k++)
			is_head = heads[k] == x;
		if (is_head && todo[x])
		{
			cur[ncur] = x;
			anc[ncur] = malloc(sizeof(bool) * ((size_t) n + 1));
			model_closure(m, &x, 1, anc[ncur]);
			ncur++;
		}
	}
	while (ncur > 0)
	{
		int			cand = cur[i];
		int			j = -1;
		int		   *add;
		int			nadd = 0;
		MgList		nd;

		FUZZ_CHECK(++guard < 1000000, "reference topological sort does not end");
		for (int k = 0; k < ncur && j < 0; k++)
			if (k != i && anc[k][cand])
				j = k;
		if (j >= 0)
		{
			i = j;
			continue;
		}
		if (todo[cand])
		{
			out[nout++] = cand;
			todo[cand] = false;
		}
		nd = m->norm[cand];
		add = malloc(sizeof(int) * ((size_t) nd.n + 1));
		for (int k = 0; k < nd.n; k++)
		{
			int			p = nd.items[k];
			bool		in_cur = false;

			for (int c = 0; c < ncur && !in_cur; c++)
				in_cur = cur[c] == p;
			if (todo[p] && !in_cur)
				add[nadd++] = p;
		}
		if (nadd == 0)
		{
			free(anc[i]);
			memmove(&cur[i], &cur[i + 1], sizeof(int) * (size_t) (ncur - i - 1));
			memmove(&anc[i], &anc[i + 1], sizeof(bool *) * (size_t) (ncur - i - 1));
			ncur--;
			i = i - 1 > 0 ? i - 1 : 0;
		}
		else
		{
			cur[i] = add[0];
			model_closure(m, &add[0], 1, anc[i]);
			for (int k = 1; k < nadd; k++)
			{
				cur[ncur] = add[k];
				anc[ncur] = malloc(sizeof(bool) * ((size_t) n + 1));
				model_closure(m, &add[k], 1, anc[ncur]);
				ncur++;
			}
		}
		free(add);
	}
	*complete = true;
	for (int x = 0; x < n; x++)
		if (todo[x])
			*complete = false;
	free(todo);
	free(cur);
	free(anc);
	return nout;
}

/* Two orders must be the same; names both on failure */
static FUZZ_UNUSED void
check_same_order(Model *m, const char *what, const int *core, int ncore,
				 const int *ref, int nref)
{
	bool		same = ncore == nref;

#ifdef FUZZ_TRACE
	fprintf(stderr, "compared %s order of %d revisions\n", what, ncore);
#endif
	for (int i = 0; same && i < ncore; i++)
		same = core[i] == ref[i];
	if (!same)
	{
		fprintf(stderr, "%s order differs from Alembic's topological sort\ncore:", what);
		for (int i = 0; i < ncore; i++)
			fprintf(stderr, " %s", mg_rev_id(m->g, core[i]));
		fprintf(stderr, "\nreference:");
		for (int i = 0; i < nref; i++)
			fprintf(stderr, " %s", mg_rev_id(m->g, ref[i]));
		fprintf(stderr, "\n");
		FUZZ_CHECK(false, "%s order differs from the reference", what);
	}
}

/* out[x] = x is one of roots or above one through down or dependencies */
static FUZZ_UNUSED void
model_descendants(Model *m, const int *roots, int nroots, bool *out)
{
	bool		changed = true;

	memset(out, 0, sizeof(bool) * (size_t) m->n);
	for (int i = 0; i < nroots; i++)
		if (roots[i] >= 0)
			out[roots[i]] = true;
	while (changed)
	{
		changed = false;
		for (int x = 0; x < m->n; x++)
		{
			if (out[x])
				continue;
			for (int k = 0; k < m->down[x].n && !out[x]; k++)
				out[x] = out[m->down[x].items[k]];
			for (int k = 0; k < m->deps[x].n && !out[x]; k++)
				out[x] = out[m->deps[x].items[k]];
			changed |= out[x];
		}
	}
}

/*
 * The order of an upgrade plan to targets from rows: the reverse of the
 * reference sort of (targets and below) minus (rows and below).
 */
static FUZZ_UNUSED void
check_upgrade_order(Model *m, const int *rows, int nrows, const int *targets,
					int ntargets, const MgPlan *plan)
{
	bool	   *req = malloc(sizeof(bool) * ((size_t) m->n + 1));
	bool	   *app = malloc(sizeof(bool) * ((size_t) m->n + 1));
	int		   *ref = malloc(sizeof(int) * ((size_t) m->n + 1));
	int		   *core = malloc(sizeof(int) * ((size_t) plan->nsteps + 1));
	bool		complete;
	int			nref;

	model_closure(m, targets, ntargets, req);
	model_closure(m, rows, nrows, app);
	for (int i = 0; i < m->n; i++)
		req[i] = req[i] && !app[i];
	nref = ref_topo_sort(m, req, targets, ntargets, ref, &complete);
	FUZZ_CHECK(complete, "reference sort of an upgrade set is incomplete");
	for (int i = 0; i < nref / 2; i++)
	{
		int			x = ref[i];

		ref[i] = ref[nref - 1 - i];
		ref[nref - 1 - i] = x;
	}
	for (int i = 0; i < plan->nsteps; i++)
		core[i] = plan->steps[i].rev;
	check_same_order(m, "upgrade", core, plan->nsteps, ref, nref);
	free(req);
	free(app);
	free(ref);
	free(core);
}

/*
 * The order of a downgrade plan to t (MG_NONE: base) without a branch:
 * the reference sort of (everything above t's children, or above the
 * bases) that is applied, from the rows.
 */
static FUZZ_UNUSED void
check_downgrade_order(Model *m, const int *rows, int nrows, int t,
					  const MgPlan *plan)
{
	bool	   *set = malloc(sizeof(bool) * ((size_t) m->n + 1));
	bool	   *app = malloc(sizeof(bool) * ((size_t) m->n + 1));
	int		   *roots = malloc(sizeof(int) * ((size_t) m->n + 1));
	int		   *ref = malloc(sizeof(int) * ((size_t) m->n + 1));
	int		   *core = malloc(sizeof(int) * ((size_t) plan->nsteps + 1));
	int			nroots = 0;
	bool		complete;
	int			nref;

	if (t < 0)
	{
		for (int x = 0; x < m->n; x++)
			if (m->down[x].n == 0)
				roots[nroots++] = x;
	}
	else
		for (int k = 0; k < m->next[t].n; k++)
			roots[nroots++] = m->next[t].items[k];
	model_descendants(m, roots, nroots, set);
	model_closure(m, rows, nrows, app);
	for (int i = 0; i < m->n; i++)
		set[i] = set[i] && app[i];
	nref = ref_topo_sort(m, set, rows, nrows, ref, &complete);
	FUZZ_CHECK(complete, "reference sort of a downgrade set is incomplete");
	for (int i = 0; i < plan->nsteps; i++)
		core[i] = plan->steps[i].rev;
	check_same_order(m, "downgrade", core, plan->nsteps, ref, nref);
	free(set);
	free(app);
	free(roots);
	free(ref);
	free(core);
}

/*
 * The order of history "lower:upper" where both ends name revisions
 * plainly (nlower = 0: from base): upper's required set minus what lies
 * below lower, lower included, cut to descendants of lower through down
 * revisions, sorted from upper.
 */
static FUZZ_UNUSED void
check_history_order(Model *m, const int *lower, int nlower, const int *upper,
					int nupper, MgList out)
{
	bool	   *needs = malloc(sizeof(bool) * ((size_t) m->n + 1));
	bool	   *below = malloc(sizeof(bool) * ((size_t) m->n + 1));
	bool	   *desc = calloc((size_t) m->n + 1, sizeof(bool));
	int		   *ref = malloc(sizeof(int) * ((size_t) m->n + 1));
	bool		complete;
	int			nref;

	model_closure(m, upper, nupper, needs);
	model_closure(m, lower, nlower, below);
	for (int i = 0; i < m->n; i++)
		needs[i] = needs[i] && !below[i];
	for (int i = 0; i < nlower; i++)
	{
		needs[lower[i]] = true;
		desc[lower[i]] = true;
	}
	if (nlower > 0)
	{
		/* descendants through down only, by fixed point */
		bool		changed = true;

		while (changed)
		{
			changed = false;
			for (int x = 0; x < m->n; x++)
				for (int k = 0; k < m->down[x].n && !desc[x]; k++)
					if (desc[m->down[x].items[k]])
						desc[x] = changed = true;
		}
		for (int i = 0; i < m->n; i++)
			needs[i] = needs[i] && desc[i];
	}
	nref = ref_topo_sort(m, needs, upper, nupper, ref, &complete);
	check_same_order(m, complete ? "history" : "history (incomplete reference)",
					 out.items, out.n, ref, nref);
	free(needs);
	free(below);
	free(desc);
	free(ref);
}

/* ----------------------------------------------------------------
 * Commands on a graph and a simulated version table, each result checked
 * ----------------------------------------------------------------
 */

#define MAX_LIST		64

/* Split s at spaces and commas into at most max pieces (s is modified) */
static FUZZ_UNUSED int
split_words(char *s, char **out, int max)
{
	int			n = 0;
	char	   *p = s;

	while (*p && n < max)
	{
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		out[n++] = p;
		while (*p && *p != ' ' && *p != ',')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

/* A plain symbol: no relative step, range, branch or list */
static FUZZ_UNUSED bool
plain(const char *s, bool allow_branch)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s == '+' || *s == '-' || *s == ':' || *s == ' ' || *s == ',' ||
			(*s == '@' && !allow_branch))
			return false;
	return true;
}

/* The version table as row ids, resolved again as the backend does */
static FUZZ_UNUSED MgList
resolve_table(Model *m, Table *t)
{
	const char **ids = malloc(sizeof(char *) * ((size_t) t->n + 1));
	MgList		rows;
	MgError		err;

	for (int i = 0; i < t->n; i++)
		ids[i] = mg_rev_id(m->g, t->rows[i]);
	FUZZ_CHECK(mg_resolve_rows(m->g, ids, t->n, &rows, &err), "known rows do not resolve");
	FUZZ_CHECK(rows.n == t->n, "resolved rows: %d of %d", rows.n, t->n);
	for (int i = 0; i < t->n; i++)
		FUZZ_CHECK(rows.items[i] == t->rows[i], "row \"%s\" resolves elsewhere", ids[i]);
	free(ids);
	return rows;
}

/* Revisions a plain symbol names, through mg_show; false if it fails */
static FUZZ_UNUSED bool
show_list(Model *m, const char *sym, MgList *out)
{
	MgError		err;
	bool		ok = mg_show(m->g, sym, out, &err);

	if (m->twin)
	{
		MgList		out2;
		MgError		err2;
		bool		ok2 = mg_show(m->twin, sym, &out2, &err2);

		FUZZ_CHECK(ok == ok2, "show differs between kept and fresh graph");
		if (ok)
			same_list_items("show", *out, out2);
		else
			same_error("show", &err, &err2);
	}
	if (!ok)
	{
		check_error_for(&err, sym);
		return false;
	}
	for (int i = 0; i < out->n; i++)
		FUZZ_CHECK(out->items[i] >= 0 && out->items[i] < m->n, "show item out of range");
	return true;
}

static FUZZ_UNUSED void
do_upgrade(Model *m, Table *t, const char *arg, bool keep)
{
	MgList		rows = resolve_table(m, t);
	Table		before = {0};
	Table		work = {0};
	MgPlan		plan;
	MgError		err;
	bool		ok;
	int			a,
				b;
	bool		minimal = model_minimal(m, t->rows, t->n, &a, &b);
	bool	   *applied = malloc(sizeof(bool) * ((size_t) m->n + 1));

	table_set(&before, t->rows, t->n);
	table_set(&work, t->rows, t->n);
	ok = mg_plan_upgrade(m->g, rows, arg, &plan, &err);
	if (m->twin)
	{
		MgPlan		plan2;
		MgError		err2;

		same_plan("upgrade", ok, &plan, &err,
				  mg_plan_upgrade(m->twin, rows, arg, &plan2, &err2), &plan2, &err2);
	}
	if (!ok)
	{
		check_error_for(&err, arg);
		FUZZ_CHECK(minimal || strchr(arg, ':') || err.code == MG_E_STATE,
				   "upgrade from redundant rows failed with code %d, not MG_E_STATE",
				   (int) err.code);
	}
	else
	{
		MgList		targets;

		FUZZ_CHECK(minimal, "upgrade accepted rows \"%s\" and its ancestor \"%s\"",
				   mg_rev_id(m->g, b), mg_rev_id(m->g, a));
		check_upgrade(m, &work, &plan, applied);
		if (strcmp(arg, "heads") == 0)
			for (int i = 0; i < m->n; i++)
				FUZZ_CHECK(applied[i], "upgrade heads leaves \"%s\" unapplied",
						   mg_rev_id(m->g, i));
		if (plain(arg, true))
		{
			FUZZ_CHECK(show_list(m, arg, &targets), "upgrade target \"%s\" does not show", arg);
			for (int i = 0; i < targets.n; i++)
				FUZZ_CHECK(applied[targets.items[i]], "upgrade %s leaves \"%s\" unapplied",
						   arg, mg_rev_id(m->g, targets.items[i]));
			check_upgrade_order(m, before.rows, before.n, targets.items, targets.n, &plan);
		}
		if (keep)
			table_set(t, work.rows, work.n);
	}
	free(applied);
	free(before.rows);
	free(work.rows);
}

static FUZZ_UNUSED void
do_downgrade(Model *m, Table *t, const char *arg, bool keep)
{
	MgList		rows = resolve_table(m, t);
	Table		before = {0};
	Table		work = {0};
	MgPlan		plan;
	MgError		err;
	bool		ok;
	int			a,
				b;
	bool		minimal = model_minimal(m, t->rows, t->n, &a, &b);
	bool	   *applied = malloc(sizeof(bool) * ((size_t) m->n + 1));

	table_set(&before, t->rows, t->n);
	table_set(&work, t->rows, t->n);
	ok = mg_plan_downgrade(m->g, rows, arg, &plan, &err);
	if (m->twin)
	{
		MgPlan		plan2;
		MgError		err2;

		same_plan("downgrade", ok, &plan, &err,
				  mg_plan_downgrade(m->twin, rows, arg, &plan2, &err2), &plan2, &err2);
	}
	if (!ok)
	{
		check_error_for(&err, arg);
		FUZZ_CHECK(minimal || strchr(arg, ':') || err.code == MG_E_STATE,
				   "downgrade from redundant rows failed with code %d, not MG_E_STATE",
				   (int) err.code);
		FUZZ_CHECK(strncmp(err.message, "cannot downgrade revision", 25) != 0,
				   "downgrade planned a step off the version table: %s", err.message);
	}
	else
	{
		FUZZ_CHECK(minimal, "downgrade accepted rows \"%s\" and its ancestor \"%s\"",
				   mg_rev_id(m->g, b), mg_rev_id(m->g, a));
		check_downgrade(m, &work, &plan, applied);
		if (plain(arg, false))
		{
			int			target = MG_NONE;
			MgList		l;

			if (strcmp(arg, "base") != 0)
			{
				FUZZ_CHECK(show_list(m, arg, &l) && l.n == 1,
						   "downgrade target \"%s\" does not show as one revision", arg);
				target = l.items[0];
			}
			if (target >= 0)
			{
				bool	   *above = malloc(sizeof(bool) * ((size_t) m->n + 1));

				FUZZ_CHECK(applied[target], "downgrade %s leaves it unapplied", arg);
				model_descendants(m, m->next[target].items, m->next[target].n, above);
				for (int i = 0; i < m->n; i++)
					FUZZ_CHECK(!above[i] || !applied[i],
							   "downgrade %s leaves \"%s\" applied", arg, mg_rev_id(m->g, i));
				free(above);
			}
			else
				FUZZ_CHECK(work.n == 0, "downgrade base leaves rows");
			check_downgrade_order(m, before.rows, before.n, target, &plan);
		}
		if (keep)
			table_set(t, work.rows, work.n);
	}
	free(applied);
	free(before.rows);
	free(work.rows);
}

static FUZZ_UNUSED void
do_stamp(Model *m, Table *t, const char *arg, bool purge, bool keep)
{
	MgList		rows = resolve_table(m, t);
	char	   *copy = strdup(arg);
	char	   *targets[MAX_LIST];
	int			n = split_words(copy, targets, MAX_LIST);
	Table		work = {0};
	MgPlan		plan;
	MgError		err;
	bool		ok;

	if (!purge)
		table_set(&work, t->rows, t->n);
	ok = mg_plan_stamp(m->g, rows, (const char *const *) targets, n, purge, &plan, &err);
	if (m->twin)
	{
		MgPlan		plan2;
		MgError		err2;

		same_plan("stamp", ok, &plan, &err,
				  mg_plan_stamp(m->twin, rows, (const char *const *) targets, n, purge,
								&plan2, &err2), &plan2, &err2);
	}
	if (!ok)
		check_error_for(&err, arg);
	else
	{
		MgList		dest;

		check_stamp(m, &work, &plan);
		/* one plain target: it is a row afterwards; base empties the table */
		if (n == 1 && plain(targets[0], false))
		{
			if (strcmp(targets[0], "base") == 0)
				FUZZ_CHECK(work.n == 0, "stamp base leaves %d rows", work.n);
			else if (show_list(m, targets[0], &dest) && dest.n == 1)
			{
				FUZZ_CHECK(table_find(&work, dest.items[0]) >= 0,
						   "stamp %s leaves it out of the version table", targets[0]);
				FUZZ_CHECK(!purge || work.n == 1, "stamp %s with purge leaves %d rows",
						   targets[0], work.n);
			}
		}
		if (keep)
			table_set(t, work.rows, work.n);
	}
	free(work.rows);
	free(copy);
}

static FUZZ_UNUSED void
do_history(Model *m, Table *t, const char *arg)
{
	MgList		rows = resolve_table(m, t);
	MgList		out;
	MgError		err;
	const char *range = *arg ? arg : NULL;
	bool		ok = mg_history(m->g, rows, range, &out, &err);

	if (m->twin)
	{
		MgList		out2;
		MgError		err2;
		bool		ok2 = mg_history(m->twin, rows, range, &out2, &err2);

		FUZZ_CHECK(ok == ok2, "history differs between kept and fresh graph");
		if (ok)
			same_list_items("history", out, out2);
		else
			same_error("history", &err, &err2);
	}
	if (!ok)
	{
		check_error_for(&err, arg);
		return;
	}
	check_history(m, out);
	if (range == NULL)
	{
		MgList		rh = mg_real_heads(m->g);

		FUZZ_CHECK(out.n == m->n, "history lists %d of %d revisions", out.n, m->n);
		check_history_order(m, NULL, 0, rh.items, rh.n, out);
	}
	else
	{
		/* lower:upper, both plain symbols */
		char	   *copy = strdup(range);
		char	   *colon = strchr(copy, ':');
		MgList		lower = {NULL, 0},
					upper;

		*colon = '\0';
		if ((*copy == '\0' || plain(copy, false)) &&
			(colon[1] == '\0' || plain(colon + 1, false)) &&
			strcmp(copy, "current") != 0 && strcmp(colon + 1, "current") != 0)
		{
			if (colon[1] == '\0' || strcmp(colon + 1, "heads") == 0)
				upper = mg_real_heads(m->g);
			else
				FUZZ_CHECK(show_list(m, colon + 1, &upper), "history end does not show");
			if (*copy && strcmp(copy, "base") != 0)
				FUZZ_CHECK(show_list(m, copy, &lower), "history start does not show");
			check_history_order(m, lower.items, lower.n, upper.items, upper.n, out);
		}
		free(copy);
	}
}

static FUZZ_UNUSED void
do_current(Model *m, Table *t)
{
	MgList		rows = resolve_table(m, t);
	MgList		cur = mg_current(m->g, rows);

	if (m->twin)
		same_list_items("current", cur, mg_current(m->twin, rows));
	check_current(m, t, cur);
}

static FUZZ_UNUSED void
do_show(Model *m, const char *arg)
{
	MgList		out;

	show_list(m, arg, &out);
}

static FUZZ_UNUSED void
do_rows(Model *m, Table *t, const char *arg)
{
	char	   *copy = strdup(arg);
	char	   *ids[MAX_LIST];
	int			n = split_words(copy, ids, MAX_LIST);
	MgList		rows;
	MgError		err;
	bool		known = true;

	for (int i = 0; i < n; i++)
		if (mg_lookup(m->g, ids[i]) < 0)
			known = false;
	if (mg_resolve_rows(m->g, (const char *const *) ids, n, &rows, &err))
	{
		FUZZ_CHECK(known, "unknown row resolved");
		table_set(t, rows.items, rows.n);
	}
	else
	{
		check_error_for(&err, arg);
		FUZZ_CHECK(!known && err.code == MG_E_STATE, "known rows rejected");
	}
	free(copy);
}

/* Graph-wide listings, once per input */
static FUZZ_UNUSED void
check_listings(Model *m)
{
	MgList		h = mg_heads(m->g);
	MgList		rh = mg_real_heads(m->g);
	MgList		bases = mg_bases(m->g);
	int			kh = 0,
				krh = 0,
				kb = 0;

	for (int x = 0; x < m->n; x++)
	{
		bool		real = true;
		const char **labels;
		int			nl = mg_rev_labels(m->g, x, &labels);

		for (int y = 0; y < m->n && real; y++)
			if (list_has(m->down[y], x) || list_has(m->deps[y], x))
				real = false;
		if (m->next[x].n == 0)
			FUZZ_CHECK(kh < h.n && h.items[kh++] == x, "heads lack \"%s\"", mg_rev_id(m->g, x));
		if (real)
			FUZZ_CHECK(krh < rh.n && rh.items[krh++] == x, "real heads lack \"%s\"",
					   mg_rev_id(m->g, x));
		if (m->down[x].n == 0)
			FUZZ_CHECK(kb < bases.n && bases.items[kb++] == x, "bases lack \"%s\"",
					   mg_rev_id(m->g, x));
		for (int i = 1; i < nl; i++)
			FUZZ_CHECK(strcmp(labels[i - 1], labels[i]) < 0, "labels of \"%s\" not sorted",
					   mg_rev_id(m->g, x));
		FUZZ_CHECK(mg_lookup(m->g, mg_rev_id(m->g, x)) == x, "lookup of \"%s\"",
				   mg_rev_id(m->g, x));
	}
	FUZZ_CHECK(kh == h.n && krh == rh.n && kb == bases.n, "extra heads or bases");
}

#endif							/* FUZZ_COMMON_H */
