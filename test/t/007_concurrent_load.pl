# Several pg_migrate processes against the same database at the same time:
# loads of the same, of overlapping and of conflicting directories, a load
# against an upgrade, and upgrades against each other.  They serialize on
# the extension's advisory lock; to make them overlap for certain, a psql
# session holds that lock while they start, and releases it once all of
# them wait.  PostgreSQL grants a lock to its waiters in the order they
# came, so the order in which they then run is known.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $LOCK_KEY = '120299474542964';    # MG_ADVISORY_LOCK_KEY_VALUE, 0x6d6967726174
my $TIMEOUT = 180;                    # seconds; the machine may be busy

# pg_migrate started in the background; finish() returns (rc, out, err)
sub start_pgm
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ $PG_MIGRATE, @_ ], '<', \undef, '>', \$out, '2>', \$err,
		IPC::Run::timeout($TIMEOUT));
	return { h => $h, out => \$out, err => \$err, args => "@_" };
}

sub finish_pgm
{
	my ($p) = @_;
	$p->{h}->finish;
	my $status = $p->{h}->full_result(0);
	my $rc = ($status & 127) ? 128 + ($status & 127) : $status >> 8;
	return ($rc, ${ $p->{out} }, ${ $p->{err} });
}

# sessions of this database waiting for an advisory lock
sub waiters
{
	my ($db) = @_;
	return psql($db,
		"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
		  . " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
}

sub wait_for_waiters
{
	my ($db, $n) = @_;
	my $deadline = time() + $TIMEOUT;
	while (waiters($db) < $n)
	{
		die "timed out waiting for $n sessions to wait for the lock" if time() > $deadline;
		usleep(50_000);
	}
	return 1;
}

# A psql session holding the extension's lock until release()
sub hold_lock
{
	my ($db) = @_;
	my ($in, $out) = ("BEGIN;\nSELECT 'locked' FROM pg_advisory_xact_lock($LOCK_KEY);\n", '');
	my $h = IPC::Run::start([ 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $db ],
		'<', \$in, '>', \$out, IPC::Run::timeout($TIMEOUT));
	$h->pump until $out =~ /locked/;
	return { h => $h, in => \$in };
}

sub release
{
	my ($holder) = @_;
	${ $holder->{in} } .= "COMMIT;\n\\q\n";
	$holder->{h}->finish;
}

# Start the commands one after the other, each once the previous one waits
# for the lock held by a psql session; then release the lock and collect
# the results in that order.
sub run_queued
{
	my ($db, @commands) = @_;
	my $holder = hold_lock($db);
	my @procs;
	for my $i (0 .. $#commands)
	{
		push @procs, start_pgm(@{ $commands[$i] });
		wait_for_waiters($db, $i + 1);
	}
	release($holder);
	return map { [ finish_pgm($_) ] } @procs;
}

# steps in a result table of upgrade or downgrade
# (an upgrade with nothing to do prints no table, only a line on stderr)
sub nrows
{
	my ($out) = @_;
	return 0 if $out eq '';
	return $out =~ /^\((\d+) rows?\)$/m ? $1 : -1;
}

my @dirs = copy_examples();
my $extra = tmpdir() . "/extra";
write_file("$extra/ee0000000001_one.sql",
	"-- migrate:revision ee0000000001\n-- migrate:down_revision 74ee3dd23415\n"
	  . "-- migrate:message Extra one.\n-- migrate:upgrade\nCREATE TABLE extra_one (id int);\n"
	  . "-- migrate:downgrade\nDROP TABLE extra_one;\n");
write_file("$extra/ee0000000002_two.sql",
	"-- migrate:revision ee0000000002\n-- migrate:down_revision ee0000000001\n"
	  . "-- migrate:message Extra two.\n-- migrate:upgrade\nCREATE TABLE extra_two (id int);\n"
	  . "-- migrate:downgrade\nDROP TABLE extra_two;\n");
# the same first revision with another body
my $alt = tmpdir() . "/alt";
write_file("$alt/ee0000000001_one.sql",
	"-- migrate:revision ee0000000001\n-- migrate:down_revision 74ee3dd23415\n"
	  . "-- migrate:message Extra one.\n-- migrate:upgrade\nCREATE TABLE extra_one_alt (id int);\n"
	  . "-- migrate:downgrade\nDROP TABLE extra_one_alt;\n");
# a revision whose branch label is already used by another one
my $conflict = tmpdir() . "/conflict";
write_file("$conflict/ff0000000001_dup.sql",
	"-- migrate:revision ff0000000001\n-- migrate:down_revision none\n"
	  . "-- migrate:branch_labels invenio_records\n-- migrate:upgrade\nSELECT 1;\n");
# a later revision, and a changed body of an applied one
my $later = tmpdir() . "/later";
write_file("$later/ee0000000003_three.sql",
	"-- migrate:revision ee0000000003\n-- migrate:down_revision ee0000000002\n"
	  . "-- migrate:message Extra three.\n-- migrate:upgrade\nCREATE TABLE extra_three (id int);\n"
	  . "-- migrate:downgrade\nDROP TABLE extra_three;\n");
my $changed = tmpdir() . "/changed";
write_file("$changed/ee0000000002_two.sql",
	"-- migrate:revision ee0000000002\n-- migrate:down_revision ee0000000001\n"
	  . "-- migrate:message Extra two.\n-- migrate:upgrade\nCREATE TABLE extra_two_v2 (id int);\n"
	  . "-- migrate:downgrade\nDROP TABLE extra_two_v2;\n");

# no revision stored twice, seq without duplicates or gaps
sub check_catalog
{
	my ($db, $n, $what) = @_;
	is(psql($db, "SELECT count(*) || ' ' || count(DISTINCT revision) || ' ' || count(DISTINCT seq)"
			  . " || ' ' || max(seq) FROM migrate_revision"),
		"$n $n $n $n", "$what: $n revisions, each once, seq 1..$n");
}

#
# 1. Three loads of the same directories into a database without the
#    extension: the first creates it and adds everything, the others find
#    everything unchanged.
#
my $db = new_db();
my @r = run_queued($db, map { [ '-d', $db, 'load', @dirs ] } 1 .. 3);
is_deeply([ map { "$_->[0] $_->[1]" } @r ],
	[ "0 added 14, updated 0, unchanged 0\n", ("0 added 0, updated 0, unchanged 14\n") x 2 ],
	'three queued loads: the first adds, the others find all unchanged')
  or diag(map { $_->[2] } @r);
is(join('', map { $_->[2] } @r), '', 'no load complains (the extension is created once)');
is(psql($db, "SELECT count(*) FROM pg_extension WHERE extname = 'migrations'"), 1, 'one extension');
check_catalog($db, 14, 'three loads');
is(psql($db, "SELECT count(*) FROM migrate_version"), 0, 'nothing applied');

#
# 2. Overlapping and conflicting directories at once: examples + extra
#    (adds two), examples + alt (changes the unapplied ee0000000001), and a
#    revision whose label is taken (fails, loads nothing).
#
@r = run_queued($db,
	[ '-d', $db, 'load', @dirs, $extra ],
	[ '-d', $db, 'load', @dirs, $alt ],
	[ '-d', $db, 'load', $conflict ]);
is("$r[0][0] $r[0][1]", "0 added 2, updated 0, unchanged 14\n", 'first: the two new revisions added')
  or diag($r[0][2]);
is("$r[1][0] $r[1][1]", "0 added 0, updated 1, unchanged 14\n", 'second: the changed body updated')
  or diag($r[1][2]);
is($r[2][0], 1, 'third: the conflicting load fails');
like($r[2][2], qr/error: .*branch label "invenio_records".*\n(?s:.*)hint: Nothing was loaded\./,
	'with the graph error and nothing loaded') or diag($r[2][2]);
check_catalog($db, 16, 'overlapping loads');
is(psql($db, "SELECT upgrade || ' ' || source FROM migrate_revision WHERE revision = 'ee0000000001'"),
	'CREATE TABLE extra_one_alt (id int); alt/ee0000000001_one.sql', 'the last load of a body wins');
is(psql($db, "SELECT count(*) FROM migrate_revision WHERE revision = 'ff0000000001'"), 0,
	'the failed load left nothing');

#
# 3. Three loads at once without forcing an order: one adds, the others
#    find everything unchanged, whichever runs first.
#
{
	my $free = new_db();
	psql($free, 'CREATE EXTENSION migrations');
	my @procs = map { start_pgm('-d', $free, 'load', @dirs) } 1 .. 3;
	my @res = map { [ finish_pgm($_) ] } @procs;
	is_deeply([ sort map { "$_->[0] $_->[1]" } @res ],
		[ "0 added 0, updated 0, unchanged 14\n", "0 added 0, updated 0, unchanged 14\n",
		  "0 added 14, updated 0, unchanged 0\n" ],
		'three free-running loads: one adds 14, two find them unchanged')
	  or diag(map { $_->[2] } @res);
	check_catalog($free, 14, 'free-running loads');
}

#
# 4. A load and an upgrade at once.  The upgrade first: the load that
#    changes a revision it applied is refused, naming the file.  Then a load
#    first: the upgrade queued behind it runs the new revision too.
#
@r = run_queued($db,
	[ '-d', $db, 'upgrade', 'heads' ],
	[ '-d', $db, 'load', $changed ]);
is($r[0][0], 0, 'upgrade first: succeeds') or diag($r[0][2]);
is(nrows($r[0][1]), 16, 'and runs the 16 steps');
is($r[1][0], 1, 'the load changing an applied revision fails');
like($r[1][2], qr/error: \Q$changed\E\/ee0000000002_two\.sql:1: cannot change applied revision "ee0000000002"/,
	'naming the file') or diag($r[1][2]);
is(psql($db, "SELECT upgrade FROM migrate_revision WHERE revision = 'ee0000000002'"),
	'CREATE TABLE extra_two (id int);', 'the applied body is kept');

@r = run_queued($db,
	[ '-d', $db, 'load', $later ],
	[ '-d', $db, 'upgrade', 'heads' ]);
is("$r[0][0] $r[0][1]", "0 added 1, updated 0, unchanged 0\n", 'load first: the new revision added')
  or diag($r[0][2]);
is($r[1][0], 0, 'the upgrade behind it succeeds') or diag($r[1][2]);
like($r[1][1], qr/^ ee0000000003 \| upgrade /m, 'and runs the new revision');
is(nrows($r[1][1]), 1, 'only that one');
check_catalog($db, 17, 'load and upgrade');
is(psql($db, "SELECT count(*) || ' ' || count(DISTINCT revision) FROM migrate_log WHERE direction = 'upgrade'"),
	'17 17', 'every revision upgraded once');

#
# 5. Two upgrades of heads at once: the first runs every step, the second
#    none; no step runs twice (a second CREATE TABLE would fail anyway).
#
{
	my $udb = new_db();
	pgm_ok('-d', $udb, 'load', @dirs);
	@r = run_queued($udb, map { [ '-d', $udb, 'upgrade', 'heads' ] } 1 .. 2);
	is("$r[0][0] $r[1][0]", '0 0', 'both upgrades succeed') or diag($r[0][2], $r[1][2]);
	is(nrows($r[0][1]), 14, 'the first runs the 14 steps');
	is(nrows($r[1][1]), 0, 'the second finds nothing to do');
	is(() = $r[1][2] =~ /NOTICE:  upgrade/g, 0, 'and reports no step');
	is(psql($udb, "SELECT count(*) || ' ' || count(DISTINCT revision) FROM migrate_log"), '14 14',
		'14 log rows, one per revision');
	is(psql($udb, "SELECT string_agg(revision, ' ' ORDER BY revision) FROM migrate_version"),
		'0ac99b85ce2c 1db94dcc2387 74ee3dd23415', 'the three heads stored');

	# the same, free-running: together they run every step once
	my $vdb = new_db();
	pgm_ok('-d', $vdb, 'load', @dirs);
	my @procs = map { start_pgm('-d', $vdb, 'upgrade', 'heads') } 1 .. 2;
	my @res = map { [ finish_pgm($_) ] } @procs;
	is("$res[0][0] $res[1][0]", '0 0', 'two free-running upgrades succeed')
	  or diag($res[0][2], $res[1][2]);
	is(join(' ', sort { $a <=> $b } map { nrows($_->[1]) } @res), '0 14',
		'one runs the 14 steps, the other none');
	is(psql($vdb, "SELECT count(*) || ' ' || count(DISTINCT revision) FROM migrate_log"), '14 14',
		'each step logged once');
}

#
# 6. Callers whose transactions use SERIALIZABLE (default_transaction_isolation):
#    a caller queued behind another one took its snapshot before it got the
#    lock.  It either finds nothing left to do or fails with SQLSTATE 40001
#    and a HINT to retry; it never runs a step again.  A retry succeeds.
#
{
	my $zdb = new_db();
	pgm_ok('-d', $zdb, 'load', @dirs);
	my %ser = (PGOPTIONS => '-c default_transaction_isolation=serializable');
	local %ENV = (%ENV, %ser);
	@r = run_queued($zdb, map { [ '-v', '-d', $zdb, 'upgrade', 'heads' ] } 1 .. 2);
	is($r[0][0], 0, 'serializable: the first upgrade succeeds') or diag($r[0][2]);
	is(nrows($r[0][1]), 14, 'and runs the 14 steps');
	if ($r[1][0] == 0)
	{
		is(nrows($r[1][1]), 0, 'serializable: the second finds nothing to do');
	}
	else
	{
		like($r[1][2], qr/error: could not serialize access due to a concurrent migration
(?s:.*)hint: Retry in a new transaction/,
			'serializable: the second fails with a serialization failure and a HINT') or diag($r[1][2]);
		like($r[1][2], qr/sqlstate: 40001/, 'SQLSTATE 40001');
	}
	is(psql($zdb, "SELECT count(*) || ' ' || count(DISTINCT revision) FROM migrate_log"), '14 14',
		'serializable: each step ran once');
	my ($rc2, $out2, $err2) = pgm('-d', $zdb, 'upgrade', 'heads');
	is("$rc2 " . nrows($out2), '0 0', 'a retry succeeds and runs nothing') or diag($err2);

	# loads: the second load's snapshot is taken by its lock statement.
	# The first load's own registrations (several in one statement) are not
	# a concurrent change (test/isolation/specs/concurrent_snapshot.spec).
	my $ydb = new_db();
	psql($ydb, 'CREATE EXTENSION migrations');
	@r = run_queued($ydb, map { [ '-v', '-d', $ydb, 'load', @dirs ] } 1 .. 2);
	{
		is("$r[0][0] $r[0][1]", "0 added 14, updated 0, unchanged 0\n", 'serializable: the first load adds')
		  or diag($r[0][2]);
		if ($r[1][0] == 0)
		{
			is($r[1][1], "added 0, updated 0, unchanged 14\n", 'serializable: the second finds all unchanged');
		}
		else
		{
			like($r[1][2], qr/hint: Retry in a new transaction(?s:.*)hint: Nothing was loaded\./,
				'serializable: the second load fails with a serialization failure, loads nothing')
			  or diag($r[1][2]);
		}
		check_catalog($ydb, 14, 'serializable loads');
	}
	is(psql($ydb, "SELECT count(*) FROM migrate_revision") % 14, 0, 'serializable loads: all or nothing');
}

done_testing();
