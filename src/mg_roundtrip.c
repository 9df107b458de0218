/*-------------------------------------------------------------------------
 *
 * mg_roundtrip.c
 *	  migrate_roundtrip(target): test that the revisions' downgrades undo
 *	  their upgrades (issue 12, item 5), in subtransactions that are always
 *	  rolled back.
 *
 * Two passes, each in its own internal subtransaction (as PL/pgSQL's
 * exception blocks run), rolled back whatever happens, so that nothing
 * persists: no schema change, no version row, no log row.
 *
 *   the round trip   snapshot, upgrade to the target, downgrade back to the
 *                    starting version rows, snapshot, compare;
 *   the stairway     for each step of the upgrade plan: snapshot, upgrade
 *                    that one revision, then downgrade it, snapshot,
 *                    compare and upgrade it again in a nested
 *                    subtransaction, rolled back too; so that a downgrade
 *                    that does not undo its upgrade is pinned to its
 *                    revision, and the revisions after it are still tested.
 *
 * The downgrade back is the upgrade plan reversed by the core
 * (mg_plan_reverse: each step's version-table operations inverted, last
 * first), not a plan from a target: a downgrade target of the grammar
 * names one revision, and cannot name every starting row of a database at
 * several heads, nor one revision of a branched history alone.  The plans
 * run through the executor (mg_run.c) like migrate_upgrade's; snapshots and
 * comparisons are migrate_snapshot() and migrate_diff(), called through SPI.
 *
 * This file owns the passes and the rows they report.  It must not run a
 * body or write the extension's tables itself (mg_run.c does), nor plan
 * from a target (the core does).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "mg_backend.h"

PG_FUNCTION_INFO_V1(migrate_roundtrip);

/* Phases named in the rows */
#define RT_ROUNDTRIP	"roundtrip"
#define RT_UPGRADE		"upgrade"
#define RT_DOWNGRADE	"downgrade"
#define RT_REUPGRADE	"reupgrade"

/* One result row, kept until the subtransactions are over */
typedef struct RtRow
{
	char	   *revision;		/* NULL: the whole round trip */
	const char *phase;
	char	   *object;			/* NULL: no object (an error) */
	char	   *difference;
} RtRow;

/* The state of one call */
typedef struct Rt
{
	MemoryContext cxt;			/* rows and snapshots: outlives the passes */
	MgCatalog	cat;
	MgPlan		up;				/* the upgrade plan, from the starting rows */
	MgPlan		down;			/* undoes up: step n-1-i undoes step i */
	char	   *snapshot_sql;
	char	   *diff_sql;
	List	   *rows;			/* of RtRow, in cxt */
	/* what is running, for an error row */
	const char *cur_rev;
	const char *cur_phase;
	const char *cur_way;		/* "upgrade" or "downgrade" */
	/* the stairway's current step (stair_down_up) */
	int			stair;
	Datum		stair_before;
	bool	   *stair_rows;
} Rt;

static void
add_row(Rt *rt, const char *revision, const char *phase, const char *object,
		const char *difference)
{
	MemoryContext old = MemoryContextSwitchTo(rt->cxt);
	RtRow	   *row = palloc(sizeof(RtRow));

	row->revision = revision ? pstrdup(revision) : NULL;
	row->phase = phase;
	row->object = object ? pstrdup(object) : NULL;
	row->difference = pstrdup(difference);
	rt->rows = lappend(rt->rows, row);
	MemoryContextSwitchTo(old);
}

