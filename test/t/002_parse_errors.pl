# Every revision-file error of pg_migrate load and check: the message names
# the file and the line, the exit code is 1, and nothing is loaded (the
# catalog of a database that already holds a history is unchanged, and a
# database without the extension still lacks it).
use strict;
use warnings;
use lib 't';
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;

my $good = "-- migrate:revision aaa111\n-- migrate:down_revision none\n"
  . "-- migrate:message Good one.\n-- migrate:upgrade\nCREATE TABLE good_t (id int);\n"
  . "-- migrate:downgrade\nDROP TABLE good_t;\n";
my $hdr = "-- migrate:revision bbb222\n-- migrate:down_revision aaa111\n";

# name => [file content, line, message part]
my @cases = (
	[ 'missing revision',
	  "-- migrate:down_revision aaa111\n-- migrate:upgrade\nSELECT 1;\n",
	  2, 'missing "-- migrate:revision" line' ],
	[ 'missing down_revision',
	  "-- migrate:revision bbb222\n-- migrate:message m\n-- migrate:upgrade\nSELECT 1;\n",
	  3, 'missing "-- migrate:down_revision" line' ],
	[ 'missing upgrade',
	  $hdr . "-- migrate:message m\n-- migrate:downgrade\nSELECT 1;\n",
	  4, 'missing "-- migrate:upgrade" line' ],
	[ 'unrecognized header key',
	  $hdr . "-- migrate:author someone\n-- migrate:upgrade\nSELECT 1;\n",
	  3, 'unrecognized header key "author"' ],
	[ 'duplicate header key',
	  $hdr . "-- migrate:message one\n-- migrate:message two\n-- migrate:upgrade\n",
	  4, 'duplicate header key "message"' ],
	[ 'invalid revision id',
	  "-- migrate:message m\n-- migrate:revision bbb-222\n-- migrate:down_revision aaa111\n-- migrate:upgrade\n",
	  2, 'invalid revision id "bbb-222"' ],
	[ 'invalid parent id',
	  "-- migrate:revision bbb222\n-- migrate:down_revision aaa111; DROP TABLE x\n-- migrate:upgrade\n",
	  2, 'invalid down_revision "aaa111; DROP TABLE x" in revision "bbb222"' ],
	[ 'upgrade marker twice',
	  $hdr . "-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\nSELECT 2;\n-- migrate:upgrade\nSELECT 3;\n",
	  7, 'body marker "-- migrate:upgrade" appears twice' ],
	[ 'downgrade marker twice',
	  $hdr . "-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\n-- migrate:downgrade\n",
	  6, 'body marker "-- migrate:downgrade" appears twice' ],
	[ 'psql meta-command',
	  $hdr . "-- migrate:upgrade\nCREATE TABLE t (id int);\n\\i more.sql\n",
	  5, 'psql meta-command "\\i" in the upgrade body' ],
	[ 'psql meta-command in downgrade',
	  $hdr . "-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\nSELECT 2;\n\\set ON_ERROR_STOP 1\n",
	  7, 'psql meta-command "\\set" in the downgrade body' ],
	[ 'NUL byte',
	  $hdr . "-- migrate:upgrade\nSELECT 1;\nSELECT '\0';\n",
	  5, 'file contains a NUL byte' ],
	[ 'invalid UTF-8',
	  $hdr . "-- migrate:message Caf\xe9\n-- migrate:upgrade\n",
	  3, 'invalid byte sequence for encoding "UTF8"' ],
	[ 'empty file', '', 1, 'revision file is empty' ],
	[ 'SQL before the markers',
	  $hdr . "DROP TABLE good_t;\n-- migrate:upgrade\n",
	  3, 'SQL text before the "-- migrate:upgrade" line' ],
);

# a database with a loaded, applied history: it must stay as it is
my $db = new_db();
my $base = tmpdir() . "/base";
write_file("$base/aaa111_good.sql", $good);
pgm_ok('-d', $db, 'load', $base);
pgm_ok('-d', $db, 'upgrade');
my $before = catalog_state($db);
like($before, qr/aaa111/, 'the reference database holds the good revision');
my $fresh = new_db();
my $fresh_before = catalog_state($fresh);
like($fresh_before, qr/extension: absent/, 'the fresh database lacks the extension');

my $n = 0;
for my $case (@cases)
{
	my ($name, $content, $line, $msg) = @$case;
	my $dir = tmpdir() . "/case" . ++$n;
	write_file("$dir/aaa111_good.sql", $good);
	write_file("$dir/bbb222_bad.sql", $content);
	my $file = "$dir/bbb222_bad.sql";

	for my $cmd ([ 'check', $dir ], [ '-d', $db, 'load', $dir ], [ '-d', $fresh, 'load', $dir ])
	{
		my ($rc, $out, $err) = pgm(@$cmd);
		is($rc, 1, "$name: $cmd->[-2] exits with 1");
		like($err, qr/^pg_migrate: error: \Q$file:$line: $msg\E/m,
			"$name: $cmd->[-2] names file, line $line and the problem")
		  or diag($err);
	}
	like((pgm('-d', $db, 'load', $dir))[2], qr/hint: Nothing was loaded\./,
		"$name: says nothing was loaded");
	is(catalog_state($db), $before, "$name: catalog unchanged");
	is(catalog_state($fresh), $fresh_before, "$name: extension not created");
}

