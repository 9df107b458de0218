/*
 * test_diff.c
 *	  Unit tests of the pure schema diff (src/mg_diff.c) on models built by
 *	  hand: no server.  Checks the statements, their order, their hazards
 *	  and the reports of what is not generated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_schema.h"
#include "unit_check.h"

/* every allocation of the diff, freed at the end (it frees nothing itself) */
static void **allocs;
static size_t nallocs,
			capallocs;

static void *
test_alloc(void *ctx, size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	(void) ctx;
	if (p == NULL)
		abort();
	if (nallocs == capallocs)
	{
		capallocs = capallocs ? capallocs * 2 : 1024;
		allocs = realloc(allocs, capallocs * sizeof(void *));
		if (allocs == NULL)
			abort();
	}
	allocs[nallocs++] = p;
	return p;
}

static void
free_all(void)
{
	for (size_t i = 0; i < nallocs; i++)
		free(allocs[i]);
	free(allocs);
}

static const MgsAlloc A = {test_alloc, NULL};

/* index of the first step whose statement starts with prefix, or -1 */
static int
find_step(const MgsSteps *s, const char *prefix)
{
	for (int i = 0; i < s->nsteps; i++)
		if (s->steps[i].statement &&
			strncmp(s->steps[i].statement, prefix, strlen(prefix)) == 0)
			return i;
	return -1;
}

static int
count_reports(const MgsSteps *s)
{
	int			n = 0;

	for (int i = 0; i < s->nsteps; i++)
		if (s->steps[i].statement == NULL)
			n++;
	return n;
}

static MgsSteps
diff(MgsModel *a, MgsModel *b)
{
	mgs_model_sort(a);
	mgs_model_sort(b);
	return mgs_diff(a, b, &A);
}

static void
dump(const MgsSteps *s)
{
	if (getenv("TEST_DIFF_VERBOSE") == NULL)
		return;
	for (int i = 0; i < s->nsteps; i++)
		printf("  %d %s [%s] %s\n", i, s->steps[i].statement ? s->steps[i].statement : "(none)",
			   s->steps[i].hazard ? s->steps[i].hazard : "", s->steps[i].note ? s->steps[i].note : "");
}

static void
test_empty(void)
{
	MgsModel	a = {0},
				b = {0};
	MgsSteps	s = diff(&a, &b);

	CHECK(s.nsteps == 0, "empty to empty: %d steps", s.nsteps);
}

static void
test_table_create_and_drop(void)
{
	MgsColumn	cols[] = {
		{.name = "note", .position = 2, .type = "text"},
		{.name = "id", .position = 1, .type = "integer", .not_null = true, .identity = 'a'},
	};
	MgsConstraint cons[] = {{.name = "t_pkey", .type = 'p', .definition = "PRIMARY KEY (id)"}};
	MgsTable	t = {.key = "s.t", .kind = 'r', .columns = cols, .ncolumns = 2,
	.constraints = cons, .nconstraints = 1, .size_bytes = 8192};
	MgsModel	a = {0},
				b = {.tables = &t, .ntables = 1};
	MgsSteps	s = diff(&a, &b);

	dump(&s);
	CHECK(s.nsteps == 2, "create: %d steps", s.nsteps);
	CHECK(s.nsteps > 0 && strcmp(s.steps[0].statement,
								 "CREATE TABLE s.t (\"id\" integer NOT NULL GENERATED ALWAYS AS IDENTITY, \"note\" text)") == 0,
		  "columns in position order: %s", s.nsteps ? s.steps[0].statement : "");
	CHECK(find_step(&s, "ALTER TABLE s.t ADD CONSTRAINT \"t_pkey\" PRIMARY KEY (id)") == 1,
		  "primary key after the table");
	CHECK(s.nsteps > 1 && s.steps[1].hazard == NULL, "new table: no lock hazard");

	s = diff(&b, &a);
	dump(&s);
	CHECK(s.nsteps == 1 && strcmp(s.steps[0].statement, "DROP TABLE s.t") == 0 &&
		  strcmp(s.steps[0].hazard, MGS_HAZARD_DATA_LOSS) == 0, "drop: data_loss");
}

static MgsTable
one_column_table(MgsColumn *c, int64_t size)
{
	MgsTable	t = {.key = "s.t", .kind = 'r', .columns = c, .ncolumns = 1, .size_bytes = size};

	return t;
}

