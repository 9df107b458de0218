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

#include "executor/spi.h"
#include "lib/stringinfo.h"
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

		snprintf(buf, sizeof(buf), "%dms", mg_step_lock_timeout);
		guc_level = NewGUCNestLevel();
		(void) set_config_option("lock_timeout", buf, PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
	}
	step_depth++;
	PG_TRY();
	{
		ret = SPI_execute(body, false, 0);
	}
	PG_CATCH();
	{
		step_depth--;
		/* a lock wait cut short by our setting: say which setting */
		if (guc_level >= 0 && geterrcode() == ERRCODE_LOCK_NOT_AVAILABLE)
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(oldcontext);
			edata = CopyErrorData();
			FlushErrorState();
			/* not for NOWAIT, which never waited */
			if (edata->hint == NULL && edata->message_id != NULL &&
				strcmp(edata->message_id, "canceling statement due to lock timeout") == 0)
				edata->hint = psprintf("The step waited longer than migrations.lock_timeout (%d ms) for a lock another session holds. Retry when the table is less busy, or raise migrations.lock_timeout.",
									   mg_step_lock_timeout);
			ReThrowError(edata);
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
	step_depth--;
	if (guc_level >= 0)
		AtEOXact_GUC(true, guc_level);
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
