# pg_migrate as roles other than the extension's owner, and with hostile
# objects placed first on search_path.
#  - a role without grants: load, upgrade, downgrade and stamp fail with
#    "permission denied" and change nothing; heads, current and history
#    work and show what the owner sees;
#  - a role given the rights README.md documents (EXECUTE only) loads and
#    migrates, and cannot write the catalog directly even with the table
#    grants README.md used to document;
#  - every command with a schema "evil" first on search_path (before
#    pg_catalog, and the default way) whose tables, functions and operators
#    shadow the ones pg_migrate's and the extension's SQL use: none is ever
#    called.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;
use IPC::Run;

my ($rc, $out, $err);
my @dirs = copy_examples();
my $extra = tmpdir() . "/extra";
write_file("$extra/ee0000000001_one.sql",
	"-- migrate:revision ee0000000001\n-- migrate:down_revision 74ee3dd23415\n"
	  . "-- migrate:message Extra one.\n-- migrate:upgrade\nCREATE TABLE extra_one (id int);\n"
	  . "-- migrate:downgrade\nDROP TABLE extra_one;\n");

my $nobody = "mg_nobody_$$";
my $migrator = "mg_migrator_$$";
psql('postgres', "CREATE ROLE $nobody LOGIN PASSWORD 'nobody'; CREATE ROLE $migrator LOGIN PASSWORD 'migrator'");
my %as_nobody = (PGUSER => $nobody, PGPASSWORD => 'nobody');
my %as_migrator = (PGUSER => $migrator, PGPASSWORD => 'migrator');
my @cleanup;

#
# A role without grants
#
my $db = new_db();
push @cleanup, $db;
my @d = ('-d', $db);
pgm_ok(@d, 'load', @dirs);
pgm_ok(@d, 'upgrade', 'invenio_records@head');
my $state = catalog_state($db);
my %owner_view = map { $_ => scalar pgm_ok(@d, $_) } qw(heads current history);

($rc, $out, $err) = pgm({%as_nobody}, @d, 'load', @dirs, $extra);
is($rc, 1, 'load without grants fails');
like($err, qr/^pg_migrate: error: permission denied for function migrate_register$/m,
	'permission denied') or diag($err);
like($err, qr/hint: Nothing was loaded\./, 'nothing loaded');
($rc, $out, $err) = pgm({%as_nobody}, @d, 'load', @dirs);
is($rc, 1, 'even a load that would change nothing fails');
like($err, qr/permission denied for function migrate_register/, 'permission denied');
($rc, $out, $err) = pgm({%as_nobody}, @d, 'upgrade', 'heads');
is($rc, 1, 'upgrade without grants fails');
like($err, qr/^pg_migrate: error: permission denied for function migrate_upgrade$/m, 'permission denied')
  or diag($err);
unlike($err, qr/NOTICE/, 'no step started');
($rc, $out, $err) = pgm({%as_nobody}, @d, 'downgrade', 'base');
is($rc, 1, 'downgrade without grants fails');
like($err, qr/permission denied for function migrate_downgrade/, 'permission denied');
($rc, $out, $err) = pgm({%as_nobody}, @d, 'stamp', 'heads');
is($rc, 1, 'stamp without grants fails');
like($err, qr/permission denied for function migrate_stamp/, 'permission denied');
($rc, $out, $err) = pgm({%as_nobody}, @d, 'stamp', '--purge', 'base');
is($rc, 1, 'stamp --purge without grants fails');
($rc, $out, $err) = pgm({%as_nobody}, @d, 'roundtrip');
is($rc, 1, 'roundtrip without grants fails');
like($err, qr/^pg_migrate: error: permission denied for function migrate_roundtrip$/m, 'permission denied');
is(catalog_state($db), $state, 'nothing changed');
for my $cmd (qw(heads current history))
{
	($rc, $out, $err) = pgm({%as_nobody}, @d, $cmd);
	is("$rc $out", "0 $owner_view{$cmd}", "$cmd works without grants, and shows what the owner sees")
	  or diag($err);
}

