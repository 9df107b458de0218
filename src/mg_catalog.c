/*-------------------------------------------------------------------------
 *
 * mg_catalog.c
 *	  Catalog access of the migrations extension: every SQL text the
 *	  extension runs against its own tables lives here and in
 *	  mg_catalog_read.c (the catalog layer).  Queries are built with
 *	  schema-qualified names and qualified operators, values are passed as
 *	  parameters only.
 *
 * It owns: the identity of the extension's tables; the advisory lock and the
 * snapshot check of changes (mg_lock_changes); the statements on
 * migrate_revision that migrate_register needs (mg_revision_*); the writes
 * of version rows and log rows of every feature, kept during a run and
 * flushed together (mg_pending_*, mg_version_purge); the extension owner's
 * rights for those writes, and the guard triggers that refuse every other
 * write (migrate_catalog_guard); the mapping of core errors to SQLSTATEs
 * (mg_report).  Reading the catalog into an MgCatalog (mg_load_state), with
 * the revision graph kept between calls, is mg_catalog_read.c's.
 *
 * It must not decide what a call may do (that is the SQL-callable layer's,
 * migrations.c and mg_register.c) nor run revision bodies (mg_execute.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
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
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/snapmgr.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "mg_backend.h"
#include "mg_catalog_int.h"

/*
 * mg_extension_row
 *		Namespace and owner of an extension, read from pg_extension
 *		(PostgreSQL 15 does not export get_extension_schema()); InvalidOid
 *		(and *owner InvalidOid) when there is no such extension.
 */
Oid
mg_extension_row(Oid extoid, Oid *owner)
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

/* The schema of an extension */
static Oid
extension_schema(Oid extoid)
{
	return mg_extension_row(extoid, NULL);
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
 * mg_catalog_relid_acl
 *		OID of one of the extension's tables.  With mode, the current role
 *		must hold that privilege on it, as a query would check.
 */
Oid
mg_catalog_relid_acl(const char *relname, AclMode mode)
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
	return mg_catalog_relid_acl(relname, ACL_NO_RIGHTS);
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
 * migrate_register's facts about the applied set (mg_register.c) hold only
 * while it is unchanged.
 */
uint64		mg_catalog_generation = 0;

/*
 * catalog_execute
 *		Run a prepared statement on the catalog with the extension owner's
 *		rights, as SPI_execute_plan would.  The caller's user id and
 *		security context come back afterwards, on error too.  The operation
 *		is security-restricted, as PostgreSQL's own maintenance commands
 *		are when they act as a table's owner.
 */
static int
catalog_execute(SPIPlanPtr plan, Datum *values, const char *nulls,
				long tcount)
{
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	volatile int ret = 0;

	(void) mg_extension_row(get_extension_oid(MG_EXTENSION_NAME, false), &owner);
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
static Datum
current_role_datum(void)
{
	NameData   *name = palloc(sizeof(NameData));

	namestrcpy(name, GetUserNameFromId(GetUserId(), false));
	return NameGetDatum(name);
}

/*
 * prepare
 *		Prepare fmt, whose one %s is replaced by the qualified name of the
 *		extension's table relname.  The plan lives until SPI_finish.
 */
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
 * mg_spi_check
 *		A statement on the catalog that did not give the result it must can
 *		only be a bug: an internal error that names the statement and SPI's
 *		result code, as PostgreSQL's own SPI callers report it.
 */
void
mg_spi_check(int ret, int expected, const char *what)
{
	if (ret != expected)
		elog(ERROR, "SPI failed on %s: %s", what,
			 SPI_result_code_string(ret));
}

/* ... and one that must have processed exactly n rows */
static void
spi_check_rows(int ret, int expected, uint64 n, const char *what)
{
	mg_spi_check(ret, expected, what);
	if (SPI_processed != n)
		elog(ERROR, "%s processed " UINT64_FORMAT " rows instead of " UINT64_FORMAT,
			 what, SPI_processed, n);
}

/*
 * refuse_write_in_step
 *		The error of a write of the extension's tables by a revision body.
 */
static void
refuse_write_in_step(TriggerData *td)
{
	const char *relname = RelationGetRelationName(td->tg_relation);

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot insert into table %s from a migration step", relname),
				 errdetail("The migration running the step records the revisions, the version table and the log itself; a body may read them but not change them."),
				 errhint("Change migration state with migrate_stamp() or migrate_register() after the migration.")));
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot update table %s from a migration step", relname),
				 errdetail("The migration running the step records the revisions, the version table and the log itself; a body may read them but not change them."),
				 errhint("Change migration state with migrate_stamp() or migrate_register() after the migration.")));
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot delete from table %s from a migration step", relname),
				 errdetail("The migration running the step records the revisions, the version table and the log itself; a body may read them but not change them."),
				 errhint("Change migration state with migrate_stamp() or migrate_register() after the migration.")));
	else
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot truncate table %s from a migration step", relname),
				 errdetail("The migration running the step records the revisions, the version table and the log itself; a body may read them but not change them."),
				 errhint("Change migration state with migrate_stamp() or migrate_register() after the migration.")));
}

