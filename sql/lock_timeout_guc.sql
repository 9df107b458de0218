--
-- Issue 10, item 12: migrations.lock_timeout.  This file's first statement
-- sets the parameter before the library is loaded (a placeholder).
--
SET migrations.lock_timeout = '2sec';
\set VERBOSITY default
SELECT reset_migrations();
SELECT migrate_register('lt1', '{}', 'SET lock_timeout = ''7s''; CREATE TABLE lt_one (a int);', NULL, 'sets lock_timeout');
-- the library loaded above (reset_migrations drops and creates the extension, which fires its event trigger): the bad value still fails the call, nothing runs
SELECT revision FROM migrate_upgrade('heads');
SELECT to_regclass('lt_one') AS one, count(*) AS version_rows FROM migrate_version;
-- once loaded, a bad value is refused by SET itself
SET migrations.lock_timeout = '2sec';
SET migrations.lock_timeout = '-5';
-- a valid value clears the complaint
SET migrations.lock_timeout = '1s';
SET lock_timeout = '3s';
-- the body's own SET lock_timeout does not outlive the body
SELECT revision FROM migrate_upgrade('heads');
SHOW lock_timeout;
SELECT to_regclass('lt_one') AS one;
-- the body ran with the step's lock_timeout, not the session's
SELECT migrate_register('lt2', '{lt1}', 'DO $$ BEGIN RAISE NOTICE ''in body: %'', current_setting(''lock_timeout''); END $$;', NULL, 'shows lock_timeout');
SELECT revision FROM migrate_upgrade('heads');
SHOW lock_timeout;
-- with migrations.lock_timeout = 0, a body's SET lasts like any other SET
SET migrations.lock_timeout = 0;
SELECT migrate_register('lt3', '{lt2}', 'SET lock_timeout = ''9s'';', NULL, 'sets lock_timeout again');
SELECT revision FROM migrate_upgrade('heads');
SHOW lock_timeout;
RESET lock_timeout;
RESET migrations.lock_timeout;
DROP TABLE lt_one;
SELECT reset_migrations();
