# AlembicTest.pm: helpers for the tests on the Alembic projects of
# test/alembic_projects/ (written for these tests): running real Alembic on
# a project through driver.py, and the schema of a database as pg_dump
# prints it, for comparing what Alembic and pg_migrate built.
#
# What this file owns: where the projects are, how Alembic is run
# (/usr/bin/python3, overridable with MG_TEST_PYTHON) and how a schema is
# dumped for comparison.  It asserts nothing.
package AlembicTest;

use strict;
use warnings;
use Exporter 'import';
use File::Basename qw(dirname);
use IPC::Run qw(run);

our @EXPORT = qw(alembic_project alembic_run schema_dump table_rows $PYTHON);

our $PYTHON = $ENV{MG_TEST_PYTHON} || '/usr/bin/python3';
my $projects = dirname(__FILE__) . '/../alembic_projects';

# The directory of test project NAME (shop, extras)
sub alembic_project
{
	my ($name) = @_;
	return "$projects/$name";
}

# Run Alembic's command line (e.g. "upgrade", "heads") on project NAME
# against database DB.  Returns (exit code, the steps run as
# "upgrade REV"/"downgrade REV" in order, stdout, stderr).
sub alembic_run
{
	my ($name, $db, @cmd) = @_;
	my ($out, $err) = ('', '');
	run([ $PYTHON, "$projects/driver.py", alembic_project($name), $db, @cmd ],
		'<', \undef, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	my @steps = map { /^step (\S+ \S+)$/ ? ($1) : () } split /\n/, $out;
	return ($rc, \@steps, $out, $err);
}

# pg_dump --schema-only of the user schema public, Alembic's version table
# left out (pg_migrate's tables belong to its extension, which pg_dump
# does not dump with -n), without pg_dump's per-run \restrict key
sub schema_dump
{
	my ($db) = @_;
	my ($dump, $err) = ('', '');
	run([ 'pg_dump', '--schema-only', '-n', 'public', '-T', 'public.alembic_version', '-d', $db ],
		'<', \undef, '>', \$dump, '2>', \$err)
	  or die "pg_dump failed: $err";
	$dump =~ s/^\\(?:un)?restrict \S+$//mg;
	return $dump;
}

# The rows of a table, as text, sorted
sub table_rows
{
	my ($db, $table) = @_;
	my ($out, $err) = ('', '');
	run([ 'psql', '-X', '-q', '-A', '-t', '-d', $db, '-c',
		"SELECT t::text FROM $table t ORDER BY 1" ],
		'<', \undef, '>', \$out, '2>', \$err)
	  or die "psql failed: $err";
	return $out;
}

1;
