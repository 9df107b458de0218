/*-------------------------------------------------------------------------
 *
 * mg_schema_model.c
 *	  jsonb -> schema model (mg_schema.h), and migrate_diff(source, target).
 *
 * Owns: reading and validating a model document as migrate_snapshot()
 * writes it, and turning the diff's steps into rows.  Every malformed or
 * hostile input is refused with SQLSTATE 22023 and a DETAIL naming the
 * path of the offending value in the document; nothing here trusts a
 * length, a count or a key.  Must not: read catalogs, or compare models
 * (mg_diff.c does, with no server dependency).
 *
 * Copyright (c) the migrations authors
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"

#include "mg_schema.h"

PG_FUNCTION_INFO_V1(migrate_diff);

typedef struct Parse
{
	const char *arg;			/* "source" or "target" */
} Parse;

static void bad(Parse *p, const char *path, const char *what) pg_attribute_noreturn();

/* every refusal: one primary naming the argument, the path in DETAIL */
static void
bad(Parse *p, const char *path, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("malformed schema model in argument \"%s\"", p->arg),
			 errdetail("The value at %s must be %s.", path, what),
			 errhint("Pass a document written by migrate_snapshot().")));
}

/*
 * path_key
 *		The path of member key under path, for a DETAIL: path, a dot, and the
 *		key written as a JSON string.  Palloc'd; cannot fail.
 */
static char *
path_key(const char *path, const char *key)
{
	/* keys are shown as JSON strings: quotes and controls cannot mislead */
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, path);
	appendStringInfoChar(&buf, '.');
	escape_json(&buf, key);
	return buf.data;
}

/* A NUL-terminated palloc'd copy of a jbvString value */
static char *
jstr(const JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* the value of key in object c, or NULL when absent or JSON null */
static JsonbValue *
member(JsonbContainer *c, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(c, key, strlen(key), NULL);

	if (v && v->type == jbvNull)
		return NULL;
	return v;
}

/* The object v holds; refuses anything else (absent included) at path */
static JsonbContainer *
as_object(Parse *p, JsonbValue *v, const char *path)
{
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		bad(p, path, "an object");
	return v->val.binary.data;
}

/* Member key of c as an object, or NULL when absent; refuses a non-object */
static JsonbContainer *
opt_object(Parse *p, JsonbContainer *c, const char *key, const char *path)
{
	JsonbValue *v = member(c, key);

	if (v == NULL)
		return NULL;
	return as_object(p, v, path_key(path, key));
}

/*
 * Member key of c as a palloc'd string; NULL when absent (or JSON null)
 * and not required.  Refuses a value of another type, or a required one
 * that is missing.
 */
static const char *
get_str(Parse *p, JsonbContainer *c, const char *key, const char *path, bool required)
{
	JsonbValue *v = member(c, key);

	if (v == NULL)
	{
		if (required)
			bad(p, path_key(path, key), "a string");
		return NULL;
	}
	if (v->type != jbvString)
		bad(p, path_key(path, key), "a string");
	return jstr(v);
}

/* Member key of c as a boolean, false when absent; refuses another type */
static bool
get_bool(Parse *p, JsonbContainer *c, const char *key, const char *path)
{
	JsonbValue *v = member(c, key);

	if (v == NULL)
		return false;
	if (v->type != jbvBool)
		bad(p, path_key(path, key), "a boolean");
	return v->val.boolean;
}

/*
 * get_int
 *		Member key of c as an integer in [min, max]; dflt when absent and not
 *		required.  Refuses a missing required member, a non-number, a
 *		number that numeric_out does not print as plain digits (1.5, 1.0),
 *		and a value out of range; the DETAIL gives the range.
 */
static int64
get_int(Parse *p, JsonbContainer *c, const char *key, const char *path,
		int64 min, int64 max, bool required, int64 dflt)
{
	JsonbValue *v = member(c, key);
	char	   *s;
	char	   *end;
	long long	n;
	const char *what = psprintf("an integer from " INT64_FORMAT " to " INT64_FORMAT, min, max);

	if (v == NULL)
	{
		if (required)
			bad(p, path_key(path, key), what);
		return dflt;
	}
	if (v->type != jbvNumeric)
		bad(p, path_key(path, key), what);
	s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		bad(p, path_key(path, key), what);
	return (int64) n;
}

/*
 * Member key of c as a one-letter kind code, one of the letters in
 * allowed; 0 when absent and not required.  Refuses anything else.
 */
static char
get_kind(Parse *p, JsonbContainer *c, const char *key, const char *path,
		 const char *allowed, bool required)
{
	const char *s = get_str(p, c, key, path, required);

	if (s == NULL)
		return 0;
	if (strlen(s) != 1 || strchr(allowed, s[0]) == NULL)
		bad(p, path_key(path, key), psprintf("one of the letters \"%s\"", allowed));
	return s[0];
}

/* Member key of c as a qualified name that mgs_valid_key accepts, or NULL */
static const char *
get_key(Parse *p, JsonbContainer *c, const char *key, const char *path, bool required)
{
	const char *s = get_str(p, c, key, path, required);

	if (s && !mgs_valid_key(s, false))
		bad(p, path_key(path, key), "a qualified name written as format('%I.%I') writes it");
	return s;
}

/*
 * The callback of each_member: member i of an object, named key, with
 * value v at path; arg is the array (or TablesArg) being filled.
 */
typedef void (*MemberFn) (Parse *p, const char *key, JsonbValue *v,
						  const char *path, void *arg, int i);

/*
 * each_member
 *		Call fn for each member of object c in the container's order (jsonb
 *		sorts keys: shorter first, then bytewise), with its key, value, path
 *		and index; returns the count.  Nested containers are not descended:
 *		a member that is an object or array reaches fn as a jbvBinary, for fn
 *		to check.  Fails only through fn; interruptible between members.
 */
static int
each_member(Parse *p, JsonbContainer *c, const char *path, MemberFn fn, void *arg)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			i = 0;
	char	   *key = NULL;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = jstr(&v);
		else if (tok == WJB_VALUE)
		{
			CHECK_FOR_INTERRUPTS();
			fn(p, key, &v, path_key(path, key), arg, i++);
		}
	}
	return i;
}