# a database without the extension: a plain role cannot create it
my $bare = new_db();
push @cleanup, $bare;
($rc, $out, $err) = pgm({%as_nobody}, '-d', $bare, 'load', @dirs);
is($rc, 1, 'load into a database without the extension fails');
like($err, qr/error: permission denied to create extension "migrations"/, 'it may not create it')
  or diag($err);
like(catalog_state($bare), qr/extension: absent/, 'still absent');

#
# A role with the documented rights migrates.  Objects its steps create
# are its own, so it should run every step (the owner only registers here).
#
my $mdb = new_db();
push @cleanup, $mdb;
my @m = ('-d', $mdb);
pgm_ok(@m, 'load', @dirs);
# EXECUTE on the four functions and nothing on the tables (0.2): the
# extension writes its catalog with its owner's rights
psql($mdb, "GRANT EXECUTE ON FUNCTION"
	  . " migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text),"
	  . " migrate_upgrade(text), migrate_downgrade(text), migrate_stamp(text, boolean) TO $migrator;"
	  # what the bodies of the examples need: they create tables in public
	  . " GRANT CREATE ON SCHEMA public TO $migrator");
($rc, $out, $err) = pgm({%as_migrator}, @m, 'load', @dirs, $extra);
is("$rc $out", "0 added 1, updated 0, unchanged 14\n", 'the migrator loads') or diag($err);
($rc, $out, $err) = pgm({%as_migrator}, @m, 'upgrade', 'heads');
is($rc, 0, 'the migrator upgrades') or diag($err);
like($out, qr/^\(15 rows\)$/m, 'every step');
($rc, $out, $err) = pgm({%as_migrator}, @m, 'downgrade', 'invenio_records@-1');
is($rc, 0, 'the migrator downgrades') or diag($err);
like($out, qr/^ ee0000000001 \| downgrade /m, 'the extra revision');
($rc, $out, $err) = pgm({%as_migrator}, @m, 'stamp', 'heads');
is($rc, 0, 'the migrator stamps') or diag($err);
($rc, $out, $err) = pgm({%as_migrator}, @m, 'stamp', '--purge', 'heads');
is($rc, 0, 'the migrator stamps with --purge') or diag($err);
is(psql($mdb, "SELECT registered_by FROM migrate_revision WHERE revision = 'ee0000000001'"), $migrator,
	'registered by the migrator');
is(psql($mdb, "SELECT string_agg(DISTINCT logged_by, ',') FROM migrate_log"),
	$migrator, 'every step logged under its name');
is(psql($mdb, "SELECT tableowner FROM pg_tables WHERE tablename = 'records_metadata'"), $migrator,
	'bodies ran with its rights');

# the migrator changes the catalog through the functions only, even with
# the table grants README.md documented before 0.2
my $mstate = catalog_state($mdb);
psql($mdb, "GRANT INSERT, UPDATE ON migrate_revision TO $migrator;"
	  . " GRANT INSERT, UPDATE, DELETE ON migrate_version TO $migrator;"
	  . " GRANT INSERT ON migrate_log TO $migrator;"
	  . " GRANT USAGE ON SEQUENCE migrate_log_id_seq TO $migrator");
for my $stmt ("INSERT INTO migrate_log (logged_at, logged_by, direction, revision) VALUES ('2001-01-01', 'postgres', 'upgrade', 'ee0000000001')",
	"DELETE FROM migrate_version",
	"UPDATE migrate_revision SET seq = 9223372036854775807 WHERE revision = 'ee0000000001'",
	"UPDATE migrate_revision SET downgrade = 'ALTER ROLE $migrator SUPERUSER', registered_by = 'postgres'")
{
	my ($o, $e) = ('', '');
	{
		local %ENV = (%ENV, %as_migrator);
		IPC::Run::run([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $mdb, '-c', $stmt ],
			'<', \undef, '>', \$o, '2>', \$e);
	}
	like($e, qr/ERROR:  permission denied to (insert into|delete from|update) table migrate_/,
		"a direct write is refused: $stmt");
}
is(catalog_state($mdb), $mstate, 'the direct writes changed nothing');
($rc, $out, $err) = pgm({%as_migrator}, @m, 'upgrade', 'heads');
is($rc, 0, 'the migrator still upgrades through pg_migrate') or diag($err);

