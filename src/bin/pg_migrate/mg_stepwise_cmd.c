/*-------------------------------------------------------------------------
 *
 * mg_stepwise_cmd.c
 *	  pg_migrate upgrade --stepwise and downgrade --stepwise: every revision
 *	  in a transaction of its own (issue 14, item 2).
 *
 * The work is the server's: CALL migrate_upgrade_stepwise($1) or
 * migrate_downgrade_stepwise($1), which commits after each revision.  A
 * CALL that commits cannot run inside a transaction block, so it is sent
 * in autocommit, unlike every other command of pg_migrate (which wraps its
 * work in BEGIN ISOLATION LEVEL READ COMMITTED; the procedure takes the
 * same lock and reads with a new snapshot per step).  The steps are the
 * procedure's NOTICEs as for upgrade; after the call the log rows it
 * committed are printed as the table upgrade prints (revision, direction,
 * message, duration).  When the call fails, the revisions committed
 * before the failure stay applied; they are printed too, and the exit
 * status says that the call failed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "pg_migrate.h"

/*
 * Remove every --stepwise from argv (getopt of the common database options
 * must not see it); returns whether there was one.  Options after "--"
 * are operands and stay.
 */
bool
stepwise_option(int *argc, char **argv)
{
	bool		found = false;
	int			out = 1;

	for (int i = 1; i < *argc; i++)
	{
		if (strcmp(argv[i], "--") == 0)
		{
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--stepwise") == 0)
		{
			found = true;
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc = out;
	return found;
}

/*
 * Connect, CALL procedure (migrate_upgrade_stepwise or
 * migrate_downgrade_stepwise) with target in autocommit, and print the
 * log rows it committed.  Returns the exit status.
 */
int
run_stepwise_call(const char *procedure, const char *target)
{
	const char *params[1] = {target};
	const char *since[1];
	char	   *sql;
	PGresult   *res;
	PGresult   *log;
	bool		ok;
	char	   *last;

	connect_db(false);
	require_extension();
	sql = psprintf("SELECT COALESCE(pg_catalog.max(id), 0)::text FROM %s.migrate_log",
				   ext_schema);
	res = run_query(sql, 0, NULL);
	if (res == NULL)
	{
		close_db();
		return EXIT_FAILED;
	}
	last = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);

	sql = psprintf("CALL %s.%s($1)", ext_schema, procedure);
	res = run_query(sql, 1, params);
	ok = (res != NULL);
	PQclear(res);

	/* the steps committed by this call, failed or not */
	since[0] = last;
	sql = psprintf("SELECT revision, direction, "
				   "(SELECT r.message FROM %s.migrate_revision AS r WHERE r.revision = l.revision) AS message, "
				   "duration FROM %s.migrate_log AS l WHERE id > $1::bigint ORDER BY id",
				   ext_schema, ext_schema);
	log = run_query(sql, 1, since);
	if (log != NULL)
	{
		if (ok || PQntuples(log) > 0)
			print_result(log);
		PQclear(log);
	}
	if (!ok)
	{
		close_db();
		return EXIT_FAILED;
	}
	PQfinish(conn);
	return 0;
}
