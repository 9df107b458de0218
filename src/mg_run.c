/*-------------------------------------------------------------------------
 *
 * mg_run.c
 *	  The executor: runs a plan of the core (upgrade, downgrade or stamp)
 *	  one step at a time.
 *
 * A run is begun once for a plan (mg_run_begin: the plan is checked and
 * the bodies it needs are fetched), then each step is run (mg_run_step:
 * the body through mg_execute.c, then the step's version-table operations
 * and log row, kept in memory through the catalog layer's MgPendingWrites),
 * and mg_run_flush writes what the steps kept, through the catalog layer.
 * migrate_upgrade, migrate_downgrade and migrate_stamp flush once, at the
 * end of the call, so that the version table and the log are written in
 * three statements whatever the number of steps.  A caller that commits
 * between steps (a stepwise procedure) must flush before each commit; its
 * MgCatalog and MgRun must then live in memory that outlasts the
 * transaction (not SPI's procedure context), and, the advisory lock being
 * transaction-level, it must take the lock again after each commit and
 * check that the catalog is still the one the plan was made from.
 *
 * This file owns no SQL: every read and write of the extension's tables
 * goes through mg_catalog.c, every body through mg_execute.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "mg_backend.h"

/* What the error context callback of a step reports */
typedef struct StepContext
{
	bool		upgrade;
	bool		verify;			/* running the revision's verify body */
	const char *revision;
	const char *message;
} StepContext;

/* The context line of an error in a step: which revision, which way */
static void
step_error_callback(void *arg)
{
	StepContext *sc = (StepContext *) arg;

	if (sc->verify && sc->message && sc->message[0])
		errcontext("verify of revision \"%s\" (%s)", sc->revision, sc->message);
	else if (sc->verify)
		errcontext("verify of revision \"%s\"", sc->revision);
	else if (sc->message && sc->message[0])
	{
		if (sc->upgrade)
			errcontext("upgrade of revision \"%s\" (%s)", sc->revision, sc->message);
		else
			errcontext("downgrade of revision \"%s\" (%s)", sc->revision, sc->message);
	}
	else if (sc->upgrade)
		errcontext("upgrade of revision \"%s\"", sc->revision);
	else
		errcontext("downgrade of revision \"%s\"", sc->revision);
}

/* Alembic's log line: "upgrade a, b -> c, message" */
static char *
step_line(MgGraph *g, const MgStep *st)
{
	StringInfoData parents;
	MgList		down = mg_rev_down(g, st->rev);
	const char *msg = mg_rev_message(g, st->rev);
	const char *id = mg_rev_id(g, st->rev);

	initStringInfo(&parents);
	for (int i = 0; i < down.n; i++)
		appendStringInfo(&parents, "%s%s", i ? ", " : "", mg_rev_id(g, down.items[i]));
	if (st->direction == MG_UPGRADE)
		return psprintf("upgrade %s -> %s, %s", parents.data, id, msg ? msg : "");
	return psprintf("downgrade %s -> %s, %s", id, parents.data, msg ? msg : "");
}

/*
 * check_plan
 *		Refuse a plan of bodies that cannot run to the end before anything
 *		runs: non-transactional revisions, and downgrades without a body.
 */
static void
check_plan(MgCatalog *cat, const MgPlan *plan)
{
	MgGraph    *g = cat->graph;

	mg_execute_check_settings();
	for (int i = 0; i < plan->nsteps; i++)
	{
		const MgStep *st = &plan->steps[i];
		int			tag;

		if (st->rev < 0 || st->direction == MG_STAMP)
			continue;
		tag = mg_rev_tag(g, st->rev);
		if (!cat->transactional[tag])
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("revision \"%s\" is not transactional", mg_rev_id(g, st->rev)),
					 errdetail("Revision \"%s\" is registered with transactional = false, and steps run inside the caller's transaction.",
							   mg_rev_id(g, st->rev)),
					 errhint("Non-transactional revisions are not supported yet: run its SQL by hand, then record it with migrate_stamp().")));
		if (st->direction == MG_DOWNGRADE && !cat->has_downgrade[tag])
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("revision \"%s\" has no downgrade", mg_rev_id(g, st->rev)),
					 errdetail("The downgrade needs to undo revision \"%s\", which was registered without a downgrade body.",
							   mg_rev_id(g, st->rev)),
					 errhint("Undo it by hand and record the result with migrate_stamp(), or choose a target above it.")));
	}
}

