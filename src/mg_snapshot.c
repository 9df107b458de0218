/*-------------------------------------------------------------------------
 *
 * mg_snapshot.c
 *	  migrate_snapshot(schemas text[]): the schema model of the database as
 *	  jsonb, read from the system catalogs (issue 12, item 1).
 *
 * Owns: the catalog queries and the shape of the model document (README's
 * "Schema snapshots and diffs" lists its keys).  Must not: compare models
 * (mg_diff.c), parse them (mg_schema_model.c), or read the extension's own
 * tables.  Every query is schema-qualified, takes its values as
 * parameters, and runs with search_path = pg_catalog so that format_type()
 * and the pg_get_*def() functions qualify every name they print: the text
 * does not depend on the caller's search_path.
 *
 * Sizes: a partitioned table's "bytes" are those of its whole partition
 * tree, so that the hazards of building an index on it see the rows.
 *
 * Determinism: every collection is a jsonb object keyed by name (jsonb
 * keeps keys in one canonical order) or an array sorted by name; column
 * order is the "position" of each column, counted over the live columns,
 * so a dropped column leaves no gap.
 *
 * Copyright (c) the migrations authors
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include "mg_schema.h"

PG_FUNCTION_INFO_V1(migrate_snapshot);

/*
 * Objects that belong to an extension are left out; "m" is the alias of
 * the catalog row, "cls" the catalog's regclass.
 */
#define NOT_MEMBER(cls, oidexpr) \
	"NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS e" \
	" WHERE e.classid OPERATOR(pg_catalog.=) '" cls "'::pg_catalog.regclass" \
	" AND e.objid OPERATOR(pg_catalog.=) " oidexpr \
	" AND e.deptype OPERATOR(pg_catalog.=) 'e')"

#define EQ " OPERATOR(pg_catalog.=) "
#define QNAME(nsp, name) "pg_catalog.format('%I.%I', " nsp ", " name ")"