static void
test_column_changes(void)
{
	MgsColumn	ca = {.name = "v", .position = 1, .type = "character varying(10)", .default_expr = "'x'::character varying"};
	MgsColumn	cb = {.name = "v", .position = 1, .type = "character varying(20)", .not_null = true};
	MgsTable	ta = one_column_table(&ca, 8192);
	MgsTable	tb = one_column_table(&cb, 8192);
	MgsModel	a = {.tables = &ta, .ntables = 1},
				b = {.tables = &tb, .ntables = 1};
	MgsSteps	s = diff(&a, &b);
	int			drop_default,
				type,
				notnull;

	dump(&s);
	drop_default = find_step(&s, "ALTER TABLE s.t ALTER COLUMN \"v\" DROP DEFAULT");
	type = find_step(&s, "ALTER TABLE s.t ALTER COLUMN \"v\" TYPE character varying(20) USING \"v\"::character varying(20)");
	notnull = find_step(&s, "ALTER TABLE s.t ALTER COLUMN \"v\" SET NOT NULL");
	CHECK(drop_default >= 0 && type > drop_default && notnull > type,
		  "default dropped before the type change, NOT NULL after: %d %d %d", drop_default, type, notnull);
	CHECK(type >= 0 && s.steps[type].hazard == NULL, "widening varchar: no hazard");
	CHECK(notnull >= 0 && strcmp(s.steps[notnull].hazard, MGS_HAZARD_LONG_LOCK) == 0,
		  "SET NOT NULL on a table with rows: long_lock");

	/* narrowing: data loss; SET NOT NULL on an empty table: no hazard */
	ta.size_bytes = 0;
	s = diff(&b, &a);
	dump(&s);
	type = find_step(&s, "ALTER TABLE s.t ALTER COLUMN \"v\" TYPE character varying(10)");
	CHECK(type >= 0 && strcmp(s.steps[type].hazard, MGS_HAZARD_DATA_LOSS) == 0, "narrowing: data_loss");
	CHECK(find_step(&s, "ALTER TABLE s.t ALTER COLUMN \"v\" DROP NOT NULL") > type, "DROP NOT NULL");
	CHECK(find_step(&s, "ALTER TABLE s.t ALTER COLUMN \"v\" SET DEFAULT 'x'::character varying") > type,
		  "default set after the type change");

	tb.size_bytes = 0;
	ca.not_null = false;
	s = diff(&a, &b);
	notnull = find_step(&s, "ALTER TABLE s.t ALTER COLUMN \"v\" SET NOT NULL");
	CHECK(notnull >= 0 && s.steps[notnull].hazard == NULL, "SET NOT NULL on an empty table: none");

	/* int -> bigint rewrites */
	ca.type = "integer";
	cb.type = "bigint";
	ca.default_expr = NULL;
	s = diff(&a, &b);
	type = find_step(&s, "ALTER TABLE s.t ALTER COLUMN \"v\" TYPE bigint");
	CHECK(type >= 0 && strcmp(s.steps[type].hazard, MGS_HAZARD_REWRITE) == 0, "int to bigint: table_rewrite");
}

static void
test_column_order(void)
{
	MgsColumn	ca[] = {{.name = "a", .position = 1, .type = "int"}, {.name = "b", .position = 2, .type = "int"}};
	MgsColumn	cb[] = {{.name = "a", .position = 2, .type = "int"}, {.name = "b", .position = 1, .type = "int"}};
	MgsColumn	cc[] = {{.name = "a", .position = 1, .type = "int"}, {.name = "c", .position = 2, .type = "int"},
	{.name = "b", .position = 3, .type = "int"}};
	MgsColumn	cd[] = {{.name = "a", .position = 1, .type = "int"}, {.name = "b", .position = 2, .type = "int"},
	{.name = "c", .position = 3, .type = "int"}};
	MgsTable	ta = {.key = "s.t", .kind = 'r', .columns = ca, .ncolumns = 2};
	MgsTable	tb = {.key = "s.t", .kind = 'r', .columns = cb, .ncolumns = 2};
	MgsTable	tc = {.key = "s.t", .kind = 'r', .columns = cc, .ncolumns = 3};
	MgsTable	td = {.key = "s.t", .kind = 'r', .columns = cd, .ncolumns = 3};
	MgsModel	a = {.tables = &ta, .ntables = 1},
				b = {.tables = &tb, .ntables = 1},
				c = {.tables = &tc, .ntables = 1},
				d = {.tables = &td, .ntables = 1};
	MgsSteps	s = diff(&a, &b);

	CHECK(s.nsteps == 1 && s.steps[0].statement == NULL && s.steps[0].note &&
		  strstr(s.steps[0].note, "column order differs"), "order alone: one report");
	s = diff(&a, &c);
	CHECK(find_step(&s, "ALTER TABLE s.t ADD COLUMN \"c\" integer") < 0 &&
		  find_step(&s, "ALTER TABLE s.t ADD COLUMN \"c\" int") == 0 && count_reports(&s) == 1,
		  "insert in the middle: appended and reported");
	s = diff(&a, &d);
	CHECK(s.nsteps == 1 && count_reports(&s) == 0, "append: no report");
}

