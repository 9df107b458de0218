--
-- Issue 10, items 4, 9, 11: bodies keep the role and read-only state they
-- started with; their result rows are not kept; migrate_status is linear.
--
SELECT reset_migrations();
\set VERBOSITY default
DROP ROLE IF EXISTS hx_migrator;
DROP ROLE IF EXISTS hx_other;
CREATE ROLE hx_migrator;
CREATE ROLE hx_other;
GRANT hx_other TO hx_migrator;
GRANT USAGE, CREATE ON SCHEMA public TO hx_migrator;
GRANT EXECUTE ON FUNCTION migrate_upgrade(text), migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text) TO hx_migrator;
GRANT SELECT, INSERT, UPDATE, DELETE ON migrate_revision, migrate_version, migrate_log TO hx_migrator;
GRANT USAGE ON SEQUENCE migrate_log_id_seq TO hx_migrator;

-- item 4: each role change fails its step, naming the revision
SELECT migrate_register('hx_reset', '{}', 'RESET ROLE;', NULL, 'reset role');
SET ROLE hx_migrator;
SELECT revision FROM migrate_upgrade('hx_reset');
SELECT current_user;
RESET ROLE;
SELECT reset_migrations();

SELECT migrate_register('hx_other', '{}', 'SET ROLE hx_other;', NULL, 'set role other');
SET ROLE hx_migrator;
SELECT revision FROM migrate_upgrade('heads');
SELECT current_user;
RESET ROLE;
SELECT reset_migrations();

SELECT migrate_register('hx_sess', '{}', 'SET SESSION AUTHORIZATION hx_other;', NULL, 'session authorization');
SELECT revision FROM migrate_upgrade('heads');
SELECT current_user, session_user = current_user AS same;
SELECT reset_migrations();

-- the read-only state: SET TRANSACTION READ ONLY and the default
SELECT migrate_register('hx_ro', '{}', 'SET TRANSACTION READ ONLY;', NULL, 'read only');
SELECT revision FROM migrate_upgrade('heads');
SELECT reset_migrations();
SELECT migrate_register('hx_dro', '{}', 'SET default_transaction_read_only = on; SET transaction_read_only = on;', NULL, 'default read only');
SELECT revision FROM migrate_upgrade('heads');
SHOW default_transaction_read_only;
SELECT reset_migrations();

-- a body that changes the role and changes it back is fine; so are temp
-- tables, LISTEN and PREPARE; the log names the role that ran the step
SELECT migrate_register('hx_ok', '{}',
    'SET ROLE hx_other; RESET ROLE; SET ROLE hx_migrator; CREATE TEMP TABLE hx_tmp (a int); LISTEN hx_chan; PREPARE hx_p AS SELECT 1; DEALLOCATE hx_p;',
    NULL, 'comes back');
SET ROLE hx_migrator;
SELECT revision FROM migrate_upgrade('heads');
RESET ROLE;
SELECT revision, logged_by::text FROM migrate_log;
UNLISTEN *;
SELECT reset_migrations();

-- item 9: a body's SELECT over many rows is not kept: the body's next
-- statement finds no large SPI tuple table in the backend
SELECT migrate_register('hx_big', '{}', $b$
    SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g;
    DO $d$
    DECLARE held bigint;
    BEGIN
        SELECT coalesce(sum(total_bytes), 0) INTO held
          FROM pg_backend_memory_contexts WHERE name = 'SPI TupTable';
        IF held > 1000000 THEN
            RAISE EXCEPTION 'result rows kept: % bytes', held;
        END IF;
    END
    $d$;
$b$, NULL, 'big select');
SELECT revision FROM migrate_upgrade('heads');
SELECT reset_migrations();

-- item 11: migrate_status at 3,000 applied revisions stays quick
SELECT count(migrate_register('hs' || i, CASE WHEN i = 1 THEN '{}'::text[] ELSE ARRAY['hs' || (i - 1)] END,
                              'SELECT 1;', NULL, NULL))
  FROM generate_series(1, 3000) i;
SET client_min_messages = warning;
SELECT count(*) FROM migrate_upgrade('heads');
RESET client_min_messages;
SET statement_timeout = '5s';
SELECT count(*), count(applied_at) FROM migrate_status;
RESET statement_timeout;
-- no subquery run per revision (the old view's cost was quadratic)
DO $$
DECLARE p text;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT * FROM migrate_status' INTO p;
    IF p LIKE '%SubPlan%' THEN
        RAISE EXCEPTION 'migrate_status runs a subquery per revision';
    END IF;
END
$$;
SELECT reset_migrations();

DROP OWNED BY hx_migrator;
DROP ROLE hx_migrator;
DROP ROLE hx_other;

-- item 12: an error quotes the failing statement only, cut on a character
-- boundary; a body of 200,000 bytes would otherwise be quoted whole
SELECT reset_migrations();
SELECT migrate_register('hq_long', '{}',
    'CREATE TABLE hq_t (a text); SELECT 1 / 0, ''' || repeat('é', 100000) || '''; SELECT 2;',
    NULL, 'long statement');
DO $$
DECLARE ctx text;
BEGIN
    PERFORM * FROM migrate_upgrade('heads');
EXCEPTION WHEN division_by_zero THEN
    GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT;
    RAISE NOTICE 'context: % bytes, valid: %, quotes CREATE: %, revision named: %',
        octet_length(ctx), ctx IS NOT NULL, ctx LIKE '%CREATE TABLE%',
        ctx LIKE '%upgrade of revision "hq_long"%';
    RAISE NOTICE 'starts: %', left(ctx, 45);
END
$$;
-- a syntax error far into a long body runs nothing and quotes nothing big
SELECT migrate_register('hq_long', '{}',
    'CREATE TABLE hq_t (a text); SELECT ''' || repeat('x', 100000) || ''' FROM FROM;',
    NULL, 'long statement');
DO $$
DECLARE ctx text; q text; m text;
BEGIN
    PERFORM * FROM migrate_upgrade('heads');
EXCEPTION WHEN syntax_error THEN
    GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT, m = MESSAGE_TEXT;
    RAISE NOTICE '%; context: % bytes: %', m, octet_length(ctx), ctx;
END
$$;
SELECT to_regclass('hq_t') AS t;
-- a short syntax error still points into the body
SELECT reset_migrations();
SELECT migrate_register('hq_long', '{}', 'SELECT 1; SELEC 2;', NULL, 'typo');
SELECT revision FROM migrate_upgrade('heads');

-- item 12: a body that drops the extension is named
SELECT reset_migrations();
SELECT migrate_register('hq_drop', '{}', 'DROP EXTENSION migrations CASCADE;', NULL, 'drops it');
SELECT revision FROM migrate_upgrade('heads');
SELECT extname FROM pg_extension WHERE extname = 'migrations';
SELECT reset_migrations();
