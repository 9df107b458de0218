--
-- Privileges: a role without grants can read migration state but cannot
-- change it, directly or through the functions.
--
SELECT reset_migrations();
\set VERBOSITY default
SELECT migrate_register('p1', '{}', 'SELECT 1;', 'SELECT 1;', 'Priv.');
CREATE ROLE mig_reader;

SET ROLE mig_reader;
SELECT revision FROM migrate_heads();
SELECT revision FROM migrate_history();
SELECT revision FROM migrate_current();
SELECT revision, is_applied FROM migrate_status;
SELECT revision FROM migrate_revision;
SELECT migrate_check();
SELECT * FROM migrate_upgrade('heads');
SELECT * FROM migrate_downgrade('base');
SELECT * FROM migrate_stamp('heads');
SELECT migrate_register('p2', '{p1}', 'SELECT 1;');
INSERT INTO migrate_version VALUES ('p1');
UPDATE migrate_revision SET upgrade = 'DROP TABLE important;';
DELETE FROM migrate_log;
RESET ROLE;

SELECT count(*) AS version_rows FROM migrate_version;
SELECT upgrade FROM migrate_revision;

-- EXECUTE alone is enough (0.2): the extension writes its tables with its
-- owner's rights, and the log names the role that called it
GRANT EXECUTE ON FUNCTION migrate_upgrade(text) TO mig_reader;
SET ROLE mig_reader;
SELECT revision, direction FROM migrate_upgrade('heads');
RESET ROLE;
SELECT revision FROM migrate_version;
SELECT logged_by, direction, revision FROM migrate_log;
REVOKE EXECUTE ON FUNCTION migrate_upgrade(text) FROM mig_reader;
SELECT reset_migrations();
SELECT migrate_register('p1', '{}', 'SELECT 1;', 'SELECT 1;', 'Priv.');
DROP ROLE mig_reader;

--
-- Every function of the extension (found through pg_depend, whatever its
-- name) runs with the caller's rights, sets no configuration (no SET
-- search_path that would hide the caller's), and only the four that change
-- state are withheld from PUBLIC.
--
SELECT p.oid::regprocedure AS function, p.prosecdef AS security_definer,
       p.proconfig AS config,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_depend AS d
  JOIN pg_proc AS p ON p.oid = d.objid
 WHERE d.classid = 'pg_proc'::regclass
   AND d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrations')
   AND d.deptype = 'e'
 ORDER BY p.proname;

-- PUBLIC's rights on every table, view and sequence of the extension
SELECT c.oid::regclass AS relation, c.relkind,
       has_table_privilege('public', c.oid, 'SELECT') AS sel,
       has_table_privilege('public', c.oid, 'INSERT') AS ins,
       has_table_privilege('public', c.oid, 'UPDATE') AS upd,
       has_table_privilege('public', c.oid, 'DELETE') AS del,
       has_table_privilege('public', c.oid, 'TRUNCATE') AS trunc,
       has_table_privilege('public', c.oid, 'REFERENCES, TRIGGER') AS ref_trig,
       c.relkind = 'S' AND has_sequence_privilege('public', c.oid, 'USAGE, UPDATE') AS seq_use
  FROM pg_depend AS d
  JOIN pg_class AS c ON c.oid = d.objid
 WHERE d.classid = 'pg_class'::regclass
   AND d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrations')
   AND d.deptype = 'e'
 ORDER BY c.relname;

