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
-- issue 16, item 6: verify bodies.  A revision may carry a verify body,
-- run after its upgrade in the same transaction; an error in it fails the
-- step.  migrate_register gains verify as its last parameter: a new
-- signature, so the function is created anew and the grants users gave on
-- the old one are copied to it before the old one is dropped.
ALTER TABLE @extschema@.migrate_revision ADD COLUMN verify text;
COMMENT ON COLUMN @extschema@.migrate_revision.verify
    IS 'SQL run after the upgrade body in the same transaction; an error fails the step (NULL: none)';

CREATE FUNCTION @extschema@.migrate_register(
    revision text,
    down_revisions text[],
    upgrade text,
    downgrade text DEFAULT NULL,
    message text DEFAULT NULL,
    branch_labels text[] DEFAULT '{}',
    depends_on text[] DEFAULT '{}',
    transactional boolean DEFAULT true,
    source text DEFAULT NULL,
    verify text DEFAULT NULL)
RETURNS text
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'migrate_register';
COMMENT ON FUNCTION @extschema@.migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text)
    IS 'store or update one revision; returns added, updated or unchanged';
REVOKE ALL ON FUNCTION
    @extschema@.migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text)
FROM PUBLIC;

-- The EXECUTE grants on the old signature, other than its owner's, given
-- again on the new one.  GRANT in an extension script is recorded as one
-- of the extension's initial privileges, which pg_dump leaves out: so the
-- initial privileges are set back to what the REVOKE above left, and the
-- copied grants stay the users' own (dumped, and dropped by DROP OWNED).
-- On a fresh install the old function has its owner's grant only, and
-- nothing is copied.
DO $copy_grants$
DECLARE
    old_fn pg_catalog.regprocedure :=
        '@extschema@.migrate_register(text, text[], text, text, text, text[], text[], boolean, text)';
    new_fn pg_catalog.regprocedure :=
        '@extschema@.migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text)';
    initial pg_catalog.aclitem[];
    g record;
BEGIN
    SELECT p.proacl INTO initial FROM pg_catalog.pg_proc AS p
     WHERE p.oid OPERATOR(pg_catalog.=) new_fn;
    FOR g IN
        SELECT a.grantee, a.is_grantable
          FROM pg_catalog.pg_proc AS p,
               pg_catalog.aclexplode(p.proacl) AS a
         WHERE p.oid OPERATOR(pg_catalog.=) old_fn
           AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
           AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
         ORDER BY a.grantee
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s', new_fn,
            CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
            CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    UPDATE pg_catalog.pg_init_privs AS i SET initprivs = initial
     WHERE i.objoid OPERATOR(pg_catalog.=) new_fn::pg_catalog.oid
       AND i.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
       AND i.objsubid OPERATOR(pg_catalog.=) 0
       AND initial IS NOT NULL;
END
$copy_grants$;

DROP FUNCTION @extschema@.migrate_register(text, text[], text, text, text, text[], text[], boolean, text);
-- END 0.4 OTHER