# the same revision id in two files: both files and lines are named
{
	my $dir1 = tmpdir() . "/dup1";
	my $dir2 = tmpdir() . "/dup2";
	write_file("$dir1/aaa111_good.sql", $good);
	write_file("$dir2/x_copy.sql", "-- a comment first\n\n" . $good);
	for my $cmd ([ 'check', $dir1, $dir2 ], [ '-d', $db, 'load', $dir1, $dir2 ])
	{
		my ($rc, $out, $err) = pgm(@$cmd);
		is($rc, 1, "duplicate id: $cmd->[-3] exits with 1");
		like($err,
			qr/^pg_migrate: error: \Q$dir2\E\/x_copy\.sql:3: revision "aaa111" is defined twice\n.*detail: It is also defined in \Q$dir1\E\/aaa111_good\.sql, line 1\./m,
			"duplicate id: both files and lines named") or diag($err);
	}
	is(catalog_state($db), $before, "duplicate id: catalog unchanged");
}

# a file that cannot be read: a dangling symbolic link, and a file without
# read permission.  The second is read by a user without root's rights
# (pgm_unprivileged: as root, the tests' usual user in CI, through runuser),
# since root reads every file; the permission error shows that it was.
{
	my $dir = tmpdir() . "/unreadable";
	write_file("$dir/aaa111_good.sql", $good);
	symlink("$dir/nowhere", "$dir/ccc333_gone.sql") or die;
	for my $cmd ([ 'check', $dir ], [ '-d', $db, 'load', $dir ])
	{
		my ($rc, $out, $err) = pgm(@$cmd);
		is($rc, 1, "dangling link: $cmd->[-2] exits with 1");
		like($err, qr/^pg_migrate: error: \Q$dir\E\/ccc333_gone\.sql: could not open file: No such file or directory/m,
			"dangling link: file named") or diag($err);
	}
	is(catalog_state($db), $before, "dangling link: catalog unchanged");

	my $pdir = unprivileged_tmpdir() . "/unreadable";
	write_file("$pdir/aaa111_good.sql", $good);
	write_file("$pdir/ccc333_secret.sql", $good);
	chown_unprivileged($pdir, "$pdir/aaa111_good.sql", "$pdir/ccc333_secret.sql");
	chmod(0000, "$pdir/ccc333_secret.sql");
	my ($rc, $out, $err) = pgm_unprivileged('-d', $db, 'load', $pdir);
	is($rc, 1, "unreadable file: exit 1");
	like($err, qr/\Q$pdir\E\/ccc333_secret\.sql: could not open file: Permission denied/,
		"unreadable file: named") or diag($err);
	is(catalog_state($db), $before, "unreadable file: catalog unchanged");
}

# several broken files: every one is reported, not just the first
{
	my $dir = tmpdir() . "/many";
	write_file("$dir/a.sql", "");
	write_file("$dir/b.sql", "-- migrate:revision b\n");
	write_file("$dir/c.sql", $hdr . "-- migrate:oops\n");
	my ($rc, $out, $err) = pgm('check', $dir);
	is($rc, 1, 'several bad files: exit 1');
	like($err, qr/a\.sql:1: revision file is empty/, 'first bad file reported');
	like($err, qr/b\.sql:1: missing "-- migrate:down_revision" line/, 'second bad file reported');
	like($err, qr/c\.sql:3: unrecognized header key "oops"/, 'third bad file reported');
}

# files that are not revision files are skipped
{
	my $dir = tmpdir() . "/skipped";
	write_file("$dir/aaa111_good.sql", $good);
	write_file("$dir/README.md", "# not SQL\n\\i nothing\n");
	write_file("$dir/notes.txt", "\0binary\xff");
	write_file("$dir/aaa111_good.sql~", "editor backup");
	write_file("$dir/.hidden.sql", "");
	write_file("$dir/sub/ddd444_nested.sql", "broken");
	my ($out) = pgm_ok('check', $dir);
	is($out, "aaa111 (head)\n", 'only the .sql file of the directory is read');
	my ($rc, $out2, $err) = pgm('check', '--recursive', $dir);
	is($rc, 1, '--recursive reads subdirectories');
	like($err, qr/\Q$dir\E\/sub\/ddd444_nested\.sql:1: /, 'nested file named');
}

done_testing();