/*
 * refuse_direct_write
 *		The error of a write of the extension's tables by anyone but the
 *		extension's functions or a superuser.
 */
static void
refuse_direct_write(TriggerData *td)
{
	const char *relname = RelationGetRelationName(td->tg_relation);

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to insert into table %s", relname),
				 errdetail("The tables of extension \"%s\" change only through its functions migrate_register(), migrate_upgrade(), migrate_downgrade() and migrate_stamp(), whatever rights a role holds on the tables.",
						   MG_EXTENSION_NAME),
				 errhint("Only a superuser may write them directly, outside migration steps, as pg_restore does.")));
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to update table %s", relname),
				 errdetail("The tables of extension \"%s\" change only through its functions migrate_register(), migrate_upgrade(), migrate_downgrade() and migrate_stamp(), whatever rights a role holds on the tables.",
						   MG_EXTENSION_NAME),
				 errhint("Only a superuser may write them directly, outside migration steps, as pg_restore does.")));
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to delete from table %s", relname),
				 errdetail("The tables of extension \"%s\" change only through its functions migrate_register(), migrate_upgrade(), migrate_downgrade() and migrate_stamp(), whatever rights a role holds on the tables.",
						   MG_EXTENSION_NAME),
				 errhint("Only a superuser may write them directly, outside migration steps, as pg_restore does.")));
	else
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to truncate table %s", relname),
				 errdetail("The tables of extension \"%s\" change only through its functions migrate_register(), migrate_upgrade(), migrate_downgrade() and migrate_stamp(), whatever rights a role holds on the tables.",
						   MG_EXTENSION_NAME),
				 errhint("Only a superuser may write them directly, outside migration steps, as pg_restore does.")));
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

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migrate_catalog_guard() may only be called as a trigger")));
	td = (TriggerData *) fcinfo->context;

	/* a changed graph is validated at commit (mg_provenance.c) */
	if (strcmp(RelationGetRelationName(td->tg_relation), MG_REVISION_TABLE) == 0)
		mg_graph_check_at_commit();

	if (catalog_writes == 0)
	{
		bool		in_step = mg_step_running();

		if (!in_step && superuser())
		{
			(void) DirectFunctionCall1(pg_advisory_xact_lock_int8,
									   Int64GetDatum(MG_ADVISORY_LOCK_KEY));
			mg_catalog_generation++;
		}
		else if (in_step)
			refuse_write_in_step(td);
		else
			refuse_direct_write(td);
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
		Oid			relid = mg_catalog_relid_acl(tables[t], ACL_NO_RIGHTS);

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
 * mg_kept_plan).
 */
static inline bool
replan_due(uint64 uses)
{
	return uses >= 64 && (uses & (uses - 1)) == 0;
}

/* A plan kept across calls, keyed by its statement text */
typedef struct MgKeptPlan
{
	SPIPlanPtr	plan;
	char	   *sql;
	uint64		uses;			/* calls so far (see mg_kept_plan) */
} MgKeptPlan;

/*
 * mg_kept_plan
 *		A plan kept for the life of the backend, for statements run once per
 *		call of a function that is called once per row (migrate_register).
 *		The statement text is the key: when the extension is created again
 *		in another schema, the qualified names change and the statement is
 *		prepared again.  Plans of dropped tables are invalidated by the plan
 *		cache as usual.
 */
