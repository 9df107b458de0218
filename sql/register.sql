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

-- parents may be registered after their children; migrate_check() tells
-- whether the set is complete
SELECT migrate_register('c0ffee000001', '{c0ffee000000}', 'SELECT 1;');
SELECT migrate_check();
SELECT migrate_register('c0ffee000000', '{1975ea83b712}', 'SELECT 1;');
SELECT migrate_check();

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
