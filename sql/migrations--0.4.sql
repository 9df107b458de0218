/* migrations--0.4.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION migrations" to load this file. \quit

--
-- Catalog
--

-- One row per registered revision.  seq is the registration order, which
-- breaks ties wherever Alembic's order depends on the order it loaded files.
CREATE TABLE @extschema@.migrate_revision (
    revision        text PRIMARY KEY
                    CHECK (revision OPERATOR(pg_catalog.~) '^[A-Za-z0-9_]{1,32}$'),
    down_revisions  text[] NOT NULL DEFAULT '{}',
    depends_on      text[] NOT NULL DEFAULT '{}',
    branch_labels   text[] NOT NULL DEFAULT '{}',
    message         text,
    upgrade         text NOT NULL,
    downgrade       text,
    transactional   boolean NOT NULL DEFAULT true,
    source          text,
    seq             bigint NOT NULL UNIQUE,
    registered_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    registered_by   name NOT NULL DEFAULT CURRENT_USER
);

-- The current heads of the database (Alembic's alembic_version).
CREATE TABLE @extschema@.migrate_version (
    revision        varchar(32) PRIMARY KEY
);

-- One row per executed or stamped step.
CREATE SEQUENCE @extschema@.migrate_log_id_seq;

CREATE TABLE @extschema@.migrate_log (
    id              bigint PRIMARY KEY
                    DEFAULT pg_catalog.nextval('@extschema@.migrate_log_id_seq'::pg_catalog.regclass),
    logged_at       timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    logged_by       name NOT NULL DEFAULT CURRENT_USER,
    xid             xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    direction       text NOT NULL,      -- upgrade, downgrade or stamp
    revision        text,
    from_revisions  text[] NOT NULL DEFAULT '{}',
    to_revisions    text[] NOT NULL DEFAULT '{}',
    duration        interval
);
ALTER SEQUENCE @extschema@.migrate_log_id_seq OWNED BY @extschema@.migrate_log.id;

SELECT pg_catalog.pg_extension_config_dump('@extschema@.migrate_revision', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migrate_version', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migrate_log', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migrate_log_id_seq', '');

COMMENT ON TABLE @extschema@.migrate_revision IS 'registered migration revisions, one row each';
COMMENT ON TABLE @extschema@.migrate_version IS 'current head revisions of this database';
COMMENT ON TABLE @extschema@.migrate_log IS 'executed and stamped migration steps';

--
-- SQL-callable functions
--

CREATE FUNCTION @extschema@.migrate_register(
    revision text,
    down_revisions text[],
    upgrade text,
    downgrade text DEFAULT NULL,
    message text DEFAULT NULL,
    branch_labels text[] DEFAULT '{}',
    depends_on text[] DEFAULT '{}',
    transactional boolean DEFAULT true,
    source text DEFAULT NULL)
RETURNS text
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'migrate_register';
COMMENT ON FUNCTION @extschema@.migrate_register(text, text[], text, text, text, text[], text[], boolean, text)
    IS 'store or update one revision; returns added, updated or unchanged';

CREATE FUNCTION @extschema@.migrate_check()
RETURNS void
LANGUAGE C STRICT STABLE
AS 'MODULE_PATHNAME', 'migrate_check';
COMMENT ON FUNCTION @extschema@.migrate_check()
    IS 'validate the stored revision graph';

CREATE FUNCTION @extschema@.migrate_upgrade(
    target text DEFAULT 'heads',
    OUT revision text, OUT direction text, OUT message text,
    OUT duration interval)
RETURNS SETOF record
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'migrate_upgrade';
COMMENT ON FUNCTION @extschema@.migrate_upgrade(text)
    IS 'run upgrade steps up to the target, in the caller''s transaction';

CREATE FUNCTION @extschema@.migrate_downgrade(
    target text,
    OUT revision text, OUT direction text, OUT message text,
    OUT duration interval)
RETURNS SETOF record
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'migrate_downgrade';
COMMENT ON FUNCTION @extschema@.migrate_downgrade(text)
    IS 'run downgrade steps down to the target, in the caller''s transaction';

CREATE FUNCTION @extschema@.migrate_stamp(
    target text, purge boolean DEFAULT false,
    OUT revision text)
RETURNS SETOF text
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'migrate_stamp';
COMMENT ON FUNCTION @extschema@.migrate_stamp(text, boolean)
    IS 'set the version table to the target without running migrations; returns the new version table';

CREATE FUNCTION @extschema@.migrate_heads(
    OUT revision text, OUT branch_labels text[],
    OUT is_effective_head boolean, OUT message text)
RETURNS SETOF record
LANGUAGE C STRICT STABLE
AS 'MODULE_PATHNAME', 'migrate_heads';
COMMENT ON FUNCTION @extschema@.migrate_heads()
    IS 'head revisions of the graph, effective heads included';

CREATE FUNCTION @extschema@.migrate_current(
    OUT revision text, OUT branch_labels text[],
    OUT is_head boolean, OUT is_effective_head boolean,
    OUT in_version_table boolean, OUT message text)
RETURNS SETOF record
LANGUAGE C STRICT STABLE
AS 'MODULE_PATHNAME', 'migrate_current';
COMMENT ON FUNCTION @extschema@.migrate_current()
    IS 'the current revisions of the database, as alembic current shows them';

CREATE FUNCTION @extschema@.migrate_history(
    range text DEFAULT NULL,
    OUT revision text, OUT down_revisions text[], OUT depends_on text[],
    OUT branch_labels text[], OUT is_head boolean,
    OUT is_effective_head boolean, OUT is_branch_point boolean,
    OUT is_merge_point boolean, OUT is_applied boolean,
    OUT message text, OUT line text)
RETURNS SETOF record
LANGUAGE C CALLED ON NULL INPUT STABLE
AS 'MODULE_PATHNAME', 'migrate_history';
COMMENT ON FUNCTION @extschema@.migrate_history(text)
    IS 'revisions of a range ([start]:[end]), newest first, as alembic history lists them';

CREATE FUNCTION @extschema@.migrate_branches(
    OUT revision text, OUT children text[], OUT branch_labels text[],
    OUT message text)
RETURNS SETOF record
LANGUAGE C STRICT STABLE
AS 'MODULE_PATHNAME', 'migrate_branches';
COMMENT ON FUNCTION @extschema@.migrate_branches()
    IS 'branch points of the graph and their children';

CREATE FUNCTION @extschema@.migrate_resolve(target text)
RETURNS SETOF text
LANGUAGE C CALLED ON NULL INPUT STABLE
AS 'MODULE_PATHNAME', 'migrate_resolve';
COMMENT ON FUNCTION @extschema@.migrate_resolve(text)
    IS 'the revision ids a target names';

CREATE FUNCTION @extschema@.migrate_state(
    OUT revision text, OUT is_applied boolean, OUT is_head boolean,
    OUT in_version_table boolean)
RETURNS SETOF record
LANGUAGE C STRICT STABLE
AS 'MODULE_PATHNAME', 'migrate_state';
COMMENT ON FUNCTION @extschema@.migrate_state()
    IS 'applied and head flags of every revision';

CREATE FUNCTION @extschema@.migrate_show(target text)
RETURNS SETOF @extschema@.migrate_revision
LANGUAGE sql CALLED ON NULL INPUT STABLE
AS $$
    SELECT r.*
      FROM @extschema@.migrate_resolve(target) WITH ORDINALITY AS t(revision, n)
      JOIN @extschema@.migrate_revision AS r
        ON r.revision OPERATOR(pg_catalog.=) t.revision
     ORDER BY t.n
$$;
COMMENT ON FUNCTION @extschema@.migrate_show(text)
    IS 'the stored rows of the revisions a target names';

CREATE VIEW @extschema@.migrate_status AS
SELECT r.revision,
       r.message,
       r.down_revisions,
       r.branch_labels,
       s.is_applied,
       s.is_head,
       s.in_version_table,
       CASE WHEN s.is_applied THEN
           (SELECT pg_catalog.max(l.logged_at)
              FROM @extschema@.migrate_log AS l
             WHERE l.revision OPERATOR(pg_catalog.=) r.revision
               AND l.direction OPERATOR(pg_catalog.<>) 'downgrade')
       END AS applied_at,
       r.registered_at,
       r.source
  FROM @extschema@.migrate_revision AS r
  JOIN @extschema@.migrate_state() AS s
    ON s.revision OPERATOR(pg_catalog.=) r.revision
 ORDER BY r.seq;
COMMENT ON VIEW @extschema@.migrate_status
    IS 'every revision with whether it is applied, a head, and when it was applied';

--
-- Privileges: reading state is public, changing it is not.
--
REVOKE ALL ON @extschema@.migrate_revision, @extschema@.migrate_version,
              @extschema@.migrate_log FROM PUBLIC;
GRANT SELECT ON @extschema@.migrate_revision, @extschema@.migrate_version,
                @extschema@.migrate_log, @extschema@.migrate_status TO PUBLIC;
REVOKE ALL ON SEQUENCE @extschema@.migrate_log_id_seq FROM PUBLIC;
REVOKE ALL ON FUNCTION
    @extschema@.migrate_register(text, text[], text, text, text, text[], text[], boolean, text),
    @extschema@.migrate_upgrade(text),
    @extschema@.migrate_downgrade(text),
    @extschema@.migrate_stamp(text, boolean)
FROM PUBLIC;

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

-- issue 12, items 1 and 2: the schema model and the diff of two models
-- (README, "Schema snapshots and diffs").  Read-only: EXECUTE for PUBLIC,
-- like the listing functions; the snapshot sees what the caller's rights
-- on the catalogs show.
CREATE FUNCTION @extschema@.migrate_snapshot(schemas text[] DEFAULT NULL)
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'migrate_snapshot';
COMMENT ON FUNCTION @extschema@.migrate_snapshot(text[])
    IS 'the schema model of the given schemas (default: every user schema) as jsonb';

CREATE FUNCTION @extschema@.migrate_diff(source jsonb, target jsonb)
RETURNS TABLE(step integer, statement text, object text, hazard text, note text)
LANGUAGE C IMMUTABLE STRICT
AS 'MODULE_PATHNAME', 'migrate_diff';
COMMENT ON FUNCTION @extschema@.migrate_diff(jsonb, jsonb)
    IS 'the ordered statements turning schema model source into target, with hazards';

-- issue 12, item 5: migrate_roundtrip (README, "Schema snapshots and
-- diffs").  It runs bodies, so it is refused to PUBLIC like
-- migrate_upgrade; everything it does is rolled back.
CREATE FUNCTION @extschema@.migrate_roundtrip(
    target text DEFAULT 'heads',
    OUT revision text, OUT phase text, OUT object text,
    OUT difference text)
RETURNS SETOF record
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'migrate_roundtrip';
COMMENT ON FUNCTION @extschema@.migrate_roundtrip(text)
    IS 'upgrade to the target and downgrade back, whole and revision by revision, always rolled back; a row per difference';
REVOKE ALL ON FUNCTION @extschema@.migrate_roundtrip(text) FROM PUBLIC;

--
-- Version 0.4 (migrations--0.3--0.4.sql says what each part is for).  The
-- parts below are the same statements as in the update script, in the same
-- order, so that a fresh install and an update give the same objects.
--

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
