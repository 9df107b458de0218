/*-------------------------------------------------------------------------
 *
 * mg_execute.c
 *	  Running planned migration steps through SPI.
 *
 * Each step runs its body, applies its version-table operations and writes
 * its log row, all in the caller's transaction.  A step is self-contained,
 * so a caller may also commit between steps.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
#include "utils/timestamp.h"

#include "mg_backend.h"

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

/* What the error context callback reports */
typedef struct StepContext
{
	const char *direction;
	const char *revision;
	const char *message;
} StepContext;

static void
step_error_callback(void *arg)
{
	StepContext *sc = (StepContext *) arg;

	if (sc->message && sc->message[0])
		errcontext("%s of revision \"%s\" (%s)", sc->direction, sc->revision,
				   sc->message);
	else
		errcontext("%s of revision \"%s\"", sc->direction, sc->revision);
}

/*
 * mg_check_plan
 *		Refuse a plan that cannot run to the end before anything runs:
 *		non-transactional revisions, and downgrades without a body.
 */
void
mg_check_plan(MgState *state, const MgPlan *plan)
{
	MgGraph    *g = state->graph;

	/*
	 * A value of migrations.lock_timeout set before the library was loaded
	 * that did not parse: PostgreSQL only warned and kept 0, so steps would
	 * run with no lock timeout at all.
	 */
	if (mg_bad_lock_timeout != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"migrations.lock_timeout\": \"%s\"",
						mg_bad_lock_timeout),
				 errdetail("The value was set before the extension's library was loaded and could not be used, so the steps would run without a lock timeout."),
				 errhint("Set migrations.lock_timeout to a number of milliseconds or a time with a unit such as \"2s\" (units \"us\", \"ms\", \"s\", \"min\", \"h\", \"d\").")));

	for (int i = 0; i < plan->nsteps; i++)
	{
		const MgStep *st = &plan->steps[i];
		int			tag;

		if (st->rev < 0 || st->direction == MG_STAMP)
			continue;
		tag = mg_rev_tag(g, st->rev);
		if (!state->transactional[tag])
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("revision \"%s\" is not transactional", mg_rev_id(g, st->rev)),
					 errdetail("Revision \"%s\" is registered with transactional = false, and steps run inside the caller's transaction.",
							   mg_rev_id(g, st->rev)),
					 errhint("Non-transactional revisions are not supported yet: run its SQL by hand, then record it with migrate_stamp().")));
		if (st->direction == MG_DOWNGRADE && !state->has_downgrade[tag])
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("revision \"%s\" has no downgrade", mg_rev_id(g, st->rev)),
					 errdetail("The downgrade needs to undo revision \"%s\", which was registered without a downgrade body.",
							   mg_rev_id(g, st->rev)),
					 errhint("Undo it by hand and record the result with migrate_stamp(), or choose a target above it.")));
	}
}

