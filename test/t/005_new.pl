# pg_migrate new: the alembic revision equivalent.  Files it writes parse,
# check and load; parents default to the directory's single head.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;

my ($rc, $out, $err);
my $dir = tmpdir() . "/mod";

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<', $path) or die "$path: $!";
	local $/;
	return <$fh>;
}

# first revision of a new directory: created, a base
($rc, $out, $err) = pgm('new', '-m', 'Create foo branch.', '-b', 'invenio_foo', '--empty', $dir);
is($rc, 0, 'new in a missing directory') or diag($err);
like($out, qr{^\Q$dir\E/([0-9a-f]{12})_create_foo_branch\.sql\n$}, 'prints the path: <12 hex>_<slug>.sql');
my ($root) = $out =~ m{/([0-9a-f]{12})_};
chomp(my $rootfile = $out);
is(slurp($rootfile), "-- migrate:revision $root\n-- migrate:down_revision none\n"
	  . "-- migrate:branch_labels invenio_foo\n-- migrate:message Create foo branch.\n"
	  . "-- migrate:upgrade\n-- migrate:downgrade\n", 'the file of an empty base revision');

# next one: parent is the head, template bodies
($rc, $out) = pgm('new', '-m', 'Create foo tables: foo & foo_bar (v2)!', $dir);
is($rc, 0, 'second revision');
like($out, qr{/([0-9a-f]{12})_create_foo_tables_foo_foo_bar_v2\.sql\n$}, 'slug from the words of the message');
my ($second) = $out =~ m{/([0-9a-f]{12})_};
chomp(my $secondfile = $out);
my $text = slurp($secondfile);
like($text, qr/^-- migrate:down_revision $root$/m, 'parent defaults to the single head');
like($text, qr/^-- migrate:upgrade\n-- The SQL that applies this revision\.\n\n-- migrate:downgrade\n/m, 'template bodies');
isnt($second, $root, 'a fresh id');

# long message: slug cut at a word boundary, at most 40 characters
($rc, $out) = pgm('new', '-m', 'Add a rather long description of what this revision does to the schema', '--rev-id', 'abc123def456', '-p', $second, $dir);
is($out, "$dir/abc123def456_add_a_rather_long_description_of_what.sql\n", 'long slug cut, --rev-id used');

# two heads now: new refuses to guess
($rc, $out, $err) = pgm('new', '-m', 'Another.', '-p', $root, $dir);
is($rc, 0, 'explicit parent creates a second head');
my ($third) = $out =~ m{/([0-9a-f]{12})_};
($rc, $out, $err) = pgm('new', '-m', 'Which parent?', $dir);
is($rc, 1, 'several heads: error');
like($err, qr/error: directory "\Q$dir\E" has 2 heads\n.*detail: Its heads are (abc123def456, $third|$third, abc123def456)\.\n.*hint: Choose the parent with -p/,
	'the heads are named, -p hinted');

# a merge with -p twice, a dependency with -d
($rc, $out) = pgm('new', '-m', 'Merge.', '-p', 'abc123def456', '-p', $third, '-d', 'invenio_other', '--empty', $dir);
is($rc, 0, 'merge revision');
chomp(my $mergefile = $out);
like(slurp($mergefile), qr/^-- migrate:down_revision abc123def456, $third\n-- migrate:depends_on invenio_other\n/m,
	'merge parents and dependency written');

# the directory checks (the dependency lives elsewhere) and loads
my $other = tmpdir() . "/other";
($rc, $out) = pgm('new', '-m', 'Other branch.', '-b', 'invenio_other', '--empty', $other);
is($rc, 0, 'a second module');
($rc, $out, $err) = pgm('check', '--single-head', $dir, $other);
is($rc, 0, 'the other module\'s head is a dependency of the merge: one real head') or diag($err);
like($out, qr/^[0-9a-f]{12} \(invenio_other\) \(effective head\)$/m, 'and an effective head');
($rc, $out, $err) = pgm('check', $dir, $other);
is($rc, 0, 'generated files check') or diag($err);
my $db = new_db();
($rc, $out, $err) = pgm('-d', $db, 'load', $other, $dir);
is("$rc $out", "0 added 6, updated 0, unchanged 0\n", 'generated files load') or diag($err);
($rc, $out, $err) = pgm('-d', $db, 'upgrade');
is($rc, 0, 'and upgrade (template bodies are comments)') or diag($err);
($rc, $out, $err) = pgm('-d', $db, 'downgrade', 'base');
is($rc, 0, 'and downgrade') or diag($err);