static SPIPlanPtr
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
		Relation	rel = table_open(mg_catalog_relid_acl(MG_REVISION_TABLE, ACL_NO_RIGHTS),
									 AccessShareLock);

		if (rel->rd_rel->relam == HEAP_TABLE_AM_OID)
		{
			Snapshot	snap_mine = RegisterSnapshot(GetTransactionSnapshot());
			Snapshot	snap_latest = RegisterSnapshot(GetLatestSnapshot());
			uint64		n1,
						n2;

			if (mg_rows_fingerprint(rel, snap_mine, &n1) !=
				mg_rows_fingerprint(rel, snap_latest, &n2) || n1 != n2)
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
 * notice_lock_holder
 *		Say, as a NOTICE, which backend holds the migrations lock that this
 *		one is about to wait for: a migration that waits behind another
 *		should not look hung.  The holder is read from pg_locks and
 *		pg_stat_activity (whose pid and application_name every role may
 *		read); when it let go meanwhile, nothing is said.
 */
static void
notice_lock_holder(void)
{
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		values[2];
	int			ret;

	/* an int8 advisory key shows as its high and low halves, objsubid 1 */
	values[0] = ObjectIdGetDatum((Oid) (((uint64) MG_ADVISORY_LOCK_KEY) >> 32));
	values[1] = ObjectIdGetDatum((Oid) (((uint64) MG_ADVISORY_LOCK_KEY) & 0xffffffff));
	ret = SPI_execute_with_args("SELECT a.pid, a.application_name"
								" FROM pg_catalog.pg_locks AS l"
								" JOIN pg_catalog.pg_stat_activity AS a"
								"  ON a.pid OPERATOR(pg_catalog.=) l.pid"
								" WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'"
								" AND l.granted"
								" AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid"
								"  FROM pg_catalog.pg_database AS d"
								"  WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
								" AND l.classid OPERATOR(pg_catalog.=) $1"
								" AND l.objid OPERATOR(pg_catalog.=) $2"
								" AND l.objsubid OPERATOR(pg_catalog.=) 1"
								" AND l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()"
								" LIMIT 1",
								2, argtypes, values, NULL, true, 1);
	mg_spi_check(ret, SPI_OK_SELECT, "SELECT of the migrations lock holder");
	if (SPI_processed > 0)
	{
		char	   *pid = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *app = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		if (app && app[0])
			ereport(NOTICE,
					(errmsg("waiting for the migrations lock held by process %s (%s)",
							pid, app),
					 errdetail("Another migration of this database is running; this one goes on when that transaction ends.")));
		else
			ereport(NOTICE,
					(errmsg("waiting for the migrations lock held by process %s", pid),
					 errdetail("Another migration of this database is running; this one goes on when that transaction ends.")));
	}
	SPI_freetuptable(SPI_tuptable);
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

	/* taken at once, or said whom we wait for, then waited for */
	if (DatumGetBool(DirectFunctionCall1(pg_try_advisory_xact_lock_int8,
										 Int64GetDatum(MG_ADVISORY_LOCK_KEY))))
		goto locked;
	notice_lock_holder();
	if (SPI_execute_plan(mg_kept_plan(&lock_plan, "SELECT pg_catalog.pg_advisory_xact_lock($1)",
									  1, argtypes),
						 values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not take the migrations advisory lock");
	SPI_freetuptable(SPI_tuptable);

locked:
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
int
mg_text_array_items(Datum arr, bool isnull, char ***items)
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
 * Writing migrate_revision (migrate_register)
 *
 * migrate_register decides what a registration may change (mg_register.c);
 * the statements that read and write the row are here.  They run with the
 * extension owner's rights (catalog_execute), and are kept across calls
 * (mg_kept_plan): a load calls migrate_register once per revision.
 */
static MgKeptPlan revision_select_plan,
			revision_insert_plan,
			revision_update_plan;

/* Types of $1 .. $13 of the statements below */
static Oid	revision_argtypes[13] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID, NAMEOID,
BOOLOID, BOOLOID, BYTEAOID};

/*
 * $1 .. $10: the definition, and the calling role as registered_by; $13:
 * the body checksum (mg_body_checksum)
 */
static void
revision_params(const MgRevisionDef *def, Datum *values, char *nulls)
{
	values[0] = CStringGetTextDatum(def->revision);
	values[1] = mg_cstring_array((const char *const *) def->down, def->ndown);
	values[2] = mg_cstring_array((const char *const *) def->deps, def->ndeps);
	values[3] = mg_cstring_array((const char *const *) def->labels, def->nlabels);
	values[4] = def->message ? CStringGetTextDatum(def->message) : (Datum) 0;
	values[5] = CStringGetTextDatum(def->upgrade);
	values[6] = def->downgrade ? CStringGetTextDatum(def->downgrade) : (Datum) 0;
	values[7] = BoolGetDatum(def->transactional);
	values[8] = def->source ? CStringGetTextDatum(def->source) : (Datum) 0;
	values[9] = current_role_datum();
	values[12] = PointerGetDatum(mg_body_checksum(def->upgrade, def->downgrade, NULL));
	memset(nulls, ' ', 13);
	nulls[4] = def->message ? ' ' : 'n';
	nulls[6] = def->downgrade ? ' ' : 'n';
	nulls[8] = def->source ? ' ' : 'n';
}

/*
 * Whether table relname of the installed version has the checksum column
 * of 0.4 (one shared library serves every version: a database still at
 * 0.3 has none, and its statements must not name it)
 */
static bool
has_checksum(const char *relname)
{
	return get_attnum(mg_catalog_relid(relname), "checksum") != InvalidAttrNumber;
}

/* The seq a RETURNING seq statement returned */
static int64
returned_seq(void)
{
	bool		isnull;
	int64		seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));

	SPI_freetuptable(SPI_tuptable);
	return seq;
}

/*
 * mg_revision_lock
 *		Read the stored row of revision, locked FOR UPDATE (which needs the
 *		right to update: with the owner's rights).  Returns false when there
 *		is none; otherwise fills *out, in the caller's memory context.
 */
bool
mg_revision_lock(const char *revision, MgStoredRevision *out)
{
	StringInfoData sql;
	Datum		values[1];
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		value;
	bool		isnull;
	int			ret;

	values[0] = CStringGetTextDatum(revision);
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT down_revisions, depends_on, branch_labels, message,"
					 " upgrade, downgrade, transactional, source, seq"
					 " FROM %s WHERE revision OPERATOR(pg_catalog.=) $1 FOR UPDATE",
					 mg_qualified(MG_REVISION_TABLE));
	ret = catalog_execute(mg_kept_plan(&revision_select_plan, sql.data, 1,
									   revision_argtypes),
						  values, NULL, 0);
	mg_spi_check(ret, SPI_OK_SELECT, "SELECT ... FOR UPDATE on " MG_REVISION_TABLE);
	pfree(sql.data);
	if (SPI_processed == 0)
	{
		SPI_freetuptable(SPI_tuptable);
		return false;
	}
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	/* (the null flag is read after the call that sets it) */
	value = SPI_getbinval(tup, desc, 1, &isnull);
	out->ndown = mg_text_array_items(value, isnull, &out->down);
	value = SPI_getbinval(tup, desc, 2, &isnull);
	out->ndeps = mg_text_array_items(value, isnull, &out->deps);
	value = SPI_getbinval(tup, desc, 3, &isnull);
	out->nlabels = mg_text_array_items(value, isnull, &out->labels);
	out->message = SPI_getvalue(tup, desc, 4);
	out->upgrade = SPI_getvalue(tup, desc, 5);
	out->downgrade = SPI_getvalue(tup, desc, 6);
	out->transactional = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
	out->source = SPI_getvalue(tup, desc, 8);
	out->seq = DatumGetInt64(SPI_getbinval(tup, desc, 9, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return true;
}

/*
 * mg_revision_insert
 *		Store a new revision after every registered one; returns its seq.
 */
int64
mg_revision_insert(const MgRevisionDef *def)
{
	StringInfoData sql;
	const char *revtable = mg_qualified(MG_REVISION_TABLE);
	Datum		values[13];
	char		nulls[13];
	int			ret;
	int64		seq;
	bool		ck = has_checksum(MG_REVISION_TABLE);

	revision_params(def, values, nulls);
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO %s (revision, down_revisions, depends_on,"
					 " branch_labels, message, upgrade, downgrade, transactional,"
					 " source, registered_by, seq%s)"
					 " SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
					 " COALESCE(pg_catalog.max(seq), 0) OPERATOR(pg_catalog.+) 1%s FROM %s"
					 " RETURNING seq",
					 revtable, ck ? ", checksum" : "", ck ? ", $13" : "", revtable);
	values[10] = values[11] = BoolGetDatum(false);	/* unused */
	ret = catalog_execute(mg_kept_plan(&revision_insert_plan, sql.data, 13,
									   revision_argtypes),
						  values, nulls, 0);
	spi_check_rows(ret, SPI_OK_INSERT_RETURNING, 1, "INSERT INTO " MG_REVISION_TABLE);
	seq = returned_seq();
	pfree(sql.data);
	return seq;
}

/*
 * mg_revision_update
 *		Store def over the row of the same revision; returns its seq.  With
 *		changed, registered_at and registered_by are set anew; with
 *		move_to_end, the row takes a seq after every other.
 */
int64
mg_revision_update(const MgRevisionDef *def, bool changed, bool move_to_end)
{
	StringInfoData sql;
	const char *revtable = mg_qualified(MG_REVISION_TABLE);
	Datum		values[13];
	char		nulls[13];
	int			ret;
	int64		seq;

	revision_params(def, values, nulls);
	values[10] = BoolGetDatum(changed);
	values[11] = BoolGetDatum(move_to_end);
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "UPDATE %s SET down_revisions = $2, depends_on = $3,"
					 " branch_labels = $4, message = $5, upgrade = $6,"
					 " downgrade = $7, transactional = $8, source = $9,%s"
					 " registered_at = CASE WHEN $11 THEN pg_catalog.clock_timestamp()"
					 "  ELSE registered_at END,"
					 " registered_by = CASE WHEN $11 THEN $10 ELSE registered_by END,"
					 " seq = CASE WHEN $12 THEN (SELECT pg_catalog.max(m.seq)"
					 "  OPERATOR(pg_catalog.+) 1 FROM %s AS m) ELSE seq END"
					 " WHERE revision OPERATOR(pg_catalog.=) $1"
					 " RETURNING seq",
					 revtable, has_checksum(MG_REVISION_TABLE) ? " checksum = $13," : "",
					 revtable);
	ret = catalog_execute(mg_kept_plan(&revision_update_plan, sql.data, 13,
									   revision_argtypes),
						  values, nulls, 0);
	spi_check_rows(ret, SPI_OK_UPDATE_RETURNING, 1, "UPDATE " MG_REVISION_TABLE);
	seq = returned_seq();
	pfree(sql.data);
	return seq;
}

/*
 * mg_revision_set_verify
 *		Store verify (NULL: none) as the verify body of revision, whose row
 *		exists.  Returns whether it changed.  A statement of its own, after
 *		the row's insert or update, so that the row's other columns are
 *		written the same way whatever the catalog version: only callers
 *		that found the column (mg_catalog_has_verify) call it.  The row's
 *		body checksum covers the verify body too (mg_body_checksum's
 *		encoding): it is computed again here, by the same C function
 *		(migrate_checksum), from the stored bodies.
 */
bool
mg_revision_set_verify(const char *revision, const char *verify)
{
	static MgKeptPlan verify_update_plan;
	static Oid	argtypes[2] = {TEXTOID, TEXTOID};
	StringInfoData sql;
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	int			ret;
	bool		changed;

	values[0] = CStringGetTextDatum(revision);
	values[1] = verify ? CStringGetTextDatum(verify) : (Datum) 0;
	nulls[1] = verify ? ' ' : 'n';
	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s SET verify = $2", mg_qualified(MG_REVISION_TABLE));
	if (has_checksum(MG_REVISION_TABLE))
		appendStringInfo(&sql, ", checksum = %s(upgrade, downgrade, $2)",
						 mg_qualified("migrate_checksum"));
	appendStringInfoString(&sql,
						   " WHERE revision OPERATOR(pg_catalog.=) $1"
						   " AND verify IS DISTINCT FROM $2");
	ret = catalog_execute(mg_kept_plan(&verify_update_plan, sql.data, 2, argtypes),
						  values, nulls, 0);
	mg_spi_check(ret, SPI_OK_UPDATE, "UPDATE of verify on " MG_REVISION_TABLE);
	changed = SPI_processed > 0;
	pfree(sql.data);
	return changed;
}

/*
 * mg_revision_applied_extras
 *		What migrate_register needs beyond the graph about the applied
 *		revisions ids[0 .. nids-1] (nids > 0): the highest seq among them in
 *		*max_seq (0 for none), and the parents they name that are not
 *		registered, returned in *missing with their number.  Read with the
 *		caller's rights, as the graph is.
 */
int
mg_revision_applied_extras(const Datum *ids, int nids, int64 *max_seq,
						   char ***missing)
{
	const char *rev = mg_qualified(MG_REVISION_TABLE);
	StringInfoData sql;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	int			nmissing = 0;
	int			ret;

	values[0] = PointerGetDatum(construct_array((Datum *) ids, nids, TEXTOID, -1,
												false, TYPALIGN_INT));
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.max(seq)::pg_catalog.text FROM %s"
					 " WHERE revision OPERATOR(pg_catalog.=) ANY ($1)"
					 " UNION ALL"
					 " (SELECT d.d FROM %s AS r, pg_catalog.unnest(r.down_revisions) AS d(d)"
					 "  WHERE r.revision OPERATOR(pg_catalog.=) ANY ($1)"
					 "  EXCEPT SELECT revision FROM %s)",
					 rev, rev, rev);
	ret = SPI_execute_with_args(sql.data, 1, argtypes, values, NULL, false, 0);
	mg_spi_check(ret, SPI_OK_SELECT, "SELECT on " MG_REVISION_TABLE);
	if (SPI_processed < 1)
		elog(ERROR, "SELECT on %s returned no row", MG_REVISION_TABLE);
	*max_seq = 0;
	*missing = palloc(sizeof(char *) * SPI_processed);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (i == 0)
			*max_seq = v ? pg_strtoint64(v) : 0;
		else if (v)
			(*missing)[nmissing++] = v;
	}
	SPI_freetuptable(SPI_tuptable);
	pfree(sql.data);
	return nmissing;
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
	ret = catalog_execute(plan, values, NULL, 0);
	mg_spi_check(ret, SPI_OK_SELECT, "setval of migrate_log_id_seq");
	SPI_freetuptable(SPI_tuptable);
	SPI_freeplan(plan);
}

