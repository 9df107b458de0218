# pg_migrate behind a connection pooler in transaction mode (pgbouncer):
# nothing it sets may stay on a pooled server connection for the next
# client.  With one server connection in the pool, every client of the
# test shares it, so a leaked session setting would be seen by the next.
use strict;
use warnings;
use File::Path qw(make_path);
use IPC::Run qw(run start);
use Test::More;
use lib 'test/t';
use MgTest;

my $pgbouncer = (grep { -x $_ } '/usr/sbin/pgbouncer', '/usr/bin/pgbouncer')[0];
plan skip_all => 'pgbouncer is not installed (test/install-deps.sh installs it)'
  unless $pgbouncer;

my $db = new_db();
psql('postgres', "ALTER DATABASE $db SET default_transaction_isolation = 'serializable'");

# pgbouncer refuses to run as root: as root it runs as postgres, in a
# directory that user can write
my $dir = '/tmp/pg_migrate_bouncer_' . $$;
make_path($dir);
chmod(0777, $dir);
my $port = 6400 + $$ % 1000;
my $backend_host = $ENV{PGHOST} || '/var/run/postgresql';
my $backend_port = $ENV{PGPORT} || 5432;
my $user = $ENV{PGUSER} || getpwuid($>);
# the server may ask for a password (pg_virtualenv sets PGPASSWORD): the
# pooler logs in with it
my $password = $ENV{PGPASSWORD} // '';
write_file("$dir/userlist.txt", qq{"$user" "$password"\n});
write_file("$dir/pgbouncer.ini", <<"EOT");
[databases]
* = host=$backend_host port=$backend_port
[pgbouncer]
listen_addr =
listen_port = $port
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 1
max_client_conn = 50
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOT
chmod(0666, "$dir/pgbouncer.ini", "$dir/userlist.txt");
my @cmd = $> == 0 ? ('runuser', '-u', 'postgres', '--', $pgbouncer, '-d', "$dir/pgbouncer.ini")
  : ($pgbouncer, '-d', "$dir/pgbouncer.ini");
system(@cmd) == 0 or BAIL_OUT("pgbouncer did not start");
END
{
	if (-f "$dir/pgbouncer.pid")
	{
		open(my $fh, '<', "$dir/pgbouncer.pid");
		my $pid = <$fh>;
		kill('TERM', $pid) if $pid;
	}
}
for (1 .. 50) { last if -S "$dir/.s.PGSQL.$port"; select(undef, undef, undef, 0.1); }

my %via = (PGHOST => $dir, PGPORT => $port);
my $conninfo = "host=$dir port=$port dbname=$db";

# a plain client of the pool: the database's default isolation level
sub isolation_seen
{
	my ($out, $err) = ('', '');
	run([ 'psql', '-X', '-A', '-t', '-d', $conninfo, '-c', 'SHOW transaction_isolation' ],
		'<', \undef, '>', \$out, '2>', \$err) or die "psql via pgbouncer: $err";
	chomp $out;
	return $out;
}
is(isolation_seen(), 'serializable', 'before: a client of the pool sees the database default');

my @dirs = copy_examples();
pgm_ok(\%via, '-d', $db, 'load', @dirs);
is(isolation_seen(), 'serializable', 'after load: the next client sees the database default');
pgm_ok(\%via, '-d', $db, 'upgrade', 'heads');
is(isolation_seen(), 'serializable', 'after upgrade: the next client sees the database default');
pgm_ok(\%via, '-d', $db, 'downgrade', 'base');

# concurrent runs through the pool: each body runs once, nothing leaks
my @h;
for my $i (1 .. 4)
{
	my ($o, $e) = ('', '');
	local %ENV = (%ENV, %via);
	push @h, [ start([ $PG_MIGRATE, '-d', $db, $i % 2 ? 'upgrade' : 'load', $i % 2 ? 'heads' : @dirs ],
		'<', \undef, '>', \$o, '2>', \$e), \$e ];
}
for my $h (@h)
{
	$h->[0]->finish;
	is($h->[0]->result(0), 0, 'concurrent run through the pool succeeds') or diag(${ $h->[1] });
}
my $steps = psql($db,
	"SELECT count(*) FILTER (WHERE direction = 'upgrade') - count(*) FILTER (WHERE direction = 'downgrade')"
	  . " FROM migrate_log");
my $nrevs = psql($db, 'SELECT count(*) FROM migrate_revision');
is($steps, $nrevs, 'every revision is applied once after the concurrent runs');
for my $i (1 .. 8)
{
	is(isolation_seen(), 'serializable', "client $i after the runs sees the database default");
}
done_testing();
