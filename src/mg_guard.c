/*-------------------------------------------------------------------------
 *
 * mg_guard.c
 *	  The drop guard: an event trigger at ddl_command_start that refuses the
 *	  statements that would drop the extension while its tables hold
 *	  anything, unless migrations.allow_drop is on.
 *
 * The extension's own tables are the only record of what ran in this
 * database.  DROP EXTENSION deletes them with the extension, and so do DROP
 * SCHEMA ... CASCADE of the extension's schema and DROP OWNED BY the
 * extension's owner (or, with CASCADE, the schema's owner).  Once they are
 * gone, installing the extension again and loading the same revision files
 * runs every step again.  A sql_drop trigger of the extension would be
 * dropped with it before it could act, so the guard reads the statement
 * before it runs.
 *
 * Drops the guard cannot see: event triggers do not fire in single-user
 * mode, a superuser can disable the trigger (ALTER EVENT TRIGGER ...
 * DISABLE), and DROP DATABASE, which removes everything anyway, fires no
 * event trigger.  The trigger is ENABLE ALWAYS, so session_replication_role
 * = replica does not switch it off.
 *
 * This file owns the event trigger function and migrations.allow_drop.  It
 * reads PostgreSQL's catalogs and counts the extension's rows; it must not
 * write anything.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_namespace.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "mg_backend.h"


/* migrations.allow_drop: let the statements above drop the history */
static bool allow_drop = false;

/*
 * mg_guard_define_gucs
 *		Define migrations.allow_drop (called by _PG_init).  It is PGC_SUSET,
 *		so only a superuser can let the history go.
 */
void
mg_guard_define_gucs(void)
{
	DefineCustomBoolVariable("migrations.allow_drop",
							 "Allows dropping the extension while it holds migration history.",
							 "When off, DROP EXTENSION migrations, DROP SCHEMA ... CASCADE of its "
							 "schema and DROP OWNED BY its owner are refused while the extension's "
							 "tables hold any row.",
							 &allow_drop,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
}

#define GUARD_HINT \
	"Back up the history with pg_dump first. To drop it anyway, a superuser can run SET LOCAL migrations.allow_drop = on before the statement, in the same transaction."

/* What the statement would drop, if it touches the extension at all */
typedef enum GuardKind
{
	GUARD_NONE,
	GUARD_EXTENSION,			/* DROP EXTENSION migrations */
	GUARD_SCHEMA,				/* DROP SCHEMA <its schema> CASCADE */
	GUARD_OWNED					/* DROP OWNED BY <its owner> */
} GuardKind;

/* Whether a list of String nodes (the names of a DropStmt) holds name */
static bool
names_include(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		Node	   *n = (Node *) lfirst(lc);

		if (IsA(n, String) && strcmp(strVal(n), name) == 0)
			return true;
	}
	return false;
}

/*
 * statement_target
 *		Whether the statement would drop the extension, and how: DROP
 *		EXTENSION naming it, DROP SCHEMA ... CASCADE of its schema, or DROP
 *		OWNED BY its owner (or, with CASCADE, the schema's owner).  nspoid
 *		and extowner are the extension's schema and owner.  Returns
 *		GUARD_NONE for any other statement; for DROP OWNED, *role is set to
 *		the role that owns what would be dropped.  Reads only the parse
 *		tree and the syscache; raises no error.
 */
static GuardKind
statement_target(Node *parsetree, Oid nspoid, Oid extowner, Oid *role)
{
	if (IsA(parsetree, DropStmt))
	{
		DropStmt   *stmt = (DropStmt *) parsetree;

		if (stmt->removeType == OBJECT_EXTENSION &&
			names_include(stmt->objects, MG_EXTENSION_NAME))
			return GUARD_EXTENSION;

		/* without CASCADE, PostgreSQL refuses it itself (the extension depends on the schema) */
		if (stmt->removeType == OBJECT_SCHEMA && stmt->behavior == DROP_CASCADE)
		{
			char	   *nspname = get_namespace_name(nspoid);

			if (nspname != NULL && names_include(stmt->objects, nspname))
				return GUARD_SCHEMA;
		}
	}
	else if (IsA(parsetree, DropOwnedStmt))
	{
		DropOwnedStmt *stmt = (DropOwnedStmt *) parsetree;
		Oid			nspowner = InvalidOid;
		HeapTuple	tup;
		ListCell   *lc;

		tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspoid));
		if (HeapTupleIsValid(tup))
		{
			nspowner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
			ReleaseSysCache(tup);
		}

		foreach(lc, stmt->roles)
		{
			RoleSpec   *spec = lfirst_node(RoleSpec, lc);
			Oid			roleid;

			/* PUBLIC and unknown roles: the command's own error follows */
			if (spec->roletype == ROLESPEC_PUBLIC)
				continue;
			roleid = get_rolespec_oid(spec, true);
			if (!OidIsValid(roleid))
				continue;

			/*
			 * The extension goes with its owner whatever the behaviour; its
			 * schema's owner takes it along only with CASCADE.
			 */
			if (roleid == extowner ||
				(roleid == nspowner && stmt->behavior == DROP_CASCADE))
			{
				*role = roleid;
				return GUARD_OWNED;
			}
		}
	}
	return GUARD_NONE;
}

