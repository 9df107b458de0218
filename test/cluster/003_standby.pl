# A hot standby (streaming replication) shows what upgrades and downgrades
# on the primary did: tables, version rows, log rows, and what
# migrate_current(), migrate_heads() and migrate_status read from them.
# Changing migration state on the standby is refused with SQLSTATE 25006
# and a HINT to use the primary, through SQL and through pg_migrate;
# reading it works.  Once promoted, the standby migrates.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MgCluster;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;

my $db = mg_db($primary, 'app');
mg_register(
	$primary, $db,
	[
		's1', undef,
		'CREATE TABLE item (id int PRIMARY KEY); INSERT INTO item SELECT generate_series(1, 10);',
		'DROP TABLE item;', 'Create item.'
	],
	[
		's2', 's1', 'ALTER TABLE item ADD COLUMN name text;',
		'ALTER TABLE item DROP COLUMN name;', 'Add item.name.'
	],
	[ 's3', 's2', 'CREATE INDEX item_name ON item (name);', 'DROP INDEX item_name;', 'Index item.name.' ]);

$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;

is($standby->safe_psql($db, 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

# What a session reads of migration state
my $state_sql = q{SELECT 'version: ' || coalesce((SELECT string_agg(revision, ',') FROM migrate_version), '')
  || E'\ncurrent: ' || coalesce((SELECT string_agg(revision || ' head=' || is_head, ',') FROM migrate_current()), '')
  || E'\nheads: ' || (SELECT string_agg(revision, ',') FROM migrate_heads())
  || E'\napplied: ' || coalesce((SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_status WHERE is_applied), '')
  || E'\nlog: ' || coalesce((SELECT string_agg(direction || ' ' || revision, ',' ORDER BY id) FROM migrate_log), '')
  || E'\nitem: ' || coalesce((SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
                              WHERE attrelid = to_regclass('item') AND attnum > 0 AND NOT attisdropped), '-')
  || E'\nindex: ' || (to_regclass('item_name') IS NOT NULL)};

sub state_on
{
	my ($node) = @_;
	return $node->safe_psql($db, $state_sql);
}

# 1. Upgrades and a downgrade on the primary, each seen on the standby
is( state_on($standby),
	"version: \ncurrent: \nheads: s3\napplied: \nlog: \nitem: -\nindex: false",
	'standby: nothing applied yet');

$primary->safe_psql($db, q{SELECT * FROM migrate_upgrade('s2')});
$primary->wait_for_catchup($standby);
my $at_s2 = "version: s2\ncurrent: s2 head=false\nheads: s3\napplied: s1,s2\n"
  . "log: upgrade s1,upgrade s2\nitem: id,name\nindex: false";
is(state_on($primary), $at_s2, 'primary: upgraded to s2');
is(state_on($standby), $at_s2, 'standby: shows s2, its tables and log');
is($standby->safe_psql($db, 'SELECT count(*) FROM item'), '10', 'standby: the rows s1 inserted');

$primary->safe_psql($db, q{SELECT * FROM migrate_upgrade('heads')});
$primary->wait_for_catchup($standby);
my $at_s3 = "version: s3\ncurrent: s3 head=true\nheads: s3\napplied: s1,s2,s3\n"
  . "log: upgrade s1,upgrade s2,upgrade s3\nitem: id,name\nindex: true";
is(state_on($standby), $at_s3, 'standby: shows s3 after the upgrade to heads');
is( $standby->safe_psql($db, q{SELECT string_agg(line, E'\n') FROM migrate_history()}),
	$primary->safe_psql($db, q{SELECT string_agg(line, E'\n') FROM migrate_history()}),
	'standby: migrate_history() as on the primary');
is($standby->safe_psql($db, 'SELECT migrate_check()'), '', 'standby: migrate_check() works');

# 2. Changing state on the standby: 25006 with a HINT to use the primary
my %calls = (
	migrate_upgrade   => q{SELECT * FROM migrate_upgrade('heads')},
	migrate_downgrade => q{SELECT * FROM migrate_downgrade('base')},
	migrate_stamp     => q{SELECT * FROM migrate_stamp('s1')},
	migrate_register  => q{SELECT migrate_register('s4', '{s3}', 'CREATE TABLE s4 (id int);')},);
for my $f (sort keys %calls)
{
	my ($rc, $out, $err) = psql_run($standby, $db, $calls{$f});
	is($rc, 1, "standby: $f() fails");
	is( clean_err($err),
		"ERROR:  25006: cannot run $f() during recovery\n"
		  . "DETAIL:  This server is a standby, and migration state can only change on the primary.\n"
		  . "HINT:  Connect to the primary server and run $f() there.\n",
		"standby: $f() refused with 25006 and the HINT");
}
is(state_on($standby), $at_s3, 'standby: state unchanged by the refused calls');

# 3. pg_migrate against the standby: reading works and shows what the
#    primary shows; changing fails with the server's message and HINT
for my $cmd ([qw(heads)], [qw(current)], [qw(history)])
{
	my ($rc_p, $out_p) = finish_proc(start_pgm($primary, $db, {}, @$cmd));
	my ($rc_s, $out_s, $err_s) = finish_proc(start_pgm($standby, $db, {}, @$cmd));
	is($rc_s, 0, "pg_migrate @$cmd on the standby succeeds") or diag($err_s);
	is($out_s, $out_p, "pg_migrate @$cmd: the standby shows what the primary shows");
}
for my $cmd (
	[ 'migrate_upgrade',   'upgrade' ],
	[ 'migrate_downgrade', 'downgrade', 'base' ],
	[ 'migrate_stamp',     'stamp', 's1' ])
{
	my ($f, @args) = @$cmd;
	my ($rc, $out, $err) = finish_proc(start_pgm($standby, $db, {}, '-v', @args));
	is($rc, 1, "pg_migrate @args on the standby exits 1");
	is($out, '', "pg_migrate @args on the standby: no output");
	like(
		$err,
		qr/^\Qpg_migrate: error: cannot run $f() during recovery
pg_migrate: detail: This server is a standby, and migration state can only change on the primary.
pg_migrate: hint: Connect to the primary server and run $f() there.
pg_migrate: sqlstate: 25006
\E\z/m,
		"pg_migrate @args on the standby: the message, HINT and SQLSTATE");
}
# load checks first whether the server is a standby, says so and points
# to the primary, and loads nothing
{
	my $dir = PostgreSQL::Test::Utils::tempdir;
	mkdir "$dir/mod" or die;
	open(my $fh, '>', "$dir/mod/s4_more.sql") or die;
	print $fh "-- migrate:revision s4\n-- migrate:down_revision s3\n"
	  . "-- migrate:upgrade\nCREATE TABLE s4 (id int);\n";
	close($fh);
	my ($rc, $out, $err) = finish_proc(start_pgm($standby, $db, {}, '-v', 'load', "$dir/mod"));
	is($rc, 1, 'pg_migrate load on the standby exits 1');
	my $refusal = "pg_migrate: error: cannot load revisions into a standby server\n"
	  . "pg_migrate: detail: The server is in recovery: migration state can only change on the primary.\n"
	  . "pg_migrate: hint: Connect to the primary server and run load there.\n"
	  . "pg_migrate: hint: Nothing was loaded.\n";
	like($err, qr/\Q$refusal\E\z/,
		'pg_migrate load on the standby: refused with a pointer to the primary, nothing loaded');
	is($standby->safe_psql($db, 'SELECT count(*) FROM migrate_revision'),
		'3', 'standby: no revision registered by load');
}
is(state_on($standby), $at_s3, 'standby: state unchanged by pg_migrate');

# 4. A downgrade on the primary reaches the standby too
$primary->safe_psql($db, q{SELECT * FROM migrate_downgrade('s1')});
$primary->wait_for_catchup($standby);
my $at_s1 = "version: s1\ncurrent: s1 head=false\nheads: s3\napplied: s1\n"
  . "log: upgrade s1,upgrade s2,upgrade s3,downgrade s3,downgrade s2\nitem: id\nindex: false";
is(state_on($primary), $at_s1, 'primary: downgraded to s1');
is(state_on($standby), $at_s1, 'standby: shows the downgrade');

# 5. Promoted, the standby migrates
$standby->promote;
$standby->poll_query_until($db, 'SELECT NOT pg_is_in_recovery()')
  or die 'the standby was not promoted';
is( $standby->safe_psql($db,
		q{SELECT string_agg(revision, ',') FROM migrate_upgrade('heads')}),
	's2,s3',
	'promoted standby: migrate_upgrade() runs');
is( state_on($standby),
	"version: s3\ncurrent: s3 head=true\nheads: s3\napplied: s1,s2,s3\n"
	  . "log: upgrade s1,upgrade s2,upgrade s3,downgrade s3,downgrade s2,upgrade s2,upgrade s3\n"
	  . "item: id,name\nindex: true",
	'promoted standby: upgraded');

$standby->stop;
$primary->stop;
done_testing();
