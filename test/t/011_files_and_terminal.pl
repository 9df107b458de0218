# What pg_migrate reads and what it prints.
#
# Files: only regular files are revision files.  A FIFO named *.sql, a
# symbolic link to /dev/zero and a directory named x.sql are errors naming
# them (a FIFO must not block the reader, /dev/zero must not be read); a
# symbolic link whose target is outside the directory tree is an error
# unless --follow-external-links.  check and load report them all, and load
# then changes nothing.
#
# Terminal: a newline in a file name must not forge a "pg_migrate: hint:"
# line, and escape sequences in a message or in a server error must not
# reach the terminal, through check, load, upgrade, heads, history and
# current: control characters are printed escaped.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;
use IPC::Run;
use Cwd qw(realpath);

# pg_migrate with a time limit: a blocked reader fails instead of hanging
sub pgm_t
{
	my ($out, $err) = ('', '');
	my $ok = eval {
		IPC::Run::run([ $PG_MIGRATE, @_ ], '<', \undef, '>', \$out, '2>', \$err,
			IPC::Run::timeout(30));
		1;
	};
	return (124, $out, "timed out\n$err") unless $ok;
	my $rc = ($? & 127) ? 128 + ($? & 127) : $? >> 8;
	return ($rc, $out, $err);
}

