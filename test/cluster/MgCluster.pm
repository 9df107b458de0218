# MgCluster.pm: helpers for the cluster tests of the migrations extension
# (test/cluster/*.pl, run by test/cluster/run.sh).
#
# Sessions that must run concurrently (a migration that is killed, a
# reader queued behind it) are psql or pg_migrate processes started with
# IPC::Run; their state is observed in pg_stat_activity and pg_locks, never
# by sleeping.
package MgCluster;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use Time::HiRes qw(usleep);
use Test::More;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(mg_db mg_register start_psql start_pgm finish_proc
  psql_run psql_val clean_err mg_state wait_until fast_wait_until
  $PG_MIGRATE);

our $PG_MIGRATE = $ENV{PG_MIGRATE} || 'pg_migrate';
note("pg_migrate under test: $PG_MIGRATE");

# A new database with the extension; returns its name
sub mg_db
{
	my ($node, $db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION migrations');
	return $db;
}

# Register revisions: a list of [id, parent or undef, upgrade, downgrade,
# message]
sub mg_register
{
	my ($node, $db, @revs) = @_;
	my $sql = '';
	for my $r (@revs)
	{
		my ($id, $parent, $up, $down, $msg) = @$r;
		my $parents = defined $parent ? "'{$parent}'" : "'{}'";
		my $downsql = defined $down ? "\$down\$$down\$down\$" : 'NULL';
		$sql .= "SELECT migrate_register('$id', $parents, \$up\$$up\$up\$, "
		  . "$downsql, '$msg');\n";
	}
	$node->safe_psql($db, $sql . 'SELECT migrate_check();');
	return;
}

# The psql command for a session: verbose errors (SQLSTATE), one -c per
# statement, the given application_name
sub psql_cmd
{
	my ($node, $db, $app, @sql) = @_;
	return [
		'psql', '-X', '-q', '-A', '-t',
		'-v', 'ON_ERROR_STOP=1',
		'-v', 'VERBOSITY=verbose',
		'-d', $node->connstr($db) . " application_name=$app",
		map { ('-c', $_) } @sql
	];
}

# Start psql running the statements in the background; returns a handle
# for finish_proc
sub start_psql
{
	my ($node, $db, $app, @sql) = @_;
	my $p = { out => '', err => '', started => time };
	$p->{h} = IPC::Run::start(psql_cmd($node, $db, $app, @sql),
		'<', \undef, '>', \$p->{out}, '2>', \$p->{err},
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	return $p;
}

# Start pg_migrate with arguments against a node and database, with extra
# environment variables; returns a handle for finish_proc
sub start_pgm
{
	my ($node, $db, $env, @args) = @_;
	my $p = { out => '', err => '', started => time };
	local %ENV = (%ENV, PGHOST => $node->host, PGPORT => $node->port,
		PGDATABASE => $db, %$env);
	# PostgreSQL::Test::Utils sets PGAPPNAME to the test's name; without it
	# pg_migrate names itself
	delete $ENV{PGAPPNAME} unless exists $env->{PGAPPNAME};
	$p->{h} = IPC::Run::start([ $PG_MIGRATE, @args ],
		'<', \undef, '>', \$p->{out}, '2>', \$p->{err},
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	return $p;
}

# Wait for a started process; returns (exit code, stdout, stderr).  A
# death by a signal is 128 + the signal; a process still running after
# PostgreSQL::Test::Utils' timeout (PG_TEST_TIMEOUT_DEFAULT) is killed and
# gives -1.
sub finish_proc
{
	my ($p) = @_;
	if (!eval { $p->{h}->finish; 1 })
	{
		my $why = $@;
		$p->{h}->kill_kill;
		diag("process timed out: $why");
		return (-1, $p->{out}, $p->{err} . "(timed out)\n");
	}
	my $st = $p->{h}->full_result(0);
	my $rc = ($st & 127) ? 128 + ($st & 127) : $st >> 8;
	return ($rc, $p->{out}, $p->{err});
}

# Run statements in one psql; returns (exit code, stdout, stderr)
sub psql_run
{
	my ($node, $db, @sql) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(psql_cmd($node, $db, 'mg_test', @sql),
		'<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# One value (or rows joined by newlines) of a query
sub psql_val
{
	my ($node, $db, $sql) = @_;
	return $node->safe_psql($db, $sql);
}

# psql's stderr without LOCATION lines (source file and line of the server)
sub clean_err
{
	my ($err) = @_;
	$err =~ s/^LOCATION:  .*\n//mg;
	return $err;
}

# Everything a migration run changes, as text: the version table, the log
# (without ids and times, and without the rows of failed attempts, which the
# tests that expect them check), and the tables of schema public but the
# extension's
sub mg_state
{
	my ($node, $db) = @_;
	return psql_val($node, $db, <<'EOQ') . "\n";
SELECT 'version: '
    || (SELECT coalesce(string_agg(revision, ',' ORDER BY revision), '')
          FROM migrate_version)
    || E'\nlog:\n'
    || (SELECT coalesce(string_agg(direction || ' ' || coalesce(revision, '')
                                   || ' ' || from_revisions::text || ' -> '
                                   || to_revisions::text || E'\n', '' ORDER BY id), '')
          FROM migrate_log WHERE direction NOT LIKE 'failed %')
    || 'tables: '
    || (SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '')
          FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
           AND relname !~ '^migrate_')
EOQ
}

# poll_query_until as a test
sub wait_until
{
	my ($node, $db, $sql, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	ok($node->poll_query_until($db, $sql), $name)
	  or BAIL_OUT("timed out waiting: $name");
	return;
}

# Poll a query every 5 ms through a background psql session until it
# returns 't'; for waits that must be seen within a short window
sub fast_wait_until
{
	my ($session, $sql, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	while (time < $deadline)
	{
		my $v = $session->query_safe($sql);
		if ($v eq 't')
		{
			pass($name);
			return;
		}
		usleep(5_000);
	}
	fail($name);
	BAIL_OUT("timed out waiting: $name");
}

1;