/* Alembic's log line: "upgrade a, b -> c, message" */
static char *
step_line(MgGraph *g, const MgStep *st)
{
	StringInfoData parents;
	MgList		down = mg_rev_down(g, st->rev);
	const char *msg = mg_rev_message(g, st->rev);
	const char *id = mg_rev_id(g, st->rev);
	bool		up = st->direction == MG_UPGRADE;

	initStringInfo(&parents);
	for (int i = 0; i < down.n; i++)
		appendStringInfo(&parents, "%s%s", i ? ", " : "", mg_rev_id(g, down.items[i]));
	return psprintf("%s %s -> %s, %s", up ? "upgrade" : "downgrade",
					up ? parents.data : id, up ? id : parents.data,
					msg ? msg : "");
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
 * mg_run_step
 *		Run one step: its body, its version-table changes, its log row, and
 *		its result row.  Errors keep their SQLSTATE and gain a context line
 *		naming the revision.
 */
void
mg_run_step(MgState *state, const MgStep *step, const char *body,
			Tuplestorestate *ts, TupleDesc tupdesc)
{
	MgGraph    *g = state->graph;
	ErrorContextCallback errcb;
	StepContext sc;
	TimestampTz start;
	long		secs;
	int			usecs;
	double		seconds;
	int			ret;
	volatile int guc_level = -1;
	MemoryContext oldcontext = CurrentMemoryContext;
	Oid			userid;
	int			secctx;
	Oid			sessionid = GetSessionUserId();
	bool		readonly = XactReadOnly;
	SPIExecuteOptions opts;
	List	   *stmts;
	const char *volatile cur_stmt = NULL;
	Oid			extoid = get_extension_oid("migrations", false);
	char	   *volatile session_lock_timeout = NULL;

	GetUserIdAndSecContext(&userid, &secctx);

	sc.direction = step->direction == MG_UPGRADE ? "upgrade" : "downgrade";
	sc.revision = mg_rev_id(g, step->rev);
	sc.message = mg_rev_message(g, step->rev);

	ereport(NOTICE, (errmsg_internal("%s", step_line(g, step))));

	errcb.callback = step_error_callback;
	errcb.arg = &sc;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	start = GetCurrentTimestamp();
	if (body == NULL)
		elog(ERROR, "body of revision \"%s\" not found", sc.revision);

	/*
	 * migrations.lock_timeout applies to the body only, as a function's SET
	 * clause would: the session's value comes back when the body ends.
	 */
	if (mg_step_lock_timeout > 0)
	{
		char		buf[32];

		session_lock_timeout = pstrdup(GetConfigOption("lock_timeout", false, false));

		snprintf(buf, sizeof(buf), "%dms", mg_step_lock_timeout);
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
								   mg_step_lock_timeout);
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
				 errmsg("revision \"%s\" cannot control the transaction", sc.revision),
				 errdetail("Its %s body contains a transaction control statement such as COMMIT, ROLLBACK or SAVEPOINT.",
						   sc.direction),
				 errhint("Steps run inside the caller's transaction; remove the statement from the body.")));
	else if (ret == SPI_ERROR_COPY)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("revision \"%s\" cannot copy to or from the client", sc.revision),
				 errdetail("Its %s body contains COPY ... FROM STDIN or COPY ... TO STDOUT.", sc.direction),
				 errhint("Load data from a file on the server with COPY ... FROM 'file', or with INSERT statements.")));
	else if (ret < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
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
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("revision \"%s\" changed the current role", sc.revision),
					 errdetail("Its %s body ran as role \"%s\" and ended as role \"%s\"; a body must not use SET ROLE, RESET ROLE or SET SESSION AUTHORIZATION.",
							   sc.direction, GetUserNameFromId(userid, true) ? GetUserNameFromId(userid, true) : "?",
							   GetUserNameFromId(nowuser, true) ? GetUserNameFromId(nowuser, true) : "?"),
					 errhint("Remove the role change from the body; grant the migrating role what the body needs instead.")));
		if (get_extension_oid("migrations", true) != extoid)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("revision \"%s\" dropped or replaced the extension", sc.revision),
					 errdetail("Its %s body dropped extension \"migrations\", whose tables record the migration.",
							   sc.direction),
					 errhint("Remove DROP EXTENSION migrations from the body.")));
		if (XactReadOnly != readonly)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("revision \"%s\" changed the transaction's read-only state", sc.revision),
					 errdetail("Its %s body ran SET TRANSACTION READ ONLY or changed default_transaction_read_only.",
							   sc.direction),
					 errhint("Remove the statement from the body.")));
	}
	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
	seconds = secs + usecs / 1000000.0;

	for (int i = 0; i < step->nops; i++)
		mg_version_op(state, &step->ops[i]);
	mg_log_step(state, step, seconds);

	error_context_stack = errcb.previous;

	if (ts)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		Interval   *iv = palloc0(sizeof(Interval));

		iv->time = (int64) (seconds * 1000000.0);
		values[0] = CStringGetTextDatum(sc.revision);
		values[1] = CStringGetTextDatum(sc.direction);
		if (sc.message)
			values[2] = CStringGetTextDatum(sc.message);
		else
			nulls[2] = true;
		values[3] = IntervalPGetDatum(iv);
		tuplestore_putvalues(ts, tupdesc, values, nulls);
	}
}