/* $1: the schema names covered */
static const char *const snapshot_sql =
"WITH nsp AS ("
"  SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace AS n"
"   WHERE n.nspname" EQ "ANY ($1)),"
" rel AS ("
"  SELECT c.*, " QNAME("nsp.nspname", "c.relname") " AS key"
"    FROM pg_catalog.pg_class AS c JOIN nsp ON nsp.oid" EQ "c.relnamespace"
"   WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,S,v,m}'::\"char\"[])"
"     AND " NOT_MEMBER("pg_catalog.pg_class", "c.oid") ")"
"SELECT pg_catalog.jsonb_build_object("
" 'format', 1,"
" 'schemas', (SELECT COALESCE(pg_catalog.jsonb_object_agg(nsp.nspname,"
"     pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('comment',"
"       pg_catalog.obj_description(nsp.oid, 'pg_namespace')))), '{}') FROM nsp),"
" 'extensions', (SELECT COALESCE(pg_catalog.jsonb_object_agg(x.extname,"
"     pg_catalog.jsonb_build_object('schema', xn.nspname, 'version', x.extversion)), '{}')"
"     FROM pg_catalog.pg_extension AS x JOIN pg_catalog.pg_namespace AS xn ON xn.oid" EQ "x.extnamespace"
"    WHERE x.extname OPERATOR(pg_catalog.<>) 'plpgsql' AND xn.nspname" EQ "ANY ($1)),"
" 'tables', (SELECT COALESCE(pg_catalog.jsonb_object_agg(r.key, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"   'kind', r.relkind,"
"   'partition_of', (SELECT " QNAME("pn.nspname", "pc.relname")
"       FROM pg_catalog.pg_inherits AS i JOIN pg_catalog.pg_class AS pc ON pc.oid" EQ "i.inhparent"
"       JOIN pg_catalog.pg_namespace AS pn ON pn.oid" EQ "pc.relnamespace"
"      WHERE i.inhrelid" EQ "r.oid AND r.relispartition),"
"   'partition_bound', CASE WHEN r.relispartition THEN pg_catalog.pg_get_expr(r.relpartbound, r.oid) END,"
"   'partition_key', CASE WHEN r.relkind" EQ "'p' THEN pg_catalog.pg_get_partkeydef(r.oid) END,"
"   'comment', pg_catalog.obj_description(r.oid, 'pg_class'),"
"   'columns', (SELECT COALESCE(pg_catalog.jsonb_object_agg(a.attname, pg_catalog.jsonb_build_object("
"       'position', a.pos,"
"       'type', pg_catalog.format_type(a.atttypid, a.atttypmod),"
"       'collation', CASE WHEN a.attcollation OPERATOR(pg_catalog.<>) a.typcollation"
"           THEN (SELECT " QNAME("cn.nspname", "co.collname")
"                   FROM pg_catalog.pg_collation AS co JOIN pg_catalog.pg_namespace AS cn ON cn.oid" EQ "co.collnamespace"
"                  WHERE co.oid" EQ "a.attcollation) END,"
"       'default', CASE WHEN a.attgenerated" EQ "'' THEN a.def END,"
"       'generated', CASE WHEN a.attgenerated OPERATOR(pg_catalog.<>) '' THEN a.def END,"
"       'not_null', a.attnotnull,"
"       'identity', NULLIF(a.attidentity, ''),"
"       'comment', pg_catalog.col_description(r.oid, a.attnum))), '{}')"
"     FROM (SELECT att.*, t.typcollation,"
"                  pg_catalog.row_number() OVER (ORDER BY att.attnum) AS pos,"
"                  (SELECT pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) FROM pg_catalog.pg_attrdef AS ad"
"                    WHERE ad.adrelid" EQ "att.attrelid AND ad.adnum" EQ "att.attnum) AS def"
"             FROM pg_catalog.pg_attribute AS att JOIN pg_catalog.pg_type AS t ON t.oid" EQ "att.atttypid"
"            WHERE att.attrelid" EQ "r.oid AND att.attnum OPERATOR(pg_catalog.>) 0 AND NOT att.attisdropped) AS a),"
"   'constraints', (SELECT COALESCE(pg_catalog.jsonb_object_agg(k.conname, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"       'type', k.contype,"
"       'definition', pg_catalog.pg_get_constraintdef(k.oid),"
"       'references', CASE WHEN k.contype" EQ "'f' THEN (SELECT " QNAME("fn.nspname", "fc.relname")
"           FROM pg_catalog.pg_class AS fc JOIN pg_catalog.pg_namespace AS fn ON fn.oid" EQ "fc.relnamespace"
"          WHERE fc.oid" EQ "k.confrelid) END,"
"       'comment', pg_catalog.obj_description(k.oid, 'pg_constraint')))), '{}')"
"     FROM pg_catalog.pg_constraint AS k"
"    WHERE k.conrelid" EQ "r.oid AND k.conislocal AND k.conparentid" EQ "0"
"      AND k.contype OPERATOR(pg_catalog.=) ANY ('{p,u,c,f,x}'::\"char\"[])),"
"   'indexes', (SELECT COALESCE(pg_catalog.jsonb_object_agg(ic.relname, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"       'definition', pg_catalog.pg_get_indexdef(ix.indexrelid),"
"       'comment', pg_catalog.obj_description(ix.indexrelid, 'pg_class')))), '{}')"
"     FROM pg_catalog.pg_index AS ix JOIN pg_catalog.pg_class AS ic ON ic.oid" EQ "ix.indexrelid"
"    WHERE ix.indrelid" EQ "r.oid"
"      AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint AS k"
"                       WHERE k.conindid" EQ "ix.indexrelid AND k.conrelid" EQ "r.oid"
"                         AND k.contype OPERATOR(pg_catalog.=) ANY ('{p,u,x}'::\"char\"[]))"
"      AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits AS i WHERE i.inhrelid" EQ "ix.indexrelid)),"
"   'triggers', (SELECT COALESCE(pg_catalog.jsonb_object_agg(g.tgname, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"       'definition', pg_catalog.pg_get_triggerdef(g.oid),"
"       'comment', pg_catalog.obj_description(g.oid, 'pg_trigger')))), '{}')"
"     FROM pg_catalog.pg_trigger AS g"
"    WHERE g.tgrelid" EQ "r.oid AND NOT g.tgisinternal AND g.tgparentid" EQ "0)"
"   ))), '{}') FROM rel AS r WHERE r.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::\"char\"[])),"
" 'sequences', (SELECT COALESCE(pg_catalog.jsonb_object_agg(r.key, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"   'type', pg_catalog.format_type(s.seqtypid, NULL),"
"   'start', s.seqstart::pg_catalog.text, 'increment', s.seqincrement::pg_catalog.text,"
"   'min', s.seqmin::pg_catalog.text, 'max', s.seqmax::pg_catalog.text,"
"   'cache', s.seqcache::pg_catalog.text, 'cycle', s.seqcycle,"
"   'owned_by', (SELECT pg_catalog.jsonb_build_object('table', " QNAME("on2.nspname", "oc.relname") ", 'column', oa.attname)"
"       FROM pg_catalog.pg_depend AS dp"
"       JOIN pg_catalog.pg_class AS oc ON oc.oid" EQ "dp.refobjid"
"       JOIN pg_catalog.pg_namespace AS on2 ON on2.oid" EQ "oc.relnamespace"
"       JOIN pg_catalog.pg_attribute AS oa ON oa.attrelid" EQ "oc.oid AND oa.attnum" EQ "dp.refobjsubid"
"      WHERE dp.classid" EQ "'pg_catalog.pg_class'::pg_catalog.regclass AND dp.objid" EQ "r.oid"
"        AND dp.refclassid" EQ "'pg_catalog.pg_class'::pg_catalog.regclass AND dp.deptype" EQ "'a'),"
"   'comment', pg_catalog.obj_description(r.oid, 'pg_class')))), '{}')"
"   FROM rel AS r JOIN pg_catalog.pg_sequence AS s ON s.seqrelid" EQ "r.oid"
"  WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS dp WHERE dp.classid" EQ "'pg_catalog.pg_class'::pg_catalog.regclass"
"                       AND dp.objid" EQ "r.oid AND dp.deptype" EQ "'i')),"
" 'views', (SELECT COALESCE(pg_catalog.jsonb_object_agg(r.key, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"   'kind', r.relkind,"
"   'definition', pg_catalog.pg_get_viewdef(r.oid),"
"   'depends', (SELECT COALESCE(pg_catalog.jsonb_agg(DISTINCT " QNAME("dn.nspname", "dc.relname") "), '[]')"
"       FROM pg_catalog.pg_rewrite AS rw"
"       JOIN pg_catalog.pg_depend AS dp ON dp.classid" EQ "'pg_catalog.pg_rewrite'::pg_catalog.regclass AND dp.objid" EQ "rw.oid"
"       JOIN pg_catalog.pg_class AS dc ON dc.oid" EQ "dp.refobjid"
"       JOIN pg_catalog.pg_namespace AS dn ON dn.oid" EQ "dc.relnamespace"
"      WHERE rw.ev_class" EQ "r.oid AND dp.refclassid" EQ "'pg_catalog.pg_class'::pg_catalog.regclass"
"        AND dp.refobjid OPERATOR(pg_catalog.<>) r.oid),"
"   'indexes', CASE WHEN r.relkind" EQ "'m' THEN (SELECT COALESCE(pg_catalog.jsonb_object_agg(ic.relname, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"       'definition', pg_catalog.pg_get_indexdef(ix.indexrelid),"
"       'comment', pg_catalog.obj_description(ix.indexrelid, 'pg_class')))), '{}')"
"     FROM pg_catalog.pg_index AS ix JOIN pg_catalog.pg_class AS ic ON ic.oid" EQ "ix.indexrelid"
"    WHERE ix.indrelid" EQ "r.oid) END,"
"   'comment', pg_catalog.obj_description(r.oid, 'pg_class')))), '{}')"
"   FROM rel AS r WHERE r.relkind OPERATOR(pg_catalog.=) ANY ('{v,m}'::\"char\"[])),"
" 'enums', (SELECT COALESCE(pg_catalog.jsonb_object_agg(" QNAME("nsp.nspname", "t.typname") ", pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"   'labels', (SELECT pg_catalog.jsonb_agg(el.enumlabel ORDER BY el.enumsortorder)"
"                FROM pg_catalog.pg_enum AS el WHERE el.enumtypid" EQ "t.oid),"
"   'comment', pg_catalog.obj_description(t.oid, 'pg_type')))), '{}')"
"   FROM pg_catalog.pg_type AS t JOIN nsp ON nsp.oid" EQ "t.typnamespace"
"  WHERE t.typtype" EQ "'e' AND " NOT_MEMBER("pg_catalog.pg_type", "t.oid") "),"
" 'domains', (SELECT COALESCE(pg_catalog.jsonb_object_agg(" QNAME("nsp.nspname", "t.typname") ", pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"   'type', pg_catalog.format_type(t.typbasetype, t.typtypmod),"
"   'collation', CASE WHEN t.typcollation OPERATOR(pg_catalog.<>) bt.typcollation"
"       THEN (SELECT " QNAME("cn.nspname", "co.collname")
"               FROM pg_catalog.pg_collation AS co JOIN pg_catalog.pg_namespace AS cn ON cn.oid" EQ "co.collnamespace"
"              WHERE co.oid" EQ "t.typcollation) END,"
"   'default', pg_catalog.pg_get_expr(t.typdefaultbin, 0),"
"   'not_null', t.typnotnull,"
"   'constraints', (SELECT COALESCE(pg_catalog.jsonb_object_agg(k.conname, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"       'type', k.contype, 'definition', pg_catalog.pg_get_constraintdef(k.oid),"
"       'comment', pg_catalog.obj_description(k.oid, 'pg_constraint')))), '{}')"
"     FROM pg_catalog.pg_constraint AS k WHERE k.contypid" EQ "t.oid),"
"   'comment', pg_catalog.obj_description(t.oid, 'pg_type')))), '{}')"
"   FROM pg_catalog.pg_type AS t JOIN nsp ON nsp.oid" EQ "t.typnamespace"
"   JOIN pg_catalog.pg_type AS bt ON bt.oid" EQ "t.typbasetype"
"  WHERE t.typtype" EQ "'d' AND " NOT_MEMBER("pg_catalog.pg_type", "t.oid") "),"
" 'composites', (SELECT COALESCE(pg_catalog.jsonb_object_agg(" QNAME("nsp.nspname", "t.typname") ", pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"   'attributes', (SELECT COALESCE(pg_catalog.jsonb_object_agg(a.attname, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"       'position', a.pos,"
"       'type', pg_catalog.format_type(a.atttypid, a.atttypmod),"
"       'collation', CASE WHEN a.attcollation OPERATOR(pg_catalog.<>) a.typcollation"
"           THEN (SELECT " QNAME("cn.nspname", "co.collname")
"                   FROM pg_catalog.pg_collation AS co JOIN pg_catalog.pg_namespace AS cn ON cn.oid" EQ "co.collnamespace"
"                  WHERE co.oid" EQ "a.attcollation) END))), '{}')"
"     FROM (SELECT att.*, at.typcollation, pg_catalog.row_number() OVER (ORDER BY att.attnum) AS pos"
"             FROM pg_catalog.pg_attribute AS att JOIN pg_catalog.pg_type AS at ON at.oid" EQ "att.atttypid"
"            WHERE att.attrelid" EQ "t.typrelid AND att.attnum OPERATOR(pg_catalog.>) 0 AND NOT att.attisdropped) AS a),"
"   'comment', pg_catalog.obj_description(t.oid, 'pg_type')))), '{}')"
"   FROM pg_catalog.pg_type AS t JOIN nsp ON nsp.oid" EQ "t.typnamespace"
"   JOIN pg_catalog.pg_class AS c ON c.oid" EQ "t.typrelid"
"  WHERE t.typtype" EQ "'c' AND c.relkind" EQ "'c' AND " NOT_MEMBER("pg_catalog.pg_type", "t.oid") "),"
" 'functions', (SELECT COALESCE(pg_catalog.jsonb_object_agg("
"     " QNAME("nsp.nspname", "p.proname") " OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||)"
"     pg_catalog.pg_get_function_identity_arguments(p.oid) OPERATOR(pg_catalog.||) ')',"
"     pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
"   'kind', p.prokind,"
"   'result', pg_catalog.pg_get_function_result(p.oid),"
"   'definition', pg_catalog.pg_get_functiondef(p.oid),"
"   'comment', pg_catalog.obj_description(p.oid, 'pg_proc')))), '{}')"
"   FROM pg_catalog.pg_proc AS p JOIN nsp ON nsp.oid" EQ "p.pronamespace"
"  WHERE p.prokind OPERATOR(pg_catalog.=) ANY ('{f,p}'::\"char\"[]) AND " NOT_MEMBER("pg_catalog.pg_proc", "p.oid") "),"
" 'sizes', (SELECT COALESCE(pg_catalog.jsonb_object_agg(r.key, pg_catalog.jsonb_build_object("
"   'bytes', CASE WHEN r.relkind" EQ "'p'"
"       THEN (SELECT COALESCE(pg_catalog.sum(pg_catalog.pg_relation_size(pt.relid)), 0)::pg_catalog.int8"
"               FROM pg_catalog.pg_partition_tree(r.oid) AS pt)"
"       ELSE pg_catalog.pg_relation_size(r.oid) END,"
"   'rows', r.reltuples::pg_catalog.int8)), '{}')"
"   FROM rel AS r WHERE r.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,m}'::\"char\"[])))";

/* $1 unused; the schemas a NULL argument means */
static const char *const default_schemas_sql =
"SELECT COALESCE(pg_catalog.array_agg(n.nspname::pg_catalog.text ORDER BY n.nspname), '{}')"
"  FROM pg_catalog.pg_namespace AS n"
" WHERE n.nspname OPERATOR(pg_catalog.<>) ALL ('{pg_catalog,information_schema,pg_toast}'::pg_catalog.text[])"
"   AND n.nspname OPERATOR(pg_catalog.!~) '^pg_(toast_)?temp_'"
"   AND " NOT_MEMBER("pg_catalog.pg_namespace", "n.oid");

/*
 * migrate_snapshot(schemas text[] DEFAULT NULL) RETURNS jsonb
 *
 * The model of the given schemas (NULL: every schema but the system ones
 * and those an extension owns).  Runs two queries under SPI with
 * search_path = pg_catalog set for the call only; cost: one pass over the
 * catalog rows of the schemas, pg_get_*def() per object.
 */
Datum
migrate_snapshot(PG_FUNCTION_ARGS)
{
	Datum		schemas;
	Datum		result;
	int			save_nestlevel;
	int			rc;
	Oid			argtypes[1] = {TEXTARRAYOID};
	bool		isnull;

	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (PG_ARGISNULL(0))
	{
		rc = SPI_execute(default_schemas_sql, true, 1);
		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not list the schemas");
		schemas = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	}
	else
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);

		if (array_contains_nulls(arr))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("schema names must not be null")));
		schemas = PointerGetDatum(arr);
	}

	rc = SPI_execute_with_args(snapshot_sql, 1, argtypes, &schemas, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the schema model");
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "could not read the schema model");
	{
		/* copy the document out of SPI's memory before SPI_finish frees it */
		Jsonb	   *j = DatumGetJsonbP(result);
		Jsonb	   *copy = (Jsonb *) SPI_palloc(VARSIZE(j));

		memcpy(copy, j, VARSIZE(j));
		result = JsonbPGetDatum(copy);
	}
	SPI_finish();
	AtEOXact_GUC(true, save_nestlevel);
	PG_RETURN_DATUM(result);
}