#
# Hostile search_path
#
my $sdb = new_db();
push @cleanup, $sdb;
my $spdir = tmpdir() . "/sp";
# bodies that resolve nothing through search_path themselves
for my $i (1 .. 3)
{
	my $parent = $i == 1 ? 'none' : sprintf('sp000000000%d', $i - 1);
	write_file(sprintf("$spdir/sp000000000%d.sql", $i),
		sprintf("-- migrate:revision sp000000000%d\n-- migrate:down_revision %s\n", $i, $parent)
		  . ($i == 1 ? "-- migrate:branch_labels splabel\n" : '')
		  . "-- migrate:message Step $i.\n-- migrate:upgrade\nCREATE TABLE public.sp_t$i (id int);\n"
		  . "-- migrate:downgrade\nDROP TABLE public.sp_t$i;\n");
}
psql($sdb, 'CREATE EXTENSION migrations');
psql($sdb, <<'EOSQL');
CREATE SCHEMA evil;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
CREATE TABLE evil.shadow_calls (what text);
CREATE FUNCTION evil.spy(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evil.shadow_calls VALUES (what);
    RAISE WARNING 'shadow object % was called', what;
END $$;
CREATE TABLE evil.migrate_revision (LIKE public.migrate_revision);
INSERT INTO evil.migrate_revision VALUES ('evil1', '{}', '{}', '{}', 'Evil.',
    'SELECT evil.spy(''evil body'');', NULL, true, NULL, 1, now(), current_user);
CREATE TABLE evil.migrate_version (revision varchar(32));
INSERT INTO evil.migrate_version VALUES ('evil1');
CREATE TABLE evil.migrate_log (LIKE public.migrate_log);
CREATE TABLE evil.pg_migrate_load (LIKE public.migrate_revision);
CREATE FUNCTION evil.pg_advisory_xact_lock(bigint) RETURNS void LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('pg_advisory_xact_lock'); END $$;
CREATE FUNCTION evil.quote_ident(text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('quote_ident'); RETURN pg_catalog.quote_ident($1); END $$;
CREATE FUNCTION evil.array_to_string(text[], text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('array_to_string'); RETURN pg_catalog.array_to_string($1, $2); END $$;
CREATE FUNCTION evil.concat_ws(text, text, text, text, text, text, text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('concat_ws'); RETURN ''; END $$;
CREATE FUNCTION evil.concat_ws(text, text, text, text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('concat_ws'); RETURN ''; END $$;
CREATE FUNCTION evil.coalesce_bool(boolean, boolean) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('coalesce'); RETURN $1; END $$;
CREATE FUNCTION evil.op(what text, result boolean) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy(what); RETURN result; END $$;
CREATE FUNCTION evil.eq_text(text, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(text,text)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_text, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION evil.ne_text(text, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('<>(text,text)', $1 OPERATOR(pg_catalog.<>) $2) $$;
CREATE OPERATOR evil.<> (FUNCTION = evil.ne_text, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION evil.eq_name_text(name, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(name,text)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_name_text, LEFTARG = name, RIGHTARG = text);
CREATE FUNCTION evil.eq_name(name, name) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(name,name)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_name, LEFTARG = name, RIGHTARG = name);
CREATE FUNCTION evil.eq_oid(oid, oid) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(oid,oid)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_oid, LEFTARG = oid, RIGHTARG = oid);
CREATE FUNCTION evil.eq_textarr(text[], text[]) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(text[],text[])', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_textarr, LEFTARG = text[], RIGHTARG = text[]);
CREATE FUNCTION evil.ne_textarr(text[], text[]) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('<>(text[],text[])', $1 OPERATOR(pg_catalog.<>) $2) $$;
CREATE OPERATOR evil.<> (FUNCTION = evil.ne_textarr, LEFTARG = text[], RIGHTARG = text[]);
CREATE FUNCTION evil.ne_bool(boolean, boolean) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('<>(boolean,boolean)', $1 OPERATOR(pg_catalog.<>) $2) $$;
CREATE OPERATOR evil.<> (FUNCTION = evil.ne_bool, LEFTARG = boolean, RIGHTARG = boolean);
CREATE FUNCTION evil.eq_varchar_text(varchar, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(varchar,text)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_varchar_text, LEFTARG = varchar, RIGHTARG = text);
EOSQL
my $decoys = psql($sdb, "SELECT count(*) FROM evil.migrate_revision, evil.migrate_version");

# the shadows are effective for unqualified SQL
is(psql($sdb, "SET search_path = evil, public; SELECT count(*) FROM migrate_version WHERE revision = 'evil1'"),
	1, 'unqualified SQL finds the decoy table');
is(psql($sdb, "SELECT count(*) FROM evil.shadow_calls"), 1, 'and the shadow operator');
psql($sdb, "TRUNCATE evil.shadow_calls");

for my $path ('evil,pg_catalog,public', 'evil,public')
{
	my %env = (PGOPTIONS => "-c search_path=$path");
	my $all_err = '';
	($rc, $out, $err) = pgm({%env}, '-d', $sdb, 'load', $spdir);
	$all_err .= $err;
	like("$rc $out", qr/^0 added \d, updated 0, unchanged \d\n$/, "load with search_path $path")
	  or diag($err);
	($rc, $out, $err) = pgm({%env}, '-d', $sdb, 'load', $spdir);
	$all_err .= $err;
	is("$rc $out", "0 added 0, updated 0, unchanged 3\n", "load again: all unchanged ($path)")
	  or diag($err);
	($rc, $out, $err) = pgm({%env}, '-d', $sdb, 'upgrade', 'heads');
	$all_err .= $err;
	is($rc, 0, "upgrade ($path)") or diag($err);
	like($out, qr/^\(3 rows\)$/m, 'three steps');
	# a changed applied revision: the loader compares every column
	my $changed = tmpdir() . "/sp_changed_" . length($path);
	write_file("$changed/sp0000000002.sql",
		"-- migrate:revision sp0000000002\n-- migrate:down_revision sp0000000001\n"
		  . "-- migrate:message Step 2.\n-- migrate:upgrade\nCREATE TABLE public.sp_other (id int);\n"
		  . "-- migrate:downgrade\nDROP TABLE public.sp_t2;\n");
	($rc, $out, $err) = pgm({%env}, '-d', $sdb, 'load', $changed);
	$all_err .= $err;
	is($rc, 1, "changing an applied revision is refused ($path)");
	like($err, qr/cannot change applied revision "sp0000000002"\n.*changes its upgrade body\./,
		'with what changed') or diag($err);
	for my $cmd ([ 'heads' ], [ 'current' ], [ 'history' ], [ 'history', 'base:splabel@head' ],
		[ 'downgrade', '-1' ], [ 'stamp', 'heads' ], [ 'stamp', '--purge', 'sp0000000002' ],
		[ 'upgrade', 'splabel@head' ], [ 'roundtrip' ], [ 'downgrade', 'base' ])
	{
		($rc, $out, $err) = pgm({%env}, '-d', $sdb, @$cmd);
		$all_err .= $err;
		is($rc, 0, "@$cmd ($path)") or diag($err);
	}
	unlike($all_err, qr/shadow object/, "no shadow object called by any command ($path)");
	is(psql($sdb, "SELECT count(*) FROM evil.shadow_calls"), 0, "none recorded ($path)");
	is(psql($sdb, "SELECT count(*) FROM evil.migrate_revision, evil.migrate_version"), $decoys,
		"decoys untouched ($path)");
	is(psql($sdb, "SELECT count(*) FROM migrate_revision WHERE revision LIKE 'sp%'"), 3,
		"the real catalog holds the revisions ($path)");
	is(psql($sdb, "SELECT count(*) FROM migrate_version"), 0, "and the state: base ($path)");
}
is(psql($sdb, "SELECT count(*) FROM migrate_log WHERE revision = 'sp0000000003' AND direction = 'upgrade'"),
	4, 'the steps were logged in the real log');

# the roles hold privileges in these databases: drop those, then the roles
for my $cdb (@cleanup)
{
	psql($cdb, "DROP OWNED BY $nobody, $migrator");
}
psql('postgres', "DROP ROLE $nobody, $migrator");

done_testing();
