# The drop guard and the backups README documents (issue 10, item 6):
# DROP EXTENSION on a database with history is refused and changes nothing,
# so loading the same files again runs nothing; the history backed up with
# pg_dump --data-only of the extension's tables restores into a new
# installation; pg_restore --clean is refused without migrations.allow_drop
# and goes through with it (PGOPTIONS).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;
use IPC::Run;

# Run a program; returns (exit code, stdout, stderr).  An optional hash ref
# first sets environment variables for the run.
sub cmd
{
	my $env = ref $_[0] eq 'HASH' ? shift : {};
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %$env);
	IPC::Run::run([@_], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my @dirs = copy_examples();
my $db = new_db();
pgm_ok('-d', $db, 'load', @dirs);
my ($rc, $out, $err) = pgm('-d', $db, 'upgrade');
is($rc, 0, 'upgrade of the examples') or diag($err);
my $steps = () = $err =~ /^NOTICE:  upgrade /mg;
is($steps, 14, 'the 14 revisions of the examples ran');
psql($db, "CREATE TABLE public.keep_me (v text); INSERT INTO public.keep_me VALUES ('user data')");
my $state = catalog_state($db);
my $seq = psql($db, 'SELECT last_value FROM migrate_log_id_seq');

# Refused, and nothing changes: loading the same files again runs nothing
($rc, $out, $err) = cmd('psql', '-X', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose',
	'-d', $db, '-c', 'DROP EXTENSION migrations');
isnt($rc, 0, 'DROP EXTENSION is refused');
like($err, qr/^ERROR:  2BP01: cannot drop extension "migrations" because it holds migration history$/m,
	'refused: SQLSTATE and message');
like($err, qr/^DETAIL:  Rows in the extension's tables: migrate_revision 14, migrate_version \d+, migrate_log $steps\. /m,
	'refused: the detail counts the rows');
like($err, qr/^HINT:  .*migrations\.allow_drop = on/m, 'refused: the hint names the setting');
is(catalog_state($db), $state, 'refused: catalog unchanged');
pgm_ok('-d', $db, 'load', @dirs);
($rc, $out, $err) = pgm('-d', $db, 'upgrade');
is($rc, 0, 'upgrade after the refused drop');
unlike($err, qr/^NOTICE:  upgrade /m, 'no step runs again');

# The backup of the history README gives: the extension's tables, data only
my $tmp = tmpdir();
($rc, $out, $err) = cmd('pg_dump', '--data-only', '-t', 'public.migrate_revision', '-t', 'public.migrate_version',
	'-t', 'public.migrate_log', '-t', 'public.migrate_log_id_seq', '-d', $db, '-f', "$tmp/history.sql");
is($rc, 0, 'pg_dump --data-only of the extension tables') or diag($err);
my $copy = new_db();
psql($copy, 'CREATE EXTENSION migrations');
($rc, $out, $err) = cmd('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $copy, '-f', "$tmp/history.sql");
is($rc, 0, 'the history restores into a new installation') or diag($err);
# catalog_state without the user tables (not part of this backup)
my $history = sub { catalog_state($_[0]) =~ s/^tables: .*\n//mr };
is($history->($copy), $history->($db), 'same revisions, version rows and log');
is(psql($copy, 'SELECT last_value FROM migrate_log_id_seq'), $seq, 'the log sequence too');
($rc, $out, $err) = cmd('psql', '-X', '-At', '-d', $copy, '-c', "SELECT count(*) FROM migrate_upgrade('heads')");
is($out, "0\n", 'nothing to upgrade in the restored history');

# pg_restore --clean drops the extension: refused without the setting
($rc, $out, $err) = cmd('pg_dump', '-Fc', '-d', $db, '-f', "$tmp/db.dump");
is($rc, 0, 'pg_dump -Fc') or diag($err);
psql($db, "INSERT INTO public.keep_me VALUES ('after the dump')");
$state = catalog_state($db);
($rc, $out, $err) = cmd('pg_restore', '--clean', '--if-exists', '--single-transaction', '--exit-on-error',
	'-d', $db, "$tmp/db.dump");
isnt($rc, 0, 'pg_restore --clean without the setting fails');
like($err, qr/cannot drop extension "migrations" because it holds migration history/,
	'pg_restore --clean: the guard names the reason');
is(catalog_state($db), $state, 'pg_restore --clean --single-transaction: nothing changed');
is(psql($db, 'SELECT count(*) FROM public.keep_me'), 2, 'the user table too');

# with the setting given as PGOPTIONS (a superuser connection), it goes
($rc, $out, $err) = cmd({ PGOPTIONS => '-c migrations.allow_drop=on' },
	'pg_restore', '--clean', '--if-exists', '--single-transaction', '--exit-on-error', '-d', $db, "$tmp/db.dump");
is($rc, 0, 'pg_restore --clean with migrations.allow_drop = on') or diag($err);
is(psql($db, 'SELECT count(*) FROM public.keep_me'), 1, 'the dump is restored');
is(psql($db, 'SELECT count(*) FROM migrate_log'), $steps, 'with the log of the dump');
is(psql($db, "SELECT evtenabled FROM pg_event_trigger WHERE evtname = 'migrate_drop_guard'"), 'A',
	'and the guard is back');
($rc, $out, $err) = cmd('psql', '-X', '-At', '-d', $db, '-c', "SELECT count(*) FROM migrate_upgrade('heads')");
is($out, "0\n", 'nothing to upgrade after the restore');

psql('postgres', "DROP DATABASE $_") for ($db, $copy);
done_testing();
