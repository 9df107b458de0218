/*-------------------------------------------------------------------------
 *
 * mg_adopt.c
 *	  pg_migrate adopt-alembic: take over a database that Alembic migrated.
 *
 * The revisions are registered already (pg_migrate load of the imported
 * or hand-written revision files, with Alembic's revision ids).  adopt
 * reads Alembic's version table, checks that each row names a registered
 * revision, and stamps migrate_version to the same state; with
 * --keep-alembic-version it then asks the extension to keep Alembic's table
 * in step from now on (migrate_keep_alembic_version).  Alembic's table is
 * left as it was.  Everything happens in one transaction that holds the
 * extension's advisory lock from the start, so no migration runs between
 * the read and the stamp.
 *
 * Alembic 1.8 can leave a row next to one of its ancestors (its bug #1373,
 * a stamp over a partly applied branch); such a row states nothing the
 * other rows do not, and the extension's version table never holds one, so
 * it is left out of the stamp and a warning names it.  The graph for that
 * is the registered one, read into the core here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"
#include "pqexpbuffer.h"

#include "pg_migrate.h"

/* Options of adopt-alembic */
typedef struct AdoptOpts
{
	const char *table;			/* --version-table */
	const char *schema;			/* --version-table-schema, or NULL */
	bool		keep;			/* --keep-alembic-version */
} AdoptOpts;

static void
parse_adopt_options(int argc, char **argv, AdoptOpts *opts)
{
	static struct option long_options[] = {
		CONN_LONG_OPTIONS,
		{"version-table", required_argument, NULL, 1},
		{"version-table-schema", required_argument, NULL, 2},
		{"keep-alembic-version", no_argument, NULL, 3},
		HELP_LONG_OPTION,
		{NULL, 0, NULL, 0}
	};
	int			c;

	opts->table = "alembic_version";
	opts->schema = NULL;
	opts->keep = false;
	while ((c = getopt_long(argc, argv, CONN_SHORT_OPTIONS, long_options, NULL)) != -1)
	{
		if (conn_option(c))
			continue;
		switch (c)
		{
			case 1:
				opts->table = optarg;
				break;
			case 2:
				opts->schema = optarg;
				break;
			case 3:
				opts->keep = true;
				break;
			case HELP_OPTION:
				usage();
				exit(0);
			default:
				bad_option();
		}
	}
	if (optind < argc)
		usage_error("adopt-alembic takes no arguments");
	if (opts->table[0] == '\0' || (opts->schema && opts->schema[0] == '\0'))
		usage_error("--version-table and --version-table-schema must not be empty");
}

/*
 * The registered graph, as the server would build it: one revision per
 * row of migrate_revision in registration order.  NULL after reporting.
 */
static MgGraph *
read_registered_graph(void)
{
	char	   *sql = psprintf("SELECT revision,"
							   " pg_catalog.array_to_string(down_revisions, ','),"
							   " pg_catalog.array_to_string(depends_on, ','),"
							   " pg_catalog.array_to_string(branch_labels, ',')"
							   " FROM %s.migrate_revision ORDER BY seq", ext_schema);
	PGresult   *res = run_query(sql, 0, NULL);
	MgGraph    *g;
	MgError		err;

	free(sql);
	if (res == NULL)
		return NULL;
	g = mg_graph_new();
	for (int i = 0; i < PQntuples(res); i++)
	{
		char	   *lists[3];
		char	  **items[3];
		int			n[3];
		MgRevInput	in;

		for (int k = 0; k < 3; k++)
		{
			lists[k] = pg_strdup(PQgetvalue(res, i, k + 1));
			items[k] = pg_malloc(sizeof(char *) * (strlen(lists[k]) / 2 + 2));
			n[k] = 0;
			for (char *tok = strtok(lists[k], ","); tok; tok = strtok(NULL, ","))
				items[k][n[k]++] = tok;
		}
		memset(&in, 0, sizeof(in));
		in.id = PQgetvalue(res, i, 0);
		in.down = (const char *const *) items[0];
		in.ndown = n[0];
		in.deps = (const char *const *) items[1];
		in.ndeps = n[1];
		in.labels = (const char *const *) items[2];
		in.nlabels = n[2];
		in.tag = i;
		mg_graph_add(g, &in);	/* copies what it keeps */
		for (int k = 0; k < 3; k++)
		{
			free(items[k]);
			free(lists[k]);
		}
	}
	PQclear(res);
	if (!mg_graph_finish(g, &err))
	{
		report_mg_error(&err);
		mg_graph_free(g);
		return NULL;
	}
	return g;
}

