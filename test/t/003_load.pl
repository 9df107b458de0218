# pg_migrate load against a real server: counts, idempotence, updates of
# unapplied revisions, refusal of changes to applied ones (naming file and
# line), --dry-run, extension creation, graph errors, registration order.
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

# first load creates the extension and registers everything
like(catalog_state($db), qr/extension: absent/, 'new database has no extension');
($rc, $out, $err) = pgm('-d', $db, 'load', @dirs);
is($rc, 0, 'load succeeds') or diag($err);
is($out, "added 14, updated 0, unchanged 0\n", 'load counts 14 added');
is($err, '', 'load is quiet');
is(psql($db, "SELECT count(*) FROM migrate_revision"), 14, '14 revisions stored');
is(psql($db, "SELECT count(*) FROM migrate_version"), 0, 'nothing applied by load');
is(psql($db, "SELECT source FROM migrate_revision WHERE revision = 'dbdbc1b19cf2'"),
	'invenio_db/dbdbc1b19cf2_create_alembic_branches.sql',
	'source is the directory name and the file name');
is(psql($db, "SELECT string_agg(revision, ' ' ORDER BY seq) FROM migrate_revision"),
	join(' ', map { m{/([0-9a-f]{12})_} } map { sort glob("$_/*.sql") } @dirs),
	'registration order: directories in order, files sorted by name');
is(psql($db, "SELECT upgrade FROM migrate_revision WHERE revision = 'c59020af2c8f'"), '',
	'empty body stored as empty text');
is(psql($db, "SELECT down_revisions::text || ' ' || message FROM migrate_revision WHERE revision = 'c59020af2c8f'"),
	'{d8020e465d8a,68a1bc9fc402} Merge branches.', 'merge parents and message stored');

# loading again changes nothing
my $state = catalog_state($db);
($rc, $out) = pgm('-d', $db, 'load', @dirs);
is("$rc $out", "0 added 0, updated 0, unchanged 14\n", 'second load: all unchanged');
is(catalog_state($db), $state, 'second load: catalog identical');

# an unapplied revision whose body changed is updated
my ($rdm) = grep { /invenio_rdm_records$/ } @dirs;
my $legacy = "$rdm/0ac99b85ce2c_create_legacy_record_mapping_table.sql";
open(my $fh, '<', $legacy) or die;
my $orig = do { local $/; <$fh> };
close $fh;
write_file($legacy, $orig =~ s/-- migrate:downgrade\n/-- migrate:downgrade\n-- reviewed\n/r);
($rc, $out, $err) = pgm('-d', $db, 'load', '-v', @dirs);
is("$rc $out", "0 added 0, updated 1, unchanged 13\n", 'changed unapplied file: updated');
like($err, qr/updated 0ac99b85ce2c \(\Q$legacy\E\)/, '-v names the updated revision and file');
like(psql($db, "SELECT downgrade FROM migrate_revision WHERE revision = '0ac99b85ce2c'"),
	qr/^-- reviewed\n/, 'new body stored');

# --dry-run reports and commits nothing
write_file($legacy, $orig);
$state = catalog_state($db);
($rc, $out) = pgm('-d', $db, 'load', '--dry-run', @dirs);
is("$rc $out", "0 added 0, updated 1, unchanged 13 (dry run, nothing was committed)\n",
	'--dry-run reports the update');
is(catalog_state($db), $state, '--dry-run: catalog unchanged');
my $dry = new_db();
($rc, $out) = pgm('-d', $dry, 'load', '-n', @dirs);
is("$rc $out", "0 added 14, updated 0, unchanged 0 (dry run, nothing was committed)\n",
	'--dry-run on a new database');
like(catalog_state($dry), qr/extension: absent/, '--dry-run: extension not created either');
pgm_ok('-d', $db, 'load', @dirs);

# applied revisions cannot change; every offending file is named
pgm_ok('-d', $db, 'upgrade', 'heads');
$state = catalog_state($db);
my ($acc) = grep { /invenio_accounts$/ } @dirs;
my $tables = "$acc/e7ae7b675731_create_accounts_tables.sql";
open($fh, '<', $tables) or die;
my $torig = do { local $/; <$fh> };
close $fh;
write_file($tables, $torig =~ s/CREATE TABLE accounts_role/CREATE TABLE IF NOT EXISTS accounts_role/r);
write_file($legacy, $orig =~ s/-- migrate:message .*\n/$&-- migrate:transactional false\n/r);
my $newfile = "$rdm/fff000000001_later.sql";
write_file($newfile, "-- migrate:revision fff000000001\n-- migrate:down_revision 0ac99b85ce2c\n"
	  . "-- migrate:upgrade\nCREATE TABLE later_t ();\n");
