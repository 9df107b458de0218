# Alembic projects and databases brought over (issue 13, items 4, 5, 7).
#
# check --alembic: the heads pg_migrate reads from Alembic revision files
# (without Python) are the heads real Alembic 1.8 prints for the same
# directories (test/alembic/alembic_heads.py, which only sorts the file
# names Alembic would take in os.listdir order), line by line, on four
# projects of test/alembic/projects: both quoting styles, tuples, lists,
# None, a docstring and a string that hold "revision = ..." lines, branch
# labels, merges, depends_on on ids and labels, an effective head, two
# version locations, the annotated assignments of newer templates.  What
# cannot be read is an error naming the file and line, exit 1.
#
# adopt-alembic: two databases that real Alembic upgraded (online, with
# psycopg2) to the same middle point of the shop project (two branch
# heads, before their merge); the first is adopted (its pg_migrate
# revisions, test/alembic/projects/shop_sql, are the SQL of the shop
# revisions written by hand) and upgraded by pg_migrate, the second by
# Alembic: pg_dump --schema-only is the same, and with
# --keep-alembic-version so is alembic_version; then Alembic itself
# downgrades both, and they agree again.  Also: a non-minimal
# alembic_version (a row and its ancestor) is stamped minimal with a
# warning, unregistered rows and a missing table are errors that change
# nothing, an empty table adopts as base, a table in another schema with
# another name is kept in step by a stamp from SQL, and keeping stops.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;
use IPC::Run qw(run);

my $top = "$FindBin::Bin/../..";
my $projects = "$top/test/alembic/projects";
my $python = $ENV{MG_TEST_PYTHON} || '/usr/bin/python3';
$ENV{PYTHONDONTWRITEBYTECODE} = 1;	# no __pycache__ in the source tree
my ($rc, $out, $err);

# Run a program; returns (exit code, stdout, stderr)
sub run_prog
{
	my ($o, $e) = ('', '');
	run([@_], '<', \undef, '>', \$o, '2>', \$e);
	return ($? >> 8, $o, $e);
}

# heads lines with the labels of each line sorted (a set in Alembic)
sub norm_heads
{
	my ($text) = @_;
	my @lines = split /\n/, $text;
	for (@lines)
	{
		s{^(\S+) \(([^()]*,[^()]*)\)}{"$1 (" . join(', ', sort split(/, /, $2)) . ")"}e;
	}
	return join("\n", @lines) . "\n";
}

#
# check --alembic against alembic heads
#
my @cases = (
	[ 'styles',    ["$projects/styles/versions"] ],
	[ 'labels',    ["$projects/labels/versions"] ],
	[ 'annotated', ["$projects/annotated/versions"] ],
	[ 'modules',   [ "$projects/modules/core", "$projects/modules/billing" ] ],
);
for my $case (@cases)
{
	my ($name, $dirs) = @$case;
	my ($arc, $aout, $aerr) = run_prog($python, "$top/test/alembic/alembic_heads.py", @$dirs);
	is($arc, 0, "$name: alembic heads runs") or diag($aerr);
	($rc, $out, $err) = pgm('check', '--alembic', @$dirs);
	is($rc, 0, "$name: check --alembic succeeds") or diag($err);
	isnt($out, '', "$name: heads printed");
	is(norm_heads($out), norm_heads($aout), "$name: the same heads as alembic heads, in the same order");
	# and as the plain command prints them (os.listdir order: compared as sets)
	my @loc = ('[alembic]', "script_location = $dirs->[0]/..", 'version_locations = ' . join(' ', @$dirs));
	write_file(tmpdir() . "/$name.ini", join("\n", @loc) . "\n");
	($arc, $aout, $aerr) = run_prog($python, '-m', 'alembic', '-c', tmpdir() . "/$name.ini", 'heads');
	is($arc, 0, "$name: python3 -m alembic heads runs") or diag($aerr);
	is(join('', sort split /^/m, norm_heads($out)), join('', sort split /^/m, norm_heads($aout)),
		"$name: the same set of heads as python3 -m alembic heads");
}
($rc, $out, $err) = pgm('check', '--alembic', '--single-head', "$projects/styles/versions");
is($rc, 1, 'check --alembic --single-head: two heads fail');
like($err, qr/the revision graph has 2 heads/, 'and says so');

