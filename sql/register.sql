--
-- migrate_register: added, updated, unchanged, and bad input
--
SELECT reset_migrations();

SELECT migrate_register('ae1027a6acf2', '{}', 'CREATE TABLE reg_a (id int);',
                        'DROP TABLE reg_a;', 'Create a.');
SELECT migrate_register('1975ea83b712', '{ae1027a6acf2}', 'CREATE TABLE reg_b (id int);',
                        'DROP TABLE reg_b;', 'Create b.', '{reg_branch}', '{}',
                        true, 'versions/1975ea83b712_create_b.sql');
-- the same again changes nothing
SELECT migrate_register('ae1027a6acf2', '{}', 'CREATE TABLE reg_a (id int);',
                        'DROP TABLE reg_a;', 'Create a.');
-- a changed body of a revision that is not applied is updated
SELECT migrate_register('1975ea83b712', '{ae1027a6acf2}', 'CREATE TABLE reg_b (id bigint);',
                        'DROP TABLE reg_b;', 'Create b.', '{reg_branch}', '{}',
                        true, 'versions/1975ea83b712_create_b.sql');
SELECT revision, down_revisions, branch_labels, message, upgrade, seq, source
  FROM migrate_revision ORDER BY seq;

-- parents may be registered after their children in one transaction;
-- migrate_check() tells whether the set is complete, and the commit checks
-- it too (alone, the child would not commit)
BEGIN;
SAVEPOINT s;
SELECT migrate_register('c0ffee000001', '{c0ffee000000}', 'SELECT 1;');
SELECT migrate_check();
ROLLBACK TO SAVEPOINT s;
SELECT migrate_register('c0ffee000001', '{c0ffee000000}', 'SELECT 1;');
SELECT migrate_register('c0ffee000000', '{1975ea83b712}', 'SELECT 1;');
SELECT migrate_check();
COMMIT;

SET client_min_messages = warning;
SELECT revision, direction FROM migrate_upgrade('heads');
RESET client_min_messages;

-- an applied revision keeps its bodies and its place in the graph
\set VERBOSITY default
SELECT migrate_register('ae1027a6acf2', '{}', 'CREATE TABLE reg_a (id bigint);',
                        'DROP TABLE reg_a;', 'Create a.');
SELECT migrate_register('ae1027a6acf2', '{}', 'CREATE TABLE reg_a (id int);',
                        'DROP TABLE reg_a CASCADE;', 'Create a.');
SELECT migrate_register('1975ea83b712', '{}', 'CREATE TABLE reg_b (id bigint);',
                        'DROP TABLE reg_b;', 'Create b.', '{reg_branch}', '{}',
                        true, 'versions/1975ea83b712_create_b.sql');
SELECT migrate_register('ae1027a6acf2', '{}', 'CREATE TABLE reg_a (id int);',
                        'DROP TABLE reg_a;', 'Create a.', '{}', '{}', false);
-- an error about a revision registered from a file names the file
SELECT migrate_register('ae1027a6acf2', '{}', 'CREATE TABLE reg_a (id int8);',
                        'DROP TABLE reg_a;', 'Create a.', '{}', '{}', true,
                        'versions/ae1027a6acf2_create_a.sql');
SELECT migrate_register('a.b', '{}', '', NULL, NULL, '{}', '{}', true, 'versions/a.b.sql');
-- but its message and source may change
SELECT migrate_register('ae1027a6acf2', '{}', 'CREATE TABLE reg_a (id int);',
                        'DROP TABLE reg_a;', 'Create table a.', '{}', '{}', true, 'a.sql');
SELECT revision, message, source FROM migrate_revision WHERE revision = 'ae1027a6acf2';

-- bad input: each is an error and changes nothing
CREATE TEMP TABLE before AS SELECT * FROM migrate_revision;
SELECT migrate_register('a-1', '{}', 'SELECT 1;');
SELECT migrate_register('', '{}', 'SELECT 1;');
SELECT migrate_register(repeat('x', 33), '{}', 'SELECT 1;');
SELECT migrate_register(repeat('x', 100000), '{}', 'SELECT 1;');
SELECT migrate_register('x''; DROP TABLE migrate_version; --', '{}', 'SELECT 1;');
SELECT migrate_register(NULL, '{}', 'SELECT 1;');
SELECT migrate_register('newrev', NULL, 'SELECT 1;');
SELECT migrate_register('newrev', '{}', NULL);
SELECT migrate_register('newrev', '{a b}', 'SELECT 1;');
SELECT migrate_register('newrev', '{ae1027a6acf2,ae1027a6acf2}', 'SELECT 1;');
SELECT migrate_register('newrev', ARRAY['ae1027a6acf2', NULL], 'SELECT 1;');
SELECT migrate_register('newrev', '{}', 'SELECT 1;', NULL, NULL, '{bad@label}');
SELECT migrate_register('newrev', '{}', 'SELECT 1;', NULL, NULL, '{}', '{x+1}');
SELECT migrate_register('newrev', '{}', 'SELECT 1;', NULL, NULL, '{}', '{}', NULL);
SELECT count(*) AS changed_rows
  FROM (SELECT * FROM migrate_revision EXCEPT SELECT * FROM before) AS d;
