--
-- The graph kept between calls of one backend: every change of the
-- revisions a call can see is seen, whoever made it and however.
--
SELECT reset_migrations();
SET client_min_messages = warning;
SELECT migrate_register('c1', '{}', 'SELECT 1;', 'SELECT 1;', 'One.');
SELECT migrate_register('c2', '{c1}', 'SELECT 1;', 'SELECT 1;', 'Two.');
SELECT revision FROM migrate_heads();
-- the same again, from the kept graph
SELECT revision FROM migrate_heads();

-- a change through the function
SELECT migrate_register('c3', '{c2}', 'SELECT 1;', 'SELECT 1;', 'Three.');
SELECT revision, message FROM migrate_heads();

-- a change made directly in the table: an update of the message, then a
-- new branch
UPDATE migrate_revision SET message = 'Three, renamed.' WHERE revision = 'c3';
SELECT revision, message FROM migrate_heads();
INSERT INTO migrate_revision (revision, down_revisions, upgrade, seq)
VALUES ('c4', '{c1}', 'SELECT 1;', 100);
SELECT revision FROM migrate_heads() ORDER BY revision;

-- changes of the caller's own transaction, then rolled back: the graph of
-- before comes back
BEGIN;
DELETE FROM migrate_revision WHERE revision = 'c4';
SELECT revision FROM migrate_heads() ORDER BY revision;
SELECT migrate_register('c5', '{c3}', 'SELECT 1;');
SELECT revision FROM migrate_heads() ORDER BY revision;
ROLLBACK;
SELECT revision FROM migrate_heads() ORDER BY revision;

-- the same with a savepoint
BEGIN;
SELECT revision FROM migrate_heads() ORDER BY revision;
SAVEPOINT s;
SELECT migrate_register('c6', '{c4}', 'SELECT 1;');
SELECT revision FROM migrate_heads() ORDER BY revision;
ROLLBACK TO SAVEPOINT s;
SELECT revision FROM migrate_heads() ORDER BY revision;
COMMIT;

-- registration order (seq) is kept even when the table's physical order
-- differs: heads come in registration order, c3 first, also after its row
-- is rewritten at the end of the table, behind c4's
SELECT revision FROM migrate_heads();
UPDATE migrate_revision SET source = 'moved' WHERE revision = 'c3';
SELECT (SELECT ctid FROM migrate_revision WHERE revision = 'c3') >
       (SELECT ctid FROM migrate_revision WHERE revision = 'c4') AS c3_behind_c4;
SELECT revision FROM migrate_heads();
-- and history, with c1 and c2 moved as well
CREATE TEMP TABLE history_before AS
    SELECT row_number() OVER () AS n, revision FROM migrate_history();
UPDATE migrate_revision SET source = 'moved' WHERE revision IN ('c1', 'c2');
SELECT ctid > (SELECT max(ctid) FROM migrate_revision WHERE revision NOT IN ('c1', 'c2')) AS moved_to_end
  FROM migrate_revision WHERE revision = 'c1';
SELECT b.n, b.revision, a.revision AS now
  FROM history_before b
  FULL JOIN (SELECT row_number() OVER () AS n, revision FROM migrate_history()) a USING (n)
 ORDER BY b.n;

-- a migration body may call a reading function while the kept graph is in
-- use by the upgrade: it gets a graph of its own
CREATE TABLE cache_seen (heads text);
SELECT migrate_register('c7', '{c3}',
    'INSERT INTO cache_seen SELECT string_agg(revision, '','' ORDER BY revision) FROM migrate_heads();',
    'DELETE FROM cache_seen;', 'Look at heads.');
SELECT revision, direction FROM migrate_upgrade('c7');
SELECT * FROM cache_seen;
SELECT revision FROM migrate_version ORDER BY revision;

-- an error in the middle of a call leaves the kept graph usable
SELECT sqlstate_of($$SELECT * FROM migrate_upgrade('nosuch')$$);
SELECT revision FROM migrate_heads() ORDER BY revision;
SELECT revision, direction FROM migrate_downgrade('base');
SELECT count(*) AS version_rows FROM migrate_version;
DROP TABLE cache_seen;
RESET client_min_messages;

-- A hit of the kept graph is observable: each call says at DEBUG1 whether
-- it reuses the kept graph (and of which build, its generation) or builds
-- a new one.  A second call in the same session reuses; a registration
-- changes the catalog, so the next call builds again (the registration
-- itself reads the graph once, for what is applied); a direct change in
-- the table does too.  (test/isolation/specs/concurrent_graph_cache.spec
-- covers a change committed by another session.)
CREATE TABLE cache_seen (heads text);
SET client_min_messages = debug1;
SELECT count(*) AS heads FROM migrate_heads();
SELECT count(*) AS heads FROM migrate_heads();
SELECT migrate_register('c8', '{c7}', 'SELECT 1;');
SELECT count(*) AS heads FROM migrate_heads();
SELECT count(*) AS heads FROM migrate_heads();
UPDATE migrate_revision SET message = 'Eight.' WHERE revision = 'c8';
SELECT count(*) AS heads FROM migrate_heads();
-- a reading function called from a body while the upgrade uses the kept
-- graph builds one of its own (c7's body and c9's)
SELECT migrate_register('c9', '{c8}',
    'INSERT INTO cache_seen SELECT count(*) FROM migrate_heads();');
SELECT revision FROM migrate_upgrade('c9');
RESET client_min_messages;
SELECT * FROM cache_seen;
DROP TABLE cache_seen;
