--
-- Invalid graphs: migrate_check() and every command refuse them, naming the
-- revisions involved, and nothing changes.  Since 0.4 no invalid graph is
-- committed (the check at commit), so each case builds one inside a
-- transaction, shows what refuses it, and rolls back; ON_ERROR_ROLLBACK
-- lets the transaction go on after each refusal.
--
SELECT reset_migrations();
\set VERBOSITY default
\set ON_ERROR_ROLLBACK on
SET client_min_messages = warning;

SELECT migrate_register('a', '{}', 'SELECT 1;');
SELECT migrate_register('b', '{a}', 'SELECT 1;');

-- dangling down_revision
BEGIN;
SELECT migrate_register('c', '{x}', 'SELECT 1;');
SELECT migrate_check();
SELECT * FROM migrate_upgrade();
SELECT * FROM migrate_heads();
SELECT count(*) AS version_rows FROM migrate_version;
ROLLBACK;

-- dangling dependency (neither a revision nor a branch label)
BEGIN;
SELECT migrate_register('c', '{b}', 'SELECT 1;', NULL, NULL, '{}', '{nolabel}');
SELECT migrate_check();
ROLLBACK;

-- a revision that is its own parent, or depends on itself: refused when
-- registered, and found by the graph check when written into the table
BEGIN;
SELECT migrate_register('c', '{c}', 'SELECT 1;');
SELECT migrate_register('c', '{b}', 'SELECT 1;', NULL, NULL, '{}', '{c}');
INSERT INTO migrate_revision (revision, down_revisions, upgrade, seq) VALUES ('c', '{c}', 'SELECT 1;', 1000);
SELECT migrate_check();
ROLLBACK;
BEGIN;
INSERT INTO migrate_revision (revision, down_revisions, depends_on, upgrade, seq) VALUES ('c', '{b}', '{c}', 'SELECT 1;', 1000);
SELECT migrate_check();
ROLLBACK;

-- a cycle through down_revisions: the message names the revisions on it
BEGIN;
SELECT migrate_register('c', '{b,e}', 'SELECT 1;');
SELECT migrate_register('d', '{c}', 'SELECT 1;');
SELECT migrate_register('e', '{d}', 'SELECT 1;');
SELECT migrate_check();
SELECT * FROM migrate_upgrade('heads');
ROLLBACK;

-- a cycle that needs depends_on edges
BEGIN;
SELECT migrate_register('c', '{b}', 'SELECT 1;', NULL, NULL, '{}', '{d}');
SELECT migrate_register('d', '{b}', 'SELECT 1;', NULL, NULL, '{}', '{c}');
SELECT migrate_check();
ROLLBACK;

-- a branch label declared twice, and a label equal to a revision id
BEGIN;
SELECT migrate_register('c', '{b}', 'SELECT 1;', NULL, NULL, '{feature}');
SELECT migrate_register('d', '{b}', 'SELECT 1;', NULL, NULL, '{feature}');
SELECT migrate_check();
ROLLBACK;
BEGIN;
SELECT migrate_register('d', '{b}', 'SELECT 1;', NULL, NULL, '{a}');
SELECT migrate_check();
ROLLBACK;

-- several problems: the first is the message, all are in DETAIL
BEGIN;
SELECT migrate_register('c', '{x}', 'SELECT 1;');
SELECT migrate_register('d', '{y}', 'SELECT 1;', NULL, NULL, '{}', '{z}');
SELECT migrate_check();
ROLLBACK;

-- an invalid graph is refused at commit: the COMMIT fails with the usual
-- error and nothing stays
BEGIN;
SELECT migrate_register('c', '{x}', 'SELECT 1;');
COMMIT;
SELECT migrate_register('c', '{x}', 'SELECT 1;');
SELECT count(*) AS revisions FROM migrate_revision;

-- a version table naming a revision that is not registered
SELECT migrate_check();
INSERT INTO migrate_version VALUES ('fe11ed000000');
SELECT migrate_check();
SELECT * FROM migrate_upgrade();
SELECT * FROM migrate_current();
DELETE FROM migrate_version;

-- the SQLSTATE of each kind of problem
CREATE TEMP TABLE cases (name text, setup text);
INSERT INTO cases VALUES
    ('dangling down_revision', $$SELECT migrate_register('c', '{x}', 'SELECT 1;')$$),
    ('dangling dependency', $$SELECT migrate_register('c', '{b}', 'SELECT 1;', NULL, NULL, '{}', '{nolabel}')$$),
    ('self loop', $$INSERT INTO migrate_revision (revision, down_revisions, upgrade, seq) VALUES ('c', '{c}', 'SELECT 1;', 1000)$$),
    ('cycle', $$SELECT migrate_register('c', '{b,d}', 'SELECT 1;'), migrate_register('d', '{c}', 'SELECT 1;')$$),
    ('duplicate label', $$SELECT migrate_register('c', '{b}', 'SELECT 1;', NULL, NULL, '{l}'), migrate_register('d', '{b}', 'SELECT 1;', NULL, NULL, '{l}')$$),
    ('unknown version row', $$INSERT INTO migrate_version VALUES ('zz')$$);
CREATE TEMP TABLE states (name text, sqlstate text);
DO $$
DECLARE
    c record;
    st text;
BEGIN
    FOR c IN SELECT * FROM cases LOOP
        BEGIN
            EXECUTE c.setup;
            st := sqlstate_of('SELECT migrate_check()');
            RAISE EXCEPTION 'undo';
        EXCEPTION WHEN raise_exception THEN
            INSERT INTO states VALUES (c.name, st);
        END;
    END LOOP;
END
$$;
SELECT * FROM states;
SELECT count(*) AS revisions FROM migrate_revision;

-- a redundant version table (a row and its ancestor)
INSERT INTO migrate_version VALUES ('a'), ('b');
SELECT * FROM migrate_upgrade();
DELETE FROM migrate_version;
SELECT count(*) AS log_rows FROM migrate_log;
