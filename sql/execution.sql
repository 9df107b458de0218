--
-- Execution: all steps in the caller's transaction, NOTICEs, errors that
-- keep their SQLSTATE and name the revision, nothing left behind.
--
SELECT reset_migrations();
\set VERBOSITY default

SELECT migrate_register('e1', '{}', 'CREATE TABLE ex_one (id int PRIMARY KEY); INSERT INTO ex_one VALUES (1);',
                        'DROP TABLE ex_one;', 'Create table one.');
SELECT migrate_register('e2', '{e1}', 'CREATE TABLE ex_two (id int); CREATE INDEX ex_two_id ON ex_two (id);',
                        'DROP TABLE ex_two;', 'Create table two.');
-- e3 fails: a duplicate key, after creating a table of its own
SELECT migrate_register('e3', '{e2}', 'CREATE TABLE ex_three (id int); INSERT INTO ex_one VALUES (1);',
                        'DROP TABLE ex_three;', 'Break on purpose.');

-- the whole call is atomic: e1 and e2 ran, then e3 failed
SELECT revision, direction FROM migrate_upgrade('heads');
SELECT to_regclass('ex_one') AS one, to_regclass('ex_two') AS two, to_regclass('ex_three') AS three;
SELECT count(*) AS version_rows FROM migrate_version;
SELECT count(*) AS log_rows FROM migrate_log;

-- the error keeps its SQLSTATE
DO $$
BEGIN
    PERFORM * FROM migrate_upgrade('heads');
EXCEPTION WHEN unique_violation THEN
    RAISE NOTICE 'caught unique_violation (%)', SQLSTATE;
END
$$;

-- inside a transaction block, a failed upgrade aborts it like any statement
BEGIN;
SELECT revision FROM migrate_upgrade('e1');
SELECT revision FROM migrate_upgrade('heads');
ROLLBACK;
SELECT count(*) AS version_rows FROM migrate_version;

-- fix e3 (not applied, so its body may change) and run everything
SELECT migrate_register('e3', '{e2}', 'CREATE TABLE ex_three (id int); INSERT INTO ex_one VALUES (3);',
                        'DROP TABLE ex_three;', 'Create table three.');
SELECT revision, direction, message FROM migrate_upgrade('heads');
SELECT * FROM ex_one ORDER BY id;

-- a failing downgrade leaves everything in place too
SELECT migrate_register('e4', '{e3}', 'SELECT 1;', 'SELECT 1 / 0;', 'Cannot go back.');
SELECT revision FROM migrate_upgrade('heads');
SELECT revision FROM migrate_downgrade('e2');
SELECT revision FROM migrate_version;
SELECT to_regclass('ex_three') AS three;

-- bodies run with the caller's search_path
CREATE SCHEMA ex_app;
SELECT migrate_register('e5', '{e4}', 'CREATE TABLE ex_five (id int);', 'DROP TABLE ex_five;', 'In the app schema.');
SET search_path = ex_app, public;
SELECT revision FROM migrate_upgrade('heads');
RESET search_path;
SELECT to_regclass('ex_app.ex_five') AS five;

-- a body may not end the transaction
SELECT migrate_register('e6', '{e5}', 'COMMIT;', 'SELECT 1;', 'Commits.');
SELECT revision FROM migrate_upgrade('heads');
DELETE FROM migrate_revision WHERE revision = 'e6';

-- a body may read migration state, but not change it
SELECT migrate_register('e6', '{e5}', 'CREATE TABLE ex_heads AS SELECT revision FROM migrate_heads();',
                        'DROP TABLE ex_heads;', 'Reads heads.');
SELECT revision FROM migrate_upgrade('heads');
SELECT * FROM ex_heads;
SELECT migrate_register('e7', '{e6}', 'SELECT * FROM migrate_stamp(''e5'');', 'SELECT 1;', 'Stamps.');
SELECT revision FROM migrate_upgrade('heads');
SELECT migrate_register('e7', '{e6}', 'SELECT * FROM migrate_upgrade(''heads'');', 'SELECT 1;', 'Upgrades.');
SELECT revision FROM migrate_upgrade('heads');
SELECT migrate_register('e7', '{e6}', $$DO $b$ BEGIN PERFORM migrate_register('e8', '{e7}', 'SELECT 1;'); EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'caught: %', SQLERRM; END $b$;$$,
                        'SELECT 1;', 'Registers, and catches the error.');
SELECT revision FROM migrate_upgrade('heads');
SELECT revision FROM migrate_version;
SELECT revision FROM migrate_downgrade('e5');
DELETE FROM migrate_revision WHERE revision IN ('e6', 'e7');

-- a non-transactional revision is refused before anything runs
SELECT migrate_register('e6', '{e5}', 'CREATE INDEX CONCURRENTLY ex_one_c ON ex_one (id);',
                        'DROP INDEX ex_one_c;', 'Concurrent index.', '{}', '{}', false);
SELECT revision FROM migrate_upgrade('heads');
SELECT revision FROM migrate_version;
