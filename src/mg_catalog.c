/*-------------------------------------------------------------------------
 *
 * mg_catalog.c
 *	  Catalog access of the migrations extension: every SQL text the
 *	  extension runs against its own tables lives here.  Queries are built
 *	  with schema-qualified names and qualified operators, values are passed
 *	  as parameters only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_am.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "access/tupmacs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/timestamp.h"

#include "mg_backend.h"

/* Arena blocks of a graph come from the memory context given as ctx */
static void *
mg_backend_alloc(void *ctx, size_t size)
{
	return MemoryContextAllocHuge((MemoryContext) ctx, size);
}

static void
mg_backend_free(void *ctx, void *ptr)
{
	(void) ctx;					/* pfree finds the context itself */
	pfree(ptr);
}

/*
 * extension_row
 *		Namespace and owner of an extension, read from pg_extension
 *		(PostgreSQL 15 does not export get_extension_schema()).
 */
static Oid
extension_row(Oid extoid, Oid *owner)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Oid			nspoid = InvalidOid;

	if (owner)
		*owner = InvalidOid;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		nspoid = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
		if (owner)
			*owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nspoid;
}

static Oid
extension_schema(Oid extoid)
{
	return extension_row(extoid, NULL);
}

/*
 * mg_qualified
 *		Quoted, schema-qualified name of one of the extension's objects.
 */
const char *
mg_qualified(const char *relname)
{
	Oid			extoid = get_extension_oid(MG_EXTENSION_NAME, false);
	Oid			nspoid = extension_schema(extoid);
	char	   *nspname = get_namespace_name(nspoid);

	if (nspname == NULL)
		elog(ERROR, "schema of extension \"%s\" not found", MG_EXTENSION_NAME);
	return quote_qualified_identifier(nspname, relname);
}

/*
 * catalog_relid
 *		OID of one of the extension's tables.  With mode, the current role
 *		must hold that privilege on it, as a query would check.
 */
static Oid
catalog_relid(const char *relname, AclMode mode)
{
	Oid			nspoid = extension_schema(get_extension_oid(MG_EXTENSION_NAME, false));
	Oid			relid = get_relname_relid(relname, nspoid);

	if (!OidIsValid(relid))
		elog(ERROR, "table %s of extension \"%s\" not found", relname,
			 MG_EXTENSION_NAME);
	if (mode != ACL_NO_RIGHTS)
	{
		AclResult	aclresult = pg_class_aclcheck(relid, GetUserId(), mode);

		if (aclresult != ACLCHECK_OK)
			aclcheck_error(aclresult, OBJECT_TABLE, relname);
	}
	return relid;
}

/* OID of one of the extension's tables */
Oid
mg_catalog_relid(const char *relname)
{
	return catalog_relid(relname, ACL_NO_RIGHTS);
}

/*
 * Writing the catalog
 *
 * migrate_revision, migrate_version and migrate_log change only through the
 * extension's functions.  Their statements on those tables run with the
 * rights of the extension's owner, switched to around each statement only
 * (bodies run with the caller's rights), so a migrator needs EXECUTE on
 * the functions and no rights on the tables.  Triggers on the tables
 * (mg_catalog_guard) refuse every other write, except a superuser's outside
 * migration steps (pg_restore): the log is append-only and an applied
 * revision immutable whatever rights a role holds on the tables.
 */

/* Depth of the extension's own statements on its tables */
static int	catalog_writes = 0;

/*
 * Bumped by every write of the catalog this backend makes or lets through;
 * migrate_register's facts about the applied set (migrations.c) hold only
 * while it is unchanged.
 */
uint64		mg_catalog_generation = 0;

/*
 * mg_catalog_execute
 *		Run a prepared statement on the catalog with the extension owner's
 *		rights, as SPI_execute_plan would.  The caller's user id and
 *		security context come back afterwards, on error too.  The operation
 *		is security-restricted, as PostgreSQL's own maintenance commands
 *		are when they act as a table's owner.
 */
int
mg_catalog_execute(SPIPlanPtr plan, Datum *values, const char *nulls,
				   long tcount)
{
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	volatile int ret = 0;

	(void) extension_row(get_extension_oid(MG_EXTENSION_NAME, false), &owner);
	if (!OidIsValid(owner))
		elog(ERROR, "owner of extension \"%s\" not found", MG_EXTENSION_NAME);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	catalog_writes++;
	mg_catalog_generation++;
	PG_TRY();
	{
		ret = SPI_execute_plan(plan, values, nulls, false, tcount);
	}
	PG_FINALLY();
	{
		catalog_writes--;
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	return ret;
}

/* The name of the current role, as a name datum (registered_by, logged_by) */
Datum
mg_current_role_datum(void)
{
	NameData   *name = palloc(sizeof(NameData));

	namestrcpy(name, GetUserNameFromId(GetUserId(), false));
	return NameGetDatum(name);
}

PG_FUNCTION_INFO_V1(migrate_catalog_guard);

/*
 * migrate_catalog_guard
 *		Trigger function (BEFORE INSERT, UPDATE, DELETE, row and statement,
 *		and TRUNCATE) of the extension's tables: a write is allowed while
 *		the extension's own code runs it, or for a superuser when no
 *		migration step is running in this backend (pg_restore, repairs).
 *		Such a direct write takes the extension's advisory lock, so that it
 *		is serialized with migrations as their own changes are.
 */
Datum
migrate_catalog_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	const char *verb;
	const char *relname;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migrate_catalog_guard() may only be called as a trigger")));
	td = (TriggerData *) fcinfo->context;

	if (catalog_writes == 0)
	{
		bool		in_step = mg_step_running();

		if (!in_step && superuser())
		{
			(void) DirectFunctionCall1(pg_advisory_xact_lock_int8,
									   Int64GetDatum(MG_ADVISORY_LOCK_KEY));
			mg_catalog_generation++;
		}
		else
		{
			if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
				verb = "insert into";
			else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
				verb = "update";
			else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
				verb = "delete from";
			else
				verb = "truncate";
			relname = RelationGetRelationName(td->tg_relation);
			if (in_step)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot %s table %s from a migration step", verb, relname),
						 errdetail("The migration running the step records the revisions, the version table and the log itself; a body may read them but not change them."),
						 errhint("Change migration state with migrate_stamp() or migrate_register() after the migration.")));
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to %s table %s", verb, relname),
					 errdetail("The tables of extension \"%s\" change only through its functions migrate_register(), migrate_upgrade(), migrate_downgrade() and migrate_stamp(), whatever rights a role holds on the tables.",
							   MG_EXTENSION_NAME),
					 errhint("Only a superuser may write them directly, outside migration steps, as pg_restore does.")));
		}
	}

	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		return PointerGetDatum(NULL);
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(td->tg_newtuple);
	return PointerGetDatum(td->tg_trigtuple);
}

/*
 * An internal trigger is named after its OID; the guard's keep the names
 * they are given, the same in every database.
 */
