--
-- The drop guard (issue 10, item 6): DROP EXTENSION migrations, DROP SCHEMA
-- ... CASCADE of its schema and DROP OWNED BY its owner are refused while
-- the extension's tables hold any row, unless a superuser turns on
-- migrations.allow_drop.
--
SELECT reset_migrations();

-- The event trigger is a member of the extension, fires at
-- ddl_command_start for three tags only, and fires always (also with
-- session_replication_role = replica)
SELECT e.evtname, e.evtevent, e.evtenabled, e.evttags, e.evtfoid::regprocedure,
       d.deptype
  FROM pg_event_trigger e
  JOIN pg_depend d ON d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid
   AND d.refclassid = 'pg_extension'::regclass
 WHERE e.evtname = 'migrate_drop_guard';

-- No history: the drop goes through (rolled back here)
BEGIN;
DROP EXTENSION migrations;
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'migrations';
ROLLBACK;

-- A history: two revisions, one applied
SELECT migrate_register('g1', '{}', 'CREATE TABLE guard_one (id int);', 'DROP TABLE guard_one;', 'Guard one.');
SELECT migrate_register('g2', '{g1}', 'CREATE TABLE guard_two (id int);', 'DROP TABLE guard_two;', 'Guard two.');
SELECT revision, direction FROM migrate_upgrade('g1');
-- The setting (defined once the library is loaded): off by default, a
-- superuser setting
SELECT name, setting, context, vartype FROM pg_settings WHERE name = 'migrations.allow_drop';
CREATE TABLE guard_state AS
SELECT (SELECT string_agg(r::text, '|' ORDER BY seq) FROM migrate_revision AS r) AS revisions,
       (SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version) AS version,
       (SELECT string_agg(l::text, '|' ORDER BY id) FROM migrate_log AS l) AS log;

-- Refused, with the counts and the setting to use
DROP EXTENSION migrations;
\set VERBOSITY terse
DROP EXTENSION IF EXISTS migrations CASCADE;
DROP EXTENSION plpgsql, migrations;
DROP SCHEMA public CASCADE;
SET session_replication_role = replica;
DROP EXTENSION migrations;
RESET session_replication_role;
SELECT sqlstate_of('DROP EXTENSION migrations') AS drop_extension,
       sqlstate_of('DROP SCHEMA public CASCADE') AS drop_schema;
-- A body that drops the extension fails its step
SELECT migrate_register('g3', '{g2}', 'DROP EXTENSION migrations;');
SELECT revision, direction FROM migrate_upgrade('heads');
\set VERBOSITY default

-- Statements that do not drop it are not affected
CREATE SCHEMA guard_other;
DROP SCHEMA guard_other CASCADE;
DROP EXTENSION IF EXISTS guard_no_such_extension;

-- Everything is still there, and the step that was not applied can run
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'migrations';
SELECT revisions = (SELECT string_agg(r::text, '|' ORDER BY seq) FROM migrate_revision AS r
                     WHERE revision <> 'g3') AS revisions_intact,
       version = (SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version) AS version_intact,
       log = (SELECT string_agg(l::text, '|' ORDER BY id) FROM migrate_log AS l) AS log_intact
  FROM guard_state;
SELECT revision, direction FROM migrate_upgrade('g2');

-- Allowed with the setting: the extension, its trigger and its function go
BEGIN;
SET LOCAL migrations.allow_drop = on;
DROP EXTENSION migrations;
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'migrations';
SELECT count(*) AS triggers FROM pg_event_trigger WHERE evtname = 'migrate_drop_guard';
SELECT count(*) AS functions FROM pg_proc WHERE proname = 'migrate_drop_guard';
COMMIT;
SHOW migrations.allow_drop;
DROP TABLE guard_one, guard_two;

-- Installed again: empty, guarded again, and the same revisions run again
CREATE EXTENSION migrations;
SELECT count(*) AS triggers FROM pg_event_trigger WHERE evtname = 'migrate_drop_guard';
SELECT count(*) AS revisions FROM migrate_revision;
SELECT migrate_register('g1', '{}', 'CREATE TABLE guard_one (id int);', 'DROP TABLE guard_one;', 'Guard one.');
SELECT revision, direction FROM migrate_upgrade('heads');
\set VERBOSITY terse
DROP EXTENSION migrations;
\set VERBOSITY default

