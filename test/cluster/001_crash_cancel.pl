# A migration interrupted in the middle of a step leaves nothing behind:
# no DDL, no version row, no log row of the interrupted run, and its
# transaction is aborted; the next upgrade runs every step once.
#
#   1. psql, its backend killed with SIGKILL after a CHECKPOINT wrote the
#      run's uncommitted pages (crash recovery, restart_after_crash);
#   2. psql, the server stopped in immediate mode, then started (the run's
#      changes in WAL only);
#   3. pg_migrate upgrade, its backend killed with SIGKILL;
#   3b. pg_migrate itself killed with SIGKILL;
#   4. pg_migrate upgrade interrupted by Ctrl-C (SIGINT: a cancel request);
#   5. psql, pg_cancel_backend() (an upgrade, then a downgrade);
#   6. psql, pg_terminate_backend();
#   7. psql, statement_timeout.
#
# Revision r3 sleeps for mgtest.sleep seconds (not at all when the setting
# is absent); the tests wait in pg_stat_activity for that sleep to start.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MgCluster;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
# a killed backend makes the postmaster reinitialize (crash recovery)
# instead of shutting down
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;

my $sleep = q{SELECT pg_sleep(current_setting('mgtest.sleep', true)::float8);};
# an error quotes the statement of the body that failed, without its ';'
(my $sleep_stmt = $sleep) =~ s/;$//;
my @revs = (
	[ 'r1', undef, 'CREATE TABLE t1 (id int);', 'DROP TABLE t1;', 'Create t1.' ],
	[
		'r2', 'r1',
		'CREATE TABLE t2 (id int); INSERT INTO t2 SELECT generate_series(1, 1000);',
		'DROP TABLE t2;', 'Create t2.'
	],
	[
		'r3', 'r2', "CREATE TABLE t3 (id int); $sleep",
		"DROP TABLE t3; $sleep", 'Create t3, slowly.'
	],
	[ 'r4', 'r3', 'CREATE TABLE t4 (id int);', 'DROP TABLE t4;', 'Create t4.' ]);

# The state each interrupted run must leave: r1, committed before
my $at_r1 = "version: r1\nlog:\nupgrade r1 {} -> {r1}\ntables: t1\n";
my $at_r4 = "version: r4\nlog:\nupgrade r1 {} -> {r1}\nupgrade r2 {r1} -> {r2}\n"
  . "upgrade r3 {r2} -> {r3}\nupgrade r4 {r3} -> {r4}\ntables: t1,t2,t3,t4\n";
my $notices_to_r3 = "NOTICE:  upgrade r1 -> r2, Create t2.\n"
  . "NOTICE:  upgrade r2 -> r3, Create t3, slowly.\n";
my $verbose_notices_to_r3 = "NOTICE:  00000: upgrade r1 -> r2, Create t2.\n"
  . "NOTICE:  00000: upgrade r2 -> r3, Create t3, slowly.\n";
my $context_r3 = qq{CONTEXT:  SQL statement "$sleep_stmt"\n}
  . qq{upgrade of revision "r3" (Create t3, slowly.)\n};

# A database with r1..r4 registered and r1 applied
sub at_r1
{
	my ($db) = @_;
	mg_db($node, $db);
	mg_register($node, $db, @revs);
	$node->safe_psql($db, q{SELECT * FROM migrate_upgrade('r1')});
	is(mg_state($node, $db), $at_r1, "$db: r1 applied");
	return $db;
}

# Wait until the session named $app sleeps in r3; returns its pid and xid
sub wait_in_r3
{
	my ($db, $app) = @_;
	wait_until($node, $db,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = '$app'"
		  . " AND wait_event = 'PgSleep' AND query ~ 'migrate_upgrade'",
		"$db: $app sleeps in step r3");
	my ($pid, $xid) = split /\|/,
	  psql_val($node, $db,
		"SELECT pid, backend_xid FROM pg_stat_activity WHERE application_name = '$app'");
	# the run is invisible to others while it runs
	is(mg_state($node, $db), $at_r1, "$db: the running upgrade is not visible");
	return ($pid, $xid);
}

