# pg_migrate import-alembic (issue 13, items 1 to 3) on the Alembic
# projects of test/alembic_projects/, written for these tests:
#
# - shop: three modules as version locations with branch labels, a
#   cross-module depends_on, a merge, and the op functions and types real
#   projects use.  Offline and --online imports both carry ids, parents,
#   labels, dependencies and messages; their heads are the ones "alembic
#   heads" prints; load + upgrade heads from empty gives the same pg_dump
#   --schema-only (and rows) as Alembic's own online upgrade, in the same
#   step order; downgrade base leaves what Alembic's leaves.
# - extras: a revision in autocommit_block() becomes non-transactional;
#   two revisions cannot render offline (one reads rows, one reflects):
#   the import exits 1 naming them, their files carry the needs_sql marker
#   and check and load refuse them; with --online they are written and
#   flagged for review, and the scratch database is gone afterwards.
#   Non-transactional revisions cannot run yet: tested through check and
#   load only.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use AlembicTest;
use Test::More;

my ($rc, $out, $err, $steps);
my $tmp = tmpdir();
my @py = ('--python', $PYTHON);
my $shop_ini = alembic_project('shop') . '/alembic.ini';
my $extras_ini = alembic_project('extras') . '/alembic.ini';

# The program under test finds alembic_import.py in the share directory
# (installed) or next to itself (the build tree).  The sanitizer build in
# src/bin/pg_migrate/san/ has neither: it is given the source copy.
my $importer_src = "$FindBin::Bin/../../src/bin/pg_migrate/alembic_import.py";
$ENV{PG_MIGRATE_ALEMBIC_IMPORTER} = $importer_src if $PG_MIGRATE =~ m{/san/pg_migrate$};

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "could not read $path: $!";
	local $/;
	return <$fh>;
}

# the steps pg_migrate upgrade/downgrade printed, as "upgrade REV"
sub pgm_steps
{
	my ($text) = @_;
	return [ map { /^\s*(\S+)\s+\|\s+(upgrade|downgrade)\s+\|/ ? ("$2 $1") : () }
		  split /\n/, $text ];
}

sub scratch_dbs
{
	return psql('postgres',
		"SELECT count(*) FROM pg_database WHERE datname LIKE 'pg_migrate_scratch%'");
}

# Alembic's heads of shop, as it prints them
($rc, $steps, $out, $err) = alembic_run('shop', 'postgres', 'heads');
is($rc, 0, 'alembic heads on shop') or diag($err);
my @alembic_heads = sort map { /^(\w+)/ ? ($1) : () } split /\n/, $out;
is(scalar @alembic_heads, 2, 'shop has two heads for Alembic');

# Alembic's own online upgrade of shop, from empty
my $adb = new_db();
($rc, my $a_up, $out, $err) = alembic_run('shop', $adb, 'upgrade', 'heads');
is($rc, 0, 'alembic upgrade heads on shop') or diag($err);
is(scalar @$a_up, 7, 'Alembic ran 7 upgrades');
my $alembic_schema = schema_dump($adb);
like($alembic_schema, qr/CREATE TABLE public\.order_lines/, 'Alembic built the schema');
my $alembic_rows = table_rows($adb, 'currencies');
($rc, my $a_down, $out, $err) = alembic_run('shop', $adb, 'downgrade', 'base');
is($rc, 0, 'alembic downgrade base on shop') or diag($err);
my $alembic_base = schema_dump($adb);