/*
 * Find Alembic's table: schema.table, or with no schema the table that
 * search_path finds (Alembic's unqualified name).  Returns the quoted,
 * qualified name and sets *schema_out, or NULL after reporting.
 */
static char *
find_alembic_table(const AdoptOpts *opts, char **schema_out)
{
	const char *params[2] = {opts->table, opts->schema};
	PGresult   *res;
	char	   *qs;
	char	   *qt;
	char	   *qualified;

	if (opts->schema)
		res = run_query("SELECT n.nspname FROM pg_catalog.pg_class AS c"
						" JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
						" WHERE c.relname OPERATOR(pg_catalog.=) $1"
						" AND n.nspname OPERATOR(pg_catalog.=) $2"
						" AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}')", 2, params);
	else
		res = run_query("SELECT n.nspname FROM pg_catalog.pg_class AS c"
						" JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
						" WHERE c.oid OPERATOR(pg_catalog.=)"
						" pg_catalog.to_regclass(pg_catalog.quote_ident($1))"
						" AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}')", 1, params);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) == 0)
	{
		if (opts->schema)
			pg_log_error("Alembic version table \"%s.%s\" does not exist",
						 esc(opts->schema), esc(opts->table));
		else
		{
			pg_log_error("Alembic version table \"%s\" does not exist", esc(opts->table));
			pg_log_error_detail("No schema of search_path holds a table of that name.");
		}
		pg_log_error_hint("Give --version-table and --version-table-schema as Alembic's version_table and version_table_schema settings (env.py) name it.");
		PQclear(res);
		return NULL;
	}
	*schema_out = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	qs = PQescapeIdentifier(conn, *schema_out, strlen(*schema_out));
	qt = PQescapeIdentifier(conn, opts->table, strlen(opts->table));
	qualified = psprintf("%s.%s", qs, qt);
	PQfreemem(qs);
	PQfreemem(qt);
	return qualified;
}

/*
 * The rows of Alembic's table that name no registered revision, reported
 * as one error; false when there is any.
 */
static bool
check_rows_registered(MgGraph *g, char **rows, int nrows, const char *table)
{
	PQExpBufferData list;
	int			nunknown = 0;

	initPQExpBuffer(&list);
	for (int i = 0; i < nrows; i++)
		if (mg_lookup(g, rows[i]) < 0)
			appendPQExpBuffer(&list, "%s\"%s\"", nunknown++ ? ", " : "", rows[i]);
	if (nunknown > 0)
	{
		if (nunknown == 1)
			pg_log_error("%s names a revision that is not registered", esc(table));
		else
			pg_log_error("%s names %d revisions that are not registered", esc(table), nunknown);
		pg_log_error_detail("Not registered: %s.", esc(list.data));
		pg_log_error_hint("Register the project's revisions first (\"%s load DIR...\" of the files that import-alembic wrote).",
						  progname);
	}
	termPQExpBuffer(&list);
	return nunknown == 0;
}

/*
 * The minimal set of rows: a row that the other rows already apply (an
 * ancestor of one of them, through down_revisions or depends_on) is left
 * out, with a warning.  Returns the kept rows joined by spaces, or "base"
 * when there are none.
 */
static char *
minimal_rows(MgGraph *g, char **rows, int nrows)
{
	PQExpBufferData out;
	bool	   *dropped = pg_malloc0(sizeof(bool) * (nrows + 1));
	int		   *idx = pg_malloc(sizeof(int) * (nrows + 1));
	char	   *result;
	int			kept = 0;

	for (int i = 0; i < nrows; i++)
	{
		MgList		others;
		bool	   *applied;
		int			rev = mg_lookup(g, rows[i]);

		others.items = idx;
		others.n = 0;
		for (int j = 0; j < nrows; j++)
			if (j != i && !dropped[j])
				idx[others.n++] = mg_lookup(g, rows[j]);
		applied = mg_applied(g, others);
		if (applied[rev])
		{
			dropped[i] = true;
			pg_log_warning("row \"%s\" of the Alembic version table is implied by its other rows",
						   esc(rows[i]));
			pg_log_warning_detail("It is an ancestor of another row (a state Alembic 1.8's bug #1373 can leave); migrate_version is stamped without it.");
		}
	}
	initPQExpBuffer(&out);
	for (int i = 0; i < nrows; i++)
		if (!dropped[i])
			appendPQExpBuffer(&out, "%s%s", kept++ ? " " : "", rows[i]);
	if (kept == 0)
		appendPQExpBufferStr(&out, "base");
	result = pg_strdup(out.data);
	termPQExpBuffer(&out);
	free(dropped);
	free(idx);
	return result;
}

