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

-- EXECUTE alone is not enough: the tables need privileges too, and the
-- failed step leaves nothing behind
GRANT EXECUTE ON FUNCTION migrate_upgrade(text) TO mig_reader;
SET ROLE mig_reader;
SELECT * FROM migrate_upgrade('heads');
RESET ROLE;
SELECT count(*) AS version_rows FROM migrate_version;
REVOKE EXECUTE ON FUNCTION migrate_upgrade(text) FROM mig_reader;
DROP ROLE mig_reader;
