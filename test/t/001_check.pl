# pg_migrate check (offline) and the conventions every command shares:
# --help, --version, exit codes, usage errors.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;

my ($rc, $out, $err);

# conventions
($rc, $out, $err) = pgm('--help');
is($rc, 0, '--help exits with 0');
like($out, qr/^Usage:\n  pg_migrate \[OPTION\]\.\.\. COMMAND/m, '--help shows usage');
like($out, qr/^  $_ /m, "--help lists $_") for qw(load check new upgrade downgrade stamp heads current history roundtrip);
($rc, $out) = pgm('--version');
is($rc, 0, '--version exits with 0');
like($out, qr/^pg_migrate \(migrations\) \d+\.\d+$/, '--version');
for my $bad ([], ['frobnicate'], ['--frobnicate', 'heads'], ['check'], ['new', tmpdir()],
	['new', '-m', 'x'], ['downgrade'], ['heads', 'extra'], ['stamp'],
	['upgrade', 'a', 'b'], ['load'], ['check', '--bogus', '.'])
{
	($rc, $out, $err) = pgm(@$bad);
	is($rc, 2, "usage error exits with 2: pg_migrate @$bad");
	# one complaint, then the hint: for a bad option getopt's own message
	like($err, qr/\A(?:pg_migrate: error: [^\n]*|\S*pg_migrate: unrecognized option '--\w+')\npg_migrate: hint: Try "pg_migrate --help" for more information\.\n\z/,
		"usage error says what is wrong, once: @$bad");
}

my @dirs = map { s{/$}{}r } sort glob(examples_dir() . "/*/");

# options may follow operands; --help after a command
($rc, $out, $err) = pgm('check', $dirs[1], '--single-head', '-v');
is($rc, 0, 'options after the directory are options') or diag($err);
like($err, qr/1 revisions, 1 heads/, '-v after the directory');
($rc, $out) = pgm('load', '--help');
is($rc, 0, 'load --help exits with 0');
like($out, qr/^Usage:/m, 'load --help shows usage');
($rc, $out, $err) = pgm('check', $dirs[1], '--bogus');
is($rc, 2, 'an unknown option after the directory is a usage error');

# the example project: three module heads, a warning, exit 0
is(scalar(@dirs), 4, 'four example modules');
($rc, $out, $err) = pgm('check', @dirs);
is($rc, 0, 'check of the examples succeeds');
is($out, "1db94dcc2387 (invenio_accounts) (head)\n"
	  . "0ac99b85ce2c (invenio_rdm_records) (head)\n"
	  . "74ee3dd23415 (invenio_records) (head)\n",
	'check prints the heads with their branch labels');
like($err, qr/^pg_migrate: warning: the revision graph has 3 heads\npg_migrate: detail: Its heads are \w+, \w+, \w+\.$/m, 'several heads: a warning');
($rc, $out, $err) = pgm('check', '--single-head', @dirs);
is($rc, 1, '--single-head: several heads fail');
like($err, qr/error: the revision graph has 3 heads\n.*detail: Its heads are .*\n.*hint: Merge them with "pg_migrate new/,
	'--single-head names the heads and hints at a merge');
($rc, $out, $err) = pgm('check', '-v', @dirs);
like($err, qr/14 revisions, 3 heads/, '-v counts revisions and heads');
($rc, $out, $err) = pgm('check', $dirs[1]);
is("$rc $out", "0 dbdbc1b19cf2 (head)\n", 'a single module checks alone');
is($err, '', 'one head: quiet');

# graph errors found offline
sub rev
{
	my ($id, $down, %h) = @_;
	my $s = "-- migrate:revision $id\n-- migrate:down_revision $down\n";
	$s .= "-- migrate:branch_labels $h{labels}\n" if $h{labels};
	$s .= "-- migrate:depends_on $h{deps}\n" if $h{deps};
	return $s . "-- migrate:upgrade\nSELECT 1;\n";
}
my $n = 0;
for my $case (
	[ 'dangling parent', { 'a' => rev('a1', 'none'), 'b' => rev('b1', 'zz9') },
	  qr/revision "b1" has unknown down_revision "zz9"|zz9/ ],
	[ 'cycle', { 'a' => rev('a1', 'none'), 'b' => rev('b1', 'a1, c1'), 'c' => rev('c1', 'b1') },
	  qr/cycle/ ],
	[ 'cycle through depends_on', { 'a' => rev('a1', 'none'), 'b' => rev('b1', 'a1', deps => 'c1'),
		'c' => rev('c1', 'b1') }, qr/cycle/ ],
	[ 'duplicate label', { 'a' => rev('a1', 'none', labels => 'x'), 'b' => rev('b1', 'none', labels => 'x') },
	  qr/branch label "x"/ ],
	[ 'dangling dependency', { 'a' => rev('a1', 'none', deps => 'nolabel') }, qr/nolabel/ ],
	[ 'self reference', { 'a' => rev('a1', 'a1') }, qr/a1/ ])
{
	my ($name, $files, $re) = @$case;
	my $dir = tmpdir() . "/graph" . ++$n;
	write_file("$dir/$_.sql", $files->{$_}) for keys %$files;
	($rc, $out, $err) = pgm('check', $dir);
	is($rc, 1, "$name: check fails");
	like($err, qr/^pg_migrate: error: .*$re/m, "$name: reported") or diag($err);
	is($out, '', "$name: no heads printed");
}

# an empty directory, and a missing one
mkdir(tmpdir() . "/empty");
($rc, $out, $err) = pgm('check', tmpdir() . "/empty");
is($rc, 1, 'empty directory fails');
like($err, qr/error: no revision files found/, 'empty directory: said');
($rc, $out, $err) = pgm('check', tmpdir() . "/missing");
is($rc, 1, 'missing directory fails');
like($err, qr/missing: could not open directory: No such file or directory/, 'missing directory named');
write_file(tmpdir() . "/plain.sql", rev('a1', 'none'));
($rc, $out, $err) = pgm('check', tmpdir() . "/plain.sql");
is($rc, 1, 'a file instead of a directory fails');
like($err, qr/plain\.sql: not a directory/, 'not a directory: said');

done_testing();
