/*-------------------------------------------------------------------------
 *
 * mg_alembic_version.c
 *	  Alembic's version table kept in step with migrate_version, so that a
 *	  team moving from Alembic can go back to it (issue 13, item 5).
 *
 * migrate_keep_alembic_version(version_table, version_table_schema) names
 * the table (Alembic's version_table and version_table_schema settings);
 * the name, checked once here, is kept in migrate_alembic_version (the
 * catalog layer's).  From then on every write of migrate_version, which the
 * catalog layer makes at each flush of a run (upgrade, downgrade, stamp,
 * and the stepwise procedures, which flush before each commit) and at a
 * stamp's purge, calls mg_alembic_version_sync, which gives the Alembic
 * table the same rows in the same transaction.  migrate_forget_alembic_version()
 * stops it.
 *
 * The Alembic table is not the extension's: it is written with the
 * caller's rights (the migrator needs SELECT, INSERT and DELETE on it), by
 * its schema-qualified name, its values as parameters.  The rows written
 * are the whole set after the change rather than the change itself, so
 * that a table that held a row and its ancestor (Alembic 1.8's bug #1373)
 * comes out as the minimal set Alembic writes, and a write never collides
 * with such a row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "mg_backend.h"

PG_FUNCTION_INFO_V1(migrate_keep_alembic_version);
PG_FUNCTION_INFO_V1(migrate_forget_alembic_version);

/* The kept table, for the error context of a failed write */
typedef struct SyncContext
{
	const char *schema;
	const char *table;
} SyncContext;

static void
sync_error_context(void *arg)
{
	SyncContext *sc = (SyncContext *) arg;

	errcontext("writing Alembic version table %s, kept by migrate_keep_alembic_version()",
			   quote_qualified_identifier(sc->schema, sc->table));
}

/*
 * find_version_table
 *		The OID of Alembic's version table schema.table (schema NULL: the one
 *		search_path finds, as Alembic's unqualified name does), with the
 *		checks a kept table must pass: an ordinary or partitioned table with
 *		a character column version_num, on which the current role may
 *		SELECT, INSERT and DELETE.  *schema_out gets the schema's name.
 */
static Oid
find_version_table(const char *schema, const char *table, char **schema_out)
{
	Oid			relid;
	Oid			typid;
	AttrNumber	attnum;
	char		relkind;
	AclResult	acl;
	char	   *qualified;

	if (schema == NULL)
	{
		relid = RelnameGetRelid(table);
		if (!OidIsValid(relid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("Alembic version table \"%s\" does not exist", table),
					 errdetail("No schema of search_path holds a table of that name."),
					 errhint("Give the table's schema as version_table_schema, as Alembic's version_table_schema setting does.")));
		schema = get_namespace_name(get_rel_namespace(relid));
	}
	else
	{
		Oid			nspoid = get_namespace_oid(schema, true);

		relid = OidIsValid(nspoid) ? get_relname_relid(table, nspoid) : InvalidOid;
		if (!OidIsValid(relid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("Alembic version table \"%s.%s\" does not exist",
							schema, table)));
	}
	qualified = quote_qualified_identifier(schema, table);
	relkind = get_rel_relkind(relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", qualified),
				 errdetail("Alembic's version table is a table with a column version_num.")));
	attnum = get_attnum(relid, "version_num");
	typid = attnum == InvalidAttrNumber ? InvalidOid : get_atttype(relid, attnum);
	if (typid != VARCHAROID && typid != TEXTOID && typid != BPCHAROID)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table %s has no character column \"version_num\"", qualified),
				 errdetail("Alembic's version table has a column version_num of type varchar(32).")));
	acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT | ACL_INSERT | ACL_DELETE);
	if (acl != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", qualified),
				 errdetail("Keeping Alembic's version table writes it with the rights of the role that migrates."),
				 errhint("GRANT SELECT, INSERT, DELETE ON %s TO the roles that run migrations.",
						 qualified)));
	*schema_out = pstrdup(schema);
	return relid;
}

