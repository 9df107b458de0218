--
-- Downgrade: partial, across a merge (unmerge), dependency rows coming back,
-- and the errors.  Same history as upgrade.sql; orders and rows compared
-- with Alembic 1.8 (test/alembic/fixtures/three_branches.hist).
--
\set VERBOSITY default
SELECT revision FROM migrate_version ORDER BY 1;

-- below the merge: the merge unmerges into its parents
SELECT revision, direction FROM migrate_downgrade('g2');
SELECT revision FROM migrate_version ORDER BY 1;

-- the dependency target a2 goes down with its dependent g2
SELECT revision, direction FROM migrate_downgrade('a1');
SELECT revision FROM migrate_version ORDER BY 1;
SELECT to_regclass('up_a2') IS NULL AS a2_dropped, to_regclass('up_g2') IS NULL AS g2_dropped;

-- one branch down to its branch point (beta@base would take every branch:
-- with a single base, Alembic ignores the label)
SELECT revision, direction FROM migrate_downgrade('beta@root');
SELECT revision FROM migrate_version ORDER BY 1;

-- errors: a target above the current state, an unrelated one, an unknown one
SELECT revision FROM migrate_downgrade('a3');
SELECT revision FROM migrate_downgrade('b2');
SELECT revision FROM migrate_downgrade('zzzz');
SELECT revision FROM migrate_downgrade(NULL);
-- a current revision as target is a no-op
SELECT revision FROM migrate_downgrade('a1');

-- a revision without a downgrade body cannot be undone; nothing runs
SELECT migrate_register('nodown', '{g1}', 'CREATE TABLE up_nodown (id int);', NULL, 'No way back.');
SET client_min_messages = warning;
SELECT revision FROM migrate_upgrade('nodown');
RESET client_min_messages;
SELECT revision FROM migrate_version ORDER BY 1;
SELECT revision FROM migrate_downgrade('base');
SELECT revision FROM migrate_version ORDER BY 1;
DELETE FROM migrate_version WHERE revision = 'nodown';
INSERT INTO migrate_version VALUES ('g1');
DROP TABLE up_nodown;
DELETE FROM migrate_revision WHERE revision = 'nodown';

-- everything
SELECT revision, direction FROM migrate_downgrade('base');
SELECT count(*) AS version_rows FROM migrate_version;
SELECT count(*) AS tables_left FROM pg_class WHERE relname LIKE 'up\_%' AND relkind = 'r' AND relname <> 'up_runs';
