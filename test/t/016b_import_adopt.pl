# Import and adoption together (issue 13, item 7): the shop project of
# test/alembic_projects/ is imported with pg_migrate import-alembic; two
# databases are taken by real Alembic to the same middle point (one branch
# upgraded, the other not yet); the first is adopted (adopt-alembic
# --keep-alembic-version) and upgraded to heads by pg_migrate from the
# imported files, the second by Alembic.  Both end with the same
# pg_dump --schema-only, the same rows and the same alembic_version, pg_migrate
# having run the steps Alembic ran; Alembic then downgrades both to base and
# they agree again.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use AlembicTest;
use Test::More;

my ($rc, $steps, $out, $err);
my $dir = tmpdir() . '/shop_import';
my $ini = alembic_project('shop') . '/alembic.ini';
# the sanitizer build of src/bin/pg_migrate/san/ is given the source copy
# of the importer (see 016_import_alembic.pl)
$ENV{PG_MIGRATE_ALEMBIC_IMPORTER} = "$FindBin::Bin/../../src/bin/pg_migrate/alembic_import.py"
  if $PG_MIGRATE =~ m{/san/pg_migrate$};

($rc, $out, $err) = pgm('import-alembic', '-c', $ini, '--python', $PYTHON, $dir);
is($rc, 0, 'import of shop') or diag($err);
my ($load) = $out =~ /^load in this order: \S+ load (.*)$/m;
my @load_dirs = split / /, $load;
is(scalar @load_dirs, 3, 'three directories to load');

# the middle point: the core branch at its second revision, orders and
# audit not yet
my $middle = 'a1c0ffee0002';
my ($ours, $theirs) = (new_db(), new_db());
for my $db ($ours, $theirs)
{
	($rc, $steps, $out, $err) = alembic_run('shop', $db, 'upgrade', $middle);
	is($rc, 0, "Alembic upgrades $db to the middle point") or diag($err);
}
is(psql($ours, "SELECT string_agg(version_num, ',') FROM alembic_version"), $middle,
	'alembic_version at the middle point');

# ours: registered from the imported files, adopted, upgraded by pg_migrate
pgm_ok('-d', $ours, 'load', @load_dirs);
($rc, $out, $err) = pgm('-d', $ours, 'adopt-alembic', '--keep-alembic-version');
is($rc, 0, 'adopt-alembic') or diag($err);
is(psql($ours, 'SELECT string_agg(revision, \',\') FROM migrate_version'), $middle,
	'migrate_version stamped to the middle point');
($rc, $out, $err) = pgm('-d', $ours, 'upgrade', 'heads');
is($rc, 0, 'pg_migrate upgrades the adopted database to heads') or diag($err);
my @ours_steps = map { /^\s*(\S+)\s+\|\s+(upgrade)\s+\|/ ? ("$2 $1") : () } split /\n/, $out;

# theirs: Alembic goes on
($rc, my $theirs_steps, $out, $err) = alembic_run('shop', $theirs, 'upgrade', 'heads');
is($rc, 0, 'Alembic upgrades the other database to heads') or diag($err);
ok(@$theirs_steps >= 3, 'Alembic ran the rest of the history');
is_deeply(\@ours_steps, $theirs_steps, 'pg_migrate ran the steps Alembic ran, in the same order');
is(schema_dump($ours), schema_dump($theirs), 'the same pg_dump --schema-only');
is(table_rows($ours, 'currencies'), table_rows($theirs, 'currencies'), 'the same rows');
my $versions = "SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version";
is(psql($ours, $versions), psql($theirs, $versions), 'alembic_version kept as Alembic writes it');

# the way back: Alembic itself downgrades both
for my $db ($ours, $theirs)
{
	($rc, $steps, $out, $err) = alembic_run('shop', $db, 'downgrade', 'base');
	is($rc, 0, "Alembic downgrades $db to base") or diag($err);
}
is(schema_dump($ours), schema_dump($theirs), 'after Alembic\'s downgrade to base: the same schema');

done_testing();