-- The setting given before the library is loaded (a new session; as
-- PGOPTIONS or ALTER ROLE ... SET would give it) is honoured for a superuser
\c -
SELECT count(*) AS loaded FROM pg_settings WHERE name = 'migrations.allow_drop';
SET migrations.allow_drop = on;
BEGIN;
DROP EXTENSION migrations;
ROLLBACK;
RESET migrations.allow_drop;

--
-- A schema owned by a role that is no superuser, and an extension owned by
-- a superuser that is not the bootstrap superuser
--
CREATE ROLE regress_mg_guard_owner SUPERUSER;
CREATE ROLE regress_mg_guard_nspowner;
CREATE SCHEMA mg_guard AUTHORIZATION regress_mg_guard_nspowner;
BEGIN;
SET LOCAL migrations.allow_drop = on;
DROP EXTENSION migrations;
COMMIT;
DROP TABLE guard_one;
SET ROLE regress_mg_guard_owner;
CREATE EXTENSION migrations SCHEMA mg_guard;
SELECT mg_guard.migrate_register('h1', '{}', 'SELECT 1');
SELECT revision FROM mg_guard.migrate_upgrade('heads');
RESET ROLE;

\set VERBOSITY terse
-- The extension's owner: DROP OWNED drops the extension with or without CASCADE
DROP OWNED BY regress_mg_guard_owner;
DROP OWNED BY regress_mg_guard_nspowner, regress_mg_guard_owner CASCADE;
SET ROLE regress_mg_guard_nspowner;
-- The schema's owner needs no right on the extension to drop it with the schema
DROP SCHEMA mg_guard CASCADE;
DROP OWNED BY regress_mg_guard_nspowner CASCADE;
DROP OWNED BY CURRENT_USER CASCADE;
-- without CASCADE, PostgreSQL refuses it itself
DROP OWNED BY regress_mg_guard_nspowner;
-- and the setting is not this role's to give
SET migrations.allow_drop = on;
RESET ROLE;
\set VERBOSITY default

-- A placeholder set by a role that is no superuser before the library is
-- loaded is discarded when it is
\c -
SET ROLE regress_mg_guard_nspowner;
SET migrations.allow_drop = on;
\set VERBOSITY terse
DROP SCHEMA mg_guard CASCADE;
\set VERBOSITY default
SHOW migrations.allow_drop;
RESET ROLE;
SELECT revision FROM mg_guard.migrate_version;
SELECT count(*) AS log_rows FROM mg_guard.migrate_log;

-- A superuser can drop the schema and the extension with it
BEGIN;
SET LOCAL migrations.allow_drop = on;
DROP SCHEMA mg_guard CASCADE;
COMMIT;
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'migrations';

--
-- An installation of version 0.1 has no guard; ALTER EXTENSION ... UPDATE
-- adds it, and the history that 0.1 recorded is guarded from then on
--
CREATE EXTENSION migrations VERSION '0.1';
SELECT migrate_register('u1', '{}', 'SELECT 1', NULL, 'Up one.');
SELECT revision, direction FROM migrate_upgrade('heads');
SELECT count(*) AS triggers FROM pg_event_trigger WHERE evtname = 'migrate_drop_guard';
ALTER EXTENSION migrations UPDATE TO '0.2';
SELECT e.evtname, e.evtenabled, d.deptype
  FROM pg_event_trigger e
  JOIN pg_depend d ON d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid
   AND d.refclassid = 'pg_extension'::regclass;
DROP EXTENSION migrations;
SELECT revision FROM migrate_version;
SELECT revision, direction FROM migrate_log ORDER BY id;

-- Leave an empty installation in public, as found
BEGIN;
SET LOCAL migrations.allow_drop = on;
DROP EXTENSION migrations;
COMMIT;
CREATE EXTENSION migrations;
DROP TABLE guard_state;
DROP ROLE regress_mg_guard_owner, regress_mg_guard_nspowner;