# After the interruption: the transaction aborted, nothing of it left, and
# the next upgrade runs r2, r3 and r4 once each
sub nothing_left_then_upgrade
{
	my ($db, $xid) = @_;
	is(psql_val($node, $db, "SELECT pg_xact_status('$xid')"),
		'aborted', "$db: the interrupted transaction is aborted");
	is(mg_state($node, $db), $at_r1,
		"$db: no table, version row or log row of the interrupted run");
	is( psql_val(
			$node, $db,
			q{SELECT string_agg(revision || ' ' || direction, ',') FROM migrate_upgrade('heads')}),
		'r2 upgrade,r3 upgrade,r4 upgrade',
		"$db: the next upgrade runs r2, r3, r4");
	is(mg_state($node, $db), $at_r4, "$db: each step ran once");
	is(psql_val($node, $db, 'SELECT count(*) FROM t2'), '1000', "$db: t2 filled once");
	return;
}

# After a crash: wait until the postmaster has reinitialized and recovered
# (a connection made before it noticed the crash could still succeed)
sub wait_for_restart
{
	my ($offset, $what) = @_;
	$node->wait_for_log(qr/database system is ready to accept connections/, $offset);
	ok($node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
		"server accepts connections again after $what");
	ok( $node->log_contains(
			qr/database system was not properly shut down; automatic recovery in progress/,
			$offset),
		"crash recovery ran after $what");
	return;
}

# 1. psql; the backend killed with SIGKILL after a checkpoint wrote the
#    run's uncommitted pages to disk
{
	my $db = at_r1('kill_psql');
	my $p = start_psql($node, $db, 'victim', 'SET mgtest.sleep = 300',
		q{SELECT * FROM migrate_upgrade('heads')});
	my ($pid, $xid) = wait_in_r3($db, 'victim');
	ok($xid > 0, 'the upgrade has an xid');
	$node->safe_psql('postgres', 'CHECKPOINT');
	my $offset = -s $node->logfile;
	is(kill('KILL', $pid), 1, 'backend killed with SIGKILL');
	my ($rc, $out, $err) = finish_proc($p);
	is($rc, 2, 'psql: connection lost (exit 2)');
	is($out, '', 'psql: no result');
	like(clean_err($err), qr/\A\Q$verbose_notices_to_r3\E/, 'psql: r2 and r3 had started');
	like($err, qr/server closed the connection unexpectedly/, 'psql: connection lost');
	wait_for_restart($offset, 'SIGKILL');
	ok( $node->log_contains(
			qr/server process \(PID $pid\) was terminated by signal 9: Killed/, $offset),
		'server log: the backend was killed');
	ok($node->log_contains(qr/all server processes terminated; reinitializing/, $offset),
		'server log: reinitialized');
	nothing_left_then_upgrade($db, $xid);
}

# 2. psql; the whole server stopped in immediate mode, then started: the
#    run's changes are in WAL only
{
	my $db = at_r1('immediate');
	my $p = start_psql($node, $db, 'victim', 'SET mgtest.sleep = 300',
		q{SELECT * FROM migrate_upgrade('heads')});
	my (undef, $xid) = wait_in_r3($db, 'victim');
	# a transaction committed after the run's WAL records flushes them (no
	# checkpoint): recovery must see the run's xid, then abort it
	ok( psql_val($node, 'postgres', 'SELECT pg_current_xact_id()') > $xid,
		'a later transaction committed');
	my $offset = -s $node->logfile;
	$node->stop('immediate');
	my ($rc, $out, $err) = finish_proc($p);
	is($rc, 2, 'psql: connection lost (exit 2)');
	like($err, qr/server closed the connection unexpectedly/, 'psql: connection lost');
	$node->start;
	wait_for_restart($offset, 'an immediate shutdown');
	nothing_left_then_upgrade($db, $xid);
}