SELECT count(*) = (SELECT count(*) FROM before) AS same_count FROM migrate_revision;
-- NULL branch_labels and depends_on mean none
SELECT migrate_register('newrev', '{}', 'SELECT 1;', NULL, NULL, NULL, NULL);
SELECT branch_labels, depends_on FROM migrate_revision WHERE revision = 'newrev';

--
-- A registration never changes which revisions are applied (issue 10,
-- item 5).  a1 is applied and depends on the label lib of r1, so r1 is
-- applied too.  Giving the unapplied u1 (registered before r1) the label
-- lib used to make the applied check resolve lib to u1: r1 then looked
-- unapplied and could be changed, and the applied set flipped.
--
SELECT reset_migrations();
SELECT migrate_register('u1', '{}', 'SELECT 1;', 'SELECT 1;', 'Unapplied.');
SELECT migrate_register('r0', '{}', 'SELECT 1;', 'SELECT 1;', 'Root.');
SELECT migrate_register('r1', '{}', 'SELECT 1;', 'SELECT 1;', 'Library.', '{lib}');
SELECT migrate_register('a1', '{r0}', 'SELECT 1;', 'SELECT 1;', 'Uses lib.', '{}', '{lib}');
SET client_min_messages = warning;
SELECT revision FROM migrate_upgrade('a1');
RESET client_min_messages;
SELECT revision, is_applied FROM migrate_state();
-- the issue's sequence, in one transaction: the first step is refused
BEGIN;
SELECT migrate_register('u1', '{}', 'SELECT 1;', 'SELECT 1;', 'Unapplied.', '{lib}');
SELECT migrate_register('r1', '{}', 'SELECT 666;', 'SELECT 666;', 'Library.', '{}');
COMMIT;
SELECT revision, is_applied FROM migrate_state();
-- and r1 stays applied: it keeps its bodies and labels
SELECT migrate_register('r1', '{}', 'SELECT 666;', 'SELECT 666;', 'Library.', '{}');
-- the name lib taken by a new revision, as an id or as a label
SELECT migrate_register('lib', '{}', 'SELECT 1;');
SELECT migrate_register('n1', '{}', 'SELECT 1;', NULL, NULL, '{lib}');
-- labels no applied revision depends on are free
SELECT migrate_register('u1', '{}', 'SELECT 1;', 'SELECT 1;', 'Unapplied.', '{other}');
SELECT revision, is_applied FROM migrate_state();
-- what a call changes in the same transaction counts: an upgrade...
BEGIN;
SELECT migrate_register('u1', '{}', 'SELECT 2;', 'SELECT 1;', 'Unapplied.', '{other}');
SELECT revision FROM migrate_upgrade('u1');
SELECT migrate_register('u1', '{}', 'SELECT 3;', 'SELECT 1;', 'Unapplied.', '{other}');
ROLLBACK;
-- ...a superuser's direct write, a version row registered afterwards...
BEGIN;
INSERT INTO migrate_version VALUES ('p9');
SELECT migrate_register('p9', '{a1}', 'SELECT 1;');
SELECT migrate_register('p9', '{a1}', 'SELECT 2;');
ROLLBACK;
-- ...and a rolled-back savepoint
BEGIN;
SAVEPOINT s;
DELETE FROM migrate_version;
SELECT migrate_register('u1', '{}', 'SELECT 1;', 'SELECT 1;', 'Unapplied.', '{other}');
ROLLBACK TO SAVEPOINT s;
SELECT migrate_register('r1', '{}', 'SELECT 666;', 'SELECT 666;', 'Library.', '{}');
ROLLBACK;
SELECT revision, is_applied, upgrade FROM migrate_state() JOIN migrate_revision USING (revision)
 ORDER BY seq;

