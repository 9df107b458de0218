/* migrations--0.1--0.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrations UPDATE TO '0.2'" to load this file. \quit

-- Version 0.2: hardening (the catalog changes only through the extension's
-- functions; the history survives DROP EXTENSION only when asked to go).

-- issue 10, item 6: the drop guard.  DROP EXTENSION migrations, DROP SCHEMA
-- ... CASCADE of its schema and DROP OWNED BY its owner are refused while
-- the extension's tables hold any row, unless migrations.allow_drop is on
-- (a superuser setting).  ddl_command_start: the statement is read before
-- it runs (a sql_drop trigger of the extension would be gone by then).
-- ENABLE ALWAYS: session_replication_role = replica does not switch it off.
-- The trigger and its function are members of the extension, so a drop
-- that is allowed removes them too.
CREATE FUNCTION @extschema@.migrate_drop_guard()
RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'migrate_drop_guard';
COMMENT ON FUNCTION @extschema@.migrate_drop_guard()
    IS 'event trigger: refuses to drop the extension while it holds migration history';
REVOKE ALL ON FUNCTION @extschema@.migrate_drop_guard() FROM PUBLIC;

CREATE EVENT TRIGGER migrate_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED')
    EXECUTE FUNCTION @extschema@.migrate_drop_guard();
ALTER EVENT TRIGGER migrate_drop_guard ENABLE ALWAYS;
COMMENT ON EVENT TRIGGER migrate_drop_guard
    IS 'refuses to drop extension migrations while it holds migration history (see migrations.allow_drop)';