for my $mode ('offline', 'online')
{
	my $dir = "$tmp/shop_$mode";
	($rc, $out, $err) = pgm('import-alembic', '-c', $shop_ini, @py,
		($mode eq 'online' ? ('--online') : ()), $dir);
	is($rc, 0, "$mode import of shop succeeds") or diag($err);
	is($err, '', "$mode import of shop: nothing needs review or a person");
	like($out, qr/^imported 7 revisions into 3 directories of/m, "$mode: says what it wrote");
	my ($heads) = $out =~ /^heads: (.*)$/m;
	is_deeply([ sort split / /, $heads ], \@alembic_heads, "$mode: heads are Alembic's");
	is(scratch_dbs(), 0, "$mode: no scratch database left");
	my ($load) = $out =~ /^load in this order: \S+ load (.*)$/m;
	my @load_dirs = split / /, $load;
	is_deeply(\@load_dirs, [ map { "$dir/$_/versions" } qw(core orders audit) ],
		"$mode: the directories in the order of the version locations");

	# one output directory per version location, same file names
	# one output directory per version location, the files named as
	# Alembic's, numbered in the order Alembic's map holds them
	my @files = sort map { s{^\Q$dir\E/}{}r =~ s{/\d{4}_}{/N_}r } glob("$dir/*/versions/*.sql");
	is_deeply(\@files, [
		'audit/versions/N_c3a0d1700001_audit_log.sql',
		'audit/versions/N_c3a0d1700002_merge_orders_audit.sql',
		'core/versions/N_a1c0ffee0001_create_accounts.sql',
		'core/versions/N_a1c0ffee0002_email_and_currencies.sql',
		'core/versions/N_a1c0ffee0003_email_required.sql',
		'orders/versions/N_b2d0d0000001_create_orders.sql',
		'orders/versions/N_b2d0d0000002_order_lines.sql' ], "$mode: the files");

	# what is carried: ids, parents, labels, dependencies, message
	my $merge = slurp(glob("$dir/audit/versions/*_c3a0d1700002_merge_orders_audit.sql"));
	like($merge, qr/^-- migrate:revision c3a0d1700002\n-- migrate:down_revision b2d0d0000002, c3a0d1700001\n-- migrate:message Merge orders and audit; orders are audited\.\n-- migrate:upgrade\n/m,
		"$mode: the merge's header");
	my $orders = slurp(glob("$dir/orders/versions/*_b2d0d0000001_create_orders.sql"));
	like($orders, qr/^-- migrate:down_revision none\n-- migrate:branch_labels orders\n-- migrate:depends_on a1c0ffee0001\n-- migrate:message Create orders\.\n/m,
		"$mode: label and cross-module dependency");
	unlike($orders, qr/alembic_version|^BEGIN|^COMMIT/mi,
		"$mode: no version-table or transaction statements");
	my $cur = slurp(glob("$dir/core/versions/*_a1c0ffee0002_email_and_currencies.sql"));
	like($cur, qr/INSERT INTO currencies \(code, name, decimals\) VALUES \('CHF', 'Franc d''or', 2\);/,
		"$mode: bulk_insert rows as literals");

	($rc, $out, $err) = pgm('check', '-r', $dir);
	is($rc, 0, "$mode: check passes") or diag($err);
	is_deeply([ sort map { /^(\w+)/ ? ($1) : () } split /\n/, $out ], \@alembic_heads,
		"$mode: check's heads are Alembic's");

	# the same schema as Alembic's, in the same order
	my $db = new_db();
	pgm_ok('-d', $db, 'load', @load_dirs);
	($rc, $out, $err) = pgm('-d', $db, 'upgrade', 'heads');
	is($rc, 0, "$mode: upgrade heads") or diag($err);
	is_deeply(pgm_steps($out), $a_up, "$mode: same upgrade steps in the same order as Alembic");
	is(schema_dump($db), $alembic_schema, "$mode: same pg_dump --schema-only as Alembic's upgrade");
	is(table_rows($db, 'currencies'), $alembic_rows, "$mode: same rows as Alembic's bulk_insert");
	($rc, $out, $err) = pgm('-d', $db, 'downgrade', 'base');
	is($rc, 0, "$mode: downgrade base") or diag($err);
	is_deeply(pgm_steps($out), $a_down, "$mode: same downgrade steps in the same order as Alembic");
	is(schema_dump($db), $alembic_base, "$mode: downgrade base leaves what Alembic's leaves");
}

# extras offline: two revisions need a person
my $xoff = "$tmp/extras_offline";
($rc, $out, $err) = pgm('import-alembic', '-c', $extras_ini, @py, $xoff);
is($rc, 1, 'offline import of extras exits 1');
like($out, qr/^imported 4 revisions into 1 directory of/m, 'it still writes every revision');
like($err, qr/\Q$xoff\E\/versions\/\d{4}_e0000000a003_history_from_rows\.sql:6: the upgrade of revision "e0000000a003" could not be rendered\n.*detail: it reads data through the connection \(op\.get_bind\(\)\), which offline mode does not have: TypeError: 'NoneType' object is not iterable/,
	'the row-reading revision is named, with the reason and the Python error');
like($err, qr/\d{4}_e0000000a004_reflect\.sql:6: the upgrade of revision "e0000000a004" could not be rendered\n.*detail: it reflects the live database: /,
	'the reflecting revision is named');
