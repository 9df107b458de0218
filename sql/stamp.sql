--
-- migrate_stamp: set the version table without running bodies.  Compared
-- with Alembic 1.8 on the same history (test/alembic/fixtures/stamp_sql.hist).
--
--   s_a <- s_b <- s_c1 (s1) <- s_d1
--              <- s_c2 (s2) <- s_d2
--
SELECT reset_migrations();
\set VERBOSITY default
CREATE TABLE stamp_runs (revision text);

SELECT migrate_register('s_a', '{}', 'INSERT INTO stamp_runs VALUES (''s_a'');', 'SELECT 1;');
SELECT migrate_register('s_b', '{s_a}', 'INSERT INTO stamp_runs VALUES (''s_b'');', 'SELECT 1;');
SELECT migrate_register('s_c1', '{s_b}', 'INSERT INTO stamp_runs VALUES (''s_c1'');', 'SELECT 1;', NULL, '{s1}');
SELECT migrate_register('s_d1', '{s_c1}', 'INSERT INTO stamp_runs VALUES (''s_d1'');', 'SELECT 1;');
SELECT migrate_register('s_c2', '{s_b}', 'INSERT INTO stamp_runs VALUES (''s_c2'');', 'SELECT 1;', NULL, '{s2}');
SELECT migrate_register('s_d2', '{s_c2}', 'INSERT INTO stamp_runs VALUES (''s_d2'');', 'SELECT 1;');

SELECT * FROM migrate_stamp('heads');
SELECT * FROM migrate_stamp('heads');
SELECT * FROM migrate_stamp('s_b');
SELECT * FROM migrate_stamp('s1@head');
SELECT * FROM migrate_stamp('s_c2');
SELECT * FROM migrate_stamp('s2@base');
SELECT * FROM migrate_stamp('base');
SELECT * FROM migrate_stamp('s_d1 s_c2');
-- nothing ran
SELECT count(*) AS runs FROM stamp_runs;
SELECT direction, revision, from_revisions, to_revisions, duration
  FROM migrate_log ORDER BY id;

-- errors change nothing
SELECT * FROM migrate_stamp('head');
SELECT * FROM migrate_stamp('s_x');
SELECT * FROM migrate_stamp('+1');
SELECT * FROM migrate_stamp('s_a:s_b');
SELECT * FROM migrate_stamp('');
SELECT * FROM migrate_stamp('heads', NULL);

-- a version table holding garbage: only purge gets out of it
INSERT INTO migrate_version VALUES ('deadbeef0000');
SELECT * FROM migrate_stamp('s_b');
SELECT * FROM migrate_stamp('s_b', purge => true);
SELECT direction, revision, from_revisions, to_revisions
  FROM migrate_log ORDER BY id DESC LIMIT 2;
SELECT * FROM migrate_stamp('base', true);