/*
 * Writing migrate_version and migrate_log (the executor, mg_run.c)
 *
 * During a run the version table is kept in memory (MgPendingWrites: the
 * state after each step is checked there as the statements would check
 * it), and so are the log rows of its steps.  mg_pending_flush writes the
 * net change of the version table in two statements and the log rows in
 * one: one UPDATE per step would leave a dead row version per step for the
 * next one to step over, and one INSERT per step would cost more than a
 * trivial step.  Until the flush, migrate_version and migrate_log show the
 * state before the run, to its bodies as to every other session.  The
 * writes run with the extension owner's rights (catalog_execute): the
 * caller needs none on the tables.
 */

/* A step's log row, as kept until the flush */
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

/*
 * mg_pending_begin
 *		Start keeping the writes of a run on cat's graph; rows is the
 *		version table as it is now.  The buffers live in cat's context.
 */
void
mg_pending_begin(MgPendingWrites *pw, MgCatalog *cat, MgList rows)
{
	int			n = mg_graph_size(cat->graph);

	memset(pw, 0, sizeof(MgPendingWrites));
	pw->graph = cat->graph;
	pw->context = cat->context;
	pw->vinit = MemoryContextAllocZero(pw->context, sizeof(bool) * (n + 1));
	pw->vset = MemoryContextAllocZero(pw->context, sizeof(bool) * (n + 1));
	for (int i = 0; i < rows.n; i++)
		pw->vinit[rows.items[i]] = pw->vset[rows.items[i]] = true;
}

