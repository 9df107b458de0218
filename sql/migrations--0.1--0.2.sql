/* migrations--0.1--0.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrations UPDATE TO '0.2'" to load this file. \quit

-- Version 0.2: hardening (the catalog changes only through the extension's
-- functions; the history survives DROP EXTENSION only when asked to go).

-- issue 10, item 11: migrate_status reads migrate_log once, by an index
CREATE INDEX migrate_log_revision_idx
    ON @extschema@.migrate_log (revision, logged_at);
CREATE OR REPLACE VIEW @extschema@.migrate_status AS
SELECT r.revision,
       r.message,
       r.down_revisions,
       r.branch_labels,
       s.is_applied,
       s.is_head,
       s.in_version_table,
       CASE WHEN s.is_applied THEN l.applied_at END AS applied_at,
       r.registered_at,
       r.source
  FROM @extschema@.migrate_revision AS r
  JOIN @extschema@.migrate_state() AS s
    ON s.revision OPERATOR(pg_catalog.=) r.revision
  LEFT JOIN (SELECT l.revision, pg_catalog.max(l.logged_at) AS applied_at
               FROM @extschema@.migrate_log AS l
              WHERE l.direction OPERATOR(pg_catalog.<>) 'downgrade'
              GROUP BY l.revision) AS l
    ON l.revision OPERATOR(pg_catalog.=) r.revision
 ORDER BY r.seq;

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

-- issue 10, item 3: the catalog changes only through the extension's functions.
-- The C code writes the three tables with the extension owner's rights;
-- internal triggers that fire always refuse every other write, except a
-- superuser's outside migration steps (pg_restore).  They are members of
-- the extension: only DROP EXTENSION removes them.
CREATE FUNCTION @extschema@.migrate_catalog_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'migrate_catalog_guard';
COMMENT ON FUNCTION @extschema@.migrate_catalog_guard()
    IS 'trigger: the catalog tables change only through the extension''s functions';
REVOKE ALL ON FUNCTION @extschema@.migrate_catalog_guard() FROM PUBLIC;
CREATE FUNCTION @extschema@.migrate_install_catalog_guard()
RETURNS void
LANGUAGE C
AS 'MODULE_PATHNAME', 'migrate_install_catalog_guard';
SELECT @extschema@.migrate_install_catalog_guard();
DROP FUNCTION @extschema@.migrate_install_catalog_guard();