# 3. pg_migrate upgrade; its backend killed with SIGKILL
{
	my $db = at_r1('kill_pgm');
	my $p = start_pgm($node, $db, { PGOPTIONS => '-c mgtest.sleep=300' }, 'upgrade');
	my ($pid, $xid) = wait_in_r3($db, 'pg_migrate');
	my $offset = -s $node->logfile;
	is(kill('KILL', $pid), 1, 'backend of pg_migrate killed with SIGKILL');
	my ($rc, $out, $err) = finish_proc($p);
	is($rc, 1, 'pg_migrate: exit 1');
	is($out, '', 'pg_migrate: no result');
	like(
		$err,
		# libpq's message is escaped like any other text pg_migrate prints:
		# its line breaks appear as \n, on one line
		qr/\A\Q${notices_to_r3}pg_migrate: error: server closed the connection unexpectedly\E(?:\n|\\n)/,
		'pg_migrate: progress, then the lost connection');
	wait_for_restart($offset, 'SIGKILL of pg_migrate\'s backend');
	is(mg_state($node, $db), $at_r1, "$db: nothing of the run left");
	my ($out2) = pgm_upgrade_ok($db);
	like($out2, qr/^ r2 +\| upgrade .*\n r3 +\| upgrade .*\n r4 +\| upgrade /m,
		'pg_migrate upgrade then runs r2, r3, r4');
	is(mg_state($node, $db), $at_r4, "$db: each step ran once");
}

# 3b. pg_migrate itself killed with SIGKILL: the server notices the lost
#     client at its next check (client_connection_check_interval; without
#     it, not before the running body ends) and rolls the run back
{
	my $db = at_r1('kill_client');
	my $p = start_pgm($node, $db,
		{ PGOPTIONS => '-c mgtest.sleep=300 -c client_connection_check_interval=100ms' },
		'upgrade');
	my ($pid, $xid) = wait_in_r3($db, 'pg_migrate');
	my $offset = -s $node->logfile;
	$p->{h}->signal('KILL');
	my ($rc) = finish_proc($p);
	is($rc, 128 + 9, 'pg_migrate killed with SIGKILL');
	wait_until($node, $db,
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid",
		'its backend ends');
	ok($node->log_contains(qr/\[$pid\] pg_migrate FATAL:  connection to client lost/, $offset),
		'server log: connection to client lost');
	nothing_left_then_upgrade($db, $xid);
}

sub pgm_upgrade_ok
{
	my ($db) = @_;
	my ($rc, $out, $err) = finish_proc(start_pgm($node, $db, {}, 'upgrade'));
	is($rc, 0, "$db: pg_migrate upgrade succeeds") or diag($err);
	return ($out, $err);
}

# 4. pg_migrate upgrade interrupted by Ctrl-C (SIGINT): it sends a cancel
#    request
{
	my $db = at_r1('sigint_pgm');
	my $p = start_pgm($node, $db, { PGOPTIONS => '-c mgtest.sleep=300' }, 'upgrade');
	my ($pid, $xid) = wait_in_r3($db, 'pg_migrate');
	$p->{h}->signal('INT');
	my ($rc, $out, $err) = finish_proc($p);
	is($rc, 1, 'pg_migrate: exit 1 after Ctrl-C');
	is($out, '', 'pg_migrate: no result');
	is( $err,
		$notices_to_r3
		  . "Cancel request sent\n"
		  . "pg_migrate: error: canceling statement due to user request\n"
		  . qq{pg_migrate: context: SQL statement "$sleep_stmt"\n}
		  . qq{pg_migrate: context: upgrade of revision "r3" (Create t3, slowly.)\n},
		'pg_migrate: the cancelled step, with its context');
	# the attempt is logged after the rollback (0.4's provenance); mg_state
	# leaves such rows out
	is(psql_val($node, $db,
			"SELECT string_agg(direction || ' ' || revision || ' ' || sqlstate, ',') FROM migrate_log WHERE direction LIKE 'failed %'"),
		'failed upgrade r3 57014', 'pg_migrate: the cancelled attempt is logged');
	nothing_left_then_upgrade($db, $xid);
}

