/*-------------------------------------------------------------------------
 *
 * mg_stepwise.c
 *	  migrate_upgrade_stepwise and migrate_downgrade_stepwise: procedures
 *	  that commit after each revision (issue 14, item 1).
 *
 * One transaction holds a lock per relation it creates, so a long history
 * cannot be installed by migrate_upgrade in one call.  These procedures
 * run the same plan through the same executor (mg_run.c) but commit after
 * every step: each revision's body, its version-table change and its log
 * row commit together, so an interruption anywhere (error, cancel, kill,
 * crash) leaves every committed revision recorded and nothing of the one
 * in flight, and calling again plans from what was committed.
 *
 * The plan, the catalog snapshot it was made from (MgCatalog) and the run
 * (MgRun) live in a memory context of their own under TopMemoryContext,
 * which outlasts the commits; it is deleted at the end and on error.  The
 * run is serialized against every other migration by a session-level
 * advisory lock on the key of the transaction-level lock every migrate_*
 * function takes: another migration waits for the whole run, not only for
 * one step.  The session lock is released at the end and on error (a lost
 * connection releases it too).  Since every path that changes migration
 * state waits for that lock, the catalog cannot change under the run;
 * after each commit the version table's identity is checked again, which
 * catches the extension having been dropped and created meanwhile.
 *
 * While a step runs, pg_stat_activity.query of this backend says which
 * revision runs and "step k of n".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "mg_backend.h"

PG_FUNCTION_INFO_V1(migrate_upgrade_stepwise);
PG_FUNCTION_INFO_V1(migrate_downgrade_stepwise);

/* The session-level advisory lock on the migrations key */
static void
session_lock(void)
{
	DirectFunctionCall1(pg_advisory_lock_int8, Int64GetDatum(MG_ADVISORY_LOCK_KEY));
}

static void
session_unlock(void)
{
	DirectFunctionCall1(pg_advisory_unlock_int8, Int64GetDatum(MG_ADVISORY_LOCK_KEY));
}

/*
 * Refuse a call that cannot commit: inside a transaction block, from a
 * function, or as SELECT.  SQLSTATE 25001 as VACUUM's refusal.
 */
static void
refuse_atomic(FunctionCallInfo fcinfo, const char *fname)
{
	if (fcinfo->context == NULL || !IsA(fcinfo->context, CallContext) ||
		castNode(CallContext, fcinfo->context)->atomic)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("%s() cannot run inside a transaction block", fname),
				 errdetail("It commits after each revision, which it cannot do inside a transaction block or a function."),
				 errhint("Run CALL %s(...) on its own, in autocommit mode; inside a transaction use the one-transaction function %s() instead.",
						 fname, strcmp(fname, "migrate_upgrade_stepwise") == 0 ?
						 "migrate_upgrade" : "migrate_downgrade")));
}

/* What pg_stat_activity shows while step k of n runs */
static void
report_progress(const char *fname, const MgRun *run, int i)
{
	const MgStep *st = &run->plan->steps[i];
	char	   *text;

	text = psprintf("CALL %s(): %s of revision %s, step %d of %d", fname,
					st->direction == MG_UPGRADE ? "upgrade" : "downgrade",
					mg_rev_id(run->cat->graph, st->rev), i + 1, run->plan->nsteps);
	pgstat_report_activity(STATE_RUNNING, text);
	pfree(text);
}

/*
 * run_stepwise
 *		Plan from the committed version rows to target, then run each step
 *		and commit it with its version rows and log row.
 */
static void
run_stepwise(FunctionCallInfo fcinfo, bool upgrade)
{
	const char *fname = upgrade ? "migrate_upgrade_stepwise" : "migrate_downgrade_stepwise";
	MemoryContext runcxt;
	MemoryContext oldcxt;
	char	   *target;
	volatile bool locked = false;

	mg_check_writable(fname);
	mg_refuse_in_step(fname);
	refuse_atomic(fcinfo, fname);
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target must not be null")));

	runcxt = AllocSetContextCreate(TopMemoryContext, "migrations stepwise run",
								   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(runcxt);
	target = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_TRY();
	{
		MgCatalog  *cat = palloc0(sizeof(MgCatalog));
		MgPlan	   *plan = palloc0(sizeof(MgPlan));
		MgRun	   *run = palloc0(sizeof(MgRun));
		MgError		err;
		bool		ok;
		Oid			relid;

		if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect_ext failed");
		session_lock();
		locked = true;
		mg_lock_changes();
		MemoryContextSwitchTo(runcxt);
		mg_load_state(cat, MG_LOAD_ROWS | MG_LOAD_FOR_CHANGE);
		if (upgrade)
			ok = mg_plan_upgrade(cat->graph, cat->rows, target, plan, &err);
		else
			ok = mg_plan_downgrade(cat->graph, cat->rows, target, plan, &err);
		if (!ok)
			mg_report(&err);
		mg_run_begin(run, cat, plan, upgrade ? MG_UPGRADE : MG_DOWNGRADE,
					 cat->rows, NULL, NULL);
		relid = mg_catalog_relid(MG_VERSION_TABLE);

		for (int i = 0; i < plan->nsteps; i++)
		{
			report_progress(fname, run, i);
			MemoryContextSwitchTo(runcxt);
			mg_run_step(run, i);
			mg_run_flush(run);
			MemoryContextSwitchTo(runcxt);
			SPI_commit();
			SPI_start_transaction();
			MemoryContextSwitchTo(runcxt);
			/* the transaction-level lock as every migration holds it */
			mg_lock_changes();
			if (mg_catalog_relid(MG_VERSION_TABLE) != relid)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("the migrations catalog changed during %s()", fname),
						 errdetail("The version table is no longer the one the plan was made from; %d of %d steps were committed.",
								   i + 1, plan->nsteps),
						 errhint("Call %s() again.", fname)));
		}
		session_unlock();
		locked = false;
		if (SPI_finish() != SPI_OK_FINISH)
			elog(ERROR, "SPI_finish failed");
	}
	PG_CATCH();
	{
		if (locked)
			session_unlock();
		MemoryContextSwitchTo(oldcxt);
		MemoryContextDelete(runcxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(runcxt);
}

/* CALL migrate_upgrade_stepwise(target): see run_stepwise */
Datum
migrate_upgrade_stepwise(PG_FUNCTION_ARGS)
{
	run_stepwise(fcinfo, true);
	PG_RETURN_VOID();
}

/* CALL migrate_downgrade_stepwise(target): see run_stepwise */
Datum
migrate_downgrade_stepwise(PG_FUNCTION_ARGS)
{
	run_stepwise(fcinfo, false);
	PG_RETURN_VOID();
}