--
-- A role without grants reads everything, and writes nothing: not through
-- the functions, not into the tables, not the log sequence.
--
SELECT reset_migrations();
SELECT migrate_register('p1', '{}', 'SELECT 1;', 'SELECT 1;', 'Priv one.', '{plabel}');
SELECT migrate_register('p2', '{p1}', 'SELECT 1;', 'SELECT 1;', 'Priv two.');
SELECT revision FROM migrate_upgrade('p1');
CREATE ROLE mig_nobody;
SET ROLE mig_nobody;
SELECT revision, is_effective_head FROM migrate_heads();
SELECT revision, in_version_table FROM migrate_current();
SELECT line FROM migrate_history();
SELECT line FROM migrate_history('base:p2');
SELECT revision, children FROM migrate_branches();
SELECT migrate_resolve('plabel@head');
SELECT revision, upgrade FROM migrate_show('p2');
SELECT * FROM migrate_state();
SELECT revision, is_applied, applied_at IS NOT NULL AS has_applied_at FROM migrate_status;
SELECT migrate_check();
SELECT revision, seq FROM migrate_revision ORDER BY seq;
SELECT revision FROM migrate_version;
SELECT direction, revision FROM migrate_log;
-- refused
SELECT migrate_register('p3', '{p2}', 'SELECT 1;');
SELECT migrate_register('p2', '{p1}', 'SELECT 1;', 'SELECT 1;', 'A new message.');
SELECT * FROM migrate_upgrade('heads');
SELECT * FROM migrate_downgrade('base');
SELECT * FROM migrate_stamp('heads');
SELECT * FROM migrate_stamp('base', true);
INSERT INTO migrate_revision (revision, upgrade, seq) VALUES ('p9', 'SELECT 1;', 9);
INSERT INTO migrate_version VALUES ('p2');
INSERT INTO migrate_log (direction, revision) VALUES ('stamp', 'p2');
UPDATE migrate_version SET revision = 'p2';
UPDATE migrate_log SET revision = 'p2';
DELETE FROM migrate_revision;
DELETE FROM migrate_version;
TRUNCATE migrate_revision;
TRUNCATE migrate_version;
TRUNCATE migrate_log;
SELECT nextval('migrate_log_id_seq');
SELECT setval('migrate_log_id_seq', 1000);
SELECT last_value FROM migrate_log_id_seq;
-- the advisory lock is an ordinary one: any role can take it
BEGIN;
SELECT pg_advisory_xact_lock(120299474542964);
COMMIT;
RESET ROLE;

-- nothing changed
SELECT revision, seq, message, upgrade FROM migrate_revision ORDER BY seq;
SELECT revision FROM migrate_version;
SELECT direction, revision FROM migrate_log ORDER BY id;

--
-- Without SELECT on migrate_revision (to keep bodies secret), a role reads
-- no state at all: the functions read the table with the caller's rights.
--
REVOKE SELECT ON migrate_revision FROM PUBLIC;
\set VERBOSITY terse
SET ROLE mig_nobody;
SELECT revision FROM migrate_revision;
SELECT revision FROM migrate_heads();
SELECT revision FROM migrate_history();
SELECT revision FROM migrate_show('p1');
SELECT revision FROM migrate_status;
RESET ROLE;
GRANT SELECT ON migrate_revision TO PUBLIC;
\set VERBOSITY default
DROP ROLE mig_nobody;

--
-- A role granted the documented rights (EXECUTE on the four functions, no
-- right on the tables) migrates, without owning anything of the extension.
-- The log stays append-only for it.
--
CREATE ROLE mig_migrator;
GRANT EXECUTE ON FUNCTION
    migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text),
    migrate_upgrade(text), migrate_downgrade(text), migrate_stamp(text, boolean)
    TO mig_migrator;
-- the rights its bodies need are its own business
CREATE SCHEMA mig_app AUTHORIZATION mig_migrator;

SET ROLE mig_migrator;
SELECT migrate_register('p3', '{p2}', 'CREATE TABLE mig_app.p3_table (id int);',
                        'DROP TABLE mig_app.p3_table;', 'Priv three.');
SELECT migrate_register('p2', '{p1}', 'SELECT 1;', 'SELECT 1;', 'Priv two, renamed.');
SELECT revision, direction FROM migrate_upgrade('heads');
SELECT revision, direction FROM migrate_downgrade('p2');
SELECT migrate_stamp('heads');
SELECT migrate_stamp('p1', purge => true);
SELECT revision, direction FROM migrate_upgrade('heads');
SELECT current_user AS migrator, count(*) AS log_rows FROM migrate_log;
-- still refused: rewriting history, and registering a changed applied revision
DELETE FROM migrate_log;
TRUNCATE migrate_log;
DELETE FROM migrate_revision;
INSERT INTO migrate_version VALUES ('p1');
SELECT migrate_register('p3', '{p2}', 'DROP TABLE important;');
RESET ROLE;

SELECT revision, registered_by FROM migrate_revision ORDER BY seq;
SELECT revision FROM migrate_version;
SELECT logged_by, direction, revision, from_revisions, to_revisions
  FROM migrate_log ORDER BY id;
SELECT to_regclass('mig_app.p3_table') IS NOT NULL AS p3_table_exists;

SELECT reset_migrations();
DROP TABLE mig_app.p3_table;
DROP SCHEMA mig_app;
REVOKE ALL ON migrate_revision, migrate_version, migrate_log FROM mig_migrator;
REVOKE ALL ON SEQUENCE migrate_log_id_seq FROM mig_migrator;
REVOKE ALL ON FUNCTION
    migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text),
    migrate_upgrade(text), migrate_downgrade(text), migrate_stamp(text, boolean)
    FROM mig_migrator;
DROP ROLE mig_migrator;