static void
test_views_around_column_change(void)
{
	MgsColumn	ca = {.name = "a", .position = 1, .type = "integer"};
	MgsColumn	cb = {.name = "a", .position = 1, .type = "bigint"};
	MgsTable	ta = one_column_table(&ca, 0);
	MgsTable	tb = one_column_table(&cb, 0);
	const char *dep1[] = {"s.t"};
	const char *dep2[] = {"s.v1"};
	MgsView		views[] = {
		{.key = "s.v2", .kind = 'v', .definition = " SELECT v1.a FROM s.v1;", .depends = dep2, .ndepends = 1},
		{.key = "s.v1", .kind = 'v', .definition = " SELECT t.a FROM s.t;", .depends = dep1, .ndepends = 1},
	};
	MgsView		views2[] = {views[0], views[1]};
	MgsModel	a = {.tables = &ta, .ntables = 1, .views = views, .nviews = 2},
				b = {.tables = &tb, .ntables = 1, .views = views2, .nviews = 2};
	MgsSteps	s = diff(&a, &b);
	int			d2 = find_step(&s, "DROP VIEW s.v2"),
				d1 = find_step(&s, "DROP VIEW s.v1"),
				alt = find_step(&s, "ALTER TABLE s.t ALTER COLUMN"),
				c1 = find_step(&s, "CREATE VIEW s.v1 AS  SELECT t.a FROM s.t"),
				c2 = find_step(&s, "CREATE VIEW s.v2");

	dump(&s);
	CHECK(d2 >= 0 && d1 > d2 && alt > d1 && c1 > alt && c2 > c1,
		  "views dropped dependents first, recreated after: %d %d %d %d %d", d2, d1, alt, c1, c2);
	CHECK(c1 >= 0 && strchr(s.steps[c1].statement, ';') == NULL, "no semicolon in CREATE VIEW");

	/* a column added: the views stay */
	{
		MgsColumn	cc[] = {{.name = "a", .position = 1, .type = "integer"},
		{.name = "b", .position = 2, .type = "text"}};
		MgsTable	tc = {.key = "s.t", .kind = 'r', .columns = cc, .ncolumns = 2};
		MgsModel	c = {.tables = &tc, .ntables = 1, .views = views2, .nviews = 2};

		s = diff(&a, &c);
		CHECK(s.nsteps == 1 && find_step(&s, "ALTER TABLE s.t ADD COLUMN \"b\" text") == 0,
			  "append keeps the views: %d steps", s.nsteps);
	}
}