like($err, qr/error: 2 revisions need SQL written by a person/, 'and counted');
my $a3 = slurp(glob("$xoff/versions/*_e0000000a003_history_from_rows.sql"));
like($a3, qr/^-- migrate:upgrade\n-- migrate:needs_sql The upgrade of Alembic revision e0000000a003 could not be rendered: .*\n-- The Python error:\n--   Traceback/m,
	'its file has the marker and the error');
like($a3, qr/^-- migrate:downgrade\nDROP TABLE setting_history;$/m, 'its downgrade is rendered');
my $a2 = slurp(glob("$xoff/versions/*_e0000000a002_concurrent_index.sql"));
like($a2, qr/^-- migrate:transactional false\n/m, 'the autocommit_block revision is non-transactional');
like($a2, qr/^ALTER TYPE mood ADD VALUE 'sleepy';\n\nCREATE INDEX CONCURRENTLY ix_settings_value ON settings \(value\);$/m,
	'with its statements, without COMMIT or BEGIN');
unlike($a2, qr/^(COMMIT|BEGIN)/m, 'no transaction statements');

($rc, $out, $err) = pgm('check', $xoff . '/versions');
is($rc, 1, 'check refuses the marked files');
like($err, qr/\d{4}_e0000000a003_history_from_rows\.sql:6: revision "e0000000a003" still needs its SQL written/,
	'naming revision, file and line');
like($err, qr/\d{4}_e0000000a004_reflect\.sql:6: revision "e0000000a004" still needs its SQL written/,
	'every marked file');
my $xdb = new_db();
my $before = catalog_state($xdb);
($rc, $out, $err) = pgm('-d', $xdb, 'load', $xoff . '/versions');
is($rc, 1, 'load refuses the marked files');
like($err, qr/\d{4}_e0000000a003_history_from_rows\.sql:6: revision "e0000000a003" still needs its SQL written/,
	'load names them too');
is(catalog_state($xdb), $before, 'and changes nothing');

# once a person writes the SQL (here: removes the marker lines), check passes
for my $f (glob("$xoff/versions/*.sql"))
{
	my $t = slurp($f);
	$t =~ s/^-- migrate:needs_sql .*\n/SELECT 1;\n/mg;
	write_file($f, $t);
}
($rc, $out, $err) = pgm('check', $xoff . '/versions');
is($rc, 0, 'check passes once the SQL is written') or diag($err);

# extras online: everything written, two revisions flagged for review
my $xon = "$tmp/extras_online";
($rc, $out, $err) = pgm('import-alembic', '--online', '-c', $extras_ini, @py, $xon);
is($rc, 0, 'online import of extras succeeds') or diag($err);
like($err, qr/warning: \S+\d{4}_e0000000a003_history_from_rows\.sql: revision "e0000000a003" needs review: its upgrade read data with 1 statement \(the first: SELECT key, value FROM settings ORDER BY key\)/,
	'the revision that read rows is flagged');
like($err, qr/revision "e0000000a004" needs review: its upgrade read data/, 'so is the reflecting one');
like($err, qr/warning: 2 revisions need review/, 'and counted');
is(scratch_dbs(), 0, 'the scratch database is dropped');
$a3 = slurp(glob("$xon/versions/*_e0000000a003_history_from_rows.sql"));
like($a3, qr/^-- NEEDS REVIEW: its upgrade read data/m, 'its file says so');
like($a3, qr/^INSERT INTO setting_history VALUES \('color', 'blue'\);\n\nINSERT INTO setting_history VALUES \('size', 'large'\);$/m,
	'with the SQL the run sent, parameters as literals');
unlike($a3, qr/^SELECT/m, 'the reads are left out of the body');
my $a4 = slurp(glob("$xon/versions/*_e0000000a004_reflect.sql"));
like($a4, qr/^COMMENT ON COLUMN settings\.value IS 'checked';$/m, 'reflection rendered online');
like(slurp(glob("$xon/versions/*_e0000000a002_concurrent_index.sql")), qr/^-- migrate:transactional false$/m,
	'online: the autocommit_block revision is non-transactional');
($rc, $out, $err) = pgm('check', "$xon/versions");
is($rc, 0, 'check passes on the online import') or diag($err);
my $xdb2 = new_db();
pgm_ok('-d', $xdb2, 'load', "$xon/versions");
is(psql($xdb2, "SELECT count(*) FROM migrate_revision WHERE NOT transactional"), 1,
	'the non-transactional revision is loaded as such');

