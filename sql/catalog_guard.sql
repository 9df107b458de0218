--
-- The catalog changes only through the extension's functions (issue 10,
-- item 3).  The functions write migrate_revision, migrate_version and
-- migrate_log with the extension owner's rights; every other write is
-- refused, whatever rights the writer holds on the tables, except a
-- superuser's outside migration steps (pg_restore).  Each attack of the
-- issue is tried by a role holding the grants README.md used to document
-- (INSERT, UPDATE, DELETE on the tables, USAGE on the log's sequence), by a
-- role holding only the documented EXECUTE, and by a role owning the tables.
--
SELECT reset_migrations();
\set VERBOSITY default

CREATE ROLE mig_guard_old;
CREATE ROLE mig_guard_new;
CREATE ROLE mig_guard_owner;
-- the grants README.md documented before 0.2
GRANT EXECUTE ON FUNCTION
    migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text),
    migrate_upgrade(text), migrate_downgrade(text), migrate_stamp(text, boolean)
    TO mig_guard_old, mig_guard_new;
GRANT INSERT, UPDATE ON migrate_revision TO mig_guard_old;
GRANT INSERT, UPDATE, DELETE ON migrate_version TO mig_guard_old;
GRANT INSERT ON migrate_log TO mig_guard_old;
GRANT USAGE ON SEQUENCE migrate_log_id_seq TO mig_guard_old;
-- and more than that: every right on every table and the sequence
GRANT ALL ON migrate_revision, migrate_version, migrate_log TO mig_guard_old;
GRANT ALL ON SEQUENCE migrate_log_id_seq TO mig_guard_old;
CREATE SCHEMA mig_guard_app AUTHORIZATION mig_guard_new;

--
-- With EXECUTE alone, a role registers, upgrades, downgrades and stamps;
-- the rows name it, not the extension's owner; its bodies run as itself.
--
SET ROLE mig_guard_new;
SELECT migrate_register('g1', '{}',
    'CREATE TABLE mig_guard_app.g1 AS SELECT current_user AS ran_as;',
    'DROP TABLE mig_guard_app.g1;', 'Guard one.');
SELECT migrate_register('g2', '{g1}', 'SELECT 1;', 'SELECT 1;', 'Guard two.');
SELECT migrate_register('g3', '{g2}', 'SELECT 1;', 'SELECT 1;', 'Guard three.');
SELECT revision, direction FROM migrate_upgrade('g2');
SELECT revision, direction FROM migrate_downgrade('g1');
SELECT migrate_stamp('g2');
SELECT migrate_stamp('g1', purge => true);
SELECT revision, direction FROM migrate_upgrade('g2');
SELECT ran_as FROM mig_guard_app.g1;
RESET ROLE;
SELECT revision, registered_by FROM migrate_revision ORDER BY seq;
SELECT logged_by, direction, revision, from_revisions, to_revisions
  FROM migrate_log ORDER BY id;