/*
 * mg_run_begin
 *		Start running plan, made by the core on cat's graph from the version
 *		rows rows (for a stamp with purge: none).  kind is MG_UPGRADE or
 *		MG_DOWNGRADE for a plan of bodies, MG_STAMP for a stamp.  For a plan
 *		of bodies the plan is checked (check_plan) and its bodies fetched in
 *		one query; errors come before any step runs.  With ts, each step run
 *		adds a row (revision, direction, message, duration) to it.
 *
 *		Everything the run allocates lives in cat's context, except each
 *		step's scratch memory, reset after the step.
 */
void
mg_run_begin(MgRun *run, MgCatalog *cat, const MgPlan *plan, MgDirection kind,
			 MgList rows, Tuplestorestate *ts, TupleDesc tupdesc)
{
	memset(run, 0, sizeof(MgRun));
	run->cat = cat;
	run->plan = plan;
	run->kind = kind;
	run->ts = ts;
	run->tupdesc = tupdesc;
	if (kind != MG_STAMP)
	{
		check_plan(cat, plan);
		mg_load_bodies(cat, plan, &run->bodies);
		mg_load_verifies(cat, plan, &run->verifies);
	}
	run->stepcxt = AllocSetContextCreate(cat->context, "migrations step",
										 ALLOCSET_DEFAULT_SIZES);
	mg_pending_begin(&run->writes, cat, rows);
}

/* The result row of a step run */
static void
put_result_row(MgRun *run, const MgStep *step, double seconds)
{
	MgGraph    *g = run->cat->graph;
	const char *message = mg_rev_message(g, step->rev);
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	Interval   *iv = palloc0(sizeof(Interval));

	iv->time = (int64) (seconds * 1000000.0);
	values[0] = CStringGetTextDatum(mg_rev_id(g, step->rev));
	values[1] = CStringGetTextDatum(step->direction == MG_UPGRADE ? "upgrade" : "downgrade");
	if (message)
		values[2] = CStringGetTextDatum(message);
	else
		nulls[2] = true;
	values[3] = IntervalPGetDatum(iv);
	tuplestore_putvalues(run->ts, run->tupdesc, values, nulls);
}

/*
 * mg_run_step
 *		Run step i of the plan.  A step of a body says Alembic's line as a
 *		NOTICE, runs the body (mg_execute_body), then keeps its version-table
 *		operations and log row, and adds its result row; errors gain a
 *		context line naming the revision.  A stamp step only keeps its
 *		operations and log row.  Nothing is written before mg_run_flush.
 */
void
mg_run_step(MgRun *run, int i)
{
	const MgStep *step = &run->plan->steps[i];
	MgGraph    *g = run->cat->graph;
	MemoryContext old;
	ErrorContextCallback errcb;
	StepContext sc;
	double		seconds = 0;

	CHECK_FOR_INTERRUPTS();
	old = MemoryContextSwitchTo(run->stepcxt);
	if (step->direction == MG_STAMP)
	{
		for (int k = 0; k < step->nops; k++)
			mg_pending_version_op(&run->writes, &step->ops[k]);
		mg_pending_log_step(&run->writes, step, 0);
	}
	else
	{
		sc.upgrade = step->direction == MG_UPGRADE;
		sc.verify = false;
		sc.revision = mg_rev_id(g, step->rev);
		sc.message = mg_rev_message(g, step->rev);

		ereport(NOTICE, (errmsg_internal("%s", step_line(g, step))));

		errcb.callback = step_error_callback;
		errcb.arg = &sc;
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;

		seconds = mg_execute_body(sc.revision, step->direction,
								  run->bodies[step->rev]);
		/* the verify body checks the upgrade; its error fails the step */
		if (sc.upgrade && run->verifies && run->verifies[step->rev])
		{
			sc.verify = true;
			seconds += mg_execute_body(sc.revision, MG_UPGRADE,
									   run->verifies[step->rev]);
			sc.verify = false;
		}
		for (int k = 0; k < step->nops; k++)
			mg_pending_version_op(&run->writes, &step->ops[k]);
		mg_pending_log_step(&run->writes, step, seconds);

		error_context_stack = errcb.previous;
		if (run->ts)
			put_result_row(run, step, seconds);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(run->stepcxt);
}

/*
 * mg_run_flush
 *		Write the version-table change and the log rows of the steps run
 *		since the last flush (mg_pending_flush).  The run may go on.
 */
void
mg_run_flush(MgRun *run)
{
	mg_pending_flush(&run->writes);
}