static void
test_foreign_keys(void)
{
	MgsColumn	pc = {.name = "id", .position = 1, .type = "integer", .not_null = true};
	MgsColumn	cc = {.name = "pid", .position = 1, .type = "integer"};
	MgsConstraint pk = {.name = "p_pkey", .type = 'p', .definition = "PRIMARY KEY (id)"};
	MgsConstraint pk2 = {.name = "p_pk2", .type = 'p', .definition = "PRIMARY KEY (id)"};
	MgsConstraint fk = {.name = "c_fk", .type = 'f', .definition = "FOREIGN KEY (pid) REFERENCES s.p(id)", .references = "s.p"};
	MgsTable	tables_b[] = {
		{.key = "s.c", .kind = 'r', .columns = &cc, .ncolumns = 1, .constraints = &fk, .nconstraints = 1, .size_bytes = 100},
		{.key = "s.p", .kind = 'r', .columns = &pc, .ncolumns = 1, .constraints = &pk, .nconstraints = 1, .size_bytes = 100},
	};
	MgsTable	tables_c[] = {tables_b[0], tables_b[1]};
	MgsModel	a = {0},
				b = {.tables = tables_b, .ntables = 2},
				c = {.tables = tables_c, .ntables = 2};
	MgsSteps	s = diff(&a, &b);
	int			fkstep = find_step(&s, "ALTER TABLE s.c ADD CONSTRAINT \"c_fk\""),
				pkstep = find_step(&s, "ALTER TABLE s.p ADD CONSTRAINT \"p_pkey\""),
				tp = find_step(&s, "CREATE TABLE s.p"),
				tc = find_step(&s, "CREATE TABLE s.c");

	CHECK(tp >= 0 && tc >= 0 && pkstep > tp && pkstep > tc && fkstep > pkstep,
		  "foreign key after both tables and the key: %d %d %d %d", tc, tp, pkstep, fkstep);

	/* the referenced key rebuilt: the foreign key is dropped first, added last */
	tables_c[1].constraints = &pk2;
	s = diff(&b, &c);
	dump(&s);
	CHECK(find_step(&s, "ALTER TABLE s.c DROP CONSTRAINT \"c_fk\"") == 0 &&
		  find_step(&s, "ALTER TABLE s.p DROP CONSTRAINT \"p_pkey\"") == 1 &&
		  find_step(&s, "ALTER TABLE s.p ADD CONSTRAINT \"p_pk2\"") == 2 &&
		  find_step(&s, "ALTER TABLE s.c ADD CONSTRAINT \"c_fk\"") == 3, "fk around a rebuilt key");
	CHECK(s.nsteps == 4 && strcmp(s.steps[3].hazard, MGS_HAZARD_LONG_LOCK) == 0,
		  "validating a foreign key on a table with rows: long_lock");

	/*
	 * a second foreign key of the same table, new and NOT VALID, after one
	 * re-added around the rebuilt key: the note of the re-added one
	 * ("recreated: ...") must not carry over to it
	 */
	{
		MgsConstraint fks_c[] = {fk, {.name = "c_fk2", .type = 'f',
			.definition = "FOREIGN KEY (pid) REFERENCES s.q(id) NOT VALID", .references = "s.q"}};
		MgsTable	tables_d[] = {tables_c[0], tables_c[1]};
		MgsModel	dm = {.tables = tables_d, .ntables = 2};
		int			k1,
					k2;

		tables_d[0].constraints = fks_c;
		tables_d[0].nconstraints = 2;
		s = diff(&b, &dm);
		dump(&s);
		k1 = find_step(&s, "ALTER TABLE s.c ADD CONSTRAINT \"c_fk\"");
		k2 = find_step(&s, "ALTER TABLE s.c ADD CONSTRAINT \"c_fk2\"");
		CHECK(k1 >= 0 && s.steps[k1].hazard &&
			  strcmp(s.steps[k1].hazard, MGS_HAZARD_LONG_LOCK) == 0,
			  "the re-added foreign key validates rows: long_lock");
		CHECK(k2 >= 0 && s.steps[k2].note == NULL,
			  "a new NOT VALID foreign key after it has no note: %s",
			  k2 >= 0 && s.steps[k2].note ? s.steps[k2].note : "(none)");
	}

	/* both tables dropped: the foreign key first */
	s = diff(&b, &a);
	CHECK(find_step(&s, "ALTER TABLE s.c DROP CONSTRAINT \"c_fk\"") == 0 &&
		  find_step(&s, "DROP TABLE s.c") > 0 && find_step(&s, "DROP TABLE s.p") > 0,
		  "drops: foreign key, then tables");
}