($rc, $out, $err) = pgm('-d', $db, 'load', @dirs);
is($rc, 1, 'changing an applied revision fails');
like($err, qr/^pg_migrate: error: \Q$tables\E:1: cannot change applied revision "e7ae7b675731"\n.*detail: .*changes its upgrade body\.\n.*hint: Write a new revision/m,
	'the applied revision is named with its file and line') or diag($err);
like($err, qr/^pg_migrate: error: \Q$legacy\E:1: cannot change applied revision "0ac99b85ce2c"\n.*transactional flag/m,
	'every changed applied revision is named');
is(catalog_state($db), $state, 'nothing loaded, not even the new revision');
write_file($tables, $torig);
write_file($legacy, $orig);

# a message-only change of an applied revision is allowed (metadata)
write_file($tables, $torig =~ s/-- migrate:message .*/-- migrate:message Create the accounts tables./r);
($rc, $out) = pgm('-d', $db, 'load', @dirs);
is("$rc $out", "0 added 1, updated 1, unchanged 13\n", 'new revision added, message of an applied one updated');
write_file($tables, $torig);

# graph errors found by migrate_check() roll everything back
unlink($newfile);
$state = catalog_state($db);
write_file("$rdm/fff000000002_orphan.sql", "-- migrate:revision fff000000002\n-- migrate:down_revision abcabcabcabc\n-- migrate:upgrade\n");
($rc, $out, $err) = pgm('-d', $db, 'load', $rdm);
is($rc, 1, 'dangling parent: load fails');
like($err, qr/error: down_revision "abcabcabcabc" of revision "fff000000002" does not exist/, 'server names the problem');
like($err, qr/hint: Nothing was loaded\./, 'nothing loaded');
is(catalog_state($db), $state, 'dangling parent: catalog unchanged');
unlink("$rdm/fff000000002_orphan.sql");

# one module's directory alone: its parents are already registered
($rc, $out) = pgm('-d', $db, 'load', $rdm);
is("$rc $out", "0 added 0, updated 0, unchanged 6\n", 'loading one module directory (6 files)');

# --no-create-extension
my $bare = new_db();
($rc, $out, $err) = pgm('-d', $bare, 'load', '--no-create-extension', @dirs);
is($rc, 1, '--no-create-extension fails without the extension');
like($err, qr/error: extension "migrations" is not installed in database "\Q$bare\E"/, 'says so');
like(catalog_state($bare), qr/extension: absent/, 'still absent');

# the extension in another schema: found and used
my $other = new_db();
psql($other, "CREATE SCHEMA \"Mig Schema\"; CREATE EXTENSION migrations SCHEMA \"Mig Schema\"");
($rc, $out) = pgm('-d', $other, 'load', @dirs);
is("$rc $out", "0 added 14, updated 0, unchanged 0\n", 'extension in a quoted schema');
is(psql($other, 'SELECT count(*) FROM "Mig Schema".migrate_revision'), 14, 'rows in that schema');

# connection options: conninfo string, host and port, PG* variables
my $uri = "dbname=$db";
($rc, $out) = pgm('-d', $uri, 'load', @dirs);
is($rc, 0, 'conninfo string as --dbname');
($rc, $out) = pgm({ PGDATABASE => $db }, 'load', @dirs);
is("$rc $out", "0 added 0, updated 0, unchanged 14\n", 'PGDATABASE selects the database');
($rc, $out, $err) = pgm('-d', $db, '-p', '1', 'heads');
is($rc, 1, 'unreachable server: exit 1');
like($err, qr/^pg_migrate: error: connection to server .* failed/m, 'connection failure reported');