static void
rename_trigger(Oid trigoid, const char *name)
{
	Relation	tgrel = table_open(TriggerRelationId, RowExclusiveLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	CommandCounterIncrement();
	ScanKeyInit(&key, Anum_pg_trigger_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(trigoid));
	scan = systable_beginscan(tgrel, TriggerOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "could not find trigger %u", trigoid);
	tup = heap_copytuple(tup);
	namestrcpy(&((Form_pg_trigger) GETSTRUCT(tup))->tgname, name);
	CatalogTupleUpdate(tgrel, &tup->t_self, tup);
	systable_endscan(scan);
	table_close(tgrel, RowExclusiveLock);
}

PG_FUNCTION_INFO_V1(migrate_install_catalog_guard);

/*
 * migrate_install_catalog_guard
 *		Called by the extension's install and update scripts: put the guard
 *		triggers on the three tables.  They are internal triggers that fire
 *		always (whatever session_replication_role says) and members of the
 *		extension, so no one but a superuser can disable them, and no one
 *		can drop them without dropping the extension; pg_dump leaves them
 *		out, and CREATE EXTENSION makes them again on restore.
 */
Datum
migrate_install_catalog_guard(PG_FUNCTION_ARGS)
{
	static const char *const tables[] = {MG_REVISION_TABLE, MG_VERSION_TABLE, MG_LOG_TABLE};
	Oid			extoid = get_extension_oid(MG_EXTENSION_NAME, false);
	Oid			nspoid = extension_schema(extoid);
	char	   *nspname = get_namespace_name(nspoid);
	ObjectAddress extaddr;
	Oid			funcoid;

	if (!creating_extension || CurrentExtensionObject != extoid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migrate_install_catalog_guard() may only be called by the scripts of extension \"%s\"",
						MG_EXTENSION_NAME)));
	funcoid = LookupFuncName(list_make2(makeString(nspname),
										makeString("migrate_catalog_guard")),
							 0, NULL, false);
	ObjectAddressSet(extaddr, ExtensionRelationId, extoid);

	for (int t = 0; t < (int) lengthof(tables); t++)
	{
		Oid			relid = catalog_relid(tables[t], ACL_NO_RIGHTS);

		for (int row = 0; row < 2; row++)
		{
			CreateTrigStmt *stmt = makeNode(CreateTrigStmt);
			ObjectAddress trigaddr;

			stmt->trigname = row ? "migrate_guard_row" : "migrate_guard_statement";
			stmt->relation = makeRangeVar(nspname, pstrdup(tables[t]), -1);
			stmt->funcname = list_make2(makeString(nspname),
										makeString("migrate_catalog_guard"));
			stmt->row = row;
			stmt->timing = TRIGGER_TYPE_BEFORE;
			stmt->events = TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE |
				TRIGGER_TYPE_DELETE | (row ? 0 : TRIGGER_TYPE_TRUNCATE);
			trigaddr = CreateTriggerFiringOn(stmt, "", relid, InvalidOid,
											 InvalidOid, InvalidOid, funcoid,
											 InvalidOid, NULL, true, false,
											 TRIGGER_FIRES_ALWAYS);
			recordDependencyOn(&trigaddr, &extaddr, DEPENDENCY_EXTENSION);
			rename_trigger(trigaddr.objectId, stmt->trigname);
		}
	}
	CommandCounterIncrement();
	PG_RETURN_VOID();
}

/*
 * Whether a statement used this many times should be prepared again: at
 * each power of two from 64 on, as the tables it reads grow (see
 * mg_kept_plan and step_plan).
 */
static inline bool
replan_due(uint64 uses)
{
	return uses >= 64 && (uses & (uses - 1)) == 0;
}

/*
 * mg_kept_plan
 *		A plan kept for the life of the backend, for statements run once per
 *		call of a function that is called once per row (migrate_register).
 *		The statement text is the key: when the extension is created again
 *		in another schema, the qualified names change and the statement is
 *		prepared again.  Plans of dropped tables are invalidated by the plan
 *		cache as usual.
 */
SPIPlanPtr
mg_kept_plan(MgKeptPlan *kp, const char *sql, int nargs, Oid *argtypes)
{
	/*
	 * The plan cache settles on a generic plan after a few calls and keeps
	 * it.  One chosen while the table was empty (a seq scan) would stay
	 * while a single transaction registers thousands of revisions, making
	 * each lookup read them all.  So the statement is prepared again each
	 * time its number of uses reaches a power of two (from 64 on): the
	 * table has grown, and the new plan knows.
	 */
	if (kp->plan != NULL && strcmp(kp->sql, sql) == 0 && !replan_due(++kp->uses))
		return kp->plan;
	if (kp->plan != NULL)
	{
		SPI_freeplan(kp->plan);
		pfree(kp->sql);
		kp->plan = NULL;
	}
	kp->plan = SPI_prepare(sql, nargs, argtypes);
	if (kp->plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(kp->plan) != 0)
		elog(ERROR, "could not keep the plan of \"%s\"", sql);
	kp->sql = MemoryContextStrdup(TopMemoryContext, sql);
	return kp->plan;
}

static uint64 rows_fingerprint(Relation rel, Snapshot snap, uint64 *ntuples);

/*
 * check_snapshot_current
 *		In REPEATABLE READ and SERIALIZABLE the transaction keeps the snapshot
 *		it took before waiting for the lock, so it would not see a migration
 *		another session committed meanwhile, and would run its steps again.
 *		Compare the catalog as the snapshot sees it with its latest committed
 *		state, and fail as a serialization failure when they differ.
 */
