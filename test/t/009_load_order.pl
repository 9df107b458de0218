# Step order follows the files, not the history of loads (issue 10, item 7).
#
# The same three files, a base and two children (aaa1 and bbb1 are read
# before and after base0: load reads files in byte order of their names),
# must give the same steps in a database that loads them at once (CI) and
# in one that loaded two of them earlier (production): pg_migrate load
# registers in file order, and migrate_register gives unapplied revisions
# the order of the calls of the transaction, after every applied revision.
# Before, the second database ran base0 aaa1 bbb1 and the first base0 bbb1
# aaa1.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;

my $dir = tmpdir() . "/order";
my $early = tmpdir() . "/order_early";
my %files = (
	'aaa1.sql' => "-- migrate:revision aaa1\n-- migrate:down_revision base0\n"
	  . "-- migrate:message A.\n-- migrate:upgrade\nCREATE TABLE order_a (id int);\n"
	  . "-- migrate:downgrade\nDROP TABLE order_a;\n",
	'base0.sql' => "-- migrate:revision base0\n-- migrate:down_revision none\n"
	  . "-- migrate:message Base.\n-- migrate:upgrade\nCREATE TABLE order_base (id int);\n"
	  . "-- migrate:downgrade\nDROP TABLE order_base;\n",
	'bbb1.sql' => "-- migrate:revision bbb1\n-- migrate:down_revision base0\n"
	  . "-- migrate:message B.\n-- migrate:upgrade\nCREATE TABLE order_b (id int);\n"
	  . "-- migrate:downgrade\nDROP TABLE order_b;\n",
);
write_file("$dir/$_", $files{$_}) for keys %files;
write_file("$early/$_", $files{$_}) for qw(base0.sql bbb1.sql);

# the steps of an upgrade to heads, in order
sub steps
{
	my ($db) = @_;
	my ($out, $err) = pgm_ok('-d', $db, 'upgrade', 'heads');
	return join(' ', $err =~ /^NOTICE:  upgrade .* -> (\w+),/mg);
}

sub seq_order
{
	my ($db) = @_;
	return psql($db, "SELECT string_agg(revision, ' ' ORDER BY seq) FROM migrate_revision");
}

# CI: everything at once
my $ci = new_db();
pgm_ok('-d', $ci, 'load', $dir);
my $ci_order = seq_order($ci);
is($ci_order, 'aaa1 base0 bbb1', 'loaded at once: the order of the files');
my $ci_steps = steps($ci);

# production: two files loaded earlier, then all three
my $prod = new_db();
pgm_ok('-d', $prod, 'load', $early);
is(seq_order($prod), 'base0 bbb1', 'two files first');
my ($out) = pgm_ok('-d', $prod, 'load', $dir);
# (the other two are updated: their source, the file path, changed)
is($out, "added 1, updated 2, unchanged 0\n", "then all three: one added");
is(seq_order($prod), $ci_order, 'the same registration order as loading at once');
is(steps($prod), $ci_steps, "the same steps: $ci_steps");

# loading the same files again moves nothing
my $seqs = psql($prod, "SELECT string_agg(revision || ':' || seq, ' ' ORDER BY seq) FROM migrate_revision");
pgm_ok('-d', $prod, 'load', $dir);
is(psql($prod, "SELECT string_agg(revision || ':' || seq, ' ' ORDER BY seq) FROM migrate_revision"), $seqs,
	'a second load of the same files moves nothing');

# with the base applied in between: applied revisions keep their place, the
# unapplied ones follow in file order, and the steps are those of CI
my $staged = new_db();
pgm_ok('-d', $staged, 'load', $early);
pgm_ok('-d', $staged, 'upgrade', 'base0');
pgm_ok('-d', $staged, 'load', $dir);
is(seq_order($staged), 'base0 aaa1 bbb1', 'base0 applied: it stays first, the others follow in file order');
my $rest = $ci_steps;
$rest =~ s/^base0 //;
is(steps($staged), $rest, "the steps after base0 are those of CI: $rest");

# the three databases end in the same state
for my $db ($prod, $staged)
{
	is(psql($db, "SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version"),
		psql($ci, "SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version"),
		'the same heads');
}

done_testing();
