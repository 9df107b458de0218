# MgTest.pm: helpers for the end-to-end tests of pg_migrate.
#
# The tests run against a real server: the one the libpq environment points
# at (test/run-tests.sh runs them inside Debian's pg_virtualenv).  Each test
# file works in databases of its own, created with fresh names, and in a
# temporary directory.  The program under test is $PG_MIGRATE, by default
# "pg_migrate" found on PATH (make install puts it there).
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
  examples_dir copy_examples $PG_MIGRATE);

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