static void
check_snapshot_current(void)
{
	StringInfoData sql;
	SPIPlanPtr	plan;
	char	   *mine;
	char	   *latest;
	const char *rev = mg_qualified(MG_REVISION_TABLE);

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.concat_ws('/',"
					 " (SELECT pg_catalog.max(id) FROM %s),"
					 " (SELECT pg_catalog.count(*) FROM %s),"
					 " (SELECT pg_catalog.max(seq) FROM %s),"
					 " (SELECT pg_catalog.max(registered_at) FROM %s),"
					 " (SELECT pg_catalog.string_agg(revision, ','"
					 "   ORDER BY revision COLLATE pg_catalog.\"C\") FROM %s))",
					 mg_qualified(MG_LOG_TABLE), rev, rev, rev,
					 mg_qualified(MG_VERSION_TABLE));
	plan = SPI_prepare(sql.data, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));
	/*
	 * Read-write mode: the transaction snapshot, with the calling statement's
	 * own earlier changes (two registrations in one statement are not a
	 * conflict).
	 */
	if (SPI_execute_plan(plan, NULL, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the migration catalog");
	mine = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (SPI_execute_snapshot(plan, NULL, NULL, GetLatestSnapshot(), InvalidSnapshot,
							 true, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the migration catalog");
	latest = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

	/*
	 * The summary above misses a revision re-registered (or edited by hand)
	 * without a new row or log entry; the row versions do not.
	 */
	if (strcmp(mine, latest) == 0)
	{
		Relation	rel = table_open(catalog_relid(MG_REVISION_TABLE, ACL_NO_RIGHTS),
									 AccessShareLock);

		if (rel->rd_rel->relam == HEAP_TABLE_AM_OID)
		{
			Snapshot	snap_mine = RegisterSnapshot(GetTransactionSnapshot());
			Snapshot	snap_latest = RegisterSnapshot(GetLatestSnapshot());
			uint64		n1,
						n2;

			if (rows_fingerprint(rel, snap_mine, &n1) !=
				rows_fingerprint(rel, snap_latest, &n2) || n1 != n2)
				latest = "";
			UnregisterSnapshot(snap_mine);
			UnregisterSnapshot(snap_latest);
		}
		table_close(rel, AccessShareLock);
	}
	if (strcmp(mine, latest) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent migration"),
				 errdetail("Another transaction changed the migration catalog after this transaction took its snapshot."),
				 errhint("Retry in a new transaction, or run migrations at the READ COMMITTED isolation level.")));
	SPI_freeplan(plan);
	pfree(sql.data);
}

/*
 * mg_lock_changes
 *		Serialize every change of migration state on one transaction-level
 *		advisory lock.  Queries issued after it see what earlier holders
 *		committed (READ COMMITTED takes a new snapshot per query); with a
 *		transaction snapshot, a change committed meanwhile is an error.
 */
void
mg_lock_changes(void)
{
	static MgKeptPlan lock_plan;
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(MG_ADVISORY_LOCK_KEY)};

	if (SPI_execute_plan(mg_kept_plan(&lock_plan, "SELECT pg_catalog.pg_advisory_xact_lock($1)",
									  1, argtypes),
						 values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not take the migrations advisory lock");
	SPI_freetuptable(SPI_tuptable);

	if (IsolationUsesXactSnapshot())
		check_snapshot_current();
}

/*
 * mg_report
 *		Raise a core error with its SQLSTATE, message, detail and hint.
 */
void
mg_report(const MgError *err)
{
	int			code;

	switch (err->code)
	{
		case MG_E_INVALID_NAME:
			code = ERRCODE_INVALID_NAME;
			break;
		case MG_E_RESERVED_NAME:
			code = ERRCODE_RESERVED_NAME;
			break;
		case MG_E_DUPLICATE:
			code = ERRCODE_DUPLICATE_OBJECT;
			break;
		case MG_E_UNDEFINED:
			code = ERRCODE_UNDEFINED_OBJECT;
			break;
		case MG_E_MULTIPLE_HEADS:
			code = ERRCODE_CARDINALITY_VIOLATION;
			break;
		case MG_E_CYCLE:
			code = ERRCODE_INVALID_OBJECT_DEFINITION;
			break;
		case MG_E_STATE:
			code = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
			break;
		case MG_E_AMBIGUOUS:
		case MG_E_INVALID_TARGET:
		default:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
	}
	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", err->message),
			 err->detail ? errdetail_internal("%s", err->detail) : 0,
			 err->hint ? errhint("%s", err->hint) : 0));
}

/* Elements of a text[] datum as C strings (NULL elements become "") */
static int
text_array_items(Datum arr, bool isnull, char ***items)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (isnull)
	{
		*items = NULL;
		return 0;
	}
	deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &nulls, &n);
	*items = palloc(sizeof(char *) * (n + 1));
	for (int i = 0; i < n; i++)
		(*items)[i] = nulls[i] ? "" : TextDatumGetCString(elems[i]);
	return n;
}

/*
 * Reading the revisions
 *
 * The graph is built from every row of migrate_revision that the reading
 * snapshot sees, in registration (seq) order.  Large histories make this
 * the main cost of planning, so the rows are read with a plain heap scan
 * rather than a query, and the finished graph is kept for the next call of
 * the same backend while the rows it was built from are unchanged.
 *
 * "Unchanged" is decided by a fingerprint of the visible row versions: the
 * position and inserting transaction of each tuple the snapshot sees.  Rows
 * are never changed in place, so any insert, update or delete (committed by
 * anyone, or made by the calling transaction itself) changes the set, and
 * so the fingerprint; a rolled-back change restores the old set and the old
 * graph stays right.  The scan that computes it reads no column.
 *
 * The kept graph is shared by the calls of one backend, one at a time: a
 * call that finds it in use (a function called from a migration body) builds
 * a graph of its own.  Whatever a call allocates in the kept graph's arena is
 * given back when the call's memory goes away, error or not.
 */
typedef struct GraphCache
{
	Oid			relid;			/* migrate_revision */
	Oid			relfilenode;
	uint64		fingerprint;
	uint64		ntuples;
	MemoryContext context;		/* holds everything below */
	MgGraph    *graph;			/* NULL: nothing kept */
	bool	   *transactional;
	bool	   *has_downgrade;
	MgArenaMark mark;			/* the graph as built */
	bool		in_use;
} GraphCache;

static GraphCache graph_cache;

/* Ends a call's use of the kept graph (memory context reset callback) */
static void
graph_cache_done(void *arg)
{
	(void) arg;
	if (graph_cache.graph != NULL)
		mg_graph_release(graph_cache.graph, &graph_cache.mark);
	graph_cache.in_use = false;
}

static void
graph_cache_use(MgState *state)
{
	MemoryContextCallback *cb;

	cb = MemoryContextAlloc(state->context, sizeof(MemoryContextCallback));
	cb->func = graph_cache_done;
	cb->arg = NULL;
	MemoryContextRegisterResetCallback(state->context, cb);
	graph_cache.in_use = true;
	state->graph = graph_cache.graph;
	state->transactional = graph_cache.transactional;
	state->has_downgrade = graph_cache.has_downgrade;
	state->valid = true;
}

/* The columns the graph needs, and where they are in migrate_revision */
enum
{
	COL_REVISION,
	COL_DOWN,
	COL_DEPS,
	COL_LABELS,
	COL_MESSAGE,
	COL_TRANSACTIONAL,
	COL_DOWNGRADE,
	COL_SEQ,
	NUM_COLS
};

static const char *const col_names[NUM_COLS] = {
	"revision", "down_revisions", "depends_on", "branch_labels", "message",
	"transactional", "downgrade", "seq"
};

/* One row as read, before it is added to the graph in seq order */
typedef struct RevRow
{
	int64		seq;
	MgRevInput	in;
	bool		transactional;
	bool		has_downgrade;
} RevRow;

typedef struct SeqIndex
{
	int64		seq;
	uint32		index;
} SeqIndex;

static int
cmp_seq(const void *a, const void *b)
{
	int64		x = ((const SeqIndex *) a)->seq;
	int64		y = ((const SeqIndex *) b)->seq;

	return x < y ? -1 : x > y;
}

/*
 * The rows' indexes in seq order.  seq is unique and usually dense (rows
 * only move in the heap when they are updated), so a table indexed by seq
 * sorts in linear time; a sparse or odd range is sorted the usual way.
 */