/* The number of members of c, 0 for a NULL (absent) object */
static int
count_members(JsonbContainer *c)
{
	return c ? (int) JsonContainerSize(c) : 0;
}

/* Refuse an empty key where the key is an object's name */
static void
check_name(Parse *p, const char *key, const char *path)
{
	if (key[0] == '\0')
		bad(p, path, "named by a non-empty key");
}

/* ---- per collection ---- */

/*
 * MemberFn: column or composite attribute key into ((MgsColumn *) arg)[i].
 * Refuses a bad position (1..1600), a missing type, a collation that is
 * not a qualified name, and an identity other than 'a' or 'd'.
 */
static void
parse_column(Parse *p, const char *key, JsonbValue *v, const char *path, void *arg, int i)
{
	MgsColumn  *c = &((MgsColumn *) arg)[i];
	JsonbContainer *o = as_object(p, v, path);
	char		id;

	check_name(p, key, path);
	c->name = key;
	c->position = (int) get_int(p, o, "position", path, 1, 1600, true, 0);
	c->type = get_str(p, o, "type", path, true);
	c->collation = get_str(p, o, "collation", path, false);
	if (c->collation && !mgs_valid_key(c->collation, false))
		bad(p, path_key(path, "collation"), "a qualified name written as format('%I.%I') writes it");
	c->default_expr = get_str(p, o, "default", path, false);
	c->generated = get_str(p, o, "generated", path, false);
	c->not_null = get_bool(p, o, "not_null", path);
	id = get_kind(p, o, "identity", path, "ad", false);
	c->identity = id;
	c->comment = get_str(p, o, "comment", path, false);
}

/*
 * MemberFn: constraint key into ((MgsConstraint *) arg)[i]; type one of
 * p, u, c, f, x and a definition are required, references optional.
 */
