# Histories larger than one transaction can hold (issue 14, item 1):
# migrate_upgrade_stepwise and migrate_downgrade_stepwise commit after each
# revision.
#
# The cluster has max_locks_per_transaction = 10, so that one transaction
# cannot create the N tables with primary keys of the history (each holds
# a lock per relation): migrate_upgrade fails with "out of shared memory",
# the stepwise procedures install and remove the whole history.
#
#   1. the one-transaction function fails on this history (the limit is real);
#   2. CALL migrate_upgrade_stepwise('heads'), then
#      CALL migrate_downgrade_stepwise('base'): every table, version row
#      and log row as the one-transaction functions write them; the session
#      advisory lock is gone afterwards;
#      the same with pg_migrate upgrade --stepwise and downgrade --stepwise;
#   3. while a step runs, pg_stat_activity.query names the revision and
#      "step k of N", and committed log rows show the progress;
#   4. the backend is killed with SIGKILL at a random step; after crash
#      recovery the committed steps are recorded, none in flight, and a
#      second call finishes: every revision applied exactly once;
#   5. a CALL inside a transaction block or a function: SQLSTATE 25001 and a HINT; a
#      failing step leaves the steps before it committed and releases the
#      session lock.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use MgCluster;

my $N = 2100;

my $node = PostgreSQL::Test::Cluster->new('stepwise');
$node->init;
$node->append_conf('postgresql.conf',
	"max_locks_per_transaction = 10\nrestart_after_crash = on\n");
$node->start;

# A chain r1 <- r2 <- ... <- rN, each creating a table with a primary key;
# r<slow> sleeps for mgtest.sleep seconds when that is set
sub history
{
	my ($db) = @_;
	mg_db($node, $db);
	$node->safe_psql($db, qq{
SELECT count(migrate_register('r' || i,
        CASE WHEN i = 1 THEN '{}' ELSE ARRAY['r' || (i - 1)] END,
        format('CREATE TABLE t%s (id int PRIMARY KEY);'
               || ' SELECT pg_sleep(coalesce(current_setting(''mgtest.sleep'', true), ''0'')::float8 / 1000)', i),
        format('DROP TABLE t%s', i), 'table ' || i))
  FROM generate_series(1, $N) AS i});
	return $db;
}

# version row, count of log rows per direction, count of tables t<n>
sub summary
{
	my ($db) = @_;
	return psql_val($node, $db, q{
SELECT coalesce((SELECT string_agg(revision, ',') FROM migrate_version), '-')
    || ' up=' || (SELECT count(*) FROM migrate_log WHERE direction = 'upgrade')
    || ' down=' || (SELECT count(*) FROM migrate_log WHERE direction = 'downgrade')
    || ' tables=' || (SELECT count(*) FROM pg_class
                       WHERE relnamespace = 'public'::regnamespace
                         AND relkind = 'r' AND relname ~ '^t[0-9]+$')});
}

my $no_session_lock = q{SELECT count(*) = 0 FROM pg_locks
  WHERE locktype = 'advisory' AND objid = x'67726174'::bigint::oid};

# 1. the limit is real
{
	my $db = history('one_tx');
	my ($rc, $out, $err) = psql_run($node, $db,
		'SET client_min_messages = warning', 'SELECT count(*) FROM migrate_upgrade()');
	is($rc, 1, 'migrate_upgrade of the whole history fails');
	like($err, qr/out of shared memory/, '... with out of shared memory');
	is(summary($db), '- up=0 down=0 tables=0', '... and nothing is left');
}

# 2, 3. stepwise up and down; progress while running
{
	my $db = history('stepwise');
	my $p = start_psql($node, $db, 'stepper', 'SET client_min_messages = warning',
		'SET mgtest.sleep = 2', q{CALL migrate_upgrade_stepwise('heads')});
	wait_until($node, $db, q{SELECT count(*) > 0 FROM pg_stat_activity
  WHERE application_name = 'stepper'
    AND query ~ '^CALL migrate_upgrade_stepwise\(\): upgrade of revision r[0-9]+, step [0-9]+ of 2100$'},
		'pg_stat_activity names the revision and the step');
	my $q = psql_val($node, $db, q{SELECT query FROM pg_stat_activity WHERE application_name = 'stepper'});
	my ($rev, $k) = $q =~ /revision r(\d+), step (\d+) of/;
	is($rev, $k, "the step number is the revision's place in the chain ($q)");
	ok(psql_val($node, $db, 'SELECT count(*) FROM migrate_log') >= $k - 1,
		'committed log rows show how far the run has come');
	my $other = psql_val($node, $db, q{SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
  WHERE a.application_name = 'stepper' AND l.locktype = 'advisory' AND l.granted});
	ok($other >= 1, 'the run holds the migrations advisory lock');
	my ($rc, $out, $err) = finish_proc($p);
	is($rc, 0, 'CALL migrate_upgrade_stepwise(\'heads\') completes') or diag($err);
	is(summary($db), "r$N up=$N down=0 tables=$N", 'every revision applied once');
	is(psql_val($node, $db, q{SELECT count(*) FROM migrate_log l
  WHERE direction = 'upgrade'
    AND l.from_revisions = CASE WHEN l.revision = 'r1' THEN '{}'
                                ELSE ARRAY['r' || (substr(l.revision, 2)::int - 1)] END
    AND l.to_revisions = ARRAY[l.revision]}), $N,
		'log rows name the version rows before and after each step');
	is(psql_val($node, $db, q{SELECT bool_and(a.id < b.id) FROM migrate_log a JOIN migrate_log b
  ON substr(b.revision, 2)::int = substr(a.revision, 2)::int + 1}), 't',
		'log rows in the order of the plan');
	ok(psql_val($node, $db, $no_session_lock) eq 't', 'no advisory lock is left');

	($rc, $out, $err) = psql_run($node, $db, 'SET client_min_messages = warning',
		q{CALL migrate_downgrade_stepwise('base')});
	is($rc, 0, 'CALL migrate_downgrade_stepwise(\'base\') completes') or diag($err);
	is(summary($db), "- up=$N down=$N tables=0", 'every revision downgraded once');

	# the same through pg_migrate, which CALLs the procedures in autocommit
	my $pg = start_pgm($node, $db, {}, 'upgrade', '--stepwise');
	($rc, $out, $err) = finish_proc($pg);
	is($rc, 0, 'pg_migrate upgrade --stepwise completes') or diag($err);
	is(summary($db), "r$N up=" . (2 * $N) . " down=$N tables=$N", '... every revision applied');
	like($out, qr/\A revision \| direction \| +message +\| +duration +\n-[-+]+\n r1 +\| upgrade +\| table 1 +\|/,
		'... and its steps printed as upgrade prints them');
	like($out, qr/\($N rows\)\n+\z/, '... all of them');
	$pg = start_pgm($node, $db, {}, 'downgrade', 'base', '--stepwise');
	($rc, $out, $err) = finish_proc($pg);
	is($rc, 0, 'pg_migrate downgrade --stepwise base completes') or diag($err);
	is(summary($db), "- up=" . (2 * $N) . " down=" . (2 * $N) . " tables=0",
		'... every revision downgraded');
}

