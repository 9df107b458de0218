--
-- Cost bounds of the graph core (issue 10, items 1 and 2): label
-- inheritance is linear, and a long call can be cancelled
--
SELECT reset_migrations();
-- a chain of 10,000 revisions with one branch label each
SELECT count(migrate_register('c' || i,
       CASE WHEN i = 0 THEN '{}'::text[] ELSE ARRAY['c' || (i - 1)] END,
       'SELECT 1;', 'SELECT 1;', NULL, ARRAY['l' || i]))
  FROM generate_series(0, 9999) i;
-- one revision with 100,000 branch labels
SELECT count(migrate_register('big', '{}', 'SELECT 1;', 'SELECT 1;', NULL,
       (SELECT array_agg('b' || i) FROM generate_series(1, 100000) i)));
-- before: minutes and about 1 GB of backend memory; now well under a second
SET statement_timeout = '5s';
SELECT revision, cardinality(branch_labels), branch_labels[1] AS first
  FROM migrate_heads() ORDER BY revision;
-- the base of the chain carries every label of its segment
SELECT cardinality(branch_labels) FROM migrate_history('c0:c0');
-- listing every revision's labels is quadratic in output (10^8 labels):
-- the timeout ends it
SET statement_timeout = '1s';
SELECT count(*) FROM migrate_history();
RESET statement_timeout;
SELECT reset_migrations();