/* Run one query of the adoption; NULL-safe PQclear */
static bool
adopt_query(const char *sql, int nparams, const char *const *params, PGresult **out)
{
	PGresult   *res = run_query(sql, nparams, params);

	if (res == NULL)
		return false;
	if (out)
		*out = res;
	else
		PQclear(res);
	return true;
}

/* The adoption, inside the transaction; false after reporting */
static bool
adopt(const AdoptOpts *opts)
{
	char	   *lock_sql = psprintf("SELECT pg_catalog.pg_advisory_xact_lock(%lld)",
									(long long) MG_ADVISORY_LOCK_KEY_VALUE);
	char	   *schema;
	char	   *table;
	char	   *sql;
	PGresult   *res;
	char	  **rows;
	int			nrows;
	MgGraph    *g;
	char	   *target;
	char	   *old_schema = NULL;
	char	   *old_table = NULL;
	const char *params[2];

	if (!adopt_query(lock_sql, 0, NULL, NULL))
		return false;
	free(lock_sql);
	if ((table = find_alembic_table(opts, &schema)) == NULL)
		return false;

	sql = psprintf("SELECT version_num::pg_catalog.text FROM %s ORDER BY 1", table);
	if (!adopt_query(sql, 0, NULL, &res))
		return false;
	free(sql);
	nrows = PQntuples(res);
	rows = pg_malloc(sizeof(char *) * (nrows + 1));
	for (int i = 0; i < nrows; i++)
		rows[i] = pg_strdup(PQgetvalue(res, i, 0));
	PQclear(res);
	pg_log_info("%s: %d rows", esc(table), nrows);

	if ((g = read_registered_graph()) == NULL)
		return false;
	if (!check_rows_registered(g, rows, nrows, table))
		return false;
	target = minimal_rows(g, rows, nrows);
	if (nrows == 0)
		pg_log_info("%s is empty: the database is at base", esc(table));

	/* the state the stamp replaces, when there is one: said, not lost */
	sql = psprintf("SELECT pg_catalog.string_agg(revision, ' ' ORDER BY revision)"
				   " FROM %s.migrate_version", ext_schema);
	if (!adopt_query(sql, 0, NULL, &res))
		return false;
	free(sql);
	if (!PQgetisnull(res, 0, 0) && strcmp(PQgetvalue(res, 0, 0), target) != 0)
	{
		pg_log_warning("migrate_version held other rows: %s", esc(PQgetvalue(res, 0, 0)));
		pg_log_warning_detail("They are replaced by the state of %s.", esc(table));
	}
	PQclear(res);

	/* a table kept already would be rewritten by the stamp: not now */
	sql = psprintf("SELECT version_table_schema, version_table FROM %s.migrate_alembic_version",
				   ext_schema);
	if (!adopt_query(sql, 0, NULL, &res))
		return false;
	free(sql);
	if (PQntuples(res) > 0)
	{
		old_schema = pg_strdup(PQgetvalue(res, 0, 0));
		old_table = pg_strdup(PQgetvalue(res, 0, 1));
		sql = psprintf("SELECT %s.migrate_forget_alembic_version()", ext_schema);
		if (!adopt_query(sql, 0, NULL, NULL))
			return false;
		free(sql);
	}
	PQclear(res);

	params[0] = target;
	sql = psprintf("SELECT revision FROM %s.migrate_stamp($1, true)", ext_schema);
	if (!adopt_query(sql, 1, params, &res))
		return false;
	free(sql);
	print_result(res);
	PQclear(res);

	if (opts->keep || old_table)
	{
		params[0] = opts->keep ? opts->table : old_table;
		params[1] = opts->keep ? schema : old_schema;
		sql = psprintf("SELECT %s.migrate_keep_alembic_version($1, $2)", ext_schema);
		if (!adopt_query(sql, 2, params, &res))
			return false;
		free(sql);
		printf("kept in step with migrate_version: %s\n", esc(PQgetvalue(res, 0, 0)));
		PQclear(res);
	}
	for (int i = 0; i < nrows; i++)
		free(rows[i]);
	free(rows);
	free(target);
	mg_graph_free(g);
	return true;
}

/*
 * pg_migrate adopt-alembic [--version-table NAME]
 *		[--version-table-schema SCHEMA] [--keep-alembic-version]
 */
int
cmd_adopt_alembic(int argc, char **argv)
{
	AdoptOpts	opts;

	parse_adopt_options(argc, argv, &opts);
	connect_db(false);
	require_extension();
	if (!begin_transaction() || !adopt(&opts) || !run_command("COMMIT"))
	{
		close_db();
		return EXIT_FAILED;
	}
	PQfinish(conn);
	return 0;
}
