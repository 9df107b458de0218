/*-------------------------------------------------------------------------
 *
 * mg_execute.c
 *	  Running one revision body through SPI, and the setting that governs
 *	  it (migrations.lock_timeout).
 *
 * mg_execute_body runs a body in the caller's transaction, one statement
 * at a time, with the caller's rights, and checks that the body left the
 * role, the transaction's read-only state and the extension as it found
 * them.  It knows nothing of plans, the version table or the log: the
 * executor (mg_run.c) calls it for each step and records the step itself.
 * This file must not run SQL on the extension's tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "tcop/dest.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "parser/parser.h"
#include "parser/scansup.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "mg_backend.h"

/* migrations.lock_timeout: lock_timeout of each step's body, 0 for none */
static int	step_lock_timeout = 0;

/*
 * The text of a migrations.lock_timeout set before the library was loaded
 * that is not a valid value, or NULL.  Any later assignment clears it.
 */
static char *bad_lock_timeout = NULL;

/* Any assignment of migrations.lock_timeout makes the early value moot */
static void
assign_lock_timeout(int newval, void *extra)
{
	bad_lock_timeout = NULL;
}

/*
 * mg_execute_define_gucs
 *		Define migrations.lock_timeout (called by _PG_init).  A value set
 *		before the library was loaded that does not parse is remembered, so
 *		that steps refuse to run rather than run with no lock timeout.
 */
void
mg_execute_define_gucs(void)
{
	const char *early;
	char	   *early_copy = NULL;

	/* a placeholder's value, which DefineCustomIntVariable only warns about */
	early = GetConfigOption("migrations.lock_timeout", true, false);
	if (early != NULL)
		early_copy = MemoryContextStrdup(TopMemoryContext, early);
	DefineCustomIntVariable("migrations.lock_timeout",
							"Sets the lock_timeout of each migration step.",
							"A step whose body waits longer than this for a lock fails, "
							"so that it does not hold up every query queued behind it. "
							"0 leaves the session's lock_timeout in force.",
							&step_lock_timeout,
							0, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, assign_lock_timeout, NULL);
	if (early_copy != NULL)
	{
		int			val;

		if (!parse_int(early_copy, &val, GUC_UNIT_MS, NULL) || val < 0)
			bad_lock_timeout = early_copy;
	}
}

/*
 * mg_execute_check_settings
 *		Refuse to run bodies under a migrations.lock_timeout set before the
 *		library was loaded that did not parse: PostgreSQL only warned and
 *		kept 0, so steps would run with no lock timeout at all.
 */
void
mg_execute_check_settings(void)
{
	if (bad_lock_timeout != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"migrations.lock_timeout\": \"%s\"",
						bad_lock_timeout),
				 errdetail("The value was set before the extension's library was loaded and could not be used, so the steps would run without a lock timeout."),
				 errhint("Set migrations.lock_timeout to a number of milliseconds or a time with a unit such as \"2s\" (units \"us\", \"ms\", \"s\", \"min\", \"h\", \"d\").")));
}

/*
 * Depth of migration bodies being run.  A body must not change migration
 * state itself: the running step's version-table changes were planned
 * from the state before it.
 */
static int	step_depth = 0;

/*
 * mg_refuse_in_step
 *		Error out when called from inside a revision body.
 */
void
mg_refuse_in_step(const char *funcname)
{
	if (step_depth > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot call %s() from a migration step", funcname),
				 errdetail("A revision body runs inside migrate_upgrade() or migrate_downgrade(), which own the migration state until it ends.")));
}

/* Whether a revision body is running (the catalog guard refuses writes) */
bool
mg_step_running(void)
{
	return step_depth > 0;
}

/* How much of a body's statement an error quotes, in bytes */
#define MG_QUOTE_MAX 1024

/*
 * clip_quote
 *		s cut to MG_QUOTE_MAX bytes on a character boundary, with "..." when
 *		it was cut.
 */
static char *
clip_quote(const char *s)
{
	int			len = strlen(s);
	int			cut;

	if (len <= MG_QUOTE_MAX)
		return pstrdup(s);
	cut = pg_mbcliplen(s, len, MG_QUOTE_MAX);
	return psprintf("%.*s...", cut, s);
}

/*
 * clip_error_quotes
 *		An error raised by one statement of a body quotes that statement
 *		(SPI's context line, and the internal query of a syntax error or a
 *		position): cut those quotes to a sane length, so a statement of
 *		hundreds of megabytes does not go to the client and the server log.
 */