/*
 * mg_pending_version_op
 *		Apply one version-table operation in memory, with the checks the
 *		statements would make: a row removed or updated must be there, a
 *		row added must not.
 */
void
mg_pending_version_op(MgPendingWrites *pw, const MgOp *op)
{
	MgGraph    *g = pw->graph;
	int			gone = op->kind == MG_OP_INSERT ? -1 : op->a;
	int			added = op->kind == MG_OP_INSERT ? op->a :
		op->kind == MG_OP_UPDATE ? op->b : -1;

	if (gone >= 0 && !pw->vset[gone])
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("version table does not contain revision \"%s\"",
						mg_rev_id(g, gone))));
	if (gone >= 0)
		pw->vset[gone] = false;
	if (added >= 0 && pw->vset[added])
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("version table already contains revision \"%s\"",
						mg_rev_id(g, added))));
	if (added >= 0)
		pw->vset[added] = true;
}

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
 * mg_pending_log_step
 *		Keep the log row of one step, with the time it ended and the role
 *		that ran it: from_revisions are the version rows the step removed,
 *		to_revisions the rows it added; a stamp step has no duration.
 */
void
mg_pending_log_step(MgPendingWrites *pw, const MgStep *step, double seconds)
{
	MgGraph    *g = pw->graph;
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
	if (pw->nlog == pw->caplog)
	{
		pw->caplog = pw->caplog ? pw->caplog * 2 : 64;
		if (pw->log_rows == NULL)
			pw->log_rows = MemoryContextAllocHuge(pw->context,
												  sizeof(MgLogRow) * pw->caplog);
		else
			pw->log_rows = repalloc_huge(pw->log_rows,
										 sizeof(MgLogRow) * pw->caplog);
	}
	row = &pw->log_rows[pw->nlog++];
	row->direction = step->direction == MG_UPGRADE ? "upgrade" :
		step->direction == MG_DOWNGRADE ? "downgrade" : "stamp";
	row->revision = step->rev >= 0 ?
		MemoryContextStrdup(pw->context, mg_rev_id(g, step->rev)) : NULL;
	row->from = join_ids(pw->context, g, from, nfrom);
	row->to = join_ids(pw->context, g, to, nto);
	row->usecs = step->direction == MG_STAMP ? -1 : (int64) (seconds * 1000000.0);
	row->at = GetCurrentTimestamp();
	row->userid = GetUserId();
	pfree(from);
	pfree(to);
}

