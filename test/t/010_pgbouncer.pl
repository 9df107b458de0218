# pg_migrate behind a connection pooler: pgbouncer in transaction pooling
# mode hands one server connection to client after client, so a session
# setting that one client leaves behind applies to the next ones.  The
# database's default isolation level is SERIALIZABLE; pg_migrate runs its
# own transactions at READ COMMITTED and must do so with transaction-scoped
# settings only.  load, upgrade (two at once, waiting for each other on the
# extension's lock), downgrade, stamp and the listings run through the
# pooler; after each, several new clients of the pooler must get the
# server connections pg_migrate used (their backend pids show it) with the
# database's default isolation and no session setting left behind.
#
# pgbouncer refuses to run as root: as root the test runs it as the
# "postgres" user.  It is skipped only when pgbouncer is not installed
# (test/install-deps.sh installs it).
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;
use IPC::Run;
use File::Temp qw(tempdir);
use Time::HiRes qw(usleep);

my $LOCK_KEY = '120299474542964';    # MG_ADVISORY_LOCK_KEY_VALUE
my $TIMEOUT = 180;

my ($pgbouncer) = grep { -x $_ } map { "$_/pgbouncer" }
  (split(/:/, $ENV{PATH} // ''), '/usr/sbin', '/usr/bin');
plan skip_all => 'pgbouncer is not installed (test/install-deps.sh installs it)'
  unless $pgbouncer;

# As root, pgbouncer runs as postgres; its files must be that user's
my $as_root = $> == 0;
my @run_as = $as_root ? ('runuser', '-u', 'postgres', '--') : ();
my ($pg_uid, $pg_gid) = $as_root ? (getpwnam('postgres'))[ 2, 3 ] : ($>, $));
die "running as root, but there is no user \"postgres\" to run pgbouncer as\n"
  if $as_root && !defined $pg_uid;

my $dir = tempdir('pg_migrate_bouncer_XXXX', TMPDIR => 1, CLEANUP => 1);
chown($pg_uid, $pg_gid, $dir) or die "chown $dir: $!" if $as_root;
chmod(0755, $dir);

# The database: SERIALIZABLE by default, and a table the bodies write to
my $db = new_db();
psql($db, "ALTER DATABASE $db SET default_transaction_isolation = 'serializable'");
psql($db, "CREATE TABLE public.seen (rev text, pid int, iso text)");
is(psql($db, 'SHOW default_transaction_isolation'), 'serializable',
	'the database defaults to SERIALIZABLE');

# pgbouncer in transaction mode, on a Unix socket of its own; it logs in to
# the server as the test does (pg_virtualenv gives a password)
my $port = 20000 + $$ % 20000;
my $server_host = $ENV{PGHOST} // '/var/run/postgresql';
my $server = "host=$server_host dbname=$db"
  . ($ENV{PGPORT} ? " port=$ENV{PGPORT}" : '')
  . " user=" . ($ENV{PGUSER} // 'postgres')
  . ($ENV{PGPASSWORD} ? " password=$ENV{PGPASSWORD}" : '');
write_file("$dir/pgbouncer.ini", <<"EOF");
[databases]
pooled = $server pool_size=2
[pgbouncer]
pool_mode = transaction
listen_addr =
listen_port = $port
unix_socket_dir = $dir
auth_type = any
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
max_client_conn = 50
server_round_robin = 1
ignore_startup_parameters = extra_float_digits, options
EOF
chown($pg_uid, $pg_gid, "$dir/pgbouncer.ini") if $as_root;
my ($bo, $be) = ('', '');
my $bouncer = IPC::Run::start([ @run_as, $pgbouncer, "$dir/pgbouncer.ini" ],
	'<', \undef, '>', \$bo, '2>', \$be);
for (my $i = 0; !-S "$dir/.s.PGSQL.$port" && $i < 100 && $bouncer->pumpable; $i++)
{
	usleep(100_000);
	$bouncer->pump_nb;
}
ok(-S "$dir/.s.PGSQL.$port", 'pgbouncer listens')
  or BAIL_OUT("pgbouncer did not start: $be$bo");

END
{
	# stop the pgbouncer this test started (its pid file names it); the
	# test's exit status stays the tests' verdict
	local $?;
	if ($bouncer)
	{
		if (open(my $fh, '<', "$dir/pgbouncer.pid"))
		{
			my $pid = <$fh>;
			close($fh);
			kill('TERM', $1) if defined $pid && $pid =~ /^(\d+)/;
		}
		$bouncer->finish;
	}
}

my @via = ('-h', $dir, '-p', $port, '-d', 'pooled');

sub pooled_sql
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-X', '-q', '-A', '-t', '-F', '|', '-v', 'ON_ERROR_STOP=1',
			'-h', $dir, '-p', $port, '-d', 'pooled', '-c', $sql ],
		'<', \undef, '>', \$out, '2>', \$err)
	  or die "psql through pgbouncer failed: $err\n";
	chomp $out;
	return $out;
}

# Settings pgbouncer itself sets on a server connection for each client
my $tracked = "'client_encoding', 'DateStyle', 'TimeZone', 'IntervalStyle',"
  . " 'standard_conforming_strings', 'application_name'";
my %later_pids;

