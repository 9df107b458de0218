/*-------------------------------------------------------------------------
 *
 * migrations.c
 *	  The module's entry (_PG_init) and the SQL-callable functions that
 *	  plan and run migrations (migrate_upgrade, migrate_downgrade,
 *	  migrate_stamp), validate (migrate_check) and list (migrate_heads,
 *	  migrate_current, migrate_history, migrate_branches, migrate_resolve,
 *	  migrate_state).  migrate_register is in mg_register.c.
 *
 * Each function reads its arguments, loads the catalog (mg_load_state),
 * asks the core for a plan or a listing, and hands a plan to the executor
 * (mg_run.c) or the listing to its result set.  Functions that change
 * migration state first take the extension's advisory lock, then read the
 * catalog, so concurrent callers run one after the other and each sees
 * what the previous one committed.  Everything runs in the caller's
 * transaction.  This file must not run SQL itself: the catalog layer
 * (mg_catalog.c) does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "mg_backend.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* The core's interrupt hook: a cancel or timeout ends a long graph build */
static void
mg_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

/*
 * _PG_init
 *		Point the core's interrupt hook at CHECK_FOR_INTERRUPTS and define
 *		the settings, each in the file that uses it.
 */
void
_PG_init(void)
{
	mg_interrupt_hook = mg_check_interrupts;
	mg_execute_define_gucs();
	mg_guard_define_gucs();
	MarkGUCPrefixReserved("migrations");
}

/* SQL-callable functions */
PG_FUNCTION_INFO_V1(migrate_check);
PG_FUNCTION_INFO_V1(migrate_upgrade);
PG_FUNCTION_INFO_V1(migrate_downgrade);
PG_FUNCTION_INFO_V1(migrate_stamp);
PG_FUNCTION_INFO_V1(migrate_heads);
PG_FUNCTION_INFO_V1(migrate_current);
PG_FUNCTION_INFO_V1(migrate_history);
PG_FUNCTION_INFO_V1(migrate_branches);
PG_FUNCTION_INFO_V1(migrate_resolve);
PG_FUNCTION_INFO_V1(migrate_state);

/*
 * Helpers, also used by mg_register.c
 */

/* SPI_connect, and SPI_finish below, that cannot fail short of a bug */
void
mg_connect_spi(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

void
mg_finish_spi(void)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/* Changes are refused on a standby, with a pointer to the primary */
void
mg_check_writable(const char *funcname)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot run %s() during recovery", funcname),
				 errdetail("This server is a standby, and migration state can only change on the primary."),
				 errhint("Connect to the primary server and run %s() there.", funcname)));
}

/* A non-null, non-empty text argument */
static char *
target_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	char	   *s;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (s[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", argname),
				 errhint("Use \"heads\" for every head, or \"base\" for the state before the first revision.")));
	return s;
}

/*
 * init_text_srf
 *		Materialized-mode setup for a function returning SETOF text, whose
 *		result is not a row type.
 */
static void
init_text_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;
	TupleDesc	desc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTemplateTupleDesc(1);
	TupleDescInitEntry(desc, (AttrNumber) 1, "revision", TEXTOID, -1, 0);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0,
											  false, work_mem);
	rsinfo->setDesc = desc;
	MemoryContextSwitchTo(old);
}

/* Inherited branch labels of a revision as a text[] datum */
static Datum
labels_datum(MgGraph *g, int rev)
{
	const char **labels;
	int			n = mg_rev_labels(g, rev, &labels);

	return mg_cstring_array(labels, n);
}

/* A revision's message as a text datum, or a null */
static Datum
message_datum(MgGraph *g, int rev, bool *isnull)
{
	const char *m = mg_rev_message(g, rev);

	*isnull = (m == NULL);
	return m ? CStringGetTextDatum(m) : (Datum) 0;
}

/*
 * migrate_check
 *		Validate the stored graph and the version table.
 */
Datum
migrate_check(PG_FUNCTION_ARGS)
{
	MgCatalog	cat;

	mg_connect_spi();
	mg_load_state(&cat, MG_LOAD_ROWS);
	mg_finish_spi();
	PG_RETURN_VOID();
}

/*
 * Upgrade, downgrade and stamp
 */

/*
 * run_migration
 *		migrate_upgrade and migrate_downgrade: plan from the version table
 *		to the target, run every step (mg_run.c), write the version table
 *		and the log at the end, and return a row per step run.
 */