static uint32 *
seq_order(const RevRow *rows, uint64 n)
{
	uint32	   *order = palloc_extended(sizeof(uint32) * (n + 1), MCXT_ALLOC_HUGE);
	int64		lo = PG_INT64_MAX;
	int64		hi = PG_INT64_MIN;
	uint64		k = 0;

	for (uint64 i = 0; i < n; i++)
	{
		lo = Min(lo, rows[i].seq);
		hi = Max(hi, rows[i].seq);
	}
	/* differences in unsigned arithmetic: no overflow with any seq */
	if (n > 0 && (uint64) hi - (uint64) lo < 4 * n + 1024)
	{
		uint64		range = (uint64) hi - (uint64) lo + 1;
		int64	   *slot = palloc_extended(sizeof(int64) * range, MCXT_ALLOC_HUGE);
		bool		unique = true;

		for (uint64 j = 0; j < range; j++)
			slot[j] = -1;
		for (uint64 i = 0; i < n && unique; i++)
		{
			int64	   *s = &slot[(uint64) rows[i].seq - (uint64) lo];

			unique = *s < 0;
			*s = (int64) i;
		}
		if (unique)
		{
			for (uint64 j = 0; j < range; j++)
				if (slot[j] >= 0)
					order[k++] = (uint32) slot[j];
			pfree(slot);
			return order;
		}
		pfree(slot);
	}
	{
		SeqIndex   *si = palloc_extended(sizeof(SeqIndex) * (n + 1), MCXT_ALLOC_HUGE);

		for (uint64 i = 0; i < n; i++)
		{
			si[i].seq = rows[i].seq;
			si[i].index = (uint32) i;
		}
		qsort(si, n, sizeof(SeqIndex), cmp_seq);
		for (uint64 i = 0; i < n; i++)
			order[i] = si[i].index;
		pfree(si);
	}
	return order;
}

static inline uint64
mix64(uint64 x)
{
	x ^= x >> 30;
	x *= UINT64CONST(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64CONST(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/* Fingerprint of the row versions the snapshot sees; counts them too */
static uint64
rows_fingerprint(Relation rel, Snapshot snap, uint64 *ntuples)
{
	TableScanDesc scan = table_beginscan(rel, snap, 0, NULL);
	HeapTuple	tup;
	uint64		fp = 0;
	uint64		n = 0;

	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		uint64		pos = ((uint64) ItemPointerGetBlockNumber(&tup->t_self) << 16) |
			ItemPointerGetOffsetNumber(&tup->t_self);
		uint64		xmin = HeapTupleHeaderGetRawXmin(tup->t_data);

		fp = mix64(fp ^ mix64(pos ^ (xmin << 40) ^ (xmin >> 24)));
		n++;
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	*ntuples = n;
	return fp;
}

/* A text datum as a string in the graph's arena */
static const char *
graph_text(MgGraph *g, Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	struct varlena *plain = pg_detoast_datum_packed(v);
	size_t		len = VARSIZE_ANY_EXHDR(plain);
	char	   *s = mg_graph_alloc(g, len + 1);

	memcpy(s, VARDATA_ANY(plain), len);
	s[len] = '\0';
	if (plain != v)
		pfree(plain);
	return s;
}

/* The elements of a text[] datum as strings in the graph's arena */
static int
graph_text_array(MgGraph *g, Datum d, bool isnull, const char *const **items)
{
	ArrayType  *arr;
	const char **out;
	bits8	   *bitmap;
	char	   *p;
	int			n;

	*items = NULL;
	if (isnull)
		return 0;
	arr = DatumGetArrayTypeP(d);
	n = ARR_NDIM(arr) == 0 ? 0 : ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	if (n > 0)
	{
		/* the walk deconstruct_array makes, without its copies */
		out = mg_graph_alloc(g, sizeof(char *) * n);
		bitmap = ARR_NULLBITMAP(arr);
		/* ARR_DATA_PTR, spelled out (the macro mixes signedness) */
		if (ARR_HASNULL(arr))
			p = (char *) arr + arr->dataoffset;
		else
			p = (char *) arr + ARR_OVERHEAD_NONULLS(ARR_NDIM(arr));
		for (int i = 0; i < n; i++)
		{
			if (bitmap && !(bitmap[i / 8] & (1 << (i % 8))))
				out[i] = "";
			else
			{
				out[i] = graph_text(g, PointerGetDatum(p));
				p = att_addlength_pointer(p, -1, p);
				p = (char *) att_align_nominal(p, TYPALIGN_INT);
			}
		}
		*items = out;
	}
	if ((Pointer) arr != DatumGetPointer(d))
		pfree(arr);
	return n;
}

/* Build the graph of the visible rows; returns whether it is valid */
static bool
build_graph(Relation rel, Snapshot snap, MemoryContext cxt, uint64 expected,
			MgGraph **graph, bool **transactional, bool **has_downgrade,
			MgError *err)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			attnum[NUM_COLS];
	MemoryContext rowcxt;
	MemoryContext old;
	TableScanDesc scan;
	HeapTuple	tup;
	Datum	   *vals;
	bool	   *nulls;
	RevRow	   *rows;
	uint64		cap = expected + 1;
	uint64		n = 0;
	bool		sorted = true;
	uint32	   *order;
	bool	   *tr;
	bool	   *hd;
	MgGraph    *g;

	for (int c = 0; c < NUM_COLS; c++)
	{
		attnum[c] = -1;
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped && strcmp(NameStr(att->attname), col_names[c]) == 0)
				attnum[c] = i;
		}
		if (attnum[c] < 0)
			elog(ERROR, "column \"%s\" of %s not found", col_names[c],
				 MG_REVISION_TABLE);
	}

	/*
	 * Strings go straight into the graph's arena; the rows themselves only
	 * wait there for the sort by seq.
	 */
	g = mg_graph_new_in(mg_backend_alloc, mg_backend_free, cxt);
	rows = MemoryContextAllocHuge(cxt, sizeof(RevRow) * cap);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "migrations row",
								   ALLOCSET_SMALL_SIZES);
	vals = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	scan = table_beginscan(rel, snap, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		RevRow	   *r;

		if (n == cap)
		{
			cap *= 2;
			rows = repalloc_huge(rows, sizeof(RevRow) * cap);
		}
		r = &rows[n++];
		memset(r, 0, sizeof(RevRow));
		old = MemoryContextSwitchTo(rowcxt);
		heap_deform_tuple(tup, desc, vals, nulls);
		r->seq = nulls[attnum[COL_SEQ]] ? 0 : DatumGetInt64(vals[attnum[COL_SEQ]]);
		if (n > 1 && r->seq < rows[n - 2].seq)
			sorted = false;
		r->in.id = nulls[attnum[COL_REVISION]] ? "" :
			graph_text(g, vals[attnum[COL_REVISION]]);
		r->in.ndown = graph_text_array(g, vals[attnum[COL_DOWN]],
									   nulls[attnum[COL_DOWN]], &r->in.down);
		r->in.ndeps = graph_text_array(g, vals[attnum[COL_DEPS]],
									   nulls[attnum[COL_DEPS]], &r->in.deps);
		r->in.nlabels = graph_text_array(g, vals[attnum[COL_LABELS]],
										 nulls[attnum[COL_LABELS]], &r->in.labels);
		r->in.message = nulls[attnum[COL_MESSAGE]] ? NULL :
			graph_text(g, vals[attnum[COL_MESSAGE]]);
		r->transactional = nulls[attnum[COL_TRANSACTIONAL]] ? true :
			DatumGetBool(vals[attnum[COL_TRANSACTIONAL]]);
		/* only the null bit: the body itself is not read (nor detoasted) */
		r->has_downgrade = !nulls[attnum[COL_DOWNGRADE]];
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	MemoryContextDelete(rowcxt);
	pfree(vals);
	pfree(nulls);
	order = sorted ? NULL : seq_order(rows, n);

	mg_graph_reserve(g, (int) n);
	tr = MemoryContextAllocHuge(cxt, sizeof(bool) * (n + 1));
	hd = MemoryContextAllocHuge(cxt, sizeof(bool) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		RevRow	   *r = &rows[order ? order[i] : i];

		r->in.tag = (int) i;
		tr[i] = r->transactional;
		hd[i] = r->has_downgrade;
		mg_graph_add_owned(g, &r->in);
	}
	if (order)
		pfree(order);
	pfree(rows);
	*graph = g;
	*transactional = tr;
	*has_downgrade = hd;
	return mg_graph_finish(g, err);
}

