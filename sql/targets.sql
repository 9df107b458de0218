--
-- The target grammar, resolved by migrate_resolve() (what migrate_show()
-- lists) and used by upgrade and downgrade.  The history is Alembic's BR
-- fixture with 12-hex ids; each result was compared with Alembic 1.8 on the
-- same history (test/alembic/fixtures/br.hist and prefixes.hist hold the
-- recorded comparisons).
--
--   a1b2c3d4e5f6 <- 5f1a2b3c4d5e <- c1c1c1c1c1c1 (c1branch) <- d1d1d1d1d1d1
--                                 <- c2c2c2c2c2c2 (c2branch) <- d2d2d2d2d2d2
--
SELECT reset_migrations();
\set VERBOSITY default
SET client_min_messages = warning;

SELECT migrate_register('a1b2c3d4e5f6', '{}', 'SELECT 1;', 'SELECT 1;', 'a');
SELECT migrate_register('5f1a2b3c4d5e', '{a1b2c3d4e5f6}', 'SELECT 1;', 'SELECT 1;', 'b');
SELECT migrate_register('c1c1c1c1c1c1', '{5f1a2b3c4d5e}', 'SELECT 1;', 'SELECT 1;', 'c1', '{c1branch}');
SELECT migrate_register('d1d1d1d1d1d1', '{c1c1c1c1c1c1}', 'SELECT 1;', 'SELECT 1;', 'd1');
SELECT migrate_register('c2c2c2c2c2c2', '{5f1a2b3c4d5e}', 'SELECT 1;', 'SELECT 1;', 'c2', '{c2branch}');
SELECT migrate_register('d2d2d2d2d2d2', '{c2c2c2c2c2c2}', 'SELECT 1;', 'SELECT 1;', 'd2');

-- symbols
SELECT * FROM migrate_resolve('heads');
SELECT * FROM migrate_resolve('head');
SELECT * FROM migrate_resolve('base');
SELECT * FROM migrate_resolve('a1b2c3d4e5f6');
SELECT * FROM migrate_resolve('a1b2');
SELECT * FROM migrate_resolve('5');
SELECT * FROM migrate_resolve('c');
SELECT * FROM migrate_resolve('c1branch');
SELECT * FROM migrate_resolve('c1bra');
SELECT * FROM migrate_resolve('c1branch@head');
SELECT * FROM migrate_resolve('c2branch@heads');
SELECT * FROM migrate_resolve('c2branch@base');
SELECT * FROM migrate_resolve('c1branch@c');
SELECT * FROM migrate_resolve('c1branch@d2d2');
SELECT * FROM migrate_resolve('5f1a2b3c4d5e@head');
SELECT * FROM migrate_resolve('-1');
SELECT * FROM migrate_resolve('c1branch@-1');
SELECT * FROM migrate_resolve('nosuch');
SELECT * FROM migrate_resolve('nosuch@head');
SELECT * FROM migrate_resolve('');
SELECT * FROM migrate_resolve('c1branch@');
SELECT * FROM migrate_resolve('@head');
SELECT * FROM migrate_resolve(NULL);

-- relative upgrade targets, from an empty version table
SELECT revision FROM migrate_upgrade('+2');
SELECT revision FROM migrate_upgrade('+1');
SELECT revision FROM migrate_upgrade('c1branch@+1');
SELECT revision FROM migrate_upgrade('c2branch@+2');
SELECT revision FROM migrate_version ORDER BY 1;
-- several current heads: +N is refused rather than guessed
SELECT revision FROM migrate_upgrade('+1');
SELECT revision FROM migrate_upgrade('c1branch@+1');
SELECT revision FROM migrate_upgrade('c1branch@+1');
SELECT revision FROM migrate_version ORDER BY 1;
-- and so is -N
SELECT revision FROM migrate_downgrade('-1');
SELECT revision FROM migrate_downgrade('c1branch@-1');
SELECT revision FROM migrate_downgrade('d2d2@-2');
SELECT revision FROM migrate_version ORDER BY 1;
-- rev+N, rev-N, head-N
SELECT revision FROM migrate_upgrade('c2c2c2c2c2c2+1');
SELECT revision FROM migrate_downgrade('d2d2d2d2d2d2-1');
SELECT revision FROM migrate_downgrade('c1branch@head-2');
SELECT revision FROM migrate_version ORDER BY 1;
SELECT revision FROM migrate_upgrade('5f1a2b3c4d5e+1');
-- walking off the graph
SELECT revision FROM migrate_upgrade('d1d1d1d1d1d1+1');
SELECT revision FROM migrate_upgrade('a1b2c3d4e5f6-2');
SELECT revision FROM migrate_upgrade('c1branch@+5');
SELECT revision FROM migrate_downgrade('-9');
SELECT revision FROM migrate_upgrade('-1');
SELECT revision FROM migrate_downgrade('+1');
SELECT revision FROM migrate_upgrade('+99999999999');
-- ranges are for migrate_history() only
SELECT revision FROM migrate_upgrade('a1b2:heads');
SELECT revision FROM migrate_downgrade('base:a1b2');
-- upgrade to an ancestor, or to base, is a no-op
SELECT revision FROM migrate_upgrade('a1b2');
SELECT revision FROM migrate_upgrade('base');
-- a typo must not mean "base"
SELECT revision FROM migrate_downgrade('c1branch@');
-- head with several heads
SELECT revision FROM migrate_upgrade('head');
SELECT revision FROM migrate_downgrade('head');
SELECT revision FROM migrate_version ORDER BY 1;
-- SQLSTATEs
SELECT t, sqlstate_of(format('SELECT * FROM migrate_upgrade(%L)', t)) AS upgrade,
       sqlstate_of(format('SELECT * FROM migrate_downgrade(%L)', t)) AS downgrade
  FROM unnest(ARRAY['nosuch', 'c', 'head', 'nosuch@head', 'c1branch@d2d2', '+9', '-9',
                    '5f1a2b3c4d5e+1', 'a:b', '']) AS t;
SELECT sqlstate_of('SELECT * FROM migrate_upgrade(NULL)') AS null_target;

-- injection attempts are just unknown targets
SELECT revision FROM migrate_upgrade('x''); DROP TABLE migrate_version; --');
SELECT revision FROM migrate_upgrade('heads; DELETE FROM migrate_log');
SELECT count(*) AS version_rows FROM migrate_version;