static void
parse_constraint(Parse *p, const char *key, JsonbValue *v, const char *path, void *arg, int i)
{
	MgsConstraint *c = &((MgsConstraint *) arg)[i];
	JsonbContainer *o = as_object(p, v, path);

	check_name(p, key, path);
	c->name = key;
	c->type = get_kind(p, o, "type", path, "pucfx", true);
	c->definition = get_str(p, o, "definition", path, true);
	c->references = get_key(p, o, "references", path, false);
	c->comment = get_str(p, o, "comment", path, false);
}

/* MemberFn: an index or trigger key into ((MgsDef *) arg)[i] */
static void
parse_def(Parse *p, const char *key, JsonbValue *v, const char *path, void *arg, int i)
{
	MgsDef	   *c = &((MgsDef *) arg)[i];
	JsonbContainer *o = as_object(p, v, path);

	check_name(p, key, path);
	c->name = key;
	c->definition = get_str(p, o, "definition", path, true);
	c->comment = get_str(p, o, "comment", path, false);
}

#define PARSE_SUB(o, key, path, type, fn, arr, n) \
	do { \
		JsonbContainer *sub_ = opt_object(p, (o), (key), (path)); \
		(n) = count_members(sub_); \
		(arr) = palloc0(sizeof(type) * ((n) + 1)); \
		if (sub_) \
			each_member(p, sub_, path_key((path), (key)), fn, (arr)); \
	} while (0)

typedef struct TablesArg
{
	MgsTable   *tables;
	JsonbContainer *sizes;
	const char *sizes_path;
} TablesArg;

/*
 * parse_table
 *		MemberFn: table key into ta->tables[i] (arg is a TablesArg), with its
 *		columns, constraints, indexes and triggers, and its size from the
 *		document's "sizes" object (-1 when not given there).  Refuses a key
 *		that is not a qualified name and a kind other than r or p.
 */
static void
parse_table(Parse *p, const char *key, JsonbValue *v, const char *path, void *arg, int i)
{
	TablesArg  *ta = arg;
	MgsTable   *t = &ta->tables[i];
	JsonbContainer *o = as_object(p, v, path);

	if (!mgs_valid_key(key, false))
		bad(p, path, "named by a qualified name written as format('%I.%I') writes it");
	t->key = key;
	t->kind = get_kind(p, o, "kind", path, "rp", true);
	t->partition_of = get_key(p, o, "partition_of", path, false);
	t->partition_bound = get_str(p, o, "partition_bound", path, false);
	t->partition_key = get_str(p, o, "partition_key", path, false);
	t->comment = get_str(p, o, "comment", path, false);
	PARSE_SUB(o, "columns", path, MgsColumn, parse_column, t->columns, t->ncolumns);
	PARSE_SUB(o, "constraints", path, MgsConstraint, parse_constraint, t->constraints, t->nconstraints);
	PARSE_SUB(o, "indexes", path, MgsDef, parse_def, t->indexes, t->nindexes);
	PARSE_SUB(o, "triggers", path, MgsDef, parse_def, t->triggers, t->ntriggers);
	t->size_bytes = -1;
	if (ta->sizes)
	{
		JsonbValue *sv = member(ta->sizes, key);

		if (sv)
		{
			const char *sp = path_key(ta->sizes_path, key);
			JsonbContainer *so = as_object(p, sv, sp);

			t->size_bytes = get_int(p, so, "bytes", sp, -1, PG_INT64_MAX, false, -1);
		}
	}
}

/*
 * MemberFn: sequence key into ((MgsSequence *) arg)[i].  The type must be
 * smallint, integer or bigint; start, increment, min, max and cache are
 * required strings holding a 64-bit integer, kept as text; owned_by, when
 * present, needs both table and column.
 */