/* The same through a query: tables that are not plain heaps, or with RLS */
static bool
build_graph_spi(MgState *state, bool for_change, MgError *err)
{
	StringInfoData sql;
	MemoryContext rowcxt;
	MgGraph    *g;
	uint64		n;
	int			ret;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT revision, down_revisions, depends_on, branch_labels,"
					 " message, transactional, downgrade IS NOT NULL"
					 " FROM %s ORDER BY seq",
					 mg_qualified(MG_REVISION_TABLE));
	ret = SPI_execute(sql.data, !for_change, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read %s: %s", MG_REVISION_TABLE,
			 SPI_result_code_string(ret));

	g = state->graph = mg_graph_new_in(mg_backend_alloc, mg_backend_free,
									   state->context);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "migrations row",
								   ALLOCSET_SMALL_SIZES);
	n = SPI_processed;
	mg_graph_reserve(g, (int) n);
	state->transactional = MemoryContextAllocHuge(state->context, sizeof(bool) * (n + 1));
	state->has_downgrade = MemoryContextAllocHuge(state->context, sizeof(bool) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(rowcxt);
		MgRevInput	in;
		char	  **down,
				  **deps,
				  **labels;
		Datum		vals[7];
		bool		nulls[7];

		/* one pass over the tuple instead of one lookup per column */
		heap_deform_tuple(tup, desc, vals, nulls);
		memset(&in, 0, sizeof(in));
		in.id = TextDatumGetCString(vals[0]);
		in.ndown = text_array_items(vals[1], nulls[1], &down);
		in.down = (const char *const *) down;
		in.ndeps = text_array_items(vals[2], nulls[2], &deps);
		in.deps = (const char *const *) deps;
		in.nlabels = text_array_items(vals[3], nulls[3], &labels);
		in.labels = (const char *const *) labels;
		in.message = nulls[4] ? NULL : TextDatumGetCString(vals[4]);
		in.tag = (int) i;
		state->transactional[i] = nulls[5] ? true : DatumGetBool(vals[5]);
		state->has_downgrade[i] = !nulls[6] && DatumGetBool(vals[6]);
		mg_graph_add(g, &in);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	MemoryContextDelete(rowcxt);
	SPI_freetuptable(SPI_tuptable);
	pfree(sql.data);
	return mg_graph_finish(g, err);
}

/*
 * build_kept_graph
 *		Build the graph into a context of its own and keep it when valid.
 */
static bool
build_kept_graph(MgState *state, Relation rel, Snapshot snap, uint64 fp,
				 uint64 ntuples, MgError *err)
{
	MemoryContext cxt;
	MgGraph    *g;
	bool	   *tr;
	bool	   *hd;
	bool		valid;

	if (graph_cache.context != NULL)
		MemoryContextDelete(graph_cache.context);
	graph_cache.context = NULL;
	graph_cache.graph = NULL;

	/* under the call's context until it is kept: an error frees it */
	cxt = AllocSetContextCreate(state->context, "migrations graph cache",
								ALLOCSET_DEFAULT_SIZES);
	valid = build_graph(rel, snap, cxt, ntuples, &g, &tr, &hd, err);
	if (valid)
	{
		MemoryContextSetParent(cxt, TopMemoryContext);
		graph_cache.context = cxt;
		graph_cache.graph = g;
		graph_cache.transactional = tr;
		graph_cache.has_downgrade = hd;
		graph_cache.relid = RelationGetRelid(rel);
		graph_cache.relfilenode = rel->rd_rel->relfilenode;
		graph_cache.fingerprint = fp;
		graph_cache.ntuples = ntuples;
		mg_graph_mark(g, &graph_cache.mark);
		graph_cache_use(state);
	}
	else
	{
		/* an invalid graph is not kept: it goes with the call */
		state->graph = g;
		state->transactional = tr;
		state->has_downgrade = hd;
	}
	return valid;
}

/*
 * read_revisions
 *		Set state->graph (and the per-revision flags) from the catalog as
 *		the reading snapshot sees it; returns whether the graph is valid.
 */
static bool
read_revisions(MgState *state, bool for_change, MgError *err)
{
	/* what a query would check first */
	Oid			relid = catalog_relid(MG_REVISION_TABLE, ACL_SELECT);
	Relation	rel;
	Snapshot	snap;
	uint64		fp;
	uint64		ntuples;
	bool		valid;

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
	{
		table_close(rel, AccessShareLock);
		return build_graph_spi(state, for_change, err);
	}

	/*
	 * The snapshot a query would use: with for_change a new one (as SPI's
	 * read-write mode takes), to see what the previous holder of the lock
	 * committed.
	 */
	if (for_change)
	{
		CommandCounterIncrement();
		snap = RegisterSnapshot(GetTransactionSnapshot());
	}
	else
		snap = RegisterSnapshot(GetActiveSnapshot());

	fp = rows_fingerprint(rel, snap, &ntuples);
	if (graph_cache.graph != NULL && !graph_cache.in_use &&
		graph_cache.relid == relid &&
		graph_cache.relfilenode == rel->rd_rel->relfilenode &&
		graph_cache.fingerprint == fp && graph_cache.ntuples == ntuples)
	{
		graph_cache_use(state);
		valid = true;
	}
	else if (graph_cache.in_use)
	{
		/* a nested call: a graph of its own, freed with the call */
		valid = build_graph(rel, snap, state->context, ntuples, &state->graph,
							&state->transactional, &state->has_downgrade, err);
	}
	else
		valid = build_kept_graph(state, rel, snap, fp, ntuples, err);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
	return valid;
}

/*
 * mg_load_state
 *		Read every revision (in registration order) and the version table,
 *		and build the graph.  An invalid graph, and with MG_LOAD_ROWS a
 *		version row naming no revision, raises an error, unless
 *		MG_LOAD_LENIENT asks to keep going (state->valid tells).
 *
 *		MG_LOAD_FOR_CHANGE: the caller holds the advisory lock and will
 *		change state.  The reads then take a new snapshot (as SPI's
 *		read-write mode does), so they see what the previous lock holder
 *		committed; read-only mode would reuse the calling query's snapshot,
 *		taken before the wait.
 */