/*
 * flush_version
 *		Write the net change of the version table since the last flush: one
 *		DELETE of the rows gone, one INSERT of the rows added.
 */
static void
flush_version(MgPendingWrites *pw)
{
	MgGraph    *g = pw->graph;
	int			n = mg_graph_size(g);
	int		   *del = palloc(sizeof(int) * (n + 1));
	int		   *ins = palloc(sizeof(int) * (n + 1));
	int			ndel = 0,
				nins = 0;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	SPIPlanPtr	plan;
	int			ret;

	for (int r = 0; r < n; r++)
	{
		if (pw->vinit[r] && !pw->vset[r])
			del[ndel++] = r;
		else if (!pw->vinit[r] && pw->vset[r])
			ins[nins++] = r;
		pw->vinit[r] = pw->vset[r];
	}
	if (ndel > 0)
	{
		values[0] = mg_text_array(g, del, ndel);
		plan = prepare("DELETE FROM %s WHERE revision OPERATOR(pg_catalog.=) ANY ($1)",
					   MG_VERSION_TABLE, 1, argtypes);
		ret = catalog_execute(plan, values, NULL, 0);
		mg_spi_check(ret, SPI_OK_DELETE, "DELETE FROM " MG_VERSION_TABLE);
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
		ret = catalog_execute(plan, values, NULL, 0);
		spi_check_rows(ret, SPI_OK_INSERT, (uint64) nins, "INSERT INTO " MG_VERSION_TABLE);
		SPI_freeplan(plan);
	}
	pfree(del);
	pfree(ins);
	/* issue 13: Alembic's version table too, when it is kept */
	if (ndel > 0 || nins > 0)
		mg_alembic_version_sync(g, pw->vset);
}

/*
 * flush_log
 *		Write the kept log rows in one statement, in step order, so that
 *		their ids follow it; then move the log's sequence.
 */