# what cannot be read: file and line
my $bad = tmpdir() . '/bad';
my @bad = (
	[ "revision = 'a1'\ndown_revision = compute()\n", qr{a1\.py:2: could not read the value of down_revision} ],
	[ "revision = 'a1'\ndown_revision = ('x',\n    other)\n", qr{a1\.py:3: could not read the value of down_revision} ],
	[ "\"\"\"doc\"\"\"\nrevision = 'a1\ndown_revision = None\n", qr{a1\.py:2: unterminated string literal} ],
	[ "revision = 'a-1'\ndown_revision = None\n", qr{a1\.py:1: invalid revision id "a-1"} ],
	[ "revision = 'a1'\n", qr{a1\.py: file assigns no down_revision} ],
	[ "down_revision = None\n", qr{zz\.py: file assigns no revision}, 'zz.py' ],
	[ "revision = f'a1'\ndown_revision = None\n", qr{a1\.py:1: bytes or f-string literal} ],
	[ "revision = 'a1'\ndown_revision = None\nbranch_labels = ['x', 'x']\n", qr{a1\.py:3: "x" appears twice in branch_labels} ],
	[ "revision = 'a1'\ndown_revision = 'nothere'\n", qr{down_revision "nothere" of revision "a1" does not exist} ],
);
case_count(\@bad, 9, 'unreadable Alembic files');
my $n = 0;
for my $c (@bad)
{
	my ($text, $re, $fname) = @$c;
	my $dir = "$bad/" . ++$n;
	write_file("$dir/" . ($fname // 'a1.py'), $text);
	($rc, $out, $err) = pgm('check', '--alembic', $dir);
	is($rc, 1, "unreadable file $n: exit 1");
	like($err, $re, "unreadable file $n: the error names the file and line");
	is($out, '', "unreadable file $n: no heads printed");
}
write_file("$bad/ok/__init__.py", "raise Exception('not a revision')\n");
write_file("$bad/ok/.#a1.py", "lock file of an editor\n");
write_file("$bad/ok/a1.py", "revision = 'a1'\ndown_revision = None\n");
write_file("$bad/ok/notes.txt", "not Python\n");
# an f-string first is no docstring, and no error
write_file("$bad/ok/b1.py", "f\"\"\"not {a} docstring\"\"\"\nrevision = 'b1'\ndown_revision = 'a1'\n");
($rc, $out, $err) = pgm('check', '--alembic', "$bad/ok");
is($out, "b1 (head)\n", '__init__.py, .# files and other files are not revisions, as in Alembic');

#
# adopt-alembic
#
my $ini = tmpdir() . '/shop.ini';
write_file($ini, "[alembic]\nscript_location = $projects/shop\n");

# real Alembic on database db (libpq's environment says where the server is)
sub alembic
{
	my ($db, @args) = @_;
	local $ENV{SHOP_URL} = "postgresql+psycopg2:///$db";
	my ($arc, $aout, $aerr) = run_prog($python, '-m', 'alembic', '-c', $ini, @args);
	is($arc, 0, "alembic @args on $db") or diag($aerr);
}

sub dump_public
{
	my ($db) = @_;
	my ($arc, $dump, $derr) = run_prog('pg_dump', '--schema-only', '-n', 'public', '-d', $db);
	die "pg_dump: $derr" if $arc;
	$dump =~ s/^\\(?:un)?restrict \S+$//mg;
	return $dump;
}

sub alembic_rows
{
	my ($db, $table) = @_;
	return psql($db, "SELECT string_agg(version_num, ',' ORDER BY version_num) FROM "
		  . ($table // 'public.alembic_version'));
}

# a database with the extension (in schema mg) and the shop's revisions
sub with_revisions
{
	my ($db) = @_;
	psql($db, 'CREATE SCHEMA mg; CREATE EXTENSION migrations SCHEMA mg');
	pgm_ok('-d', $db, 'load', "$projects/shop_sql");
}

my $db1 = new_db();
my $db2 = new_db();
for my $db ($db1, $db2)
{
	alembic($db, 'upgrade', 'b0b0b0b0b001');
	alembic($db, 'upgrade', 'c0c0c0c0c001');
}
is(alembic_rows($db1), 'b0b0b0b0b001,c0c0c0c0c001', 'Alembic left two branch heads');
with_revisions($db1);
($rc, $out, $err) = pgm('-d', $db1, 'adopt-alembic', '--keep-alembic-version');
is($rc, 0, 'adopt-alembic --keep-alembic-version succeeds') or diag($err);
like($out, qr/b0b0b0b0b001\n c0c0c0c0c001\n/, 'prints the stamped rows');
like($out, qr/^kept in step with migrate_version: public\.alembic_version$/m, 'and the kept table');
is(psql($db1, "SELECT string_agg(revision, ',' ORDER BY revision) FROM mg.migrate_version"),
	'b0b0b0b0b001,c0c0c0c0c001', 'migrate_version holds what alembic_version holds');
is(psql($db1, "SELECT version_table_schema || '.' || version_table FROM mg.migrate_alembic_version"),
	'public.alembic_version', 'the kept table is recorded in the catalog');
is(psql($db1, "SELECT count(*) FROM mg.migrate_log WHERE direction = 'stamp'"), '2',
	'the adoption is logged as a stamp');

pgm_ok('-d', $db1, 'upgrade', 'heads');
alembic($db2, 'upgrade', 'heads');
is(dump_public($db1), dump_public($db2), 'adopted and upgraded by pg_migrate: the schema Alembic continuing gives');
is(alembic_rows($db1), alembic_rows($db2), 'alembic_version reads what Alembic wrote: ' . alembic_rows($db2));

# Alembic takes over again, from what pg_migrate left
alembic($db1, 'downgrade', 'd0d0d0d0d001');
alembic($db2, 'downgrade', 'd0d0d0d0d001');
is(dump_public($db1), dump_public($db2), 'Alembic downgrades after pg_migrate\'s upgrade: the same schema');
is(alembic_rows($db1), 'd0d0d0d0d001,f0f0f0f0f001', 'and the same alembic_version');

# a downgrade from SQL writes alembic_version too (back to the merge)
psql($db1, "SELECT mg.migrate_stamp('d0d0d0d0d001 f0f0f0f0f001', true)");
psql($db1, "SELECT * FROM mg.migrate_downgrade('b0b0b0b0b001')");
alembic($db2, 'downgrade', 'b0b0b0b0b001');
is(alembic_rows($db1), alembic_rows($db2), 'migrate_downgrade from SQL: alembic_version as Alembic writes it');
is(dump_public($db1), dump_public($db2), 'and the same schema');
is(psql($db1, 'SELECT mg.migrate_forget_alembic_version()'), 't', 'keeping stops');
psql($db1, "SELECT * FROM mg.migrate_stamp('heads')");
is(alembic_rows($db1), alembic_rows($db2), 'after which alembic_version is left alone');

# a non-minimal alembic_version (Alembic 1.8's bug #1373)
my $db3 = new_db();
alembic($db3, 'upgrade', 'c0c0c0c0c001');
psql($db3, "INSERT INTO alembic_version VALUES ('a0a0a0a0a001')");
with_revisions($db3);
($rc, $out, $err) = pgm('-d', $db3, 'adopt-alembic');
is($rc, 0, 'a row and its ancestor: adopted') or diag($err);
like($err, qr/warning: row "a0a0a0a0a001" of the Alembic version table is implied by its other rows/,
	'the warning names the row left out');
is(psql($db3, "SELECT string_agg(revision, ',') FROM mg.migrate_version"), 'c0c0c0c0c001',
	'migrate_version holds the minimal set');
is(alembic_rows($db3), 'a0a0a0a0a001,c0c0c0c0c001', 'alembic_version is left as it was');

# unregistered rows: an error, nothing changed
my $db4 = new_db();
alembic($db4, 'upgrade', 'a0a0a0a0a001');
psql($db4, "INSERT INTO alembic_version VALUES ('deadbeef0001'), ('deadbeef0002')");
with_revisions($db4);
my $before = catalog_state($db4);
($rc, $out, $err) = pgm('-d', $db4, 'adopt-alembic', '--keep-alembic-version');
is($rc, 1, 'unregistered rows: exit 1');
like($err, qr/names 2 revisions that are not registered\n.*Not registered: "deadbeef0001", "deadbeef0002"\./s,
	'the error names the unknown revisions');
is(catalog_state($db4), $before, 'nothing changed');
is(psql($db4, 'SELECT count(*) FROM mg.migrate_alembic_version'), '0', 'nothing kept');

# no alembic_version table: an error, nothing changed
my $db5 = new_db();
with_revisions($db5);
$before = catalog_state($db5);
($rc, $out, $err) = pgm('-d', $db5, 'adopt-alembic');
is($rc, 1, 'no alembic_version: exit 1');
like($err, qr/Alembic version table "alembic_version" does not exist/, 'says so');
like($err, qr/hint: Give --version-table and --version-table-schema/, 'with a hint');
is(catalog_state($db5), $before, 'nothing changed');

# another name in another schema, kept in step by a stamp from SQL
psql($db5, "CREATE SCHEMA legacy; CREATE TABLE legacy.\"Versions\" (version_num varchar(32) PRIMARY KEY);"
	  . " INSERT INTO legacy.\"Versions\" VALUES ('b0b0b0b0b001')");
($rc, $out, $err) = pgm('-d', $db5, 'adopt-alembic', '--version-table', 'Versions',
	'--version-table-schema', 'legacy', '--keep-alembic-version');
is($rc, 0, 'adopt-alembic --version-table --version-table-schema') or diag($err);
psql($db5, "SELECT * FROM mg.migrate_stamp('c0c0c0c0c001')");
is(alembic_rows($db5, 'legacy."Versions"'), 'b0b0b0b0b001,c0c0c0c0c001',
	'migrate_stamp from SQL writes the kept table');
($rc, $out, $err) = pgm('-d', $db5, 'adopt-alembic', '--version-table', 'Versions',
	'--version-table-schema', 'nope');
is($rc, 1, 'a schema that does not exist: exit 1');
like($err, qr/Alembic version table "nope\.Versions" does not exist/, 'names it');

# bad names are refused by the SQL function
for my $c ([ "'account'", qr/does not exist/ ], [ "''", qr/invalid version_table ""/ ],
	[ "NULL", qr/version_table must not be null/ ], [ "'x', 'pg_catalog'", qr/does not exist/ ])
{
	my ($o, $e) = ('', '');
	run([ 'psql', '-X', '-q', '-d', $db5, '-c', "SELECT mg.migrate_keep_alembic_version($c->[0])" ],
		'<', \undef, '>', \$o, '2>', \$e);
	like($e, $c->[1], "migrate_keep_alembic_version($c->[0]) is refused");
}
psql($db5, 'CREATE TABLE public.not_alembic (id int)');
($rc, $out, $err) = ('', '', '');
run([ 'psql', '-X', '-q', '-d', $db5, '-c', "SELECT mg.migrate_keep_alembic_version('not_alembic')" ],
	'<', \undef, '>', \$out, '2>', \$err);
like($err, qr/table public\.not_alembic has no character column "version_num"/, 'a table without version_num is refused');

# the kept table is written with the caller's rights: a migrator needs
# SELECT, INSERT and DELETE on it (README, Privileges)
my $migrator = "mg_adopt_migrator_$$";
psql('postgres', "CREATE ROLE $migrator");
psql($db5, "GRANT USAGE ON SCHEMA mg, legacy TO $migrator;"
	  . " GRANT EXECUTE ON FUNCTION mg.migrate_stamp(text, boolean),"
	  . " mg.migrate_keep_alembic_version(text, text), mg.migrate_forget_alembic_version() TO $migrator");
sub as_migrator
{
	my ($db, $sql) = @_;
	my ($o, $e) = ('', '');
	run([ 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $db,
		  '-c', "SET ROLE $migrator", '-c', $sql ], '<', \undef, '>', \$o, '2>', \$e);
	return ($? >> 8, $e);
}
my ($mrc, $merr) = as_migrator($db5, "SELECT mg.migrate_keep_alembic_version('Versions', 'legacy')");
isnt($mrc, 0, 'keeping a table the migrator cannot write is refused');
like($merr, qr/permission denied for table legacy\."Versions".*HINT:  GRANT SELECT, INSERT, DELETE ON legacy\."Versions"/s,
	'with the grant it needs in the hint');
($mrc, $merr) = as_migrator($db5, "SELECT count(*) FROM mg.migrate_stamp('b0b0b0b0b001', true)");
isnt($mrc, 0, 'a stamp by a migrator without rights on the kept table fails');
like($merr, qr/permission denied for table legacy\."Versions"/, 'naming the table');
like($merr, qr/CONTEXT:  writing Alembic version table legacy\."Versions", kept by migrate_keep_alembic_version\(\)/,
	'the context says why it is written');
psql($db5, "GRANT SELECT, INSERT, DELETE ON legacy.\"Versions\" TO $migrator");
($mrc, $merr) = as_migrator($db5, "SELECT count(*) FROM mg.migrate_stamp('b0b0b0b0b001', true)");
is($mrc, 0, 'with the grant, the migrator stamps') or diag($merr);
is(alembic_rows($db5, 'legacy."Versions"'), 'b0b0b0b0b001', 'and the kept table follows');
psql($db5, "DROP TABLE legacy.\"Versions\"");
($mrc, $merr) = as_migrator($db5, "SELECT count(*) FROM mg.migrate_stamp('c0c0c0c0c001', true)");
like($merr, qr/Alembic version table "legacy\.Versions" does not exist/, 'a kept table dropped fails the stamp');
is(psql($db5, "SELECT string_agg(revision, ',') FROM mg.migrate_version"), 'b0b0b0b0b001', 'which changes nothing');
($mrc, $merr) = as_migrator($db5, "SELECT mg.migrate_forget_alembic_version()");
is($mrc, 0, 'the migrator stops keeping it') or diag($merr);

# a hostile search_path: none of the shadowing objects is called
my $db7 = new_db();
alembic($db7, 'upgrade', 'c0c0c0c0c001');
with_revisions($db7);
psql($db7, <<'EOSQL');
CREATE SCHEMA evil;
CREATE TABLE evil.shadow_calls (what text);
CREATE FUNCTION evil.spy(what text) RETURNS void LANGUAGE sql
    AS $$ INSERT INTO evil.shadow_calls VALUES (what) $$;
CREATE FUNCTION evil.unnest(text[]) RETURNS SETOF text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('unnest'); RETURN QUERY SELECT pg_catalog.unnest($1); END $$;
CREATE FUNCTION evil.to_regclass(text) RETURNS regclass LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('to_regclass'); RETURN pg_catalog.to_regclass($1); END $$;
CREATE FUNCTION evil.quote_ident(text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('quote_ident'); RETURN pg_catalog.quote_ident($1); END $$;
CREATE FUNCTION evil.array_to_string(text[], text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('array_to_string'); RETURN pg_catalog.array_to_string($1, $2); END $$;
CREATE FUNCTION evil.pg_advisory_xact_lock(bigint) RETURNS void LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('pg_advisory_xact_lock'); END $$;
CREATE FUNCTION evil.eq_name(name, name) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('=(name,name)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_name, LEFTARG = name, RIGHTARG = name);
CREATE FUNCTION evil.eq_oid(oid, oid) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('=(oid,oid)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_oid, LEFTARG = oid, RIGHTARG = oid);
CREATE FUNCTION evil.eq_char("char", "char") RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('=(char,char)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_char, LEFTARG = "char", RIGHTARG = "char");
EOSQL
for my $path ('evil,pg_catalog,public', 'evil,public')
{
	local $ENV{PGOPTIONS} = "-c search_path=$path";
	($rc, $out, $err) = pgm('-d', $db7, 'adopt-alembic', '--keep-alembic-version');
	is($rc, 0, "adopt-alembic with search_path $path") or diag($err);
	($rc, $out, $err) = pgm('-d', $db7, 'stamp', 'b0b0b0b0b001');
	is($rc, 0, "a kept stamp with search_path $path") or diag($err);
	is(alembic_rows($db7), 'b0b0b0b0b001,c0c0c0c0c001', 'wrote the kept table');
	psql($db7, "DELETE FROM public.alembic_version WHERE version_num = 'b0b0b0b0b001'");
}
is(psql($db7, 'SELECT count(*) FROM evil.shadow_calls'), '0', 'no shadowing function or operator was called');

# an empty alembic_version: the database is at base
my $db6 = new_db();
alembic($db6, 'upgrade', 'a0a0a0a0a001');
alembic($db6, 'downgrade', 'base');
is(alembic_rows($db6), '', 'Alembic left an empty alembic_version');
with_revisions($db6);
psql($db6, "SELECT * FROM mg.migrate_stamp('a0a0a0a0a001')");
($rc, $out, $err) = pgm('-d', $db6, 'adopt-alembic', '--keep-alembic-version');
is($rc, 0, 'an empty alembic_version is adopted') or diag($err);
is(psql($db6, 'SELECT count(*) FROM mg.migrate_version'), '0', 'as base (the earlier stamp is replaced)');
like($err, qr/warning: migrate_version held other rows: a0a0a0a0a001\n.*detail: They are replaced by the state of "public"\."alembic_version"\./s,
	'and the replaced rows are named');
pgm_ok('-d', $db6, 'upgrade', 'heads');
is(alembic_rows($db6), 'e0e0e0e0e001,f0f0f0f0f001', 'and then upgraded, with alembic_version kept');

for my $db ($db1, $db2, $db3, $db4, $db5, $db6, $db7)
{
	psql('postgres', "DROP DATABASE $db");
}
psql('postgres', "DROP ROLE $migrator");
done_testing();