/* migrate_snapshot() of the default schemas, copied into rt->cxt */
static Datum
take_snapshot(Rt *rt)
{
	bool		isnull;
	Datum		d;
	MemoryContext old;

	if (SPI_execute(rt->snapshot_sql, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not take a schema snapshot");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "could not take a schema snapshot");
	old = MemoryContextSwitchTo(rt->cxt);
	d = datumCopy(d, false, -1);
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
	return d;
}

/*
 * compare
 *		A row per step of migrate_diff(after, before): what would bring the
 *		state after back to the state before (a DROP for an object left
 *		over, a CREATE for one missing, an ALTER for one changed), or the
 *		diff's note where it generates no statement.
 */
static void
compare(Rt *rt, Datum before, Datum after, const char *revision,
		const char *phase)
{
	Oid			argtypes[2] = {JSONBOID, JSONBOID};
	Datum		values[2] = {after, before};

	rt->cur_rev = revision;
	rt->cur_phase = phase;
	rt->cur_way = NULL;
	if (SPI_execute_with_args(rt->diff_sql, 2, argtypes, values, NULL,
							  true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not compare schema snapshots");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		char	   *object = SPI_getvalue(tup, SPI_tuptable->tupdesc, 1);
		char	   *difference = SPI_getvalue(tup, SPI_tuptable->tupdesc, 2);

		add_row(rt, revision, phase, object,
				difference ? difference : "differs");
	}
	SPI_freetuptable(SPI_tuptable);
}

/* Run steps (of one direction) through the executor, from version rows */
static void
run_steps(Rt *rt, MgStep *steps, int nsteps, MgDirection kind, bool *rows,
		  const char *phase)
{
	MgGraph    *g = rt->cat.graph;
	MgPlan		plan;
	MgRun		run;
	MgList		list;

	list.items = palloc(sizeof(int) * (mg_graph_size(g) + 1));
	list.n = 0;
	for (int r = 0; r < mg_graph_size(g); r++)
		if (rows[r])
			list.items[list.n++] = r;
	memset(&plan, 0, sizeof(plan));
	plan.nsteps = nsteps;
	plan.steps = steps;

	rt->cur_phase = phase;
	rt->cur_way = kind == MG_UPGRADE ? "upgrade" : "downgrade";
	rt->cur_rev = nsteps == 1 ? mg_rev_id(g, steps[0].rev) : NULL;
	mg_run_begin(&run, &rt->cat, &plan, kind, list, NULL, NULL);
	for (int i = 0; i < nsteps; i++)
	{
		const MgStep *st = &steps[i];

		rt->cur_rev = mg_rev_id(g, st->rev);
		mg_run_step(&run, i);
		for (int k = 0; k < st->nops; k++)
		{
			const MgOp *op = &st->ops[k];

			if (op->kind != MG_OP_INSERT)
				rows[op->a] = false;
			if (op->kind == MG_OP_INSERT)
				rows[op->a] = true;
			else if (op->kind == MG_OP_UPDATE)
				rows[op->b] = true;
		}
	}
	mg_run_flush(&run);
	rt->cur_rev = NULL;
	rt->cur_way = NULL;
}

/* The starting version rows, as a flag per revision */
static bool *
start_rows(Rt *rt)
{
	bool	   *rows = palloc0(sizeof(bool) * (mg_graph_size(rt->cat.graph) + 1));

	for (int k = 0; k < rt->cat.rows.n; k++)
		rows[rt->cat.rows.items[k]] = true;
	return rows;
}

/* Does revision rev have a downgrade body? */
static bool
has_downgrade(Rt *rt, int rev)
{
	return rt->cat.has_downgrade[mg_rev_tag(rt->cat.graph, rev)];
}

/*
 * pass_roundtrip
 *		Upgrade along the whole plan, downgrade back along its inverse, and
 *		compare with the snapshot taken first.  A revision of the plan
 *		without a downgrade body gives a row, and no downgrade is run.
 */
static void
pass_roundtrip(Rt *rt)
{
	bool	   *rows = start_rows(rt);
	Datum		before = take_snapshot(rt);
	Datum		after;
	bool		missing = false;
	int			n = rt->up.nsteps;

	run_steps(rt, rt->up.steps, n, MG_UPGRADE, rows, RT_ROUNDTRIP);
	for (int i = n - 1; i >= 0; i--)
		if (!has_downgrade(rt, rt->up.steps[i].rev))
		{
			add_row(rt, mg_rev_id(rt->cat.graph, rt->up.steps[i].rev),
					RT_ROUNDTRIP, NULL,
					"not downgraded: the revision has no downgrade body");
			missing = true;
		}
	if (missing)
		return;
	run_steps(rt, rt->down.steps, n, MG_DOWNGRADE, rows, RT_ROUNDTRIP);
	after = take_snapshot(rt);
	compare(rt, before, after, NULL, RT_ROUNDTRIP);
}

/*
 * in_rolled_back_subxact
 *		Run pass in an internal subtransaction and roll it back, whether it
 *		ends or fails.  An error becomes a row naming the revision and phase
 *		that were running, and the error; a cancel or a timeout is raised
 *		again once the subtransaction is gone.  Afterwards the memory
 *		context and the resource owner are the caller's again (as in
 *		PL/pgSQL's exception blocks); the SPI connection, made outside, is
 *		still open.
 */
static void
in_rolled_back_subxact(Rt *rt, void (*pass) (Rt *rt))
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	rt->cur_rev = NULL;
	rt->cur_phase = NULL;
	PG_TRY();
	{
		pass(rt);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(rt->cxt);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;

	if (edata == NULL)
		return;
	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
		ReThrowError(edata);
	{
		StringInfoData buf;

		initStringInfo(&buf);
		if (rt->cur_way && rt->cur_phase)
			appendStringInfo(&buf, "%s failed: ", rt->cur_way);
		appendStringInfo(&buf, "%s (SQLSTATE %s)", edata->message,
						 unpack_sql_state(edata->sqlerrcode));
		add_row(rt, rt->cur_rev, rt->cur_phase ? rt->cur_phase : RT_ROUNDTRIP,
				NULL, buf.data);
	}
}

/*
 * stair_down_up
 *		The stairway's test of step rt->stair of the plan, just upgraded:
 *		downgrade it, compare with the snapshot before its upgrade
 *		(rt->stair_before), upgrade it again.  Run in a subtransaction of
 *		its own (pass_stairway), rolled back after it, which leaves the
 *		state of after the upgrade whatever happened here.
 */
static void
stair_down_up(Rt *rt)
{
	MgStep	   *st = &rt->up.steps[rt->stair];
	Datum		after;

	run_steps(rt, &rt->down.steps[rt->down.nsteps - 1 - rt->stair], 1,
			  MG_DOWNGRADE, rt->stair_rows,
			  RT_DOWNGRADE);
	after = take_snapshot(rt);
	compare(rt, rt->stair_before, after, mg_rev_id(rt->cat.graph, st->rev),
			RT_DOWNGRADE);
	run_steps(rt, st, 1, MG_UPGRADE, rt->stair_rows, RT_REUPGRADE);
}

/*
 * pass_stairway
 *		For each step of the plan: snapshot, upgrade it, then downgrade,
 *		compare and upgrade again in a subtransaction rolled back after it
 *		(stair_down_up), so that a downgrade that fails or leaves something
 *		behind is reported and the next revisions are still tested.  A
 *		revision without a downgrade body gives a row and is only upgraded.
 *		A failing upgrade ends the pass (the error is its row).
 */
static void
pass_stairway(Rt *rt)
{
	int			n = mg_graph_size(rt->cat.graph) + 1;
	bool	   *rows = start_rows(rt);
	bool	   *saved = palloc(sizeof(bool) * n);

	for (int i = 0; i < rt->up.nsteps; i++)
	{
		MgStep	   *st = &rt->up.steps[i];

		if (!has_downgrade(rt, st->rev))
		{
			run_steps(rt, st, 1, MG_UPGRADE, rows, RT_UPGRADE);
			add_row(rt, mg_rev_id(rt->cat.graph, st->rev), RT_DOWNGRADE, NULL,
					"not tested: the revision has no downgrade body");
			continue;
		}
		rt->stair_before = take_snapshot(rt);
		run_steps(rt, st, 1, MG_UPGRADE, rows, RT_UPGRADE);
		memcpy(saved, rows, sizeof(bool) * n);
		rt->stair = i;
		rt->stair_rows = rows;
		in_rolled_back_subxact(rt, stair_down_up);
		memcpy(rows, saved, sizeof(bool) * n);
	}
}

/*
 * migrate_roundtrip(target text DEFAULT 'heads')
 *	 RETURNS TABLE(revision text, phase text, object text, difference text)
 *
 * Plans the upgrade from the version rows to target as migrate_upgrade
 * does (same guards, same advisory lock, same catalog read, the same
 * errors for a target that does not resolve), then runs the round trip and
 * the stairway (see the file's comment), each in a subtransaction rolled
 * back at its end, and returns the rows they found: none when every
 * downgrade undoes its upgrade.
 *
 * Rows: a difference (object, and the statement of migrate_diff(after,
 * before) that would repair it) with phase "roundtrip" (revision NULL) or
 * "downgrade" (the revision whose downgrade left it); a revision without a
 * downgrade body; an error (object NULL, difference the message and
 * SQLSTATE) with the revision and phase ("roundtrip", "upgrade",
 * "downgrade" or "reupgrade") that were running.  An error ends the round
 * trip, and the stairway when it is an upgrade's; one in a downgrade or
 * its upgrade again ends only that revision's test.
 */
Datum
migrate_roundtrip(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	char	   *target;
	MgError		err;
	Rt			rt;
	const char *nsp;
	ListCell   *lc;

	mg_check_writable("migrate_roundtrip");
	mg_refuse_in_step("migrate_roundtrip");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target must not be null")));
	target = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (target[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target must not be empty"),
				 errhint("Use \"heads\" for every head.")));
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	memset(&rt, 0, sizeof(rt));
	rt.cxt = AllocSetContextCreate(CurrentMemoryContext, "migrate_roundtrip",
								   ALLOCSET_DEFAULT_SIZES);
	mg_connect_spi();
	mg_lock_changes();
	mg_load_state(&rt.cat, MG_LOAD_ROWS | MG_LOAD_FOR_CHANGE);
	if (!mg_plan_upgrade(rt.cat.graph, rt.cat.rows, target, &rt.up, &err))
		mg_report(&err);
	mg_plan_reverse(rt.cat.graph, &rt.up, rt.cat.rows, &rt.down);

	nsp = quote_identifier(get_namespace_name(get_rel_namespace(mg_catalog_relid(MG_VERSION_TABLE))));
	rt.snapshot_sql = psprintf("SELECT %s.migrate_snapshot()", nsp);
	rt.diff_sql = psprintf("SELECT d.object, COALESCE(d.statement, d.note) "
						   "FROM %s.migrate_diff($1, $2) AS d ORDER BY d.step", nsp);

	if (rt.up.nsteps > 0)
	{
		in_rolled_back_subxact(&rt, pass_roundtrip);
		in_rolled_back_subxact(&rt, pass_stairway);
	}

	foreach(lc, rt.rows)
	{
		RtRow	   *row = (RtRow *) lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = row->revision ? CStringGetTextDatum(row->revision) : (Datum) 0;
		nulls[0] = row->revision == NULL;
		values[1] = CStringGetTextDatum(row->phase);
		values[2] = row->object ? CStringGetTextDatum(row->object) : (Datum) 0;
		nulls[2] = row->object == NULL;
		values[3] = CStringGetTextDatum(row->difference);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	mg_finish_spi();
	return (Datum) 0;
}