static void
flush_log(MgPendingWrites *pw)
{
	static const Oid argtypes[7] = {TIMESTAMPTZARRAYOID, NAMEARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	INTERVALARRAYOID};
	static const Oid elemtypes[7] = {TIMESTAMPTZOID, NAMEOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, INTERVALOID};
	int			n = pw->nlog;
	bool		prov;
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
		MgLogRow   *row = &pw->log_rows[i];
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
	prov = has_checksum(MG_LOG_TABLE);
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO %s (id, logged_at, logged_by, direction, revision,"
					 " from_revisions, to_revisions, duration%s)"
					 " SELECT b.id OPERATOR(pg_catalog.+) u.ord, u.at, u.by, u.dir, u.rev,"
					 " pg_catalog.string_to_array(u.f, ','),"
					 " pg_catalog.string_to_array(u.t, ','), u.dur%s"
					 " FROM (SELECT COALESCE(pg_catalog.max(id), 0) AS id FROM %s) AS b,"
					 " ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2),"
					 " pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5),"
					 " pg_catalog.unnest($6), pg_catalog.unnest($7))"
					 " WITH ORDINALITY AS u(at, by, dir, rev, f, t, dur, ord)"
					 " LEFT JOIN %s AS r ON r.revision OPERATOR(pg_catalog.=) u.rev"
					 " ORDER BY u.ord",
					 mg_qualified(MG_LOG_TABLE),
					 /* 0.4: the message and the checksum of what ran */
					 prov ? ", message, checksum" : "",
					 prov ? ", r.message, CASE WHEN u.dir OPERATOR(pg_catalog.<>) 'stamp'"
					 " THEN r.checksum END" : "",
					 mg_qualified(MG_LOG_TABLE), mg_qualified(MG_REVISION_TABLE));
	plan = SPI_prepare(sql.data, 7, (Oid *) argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));
	ret = catalog_execute(plan, values, NULL, 0);
	spi_check_rows(ret, SPI_OK_INSERT, (uint64) n, "INSERT INTO " MG_LOG_TABLE);
	SPI_freeplan(plan);
	pfree(sql.data);
	log_sync_sequence();
	pw->nlog = 0;
}

/*
 * mg_pending_flush
 *		Write what the run kept since the last flush: the version table's
 *		net change, then the log rows.  The run may go on afterwards.
 */
void
mg_pending_flush(MgPendingWrites *pw)
{
	flush_version(pw);
	flush_log(pw);
}

/*
 * mg_version_purge
 *		Stamp with purge: empty the version table, whose rows need not name
 *		registered revisions, and log that at once (the stamp's own steps
 *		follow, with their log rows after this one).  Nothing to do when
 *		the table is empty.
 */
void
mg_version_purge(MgCatalog *cat)
{
	Oid			argtypes[6] = {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID,
	INTERVALOID, NAMEOID};
	Datum		values[6];
	char		nulls[6] = {' ', 'n', ' ', ' ', 'n', ' '};
	SPIPlanPtr	plan;
	StringInfoData sql;
	int			ret;

	if (cat->nrows == 0)
		return;
	plan = prepare("DELETE FROM %s", MG_VERSION_TABLE, 0, NULL);
	ret = catalog_execute(plan, NULL, NULL, 0);
	mg_spi_check(ret, SPI_OK_DELETE, "DELETE FROM " MG_VERSION_TABLE);
	SPI_freeplan(plan);

	values[0] = CStringGetTextDatum("stamp");
	values[1] = (Datum) 0;
	values[2] = mg_cstring_array((const char *const *) cat->row_ids, cat->nrows);
	values[3] = mg_cstring_array(NULL, 0);
	values[4] = (Datum) 0;
	values[5] = current_role_datum();
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO %s (id, direction, revision, from_revisions,"
					 " to_revisions, duration, logged_by)"
					 " SELECT COALESCE(pg_catalog.max(id), 0) OPERATOR(pg_catalog.+) 1,"
					 " $1, $2, $3, $4, $5, $6 FROM %s",
					 mg_qualified(MG_LOG_TABLE), mg_qualified(MG_LOG_TABLE));
	plan = SPI_prepare(sql.data, 6, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));
	ret = catalog_execute(plan, values, nulls, 0);
	mg_spi_check(ret, SPI_OK_INSERT, "INSERT INTO " MG_LOG_TABLE);
	SPI_freeplan(plan);
	pfree(sql.data);
	log_sync_sequence();
	mg_alembic_version_sync(cat->graph, NULL);
}

/*
 * The setting of migrate_keep_alembic_version (issue 13): the one row of
 * migrate_alembic_version, naming the Alembic version table that every
 * flush also writes (mg_alembic_version.c).
 */

/*
 * mg_alembic_setting_read
 *		The kept table's schema and name (palloc'd), or false when none is
 *		kept.  One catalog lookup and, on 0.4, one SELECT per flush.
 */
bool
mg_alembic_setting_read(char **schema, char **table)
{
	SPIPlanPtr	plan;
	int			ret;
	bool		found;
	Oid			nspoid = extension_schema(get_extension_oid(MG_EXTENSION_NAME, false));

	/* an installation older than 0.4 (not yet updated) keeps none */
	if (!OidIsValid(get_relname_relid(MG_ALEMBIC_TABLE, nspoid)))
		return false;
	plan = prepare("SELECT version_table_schema::pg_catalog.text,"
				   " version_table::pg_catalog.text FROM %s",
				   MG_ALEMBIC_TABLE, 0, NULL);
	ret = SPI_execute_plan(plan, NULL, NULL, true, 0);
	mg_spi_check(ret, SPI_OK_SELECT, "SELECT FROM " MG_ALEMBIC_TABLE);
	found = SPI_processed > 0;
	if (found)
	{
		*schema = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		*table = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	}
	SPI_freetuptable(SPI_tuptable);
	SPI_freeplan(plan);
	return found;
}

