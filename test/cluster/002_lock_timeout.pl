# Lock safety.  A step that needs a lock another session holds (ALTER TABLE
# t while a transaction has read t) waits, and every query on t issued
# after it queues behind it.  With migrations.lock_timeout the step gives
# up after that long (55P03 with a HINT naming the setting), the queued
# readers run, and nothing of the migration is left.  Without it the
# readers stay blocked for as long as the step waits.  The session's own
# lock_timeout hitting a step leaves nothing either.  The setting applies
# to the bodies only: the session's lock_timeout comes back afterwards.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use MgCluster;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;

my $db = mg_db($node, 'locks');
$node->safe_psql($db, 'CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2), (3);');
mg_register(
	$node, $db,
	[
		'l1', undef,
		q{CREATE TABLE l1 AS SELECT current_setting('lock_timeout') AS body_lock_timeout;},
		'DROP TABLE l1;', 'Record lock_timeout.'
	],
	[
		'l2', 'l1', 'ALTER TABLE t ADD COLUMN note text;',
		'ALTER TABLE t DROP COLUMN note;', 'Add t.note.'
	],
	[ 'l3', 'l2', 'CREATE TABLE l3 (id int);', 'DROP TABLE l3;', 'Create l3.' ]);

my $nothing = "version: \nlog:\ntables: t\n";
is(mg_state($node, $db), $nothing, 'nothing applied yet');

my $notices_to_l2 = "NOTICE:  00000: upgrade  -> l1, Record lock_timeout.\n"
  . "NOTICE:  00000: upgrade l1 -> l2, Add t.note.\n";
my $context_l2 = qq{CONTEXT:  SQL statement "ALTER TABLE t ADD COLUMN note text"\n}
  . qq{upgrade of revision "l2" (Add t.note.)\n};

# Session A: an open transaction that has read t
my $holder = $node->background_psql($db);
$holder->set_query_timer_restart;
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE t IN ACCESS SHARE MODE');
my $holder_pid = $holder->query_safe('SELECT pg_backend_pid()');

# A session watching pg_locks, polled every few milliseconds
my $monitor = $node->background_psql($db);
$monitor->set_query_timer_restart;

my $step_waits = q{SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid)
  WHERE a.application_name = 'migrator' AND l.relation = 't'::regclass
    AND l.mode = 'AccessExclusiveLock' AND NOT l.granted)};
# the reader waits for a lock on t, and the migration is what it waits for
my $reader_queued = q{SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid)
  WHERE a.application_name = 'reader' AND l.relation = 't'::regclass
    AND l.mode = 'AccessShareLock' AND NOT l.granted
    AND (SELECT pid FROM pg_stat_activity WHERE application_name = 'migrator')
        = ANY (pg_blocking_pids(a.pid)))};

# 1. The session's lock_timeout (migrations.lock_timeout is 0): 55P03, no
#    HINT, nothing applied
{
	my ($rc, $out, $err) = psql_run($node, $db, q{SET lock_timeout = '200ms'},
		q{SELECT * FROM migrate_upgrade('heads')});
	is($rc, 1, 'lock_timeout: psql exit 1');
	is( clean_err($err),
		$notices_to_l2
		  . "ERROR:  55P03: canceling statement due to lock timeout\n"
		  . $context_l2,
		'lock_timeout: 55P03 in step l2, no HINT');
	is(mg_state($node, $db), $nothing, 'lock_timeout: nothing applied');
}