static void
test_sequences_and_enums(void)
{
	MgsColumn	col = {.name = "id", .position = 1, .type = "integer",
	.default_expr = "nextval('s.t_id_seq'::regclass)", .not_null = true};
	MgsTable	t = one_column_table(&col, 0);
	MgsSequence seq = {.key = "s.t_id_seq", .type = "integer", .start = "1", .increment = "1",
		.min = "1", .max = "2147483647", .cache = "1", .owned_table = "s.t", .owned_column = "id"};
	const char *l1[] = {"b"};
	const char *l2[] = {"a", "b", "c"};
	MgsEnum		e1 = {.key = "s.e", .labels = l1, .nlabels = 1};
	MgsEnum		e2 = {.key = "s.e", .labels = l2, .nlabels = 3};
	MgsModel	a = {.enums = &e1, .nenums = 1},
				b = {.tables = &t, .ntables = 1, .sequences = &seq, .nsequences = 1, .enums = &e2, .nenums = 1};
	MgsSteps	s = diff(&a, &b);
	int			cs = find_step(&s, "CREATE SEQUENCE s.t_id_seq AS integer"),
				ct = find_step(&s, "CREATE TABLE s.t"),
				own = find_step(&s, "ALTER SEQUENCE s.t_id_seq OWNED BY s.t.\"id\"");

	dump(&s);
	CHECK(cs >= 0 && ct > cs && own > ct, "sequence, table, ownership: %d %d %d", cs, ct, own);
	CHECK(find_step(&s, "ALTER TYPE s.e ADD VALUE 'a' BEFORE 'b'") >= 0 &&
		  find_step(&s, "ALTER TYPE s.e ADD VALUE 'c' AFTER 'b'") >= 0, "enum labels added in place");

	s = diff(&b, &a);
	dump(&s);
	CHECK(find_step(&s, "DROP SEQUENCE") < 0, "an owned sequence goes with its table");
	CHECK(count_reports(&s) == 1, "enum labels removed: reported, not generated");

	/* labels added to an enum that had none: the first one plainly */
	{
		MgsEnum		e0 = {.key = "s.e", .labels = NULL, .nlabels = 0};
		const char *l3[] = {"x"};
		MgsEnum		e3 = {.key = "s.e", .labels = l3, .nlabels = 1};
		MgsModel	m0 = {.enums = &e0, .nenums = 1},
					m1 = {.enums = &e2, .nenums = 1},
					m3 = {.enums = &e3, .nenums = 1};

		s = diff(&m0, &m3);
		dump(&s);
		CHECK(s.nsteps == 1 && strcmp(s.steps[0].statement, "ALTER TYPE s.e ADD VALUE 'x'") == 0,
			  "one label into an empty enum: %s", s.nsteps ? s.steps[0].statement : "(none)");
		s = diff(&m0, &m1);
		dump(&s);
		CHECK(s.nsteps == 3 && strcmp(s.steps[0].statement, "ALTER TYPE s.e ADD VALUE 'a'") == 0 &&
			  strcmp(s.steps[1].statement, "ALTER TYPE s.e ADD VALUE 'b' AFTER 'a'") == 0 &&
			  strcmp(s.steps[2].statement, "ALTER TYPE s.e ADD VALUE 'c' AFTER 'b'") == 0,
			  "three labels into an empty enum");
	}
}

static void
test_domains_and_composites(void)
{
	MgsConstraint c1 = {.name = "pos", .type = 'c', .definition = "CHECK ((VALUE > 0))"};
	MgsConstraint c2 = {.name = "pos", .type = 'c', .definition = "CHECK ((VALUE > 1))"};
	MgsDomain	d1 = {.key = "s.d", .type = "integer", .constraints = &c1, .nconstraints = 1};
	MgsDomain	d2 = {.key = "s.d", .type = "integer", .not_null = true, .default_expr = "1",
	.constraints = &c2, .nconstraints = 1};
	MgsDomain	d3 = {.key = "s.d", .type = "bigint"};
	MgsColumn	a1[] = {{.name = "x", .position = 1, .type = "integer"}, {.name = "y", .position = 2, .type = "text"}};
	MgsColumn	a2[] = {{.name = "y", .position = 1, .type = "text"}, {.name = "x", .position = 2, .type = "integer"}};
	MgsComposite k1 = {.key = "s.c", .attributes = a1, .nattributes = 2};
	MgsComposite k2 = {.key = "s.c", .attributes = a2, .nattributes = 2};
	MgsColumn	col = {.name = "v", .position = 1, .type = "s.d"};
	MgsTable	t = one_column_table(&col, 0);
	MgsModel	empty = {0},
				a = {.domains = &d1, .ndomains = 1, .composites = &k1, .ncomposites = 1, .tables = &t, .ntables = 1},
				b = {.domains = &d2, .ndomains = 1, .composites = &k2, .ncomposites = 1},
				c = {.domains = &d3, .ndomains = 1};
	MgsSteps	s = diff(&empty, &a);
	int			cd = find_step(&s, "CREATE DOMAIN s.d AS integer"),
				cc = find_step(&s, "ALTER DOMAIN s.d ADD CONSTRAINT \"pos\" CHECK ((VALUE > 0))"),
				ck = find_step(&s, "CREATE TYPE s.c AS (\"x\" integer, \"y\" text)"),
				ct = find_step(&s, "CREATE TABLE s.t");

	dump(&s);
	CHECK(cd >= 0 && cc > cd && ck > cd && ct > ck, "domain, its check, composite, table: %d %d %d %d", cd, cc, ck, ct);

	s = diff(&a, &b);
	dump(&s);
	CHECK(find_step(&s, "ALTER DOMAIN s.d DROP CONSTRAINT \"pos\"") >= 0 &&
		  find_step(&s, "ALTER DOMAIN s.d SET DEFAULT 1") >= 0 &&
		  find_step(&s, "ALTER DOMAIN s.d SET NOT NULL") >= 0 &&
		  find_step(&s, "ALTER DOMAIN s.d ADD CONSTRAINT \"pos\" CHECK ((VALUE > 1))") >
		  find_step(&s, "ALTER DOMAIN s.d DROP CONSTRAINT \"pos\""), "domain altered in place");
	CHECK(count_reports(&s) == 1, "composite attribute order: reported");
	CHECK(find_step(&s, "DROP TABLE s.t") >= 0 && find_step(&s, "DROP DOMAIN") < 0,
		  "the table dropped, the domain kept");

	s = diff(&b, &c);
	CHECK(count_reports(&s) == 1 && find_step(&s, "DROP TYPE s.c") >= 0, "base type change: reported; composite dropped");
	s = diff(&a, &empty);
	CHECK(find_step(&s, "DROP TABLE s.t") >= 0 && find_step(&s, "DROP TYPE s.c") > find_step(&s, "DROP TABLE s.t") &&
		  find_step(&s, "DROP DOMAIN s.d") > find_step(&s, "DROP TYPE s.c"), "table, composite, domain dropped in that order");
}