# 4. SIGKILL at a random step
{
	my $db = history('killed');
	my $at = 200 + int(rand($N - 400));
	note("killing at step $at or after");
	my $p = start_psql($node, $db, 'victim', 'SET client_min_messages = warning',
		q{CALL migrate_upgrade_stepwise()});
	wait_until($node, $db, "SELECT count(*) >= $at FROM migrate_log", "the run reached step $at");
	my $pid = psql_val($node, $db, q{SELECT pid FROM pg_stat_activity WHERE application_name = 'victim'});
	my $offset = -s $node->logfile;
	is(kill('KILL', $pid), 1, 'backend killed with SIGKILL');
	my ($rc) = finish_proc($p);
	is($rc, 2, 'psql: connection lost');
	$node->wait_for_log(qr/database system is ready to accept connections/, $offset);
	ok($node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
		'crash recovery done');
	my $s = summary($db);
	my ($done) = $s =~ /^r(\d+) /;
	ok(defined $done && $done >= $at && $done < $N, "interrupted after step $at ($s)");
	is($s, "r$done up=$done down=0 tables=$done",
		'committed steps recorded with their tables, nothing of the one in flight');
	($rc, my $out, my $err) = psql_run($node, $db, 'SET client_min_messages = warning',
		q{CALL migrate_upgrade_stepwise()});
	is($rc, 0, 'a second call finishes') or diag($err);
	is(summary($db), "r$N up=$N down=0 tables=$N", 'the whole history is applied');
	is(psql_val($node, $db, q{SELECT count(DISTINCT revision) || ' ' || count(*) FROM migrate_log}),
		"$N $N", 'every revision applied exactly once');
}

# 5. refusals and errors
{
	my $db = mg_db($node, 'errors');
	mg_register($node, $db,
		[ 'a1', undef, 'CREATE TABLE a1 (id int)', 'DROP TABLE a1', 'a1' ],
		[ 'a2', 'a1', 'CREATE TABLE a2 (id int)', 'DROP TABLE a2', 'a2' ],
		[ 'a3', 'a2', 'SELECT 1/0', undef, 'broken' ]);
	my ($rc, $out, $err) = psql_run($node, $db, 'BEGIN',
		q{CALL migrate_upgrade_stepwise('heads')});
	is($rc, 1, 'inside a transaction block: refused');
	like($err, qr/ERROR:  25001: migrate_upgrade_stepwise\(\) cannot run inside a transaction block/,
		'... with SQLSTATE 25001');
	like($err, qr/HINT:  Run CALL migrate_upgrade_stepwise/, '... and a HINT');
	($rc, $out, $err) = psql_run($node, $db,
		q{CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$BEGIN CALL migrate_downgrade_stepwise('base'); END$$},
		'SELECT f()');
	like($err, qr/25001: migrate_downgrade_stepwise\(\) cannot run inside a transaction block/,
		'from a function: refused');
	($rc, $out, $err) = psql_run($node, $db, q{CALL migrate_upgrade_stepwise('heads')});
	like($err, qr/ERROR:  22012: division by zero/, 'a failing step fails the call');
	like($err, qr/upgrade of revision "a3" \(broken\)/, '... naming the revision');
	my $pg = start_pgm($node, $db, {}, 'upgrade', '--stepwise');
	($rc, $out, $err) = finish_proc($pg);
	is($rc, 1, 'pg_migrate upgrade --stepwise: exit 1 on a failing step');
	like($err, qr/division by zero/, '... with the error');
	is(psql_val($node, $db, q{SELECT string_agg(revision, ',' ORDER BY id) FROM migrate_log}),
		'a1,a2', 'the steps before it stay committed');
	is(psql_val($node, $db, 'SELECT revision FROM migrate_version'), 'a2', 'version row at a2');
	ok(psql_val($node, $db, $no_session_lock) eq 't', 'the session lock is released on error');
	($rc, $out, $err) = psql_run($node, $db, q{CALL migrate_downgrade_stepwise(NULL)});
	like($err, qr/target must not be null/, 'a null target is refused');
}

$node->stop;
done_testing();