# encodings: files are UTF-8 whatever the database or client encoding
{
	my $edir = tmpdir() . "/enc";
	write_file("$edir/e1.sql", "-- migrate:revision e1\n-- migrate:down_revision none\n"
		  . "-- migrate:message Cr\xc3\xa9er la table.\n-- migrate:upgrade\n"
		  . "CREATE TABLE enc_t (v text DEFAULT '\xc3\xa9t\xc3\xa9');\n");
	my $lat = sprintf('mgtest_%d_latin1', $$);
	psql('postgres', "CREATE DATABASE $lat ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
	for my $case ([ $lat, {} ], [ new_db(), { PGCLIENTENCODING => 'LATIN1' } ])
	{
		my ($edb, $env) = @$case;
		($rc, $out, $err) = pgm($env, '-d', $edb, 'load', $edir);
		is($rc, 0, "load into $edb (@{[ %$env ]})") or diag($err);
		is(psql($edb, "SELECT message = 'Cr' || chr(233) || 'er la table.' AND upgrade LIKE '%' || chr(233) || 't' || chr(233) || '%' FROM migrate_revision"),
			't', 'non-ASCII text stored as the characters of the file');
	}
	my $raw = tmpdir() . "/rawname";
	write_file("$raw/caf\xe9.sql", "-- migrate:revision c1\n-- migrate:down_revision none\n-- migrate:upgrade\n");
	($rc, $out, $err) = pgm('-d', $db, 'load', $raw);
	is($rc, 1, 'a file name that is not UTF-8: error');
	like($err, qr/error: .*caf\\xe9\.sql: file name is not valid UTF-8/, 'the file is named, its invalid byte escaped');
}

# a directory without revision files is an error, not an empty success
mkdir(tmpdir() . "/nothing");
($rc, $out, $err) = pgm('-d', $bare, 'load', tmpdir() . "/nothing");
is($rc, 1, 'no revision files: error');
like($err, qr/error: no revision files found/, 'said');
like(catalog_state($bare), qr/extension: absent/, 'extension not created');

# the loader's own statements are immune to objects placed first on search_path
{
	my $sdb = new_db();
	psql($sdb, "CREATE SCHEMA evil; CREATE DOMAIN evil.text AS pg_catalog.text CHECK (false);"
		  . " CREATE DOMAIN evil.int4 AS pg_catalog.int4 CHECK (false);"
		  . " CREATE DOMAIN evil.bool AS pg_catalog.bool CHECK (false);"
		  . " CREATE FUNCTION evil.textne(text, text) RETURNS bool LANGUAGE sql AS 'SELECT pg_catalog.pg_sleep(0) IS NULL';"
		  . " CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.textne);"
		  . " CREATE OPERATOR evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.textne);"
		  . " GRANT USAGE ON SCHEMA evil TO PUBLIC");
	($rc, $out, $err) = pgm({ PGOPTIONS => '-c search_path=evil,public' }, '-d', $sdb, 'load', @dirs);
	is("$rc $out", "0 added 14, updated 0, unchanged 0\n", 'load with a hostile search_path') or diag($err);
	($rc, $out, $err) = pgm({ PGOPTIONS => '-c search_path=evil,public' }, '-d', $sdb, 'load', @dirs);
	is("$rc $out", "0 added 0, updated 0, unchanged 14\n", 'and again: the comparisons are not evil.=') or diag($err);
}

# load takes the extension's advisory lock before anything else
{
	my $ldb = new_db();
	my ($hin, $hout) = ("BEGIN; SELECT pg_advisory_xact_lock(x'6d6967726174'::bigint); SELECT 'locked';\n", '');
	my $holder = IPC::Run::start([ 'psql', '-X', '-q', '-A', '-t', '-d', $ldb ], '<', \$hin, '>', \$hout);
	$holder->pump until $hout =~ /locked/;
	($rc, $out, $err) = pgm({ PGOPTIONS => '-c lock_timeout=200' }, '-d', $ldb, 'load', @dirs);
	is($rc, 1, 'lock held elsewhere: load times out');
	like($err, qr/error: canceling statement due to lock timeout/, 'on the lock');
	like(catalog_state($ldb), qr/extension: absent/, 'before creating the extension');
	$hin .= "COMMIT;\n";
	$holder->finish;
}

# many files in one go: one COPY, not a round trip per file
my $big = tmpdir() . "/big";
my $bigdb = new_db();
my $prev = 'none';
for my $i (1 .. 2000)
{
	my $id = sprintf('b%011d', $i);
	write_file("$big/${id}_step.sql", "-- migrate:revision $id\n-- migrate:down_revision $prev\n"
		  . "-- migrate:upgrade\nCREATE SEQUENCE s_$i;\n-- migrate:downgrade\nDROP SEQUENCE s_$i;\n");
	$prev = $id;
}
($rc, $out, $err) = pgm('-d', $bigdb, '-v', '-v', 'load', $big);
is("$rc $out", "0 added 2000, updated 0, unchanged 0\n", '2000 files loaded');
my $queries = () = $err =~ /^pg_migrate: query: /mg;
ok($queries > 3 && $queries < 16, "a few statements for 2000 files ($queries)");
like($err, qr/query: SELECT s\.path, s\.revision,\s+public\.migrate_register/, 'one statement registers them all');
($rc, $out) = pgm('-d', $bigdb, 'upgrade');
is($rc, 0, '2000 revisions upgraded');
is(psql($bigdb, "SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relname LIKE 's\\_%'"), 2000,
	'2000 sequences created');

done_testing();
