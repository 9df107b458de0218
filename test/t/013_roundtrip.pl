# pg_migrate roundtrip (issue 12, item 5) on the example project: every
# downgrade undoes its upgrade (exit 0), from an empty database and from one
# at some heads; a copy with a downgrade broken on purpose (it leaves a
# table behind) exits 1 naming the revision and the table.  Each time the
# database is unchanged afterwards: pg_dump --schema-only and the rows of
# the extension's three tables are the same before and after.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;
use IPC::Run qw(run);

my ($rc, $out, $err);

# the schema as pg_dump sees it, and every row of the extension's tables
sub db_state
{
	my ($db) = @_;
	my ($dump, $derr) = ('', '');
	run([ 'pg_dump', '--schema-only', '--no-comments', '-d', $db ],
		'<', \undef, '>', \$dump, '2>', \$derr)
	  or die "pg_dump failed: $derr";
	# pg_dump's \restrict key is new on every run
	$dump =~ s/^\\(?:un)?restrict \S+$//mg;
	return $dump . catalog_state($db);
}

my @dirs = copy_examples();
my $db = new_db();
my @d = ('-d', $db);
pgm_ok(@d, 'load', @dirs);

# an empty database, every head
my $before = db_state($db);
($rc, $out, $err) = pgm(@d, 'roundtrip');
is($rc, 0, 'roundtrip of the examples succeeds') or diag($out, $err);
is($out, "round trip to \"heads\": every downgrade undoes its upgrade\n", 'says so in one line');
is($err, '', 'no step notices without -v');
is(db_state($db), $before, 'the database is unchanged (schema dump, catalog rows)');
is(psql($db, "SELECT count(*) FROM migrate_log"), 0, 'no log row written');

# -v shows the steps run: each of the 14 at least three times (upgrade,
# stairway upgrade and upgrade again)
($rc, $out, $err) = pgm(@d, '-v', 'roundtrip');
is($rc, 0, 'roundtrip -v succeeds');
my @ups = $err =~ /^NOTICE:  upgrade .* -> 1db94dcc2387,/mg;
is(scalar(@ups), 3, '-v: the steps of a revision are shown');

# a database at some heads: the round trip comes back to those rows
pgm_ok(@d, 'upgrade', 'invenio_records@head');
$before = db_state($db);
($rc, $out, $err) = pgm(@d, 'roundtrip', 'heads');
is($rc, 0, 'roundtrip from some heads succeeds') or diag($out, $err);
is(db_state($db), $before, 'at some heads: the database is unchanged');
is(psql($db, "SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version"),
	'74ee3dd23415', 'the version row stays');

# a downgrade broken on purpose: 61b292ece53c leaves its table behind
my @broken = copy_examples();
my ($file) = glob("$broken[0]/../invenio_accounts/61b292ece53c_*.sql");
open(my $fh, '<', $file) or die;
my $text = do { local $/; <$fh> };
close($fh);
$text =~ s/^DROP TABLE accounts_user_session_activity;\n//m or die 'no DROP TABLE';
write_file($file, $text);
my $bdb = new_db();
pgm_ok('-d', $bdb, 'load', @broken);
$before = db_state($bdb);
($rc, $out, $err) = pgm('-d', $bdb, 'roundtrip');
is($rc, 1, 'a broken downgrade: exit 1');
like($out, qr/^ 61b292ece53c \| downgrade \| table public\.accounts_user_session_activity \| DROP TABLE public\.accounts_user_session_activity *$/m,
	'names the revision and the table left behind');
like($out, qr/^ 61b292ece53c \| reupgrade \| +\| upgrade failed: relation "accounts_user_session_activity" already exists \(SQLSTATE 42P07\)/m,
	'and its upgrade run again fails');
unlike($out, qr/^ (?!61b292ece53c|e7ae7b675731| +\|)\S+ \|/m, 'no other revision is blamed');
like($err, qr/error: round trip to "heads" found \d+ differences\n.*hint: A row of phase "downgrade" names the revision/s,
	'error and hint');
is(db_state($bdb), $before, 'broken: the database is unchanged');

# usage
($rc, $out, $err) = pgm(@d, 'roundtrip', 'a', 'b');
is($rc, 2, 'two targets: usage error');
($rc, $out, $err) = pgm(@d, 'roundtrip', 'zzzz');
is($rc, 1, 'unknown target: exit 1');
like($err, qr/error: revision "zzzz" does not exist/, 'the server error');

psql('postgres', "DROP DATABASE $_") for ($db, $bdb);
done_testing();
