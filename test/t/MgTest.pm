# MgTest.pm: helpers for the end-to-end tests of pg_migrate.
#
# The tests run against a real server: the one the libpq environment points
# at (test/run-tests.sh runs them inside Debian's pg_virtualenv).  Each test
# file works in databases of its own, created with fresh names, and in a
# temporary directory.  The program under test is $PG_MIGRATE, by default
# "pg_migrate" found on PATH (make install puts it there).
#
# What this file owns: running pg_migrate and psql for the tests, fresh
# databases and directories, the catalog snapshot that shows "nothing
# changed", running pg_migrate without root's rights (unprivileged_*), and
# the exact case-count guard of the case tables (case_count).  It asserts
# nothing about pg_migrate's behaviour itself: the test files do.
package MgTest;

use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use File::Basename qw(dirname);
use IPC::Run qw(run);
use Test::More;

our @EXPORT = qw(pgm pgm_ok psql new_db catalog_state write_file tmpdir
  examples_dir copy_examples case_count unprivileged_tmpdir chown_unprivileged pgm_unprivileged
  $PG_MIGRATE $UNPRIVILEGED_USER);

our $PG_MIGRATE = $ENV{PG_MIGRATE} || 'pg_migrate';

my $tmp = tempdir('pg_migrate_test_XXXX', TMPDIR => 1, CLEANUP => 1);
sub tmpdir { return $tmp; }

my $top = dirname(__FILE__) . '/../..';
sub examples_dir { return "$top/examples"; }

# Run pg_migrate with arguments; returns (exit code, stdout, stderr).
# An optional hash ref first sets environment variables for the run.
sub pgm
{
	my $env = ref $_[0] eq 'HASH' ? shift : {};
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %$env);
	run([ $PG_MIGRATE, @_ ], '<', \undef, '>', \$out, '2>', \$err);
	# a death by signal (a crash) is never a success
	my $rc = ($? & 127) ? 128 + ($? & 127) : $? >> 8;
	return ($rc, $out, $err);
}

# Running pg_migrate without root's rights.  Tests of permission errors
# (a file without read permission) mean nothing as root, who reads every
# file; CI runs the tests as root.  As root, pgm_unprivileged runs
# pg_migrate as $UNPRIVILEGED_USER (default "postgres", the user the server
# runs as; MG_TEST_UNPRIVILEGED_USER chooses another) through runuser, with
# the same environment; otherwise it runs it as the current user, who is
# not root.  A root run without such a user is a failure of the test run,
# not a skip: the tests must run where CI runs them.
our $UNPRIVILEGED_USER = $ENV{MG_TEST_UNPRIVILEGED_USER} || 'postgres';
my $as_root = $> == 0;
my ($unpriv_uid, $unpriv_gid);
my $unpriv_dir;
my $unpriv_program;

sub _unprivileged_user
{
	return unless $as_root;
	return if defined $unpriv_uid;
	($unpriv_uid, $unpriv_gid) = (getpwnam($UNPRIVILEGED_USER))[ 2, 3 ];
	die "running as root, but there is no user \"$UNPRIVILEGED_USER\" to run pg_migrate as"
	  . " (set MG_TEST_UNPRIVILEGED_USER)\n"
	  unless defined $unpriv_uid;
	die "MG_TEST_UNPRIVILEGED_USER names root\n" if $unpriv_uid == 0;
	return;
}

# A directory that the user pgm_unprivileged runs as owns (the test's own
# temporary directory is root's, mode 0700, when the tests run as root);
# files written in it are given to that user by chown_unprivileged.
sub unprivileged_tmpdir
{
	return $unpriv_dir if defined $unpriv_dir;
	_unprivileged_user();
	$unpriv_dir = tempdir('pg_migrate_unpriv_XXXX', TMPDIR => 1, CLEANUP => 1);
	if ($as_root)
	{
		chown($unpriv_uid, $unpriv_gid, $unpriv_dir) or die "chown $unpriv_dir: $!";
	}
	return $unpriv_dir;
}

# Give a file or directory of unprivileged_tmpdir() to that user (as root;
# a no-op otherwise)
sub chown_unprivileged
{
	return unless $as_root;
	_unprivileged_user();
	chown($unpriv_uid, $unpriv_gid, @_) == @_ or die "chown @_: $!";
	return;
}