static void
test_partitions(void)
{
	MgsColumn	pc = {.name = "k", .position = 1, .type = "integer"};
	MgsColumn	cc = {.name = "k", .position = 1, .type = "integer"};
	MgsDef		ix = {.name = "p_k", .definition = "CREATE INDEX p_k ON ONLY s.p USING btree (k)"};
	MgsTable	tables[] = {
		{.key = "s.p", .kind = 'p', .partition_key = "LIST (k)", .columns = &pc, .ncolumns = 1, .indexes = &ix, .nindexes = 1},
		{.key = "s.p1", .kind = 'r', .partition_of = "s.p", .partition_bound = "FOR VALUES IN (1)", .columns = &cc, .ncolumns = 1},
	};
	MgsModel	empty = {0},
				a = {.tables = tables, .ntables = 2};
	MgsSteps	s = diff(&empty, &a);
	int			p = find_step(&s, "CREATE TABLE s.p (\"k\" integer) PARTITION BY LIST (k)"),
				p1 = find_step(&s, "CREATE TABLE s.p1 PARTITION OF s.p FOR VALUES IN (1)"),
				i = find_step(&s, "CREATE INDEX p_k ON s.p USING btree (k)");

	dump(&s);
	CHECK(p >= 0 && p1 > p && i > p1, "parent, partition, index on the whole tree: %d %d %d", p, p1, i);
	s = diff(&a, &empty);
	CHECK(s.nsteps == 1 && find_step(&s, "DROP TABLE s.p") == 0, "the partition goes with its parent");
}

static void
test_quoting_and_keys(void)
{
	CHECK(strcmp(mgs_quote_ident(&A, "a\"b"), "\"a\"\"b\"") == 0, "quote_ident");
	CHECK(strcmp(mgs_quote_literal(&A, "it's"), "'it''s'") == 0, "quote_literal");
	CHECK(strcmp(mgs_quote_literal(&A, NULL), "NULL") == 0, "quote_literal NULL");
	CHECK(mgs_valid_key("s.t", false), "plain key");
	CHECK(mgs_valid_key("\"My Schema\".\"a\"\"b\"", false), "quoted key");
	CHECK(!mgs_valid_key("s.t; DROP TABLE x", false), "injection refused");
	CHECK(!mgs_valid_key("s", false), "unqualified refused");
	CHECK(!mgs_valid_key("\"s.t", false), "unterminated quote refused");
	CHECK(!mgs_valid_key("S.t", false), "upper case unquoted refused");
	CHECK(!mgs_valid_key("", false), "empty refused");
	CHECK(mgs_valid_key("s.f(integer, text)", true), "function key");
	CHECK(!mgs_valid_key("s.f(); DROP TABLE x --()", true), "function key with statement refused");
	CHECK(!mgs_valid_key("s.f(integer", true), "unbalanced refused");
	CHECK(!mgs_valid_key("s.f() x", true), "trailing text refused");
}