/*
 * mg_alembic_setting_write
 *		Keep schema.table from now on (schema NULL: keep none).  Returns
 *		whether a table was kept before.  The extension owner's rights, as
 *		for every write of the catalog.
 */
bool
mg_alembic_setting_write(const char *schema, const char *table)
{
	Oid			argtypes[2] = {NAMEOID, NAMEOID};
	Datum		values[2];
	SPIPlanPtr	plan;
	int			ret;
	bool		was;

	plan = prepare("DELETE FROM %s", MG_ALEMBIC_TABLE, 0, NULL);
	ret = catalog_execute(plan, NULL, NULL, 0);
	mg_spi_check(ret, SPI_OK_DELETE, "DELETE FROM " MG_ALEMBIC_TABLE);
	was = SPI_processed > 0;
	SPI_freeplan(plan);
	if (schema == NULL)
		return was;
	values[0] = DirectFunctionCall1(namein, CStringGetDatum(schema));
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(table));
	plan = prepare("INSERT INTO %s (version_table_schema, version_table)"
				   " VALUES ($1, $2)", MG_ALEMBIC_TABLE, 2, argtypes);
	ret = catalog_execute(plan, values, NULL, 0);
	spi_check_rows(ret, SPI_OK_INSERT, 1, "INSERT INTO " MG_ALEMBIC_TABLE);
	SPI_freeplan(plan);
	return was;
}

/*
 * mg_revision_delete
 *		Remove the row of revision (the caller checked that it is registered
 *		and not applied) and log the removal: direction 'unregister', with
 *		the removed row's message and checksum.  The graph is checked at
 *		commit (migrate_graph_check).
 */
void
mg_revision_delete(const char *revision)
{
	Oid			argtypes[2] = {TEXTOID, NAMEOID};
	Datum		values[2];
	SPIPlanPtr	plan;
	StringInfoData sql;
	int			ret;

	values[0] = CStringGetTextDatum(revision);
	values[1] = current_role_datum();
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "WITH d AS (DELETE FROM %s WHERE revision OPERATOR(pg_catalog.=) $1"
					 " RETURNING revision, message, checksum)"
					 " INSERT INTO %s (id, direction, revision, message, checksum, logged_by)"
					 " SELECT (SELECT COALESCE(pg_catalog.max(id), 0) OPERATOR(pg_catalog.+) 1"
					 "  FROM %s), 'unregister', d.revision, d.message, d.checksum, $2 FROM d",
					 mg_qualified(MG_REVISION_TABLE), mg_qualified(MG_LOG_TABLE),
					 mg_qualified(MG_LOG_TABLE));
	plan = SPI_prepare(sql.data, 2, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));
	ret = catalog_execute(plan, values, NULL, 0);
	spi_check_rows(ret, SPI_OK_INSERT, 1, "DELETE FROM " MG_REVISION_TABLE);
	SPI_freeplan(plan);
	pfree(sql.data);
	log_sync_sequence();
}

/*
 * mg_log_failure
 *		Log a failed attempt (migrate_log_failure): direction 'failed '
 *		followed by what was attempted, the revision (NULL for none) with
 *		its message and checksum when it is registered, the SQLSTATE and
 *		the error.  The provenance columns take their defaults.
 */
void
mg_log_failure(const char *direction, const char *revision,
			   const char *sqlstate, const char *error)
{
	Oid			argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, NAMEOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	SPIPlanPtr	plan;
	StringInfoData sql;
	int			ret;

	values[0] = CStringGetTextDatum(psprintf("failed %s", direction));
	values[1] = revision ? CStringGetTextDatum(revision) : (Datum) 0;
	nulls[1] = revision ? ' ' : 'n';
	values[2] = CStringGetTextDatum(sqlstate);
	values[3] = CStringGetTextDatum(error);
	values[4] = current_role_datum();
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO %s (id, direction, revision, message, checksum,"
					 " sqlstate, error, logged_by)"
					 " SELECT (SELECT COALESCE(pg_catalog.max(id), 0) OPERATOR(pg_catalog.+) 1"
					 "  FROM %s), $1, $2, r.message, r.checksum, $3, $4, $5"
					 " FROM (SELECT 1) AS one"
					 " LEFT JOIN %s AS r ON r.revision OPERATOR(pg_catalog.=) $2",
					 mg_qualified(MG_LOG_TABLE), mg_qualified(MG_LOG_TABLE),
					 mg_qualified(MG_REVISION_TABLE));
	plan = SPI_prepare(sql.data, 5, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql.data,
			 SPI_result_code_string(SPI_result));
	ret = catalog_execute(plan, values, nulls, 0);
	spi_check_rows(ret, SPI_OK_INSERT, 1, "INSERT INTO " MG_LOG_TABLE);
	SPI_freeplan(plan);
	pfree(sql.data);
	log_sync_sequence();
}