sub revfile
{
	my ($id, $down, $msg, $body) = @_;
	return "-- migrate:revision $id\n-- migrate:down_revision $down\n"
	  . (defined $msg ? "-- migrate:message $msg\n" : '')
	  . "-- migrate:upgrade\n" . ($body // "SELECT 1;\n")
	  . "-- migrate:downgrade\nSELECT 1;\n";
}

#
# File types
#
my $top = realpath(tmpdir());
my $d = "$top/types";
write_file("$d/a1.sql", revfile('a1', 'none'));
write_file("$top/elsewhere/x1.sql", revfile('x1', 'a1'));
system('mkfifo', "$d/fifo.sql") == 0 or die 'mkfifo failed';
symlink('/dev/zero', "$d/zero.sql") or die "symlink: $!";
symlink('../elsewhere/x1.sql', "$d/out.sql") or die "symlink: $!";
mkdir("$d/x.sql") or die "mkdir: $!";
write_file("$d/x.sql/inner.txt", "not a revision\n");

my $expected = <<"EOF";
pg_migrate: error: $d/fifo.sql: not a regular file
pg_migrate: detail: It is a FIFO.
pg_migrate: hint: Revision files are regular files.
pg_migrate: error: $d/out.sql: symbolic link leads outside directory "$d"
pg_migrate: detail: Its target is "$top/elsewhere/x1.sql", which is not under "$d".
pg_migrate: hint: Copy the file into the directory, or give --follow-external-links to read files that links lead to wherever they are.
pg_migrate: error: $d/x.sql: not a regular file
pg_migrate: detail: It is a directory.
pg_migrate: hint: Revision files are regular files: rename the directory, or give -r to read it as a subdirectory.
pg_migrate: error: $d/zero.sql: not a regular file
pg_migrate: detail: It is a symbolic link to "/dev/zero", which is a character device.
pg_migrate: hint: Revision files are regular files.
EOF

my ($rc, $out, $err) = pgm_t('check', $d);
is($rc, 1, 'check of a FIFO, a /dev/zero link, a link out and a directory x.sql: fails at once');
is($err, $expected, 'check: each named, with what it is');

my $db = new_db();
my $before = catalog_state($db);
($rc, $out, $err) = pgm_t('-d', $db, 'load', $d);
is($rc, 1, 'load of the same: fails at once');
is($err, $expected . "pg_migrate: hint: Nothing was loaded.\n", 'load: each named');
is(catalog_state($db), $before, 'load: nothing changed');

# the link out of the tree is read with --follow-external-links; the
# others stay errors
unlink("$d/fifo.sql", "$d/zero.sql");
rmdir("$d/x.sql") or unlink("$d/x.sql/inner.txt") && rmdir("$d/x.sql");
($rc, $out, $err) = pgm_t('check', $d);
is($rc, 1, 'a link out of the tree alone: still an error');
($rc, $out, $err) = pgm_t('check', '--follow-external-links', $d);
is($rc, 0, 'check --follow-external-links reads it') or diag($err);
is($out, "x1 (head)\n", 'check --follow-external-links: the linked revision is there');
($rc, $out, $err) = pgm_t('-d', $db, 'load', '--follow-external-links', $d);
is($rc, 0, 'load --follow-external-links') or diag($err);
is($out, "added 2, updated 0, unchanged 0\n", 'load --follow-external-links: both revisions');

# a link inside the tree is followed without asking
{
	my $in = "$top/inside";
	write_file("$in/real/a1.sql", revfile('a1', 'none'));
	symlink('real/a1.sql', "$in/a1.sql") or die;
	($rc, $out, $err) = pgm_t('check', $in);
	is($rc, 0, 'a link into the tree is read') or diag($err);
	is($out, "a1 (head)\n", 'a link into the tree: its revision');
	symlink('real', "$in/sub") or die;
	unlink("$in/a1.sql");
	($rc, $out, $err) = pgm_t('check', '-r', $in);
	is($rc, 1, '-r: a linked subdirectory inside the tree is read (here: a duplicate)');
	like($err, qr/^pg_migrate: error: \Q$in\E\/sub\/a1\.sql:1: revision "a1" is defined twice$/m,
		'-r: both copies found');
}

#
# Terminal safety
#
my $ESC = "\x1b";
my $evil_msg = "Evil ${ESC}[2J${ESC}]0;owned\x07 \xc2\x9b31m \xe2\x80\xae end";
my $evil_shown = 'Evil \x1b[2J\x1b]0;owned\x07 \u009b31m \u202e end';

sub no_controls
{
	my ($what, $text) = @_;
	my @bad = $text =~ /([\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae])/g;
	is(scalar(@bad), 0, "$what: no control character reaches the terminal")
	  or diag(join(' ', map { sprintf('%vx', $_) } @bad));
}

# a newline in a file name
{
	my $nd = "$top/newline";
	my $name = "bad\npg_migrate: hint: all is well.sql";
	write_file("$nd/$name", "-- migrate:revision n1\n-- migrate:down_revision none\n-- migrate:author x\n");
	($rc, $out, $err) = pgm_t('check', $nd);
	is($rc, 1, 'file name with a newline: check fails');
	is($err, "pg_migrate: error: $nd/bad\\npg_migrate: hint: all is well.sql:3: unrecognized header key \"author\"\n"
		  . "pg_migrate: hint: The keys are revision, down_revision, branch_labels, depends_on, message, transactional, upgrade, downgrade and verify.\n",
		'file name with a newline: shown as \n, no forged hint line');
	unlike($err, qr/^pg_migrate: hint: all is well/m, 'file name with a newline: no line starts with the forged text');
	($rc, $out, $err) = pgm_t('-d', $db, 'load', $nd);
	is($rc, 1, 'file name with a newline: load fails');
	unlike($err, qr/^pg_migrate: hint: all is well/m, 'load: no forged line');

	# a valid file with such a name: check -v and load -v name it
	unlink("$nd/$name");
	write_file("$nd/$name", revfile('n1', 'none', $evil_msg));
	($rc, $out, $err) = pgm_t('-v', 'check', $nd);
	is($rc, 0, 'valid file with a newline in its name: check') or diag($err);
	is($out, "n1 (head) $nd/bad\\npg_migrate: hint: all is well.sql\n", 'check -v: the path escaped');
	no_controls('check -v', $out . $err);
	my $tdb = new_db();
	($rc, $out, $err) = pgm_t('-v', '-d', $tdb, 'load', $nd);
	is($rc, 0, 'load -v') or diag($err);
	like($err, qr/^pg_migrate: added n1 \(\Q$nd\E\/bad\\npg_migrate: hint: all is well\.sql\)$/m,
		'load -v: the path escaped');
	no_controls('load -v', $out . $err);

	# the message with escape sequences, through the server's output
	($rc, $out, $err) = pgm_t('-d', $tdb, 'upgrade');
	is($rc, 0, 'upgrade') or diag($err);
	like($err, qr/^NOTICE:  upgrade  -> n1, \Q$evil_shown\E$/m, 'upgrade: the step notice shows the message escaped');
	like($out, qr/\Q$evil_shown\E/, 'upgrade: the result table shows the message escaped');
	no_controls('upgrade', $out . $err);
	for my $cmd (qw(heads history current))
	{
		($rc, $out, $err) = pgm_t('-d', $tdb, $cmd);
		is($rc, 0, $cmd) or diag($err);
		like($out, qr/\Q$evil_shown\E/, "$cmd: the message escaped");
		no_controls($cmd, $out . $err);
	}
	($rc, $out, $err) = pgm_t('-d', $tdb, 'downgrade', 'base');
	is($rc, 0, 'downgrade') or diag($err);
	like($err, qr/^NOTICE:  downgrade n1 -> , \Q$evil_shown\E$/m, 'downgrade: the step notice escaped');
	no_controls('downgrade', $out . $err);
}

# a server error quoting user data: a body raising an error with escape
# sequences, a newline and a forged line in its text
{
	my $ed = "$top/raise";
	write_file("$ed/r1.sql", revfile('r1', 'none', 'Raises',
		"DO \$\$ BEGIN RAISE EXCEPTION USING MESSAGE = E'boom \\x1b[31m red\\npg_migrate: hint: all is well',"
		  . " DETAIL = E'd \\x1b[0m', HINT = E'h \\x07'; END \$\$;\n"));
	my $rdb = new_db();
	pgm_ok('-d', $rdb, 'load', $ed);
	($rc, $out, $err) = pgm_t('-d', $rdb, 'upgrade');
	is($rc, 1, 'a body raising an error with control characters: upgrade fails');
	like($err, qr/^pg_migrate: error: boom \\x1b\[31m red\\npg_migrate: hint: all is well$/m,
		'the server error escaped, on one line');
	like($err, qr/^pg_migrate: detail: d \\x1b\[0m$/m, 'its DETAIL escaped');
	like($err, qr/^pg_migrate: hint: h \\x07$/m, 'its HINT escaped');
	unlike($err, qr/^pg_migrate: hint: all is well/m, 'no forged line');
	no_controls('upgrade failing', $out . $err);
}

done_testing();