# --online when a revision fails: it and the steps not reached are marked,
# and the scratch database is still dropped (a project made here)
my $fp = "$tmp/failing";
write_file("$fp/alembic.ini", "[alembic]\nscript_location = %(here)s/migrations\n");
write_file("$fp/migrations/env.py", slurp(alembic_project('extras') . '/migrations/env.py'));
write_file("$fp/migrations/versions/f1_base.py", <<'PY');
"""Base table."""
from alembic import op
import sqlalchemy as sa
revision = "f1"
down_revision = None
def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))
def downgrade():
    op.drop_table("t")
PY
write_file("$fp/migrations/versions/f2_boom.py", <<'PY');
"""Fails."""
from alembic import op
revision = "f2"
down_revision = "f1"
def upgrade():
    op.execute("ALTER TABLE t ADD COLUMN x int")
    raise RuntimeError("boom")
def downgrade():
    op.drop_column("t", "x")
PY
($rc, $out, $err) = pgm('import-alembic', '--online', '-c', "$fp/alembic.ini", @py, "$tmp/failing_out");
is($rc, 1, 'online import with a failing revision exits 1');
like($err, qr/the upgrade of revision "f2" could not be rendered\n.*detail: it failed when Alembic ran it online: RuntimeError: boom/,
	'the failing upgrade is named with its error');
like($err, qr/the downgrade of revision "f1" could not be rendered\n.*detail: it did not run: Alembic stopped at an earlier failure/,
	'the downgrades not reached are named');
like($err, qr/error: 2 revisions need SQL written by a person/, 'and counted');
like(slurp(glob("$tmp/failing_out/migrations/versions/*_f1_base.sql")), qr/^-- migrate:upgrade\nCREATE TABLE t \(/m,
	'the upgrade that ran is written');
is(scratch_dbs(), 0, 'the scratch database is dropped after the failure');

# --script-location and --version-location instead of a configuration file
my $shop = alembic_project('shop');
($rc, $out, $err) = pgm('import-alembic', '-c', "$tmp/absent.ini", '--script-location', "$shop/migrations",
	'--version-location', "$shop/core/versions", @py, "$tmp/core_only");
is($rc, 0, 'import of one version location without alembic.ini') or diag($err);
like($out, qr/^imported 3 revisions into 1 directory of/m, 'only that location\'s revisions');
like($out, qr/^heads: a1c0ffee0003$/m, 'and its head');
($rc, $out, $err) = pgm('check', '-r', "$tmp/core_only");
is($rc, 0, 'the files check') or diag($err);

# bad input
($rc, $out, $err) = pgm('import-alembic', '-c', $shop_ini, @py, $xon);
is($rc, 1, 'an output directory that is not empty is refused');
like($err, qr/error: output directory "\Q$xon\E" is not empty/, 'saying so');
($rc, $out, $err) = pgm('import-alembic', '-c', "$tmp/nope.ini", @py, "$tmp/new1");
is($rc, 1, 'a missing configuration file');
like($err, qr/could not find Alembic's configuration file "\Q$tmp\E\/nope\.ini"/, 'is named');
($rc, $out, $err) = pgm('import-alembic', '-c', $shop_ini, '--python', "$tmp/no-python", "$tmp/new2");
is($rc, 1, 'a Python that cannot run');
like($err, qr/could not run the Alembic importer with "\Q$tmp\E\/no-python"/, 'is named');
($rc, $out, $err) = pgm('import-alembic', '-c', $shop_ini, @py);
is($rc, 2, 'no output directory is bad usage');
($rc, $out, $err) = pgm({ PG_MIGRATE_ALEMBIC_IMPORTER => "$tmp/none.py" },
	'import-alembic', '-c', $shop_ini, @py, "$tmp/new3");
is($rc, 1, 'an importer named by the environment that does not exist');
like($err, qr/could not read "\Q$tmp\E\/none\.py" \(named by PG_MIGRATE_ALEMBIC_IMPORTER\)/, 'is named');

# the installed program finds the installed copy in the share directory
{
	my $share = `pg_config --sharedir`;
	chomp $share;
	local $ENV{PG_MIGRATE_ALEMBIC_IMPORTER};
	delete $ENV{PG_MIGRATE_ALEMBIC_IMPORTER};
	local $MgTest::PG_MIGRATE = 'pg_migrate';
	($rc, $out, $err) = pgm('import-alembic', '-c', $shop_ini, @py, "$tmp/installed");
	is($rc, 0, "the installed pg_migrate finds $share/pg_migrate/alembic_import.py") or diag($err);
}

done_testing();