static void
clip_error_quotes(ErrorData *edata, const char *stmt)
{
	int			len = strlen(stmt);

	if (len <= MG_QUOTE_MAX)
		return;
	if (edata->internalquery && strcmp(edata->internalquery, stmt) == 0)
	{
		char	   *clipped = clip_quote(stmt);

		/* the position must still point into what is quoted */
		if (edata->internalpos > pg_mbstrlen_with_len(clipped, strlen(clipped) - 3))
			edata->internalpos = 0;
		edata->internalquery = clipped;
	}
	if (edata->context)
	{
		char	   *found = strstr(edata->context, stmt);

		if (found)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			appendBinaryStringInfo(&buf, edata->context, found - edata->context);
			appendStringInfoString(&buf, clip_quote(stmt));
			appendStringInfoString(&buf, found + len);
			edata->context = buf.data;
		}
	}
}

/* Error context while a body is parsed: where in the body, not the query */
static void
body_parse_error_callback(void *arg)
{
	const char *body = (const char *) arg;
	int			pos = geterrposition();

	if (pos <= 0)
		return;
	errposition(0);
	if (strlen(body) <= MG_QUOTE_MAX)
	{
		internalerrposition(pos);
		internalerrquery(body);
	}
	else
		errcontext("at character %d of the body", pos);
}

/*
 * mg_execute_body
 *		Run the body of one step of revision (direction MG_UPGRADE or
 *		MG_DOWNGRADE) in the caller's transaction, with the caller's rights,
 *		and return how long it took, in seconds.
 *
 *		The body is parsed whole first (a syntax error anywhere runs
 *		nothing), then run one statement at a time through SPI, so that an
 *		error quotes the statement that failed, cut to MG_QUOTE_MAX bytes.
 *		migrations.lock_timeout applies to the body only.  Errors keep their
 *		SQLSTATE; the caller adds the context line naming the step.  Fails
 *		as well when the body controls the transaction, copies to or from
 *		the client, or leaves the role, the session authorization, the
 *		transaction's read-only state or the extension changed.
 *
 *		While the body runs, mg_step_running() is true.
 */
