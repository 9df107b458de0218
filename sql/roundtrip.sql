--
-- migrate_roundtrip (issue 12, item 5): upgrade to a target, downgrade back
-- and compare snapshots, whole and revision by revision (the stairway),
-- always rolled back.  One history, tried with several targets:
--   r1 -> r2        good
--   r3 (r2)         its downgrade leaves table rt_left behind
--   r4 (r3)         its downgrade drops r2's index too
--   r5 (r4)         no downgrade body
--   c1, c2 (base)   a second branch, good; m merges r2 and c2
--   e1 (base)       its downgrade fails
--
-- Start from an empty installation (the drop guard wants allow_drop)
SET client_min_messages = warning;
BEGIN;
SET LOCAL migrations.allow_drop = on;
DROP EXTENSION IF EXISTS migrations;
COMMIT;
CREATE EXTENSION migrations;

SELECT migrate_register('r1', '{}', 'CREATE TABLE rt_a (id int PRIMARY KEY);',
                        'DROP TABLE rt_a;', 'Table a.');
SELECT migrate_register('r2', '{r1}',
    'ALTER TABLE rt_a ADD COLUMN name text; CREATE INDEX rt_a_name_idx ON rt_a (name);',
    'DROP INDEX rt_a_name_idx; ALTER TABLE rt_a DROP COLUMN name;', 'Name.');
SELECT migrate_register('r3', '{r2}',
    'CREATE TABLE rt_left (id int); CREATE VIEW rt_v AS SELECT id FROM rt_a;',
    'DROP VIEW rt_v;', 'Leaves a table behind.');
SELECT migrate_register('r4', '{r3}',
    'CREATE TABLE rt_b (id int, a_id int REFERENCES rt_a);',
    'DROP TABLE rt_b; DROP INDEX rt_a_name_idx;', 'Drops too much.');
SELECT migrate_register('r5', '{r4}', 'CREATE TABLE rt_c (id int);', NULL,
                        'No downgrade.');
SELECT migrate_register('c1', '{}', 'CREATE SEQUENCE rt_seq; CREATE TYPE rt_mood AS ENUM (''up'', ''down'');',
                        'DROP TYPE rt_mood; DROP SEQUENCE rt_seq;', 'Other branch.', '{other}');
SELECT migrate_register('c2', '{c1}', 'CREATE FUNCTION rt_f() RETURNS int LANGUAGE sql AS ''SELECT 1'';',
                        'DROP FUNCTION rt_f();', 'A function.');
SELECT migrate_register('m', '{r2,c2}', 'COMMENT ON TABLE rt_a IS ''merged'';',
                        'COMMENT ON TABLE rt_a IS NULL;', 'Merge.');
SELECT migrate_register('e1', '{}', 'CREATE TABLE rt_e (id int);',
                        'DROP TABLE rt_e; DROP TABLE rt_missing;', 'Failing downgrade.', '{errs}');

-- what must not change: the schema, and the extension's three tables
CREATE FUNCTION rt_state() RETURNS text LANGUAGE sql AS $$
    SELECT md5(migrate_snapshot()::text) || ' v:' ||
           (SELECT count(*) || '/' || coalesce(string_agg(revision, ',' ORDER BY revision), '')
              FROM migrate_version) || ' l:' ||
           (SELECT count(*) || '/' || coalesce(md5(string_agg(l::text, ',' ORDER BY l.id)), '')
              FROM migrate_log AS l) || ' r:' ||
           (SELECT count(*) || '/' || md5(string_agg(r::text, ',' ORDER BY r.seq))
              FROM migrate_revision AS r)
$$;
SELECT rt_state() AS state0 \gset

-- an empty database: a good history round-trips, no rows
SELECT * FROM migrate_roundtrip('r2');
-- the leftover table, in the whole round trip and pinned to r3 by the
-- stairway; its upgrade again then fails
SELECT * FROM migrate_roundtrip('r3');
-- r4's downgrade drops r2's index: the stairway names r4 and the missing
-- index, and r3 is still reported; the whole round trip stops at r2
SELECT * FROM migrate_roundtrip('r4');
-- a revision without a downgrade body
SELECT * FROM migrate_roundtrip('r5');
-- a downgrade that fails is a row, not an aborted call
SELECT * FROM migrate_roundtrip('errs@head');
-- nothing persisted
SELECT rt_state() = :'state0' AS unchanged;
SELECT count(*) AS log_rows FROM migrate_log;
SELECT to_regclass('rt_a') IS NULL AS no_rt_a, to_regclass('rt_left') IS NULL AS no_rt_left;

-- a database already at some heads: r2 and c1; the merge round-trips
-- back to exactly those rows
SELECT revision, direction FROM migrate_upgrade('r2');
SELECT revision, direction FROM migrate_upgrade('c1');
SELECT rt_state() AS state1 \gset
SELECT * FROM migrate_roundtrip('m');
SELECT * FROM migrate_roundtrip('r3');
SELECT rt_state() = :'state1' AS unchanged;
SELECT revision FROM migrate_version ORDER BY 1;
SELECT revision, direction FROM migrate_log ORDER BY id;
-- at the target already: nothing to try
SELECT * FROM migrate_roundtrip('r2');

-- errors of the call itself: the target, the privilege, inside a step
SELECT * FROM migrate_roundtrip(NULL);
SELECT * FROM migrate_roundtrip('');
SELECT * FROM migrate_roundtrip('zzzz');
CREATE ROLE regress_rt_plain;
SET ROLE regress_rt_plain;
SELECT * FROM migrate_roundtrip();
RESET ROLE;
DROP ROLE regress_rt_plain;
SELECT migrate_register('s1', '{}', 'SELECT * FROM migrate_roundtrip();', 'SELECT 1;', 'Nested.', '{nest}');
SELECT * FROM migrate_roundtrip('s1');

-- the default target is heads
SELECT count(*) > 0 AS rows FROM migrate_roundtrip();

-- a cancel or a timeout is an error of the call, not a row, and leaves
-- nothing behind
SELECT migrate_register('slow1', '{}', 'CREATE TABLE rt_slow (id int);',
                        'SELECT pg_sleep(5);', 'Slow downgrade.', '{slow}');
SELECT rt_state() AS state2 \gset
SET statement_timeout = '200ms';
SELECT * FROM migrate_roundtrip('slow@head');
RESET statement_timeout;
SELECT rt_state() = :'state2' AS unchanged, to_regclass('rt_slow') IS NULL AS no_rt_slow;

-- Leave an empty installation, as found
SELECT revision, direction FROM migrate_downgrade('base');
DROP FUNCTION rt_state();
BEGIN;
SET LOCAL migrations.allow_drop = on;
DROP EXTENSION migrations;
COMMIT;
CREATE EXTENSION migrations;
RESET client_min_messages;