SELECT revision FROM migrate_version;
-- the role holds no right on the tables or the sequence
SELECT c.relname,
       has_table_privilege('mig_guard_new', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') AS can_write
  FROM pg_class AS c
 WHERE c.relname IN ('migrate_revision', 'migrate_version', 'migrate_log', 'migrate_log_id_seq')
 ORDER BY 1;

-- what the catalog holds now: every attack below must leave it so
CREATE TABLE guard_before AS
SELECT (SELECT md5(string_agg(r::text, '|' ORDER BY seq)) FROM migrate_revision AS r) AS revisions,
       (SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version) AS versions,
       (SELECT md5(string_agg(l::text, '|' ORDER BY id)) FROM migrate_log AS l) AS log;
CREATE FUNCTION guard_unchanged() RETURNS boolean LANGUAGE sql AS $$
SELECT (SELECT md5(string_agg(r::text, '|' ORDER BY seq)) FROM migrate_revision AS r) = b.revisions
   AND (SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version) = b.versions
   AND (SELECT md5(string_agg(l::text, '|' ORDER BY id)) FROM migrate_log AS l) = b.log
  FROM guard_before AS b
$$;

--
-- The attacks of the issue, one by one, with the old grants: each is refused.
--
SET ROLE mig_guard_old;
-- a log row dated 2001, attributed to postgres
INSERT INTO migrate_log (logged_at, logged_by, direction, revision, to_revisions)
VALUES ('2001-01-01', 'postgres', 'upgrade', 'g3', '{g3}');
-- the version table rewritten with no log row
UPDATE migrate_version SET revision = 'g3';
DELETE FROM migrate_version;
INSERT INTO migrate_version VALUES ('g3');
-- seq pushed to the bigint maximum, so that every later registration fails
UPDATE migrate_revision SET seq = 9223372036854775807 WHERE revision = 'g3';
-- the downgrade body and registered_by of an applied revision
UPDATE migrate_revision SET downgrade = 'ALTER ROLE mig_guard_old SUPERUSER;',
                            registered_by = 'postgres'
 WHERE revision = 'g2';
-- the log rewritten or emptied
TRUNCATE migrate_log;
\set VERBOSITY terse
SELECT attack, sqlstate_of(stmt) AS sqlstate FROM (VALUES
    ('forged log row', $$INSERT INTO migrate_log (logged_at, logged_by, direction, revision) VALUES ('2001-01-01', 'postgres', 'upgrade', 'g3')$$),
    ('log row, all columns', $$INSERT INTO migrate_log VALUES (1000, '2001-01-01', 'postgres', '1', 'upgrade', 'g3', '{g2}', '{g3}', '1 s')$$),
    ('log redated', $$UPDATE migrate_log SET logged_at = '2001-01-01'$$),
    ('log reattributed', $$UPDATE migrate_log SET logged_by = 'postgres'$$),
    ('log deleted', $$DELETE FROM migrate_log$$),
    ('log truncated', $$TRUNCATE migrate_log$$),
    ('version row added', $$INSERT INTO migrate_version VALUES ('g3')$$),
    ('version row moved', $$UPDATE migrate_version SET revision = 'g3'$$),
    ('version rows deleted', $$DELETE FROM migrate_version$$),
    ('version table truncated', $$TRUNCATE migrate_version$$),
    ('version upsert', $$INSERT INTO migrate_version VALUES ('g2') ON CONFLICT (revision) DO UPDATE SET revision = 'g3'$$),
    ('version by writable CTE', $$WITH d AS (DELETE FROM migrate_version RETURNING revision) SELECT count(*) FROM d$$),
    ('seq to bigint max', $$UPDATE migrate_revision SET seq = 9223372036854775807 WHERE revision = 'g3'$$),
    ('revision at bigint max', $$INSERT INTO migrate_revision (revision, upgrade, seq) VALUES ('gx', 'SELECT 1;', 9223372036854775807)$$),
    ('applied downgrade body', $$UPDATE migrate_revision SET downgrade = 'ALTER ROLE mig_guard_old SUPERUSER;' WHERE revision = 'g2'$$),
    ('applied upgrade body', $$UPDATE migrate_revision SET upgrade = 'SELECT 2;' WHERE revision = 'g1'$$),
    ('registered_by', $$UPDATE migrate_revision SET registered_by = 'postgres'$$),
    ('applied revision deleted', $$DELETE FROM migrate_revision WHERE revision = 'g1'$$),
    ('revisions truncated', $$TRUNCATE migrate_revision CASCADE$$)
) AS a(attack, stmt);
\set VERBOSITY default
-- COPY goes through the same guard
COPY migrate_log (direction, revision) FROM stdin;
upgrade	g3
\.
COPY migrate_version FROM stdin;
g3
\.
RESET ROLE;
SELECT guard_unchanged();

-- the same with EXECUTE alone: plain permission errors, nothing changes
SET ROLE mig_guard_new;
\set VERBOSITY terse
SELECT attack, sqlstate_of(stmt) AS sqlstate FROM (VALUES
    ('forged log row', $$INSERT INTO migrate_log (logged_at, logged_by, direction, revision) VALUES ('2001-01-01', 'postgres', 'upgrade', 'g3')$$),
    ('log deleted', $$DELETE FROM migrate_log$$),
    ('log truncated', $$TRUNCATE migrate_log$$),
    ('version row added', $$INSERT INTO migrate_version VALUES ('g3')$$),
    ('version rows deleted', $$DELETE FROM migrate_version$$),
    ('seq to bigint max', $$UPDATE migrate_revision SET seq = 9223372036854775807 WHERE revision = 'g3'$$),
    ('applied downgrade body', $$UPDATE migrate_revision SET downgrade = 'ALTER ROLE mig_guard_new SUPERUSER;' WHERE revision = 'g2'$$),
    ('log sequence used', $$SELECT nextval('migrate_log_id_seq')$$),
    ('log sequence set', $$SELECT setval('migrate_log_id_seq', 9223372036854775807)$$)
) AS a(attack, stmt);
\set VERBOSITY default
RESET ROLE;
SELECT guard_unchanged();

--
-- A role owning the tables may not write them either, and cannot disable
-- or drop the guard: its triggers are internal and belong to the extension.
--
ALTER TABLE migrate_revision OWNER TO mig_guard_owner;
ALTER TABLE migrate_version OWNER TO mig_guard_owner;
ALTER TABLE migrate_log OWNER TO mig_guard_owner;
SET ROLE mig_guard_owner;
INSERT INTO migrate_version VALUES ('g3');
UPDATE migrate_revision SET downgrade = 'SELECT 1;' WHERE revision = 'g2';
ALTER TABLE migrate_log DISABLE TRIGGER ALL;
ALTER TABLE migrate_log DISABLE TRIGGER migrate_guard_row;
DROP TRIGGER migrate_guard_statement ON migrate_log;
-- USER triggers are the role's own, and the guard is not among them
ALTER TABLE migrate_log DISABLE TRIGGER USER;
DELETE FROM migrate_log;
ALTER TABLE migrate_log ENABLE TRIGGER USER;
RESET ROLE;
ALTER TABLE migrate_revision OWNER TO CURRENT_USER;
ALTER TABLE migrate_version OWNER TO CURRENT_USER;
ALTER TABLE migrate_log OWNER TO CURRENT_USER;
SELECT guard_unchanged();
-- the guard: internal, firing always, members of the extension
SELECT t.tgrelid::regclass AS "table", t.tgname, t.tgenabled, t.tgisinternal,
       d.deptype AS extension_member
  FROM pg_trigger AS t
  LEFT JOIN pg_depend AS d
    ON d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
   AND d.refclassid = 'pg_extension'::regclass
 WHERE t.tgrelid IN ('migrate_revision'::regclass, 'migrate_version'::regclass,
                     'migrate_log'::regclass)
 ORDER BY 1, 2;

--
-- A sequence has no triggers: a role granted UPDATE on migrate_log_id_seq
-- can move it, even to its maximum.  The log does not take its ids from
-- it, and puts it back at the highest id.
--
SET ROLE mig_guard_old;
SELECT setval('migrate_log_id_seq', 9223372036854775807);
RESET ROLE;
SET ROLE mig_guard_new;
SELECT migrate_stamp('g1');
SELECT migrate_stamp('g2');
RESET ROLE;
SELECT id, logged_by, direction, revision FROM migrate_log ORDER BY id DESC LIMIT 2;
SELECT last_value = (SELECT max(id) FROM migrate_log) AS sequence_at_last_id
  FROM migrate_log_id_seq;

--
-- The escalation of the issue: the migrator could rewrite the downgrade
-- body of an applied revision, and a superuser's later downgrade ran it.
-- Now the body stays what was registered.
--
SET client_min_messages = warning;
SELECT revision, direction FROM migrate_downgrade('base');
RESET client_min_messages;
SELECT rolsuper FROM pg_roles WHERE rolname = 'mig_guard_old';
SELECT to_regclass('mig_guard_app.g1') AS g1_table;

--
-- A body may not write the catalog, not even a superuser's: the step fails
-- (naming the revision) and the call leaves nothing behind.
--
SELECT migrate_register('g3', '{g2}', 'INSERT INTO migrate_version VALUES (''g1'');',
                        'SELECT 1;', 'Guard three.');
SELECT revision, direction FROM migrate_upgrade('heads');
SELECT migrate_register('g3', '{g2}', 'DELETE FROM migrate_log;', 'SELECT 1;', 'Guard three.');
SELECT revision, direction FROM migrate_upgrade('heads');
SELECT migrate_register('g3', '{g2}',
    'SET LOCAL session_replication_role = replica; UPDATE migrate_revision SET upgrade = ''SELECT 2;'';',
    'SELECT 1;', 'Guard three.');
SELECT revision, direction FROM migrate_upgrade('heads');
SELECT migrate_register('g3', '{g2}', 'TRUNCATE migrate_log;', 'SELECT 1;', 'Guard three.');
\set VERBOSITY terse
SELECT revision, direction FROM migrate_upgrade('heads');
\set VERBOSITY default
SELECT revision FROM migrate_version;
SELECT count(*) AS log_rows FROM migrate_log;

--
-- A superuser writes the tables directly outside steps, as pg_restore does
-- (the rows keep what it gives them).
--
BEGIN;
INSERT INTO migrate_log (logged_at, logged_by, direction, revision, to_revisions)
VALUES ('2001-01-01', 'mig_guard_old', 'stamp', 'g1', '{g1}');
SELECT logged_at, logged_by FROM migrate_log WHERE logged_at < '2002-01-01';
-- and takes the migrations lock doing so, as the functions do
SELECT count(*) AS lock_held FROM pg_locks
 WHERE locktype = 'advisory' AND pid = pg_backend_pid()
   AND ((classid::bigint << 32) | objid::bigint) = 120299474542964;
ROLLBACK;

SELECT reset_migrations();
DROP FUNCTION guard_unchanged();
DROP TABLE guard_before;
DROP TABLE IF EXISTS mig_guard_app.g1;
DROP SCHEMA mig_guard_app;
REVOKE ALL ON migrate_revision, migrate_version, migrate_log FROM mig_guard_old;
REVOKE ALL ON SEQUENCE migrate_log_id_seq FROM mig_guard_old;
REVOKE ALL ON FUNCTION
    migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text),
    migrate_upgrade(text), migrate_downgrade(text), migrate_stamp(text, boolean)
    FROM mig_guard_old, mig_guard_new;
DROP ROLE mig_guard_old, mig_guard_new, mig_guard_owner;