static void
parse_sequence(Parse *p, const char *key, JsonbValue *v, const char *path, void *arg, int i)
{
	MgsSequence *s = &((MgsSequence *) arg)[i];
	JsonbContainer *o = as_object(p, v, path);
	JsonbContainer *own;
	const char *const nums[] = {"start", "increment", "min", "max", "cache"};
	const char **dst[] = {&s->start, &s->increment, &s->min, &s->max, &s->cache};

	if (!mgs_valid_key(key, false))
		bad(p, path, "named by a qualified name written as format('%I.%I') writes it");
	s->key = key;
	s->type = get_str(p, o, "type", path, true);
	if (strcmp(s->type, "smallint") != 0 && strcmp(s->type, "integer") != 0 &&
		strcmp(s->type, "bigint") != 0)
		bad(p, path_key(path, "type"), "smallint, integer or bigint");
	for (int k = 0; k < 5; k++)
	{
		const char *n = get_str(p, o, nums[k], path, true);
		char	   *end;

		errno = 0;
		(void) strtoll(n, &end, 10);
		if (errno != 0 || *n == '\0' || *end != '\0')
			bad(p, path_key(path, nums[k]), "a string holding a 64-bit integer");
		*dst[k] = n;
	}
	s->cycle = get_bool(p, o, "cycle", path);
	own = opt_object(p, o, "owned_by", path);
	if (own)
	{
		const char *op = path_key(path, "owned_by");

		s->owned_table = get_key(p, own, "table", op, true);
		s->owned_column = get_str(p, own, "column", op, true);
	}
	s->comment = get_str(p, o, "comment", path, false);
}

/*
 * MemberFn: view or materialized view key into ((MgsView *) arg)[i], with
 * the qualified names it depends on (each checked by mgs_valid_key) and,
 * for a matview, its indexes.
 */
static void
parse_view(Parse *p, const char *key, JsonbValue *v, const char *path, void *arg, int i)
{
	MgsView    *w = &((MgsView *) arg)[i];
	JsonbContainer *o = as_object(p, v, path);
	JsonbValue *dv;

	if (!mgs_valid_key(key, false))
		bad(p, path, "named by a qualified name written as format('%I.%I') writes it");
	w->key = key;
	w->kind = get_kind(p, o, "kind", path, "vm", true);
	w->definition = get_str(p, o, "definition", path, true);
	w->comment = get_str(p, o, "comment", path, false);
	dv = member(o, "depends");
	if (dv)
	{
		const char *dp = path_key(path, "depends");
		JsonbContainer *a;
		int			n;

		if (dv->type != jbvBinary || !JsonContainerIsArray(dv->val.binary.data))
			bad(p, dp, "an array");
		a = dv->val.binary.data;
		n = (int) JsonContainerSize(a);
		w->depends = palloc0(sizeof(char *) * (n + 1));
		for (int k = 0; k < n; k++)
		{
			JsonbValue *e = getIthJsonbValueFromContainer(a, k);
			const char *ep = psprintf("%s[%d]", dp, k);

			if (e == NULL || e->type != jbvString)
				bad(p, ep, "a string");
			w->depends[k] = jstr(e);
			if (!mgs_valid_key(w->depends[k], false))
				bad(p, ep, "a qualified name written as format('%I.%I') writes it");
		}
		w->ndepends = n;
	}
	PARSE_SUB(o, "indexes", path, MgsDef, parse_def, w->indexes, w->nindexes);
}

/*
 * MemberFn: enum key into ((MgsEnum *) arg)[i]; labels is a required
 * array of strings, kept in order, each given once (quadratic in the
 * labels of one enum).
 */
static void
parse_enum(Parse *p, const char *key, JsonbValue *v, const char *path, void *arg, int i)
{
	MgsEnum    *e = &((MgsEnum *) arg)[i];
	JsonbContainer *o = as_object(p, v, path);
	JsonbValue *lv;
	const char *lp = path_key(path, "labels");
	JsonbContainer *a;
	int			n;

	if (!mgs_valid_key(key, false))
		bad(p, path, "named by a qualified name written as format('%I.%I') writes it");
	e->key = key;
	lv = member(o, "labels");
	if (lv == NULL || lv->type != jbvBinary || !JsonContainerIsArray(lv->val.binary.data))
		bad(p, lp, "an array");
	a = lv->val.binary.data;
	n = (int) JsonContainerSize(a);
	e->labels = palloc0(sizeof(char *) * (n + 1));
	for (int k = 0; k < n; k++)
	{
		JsonbValue *x = getIthJsonbValueFromContainer(a, k);

		if (x == NULL || x->type != jbvString)
			bad(p, psprintf("%s[%d]", lp, k), "a string");
		e->labels[k] = jstr(x);
		for (int j = 0; j < k; j++)
			if (strcmp(e->labels[j], e->labels[k]) == 0)
				bad(p, psprintf("%s[%d]", lp, k), "a label not given before");
	}
	e->nlabels = n;
	e->comment = get_str(p, o, "comment", path, false);
}

