/* migrations--0.3--0.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrations UPDATE TO '0.4'" to load this file. \quit

-- Version 0.4: runs beyond one transaction (issue 14), files and database in
-- agreement (issue 15), adopting Alembic databases (issue 13), plans, graphs
-- and verify sections (issue 16).  Every revision, version row and log row
-- is kept; migrations--0.4.sql ends with the same statements.

-- BEGIN 0.4 STEP (issue 14: stepwise procedures, non-transactional revisions)
-- Procedures that commit after each revision: the same plan, order,
-- version rows and log rows as migrate_upgrade/migrate_downgrade, for
-- histories larger than one transaction can hold.
CREATE PROCEDURE @extschema@.migrate_upgrade_stepwise(target text DEFAULT 'heads')
LANGUAGE C
AS 'MODULE_PATHNAME', 'migrate_upgrade_stepwise';
COMMENT ON PROCEDURE @extschema@.migrate_upgrade_stepwise(text)
    IS 'run upgrade steps up to the target, committing after each revision';

CREATE PROCEDURE @extschema@.migrate_downgrade_stepwise(target text)
LANGUAGE C
AS 'MODULE_PATHNAME', 'migrate_downgrade_stepwise';
COMMENT ON PROCEDURE @extschema@.migrate_downgrade_stepwise(text)
    IS 'run downgrade steps down to the target, committing after each revision';

REVOKE ALL ON PROCEDURE
    @extschema@.migrate_upgrade_stepwise(text),
    @extschema@.migrate_downgrade_stepwise(text)
FROM PUBLIC;
-- END 0.4 STEP


-- BEGIN 0.4 PROV (issue 15: unregister, validation at commit, provenance)

-- Item 9: the body checksum of each revision (migrate_checksum: sha256 over
-- the upgrade, downgrade and, when present, verify bodies; README,
-- "Provenance").  migrate_register computes it; rows registered under 0.3
-- get theirs here.  This is an update by the extension script, as a
-- superuser outside any step, which the catalog guard lets through.
CREATE FUNCTION @extschema@.migrate_checksum(
    upgrade text, downgrade text DEFAULT NULL, verify text DEFAULT NULL)
RETURNS bytea
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'migrate_checksum';
COMMENT ON FUNCTION @extschema@.migrate_checksum(text, text, text)
    IS 'sha256 of a revision''s bodies, as migrate_revision.checksum holds it';
ALTER TABLE @extschema@.migrate_revision ADD COLUMN checksum bytea;
UPDATE @extschema@.migrate_revision
   SET checksum = @extschema@.migrate_checksum(upgrade, downgrade);

-- Item 9: provenance of each log row.  The defaults are evaluated when the
-- row is inserted, in the backend that ran the step: they are the same
-- whether the extension owner's rights are in effect or not.  Rows logged
-- before 0.4 have NULL in every new column.
CREATE FUNCTION @extschema@.migrate_session_id()
RETURNS text
LANGUAGE C STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'migrate_session_id';
COMMENT ON FUNCTION @extschema@.migrate_session_id()
    IS 'this session''s id: backend start time and pid in hex, as log_line_prefix %c prints it';
ALTER TABLE @extschema@.migrate_log
    ADD COLUMN message text,
    ADD COLUMN checksum bytea,
    ADD COLUMN application_name text,
    ADD COLUMN client_addr inet,
    ADD COLUMN backend_pid integer,
    ADD COLUMN session_id text,
    ADD COLUMN session_role name,
    ADD COLUMN sqlstate text,
    ADD COLUMN error text;
ALTER TABLE @extschema@.migrate_log
    ALTER COLUMN application_name
        SET DEFAULT pg_catalog.current_setting('application_name'),
    ALTER COLUMN client_addr SET DEFAULT pg_catalog.inet_client_addr(),
    ALTER COLUMN backend_pid SET DEFAULT pg_catalog.pg_backend_pid(),
    ALTER COLUMN session_id SET DEFAULT @extschema@.migrate_session_id(),
    ALTER COLUMN session_role SET DEFAULT SESSION_USER;

-- Item 4: removing a revision that is not applied (logged as 'unregister')
CREATE FUNCTION @extschema@.migrate_unregister(revision text)
RETURNS void
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'migrate_unregister';
COMMENT ON FUNCTION @extschema@.migrate_unregister(text)
    IS 'remove a registered revision that is not applied; logged';
REVOKE ALL ON FUNCTION @extschema@.migrate_unregister(text) FROM PUBLIC;

-- Item 9: a failed attempt, logged by pg_migrate in a second transaction
-- after the failed one rolled back (direction 'failed upgrade', 'failed
-- downgrade' or 'failed stamp').
CREATE FUNCTION @extschema@.migrate_log_failure(
    direction text, revision text, sqlstate text, error text)
RETURNS void
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'migrate_log_failure';
COMMENT ON FUNCTION @extschema@.migrate_log_failure(text, text, text, text)
    IS 'log a failed upgrade, downgrade or stamp attempt after its rollback';
REVOKE ALL ON FUNCTION @extschema@.migrate_log_failure(text, text, text, text) FROM PUBLIC;

-- Item 9: each revision's branch labels with the inherited ones, as
-- migrate_history and pg_migrate history show them (the stored
-- branch_labels column holds only the declared ones).
CREATE FUNCTION @extschema@.migrate_branch_labels(
    OUT revision text, OUT branch_labels text[])
RETURNS SETOF record
LANGUAGE sql STABLE
AS $$
    SELECT h.revision, h.branch_labels FROM @extschema@.migrate_history() AS h
$$;
COMMENT ON FUNCTION @extschema@.migrate_branch_labels()
    IS 'every revision with its declared and inherited branch labels, as history shows them';

-- Item 9: migrate_status tells a revision that ran from one stamped:
-- applied_via is 'upgrade' when its upgrade body ran and its downgrade body
-- has not run since (a stamp may have moved the version table meanwhile),
-- 'stamp' otherwise; applied_at now counts only the log rows that apply a
-- revision (not unregister rows nor failed attempts).
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
       r.source,
       CASE WHEN s.is_applied THEN
           CASE WHEN l.up_id OPERATOR(pg_catalog.>) COALESCE(l.down_id, 0)
                THEN 'upgrade' ELSE 'stamp' END
       END AS applied_via,
       r.checksum
  FROM @extschema@.migrate_revision AS r
  JOIN @extschema@.migrate_state() AS s
    ON s.revision OPERATOR(pg_catalog.=) r.revision
  LEFT JOIN (SELECT l.revision,
                    pg_catalog.max(l.logged_at) FILTER (WHERE l.direction
                        OPERATOR(pg_catalog.<>) 'downgrade') AS applied_at,
                    pg_catalog.max(l.id) FILTER (WHERE l.direction
                        OPERATOR(pg_catalog.=) 'upgrade') AS up_id,
                    pg_catalog.max(l.id) FILTER (WHERE l.direction
                        OPERATOR(pg_catalog.=) 'downgrade') AS down_id
               FROM @extschema@.migrate_log AS l
              WHERE l.direction OPERATOR(pg_catalog.=) ANY ('{upgrade,downgrade,stamp}'::text[])
              GROUP BY l.revision) AS l
    ON l.revision OPERATOR(pg_catalog.=) r.revision
 ORDER BY r.seq;

-- Item 5: no invalid graph is committed.  Every write of migrate_revision
-- passes the catalog guard, which has the graph validated once when the
-- transaction commits (a pre-commit callback, mg_provenance.c); there is
-- no catalog object for it.
-- END 0.4 PROV


-- BEGIN 0.4 ADOPT (issue 13: adopting Alembic databases, alembic_version kept)
-- The Alembic version table that every write of migrate_version also
-- writes (README, "Adopting an Alembic database"): at most one row, set by
-- migrate_keep_alembic_version, removed by migrate_forget_alembic_version.
CREATE TABLE @extschema@.migrate_alembic_version (
    only_row             boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version_table_schema name NOT NULL,
    version_table        name NOT NULL,
    kept_since           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    kept_by              name NOT NULL DEFAULT CURRENT_USER
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migrate_alembic_version', '');
COMMENT ON TABLE @extschema@.migrate_alembic_version
    IS 'the Alembic version table kept in step with migrate_version, if any';
REVOKE ALL ON @extschema@.migrate_alembic_version FROM PUBLIC;
GRANT SELECT ON @extschema@.migrate_alembic_version TO PUBLIC;

CREATE FUNCTION @extschema@.migrate_keep_alembic_version(
    version_table text DEFAULT 'alembic_version',
    version_table_schema text DEFAULT NULL)
RETURNS text
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'migrate_keep_alembic_version';
COMMENT ON FUNCTION @extschema@.migrate_keep_alembic_version(text, text)
    IS 'from now on, every upgrade, downgrade and stamp also writes this Alembic version table';
REVOKE ALL ON FUNCTION @extschema@.migrate_keep_alembic_version(text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.migrate_forget_alembic_version()
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'migrate_forget_alembic_version';
COMMENT ON FUNCTION @extschema@.migrate_forget_alembic_version()
    IS 'stop writing the Alembic version table; true if one was kept';
REVOKE ALL ON FUNCTION @extschema@.migrate_forget_alembic_version() FROM PUBLIC;
-- END 0.4 ADOPT


-- BEGIN 0.4 PLAN (issue 16: migrate_plan, migrate_graph, verify sections)
-- END 0.4 PLAN


-- BEGIN 0.4 OTHER
-- END 0.4 OTHER
