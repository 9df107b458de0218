--
-- Listings: heads, current, history (with ranges), branches, show, status.
-- Same history as upgrade.sql, loaded again; orders compared with Alembic
-- 1.8 (test/alembic/fixtures/three_branches.hist).
--
SELECT reset_migrations();
\set VERBOSITY default
SELECT migrate_register('root', '{}', 'SELECT 1;', 'SELECT 1;', 'Root.');
SELECT migrate_register('a1', '{root}', 'SELECT 1;', 'SELECT 1;', 'Alpha 1.', '{alpha}');
SELECT migrate_register('a2', '{a1}', 'SELECT 1;', 'SELECT 1;', 'Alpha 2.');
SELECT migrate_register('a3', '{a2}', 'SELECT 1;', 'SELECT 1;', 'Alpha 3.');
SELECT migrate_register('b1', '{root}', 'SELECT 1;', 'SELECT 1;', 'Beta 1.', '{beta}');
SELECT migrate_register('b2', '{b1}', 'SELECT 1;', 'SELECT 1;', 'Beta 2.');
SELECT migrate_register('g1', '{root}', 'SELECT 1;', 'SELECT 1;', 'Gamma 1.', '{gamma}');
SELECT migrate_register('g2', '{g1}', 'SELECT 1;', 'SELECT 1;', 'Gamma 2.', '{}', '{alpha}');
SELECT migrate_register('m', '{g2,b2}', 'SELECT 1;', 'SELECT 1;', 'Merge gamma and beta.');

SELECT * FROM migrate_heads();
SELECT * FROM migrate_branches();
SELECT line FROM migrate_history();
SELECT revision FROM migrate_history('b1:');
SELECT revision FROM migrate_history(':g2');
SELECT revision FROM migrate_history('a1:a3');
SELECT revision FROM migrate_history('alpha@base:');
SELECT revision FROM migrate_history('a3:m');
SELECT revision FROM migrate_history('a3');
SELECT revision FROM migrate_history('-1:');

SET client_min_messages = warning;
SELECT revision FROM migrate_upgrade('g2');
RESET client_min_messages;
-- g2 depends on a1 (the alpha label): the stored row g2 implies a1
SELECT * FROM migrate_version;
SELECT * FROM migrate_current();
SELECT revision, is_applied FROM migrate_history() ORDER BY revision;
SELECT revision FROM migrate_history('current:');
SELECT revision FROM migrate_history(':current');
SELECT revision, message FROM migrate_show('alpha');
SELECT revision, message FROM migrate_show('heads');
SELECT revision, message FROM migrate_show('base');
SELECT revision, is_applied, is_head, in_version_table,
       applied_at IS NOT NULL AS has_applied_at
  FROM migrate_status;