void
mg_load_state(MgState *state, int flags)
{
	bool		for_change = (flags & MG_LOAD_FOR_CHANGE) != 0;
	int			save_nestlevel;
	StringInfoData sql;
	MgGraph    *g;
	MgError		err;
	int			ret;

	memset(state, 0, sizeof(MgState));
	state->context = AllocSetContextCreate(CurrentMemoryContext,
										   "migrations graph",
										   ALLOCSET_DEFAULT_SIZES);

	/*
	 * Queries on the catalog are plain scans: JIT-compiling them would cost
	 * more than it saves.  The setting is restored below.
	 */
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	state->valid = read_revisions(state, for_change, &err);
	g = state->graph;
	if (!state->valid && !(flags & MG_LOAD_LENIENT))
		mg_report(&err);

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT revision FROM %s ORDER BY revision COLLATE pg_catalog.\"C\"",
					 mg_qualified(MG_VERSION_TABLE));
	ret = SPI_execute(sql.data, !for_change, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read %s: %s", MG_VERSION_TABLE,
			 SPI_result_code_string(ret));
	state->nrows = (int) SPI_processed;
	state->row_ids = MemoryContextAlloc(state->context, sizeof(char *) * (state->nrows + 1));
	for (int i = 0; i < state->nrows; i++)
		state->row_ids[i] = MemoryContextStrdup(state->context,
												SPI_getvalue(SPI_tuptable->vals[i],
															 SPI_tuptable->tupdesc, 1));
	SPI_freetuptable(SPI_tuptable);
	pfree(sql.data);
	AtEOXact_GUC(true, save_nestlevel);

	if ((flags & MG_LOAD_ROWS) && state->valid)
	{
		if (!mg_resolve_rows(g, (const char *const *) state->row_ids,
							 state->nrows, &state->rows, &err))
			mg_report(&err);
		state->rows_resolved = true;
	}
}

/*
 * mg_load_bodies
 *		Fetch the SQL bodies the plan runs, in one query; the result is
 *		indexed by revision.
 */
void
mg_load_bodies(MgState *state, const MgPlan *plan, char ***bodies_out)
{
	MgGraph    *g = state->graph;
	int			n = mg_graph_size(g);
	char	  **bodies = MemoryContextAllocHuge(state->context, sizeof(char *) * (n + 1));
	Datum	   *ids;
	int			nids = 0;
	StringInfoData sql;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	bool		upgrade;
	int			ret;

	memset(bodies, 0, sizeof(char *) * (n + 1));
	*bodies_out = bodies;
	if (plan->nsteps == 0)
		return;
	upgrade = plan->steps[0].direction == MG_UPGRADE;
	ids = palloc(sizeof(Datum) * plan->nsteps);
	for (int i = 0; i < plan->nsteps; i++)
		ids[nids++] = CStringGetTextDatum(mg_rev_id(g, plan->steps[i].rev));
	values[0] = PointerGetDatum(construct_array(ids, nids, TEXTOID, -1, false,
												TYPALIGN_INT));

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT revision, %s FROM %s"
					 " WHERE revision OPERATOR(pg_catalog.=) ANY ($1)",
					 upgrade ? "upgrade" : "downgrade",
					 mg_qualified(MG_REVISION_TABLE));
	ret = SPI_execute_with_args(sql.data, 1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read %s: %s", MG_REVISION_TABLE,
			 SPI_result_code_string(ret));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *id = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *body = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		int			rev = mg_lookup(g, id);

		if (rev >= 0 && body != NULL)
			bodies[rev] = MemoryContextStrdup(state->context, body);
	}
	SPI_freetuptable(SPI_tuptable);
	pfree(sql.data);
}

static SPIPlanPtr
prepare(const char *fmt, const char *relname, int nargs, Oid *argtypes)
{
	StringInfoData sql;
	SPIPlanPtr	plan;

	initStringInfo(&sql);
	appendStringInfo(&sql, fmt, mg_qualified(relname));
	plan = SPI_prepare(sql.data, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));
	pfree(sql.data);
	return plan;
}

/*
 * A statement run once per step: prepared again each time its number of
 * uses reaches a power of two (from 64 on).  The version table keeps one
 * dead row version per step until the transaction ends, so a generic plan
 * made when it held one row (a seq scan) would read all of them at every
 * step, and a long upgrade would take quadratic time.
 */
static SPIPlanPtr
step_plan(SPIPlanPtr *plan, uint64 *uses, const char *fmt, const char *relname,
		  int nargs, Oid *argtypes)
{
	if (*plan != NULL && !replan_due(++*uses))
		return *plan;
	if (*plan != NULL)
		SPI_freeplan(*plan);
	*plan = prepare(fmt, relname, nargs, argtypes);
	return *plan;
}

/*
 * mg_version_op
 *		Apply one version-table operation; an UPDATE or DELETE must match
 *		exactly one row.
 */
void
mg_version_op(MgState *state, const MgOp *op)
{
	MgGraph    *g = state->graph;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	int			ret;

	if (state->vset)
	{
		/* kept in memory: the same checks as the statements make */
		int			gone = op->kind == MG_OP_INSERT ? -1 : op->a;
		int			added = op->kind == MG_OP_INSERT ? op->a :
			op->kind == MG_OP_UPDATE ? op->b : -1;

		if (gone >= 0 && !state->vset[gone])
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("version table does not contain revision \"%s\"",
							mg_rev_id(g, gone))));
		if (gone >= 0)
			state->vset[gone] = false;
		if (added >= 0 && state->vset[added])
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("version table already contains revision \"%s\"",
							mg_rev_id(g, added))));
		if (added >= 0)
			state->vset[added] = true;
		return;
	}

	values[0] = CStringGetTextDatum(mg_rev_id(g, op->a));
	switch (op->kind)
	{
		case MG_OP_INSERT:
			ret = mg_catalog_execute(step_plan(&state->plan_insert, &state->uses_insert,
											 "INSERT INTO %s (revision) VALUES ($1)",
											 MG_VERSION_TABLE, 1, argtypes),
								   values, NULL, 0);
			if (ret != SPI_OK_INSERT)
				elog(ERROR, "could not insert into %s: %s", MG_VERSION_TABLE,
					 SPI_result_code_string(ret));
			break;
		case MG_OP_DELETE:
			ret = mg_catalog_execute(step_plan(&state->plan_delete, &state->uses_delete,
											 "DELETE FROM %s WHERE revision OPERATOR(pg_catalog.=) $1",
											 MG_VERSION_TABLE, 1, argtypes),
								   values, NULL, 0);
			if (ret != SPI_OK_DELETE)
				elog(ERROR, "could not delete from %s: %s", MG_VERSION_TABLE,
					 SPI_result_code_string(ret));
			if (SPI_processed != 1)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("version table does not contain revision \"%s\"",
								mg_rev_id(g, op->a)),
						 errdetail("Deleting it matched " UINT64_FORMAT " rows instead of one.",
								   SPI_processed)));
			break;
		case MG_OP_UPDATE:
			values[1] = CStringGetTextDatum(mg_rev_id(g, op->b));
			ret = mg_catalog_execute(step_plan(&state->plan_update, &state->uses_update,
											 "UPDATE %s SET revision = $2 WHERE revision OPERATOR(pg_catalog.=) $1",
											 MG_VERSION_TABLE, 2, argtypes),
								   values, NULL, 0);
			if (ret != SPI_OK_UPDATE)
				elog(ERROR, "could not update %s: %s", MG_VERSION_TABLE,
					 SPI_result_code_string(ret));
			if (SPI_processed != 1)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("version table does not contain revision \"%s\"",
								mg_rev_id(g, op->a)),
						 errdetail("Updating it to \"%s\" matched " UINT64_FORMAT " rows instead of one.",
								   mg_rev_id(g, op->b), SPI_processed)));
			break;
	}
}