--
-- Registration order follows the calls (issue 10, item 7).  The same three
-- revisions (a base and two children), registered in the order of their
-- files (aaa1, base0, bbb1), give the same order, and so the same steps,
-- whether they are registered at once or after two of them were.
--
SELECT reset_migrations();
BEGIN;
SELECT migrate_register('aaa1', '{base0}', 'SELECT 1;');
SELECT migrate_register('base0', '{}', 'SELECT 1;');
SELECT migrate_register('bbb1', '{base0}', 'SELECT 1;');
COMMIT;
SELECT string_agg(revision, ' ' ORDER BY seq) AS registration_order FROM migrate_revision;
SET client_min_messages = warning;
SELECT string_agg(revision, ' ') AS steps_at_once FROM migrate_upgrade('heads');
RESET client_min_messages;
SELECT reset_migrations();
SELECT migrate_register('base0', '{}', 'SELECT 1;');
SELECT migrate_register('bbb1', '{base0}', 'SELECT 1;');
BEGIN;
SELECT migrate_register('aaa1', '{base0}', 'SELECT 1;');
SELECT migrate_register('base0', '{}', 'SELECT 1;');
SELECT migrate_register('bbb1', '{base0}', 'SELECT 1;');
COMMIT;
SELECT string_agg(revision, ' ' ORDER BY seq) AS registration_order FROM migrate_revision;
SET client_min_messages = warning;
SELECT string_agg(revision, ' ') AS steps_loaded_later FROM migrate_upgrade('heads');
RESET client_min_messages;
-- applied revisions keep their place; unapplied ones follow them in call order
SELECT reset_migrations();
SELECT migrate_register('base0', '{}', 'SELECT 1;');
SELECT migrate_register('bbb1', '{base0}', 'SELECT 1;');
SET client_min_messages = warning;
SELECT revision FROM migrate_upgrade('base0');
RESET client_min_messages;
BEGIN;
SELECT migrate_register('aaa1', '{base0}', 'SELECT 1;');
SELECT migrate_register('base0', '{}', 'SELECT 1;');
SELECT migrate_register('bbb1', '{base0}', 'SELECT 1;');
COMMIT;
SELECT string_agg(revision, ' ' ORDER BY seq) AS registration_order FROM migrate_revision;
SET client_min_messages = warning;
SELECT string_agg(revision, ' ') AS steps FROM migrate_upgrade('heads');
RESET client_min_messages;
-- registering again in the same order moves nothing
SELECT string_agg(revision || ':' || seq, ' ' ORDER BY seq) AS before FROM migrate_revision;
BEGIN;
SELECT migrate_register('aaa1', '{base0}', 'SELECT 1;');
SELECT migrate_register('base0', '{}', 'SELECT 1;');
SELECT migrate_register('bbb1', '{base0}', 'SELECT 1;');
COMMIT;
SELECT string_agg(revision || ':' || seq, ' ' ORDER BY seq) AS after FROM migrate_revision;

-- A name too long to show whole is cut on a character boundary: 79 a's
-- and a two-byte 'é' are 81 bytes, and the message shows the 79 a's and
-- "...", not a lone first byte of the 'é' (convert_to checks that the
-- message is valid UTF-8, octet_length that nothing more is shown)
DO $$
DECLARE
    msg text;
    code text;
BEGIN
    PERFORM migrate_register(repeat('a', 79) || 'é', '{}', 'SELECT 1');
    RAISE EXCEPTION 'migrate_register accepted the name';
EXCEPTION WHEN invalid_name THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, code = RETURNED_SQLSTATE;
    RAISE NOTICE 'code %, valid UTF-8 % bytes, ends with "...": %, shows the a''s only: %',
        code, octet_length(convert_to(msg, 'UTF8')), msg LIKE '%..."',
        msg = 'invalid revision id "' || repeat('a', 79) || '..."';
END
$$;

-- The same bad name gets the same SQLSTATE and message through
-- migrate_register as through migrate_check (the graph builder), for
-- revision ids and branch labels: both use the core's mg_check_name.
-- (The table's own check constraints refuse some of them; those cannot
-- reach migrate_check.)
CREATE FUNCTION error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    msg text;
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
    RETURN SQLSTATE || ': ' || msg;
END
$$;
SELECT reset_migrations();
CREATE TEMP TABLE bad_names (id text, labels text[]);
INSERT INTO bad_names VALUES
    ('head', '{}'), ('current', '{}'), ('a-1', '{}'), ('', '{}'),
    (repeat('x', 33), '{}'), (repeat('a', 79) || 'é', '{}'),
    ('r1', '{heads}'), ('r1', '{bad@label}'), ('r1', ARRAY[repeat('l', 65)]);
CREATE TEMP TABLE name_errors AS
SELECT b.id, b.labels,
       error_of(format('SELECT migrate_register(%L, ''{}'', ''SELECT 1'', branch_labels => %L)',
                       b.id, b.labels)) AS through_register,
       NULL::text AS through_check
  FROM bad_names AS b;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT id, labels FROM name_errors LOOP
        BEGIN
            INSERT INTO migrate_revision (revision, down_revisions, branch_labels, upgrade, seq)
            VALUES (r.id, '{}', r.labels, 'SELECT 1', 1);
            UPDATE name_errors SET through_check = error_of('SELECT migrate_check()')
             WHERE id = r.id AND labels = r.labels;
            DELETE FROM migrate_revision;
        EXCEPTION WHEN check_violation THEN
            UPDATE name_errors SET through_check = 'refused by the table'
             WHERE id = r.id AND labels = r.labels;
        END;
    END LOOP;
END
$$;
SELECT left(id, 12) AS id, left(labels::text, 12) AS labels, through_register,
       CASE WHEN through_check = 'refused by the table' THEN through_check
            WHEN through_check = through_register THEN 'same'
            ELSE through_check END AS through_check
  FROM name_errors ORDER BY 1, 2;
DROP TABLE name_errors, bad_names;
DROP FUNCTION error_of(text);