/*
 * count_rows
 *		Rows of one of the extension's tables in the latest snapshot, read
 *		directly: the count does not depend on the caller's privileges or on
 *		row security.
 */
static int64
count_rows(Oid nspoid, const char *relname)
{
	Oid			relid = get_relname_relid(relname, nspoid);
	Relation	rel;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	int64		n = 0;

	if (!OidIsValid(relid))
		return 0;

	rel = table_open(relid, AccessShareLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		n++;
		CHECK_FOR_INTERRUPTS();
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);

	/*
	 * Release the lock at once: the drop itself takes AccessExclusiveLock
	 * after it has locked the extension, and a share lock kept from here
	 * would let two concurrent drops deadlock.
	 */
	table_close(rel, AccessShareLock);
	return n;
}

/*
 * rows_detail
 *		The DETAIL of the guard's messages: how many rows would go.  Called
 *		inside ereport(), as errdetail() is.
 */
static int
rows_detail(int64 nrev, int64 nver, int64 nlog)
{
	if (nver + nlog > 0)
		return errdetail("Rows in the extension's tables: %s %lld, %s %lld, %s %lld. Dropping the extension deletes them, and loading the same revision files into a new installation would run every step again.",
						 MG_REVISION_TABLE, (long long) nrev,
						 MG_VERSION_TABLE, (long long) nver,
						 MG_LOG_TABLE, (long long) nlog);
	return errdetail("Rows in the extension's tables: %s %lld, %s %lld, %s %lld. Dropping the extension deletes them.",
					 MG_REVISION_TABLE, (long long) nrev,
					 MG_VERSION_TABLE, (long long) nver,
					 MG_LOG_TABLE, (long long) nlog);
}

PG_FUNCTION_INFO_V1(migrate_drop_guard);

/*
 * migrate_drop_guard
 *		The event trigger function (ddl_command_start, tags DROP EXTENSION,
 *		DROP SCHEMA and DROP OWNED).  When the statement would drop the
 *		extension (statement_target) and its tables hold any row, it fails
 *		with 2BP01 and the row counts, unless migrations.allow_drop is on,
 *		in which case the drop goes ahead and the server log says so.
 *		Takes the extension's advisory lock first, so that no migration
 *		commits between the count and the drop.  Cost: three counts of the
 *		extension's tables.
 */
Datum
migrate_drop_guard(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Oid			nspoid;
	Oid			extowner;
	Oid			role = InvalidOid;
	GuardKind	kind;
	int64		nrev,
				nver,
				nlog;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migrate_drop_guard() can only be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;

	/* the extension's schema and owner, if it is installed here */
	nspoid = mg_extension_row(get_extension_oid(MG_EXTENSION_NAME, true), &extowner);
	if (!OidIsValid(nspoid))
		PG_RETURN_NULL();
	kind = statement_target(trigdata->parsetree, nspoid, extowner, &role);
	if (kind == GUARD_NONE)
		PG_RETURN_NULL();

	/*
	 * Wait for a migration call in progress to end, and keep new ones out
	 * until this transaction ends: a step committed between the count and
	 * the drop would be lost unseen.
	 */
	(void) DirectFunctionCall1(pg_advisory_xact_lock_int8,
							   Int64GetDatum(MG_ADVISORY_LOCK_KEY));

	nrev = count_rows(nspoid, MG_REVISION_TABLE);
	nver = count_rows(nspoid, MG_VERSION_TABLE);
	nlog = count_rows(nspoid, MG_LOG_TABLE);
	if (nrev == 0 && nver == 0 && nlog == 0)
		PG_RETURN_NULL();

	if (allow_drop)
	{
		ereport(LOG,
				(errmsg("migrations.allow_drop is on: allowing the drop of extension \"%s\" with its migration history",
						MG_EXTENSION_NAME),
				 rows_detail(nrev, nver, nlog)));
		PG_RETURN_NULL();
	}

	switch (kind)
	{
		case GUARD_EXTENSION:
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop extension \"%s\" because it holds migration history",
							MG_EXTENSION_NAME),
					 rows_detail(nrev, nver, nlog),
					 errhint(GUARD_HINT)));
			break;
		case GUARD_SCHEMA:
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop schema \"%s\" because extension \"%s\" in it holds migration history",
							get_namespace_name(nspoid), MG_EXTENSION_NAME),
					 rows_detail(nrev, nver, nlog),
					 errhint(GUARD_HINT)));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop objects owned by role \"%s\" because extension \"%s\" would be dropped with its migration history",
							GetUserNameFromId(role, false), MG_EXTENSION_NAME),
					 rows_detail(nrev, nver, nlog),
					 errhint(GUARD_HINT)));
			break;
	}

	PG_RETURN_NULL();
}