# refusals
($rc, $out, $err) = pgm('new', '-m', 'Dup.', '-b', 'invenio_foo', '-p', $third, $dir);
is($rc, 1, 'label already used');
like($err, qr/error: branch label "invenio_foo" is already used by revision "$root"/, 'names the revision');
($rc, $out, $err) = pgm('new', '-m', 'Dup.', '--rev-id', $root, '-p', $third, $dir);
is($rc, 1, 'id already used');
like($err, qr/error: revision "$root" already exists/, 'says so');
for my $bad ([ '-m', "two\nlines", $dir ], [ '-m', 'x', '-p', 'not-an-id', $dir ],
	[ '-m', 'x', '-b', 'bad label', $dir ], [ '-m', 'x', '--rev-id', 'heads', $dir ],
	[ '-m', 'x', '-p', 'base', '-p', $root, $dir ], [ '-m', '', $dir ])
{
	($rc, $out, $err) = pgm('new', @$bad);
	is($rc, 2, "bad usage: new @$bad");
}
($rc, $out) = pgm('new', '-m', 'Fresh base.', '-p', 'base', $dir);
is($rc, 0, '-p base starts a new base');
chomp(my $basefile = $out);
like(slurp($basefile), qr/^-- migrate:down_revision none$/m, 'written as none');

# duplicated names and the word none
for my $bad ([ '-m', 'x', '-p', $root, '-p', $root, $dir ], [ '-m', 'x', '-b', 'l1', '-b', 'l1', $dir ],
	[ '-m', 'x', '-d', 'l1', '-d', 'l1', '-p', $root, $dir ], [ '-m', 'x', '--rev-id', 'None', '-p', $root, $dir ])
{
	($rc, $out, $err) = pgm('new', @$bad);
	is($rc, 2, "refused: new @$bad");
	like($err, qr/error: (.* is given twice|revision id "None" cannot be used in revision files)/, 'and said why');
}

# more heads than arguments (a buffer sized by the arguments once overflowed)
my $many = tmpdir() . "/many";
write_file("$many/h$_.sql", "-- migrate:revision h$_\n-- migrate:down_revision none\n-- migrate:upgrade\n")
  for 1 .. 6;
($rc, $out, $err) = pgm('new', '-m', 'x', $many);
is($rc, 1, 'six heads: error, no crash');
like($err, qr/error: directory "\Q$many\E" has 6 heads\n.*detail: Its heads are h1, h2, h3, h4, h5, h6\./, 'six heads named');

# a broken file in the directory stops new
write_file("$dir/zzz_broken.sql", "-- migrate:revision\n");
($rc, $out, $err) = pgm('new', '-m', 'x', '-p', $root, $dir);
is($rc, 1, 'broken directory: error');
like($err, qr/zzz_broken\.sql:1: empty revision id/, 'the broken file is named');

# names on the command line: the core's rule and the server's texts
($rc, $out, $err) = pgm('new', '-m', 'x', '-b', 'heads', '-p', $root, $dir);
is($rc, 2, 'reserved branch label: bad usage');
like($err, qr/^pg_migrate: error: branch label "heads" is a reserved word\npg_migrate: detail: "base", "head", "heads" and "current" are words of the target grammar\.\npg_migrate: hint: Try /m,
	'reserved branch label: the server\'s message and detail');
($rc, $out, $err) = pgm('new', '-m', 'x', '-d', 'a.b', '-p', $root, $dir);
like($err, qr/^pg_migrate: error: invalid dependency "a\.b"\npg_migrate: detail: A dependency is a revision id or a branch label: 1 to 64 letters, digits or underscores\.$/m,
	'invalid dependency: the server\'s message and detail');

# a module whose base's parent lives in another directory: the head is
# found by the core's graph, the outside parent is no head
my ($acc) = grep { m{/invenio_accounts$} } copy_examples();
($rc, $out, $err) = pgm('new', '-m', 'Next.', '--empty', $acc);
is($rc, 0, 'module with an outside parent: new succeeds') or diag($err);
like(slurp((split /\n/, $out)[0]), qr/^-- migrate:down_revision 1db94dcc2387$/m,
	'the module\'s own head is the parent');

done_testing();