/*
 * mg_version_delete_all
 *		Empty the version table (stamp with purge).
 */
void
mg_version_delete_all(void)
{
	SPIPlanPtr	plan = prepare("DELETE FROM %s", MG_VERSION_TABLE, 0, NULL);
	int			ret = mg_catalog_execute(plan, NULL, NULL, 0);

	if (ret != SPI_OK_DELETE)
		elog(ERROR, "could not empty %s: %s", MG_VERSION_TABLE,
			 SPI_result_code_string(ret));
	SPI_freeplan(plan);
}

/*
 * mg_version_defer, mg_version_flush
 *		During a call's steps the version table is kept in memory (the state
 *		after each step is checked there as the statements would), and its
 *		net change is written at the end, in two statements: one UPDATE per
 *		step would leave a dead row version per step for the next one to
 *		step over, and cost more than a trivial step.  Until the call ends,
 *		migrate_version shows the state before it, as it does to every
 *		other session.
 */
void
mg_version_defer(MgState *state)
{
	int			n = mg_graph_size(state->graph);

	Assert(state->rows_resolved);

	/*
	 * The writes come at the end, with the extension owner's rights
	 * (mg_catalog_execute): the caller needs none on the tables.
	 */
	state->vinit = MemoryContextAllocZero(state->context, sizeof(bool) * (n + 1));
	state->vset = MemoryContextAllocZero(state->context, sizeof(bool) * (n + 1));
	for (int i = 0; i < state->rows.n; i++)
		state->vinit[state->rows.items[i]] = state->vset[state->rows.items[i]] = true;
}

void
mg_version_flush(MgState *state)
{
	MgGraph    *g = state->graph;
	int			n = mg_graph_size(g);
	int		   *del = palloc(sizeof(int) * (n + 1));
	int		   *ins = palloc(sizeof(int) * (n + 1));
	int			ndel = 0,
				nins = 0;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	SPIPlanPtr	plan;
	int			ret;

	if (state->vset == NULL)
		return;
	for (int r = 0; r < n; r++)
	{
		if (state->vinit[r] && !state->vset[r])
			del[ndel++] = r;
		else if (!state->vinit[r] && state->vset[r])
			ins[nins++] = r;
	}
	state->vset = state->vinit = NULL;
	if (ndel > 0)
	{
		values[0] = mg_text_array(g, del, ndel);
		plan = prepare("DELETE FROM %s WHERE revision OPERATOR(pg_catalog.=) ANY ($1)",
					   MG_VERSION_TABLE, 1, argtypes);
		ret = mg_catalog_execute(plan, values, NULL, 0);
		if (ret != SPI_OK_DELETE)
			elog(ERROR, "could not delete from %s: %s", MG_VERSION_TABLE,
				 SPI_result_code_string(ret));
		if (SPI_processed != (uint64) ndel)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("version table changed during the migration"),
					 errdetail("Deleting %d rows matched " UINT64_FORMAT ".", ndel,
							   SPI_processed)));
		SPI_freeplan(plan);
	}
	if (nins > 0)
	{
		values[0] = mg_text_array(g, ins, nins);
		plan = prepare("INSERT INTO %s (revision) SELECT pg_catalog.unnest($1)",
					   MG_VERSION_TABLE, 1, argtypes);
		ret = mg_catalog_execute(plan, values, NULL, 0);
		if (ret != SPI_OK_INSERT || SPI_processed != (uint64) nins)
			elog(ERROR, "could not insert into %s: %s", MG_VERSION_TABLE,
				 SPI_result_code_string(ret));
		SPI_freeplan(plan);
	}
	pfree(del);
	pfree(ins);
}

/* A text[] datum from revision ids */
Datum
mg_text_array(MgGraph *g, const int *revs, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * (n + 1));

	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(mg_rev_id(g, revs[i]));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/* A text[] datum from C strings */
Datum
mg_cstring_array(const char *const *items, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * (n + 1));

	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * Log ids
 *
 * The extension gives each log row the next id after the highest one
 * (under the advisory lock, so in order), rather than taking it from
 * migrate_log_id_seq: a sequence has no triggers, and a role granted
 * UPDATE on it could push it to its maximum and stop every migration.
 * The sequence is then moved to the highest id, so that it stays right
 * for pg_dump and for a superuser's direct inserts.
 */
static void
log_sync_sequence(void)
{
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1];
	SPIPlanPtr	plan;
	int			ret;

	values[0] = ObjectIdGetDatum(mg_catalog_relid("migrate_log_id_seq"));
	plan = prepare("SELECT pg_catalog.setval($1, m.id) FROM"
				   " (SELECT pg_catalog.max(id) AS id FROM %s) AS m WHERE m.id IS NOT NULL",
				   MG_LOG_TABLE, 1, argtypes);
	ret = mg_catalog_execute(plan, values, NULL, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not set migrate_log_id_seq: %s", SPI_result_code_string(ret));
	SPI_freetuptable(SPI_tuptable);
	SPI_freeplan(plan);
}

/* Insert one migrate_log row */
static void
log_insert(MgState *state, Datum *values, char *nulls)
{
	Oid			argtypes[6] = {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, INTERVALOID,
	NAMEOID};
	int			ret;

	if (state->plan_log == NULL)
	{
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfo(&sql,
						 "INSERT INTO %s (id, direction, revision, from_revisions,"
						 " to_revisions, duration, logged_by)"
						 " SELECT COALESCE(pg_catalog.max(id), 0) OPERATOR(pg_catalog.+) 1,"
						 " $1, $2, $3, $4, $5, $6 FROM %s",
						 mg_qualified(MG_LOG_TABLE), mg_qualified(MG_LOG_TABLE));
		state->plan_log = SPI_prepare(sql.data, 6, argtypes);
		if (state->plan_log == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", sql.data,
				 SPI_result_code_string(SPI_result));
		pfree(sql.data);
	}
	ret = mg_catalog_execute(state->plan_log, values, nulls, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not insert into %s: %s", MG_LOG_TABLE,
			 SPI_result_code_string(ret));
	log_sync_sequence();
}