static Datum
run_migration(FunctionCallInfo fcinfo, bool upgrade)
{
	const char *fname = upgrade ? "migrate_upgrade" : "migrate_downgrade";
	char	   *target;
	ReturnSetInfo *rsinfo;
	MgCatalog	cat;
	MgPlan		plan;
	MgError		err;
	MgRun		run;
	bool		ok;

	mg_check_writable(fname);
	mg_refuse_in_step(fname);
	target = target_arg(fcinfo, 0, "target");
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	mg_connect_spi();
	mg_lock_changes();
	mg_load_state(&cat, MG_LOAD_ROWS | MG_LOAD_FOR_CHANGE);
	if (upgrade)
		ok = mg_plan_upgrade(cat.graph, cat.rows, target, &plan, &err);
	else
		ok = mg_plan_downgrade(cat.graph, cat.rows, target, &plan, &err);
	if (!ok)
		mg_report(&err);
	mg_run_begin(&run, &cat, &plan, upgrade ? MG_UPGRADE : MG_DOWNGRADE,
				 cat.rows, rsinfo->setResult, rsinfo->setDesc);
	for (int i = 0; i < plan.nsteps; i++)
		mg_run_step(&run, i);
	mg_run_flush(&run);
	mg_finish_spi();
	return (Datum) 0;
}

/* migrate_upgrade(target): see run_migration */
Datum
migrate_upgrade(PG_FUNCTION_ARGS)
{
	return run_migration(fcinfo, true);
}

/* migrate_downgrade(target): see run_migration */
Datum
migrate_downgrade(PG_FUNCTION_ARGS)
{
	return run_migration(fcinfo, false);
}

/* qsort_arg comparator: revision indexes by id, in the graph arg */
static int
cmp_rev_id(const void *a, const void *b, void *arg)
{
	MgGraph    *g = (MgGraph *) arg;

	return strcmp(mg_rev_id(g, *(const int *) a), mg_rev_id(g, *(const int *) b));
}

/*
 * migrate_stamp
 *		Set the version table to the targets (several, separated by spaces
 *		or commas) without running any body: the stamp's plan goes through
 *		the same executor as an upgrade, whose stamp steps only record.
 *		With purge, the version table is emptied first (its rows need not
 *		name registered revisions).  Returns the version table afterwards,
 *		sorted by id.
 */