/*
 * MemberFn: domain key into ((MgsDomain *) arg)[i]; its constraints must
 * all be check constraints (type c).
 */
static void
parse_domain(Parse *p, const char *key, JsonbValue *v, const char *path, void *arg, int i)
{
	MgsDomain  *d = &((MgsDomain *) arg)[i];
	JsonbContainer *o = as_object(p, v, path);

	if (!mgs_valid_key(key, false))
		bad(p, path, "named by a qualified name written as format('%I.%I') writes it");
	d->key = key;
	d->type = get_str(p, o, "type", path, true);
	d->collation = get_str(p, o, "collation", path, false);
	if (d->collation && !mgs_valid_key(d->collation, false))
		bad(p, path_key(path, "collation"), "a qualified name written as format('%I.%I') writes it");
	d->default_expr = get_str(p, o, "default", path, false);
	d->not_null = get_bool(p, o, "not_null", path);
	d->comment = get_str(p, o, "comment", path, false);
	PARSE_SUB(o, "constraints", path, MgsConstraint, parse_constraint, d->constraints, d->nconstraints);
	for (int k = 0; k < d->nconstraints; k++)
		if (d->constraints[k].type != 'c')
			bad(p, path_key(path_key(path_key(path, "constraints"), d->constraints[k].name), "type"),
				"the letter \"c\"");
}

/* MemberFn: composite key into ((MgsComposite *) arg)[i]; attributes as columns */
static void
parse_composite(Parse *p, const char *key, JsonbValue *v, const char *path, void *arg, int i)
{
	MgsComposite *c = &((MgsComposite *) arg)[i];
	JsonbContainer *o = as_object(p, v, path);

	if (!mgs_valid_key(key, false))
		bad(p, path, "named by a qualified name written as format('%I.%I') writes it");
	c->key = key;
	c->comment = get_str(p, o, "comment", path, false);
	PARSE_SUB(o, "attributes", path, MgsColumn, parse_column, c->attributes, c->nattributes);
}

/*
 * MemberFn: function or procedure key into ((MgsFunction *) arg)[i]; the
 * key carries the argument types, the definition is required.
 */
static void
parse_function(Parse *p, const char *key, JsonbValue *v, const char *path, void *arg, int i)
{
	MgsFunction *f = &((MgsFunction *) arg)[i];
	JsonbContainer *o = as_object(p, v, path);

	if (!mgs_valid_key(key, true))
		bad(p, path, "named by a qualified name and its argument types in parentheses");
	f->key = key;
	f->kind = get_kind(p, o, "kind", path, "fp", true);
	f->result = get_str(p, o, "result", path, false);
	f->definition = get_str(p, o, "definition", path, true);
	f->comment = get_str(p, o, "comment", path, false);
}

/* MemberFn: extension key into ((MgsExtension *) arg)[i]; needs schema, version */
static void
parse_extension(Parse *p, const char *key, JsonbValue *v, const char *path, void *arg, int i)
{
	MgsExtension *x = &((MgsExtension *) arg)[i];
	JsonbContainer *o = as_object(p, v, path);

	check_name(p, key, path);
	x->name = key;
	x->schema = get_str(p, o, "schema", path, true);
	x->version = get_str(p, o, "version", path, true);
}

/* MemberFn: schema key into ((MgsSchema *) arg)[i] */
static void
parse_schema(Parse *p, const char *key, JsonbValue *v, const char *path, void *arg, int i)
{
	MgsSchema  *s = &((MgsSchema *) arg)[i];
	JsonbContainer *o = as_object(p, v, path);

	check_name(p, key, path);
	s->name = key;
	s->comment = get_str(p, o, "comment", path, false);
}