# 2. migrations.lock_timeout = 2s: a reader issued while the step waits
#    queues behind it, and runs once the step has given up
{
	my $start = time;
	my $migrator = start_psql($node, $db, 'migrator',
		q{SET migrations.lock_timeout = '2s'},
		q{SELECT * FROM migrate_upgrade('heads')});
	fast_wait_until($monitor, $step_waits,
		'migrations.lock_timeout: the step waits for its lock on t');
	my $reader = start_psql($node, $db, 'reader', 'SELECT count(*) FROM t');
	fast_wait_until($monitor, $reader_queued,
		'migrations.lock_timeout: a reader queues behind the waiting step');

	my ($rc, $out, $err) = finish_proc($migrator);
	my $elapsed = time - $start;
	is($rc, 1, 'migrations.lock_timeout: the migration fails');
	is($out, '', 'migrations.lock_timeout: no steps returned');
	is( clean_err($err),
		$notices_to_l2
		  . "ERROR:  55P03: canceling statement due to lock timeout\n"
		  . "HINT:  The step waited longer than migrations.lock_timeout (2000 ms) for a lock"
		  . " another session holds. Retry when the table is less busy, or raise"
		  . " migrations.lock_timeout.\n"
		  . $context_l2,
		'migrations.lock_timeout: 55P03 with the HINT');
	ok($elapsed >= 2, "migrations.lock_timeout: the step waited its 2 s ($elapsed s)");

	($rc, $out, $err) = finish_proc($reader);
	is($rc, 0, 'migrations.lock_timeout: the reader succeeds') or diag($err);
	is($out, "3\n", 'migrations.lock_timeout: the reader read t');
	is( $monitor->query_safe(
			"SELECT a.state FROM pg_stat_activity a JOIN pg_locks l USING (pid)"
			  . " WHERE a.pid = $holder_pid AND l.relation = 't'::regclass AND l.granted"),
		'idle in transaction',
		'migrations.lock_timeout: while session A still holds its lock');
	is(mg_state($node, $db), $nothing, 'migrations.lock_timeout: nothing applied');
}

# 3. Without any timeout the step waits as long as session A holds its
#    lock, and so does the reader queued behind it
{
	my $migrator = start_psql($node, $db, 'migrator',
		q{SELECT revision FROM migrate_upgrade('heads')});
	fast_wait_until($monitor, $step_waits, 'no timeout: the step waits for its lock on t');
	my $reader = start_psql($node, $db, 'reader', 'SELECT count(*) FROM t');
	fast_wait_until($monitor, $reader_queued,
		'no timeout: a reader queues behind the waiting step');
	wait_until($node, $db,
		"SELECT clock_timestamp() - query_start > interval '2500 ms' FROM pg_stat_activity"
		  . " WHERE application_name = 'reader'",
		'no timeout: the reader has waited 2.5 s');
	is($monitor->query_safe("$step_waits AND ($reader_queued)"),
		't', 'no timeout: step and reader still wait after 2.5 s');

	# session A ends: the step runs, then the reader
	$holder->query_safe('COMMIT');
	my ($rc, $out, $err) = finish_proc($migrator);
	is($rc, 0, 'no timeout: the upgrade succeeds once the lock is free') or diag($err);
	is($out, "l1\nl2\nl3\n", 'no timeout: l1, l2, l3 ran');
	($rc, $out, $err) = finish_proc($reader);
	is($rc, 0, 'no timeout: the reader succeeds') or diag($err);
	is($out, "3\n", 'no timeout: the reader read t');
	is( mg_state($node, $db),
		"version: l3\nlog:\nupgrade l1 {} -> {l1}\nupgrade l2 {l1} -> {l2}\n"
		  . "upgrade l3 {l2} -> {l3}\ntables: l1,l3,t\n",
		'no timeout: each step ran once');
	is(psql_val($node, $db, 'SELECT body_lock_timeout FROM l1'),
		'0', 'no timeout: the body ran with lock_timeout 0');
}

# 4. The setting is the bodies' lock_timeout; the session's comes back
#    after the call, and without the setting the session's applies
{
	my ($rc, $out, $err) = psql_run($node, $db,
		q{SELECT count(*) FROM migrate_downgrade('base')},
		q{SET lock_timeout = '5s'},
		q{SET migrations.lock_timeout = '750ms'},
		q{SELECT revision FROM migrate_upgrade('heads')},
		'SHOW lock_timeout',
		'SHOW migrations.lock_timeout',
		'SELECT body_lock_timeout FROM l1',
		q{SELECT count(*) FROM migrate_downgrade('base')},
		q{SET migrations.lock_timeout = 0},
		q{SELECT count(*) FROM migrate_upgrade('heads')},
		'SELECT body_lock_timeout FROM l1');
	is($rc, 0, 'setting in bodies: psql succeeds') or diag($err);
	is( $out, "3\nl1\nl2\nl3\n5s\n750ms\n750ms\n3\n3\n5s\n",
		'setting in bodies: 750ms in the body, the session keeps 5s; 0 leaves 5s in force');
}

$holder->quit;
$monitor->quit;
$node->stop;
done_testing();