double
mg_execute_body(const char *revision, MgDirection direction, const char *body)
{
	TimestampTz start;
	long		secs;
	int			usecs;
	int			ret;
	bool		up = direction == MG_UPGRADE;
	volatile int guc_level = -1;
	MemoryContext oldcontext = CurrentMemoryContext;
	Oid			userid;
	int			secctx;
	Oid			sessionid = GetSessionUserId();
	bool		readonly = XactReadOnly;
	SPIExecuteOptions opts;
	List	   *stmts;
	const char *volatile cur_stmt = NULL;
	Oid			extoid = get_extension_oid(MG_EXTENSION_NAME, false);
	char	   *volatile session_lock_timeout = NULL;

	GetUserIdAndSecContext(&userid, &secctx);

	start = GetCurrentTimestamp();
	if (body == NULL)
		elog(ERROR, "body of revision \"%s\" not found", revision);

	/*
	 * migrations.lock_timeout applies to the body only, as a function's SET
	 * clause would: the session's value comes back when the body ends.
	 */
	if (step_lock_timeout > 0)
	{
		char		buf[32];

		session_lock_timeout = pstrdup(GetConfigOption("lock_timeout", false, false));

		snprintf(buf, sizeof(buf), "%dms", step_lock_timeout);
		guc_level = NewGUCNestLevel();
		(void) set_config_option("lock_timeout", buf, PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
	}
	/*
	 * The body is parsed whole first, as SPI would (a syntax error anywhere
	 * runs nothing), then run one statement at a time, so that an error
	 * quotes the statement that failed and not the whole body.
	 */
	{
		ErrorContextCallback parsecb;

		parsecb.callback = body_parse_error_callback;
		parsecb.arg = (void *) body;
		parsecb.previous = error_context_stack;
		error_context_stack = &parsecb;
		stmts = raw_parser(body, RAW_PARSE_DEFAULT);
		error_context_stack = parsecb.previous;
	}

	step_depth++;
	ret = SPI_OK_UTILITY;
	PG_TRY();
	{
		ListCell   *lc;

		/*
		 * Result rows go to a receiver that drops them: a body's SELECT
		 * over millions of rows must not be kept in memory.
		 */
		memset(&opts, 0, sizeof(opts));
		opts.dest = CreateDestReceiver(DestNone);
		foreach(lc, stmts)
		{
			RawStmt    *rs = lfirst_node(RawStmt, lc);
			const char *start = body + rs->stmt_location;
			int			len = rs->stmt_len > 0 ? rs->stmt_len : (int) strlen(start);

			/* the text after the previous semicolon, without leading space */
			while (len > 0 && scanner_isspace(*start))
			{
				start++;
				len--;
			}
			cur_stmt = pnstrdup(start, len);
			ret = SPI_execute_extended(cur_stmt, &opts);
			if (ret < 0)
				break;
			pfree((char *) cur_stmt);
			cur_stmt = NULL;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		step_depth--;
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		if (cur_stmt)
			clip_error_quotes(edata, cur_stmt);
		/* a lock wait cut short by our setting: say which setting */
		if (guc_level >= 0 && edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE &&
			edata->hint == NULL && edata->message_id != NULL &&
			strcmp(edata->message_id, "canceling statement due to lock timeout") == 0)
			edata->hint = psprintf("The step waited longer than migrations.lock_timeout (%d ms) for a lock another session holds. Retry when the table is less busy, or raise migrations.lock_timeout.",
								   step_lock_timeout);
		ReThrowError(edata);
	}
	PG_END_TRY();
	step_depth--;
	if (guc_level >= 0)
	{
		AtEOXact_GUC(true, guc_level);

		/*
		 * A plain SET lock_timeout in the body would outlast the nest level:
		 * put the session's value back, as README promises.
		 */
		if (strcmp(GetConfigOption("lock_timeout", false, false),
				   session_lock_timeout) != 0)
			(void) set_config_option("lock_timeout", session_lock_timeout,
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SET, true, 0, false);
	}
	if (ret == SPI_ERROR_TRANSACTION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("revision \"%s\" cannot control the transaction", revision),
				 up ?
				 errdetail("Its upgrade body contains a transaction control statement such as COMMIT, ROLLBACK or SAVEPOINT.") :
				 errdetail("Its downgrade body contains a transaction control statement such as COMMIT, ROLLBACK or SAVEPOINT."),
				 errhint("Steps run inside the caller's transaction; remove the statement from the body.")));
	else if (ret == SPI_ERROR_COPY)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("revision \"%s\" cannot copy to or from the client", revision),
				 up ?
				 errdetail("Its upgrade body contains COPY ... FROM STDIN or COPY ... TO STDOUT.") :
				 errdetail("Its downgrade body contains COPY ... FROM STDIN or COPY ... TO STDOUT."),
				 errhint("Load data from a file on the server with COPY ... FROM 'file', or with INSERT statements.")));
	else if (ret < 0)
		elog(ERROR, "SPI_execute_extended failed: %s", SPI_result_code_string(ret));
	SPI_freetuptable(SPI_tuptable);

	/*
	 * The body must leave the step as it found it: the same role, session
	 * authorization, security context and read-only state.  Anything else
	 * would run later steps and the bookkeeping under another identity.
	 */
	{
		Oid			nowuser;
		int			nowctx;

		GetUserIdAndSecContext(&nowuser, &nowctx);
		if (nowuser != userid || nowctx != secctx ||
			GetSessionUserId() != sessionid)
		{
			const char *before = GetUserNameFromId(userid, true);
			const char *after = GetUserNameFromId(nowuser, true);

			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("revision \"%s\" changed the current role", revision),
					 up ?
					 errdetail("Its upgrade body ran as role \"%s\" and ended as role \"%s\".",
							   before ? before : "?", after ? after : "?") :
					 errdetail("Its downgrade body ran as role \"%s\" and ended as role \"%s\".",
							   before ? before : "?", after ? after : "?"),
					 errhint("Remove SET ROLE, RESET ROLE and SET SESSION AUTHORIZATION from the body; grant the migrating role what the body needs instead.")));
		}
		if (get_extension_oid(MG_EXTENSION_NAME, true) != extoid)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("revision \"%s\" dropped or replaced the extension", revision),
					 up ?
					 errdetail("Its upgrade body dropped extension \"migrations\", whose tables record the migration.") :
					 errdetail("Its downgrade body dropped extension \"migrations\", whose tables record the migration."),
					 errhint("Remove DROP EXTENSION migrations from the body.")));
		if (XactReadOnly != readonly)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("revision \"%s\" changed the transaction's read-only state", revision),
					 up ?
					 errdetail("Its upgrade body ran SET TRANSACTION READ ONLY or changed default_transaction_read_only.") :
					 errdetail("Its downgrade body ran SET TRANSACTION READ ONLY or changed default_transaction_read_only."),
					 errhint("Remove the statement from the body.")));
	}
	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
	return secs + usecs / 1000000.0;
}