/*
 * The model of a document written by migrate_snapshot(); arg names the
 * argument in errors.  Refuses (22023, the path in DETAIL) anything else;
 * unknown keys are ignored.  Result sorted (mgs_model_sort), palloc'd in
 * the current context.
 */
static MgsModel *
parse_model(Jsonb *jb, const char *arg)
{
	Parse		pp = {arg};
	Parse	   *p = &pp;
	JsonbContainer *root = &jb->root;
	MgsModel   *m = palloc0(sizeof(MgsModel));
	TablesArg	ta;
	JsonbValue *fv;

	if (!JsonContainerIsObject(root) || JsonContainerIsScalar(root))
		bad(p, "$", "an object");
	fv = member(root, "format");
	if (fv == NULL || fv->type != jbvNumeric ||
		strcmp(DatumGetCString(DirectFunctionCall1(numeric_out,
												   NumericGetDatum(fv->val.numeric))), "1") != 0)
		bad(p, "$.\"format\"", "the number 1");

	PARSE_SUB(root, "schemas", "$", MgsSchema, parse_schema, m->schemas, m->nschemas);
	PARSE_SUB(root, "extensions", "$", MgsExtension, parse_extension, m->extensions, m->nextensions);
	ta.sizes = opt_object(p, root, "sizes", "$");
	ta.sizes_path = path_key("$", "sizes");
	{
		JsonbContainer *sub = opt_object(p, root, "tables", "$");

		m->ntables = count_members(sub);
		m->tables = palloc0(sizeof(MgsTable) * (m->ntables + 1));
		ta.tables = m->tables;
		if (sub)
			each_member(p, sub, path_key("$", "tables"), parse_table, &ta);
	}
	PARSE_SUB(root, "sequences", "$", MgsSequence, parse_sequence, m->sequences, m->nsequences);
	PARSE_SUB(root, "views", "$", MgsView, parse_view, m->views, m->nviews);
	PARSE_SUB(root, "enums", "$", MgsEnum, parse_enum, m->enums, m->nenums);
	PARSE_SUB(root, "domains", "$", MgsDomain, parse_domain, m->domains, m->ndomains);
	PARSE_SUB(root, "composites", "$", MgsComposite, parse_composite, m->composites, m->ncomposites);
	PARSE_SUB(root, "functions", "$", MgsFunction, parse_function, m->functions, m->nfunctions);
	mgs_model_sort(m);
	return m;
}

/* The MgsAlloc hook of the diff: allocate in the memory context ctx */
static void *
palloc_hook(void *ctx, size_t size)
{
	return MemoryContextAlloc((MemoryContext) ctx, size);
}

/*
 * migrate_diff(source jsonb, target jsonb)
 *	 RETURNS TABLE(step int, statement text, object text, hazard text, note text)
 *
 * The statements turning source into target, one row each in execution
 * order; statement NULL: a difference that is reported, not generated
 * (note says why).  Strict.  Errors: 22023 for a malformed model.
 */
Datum
migrate_diff(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Jsonb	   *src = PG_GETARG_JSONB_P(0);
	Jsonb	   *dst = PG_GETARG_JSONB_P(1);
	MgsModel   *ms;
	MgsModel   *mt;
	MgsAlloc	a;
	MgsSteps	steps;

	InitMaterializedSRF(fcinfo, 0);
	ms = parse_model(src, "source");
	mt = parse_model(dst, "target");
	a.alloc = palloc_hook;
	a.ctx = CurrentMemoryContext;
	steps = mgs_diff(ms, mt, &a);

	for (int i = 0; i < steps.nsteps; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		const MgsStep *s = &steps.steps[i];

		values[0] = Int32GetDatum(i + 1);
		if (s->statement)
			values[1] = CStringGetTextDatum(s->statement);
		else
			nulls[1] = true;
		values[2] = CStringGetTextDatum(s->object);
		if (s->hazard)
			values[3] = CStringGetTextDatum(s->hazard);
		else
			nulls[3] = true;
		if (s->note)
			values[4] = CStringGetTextDatum(s->note);
		else
			nulls[4] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
