/*-------------------------------------------------------------------------
 *
 * mg_provenance_cmd.c
 *	  pg_migrate's side of issue 15, items 4 and 9: load --prune, and the
 *	  failed attempt that upgrade, downgrade and stamp log after their
 *	  rollback.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"
#include "libpq-fe.h"

#include "pg_migrate.h"

/* load --prune: set by cmd_load, read by load_revisions */
bool		load_prune = false;
int			load_pruned = 0;

/* The command whose failure failure_log records (set by cmd_upgrade...) */
const char *failure_direction = NULL;

/* The last server error run_query reported (failure_remember) */
static char *last_sqlstate = NULL;
static char *last_message = NULL;
static char *last_context = NULL;

/* Keep what the failed result res says, for failure_log */
void
failure_remember(const PGresult *res)
{
	const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *c = PQresultErrorField(res, PG_DIAG_CONTEXT);

	free(last_sqlstate);
	free(last_message);
	free(last_context);
	last_sqlstate = s ? pg_strdup(s) : NULL;
	last_message = m ? pg_strdup(m) : pg_strdup(PQresultErrorMessage(res));
	last_context = c ? pg_strdup(c) : NULL;
}

/*
 * The revision whose step failed: the first "of revision "X"" of the
 * error's context lines (the executor's "upgrade of revision ..." or
 * "downgrade of revision ..."), or NULL when the error came before any
 * step.  Returns a malloc'd string.
 */
static char *
failed_revision(void)
{
	const char *p;
	const char *q;

	if (last_context == NULL ||
		(p = strstr(last_context, "of revision \"")) == NULL)
		return NULL;
	p += strlen("of revision \"");
	q = strchr(p, '"');
	if (q == NULL || q == p)
		return NULL;
	return pnstrdup(p, q - p);
}

/*
 * failure_log
 *		After a failed upgrade, downgrade or stamp (direction): roll the
 *		failed transaction back, then log the attempt in a transaction of
 *		its own with migrate_log_failure (revision, SQLSTATE, message; the
 *		function adds who, when and from where).  Only the failure of a
 *		step is logged: the error's context names its revision.  A failure to log is a
 *		warning only: the command has failed already and says why.
 */
void
failure_log(const char *direction)
{
	PGresult   *res;
	char	   *sql;
	const char *params[4];

	char	   *revision;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK || last_sqlstate == NULL ||
		ext_schema == NULL)
		return;
	/*
	 * Only a failed step is an attempt worth a log row: a target that does
	 * not resolve, or a refused plan, changed nothing and ran nothing.
	 */
	revision = failed_revision();
	if (revision == NULL)
		return;
	res = PQexec(conn, "ROLLBACK");
	PQclear(res);
	params[0] = direction;
	params[1] = revision;
	params[2] = last_sqlstate;
	params[3] = last_message;
	sql = psprintf("SELECT %s.migrate_log_failure($1, $2, $3, $4)", ext_schema);
	res = PQexecParams(conn, sql, 4, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		pg_log_warning("could not log the failed %s: %s", direction,
					   esc(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?
						   PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) :
						   PQerrorMessage(conn)));
	PQclear(res);
	free(sql);
}

/*
 * prune_revisions
 *		load --prune, in load's transaction after the files are registered
 *		(they are in pg_temp.pg_migrate_load): unregister every registered
 *		revision that no file has, in registration order, and say which.
 *		migrate_unregister refuses an applied one, with a hint to
 *		downgrade first; the whole load then rolls back.  Returns false
 *		after reporting a failure.
 */
bool
prune_revisions(void)
{
	char	   *sql;
	PGresult   *res;

	sql = psprintf("SELECT r.revision, COALESCE(r.source, ''),"
				   " %s.migrate_unregister(r.revision)"
				   " FROM (SELECT revision, source FROM %s.migrate_revision AS m"
				   "  WHERE NOT EXISTS (SELECT FROM pg_temp.pg_migrate_load AS s"
				   "   WHERE s.revision OPERATOR(pg_catalog.=) m.revision)"
				   "  ORDER BY m.seq OFFSET 0) AS r",
				   ext_schema, ext_schema);
	res = run_query(sql, 0, NULL);
	free(sql);
	if (res == NULL)
		return false;
	load_pruned = PQntuples(res);
	for (int i = 0; i < load_pruned; i++)
	{
		if (*PQgetvalue(res, i, 1))
			printf("pruned %s (no file; loaded from %s)\n",
				   esc(PQgetvalue(res, i, 0)), esc(PQgetvalue(res, i, 1)));
		else
			printf("pruned %s (no file)\n", esc(PQgetvalue(res, i, 0)));
	}
	PQclear(res);
	return true;
}