# 5. psql; pg_cancel_backend() from another session
{
	my $db = at_r1('cancel');
	my $p = start_psql($node, $db, 'victim', 'SET mgtest.sleep = 300',
		q{SELECT * FROM migrate_upgrade('heads')});
	my ($pid, $xid) = wait_in_r3($db, 'victim');
	is(psql_val($node, 'postgres', "SELECT pg_cancel_backend($pid)"), 't', 'cancel sent');
	my ($rc, $out, $err) = finish_proc($p);
	is($rc, 1, 'psql: exit 1');
	is( clean_err($err),
		$verbose_notices_to_r3
		  . "ERROR:  57014: canceling statement due to user request\n"
		  . $context_r3,
		'psql: 57014 in step r3');
	nothing_left_then_upgrade($db, $xid);

	# a cancelled downgrade keeps everything too: r4 was dropped, then the
	# downgrade of r3 is cancelled
	my $before = mg_state($node, $db);
	$p = start_psql($node, $db, 'victim', 'SET mgtest.sleep = 300',
		q{SELECT * FROM migrate_downgrade('r1')});
	wait_until($node, $db,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'victim'"
		  . " AND wait_event = 'PgSleep' AND query ~ 'migrate_downgrade'",
		'downgrade sleeps in step r3');
	($pid) = psql_val($node, $db,
		"SELECT pid FROM pg_stat_activity WHERE application_name = 'victim'");
	is(psql_val($node, 'postgres', "SELECT pg_cancel_backend($pid)"), 't', 'cancel sent');
	($rc, $out, $err) = finish_proc($p);
	is($rc, 1, 'psql: exit 1');
	is( clean_err($err),
		"NOTICE:  00000: downgrade r4 -> r3, Create t4.\n"
		  . "NOTICE:  00000: downgrade r3 -> r2, Create t3, slowly.\n"
		  . "ERROR:  57014: canceling statement due to user request\n"
		  . qq{CONTEXT:  SQL statement "$sleep_stmt"\n}
		  . qq{downgrade of revision "r3" (Create t3, slowly.)\n},
		'psql: 57014 in the downgrade of r3');
	is(mg_state($node, $db), $before, 'cancelled downgrade: t3 and t4, version and log kept');
}

# 6. psql; pg_terminate_backend() from another session
{
	my $db = at_r1('terminate');
	my $p = start_psql($node, $db, 'victim', 'SET mgtest.sleep = 300',
		q{SELECT * FROM migrate_upgrade('heads')});
	my ($pid, $xid) = wait_in_r3($db, 'victim');
	is(psql_val($node, 'postgres', "SELECT pg_terminate_backend($pid)"), 't',
		'terminate sent');
	my ($rc, $out, $err) = finish_proc($p);
	is($rc, 2, 'psql: connection lost (exit 2)');
	like(
		clean_err($err),
		qr/\A\Q${verbose_notices_to_r3}FATAL:  57P01: terminating connection due to administrator command\E\n/,
		'psql: 57P01');
	nothing_left_then_upgrade($db, $xid);
}

# 7. psql; statement_timeout fires in step r3 (r1 and r2 take milliseconds)
{
	my $db = at_r1('stmt_timeout');
	my ($rc, $out, $err) = psql_run($node, $db, 'SET mgtest.sleep = 300',
		q{SET statement_timeout = '1s'},
		q{SELECT * FROM migrate_upgrade('heads')});
	is($rc, 1, 'psql: exit 1');
	is( clean_err($err),
		$verbose_notices_to_r3
		  . "ERROR:  57014: canceling statement due to statement timeout\n"
		  . $context_r3,
		'psql: 57014 statement timeout in step r3');
	is(mg_state($node, $db), $at_r1, "$db: nothing of the run left");
	is( psql_val(
			$node, $db,
			q{SELECT string_agg(revision, ',') FROM migrate_upgrade('heads')}),
		'r2,r3,r4',
		"$db: the next upgrade runs r2, r3, r4");
	is(mg_state($node, $db), $at_r4, "$db: each step ran once");
}

$node->stop;
done_testing();
