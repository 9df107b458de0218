/*-------------------------------------------------------------------------
 *
 * mg_roundtrip_cmd.c
 *	  pg_migrate roundtrip [TARGET]: the extension's migrate_roundtrip(),
 *	  for CI (issue 12, item 5).
 *
 * The command connects (mg_dbcmds.c's connection and queries), calls
 * migrate_roundtrip(TARGET) in a transaction it then rolls back (the
 * function has already rolled back everything it ran), and says whether
 * every downgrade undid its upgrade: exit 0 and one line when there is no
 * difference, exit 1 and the differences as a table (revision, phase,
 * object, difference) otherwise.  The NOTICE of each step run is shown
 * with -v only: the passes run every step three or four times.
 *
 * This file owns that command only.  It must not plan, run bodies or
 * compare schemas itself: the extension does, in migrate_roundtrip().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"

#include "pg_migrate.h"

/*
 * Notices of the server: the steps' NOTICE lines with -v only, anything
 * more severe (a body's WARNING) always.
 */
static void
roundtrip_notice_receiver(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *shown = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (primary == NULL)
		return;
	if (verbosity == 0 && severity &&
		(strcmp(severity, "NOTICE") == 0 || strcmp(severity, "INFO") == 0 ||
		 strcmp(severity, "LOG") == 0 || strncmp(severity, "DEBUG", 5) == 0))
		return;
	fprintf(stderr, "%s:  %s\n", shown ? esc(shown) : "NOTICE", esc(primary));
	fflush(stderr);
}

/* pg_migrate roundtrip [TARGET] */
int
cmd_roundtrip(int argc, char **argv)
{
	int			first = parse_db_options(argc, argv, NULL);
	const char *params[1];
	char	   *sql;
	PGresult   *res;
	int			n;

	if (argc - first > 1)
		usage_error("roundtrip takes at most one target");
	params[0] = argc > first ? operand(argv[first]) : "heads";

	connect_db(false);
	PQsetNoticeReceiver(conn, roundtrip_notice_receiver, NULL);
	require_extension();
	sql = psprintf("SELECT revision, phase, object, difference FROM %s.migrate_roundtrip($1)",
				   ext_schema);
	if (!begin_transaction())
	{
		close_db();
		return EXIT_FAILED;
	}
	res = run_query(sql, 1, params);
	if (res == NULL || !run_command("ROLLBACK"))
	{
		PQclear(res);
		close_db();
		return EXIT_FAILED;
	}
	n = PQntuples(res);
	if (n == 0)
	{
		printf("round trip to \"%s\": every downgrade undoes its upgrade\n",
			   esc(params[0]));
		PQclear(res);
		PQfinish(conn);
		return 0;
	}
	print_result(res);
	pg_log_error("round trip to \"%s\" found %d difference%s",
				 esc(params[0]), n, n == 1 ? "" : "s");
	pg_log_error_hint("A row of phase \"downgrade\" names the revision whose downgrade does not undo its upgrade; its difference is the statement that would repair the schema.");
	PQclear(res);
	PQfinish(conn);
	return EXIT_FAILED;
}
