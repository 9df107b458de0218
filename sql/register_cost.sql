--
-- Reloading after every unapplied body changed costs time linear in the
-- number of revisions (issue 10, item 11): migrate_register works out the
-- applied set once per transaction instead of rebuilding the graph for each
-- changed revision.  4,000 revisions (100 of them applied) are registered,
-- then all registered again with new bodies, under a statement_timeout the
-- quadratic cost (several seconds here) would exceed by far; the linear
-- one takes well under a second.
--
SELECT reset_migrations();
SELECT count(*) AS registered
  FROM (SELECT migrate_register('c' || i,
                                CASE WHEN i = 1 THEN '{}'::text[] ELSE ARRAY['c' || (i - 1)] END,
                                'SELECT ' || i || ';', 'SELECT 0;')
          FROM generate_series(1, 4000) AS i) AS s;
SET client_min_messages = warning;
SELECT count(*) AS applied FROM migrate_upgrade('c100');
RESET client_min_messages;
SET statement_timeout = '3s';
SELECT r, count(*)
  FROM (SELECT migrate_register('c' || i,
                                CASE WHEN i = 1 THEN '{}'::text[] ELSE ARRAY['c' || (i - 1)] END,
                                'SELECT ' || i || ', 2;', 'SELECT 0;') AS r
          FROM generate_series(101, 4000) AS i) AS s
 GROUP BY r;
RESET statement_timeout;
SELECT count(*) FILTER (WHERE is_applied) AS applied, count(*) AS revisions FROM migrate_state();
SELECT migrate_check();
SELECT reset_migrations();