Datum
migrate_stamp(PG_FUNCTION_ARGS)
{
	char	   *target;
	char	  **targets;
	int			ntargets = 0;
	bool		purge;
	ReturnSetInfo *rsinfo;
	MgCatalog	cat;
	MgPlan		plan;
	MgError		err;
	MgList		rows;
	MgRun		run;

	mg_check_writable("migrate_stamp");
	mg_refuse_in_step("migrate_stamp");
	target = target_arg(fcinfo, 0, "target");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("purge must not be null")));
	purge = PG_GETARG_BOOL(1);
	targets = palloc(sizeof(char *) * (strlen(target) / 2 + 2));
	for (char *tok = strtok(target, " ,\t\n"); tok; tok = strtok(NULL, " ,\t\n"))
		targets[ntargets++] = tok;
	if (ntargets == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target must not be empty")));
	init_text_srf(fcinfo);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	mg_connect_spi();
	mg_lock_changes();
	mg_load_state(&cat, (purge ? 0 : MG_LOAD_ROWS) | MG_LOAD_FOR_CHANGE);
	if (purge)
	{
		mg_version_purge(&cat);
		rows.items = NULL;
		rows.n = 0;
	}
	else
		rows = cat.rows;
	if (!mg_plan_stamp(cat.graph, rows, (const char *const *) targets,
					   ntargets, purge, &plan, &err))
		mg_report(&err);
	mg_run_begin(&run, &cat, &plan, MG_STAMP, rows, NULL, NULL);
	for (int i = 0; i < plan.nsteps; i++)
		mg_run_step(&run, i);
	mg_run_flush(&run);
	qsort_arg(plan.final_rows.items, plan.final_rows.n, sizeof(int), cmp_rev_id,
			  cat.graph);
	for (int i = 0; i < plan.final_rows.n; i++)
	{
		Datum		values[1];
		bool		nulls[1] = {false};

		values[0] = CStringGetTextDatum(mg_rev_id(cat.graph, plan.final_rows.items[i]));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	mg_finish_spi();
	return (Datum) 0;
}

/*
 * Listings
 */

/*
 * migrate_heads
 *		Heads in registration order, effective heads included.
 */
Datum
migrate_heads(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	MgCatalog	cat;
	MgList		heads;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	mg_connect_spi();
	mg_load_state(&cat, 0);
	heads = mg_heads(cat.graph);
	for (int i = 0; i < heads.n; i++)
	{
		int			r = heads.items[i];
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(mg_rev_id(cat.graph, r));
		values[1] = labels_datum(cat.graph, r);
		values[2] = BoolGetDatum(!mg_rev_is_real_head(cat.graph, r));
		values[3] = message_datum(cat.graph, r, &nulls[3]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	mg_finish_spi();
	return (Datum) 0;
}

/*
 * migrate_current
 *		The branch heads of the applied set (as "alembic current" shows
 *		them), with whether each is stored in migrate_version.
 */
Datum
migrate_current(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	MgCatalog	cat;
	MgList		cur;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	mg_connect_spi();
	mg_load_state(&cat, MG_LOAD_ROWS);
	cur = mg_current(cat.graph, cat.rows);
	for (int i = 0; i < cur.n; i++)
	{
		int			r = cur.items[i];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		bool		stored = false;

		for (int k = 0; k < cat.rows.n; k++)
			stored |= cat.rows.items[k] == r;
		values[0] = CStringGetTextDatum(mg_rev_id(cat.graph, r));
		values[1] = labels_datum(cat.graph, r);
		values[2] = BoolGetDatum(mg_rev_is_real_head(cat.graph, r));
		values[3] = BoolGetDatum(mg_rev_is_head(cat.graph, r) &&
								 !mg_rev_is_real_head(cat.graph, r));
		values[4] = BoolGetDatum(stored);
		values[5] = message_datum(cat.graph, r, &nulls[5]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	mg_finish_spi();
	return (Datum) 0;
}

/*
 * history_line
 *		Revision r as one line of "alembic history": its parents (or
 *		"<base>"), its dependencies in parentheses, the arrow and its id,
 *		its inherited labels, then "(head)", "(effective head)",
 *		"(branchpoint)" and "(mergepoint)" as they apply, and its message.
 *		Returns a palloc'd string.
 */
static char *
history_line(MgGraph *g, int r)
{
	StringInfoData buf;
	MgList		down = mg_rev_down(g, r);
	const char *const *deps;
	int			ndeps = mg_rev_dep_names(g, r, &deps);
	const char **labels;
	int			nlabels = mg_rev_labels(g, r, &labels);
	const char *msg = mg_rev_message(g, r);

	initStringInfo(&buf);
	if (down.n == 0)
		appendStringInfoString(&buf, "<base>");
	for (int i = 0; i < down.n; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", mg_rev_id(g, down.items[i]));
	if (ndeps > 0)
	{
		appendStringInfoString(&buf, " (");
		for (int i = 0; i < ndeps; i++)
			appendStringInfo(&buf, "%s%s", i ? ", " : "", deps[i]);
		appendStringInfoChar(&buf, ')');
	}
	appendStringInfo(&buf, " -> %s", mg_rev_id(g, r));
	if (nlabels > 0)
	{
		appendStringInfoString(&buf, " (");
		for (int i = 0; i < nlabels; i++)
			appendStringInfo(&buf, "%s%s", i ? ", " : "", labels[i]);
		appendStringInfoChar(&buf, ')');
	}
	if (mg_rev_is_real_head(g, r))
		appendStringInfoString(&buf, " (head)");
	else if (mg_rev_is_head(g, r))
		appendStringInfoString(&buf, " (effective head)");
	if (mg_rev_is_branch_point(g, r))
		appendStringInfoString(&buf, " (branchpoint)");
	if (mg_rev_is_merge_point(g, r))
		appendStringInfoString(&buf, " (mergepoint)");
	appendStringInfo(&buf, ", %s", msg ? msg : "");
	return buf.data;
}

/*
 * migrate_history
 *		Revisions of a range (NULL: every revision), newest first, in
 *		"alembic history" order, with their parents, dependencies, labels,
 *		head, branch-point and merge-point flags, whether each is applied,
 *		and its history_line.  A range the core cannot resolve is an error
 *		(mg_report).  Reads the catalog only; takes no lock.
 */
Datum
migrate_history(PG_FUNCTION_ARGS)
{
	char	   *range = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	ReturnSetInfo *rsinfo;
	MgCatalog	cat;
	MgList		revs;
	MgError		err;
	bool	   *applied;
	MgGraph    *g;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	mg_connect_spi();
	mg_load_state(&cat, MG_LOAD_ROWS);
	g = cat.graph;
	if (!mg_history(g, cat.rows, range, &revs, &err))
		mg_report(&err);
	applied = mg_applied(g, cat.rows);
	for (int i = 0; i < revs.n; i++)
	{
		int			r = revs.items[i];
		Datum		values[11];
		bool		nulls[11];
		const char *const *deps;
		int			ndeps = mg_rev_dep_names(g, r, &deps);
		MgList		down = mg_rev_down(g, r);

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(mg_rev_id(g, r));
		values[1] = mg_text_array(g, down.items, down.n);
		values[2] = mg_cstring_array(deps, ndeps);
		values[3] = labels_datum(g, r);
		values[4] = BoolGetDatum(mg_rev_is_real_head(g, r));
		values[5] = BoolGetDatum(mg_rev_is_head(g, r) && !mg_rev_is_real_head(g, r));
		values[6] = BoolGetDatum(mg_rev_is_branch_point(g, r));
		values[7] = BoolGetDatum(mg_rev_is_merge_point(g, r));
		values[8] = BoolGetDatum(applied[r]);
		values[9] = message_datum(g, r, &nulls[9]);
		values[10] = CStringGetTextDatum(history_line(g, r));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	mg_finish_spi();
	return (Datum) 0;
}

/*
 * migrate_branches
 *		Branch points (revisions with several children through
 *		down_revisions) and their children.
 */
Datum
migrate_branches(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	MgCatalog	cat;
	MgGraph    *g;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	mg_connect_spi();
	mg_load_state(&cat, 0);
	g = cat.graph;
	for (int r = 0; r < mg_graph_size(g); r++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		MgList		children;

		if (!mg_rev_is_branch_point(g, r))
			continue;
		children = mg_rev_children(g, r);
		values[0] = CStringGetTextDatum(mg_rev_id(g, r));
		values[1] = mg_text_array(g, children.items, children.n);
		values[2] = labels_datum(g, r);
		values[3] = message_datum(g, r, &nulls[3]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	mg_finish_spi();
	return (Datum) 0;
}

/*
 * migrate_resolve
 *		The revision ids a target names (used by migrate_show).
 */
Datum
migrate_resolve(PG_FUNCTION_ARGS)
{
	char	   *target = target_arg(fcinfo, 0, "target");
	ReturnSetInfo *rsinfo;
	MgCatalog	cat;
	MgList		revs;
	MgError		err;

	init_text_srf(fcinfo);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	mg_connect_spi();
	mg_load_state(&cat, 0);
	if (!mg_show(cat.graph, target, &revs, &err))
		mg_report(&err);
	for (int i = 0; i < revs.n; i++)
	{
		Datum		values[1];
		bool		nulls[1] = {false};

		values[0] = CStringGetTextDatum(mg_rev_id(cat.graph, revs.items[i]));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	mg_finish_spi();
	return (Datum) 0;
}

/*
 * migrate_state
 *		Per revision: applied, head, stored in the version table.
 */
Datum
migrate_state(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	MgCatalog	cat;
	MgGraph    *g;
	bool	   *applied;
	bool	   *stored;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	mg_connect_spi();
	mg_load_state(&cat, MG_LOAD_ROWS);
	g = cat.graph;
	applied = mg_applied(g, cat.rows);
	stored = palloc0(sizeof(bool) * (mg_graph_size(g) + 1));
	for (int k = 0; k < cat.rows.n; k++)
		stored[cat.rows.items[k]] = true;
	for (int r = 0; r < mg_graph_size(g); r++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(mg_rev_id(g, r));
		values[1] = BoolGetDatum(applied[r]);
		values[2] = BoolGetDatum(mg_rev_is_head(g, r));
		values[3] = BoolGetDatum(stored[r]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	mg_finish_spi();
	return (Datum) 0;
}