/*
 * The log of a call's steps
 *
 * Each step's row is kept in memory, with the time it ended and the role
 * that ran it, and the rows are written together by one statement when the
 * call's steps have run (mg_log_flush): one INSERT per step would cost more
 * than a trivial step itself.  Rows come in step order, so ids follow it.
 * A body does not see the rows of the call that runs it.
 */
typedef struct MgLogRow
{
	const char *direction;
	char	   *revision;		/* NULL for none */
	char	   *from;			/* ids joined with commas (ids have none) */
	char	   *to;
	int64		usecs;			/* duration, or -1 for none */
	TimestampTz at;
	Oid			userid;
} MgLogRow;

/* Revision ids joined with commas */
static char *
join_ids(MemoryContext cxt, MgGraph *g, const int *revs, int n)
{
	StringInfoData buf;
	MemoryContext old = MemoryContextSwitchTo(cxt);

	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, mg_rev_id(g, revs[i]));
	}
	MemoryContextSwitchTo(old);
	return buf.data;
}

/*
 * mg_log_step
 *		Record one step: from_revisions are the version rows the step
 *		removed, to_revisions the rows it added.
 */
void
mg_log_step(MgState *state, const MgStep *step, double seconds)
{
	MgGraph    *g = state->graph;
	int		   *from = palloc(sizeof(int) * (step->nops + 1));
	int		   *to = palloc(sizeof(int) * (step->nops + 1));
	int			nfrom = 0,
				nto = 0;
	MgLogRow   *row;

	for (int i = 0; i < step->nops; i++)
	{
		const MgOp *op = &step->ops[i];

		if (op->kind == MG_OP_INSERT)
			to[nto++] = op->a;
		else if (op->kind == MG_OP_DELETE)
			from[nfrom++] = op->a;
		else
		{
			from[nfrom++] = op->a;
			to[nto++] = op->b;
		}
	}
	if (state->nlog == state->caplog)
	{
		state->caplog = state->caplog ? state->caplog * 2 : 64;
		if (state->log_rows == NULL)
			state->log_rows = MemoryContextAllocHuge(state->context,
													 sizeof(MgLogRow) * state->caplog);
		else
			state->log_rows = repalloc_huge(state->log_rows,
											sizeof(MgLogRow) * state->caplog);
	}
	row = &state->log_rows[state->nlog++];
	row->direction = step->direction == MG_UPGRADE ? "upgrade" :
		step->direction == MG_DOWNGRADE ? "downgrade" : "stamp";
	row->revision = step->rev >= 0 ?
		MemoryContextStrdup(state->context, mg_rev_id(g, step->rev)) : NULL;
	row->from = join_ids(state->context, g, from, nfrom);
	row->to = join_ids(state->context, g, to, nto);
	row->usecs = step->direction == MG_STAMP ? -1 : (int64) (seconds * 1000000.0);
	row->at = GetCurrentTimestamp();
	row->userid = GetUserId();
	pfree(from);
	pfree(to);
}

/*
 * mg_log_flush
 *		Write the log rows of the steps run so far, in one statement.
 */
void
mg_log_flush(MgState *state)
{
	static const Oid argtypes[7] = {TIMESTAMPTZARRAYOID, NAMEARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	INTERVALARRAYOID};
	static const Oid elemtypes[7] = {TIMESTAMPTZOID, NAMEOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, INTERVALOID};
	int			n = state->nlog;
	Datum	   *cols[7];
	bool	   *colnulls[7];
	Datum		values[7];
	int			dims[1];
	int			lbs[1] = {1};
	SPIPlanPtr	plan;
	StringInfoData sql;
	int			ret;

	if (n == 0)
		return;
	for (int c = 0; c < 7; c++)
	{
		cols[c] = palloc(sizeof(Datum) * n);
		colnulls[c] = palloc0(sizeof(bool) * n);
	}
	for (int i = 0; i < n; i++)
	{
		MgLogRow   *row = &state->log_rows[i];
		NameData   *by = palloc(sizeof(NameData));

		namestrcpy(by, GetUserNameFromId(row->userid, false));
		cols[0][i] = TimestampTzGetDatum(row->at);
		cols[1][i] = NameGetDatum(by);
		cols[2][i] = CStringGetTextDatum(row->direction);
		if (row->revision)
			cols[3][i] = CStringGetTextDatum(row->revision);
		else
			colnulls[3][i] = true;
		cols[4][i] = CStringGetTextDatum(row->from);
		cols[5][i] = CStringGetTextDatum(row->to);
		if (row->usecs >= 0)
		{
			Interval   *iv = palloc0(sizeof(Interval));

			iv->time = row->usecs;
			cols[6][i] = IntervalPGetDatum(iv);
		}
		else
			colnulls[6][i] = true;
	}
	dims[0] = n;
	for (int c = 0; c < 7; c++)
	{
		int16		typlen;
		bool		typbyval;
		char		typalign;

		get_typlenbyvalalign(elemtypes[c], &typlen, &typbyval, &typalign);
		values[c] = PointerGetDatum(construct_md_array(cols[c], colnulls[c], 1, dims, lbs,
													   elemtypes[c], typlen, typbyval, typalign));
	}
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO %s (id, logged_at, logged_by, direction, revision,"
					 " from_revisions, to_revisions, duration)"
					 " SELECT b.id OPERATOR(pg_catalog.+) u.ord, u.at, u.by, u.dir, u.rev,"
					 " pg_catalog.string_to_array(u.f, ','),"
					 " pg_catalog.string_to_array(u.t, ','), u.dur"
					 " FROM (SELECT COALESCE(pg_catalog.max(id), 0) AS id FROM %s) AS b,"
					 " ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
					 " pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5),"
					 " pg_catalog.unnest($6), pg_catalog.unnest($7))"
					 " WITH ORDINALITY AS u(at, by, dir, rev, f, t, dur, ord)"
					 " ORDER BY u.ord",
					 mg_qualified(MG_LOG_TABLE), mg_qualified(MG_LOG_TABLE));
	plan = SPI_prepare(sql.data, 7, (Oid *) argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));
	ret = mg_catalog_execute(plan, values, NULL, 0);
	if (ret != SPI_OK_INSERT || SPI_processed != (uint64) n)
		elog(ERROR, "could not insert into %s: %s", MG_LOG_TABLE,
			 SPI_result_code_string(ret));
	SPI_freeplan(plan);
	pfree(sql.data);
	log_sync_sequence();
	state->nlog = 0;
}

/*
 * mg_log_purge
 *		Record that a stamp with purge emptied the version table, whose rows
 *		need not name registered revisions.
 */
void
mg_log_purge(MgState *state)
{
	Datum		values[6];
	char		nulls[6] = {' ', 'n', ' ', ' ', 'n', ' '};

	values[0] = CStringGetTextDatum("stamp");
	values[1] = (Datum) 0;
	values[2] = mg_cstring_array((const char *const *) state->row_ids, state->nrows);
	values[3] = mg_cstring_array(NULL, 0);
	values[4] = (Datum) 0;
	values[5] = mg_current_role_datum();
	log_insert(state, values, nulls);
}
