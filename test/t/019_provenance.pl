# Issue 15, items 4, 5 and 9: files and database in agreement.
#
# - No invalid graph is committed: the graph is checked once at commit,
#   whatever sequence of SQL calls built it (the graph errors of the
#   bad-input catalogue, test/t/006_bad_input.pl), and a database that
#   already holds an invalid graph is repaired by pg_migrate load.
# - migrate_unregister and pg_migrate load --prune on the example project
#   after files are deleted; applied revisions are refused with a hint.
# - Provenance: body checksums, the new log columns, stamped versus ran,
#   inherited branch labels, failed attempts logged by pg_migrate.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin";
use MgTest;
use IPC::Run qw(run);
use Test::More;

# Run SQL statements in one psql session (autocommit unless they say
# BEGIN); returns (ok, stdout, stderr) with errors in verbose form, so
# that stderr shows the SQLSTATE.
sub psql_run
{
	my ($db, @sql) = @_;
	my ($out, $err) = ('', '');
	my $script = "\\set VERBOSITY verbose\n" . join('', map { "$_;\n" } @sql);
	my $ok = run([ 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $db ],
		'<', \$script, '>', \$out, '2>', \$err);
	return ($ok, $out, $err);
}

sub revfile
{
	my (%h) = @_;
	my $text = "-- migrate:revision $h{id}\n-- migrate:down_revision " . ($h{down} // 'none') . "\n";
	$text .= "-- migrate:branch_labels $h{labels}\n" if defined $h{labels};
	$text .= "-- migrate:message $h{message}\n" if defined $h{message};
	$text .= "-- migrate:upgrade\n" . ($h{upgrade} // 'SELECT 1;') . "\n";
	$text .= "-- migrate:downgrade\n" . ($h{downgrade} // 'SELECT 1;') . "\n";
	return $text;
}

my $reg = 'SELECT migrate_register';

# --- 5: the issue's example, typed as a user types it --------------------
my $db = new_db();
psql($db, 'CREATE EXTENSION migrations');
my ($ok, $out, $err) = psql_run($db, "$reg('zz1', '{nope}', 'select 1')");
ok(!$ok, 'autocommit registration of a dangling parent fails');
like($err, qr/ERROR:  42704: down_revision "nope" of revision "zz1" does not exist/,
	'the commit reports the usual graph error with its SQLSTATE');
is(psql($db, 'SELECT count(*) FROM migrate_revision'), '0', 'nothing was committed');
is(psql($db, 'SELECT count(*) FROM migrate_log'), '0', 'and nothing was logged');

# registration stays order-free inside a transaction
($ok, $out, $err) = psql_run($db, 'BEGIN', "$reg('b1', '{a1}', 'SELECT 1')",
	"$reg('a1', '{}', 'SELECT 1')", 'COMMIT');
ok($ok, 'a child registered before its parent in one transaction commits') or diag($err);
is(psql($db, 'SELECT string_agg(revision, \',\' ORDER BY seq) FROM migrate_revision'), 'b1,a1',
	'both revisions are stored');

# every graph error of the bad-input catalogue, committed through SQL calls
# without migrate_check(): refused at commit, nothing stays
my @graph_cases = (
	{ name => 'self-reference in down_revisions', sql => ["$reg('n1', '{n1}', 'SELECT 1')"],
	  re => qr/42P17: revision "n1" is its own down_revision/ },
	{ name => 'self-reference in depends_on', sql => ["$reg('n1', '{a1}', 'SELECT 1', depends_on => '{n1}')"],
	  re => qr/42P17: revision "n1" depends on itself/ },
	{ name => 'self-reference through its own branch label',
	  sql => ["$reg('n1', '{a1}', 'SELECT 1', branch_labels => '{nl}', depends_on => '{nl}')"],
	  re => qr/42P17: revision "n1" depends on itself/ },
	{ name => 'cycle through down_revisions',
	  sql => [ 'BEGIN', "$reg('x1', '{y1}', 'SELECT 1')", "$reg('y1', '{x1}', 'SELECT 1')", 'COMMIT' ],
	  re => qr/42P17: revisions form a cycle/ },
	{ name => 'cycle through depends_on',
	  sql => [ 'BEGIN', "$reg('x1', '{a1}', 'SELECT 1', depends_on => '{y1}')",
		"$reg('y1', '{a1}', 'SELECT 1', depends_on => '{x1}')", 'COMMIT' ],
	  re => qr/42P17: revisions form a dependency cycle/ },
	{ name => 'dangling dependency', sql => ["$reg('n1', '{a1}', 'SELECT 1', depends_on => '{nothere}')"],
	  re => qr/42704: dependency "nothere" of revision "n1" does not exist/ },
	{ name => 'branch label declared twice',
	  sql => [ 'BEGIN', "$reg('n1', '{a1}', 'SELECT 1', branch_labels => '{dup}')",
		"$reg('n2', '{n1}', 'SELECT 1', branch_labels => '{dup}')", 'COMMIT' ],
	  re => qr/42710: branch label "dup" of revision "n2" is already used by revision "n1"/ },
	{ name => 'dangling parent by unregistering it (b1 names a1)',
	  sql => ["SELECT migrate_unregister('a1')"],
	  re => qr/42704: down_revision "a1" of revision "b1" does not exist/ },
	{ name => 'parent changed to a missing one by an update',
	  sql => ["$reg('b1', '{gone}', 'SELECT 1')"],
	  re => qr/42704: down_revision "gone" of revision "b1" does not exist/ },
);
case_count(\@graph_cases, 9, 'graph errors committed through SQL');
my $before = catalog_state($db);
for my $case (@graph_cases)
{
	($ok, $out, $err) = psql_run($db, @{ $case->{sql} });
	ok(!$ok, "$case->{name}: refused");
	like($err, $case->{re}, "$case->{name}: the usual graph error");
	is(catalog_state($db), $before, "$case->{name}: nothing changed");
	($ok) = psql_run($db, 'SELECT migrate_check()');
	ok($ok, "$case->{name}: migrate_check() accepts what is committed");
}

# --- 5: repairing a database that already holds an invalid graph --------
my @dirs = copy_examples();
my $ex = new_db();
pgm_ok('-d', $ex, 'load', @dirs);
# a superuser turns the guard off, as a repair by hand would
psql($ex, 'ALTER TABLE migrate_revision DISABLE TRIGGER ALL');
psql($ex, "$reg('zz1', '{nope}', 'select 1')");
psql($ex, 'ALTER TABLE migrate_revision ENABLE TRIGGER ALL');
my ($rc, $o, $e) = pgm('-d', $ex, 'heads');
is($rc, 1, 'with an invalid graph committed, heads fails');
like($e, qr/down_revision "nope" of revision "zz1" does not exist/, 'and says why');
($rc, $o, $e) = pgm('-d', $ex, 'load', @dirs);
is($rc, 1, 'a load of files that lack zz1 cannot make the graph valid');
# a corrected file for zz1 repairs it
my $fix = tmpdir() . '/fix';
write_file("$fix/zz1.sql", revfile(id => 'zz1', down => 'dbdbc1b19cf2'));
($o, $e) = pgm_ok('-d', $ex, 'load', @dirs, $fix);
like($o, qr/added 0, updated 1, unchanged 14/, 'the load of a corrected file updates zz1');
pgm_ok('-d', $ex, 'heads');
# and load --prune removes a revision that has no file
psql($ex, 'ALTER TABLE migrate_revision DISABLE TRIGGER ALL');
psql($ex, "$reg('zz2', '{nope}', 'select 1')");
psql($ex, 'ALTER TABLE migrate_revision ENABLE TRIGGER ALL');
($o, $e) = pgm_ok('-d', $ex, 'load', '--prune', @dirs);
like($o, qr/^pruned zz1 \(no file; loaded from .*zz1\.sql\)$/m, 'prune names zz1 and its old file');
like($o, qr/^pruned zz2 \(no file\)$/m, 'prune names zz2');
like($o, qr/^pruned 2$/m, 'and counts them');
($ok) = psql_run($ex, 'SELECT migrate_check()');
ok($ok, 'the graph is valid again');

# --- 4: load --prune on the example project after files are deleted ----
my ($accounts) = grep { m{/invenio_accounts$} } @dirs;
my $leaf = "$accounts/1db94dcc2387_add_username_and_profile_to_users.sql";
my $mid = "$accounts/61b292ece53c_create_session_activity_table.sql";
my ($leaf_text, $mid_text) = map { local $/; open(my $f, '<', $_) or die; <$f> } ($leaf, $mid);
pgm_ok('-d', $ex, 'upgrade', 'e7ae7b675731');
unlink($leaf, $mid);
($rc, $o, $e) = pgm('-d', $ex, 'load', @dirs);
is($rc, 0, 'a load without --prune leaves the two revisions registered');
like($o, qr/unchanged 12/, 'and registers the 12 files');
is(psql($ex, "SELECT count(*) FROM migrate_revision WHERE revision IN ('1db94dcc2387', '61b292ece53c')"), '2',
	'both are still registered');
($o, $e) = pgm_ok('-d', $ex, 'load', '-n', '--prune', @dirs);
like($o, qr/^pruned 1db94dcc2387 .*\npruned 61b292ece53c .*\npruned 2\n/m,
	'a dry run says what would be pruned, in registration order');
is(psql($ex, 'SELECT count(*) FROM migrate_revision'), '14', 'and commits nothing');
($o, $e) = pgm_ok('-d', $ex, 'load', '--prune', @dirs);
like($o, qr/^pruned 2$/m, 'load --prune removes both');
is(psql($ex, "SELECT string_agg(revision, ',' ORDER BY id) FROM migrate_log WHERE direction = 'unregister'"),
	'zz1,zz2,1db94dcc2387,61b292ece53c', 'every removal is logged');
is(psql($ex, "SELECT count(*) FROM migrate_log WHERE direction = 'unregister'"
	. " AND (logged_by IS NULL OR checksum IS NULL OR backend_pid IS NULL)"), '0',
	'with who, the checksum and the backend');
# an applied revision without a file is refused, and nothing changes
write_file($mid, $mid_text);
pgm_ok('-d', $ex, 'load', @dirs);
pgm_ok('-d', $ex, 'upgrade', 'heads');
unlink($mid);
$before = catalog_state($ex);
($rc, $o, $e) = pgm('-d', $ex, 'load', '--prune', @dirs);
is($rc, 1, 'prune of an applied revision fails');
like($e, qr/error: cannot unregister applied revision "61b292ece53c"/, 'naming it');
like($e, qr/hint: Downgrade below "61b292ece53c" first/, 'with the hint to downgrade first');
is(catalog_state($ex), $before, 'nothing changed');
# starting over, as README says: downgrade, then prune
pgm_ok('-d', $ex, 'downgrade', 'invenio_accounts@e7ae7b675731');
($o) = pgm_ok('-d', $ex, 'load', '--prune', @dirs);
like($o, qr/^pruned 61b292ece53c/m, 'after the downgrade the revision is pruned');

# --- 4: migrate_unregister in SQL ---------------------------------------
($ok, $out, $err) = psql_run($db, 'SELECT * FROM migrate_upgrade(\'a1\')');
($ok, $out, $err) = psql_run($db, "SELECT migrate_unregister('a1')");
ok(!$ok, 'unregistering an applied revision fails');
like($err, qr/55000: cannot unregister applied revision "a1"/, 'with 55000');
like($err, qr/HINT:  Downgrade below "a1" first/, 'and the hint');
($ok, $out, $err) = psql_run($db, "SELECT migrate_unregister('nosuch')");
like($err, qr/42704: revision "nosuch" is not registered/, 'an unknown revision is an error');
($ok, $out, $err) = psql_run($db, 'BEGIN', "SELECT migrate_unregister('b1')", 'COMMIT');
ok($ok, 'an unapplied leaf is unregistered') or diag($err);
($ok, $out, $err) = psql_run($db, 'SET ROLE pg_read_all_data', "SELECT migrate_unregister('a1')");
like($err, qr/permission denied for function migrate_unregister/, 'PUBLIC may not unregister');

# --- 9: provenance ------------------------------------------------------
my $p = new_db();
psql($p, 'CREATE EXTENSION migrations');
psql($p, "$reg('p1', '{}', 'CREATE TABLE t1 (a int)', 'DROP TABLE t1', message => 'first')");
psql($p, "$reg('p2', '{p1}', 'CREATE TABLE t2 (a int)', 'DROP TABLE t2', message => 'second', branch_labels => '{lbl}')");
psql($p, "$reg('p3', '{p2}', 'SELECT 1')");
is(psql($p, "SELECT encode(checksum, 'hex') FROM migrate_revision WHERE revision = 'p1'"),
	psql($p, "SELECT encode(sha256(convert_to('upgrade:23:CREATE TABLE t1 (a int)downgrade:13:DROP TABLE t1', 'UTF8')), 'hex')"),
	'the checksum is sha256 of the documented encoding');
is(psql($p, "SELECT checksum = migrate_checksum(upgrade, downgrade) FROM migrate_revision WHERE revision = 'p3'"),
	't', 'migrate_checksum gives the stored checksum (no downgrade)');
isnt(psql($p, "SELECT migrate_checksum('SELECT 1', '') = migrate_checksum('SELECT 1')"), 't',
	'an empty downgrade differs from none');
psql($p, "SELECT migrate_register('p1', '{}', 'CREATE TABLE t1 (a int, b int)', 'DROP TABLE t1', message => 'first')");
is(psql($p, "SELECT checksum = migrate_checksum(upgrade, downgrade) FROM migrate_revision WHERE revision = 'p1'"),
	't', 'an update stores the new checksum');
pgm_ok({ PGAPPNAME => 'deployer' }, '-d', $p, 'upgrade', 'p2');
pgm_ok('-d', $p, 'stamp', 'p3');
is(psql($p, "SELECT string_agg(revision || '=' || applied_via, ',' ORDER BY revision) FROM migrate_status"),
	'p1=upgrade,p2=upgrade,p3=stamp', 'migrate_status tells stamped from ran');
is(psql($p, "SELECT string_agg(concat_ws('|', revision, message, checksum = (SELECT checksum FROM migrate_revision r WHERE r.revision = l.revision),"
	. " application_name, backend_pid > 0, session_id ~ '^[0-9a-f]+\\.[0-9a-f]+\$', session_role, logged_by), ',' ORDER BY id)"
	. " FROM migrate_log l"),
	'p1|first|t|deployer|t|t|postgres|postgres,p2|second|t|deployer|t|t|postgres|postgres,p3|pg_migrate|t|t|postgres|postgres',
	'each step records message, checksum of what ran, application, backend, session and role (a stamp ran nothing)');
is(psql($p, "SELECT count(DISTINCT session_id) FROM migrate_log"), '2', 'two pg_migrate runs, two sessions');
is(psql($p, "SELECT string_agg(revision || ':' || array_to_string(branch_labels, ','), ' ' ORDER BY revision) FROM migrate_branch_labels()"),
	'p1:lbl p2:lbl p3:lbl', 'a label on a linear chain is inherited by every revision, up and down (as history shows)');
# Alembic's rule on branched histories (alembic history shows the same):
# a <- b <- {c(lbl) <- d, c2}: b is a branch point, so only c and d;
# e <- f(l2) <- g <- {g1, g2}: the walk down starts at g2 and stops at the
# branch point g, so e is not labelled
my $bl = new_db();
psql($bl, 'CREATE EXTENSION migrations');
psql($bl, "BEGIN; $reg('a', '{}', 'SELECT 1'); $reg('b', '{a}', 'SELECT 1');"
	. " $reg('c', '{b}', 'SELECT 1', branch_labels => '{lbl}'); $reg('d', '{c}', 'SELECT 1');"
	. " $reg('c2', '{b}', 'SELECT 1'); $reg('e', '{}', 'SELECT 1');"
	. " $reg('f', '{e}', 'SELECT 1', branch_labels => '{l2}'); $reg('g', '{f}', 'SELECT 1');"
	. " $reg('g1', '{g}', 'SELECT 1'); $reg('g2', '{g}', 'SELECT 1'); COMMIT");
is(psql($bl, "SELECT string_agg(revision || ':' || array_to_string(branch_labels, ','), ' ' ORDER BY revision) FROM migrate_branch_labels()"),
	'a: b: c:lbl c2: d:lbl e: f:l2 g:l2 g1:l2 g2:l2', 'inherited labels on branched histories follow Alembic');
is(psql($bl, "SELECT count(*) FROM migrate_branch_labels() b JOIN migrate_history() h USING (revision) WHERE b.branch_labels = h.branch_labels"),
	'10', 'and are those of migrate_history');
is(psql($p, "SELECT string_agg(revision || ':' || array_to_string(branch_labels, ','), ' ' ORDER BY revision) FROM migrate_status"),
	'p1: p2:lbl p3:', 'the status view keeps the declared labels');

# a failed attempt is logged after the rollback
psql($p, "$reg('p4', '{p3}', 'CREATE TABLE t1 (a int)', 'SELECT 1', message => 'clash')");
($rc, $o, $e) = pgm('-d', $p, 'upgrade');
is($rc, 1, 'an upgrade whose body fails exits with 1');
is(psql($p, "SELECT concat_ws('|', direction, revision, sqlstate, error, message, logged_by, application_name)"
	. " FROM migrate_log WHERE direction LIKE 'failed%'"),
	'failed upgrade|p4|42P07|relation "t1" already exists|clash|postgres|pg_migrate',
	'the failed attempt is in the log with revision, SQLSTATE, message and who');
is(psql($p, "SELECT count(*) FROM migrate_version WHERE revision = 'p4'"), '0', 'the failed step itself left nothing');
($rc, $o, $e) = pgm('-d', $p, 'downgrade', 'nosuch');
is($rc, 1, 'a downgrade to an unknown target fails');
is(psql($p, "SELECT count(*) FROM migrate_log WHERE direction = 'failed downgrade'"), '0',
	'a failure before any step ran nothing and is not logged');
($ok, $out, $err) = psql_run($p, "SELECT migrate_log_failure('sideways', NULL, '42000', 'x')");
like($err, qr/22023: unrecognized direction "sideways"/, 'migrate_log_failure checks its direction');
($ok, $out, $err) = psql_run($p, "SELECT migrate_log_failure('upgrade', NULL, 'abc', 'x')");
like($err, qr/22023: invalid SQLSTATE code "abc"/, 'and the SQLSTATE');
done_testing();
