# pg_migrate upgrade, downgrade, stamp, heads, current and history against a
# real server: progress lines, result tables, exit codes, server errors with
# DETAIL, HINT and CONTEXT, and all-or-nothing failures.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;
use IPC::Run;

my ($rc, $out, $err);
my @dirs = copy_examples();
my $db = new_db();
my @d = ('-d', $db);

# without the extension
($rc, $out, $err) = pgm(@d, 'heads');
is($rc, 1, 'heads without the extension fails');
like($err, qr/error: extension "migrations" is not installed in database "\Q$db\E"\n.*hint: Run "pg_migrate load DIR\.\.\.", or CREATE EXTENSION migrations\./,
	'says how to install it');

pgm_ok(@d, 'load', @dirs);
($rc, $out, $err) = pgm(@d, 'current');
is("$rc $out", "0  revision | branch_labels | kind | message \n----------+---------------+------+---------\n(0 rows)\n\n",
	'current of an empty database: an empty table');

# upgrade heads: one NOTICE per step as it runs, then the steps as a table
($rc, $out, $err) = pgm(@d, 'upgrade');
is($rc, 0, 'upgrade succeeds') or diag($err);
my @steps = $err =~ /^NOTICE:  (upgrade .*)$/mg;
is(scalar(@steps), 14, '14 progress lines');
is($steps[0], 'upgrade  -> dbdbc1b19cf2, Create alembic branches.', 'first step: the base');
is($steps[10], 'upgrade d8020e465d8a, 68a1bc9fc402 -> c59020af2c8f, Merge branches.', 'the merge step');
like($out, qr/^ +revision +\| direction \| +message +\| +duration +$/m, 'result table header');
like($out, qr/^ c59020af2c8f \| upgrade   \| Merge branches\. +\| \d\d:\d\d:\d\d/m, 'merge row');
like($out, qr/^\(14 rows\)$/m, '14 rows');
is(psql($db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename ~ '^(accounts|records|rdm)_'"),
	13, 'the example tables exist');

($rc, $out, $err) = pgm(@d, 'upgrade');
is($rc, 0, 'upgrade at heads succeeds');
like($err, qr/\Apg_migrate: nothing to upgrade: database "\Q$db\E" is already at heads \(current: [0-9a-f, ]+\)\n\z/,
	'upgrade at heads: one line saying there is nothing to do, no progress lines');
is($out, '', 'no empty table');

# heads, current, history
($rc, $out) = pgm(@d, 'heads');
is($out, <<'T', 'heads table');
   revision   |    branch_labels    | kind |               message               
--------------+---------------------+------+-------------------------------------
 1db94dcc2387 | invenio_accounts    | head | Add username and profile to users.
 0ac99b85ce2c | invenio_rdm_records | head | Create legacy record mapping table.
 74ee3dd23415 | invenio_records     | head | Add is_deleted to records.
(3 rows)

T
($rc, $out) = pgm(@d, 'current');
like($out, qr/^ 74ee3dd23415 \| invenio_records +\| head \| Add is_deleted to records\./m, 'current lists the heads');
like($out, qr/^\(3 rows\)$/m, 'current: 3 revisions');
($rc, $out) = pgm(@d, 'history');
is($rc, 0, 'history succeeds');
my @hist = $out =~ /^ ([0-9a-f]{12}) \|/mg;
is(scalar(@hist), 14, 'history lists all 14 revisions');
is($hist[0], '1db94dcc2387', 'history: newest first');
is($hist[-1], 'dbdbc1b19cf2', 'history: base last');
like($out, qr/^ c59020af2c8f \| d8020e465d8a, 68a1bc9fc402 \| invenio_rdm_records \| +\| mergepoint +\| yes +\| Merge branches\./m,
	'history shows parents, labels, merge point, applied');
like($out, qr/^ d8020e465d8a \| d850ec42296c +\| invenio_rdm_records \| e7ae7b675731 \|/m, 'history shows depends_on');
($rc, $out) = pgm(@d, 'history', 'dbdbc1b19cf2:invenio_records@head');
is(join(' ', $out =~ /^ ([0-9a-f]{12}) \|/mg), '74ee3dd23415 526071ea8db9 702e2fba0db9 dbdbc1b19cf2',
	'history of a range');

# downgrade one module by one step, then stamp, then downgrade to base
($rc, $out, $err) = pgm(@d, 'downgrade', 'invenio_records@-1');
is($rc, 0, 'downgrade invenio_records@-1');
is($err, "NOTICE:  downgrade 74ee3dd23415 -> 526071ea8db9, Add is_deleted to records.\n", 'one progress line');
like($out, qr/^ 74ee3dd23415 \| downgrade \|/m, 'downgrade row');
is(psql($db, "SELECT string_agg(revision, ' ' ORDER BY revision) FROM migrate_version"),
	'0ac99b85ce2c 1db94dcc2387',
	'version table after the downgrade: 526071ea8db9 is implied by a dependency of 0ac99b85ce2c');

($rc, $out) = pgm(@d, 'stamp', 'invenio_records@head');
is($rc, 0, 'stamp');
like($out, qr/^ 74ee3dd23415$/m, 'stamp prints the version table');
is(psql($db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'records_metadata' AND column_name = 'is_deleted'"),
	0, 'stamp ran no body');
is(psql($db, "SELECT direction || ' ' || revision FROM migrate_log ORDER BY id DESC LIMIT 1"),
	'stamp 74ee3dd23415', 'stamp logged');
($rc, $out, $err) = pgm(@d, 'stamp', 'invenio_records@-1');
is($rc, 1, 'stamp refuses a relative target');
like($err, qr/error: stamp target "invenio_records\@-1" cannot be relative/, 'and says so');
($rc, $out) = pgm(@d, 'stamp', '--purge', 'invenio_accounts@head', 'invenio_rdm_records@head');
is($rc, 0, 'stamp --purge with several targets');
is(psql($db, "SELECT string_agg(revision, ' ' ORDER BY revision) FROM migrate_version"),
	'0ac99b85ce2c 1db94dcc2387', 'version table after stamp --purge');

($rc, $out, $err) = pgm(@d, 'downgrade', 'base');
is($rc, 0, 'downgrade base') or diag($err);
is(scalar(() = $err =~ /^NOTICE:  downgrade /mg), 13, '13 downgrade steps');
is(psql($db, "SELECT string_agg(tablename, ' ') FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'migrate\\_%'"), '', 'no example table left');

# errors of the server: message, detail, hint, exit 1
($rc, $out, $err) = pgm(@d, 'upgrade', 'head');
is($rc, 1, 'upgrade head with several heads fails');
like($err, qr/^pg_migrate: error: .*head.*\n/m, 'error reported');
like($err, qr/1db94dcc2387/, 'the heads are named');
is($out, '', 'no table on failure');
($rc, $out, $err) = pgm(@d, 'downgrade', 'nosuchrev');
is($rc, 1, 'unknown target fails');
like($err, qr/^pg_migrate: error: revision "nosuchrev" does not exist\npg_migrate: detail: /m, 'unknown target: message and detail');
($rc, $out, $err) = pgm(@d, 'history', 'a:b:c');
is($rc, 1, 'bad range fails');

# a failing step: the error, its context naming the revision, nothing applied
my ($rdm) = grep { /invenio_rdm_records$/ } @dirs;
write_file("$rdm/fff000000001_broken.sql", "-- migrate:revision fff000000001\n"
	  . "-- migrate:down_revision 0ac99b85ce2c\n-- migrate:message Break things.\n"
	  . "-- migrate:upgrade\nCREATE TABLE ok_before_failure (id int);\nSELECT 1/0;\n");
pgm_ok(@d, 'load', @dirs);
my $state = catalog_state($db);
($rc, $out, $err) = pgm(@d, 'upgrade');
is($rc, 1, 'failing step: exit 1');
like($err, qr/^NOTICE:  upgrade 0ac99b85ce2c -> fff000000001, Break things\.$/m, 'progress up to the failing step');
like($err, qr/^pg_migrate: error: division by zero\n(?:.*\n)*pg_migrate: context: upgrade of revision "fff000000001" \(Break things\.\)$/m,
	'server error with the revision in its context') or diag($err);
is($out, '', 'no result table');
# the failed attempt is logged after the rollback (issue 15); without that
# row, nothing changed
is(psql($db, "SELECT concat_ws(' ', direction, revision, sqlstate) FROM migrate_log WHERE direction LIKE 'failed%'"),
	'failed upgrade fff000000001 22012', 'the failed attempt is logged');
psql($db, "DELETE FROM migrate_log WHERE direction LIKE 'failed%'");
is(catalog_state($db), $state, 'nothing applied: catalog and tables unchanged');
($rc, $out, $err) = pgm(@d, '-v', 'upgrade');
like($err, qr/^pg_migrate: sqlstate: 22012$/m, '-v shows the SQLSTATE');

# downgrade of a revision without a downgrade section
unlink("$rdm/fff000000001_broken.sql");
psql($db, "DELETE FROM migrate_revision WHERE revision = 'fff000000001'");
write_file("$rdm/fff000000002_oneway.sql", "-- migrate:revision fff000000002\n"
	  . "-- migrate:down_revision 0ac99b85ce2c\n-- migrate:upgrade\nCREATE TABLE oneway (id int);\n");
pgm_ok(@d, 'load', @dirs);
pgm_ok(@d, 'upgrade');
($rc, $out, $err) = pgm(@d, 'downgrade', 'invenio_rdm_records@-1');
is($rc, 1, 'downgrade without a downgrade body fails');
like($err, qr/error: revision "fff000000002" has no downgrade/, 'and says so');

# bodies run with the caller's search_path
my $sp = new_db();
psql($sp, "CREATE SCHEMA app");
pgm_ok('-d', $sp, 'load', @dirs);
($rc, $out, $err) = pgm({ PGOPTIONS => '-c search_path=app' }, '-d', $sp, 'upgrade', 'invenio_records@head');
is($rc, 0, 'upgrade with a search_path') or diag($err);
is(psql($sp, "SELECT string_agg(schemaname || '.' || tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE tablename LIKE 'records%'"),
	'app.records_metadata app.records_metadata_version', 'tables created in the caller\'s schema');

# relative targets are operands, not options: downgrade -1, upgrade +1
{
	my $rdb = new_db();
	my $rdir = tmpdir() . "/linear";
	for my $i (1 .. 3)
	{
		write_file("$rdir/l$i.sql", "-- migrate:revision l$i\n-- migrate:down_revision "
			  . ($i == 1 ? 'none' : 'l' . ($i - 1)) . "\n-- migrate:upgrade\n-- migrate:downgrade\n");
	}
	pgm_ok('-d', $rdb, 'load', $rdir);
	pgm_ok('-d', $rdb, 'upgrade', '+2');
	($rc, $out, $err) = pgm('-d', $rdb, 'downgrade', '-1');
	is($rc, 0, 'downgrade -1') or diag($err);
	is($err, "NOTICE:  downgrade l2 -> l1, \n", 'one step down');
	($rc, $out, $err) = pgm('downgrade', '-1', '-d', $rdb, '-v');
	is($rc, 0, 'downgrade -1 with options after it') or diag($err);
	is(psql($rdb, "SELECT count(*) FROM migrate_version"), 0, 'at base');
	pgm_ok('-d', $rdb, 'upgrade');
	($rc, $out, $err) = pgm('-d', $rdb, 'history', '-1:');
	is($rc, 0, 'history -1: is a range, not an option') or diag($err);
	is(join(" ", $out =~ /^ (l\d) +\|/mg), "l3 l2", 'from one below the current head');
}

# Ctrl-C before the connection: the program ends, nothing is loaded.  It
# comes while the files are read: 200 files of 500 kB, and the signal once
# the program has read a fifth of them (its read count in /proc shows it).
# A FIFO would no longer do: it is refused, not waited on.
SKIP:
{
	skip 'needs /proc/PID/io', 3 unless -r "/proc/$$/io";
	my $fdb = new_db();
	my $fdir = tmpdir() . "/slowread";
	my $body = ("SELECT 1; -- " . ('x' x 87) . "\n") x 5000;
	for my $i (1 .. 200)
	{
		my $id = sprintf('s%03d', $i);
		my $down = $i == 1 ? 'none' : sprintf('s%03d', $i - 1);
		write_file("$fdir/$id.sql", "-- migrate:revision $id\n-- migrate:down_revision $down\n"
			  . "-- migrate:upgrade\n$body");
	}
	my ($fout, $ferr) = ('', '');
	my $h = IPC::Run::start([ $PG_MIGRATE, '-d', $fdb, 'load', $fdir ], '<', \undef, '>', \$fout, '2>', \$ferr);
	my $pid = $h->{KIDS}[0]{PID};
	my $read = 0;
	while ($h->pumpable && $read < 20_000_000)
	{
		if (open(my $io, '<', "/proc/$pid/io"))
		{
			local $/;
			($read) = (<$io> // '') =~ /^rchar: (\d+)/m;
			$read //= 0;
		}
		select(undef, undef, undef, 0.005);
	}
	ok($read >= 20_000_000, 'Ctrl-C while reading files: sent while the files were read')
	  or diag("read $read bytes");
	$h->signal('INT');
	$h->finish;
	isnt($h->full_result, 0, 'Ctrl-C while reading files: failure');
	like(catalog_state($fdb), qr/extension: absent/, 'nothing loaded');
}

# Ctrl-C during a step cancels the command: nothing of the run remains
{
	my $cdb = new_db();
	my $cdir = tmpdir() . "/cancel";
	write_file("$cdir/a.sql", "-- migrate:revision a1\n-- migrate:down_revision none\n"
		  . "-- migrate:upgrade\nCREATE TABLE before_sleep ();\n");
	write_file("$cdir/b.sql", "-- migrate:revision a2\n-- migrate:down_revision a1\n"
		  . "-- migrate:message Slow.\n-- migrate:upgrade\nSELECT pg_sleep(60);\n");
	pgm_ok('-d', $cdb, 'load', $cdir);
	my ($cout, $cerr) = ('', '');
	my $h = IPC::Run::start([ $PG_MIGRATE, '-d', $cdb, 'upgrade' ], '<', \undef, '>', \$cout, '2>', \$cerr);
	# wait until the slow step runs
	for (1 .. 100)
	{
		last if psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE datname = '$cdb' AND query LIKE '%migrate_upgrade%' AND wait_event = 'PgSleep'") eq '1';
		select(undef, undef, undef, 0.1);
	}
	$h->signal('INT');
	$h->finish;
	is($h->result, 1, 'Ctrl-C: exit 1');
	like($cerr, qr/^pg_migrate: error: canceling statement due to user request\n(?:.*\n)*pg_migrate: context: upgrade of revision "a2" \(Slow\.\)$/m,
		'Ctrl-C: the server cancelled the step') or diag($cerr);
	is(psql($cdb, "SELECT count(*) FROM migrate_version") . ' ' . psql($cdb, "SELECT count(*) FROM migrate_log")
		  . ' ' . psql($cdb, "SELECT to_regclass('before_sleep') IS NULL"), '0 1 t',
		'Ctrl-C: no version row, no table of the earlier step, one log row');
	is(psql($cdb, "SELECT concat_ws(' ', direction, revision, sqlstate) FROM migrate_log"),
		'failed upgrade a2 57014', 'Ctrl-C: the log row is the failed attempt (issue 15)');
}

done_testing();