# New clients of the pooler after pg_migrate: each gets one of the pooled
# server connections and must see the database's defaults
sub later_clients
{
	my ($after) = @_;
	my (@bad, %pids);
	for my $i (1 .. 8)
	{
		my $row = pooled_sql("SELECT pg_backend_pid(), current_setting('transaction_isolation'),"
			  . " (SELECT coalesce(string_agg(name || '=' || setting, ', ' ORDER BY name), '')"
			  . "  FROM pg_settings WHERE source = 'session' AND name NOT IN ($tracked))");
		my ($pid, $iso, $leaked) = split /\|/, $row, 3;
		$pids{$pid} = $later_pids{$pid} = 1;
		push @bad, "client $i (server pid $pid): isolation $iso"
		  . ($leaked ne '' ? ", session settings $leaked" : '')
		  if $iso ne 'serializable' || $leaked ne '';
	}
	is(join("\n", @bad), '',
		"after $after: 8 of 8 later clients run at SERIALIZABLE with no leaked setting");
	note("after $after: later clients used server pids " . join(', ', sort keys %pids));
}

sub revfile
{
	my ($id, $down, $msg) = @_;
	return "-- migrate:revision $id\n-- migrate:down_revision $down\n"
	  . "-- migrate:message $msg\n-- migrate:upgrade\n"
	  . "INSERT INTO public.seen SELECT '$id', pg_catalog.pg_backend_pid(),"
	  . " pg_catalog.current_setting('transaction_isolation');\n"
	  . "-- migrate:downgrade\nINSERT INTO public.seen SELECT 'down $id', pg_catalog.pg_backend_pid(),"
  . " pg_catalog.current_setting('transaction_isolation');\n";
}

my $files = tmpdir() . '/bouncer';
write_file("$files/a1.sql", revfile('a1', 'none', 'base'));
write_file("$files/a2.sql", revfile('a2', 'a1', 'branch a'));
write_file("$files/b2.sql", revfile('b2', 'a1', 'branch b'));

later_clients('nothing');

my ($out) = pgm_ok(@via, 'load', $files);
is($out, "added 3, updated 0, unchanged 0\n", 'load through pgbouncer');
later_clients('load');

($out) = pgm_ok(@via, 'upgrade', 'a1');
like($out, qr/^ a1 /m, 'upgrade a1 through pgbouncer');
later_clients('upgrade');

# two upgrades at once, of the two branches: both wait for the extension's
# lock, held by a session outside the pooler, then run one after the other
{
	my ($in, $hold) = ("BEGIN;\nSELECT 'locked' FROM pg_advisory_xact_lock($LOCK_KEY);\n", '');
	my $holder = IPC::Run::start([ 'psql', '-X', '-q', '-A', '-t', '-d', $db ],
		'<', \$in, '>', \$hold, IPC::Run::timeout($TIMEOUT));
	$holder->pump until $hold =~ /locked/;
	my @runs;
	for my $target ('a2', 'b2')
	{
		my ($o, $e) = ('', '');
		my $h = IPC::Run::start([ $PG_MIGRATE, @via, 'upgrade', $target ],
			'<', \undef, '>', \$o, '2>', \$e, IPC::Run::timeout($TIMEOUT));
		push @runs, [ $h, \$o, \$e, $target ];
	}
	my $deadline = time() + $TIMEOUT;
	while (psql($db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") < 2)
	{
		die 'timed out waiting for the upgrades to wait for the lock' if time() > $deadline;
		usleep(50_000);
	}
	pass('two upgrades through pgbouncer wait for the lock at once');
	$in .= "COMMIT;\n\\q\n";
	$holder->finish;
	for my $r (@runs)
	{
		$r->[0]->finish;
		is($r->[0]->result(0), 0, "concurrent upgrade $r->[3] succeeds") or diag(${ $r->[2] });
		like(${ $r->[1] }, qr/^ $r->[3] /m, "concurrent upgrade $r->[3] ran its step");
	}
}
later_clients('two concurrent upgrades');

# two loads at once of a directory with a new revision
write_file("$files/a3.sql", revfile('a3', 'a2', 'more'));
{
	my @runs;
	for my $i (1, 2)
	{
		my ($o, $e) = ('', '');
		push @runs, [ IPC::Run::start([ $PG_MIGRATE, @via, 'load', $files ],
				'<', \undef, '>', \$o, '2>', \$e, IPC::Run::timeout($TIMEOUT)), \$o, \$e ];
	}
	my @outs;
	for my $r (@runs)
	{
		$r->[0]->finish;
		is($r->[0]->result(0), 0, 'concurrent load succeeds') or diag(${ $r->[2] });
		push @outs, ${ $r->[1] };
	}
	is(join('', sort @outs),
		"added 0, updated 0, unchanged 4\nadded 1, updated 0, unchanged 3\n",
		'concurrent loads: one adds a3, the other finds it');
}
later_clients('two concurrent loads');

pgm_ok(@via, 'upgrade');
pgm_ok(@via, 'downgrade', 'a2');
pgm_ok(@via, 'stamp', 'a3');
pgm_ok(@via, $_) for qw(heads current history);
later_clients('upgrade, downgrade, stamp, heads, current and history');

# the failure path: an upgrade that fails leaves nothing behind either
my ($rc, $o, $e) = pgm(@via, 'upgrade', 'nosuch');
is($rc, 1, 'a failing upgrade through pgbouncer fails');
later_clients('a failed upgrade');

# pg_migrate's own transactions ran at READ COMMITTED, on the server
# connections the later clients then got
my @iso = split /\n/, psql($db, 'SELECT DISTINCT iso FROM public.seen');
is("@iso", 'read committed', "the bodies ran at READ COMMITTED");
my %step_pids = map { $_ => 1 } split /\n/, psql($db, 'SELECT DISTINCT pid FROM public.seen');
my @shared = grep { $step_pids{$_} } keys %later_pids;
ok(@shared > 0, 'later clients got the server connections the steps ran on')
  or diag('step pids: ' . join(', ', keys %step_pids) . '; later: ' . join(', ', keys %later_pids));
note(scalar(@shared) . ' of ' . scalar(keys %step_pids) . ' step server connections reused by later clients');

done_testing();