# Run pg_migrate without root's rights; returns what pgm returns.  As
# root, the program is run through "runuser -u USER --", from a copy in
# unprivileged_tmpdir() when USER cannot execute $PG_MIGRATE where it is
# (a checkout under /root).
sub pgm_unprivileged
{
	return pgm(@_) unless $as_root;
	my $env = ref $_[0] eq 'HASH' ? shift : {};
	_unprivileged_user();
	if (!defined $unpriv_program)
	{
		my $prog = $PG_MIGRATE;
		if ($prog !~ m{/})
		{
			($prog) = grep { -x $_ } map { "$_/$PG_MIGRATE" } split(/:/, $ENV{PATH} // '');
			die "$PG_MIGRATE not found on PATH\n" unless defined $prog;
		}
		my ($o, $e) = ('', '');
		if (run([ 'runuser', '-u', $UNPRIVILEGED_USER, '--', 'test', '-x', $prog ], '<', \undef,
				'>', \$o, '2>', \$e))
		{
			$unpriv_program = $prog;
		}
		else
		{
			$unpriv_program = unprivileged_tmpdir() . '/pg_migrate';
			run([ 'cp', $prog, $unpriv_program ]) or die "could not copy $prog\n";
			chmod(0755, $unpriv_program);
		}
	}
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %$env);
	run([ 'runuser', '-u', $UNPRIVILEGED_USER, '--', $unpriv_program, @_ ],
		'<', \undef, '>', \$out, '2>', \$err);
	my $rc = ($? & 127) ? 128 + ($? & 127) : $? >> 8;
	return ($rc, $out, $err);
}

# The guard of a case table: the table holds exactly $n cases.  Adding or
# removing a case must change $n in the same commit, so a case lost by an
# edit (a bad merge, a deleted line) fails the test instead of passing
# quietly.
sub case_count
{
	my ($cases, $n, $what) = @_;
	return is(scalar(@$cases), $n, "$what: exactly $n cases");
}

# Run pg_migrate and require exit code 0; returns stdout
sub pgm_ok
{
	my ($rc, $out, $err) = pgm(@_);
	is($rc, 0, "pg_migrate @_ succeeds") or diag($err);
	return wantarray ? ($out, $err) : $out;
}

# Run SQL in a database with psql; returns stdout (unaligned, tuples only)
sub psql
{
	my ($db, $sql) = @_;
	my ($out, $err) = ('', '');
	run([ 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $db, '-c', $sql ],
		'<', \undef, '>', \$out, '2>', \$err)
	  or die "psql failed: $err\n$sql\n";
	chomp $out;
	return $out;
}

# A new, empty database; returns its name
my $dbcount = 0;
sub new_db
{
	my $name = sprintf('mgtest_%d_%d', $$, ++$dbcount);
	psql('postgres', "CREATE DATABASE $name");
	return $name;
}

# Everything pg_migrate may change in a database, as text: whether the
# extension exists, the three catalog tables (every column), and the user
# tables.  Two equal results mean nothing was changed.
sub catalog_state
{
	my ($db) = @_;
	my $schema = psql($db,
		"SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
		  . " WHERE e.extname = 'migrations'");
	my $state = "extension: " . ($schema eq '' ? 'absent' : $schema) . "\n";
	$state .= "tables: "
	  . psql($db,
		"SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c"
		  . " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'"
		  . " AND n.nspname = 'public'")
	  . "\n";
	return $state if $schema eq '';
	for my $t (qw(migrate_revision migrate_version migrate_log))
	{
		$state .= "$t:\n"
		  . psql($db, "SELECT t::text FROM $schema.$t t ORDER BY t::text") . "\n";
	}
	return $state;
}

sub write_file
{
	my ($path, $content) = @_;
	make_path(dirname($path));
	open(my $fh, '>:raw', $path) or die "could not write $path: $!";
	print $fh $content;
	close($fh);
}

# A copy of examples/ in a new directory; returns the list of module dirs
my $copies = 0;
sub copy_examples
{
	my $dest = "$tmp/examples" . ++$copies;
	my @dirs;
	for my $dir (sort glob(examples_dir() . "/*/"))
	{
		$dir =~ s{/$}{};
		my ($name) = $dir =~ m{([^/]+)$};
		make_path("$dest/$name");
		for my $f (glob("$dir/*.sql"))
		{
			my ($base) = $f =~ m{([^/]+)$};
			open(my $in, '<:raw', $f) or die;
			local $/;
			write_file("$dest/$name/$base", <$in>);
		}
		push @dirs, "$dest/$name";
	}
	return @dirs;
}

1;