/* A name argument: not null, not empty, short enough to be a name */
static char *
name_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	char	   *s;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (s[0] == '\0' || strlen(s) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid %s \"%s\"", argname, s),
				 errdetail("A table or schema name is 1 to %d bytes long, as written in Alembic's settings (not quoted).",
						   NAMEDATALEN - 1)));
	return s;
}

/*
 * migrate_keep_alembic_version(version_table, version_table_schema)
 *		Keep Alembic's version table in step from now on.  Returns the
 *		table's qualified name.  Nothing is written to it now: adoption
 *		(pg_migrate adopt-alembic) leaves it as Alembic left it.
 */
Datum
migrate_keep_alembic_version(PG_FUNCTION_ARGS)
{
	char	   *table;
	char	   *schema = NULL;
	char	   *found_schema;
	char	   *qualified;

	mg_check_writable("migrate_keep_alembic_version");
	mg_refuse_in_step("migrate_keep_alembic_version");
	table = name_arg(fcinfo, 0, "version_table");
	if (!PG_ARGISNULL(1))
		schema = name_arg(fcinfo, 1, "version_table_schema");

	mg_connect_spi();
	mg_lock_changes();
	(void) find_version_table(schema, table, &found_schema);
	(void) mg_alembic_setting_write(found_schema, table);
	qualified = quote_qualified_identifier(found_schema, table);
	mg_finish_spi();
	PG_RETURN_TEXT_P(cstring_to_text(qualified));
}

/*
 * migrate_forget_alembic_version()
 *		Stop keeping Alembic's version table; returns whether one was kept.
 *		The table itself is left as it is.
 */
Datum
migrate_forget_alembic_version(PG_FUNCTION_ARGS)
{
	bool		was;

	mg_check_writable("migrate_forget_alembic_version");
	mg_refuse_in_step("migrate_forget_alembic_version");
	mg_connect_spi();
	mg_lock_changes();
	was = mg_alembic_setting_write(NULL, NULL);
	mg_finish_spi();
	PG_RETURN_BOOL(was);
}

/*
 * mg_alembic_version_sync: see mg_backend.h.  Nothing when no table is
 * kept; otherwise the table's rows become the revisions flagged in vset,
 * with the caller's rights.  A kept table that has gone, or rights that
 * were revoked, fail the run: a team relying on going back to Alembic must
 * not find its version table silently behind.
 */
void
mg_alembic_version_sync(MgGraph *g, const bool *vset)
{
	char	   *schema;
	char	   *table;
	char	   *found_schema;
	char	   *qualified;
	StringInfoData sql;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	int		   *revs;
	int			n = 0;
	int			size = mg_graph_size(g);
	int			ret;
	SyncContext sc;
	ErrorContextCallback errcb;

	if (!mg_alembic_setting_read(&schema, &table))
		return;
	sc.schema = schema;
	sc.table = table;
	errcb.callback = sync_error_context;
	errcb.arg = &sc;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	(void) find_version_table(schema, table, &found_schema);
	qualified = quote_qualified_identifier(schema, table);
	revs = palloc(sizeof(int) * (size + 1));
	for (int r = 0; vset && r < size; r++)
		if (vset[r])
			revs[n++] = r;

	initStringInfo(&sql);
	appendStringInfo(&sql, "DELETE FROM %s", qualified);
	ret = SPI_execute(sql.data, false, 0);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "SPI failed on DELETE FROM %s: %s", qualified,
			 SPI_result_code_string(ret));
	if (n > 0)
	{
		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "INSERT INTO %s (version_num) SELECT pg_catalog.unnest($1)",
						 qualified);
		values[0] = mg_text_array(g, revs, n);
		ret = SPI_execute_with_args(sql.data, 1, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "SPI failed on INSERT INTO %s: %s", qualified,
				 SPI_result_code_string(ret));
	}
	pfree(sql.data);
	pfree(revs);
	error_context_stack = errcb.previous;
}
