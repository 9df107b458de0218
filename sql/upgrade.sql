--
-- Upgrade on a three-branch history with a merge and a cross-branch
-- dependency.  The steps, their order and the version rows after each
-- command are those Alembic 1.8 produces for the same history
-- (test/alembic/fixtures/three_branches.hist and its recorded reference).
--
--   root <- a1 (alpha) <- a2 <- a3
--        <- b1 (beta)  <- b2 ----------+
--        <- g1 (gamma) <- g2 (+a2) <- m (g2, b2) <- after_m
--
SELECT reset_migrations();
\set VERBOSITY default

CREATE TABLE up_runs (n serial, revision text);
CREATE FUNCTION up_body(rev text) RETURNS text LANGUAGE sql
    AS $$ SELECT format('INSERT INTO up_runs (revision) VALUES (%L); CREATE TABLE up_%s (id int);', rev, rev) $$;
CREATE FUNCTION down_body(rev text) RETURNS text LANGUAGE sql
    AS $$ SELECT format('DROP TABLE up_%s;', rev) $$;

SELECT migrate_register('root', '{}', up_body('root'), down_body('root'), 'Root.');
SELECT migrate_register('a1', '{root}', up_body('a1'), down_body('a1'), 'Alpha 1.', '{alpha}');
SELECT migrate_register('a2', '{a1}', up_body('a2'), down_body('a2'), 'Alpha 2.');
SELECT migrate_register('a3', '{a2}', up_body('a3'), down_body('a3'), 'Alpha 3.');
SELECT migrate_register('b1', '{root}', up_body('b1'), down_body('b1'), 'Beta 1.', '{beta}');
SELECT migrate_register('b2', '{b1}', up_body('b2'), down_body('b2'), 'Beta 2.');
SELECT migrate_register('g1', '{root}', up_body('g1'), down_body('g1'), 'Gamma 1.', '{gamma}');
SELECT migrate_register('g2', '{g1}', up_body('g2'), down_body('g2'), 'Gamma 2.', '{}', '{a2}');
SELECT migrate_register('m', '{g2,b2}', up_body('m'), down_body('m'), 'Merge gamma and beta.');
SELECT migrate_register('after_m', '{m}', up_body('after_m'), down_body('after_m'), 'After the merge.');
SELECT migrate_check();

SELECT revision, is_effective_head FROM migrate_heads();

-- from an empty database: alembic upgrade heads runs these steps, in this
-- order, and leaves these rows
SELECT revision, direction, message FROM migrate_upgrade('heads');
SELECT revision FROM migrate_version ORDER BY 1;
-- back to base, then again one branch at a time
SET client_min_messages = warning;
SELECT revision FROM migrate_downgrade('base');
RESET client_min_messages;
SELECT count(*) AS version_rows FROM migrate_version;
TRUNCATE up_runs;
DELETE FROM migrate_log;

-- the head of gamma's lineage is after_m, past the merge: its ancestors
-- come along, the dependency a2 (and a1 below it) and the beta branch
SELECT revision, direction, message FROM migrate_upgrade('gamma@head');
SELECT revision FROM migrate_version ORDER BY 1;

-- then everything
SELECT revision, direction, message FROM migrate_upgrade('heads');
SELECT revision FROM migrate_version ORDER BY 1;
SELECT revision, count(*) AS runs FROM up_runs GROUP BY revision ORDER BY min(n);

-- nothing left to do
SELECT revision FROM migrate_upgrade('heads');
SELECT revision FROM migrate_upgrade('after_m');

-- the log: one row per step, with the version rows it replaced
SELECT direction, revision, from_revisions, to_revisions
  FROM migrate_log ORDER BY id;
SELECT count(*) = count(duration) AS all_timed FROM migrate_log;