/* ---- random models: the diff never crashes, whatever the model says ---- */

static unsigned long rng = 12345;

static unsigned
rnd(unsigned n)
{
	rng = rng * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned) ((rng >> 33) % n);
}

static const char *const keys[] = {"s.a", "s.b", "s.c", "s.d", "\"S\".\"x y\""};
static const char *const names[] = {"a", "b", "c", "id", "x\"y"};
static const char *const types[] = {"integer", "bigint", "text", "character varying(10)",
"character varying(5)", "numeric(10,2)", "numeric", "character(3)", "weird(", "a(1,2,3)"};

static const char *
maybe(const char *s)
{
	return rnd(3) ? NULL : s;
}

/*
 * A model the parser would accept but that need not be consistent:
 * references to missing tables, views reading each other in a cycle,
 * partitions of themselves, columns at the same position.
 */
static void
random_model(MgsModel *m)
{
	memset(m, 0, sizeof(*m));
	m->ntables = (int) rnd(4);
	m->tables = test_alloc(NULL, sizeof(MgsTable) * 4);
	for (int i = 0; i < m->ntables; i++)
	{
		MgsTable   *t = &m->tables[i];

		t->key = keys[i];
		t->kind = rnd(4) ? 'r' : 'p';
		t->partition_of = rnd(4) ? NULL : keys[rnd(5)];
		t->partition_bound = maybe("FOR VALUES IN (1)");
		t->partition_key = maybe("LIST (a)");
		t->size_bytes = (int64_t) rnd(3) - 1;
		t->comment = maybe("c'mt");
		t->ncolumns = (int) rnd(4);
		t->columns = test_alloc(NULL, sizeof(MgsColumn) * 4);
		for (int k = 0; k < t->ncolumns; k++)
		{
			MgsColumn  *c = &t->columns[k];

			c->name = names[(k + rnd(2)) % 5];
			c->position = 1 + (int) rnd(4);
			c->type = types[rnd(10)];
			c->collation = maybe("pg_catalog.\"C\"");
			c->default_expr = maybe("0");
			c->generated = rnd(5) ? NULL : (rnd(2) ? "(a * 2)" : "(a * 3)");
			c->not_null = rnd(2);
			c->identity = rnd(4) ? 0 : (rnd(2) ? 'a' : 'd');
			c->comment = maybe("x");
		}
		/* names must be unique for the lookups: keep only distinct ones */
		for (int k = 1; k < t->ncolumns; k++)
			for (int j = 0; j < k; j++)
				if (strcmp(t->columns[j].name, t->columns[k].name) == 0)
				{
					t->ncolumns = k;
					break;
				}
		t->nconstraints = (int) rnd(3);
		t->constraints = test_alloc(NULL, sizeof(MgsConstraint) * 3);
		for (int k = 0; k < t->nconstraints; k++)
		{
			MgsConstraint *c = &t->constraints[k];

			c->name = k ? "k2" : "k1";
			c->type = "pucfx"[rnd(5)];
			c->definition = rnd(2) ? "CHECK (true)" : "CHECK (true) NOT VALID";
			c->references = c->type == 'f' ? keys[rnd(5)] : NULL;
		}
		t->nindexes = (int) rnd(2);
		t->indexes = test_alloc(NULL, sizeof(MgsDef));
		t->indexes[0].name = "ix";
		t->indexes[0].definition = rnd(2) ? "CREATE UNIQUE INDEX ix ON ONLY s.a USING btree (a)" : "CREATE INDEX ix";
		t->ntriggers = (int) rnd(2);
		t->triggers = test_alloc(NULL, sizeof(MgsDef));
		t->triggers[0].name = "tg";
		t->triggers[0].definition = rnd(2) ? "CREATE TRIGGER tg" : "CREATE TRIGGER tg2";
	}
	m->nviews = (int) rnd(3);
	m->views = test_alloc(NULL, sizeof(MgsView) * 3);
	for (int i = 0; i < m->nviews; i++)
	{
		MgsView    *v = &m->views[i];

		v->key = i ? "s.v2" : "s.v1";
		v->kind = rnd(2) ? 'v' : 'm';
		v->definition = rnd(2) ? " SELECT 1;" : " SELECT 2;\n";
		v->ndepends = (int) rnd(3);
		v->depends = test_alloc(NULL, sizeof(char *) * 3);
		for (int k = 0; k < v->ndepends; k++)
			v->depends[k] = rnd(2) ? keys[rnd(5)] : (rnd(2) ? "s.v1" : "s.v2");
		v->nindexes = (int) rnd(2);
		v->indexes = test_alloc(NULL, sizeof(MgsDef));
		v->indexes[0].name = "vx";
		v->indexes[0].definition = "CREATE INDEX vx";
	}
	m->nsequences = (int) rnd(2);
	m->sequences = test_alloc(NULL, sizeof(MgsSequence));
	m->sequences[0] = (MgsSequence) {.key = "s.q", .type = "bigint", .start = "1", .increment = rnd(2) ? "1" : "2",
	.min = "1", .max = "9", .cache = "1", .owned_table = maybe("s.a"), .owned_column = "a"};
	m->nenums = (int) rnd(2);
	m->enums = test_alloc(NULL, sizeof(MgsEnum));
	{
		static const char *l1[] = {"x", "y", "z"};
		static const char *l2[] = {"z", "x"};

		m->enums[0] = rnd(2) ? (MgsEnum) {.key = "s.e", .labels = l1, .nlabels = (int) rnd(4)}
		: (MgsEnum) {.key = "s.e", .labels = l2, .nlabels = 2};
	}
	m->ndomains = (int) rnd(2);
	m->domains = test_alloc(NULL, sizeof(MgsDomain));
	m->domains[0] = (MgsDomain) {.key = "s.dm", .type = rnd(2) ? "integer" : "text", .not_null = rnd(2),
	.default_expr = maybe("1"), .constraints = m->tables && m->ntables ? m->tables[0].constraints : NULL,
	.nconstraints = m->ntables ? m->tables[0].nconstraints : 0};
	m->ncomposites = (int) rnd(2);
	m->composites = test_alloc(NULL, sizeof(MgsComposite));
	m->composites[0] = (MgsComposite) {.key = "s.ct", .attributes = m->ntables ? m->tables[0].columns : NULL,
	.nattributes = m->ntables ? m->tables[0].ncolumns : 0};
	m->nfunctions = (int) rnd(2);
	m->functions = test_alloc(NULL, sizeof(MgsFunction));
	m->functions[0] = (MgsFunction) {.key = "s.f()", .kind = rnd(2) ? 'f' : 'p', .result = maybe("integer"),
	.definition = rnd(2) ? "CREATE FUNCTION 1" : "CREATE FUNCTION 2"};
	m->nextensions = (int) rnd(2);
	m->extensions = test_alloc(NULL, sizeof(MgsExtension));
	m->extensions[0] = (MgsExtension) {.name = "ext", .schema = rnd(2) ? "s" : "t", .version = rnd(2) ? "1" : "2"};
	m->nschemas = (int) rnd(2);
	m->schemas = test_alloc(NULL, sizeof(MgsSchema));
	m->schemas[0] = (MgsSchema) {.name = "s", .comment = maybe("sc")};
}

static void
test_random_models(void)
{
	int			runs = 3000;
	int			ok = 0;

	for (int i = 0; i < runs; i++)
	{
		MgsModel	a,
					b;
		MgsSteps	s;
		bool		good = true;

		random_model(&a);
		random_model(&b);
		s = diff(&a, &b);
		for (int k = 0; k < s.nsteps; k++)
			if (s.steps[k].object == NULL || (s.steps[k].statement == NULL && s.steps[k].note == NULL))
				good = false;
		/* a model against itself: nothing to do, nothing to report */
		s = diff(&a, &a);
		for (int k = 0; k < s.nsteps; k++)
			if (s.steps[k].statement != NULL)
				good = false;
		ok += good;
	}
	CHECK(ok == runs, "random models: every step names its object, a model equals itself (%d of %d)", ok, runs);
}

int
main(void)
{
	test_empty();
	test_table_create_and_drop();
	test_column_changes();
	test_column_order();
	test_views_around_column_change();
	test_foreign_keys();
	test_sequences_and_enums();
	test_domains_and_composites();
	test_partitions();
	test_quoting_and_keys();
	test_random_models();
	free_all();
	printf("test_diff: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
