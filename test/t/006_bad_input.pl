# Bad input, catalogued: malformed, hostile, huge and degenerate input
# through the SQL API and through pg_migrate.  Every case states what it
# gives, how, and what must come back: the SQLSTATE, message, DETAIL, HINT
# and CONTEXT of the error (or the exact result where the right behaviour is
# success), and that the database is byte for byte what it was before.
#
# "The database" is everything the input could reach: the extension and its
# schema, every relation of every user schema (so a DROP TABLE smuggled in
# an id or a target shows up), the rows of a victim table, every column of
# migrate_revision, migrate_version and migrate_log, and the log's sequence.
#
# The big ones build their own databases: a 100,000-revision linear chain
# (registered in one statement, upgraded and downgraded in one call each, its
# relative targets walked to both ends, closed into a 100,000-long cycle), a
# 100,000-revision history of 100 labelled branches with dependencies, a
# 10,000-way merge through SQL and through 10,001 files, and a 100 MB body
# through migrate_register and through a file.  Graph walks must be
# iterative: a recursive walk would overflow the stack on these.
#
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;
use IPC::Run;
use Digest::MD5 qw(md5_hex);
use File::Path qw(make_path);
use Time::HiRes qw(time);

my $started = time();

#
# Helpers
#

# Run SQL statements in one psql session, one -c each (a BEGIN in one
# carries over to the next); stops at the first error.  The error is printed
# verbosely: "ERROR:  SQLSTATE: message".  Returns (exit code, stdout, stderr).
sub sql_run
{
	my ($db, @stmts) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
			'-v', 'VERBOSITY=verbose', '-d', $db, map { ('-c', $_) } @stmts ],
		'<', \undef, '>', \$out, '2>', \$err);
	my $rc = ($? & 127) ? 128 + ($? & 127) : $? >> 8;
	chomp $out;
	return ($rc, $out, $err);
}

# The first error of psql's verbose output, as a hash: code, message,
# detail, hint, context.  Notices and warnings (step progress) are skipped.
sub psql_error
{
	my ($text) = @_;
	my (%e, $cur);
	for my $line (split /\n/, $text)
	{
		if ($line =~ /^(?:psql:\S+ )?(ERROR|WARNING|NOTICE|INFO|DETAIL|HINT|CONTEXT|LOCATION|QUERY|STATEMENT):  (.*)$/)
		{
			my ($field, $value) = ($1, $2);
			if ($field eq 'ERROR')
			{
				last if exists $e{code};
				$e{code} = $value =~ s/^([0-9A-Z]{5}): // ? $1 : '';
				$e{message} = $value;
				$cur = 'message';
			}
			elsif (!exists $e{code} || $field =~ /^(WARNING|NOTICE|INFO)$/)
			{
				$cur = undef;
				last if exists $e{code};
			}
			else
			{
				$cur = $field =~ /^(LOCATION|QUERY|STATEMENT)$/ ? undef : lc $field;
				$e{$cur} = $value if defined $cur;
			}
		}
		elsif ($line =~ /^LINE \d+: /)
		{
			$cur = undef;
		}
		elsif (defined $cur)
		{
			$e{$cur} .= "\n$line";
		}
	}
	return \%e;
}

# The first error of pg_migrate's standard error, as a hash: message,
# detail, hint, context (lines joined) and code (with -v).  The closing
# "hint: Nothing was loaded." of load is not part of it.
sub pgm_error
{
	my ($text) = @_;
	my (%e, $cur);
	for my $line (split /\n/, $text)
	{
		next if $line eq 'pg_migrate: hint: Nothing was loaded.';
		if ($line =~ /^pg_migrate: (error|detail|hint|context|sqlstate): (.*)$/)
		{
			my ($field, $value) = ($1, $2);
			if ($field eq 'error')
			{
				last if exists $e{message};
				$e{message} = $value;
				$cur = 'message';
			}
			elsif (exists $e{message})
			{
				$cur = $field eq 'sqlstate' ? 'code' : $field;
				$e{$cur} = exists $e{$cur} && $cur eq 'context' ? "$e{$cur}\n$value" : $value;
			}
		}
		elsif ($line =~ /^(?:pg_migrate: |[A-Z]+:  )/)
		{
			$cur = undef;	# an informational line or a server notice
		}
		elsif (defined $cur)
		{
			$e{$cur} .= "\n$line";
		}
	}
	return \%e;
}

# Compare an error with a case's expectations: code is a string; message,
# detail, hint and context are regexes, or undef where there must be none.
# A DETAIL or HINT the case does not mention must not be there either (the
# case lists everything the user sees); CONTEXT is checked when given.
sub check_error
{
	my ($name, $got, $case) = @_;
	is($got->{code}, $case->{code}, "$name: SQLSTATE $case->{code}")
	  if defined $case->{code};
	for my $field (qw(message detail hint context))
	{
		my $want = $case->{$field};
		next if $field eq 'context' && !exists $case->{$field};
		if (defined $want)
		{
			like($got->{$field} // '<none>', $want, "$name: $field");
		}
		else
		{
			ok(!defined $got->{$field}, "$name: no $field")
			  or diag("$field: $got->{$field}");
		}
	}
}

# Everything the input could reach, as text, in one psql call.  The
# extension lives in public in every database of this file; where it is
# absent, the failing queries' errors are part of the text.  A failing query
# is recorded as its error: a dropped table shows up as a difference.
sub db_state
{
	my ($db) = @_;
	my @q = (
		"SELECT 'schemas: ' || string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace"
		  . " WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'",
		"SELECT 'relations: ' || coalesce(string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text,"
		  . " ',' ORDER BY n.nspname, c.relname), '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		  . " WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'",
		"SELECT 'extension: ' || coalesce((SELECT extversion || ' in ' || extnamespace::regnamespace::text"
		  . " FROM pg_extension WHERE extname = 'migrations'), 'absent')",
		"SELECT 'victim: ' || coalesce(string_agg(v, ',' ORDER BY v), '') FROM public.victim",
	);
	for my $t (qw(migrate_revision migrate_version migrate_log))
	{
		# every column of every row; the rows themselves too when few
		push @q, "SELECT '$t: ' || count(*) || ' rows, md5 '"
		  . " || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
		  . " || CASE WHEN count(*) <= 20 THEN E'\\n' || coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') ELSE '' END"
		  . " FROM public.$t t";
	}
	push @q, "SELECT 'sequence: ' || last_value || ' ' || is_called FROM public.migrate_log_id_seq";
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-X', '-q', '-A', '-t', '-d', $db, map { ('-c', $_) } @q ],
		'<', \undef, '>', \$out, '2>', \$err);
	return "$out$err";
}

# The state of a database before a case: what the previous case left, if
# it was taken (every case ends with a snapshot), else a new snapshot
my %last_state;
sub state_before
{
	my ($db) = @_;
	return $last_state{$db} //= db_state($db);
}
sub state_after
{
	my ($db) = @_;
	return $last_state{$db} = db_state($db);
}

# Write a directory of revision files (name => content); returns its path
my $ndirs = 0;
sub files_dir
{
	my (%files) = @_;
	my $dir = tmpdir() . "/case" . ++$ndirs;
	make_path($dir);
	write_file("$dir/$_", $files{$_}) for keys %files;
	return $dir;
}

# A revision file
sub revfile
{
	my (%h) = @_;
	my $text = "-- migrate:revision $h{id}\n-- migrate:down_revision " . ($h{down} // 'none') . "\n";
	$text .= "-- migrate:branch_labels $h{labels}\n" if defined $h{labels};
	$text .= "-- migrate:depends_on $h{deps}\n" if defined $h{deps};
	$text .= "-- migrate:message $h{message}\n" if defined $h{message};
	$text .= "-- migrate:upgrade\n" . ($h{upgrade} // 'SELECT 1;') . "\n";
	$text .= "-- migrate:downgrade\n$h{downgrade}\n" if defined $h{downgrade};
	return $text;
}

my $MB = 1024 * 1024;
my $inj = q{x'); DROP TABLE victim; --};
my $ninputs = 0;	# distinct bad inputs tried, for the summary

#
# The reference database: a victim table, and a small history applied up
# to r2 (r3 pending), so that version rows, log rows and the sequence all
# hold something a stray write would change.  A second database lacks the
# extension: a failed load must not create it.
#
my $db = new_db();
psql($db, "CREATE TABLE victim (v text); INSERT INTO victim VALUES ('still here')");
psql($db, "CREATE EXTENSION migrations");
psql($db, "SELECT migrate_register('r1', '{}', 'CREATE TABLE t_one (id int)', 'DROP TABLE t_one', 'One.', '{lab}'),"
	  . " migrate_register('r2', '{r1}', 'CREATE TABLE t_two (id int)', 'DROP TABLE t_two', 'Two.'),"
	  . " migrate_register('r3', '{r2}', 'CREATE TABLE t_three (id int)', 'DROP TABLE t_three', 'Three.')");
psql($db, "SET client_min_messages = warning; SELECT count(*) FROM migrate_upgrade('r2')");
my $fresh = new_db();
psql($fresh, "CREATE TABLE victim (v text); INSERT INTO victim VALUES ('still here')");

# steps that run and then fail leave the log's sequence advanced (sequences
# are not transactional): those cases run in a copy of the database
my $seqdb = "${db}_seq";
psql('postgres', "CREATE DATABASE $seqdb TEMPLATE $db");

my $ref_state = db_state($db);
like($ref_state, qr/^migrate_version: 1 rows/m, 'reference database: r2 applied');
like($ref_state, qr/^migrate_log: 2 rows/m, 'reference database: two log rows');
like($ref_state, qr/^sequence: 2 true$/m, 'reference database: the sequence has moved');
like($ref_state, qr/^victim: still here$/m, 'reference database: the victim is there');
my $fresh_state = db_state($fresh);
like($fresh_state, qr/^extension: absent$/m, 'second database: no extension');

#
# SQL cases.  sql: statements run in one session (an error ends it, and with
# it any transaction: nothing may remain).  Either code/message/detail/hint/
# context (regexes; undef: must be absent) or out (stdout of a success,
# usually inside a transaction rolled back at the end).  seq: the sequence
# may advance (steps ran and logged before the failure; sequences are not
# transactional): those run in a copy of the reference database and compare
# everything else.
#
my $reg = "SELECT migrate_register";
my $id_detail = qr/^A revision id is 1 to 32 letters, digits or underscores\.$/;
my $label_detail = qr/^A branch label is 1 to 64 letters, digits or underscores\.$/;
my $reserved_detail = qr/^"base", "head", "heads" and "current" are words of the target grammar\.$/;
my $nomatch = sub { my $t = quotemeta(shift); qr/^No revision id, branch label or unique id prefix matches "$t"\.$/ };
my $short_prefix_hint = qr/^Prefixes match only revision ids and labels longer than three characters\.$/;
my $heads_hint = qr/^Use "heads" to target all heads, or "<branch>\@head" to target the head of one branch\.$/;
my $utf8_hint = qr/^Revision files are UTF-8 text; convert the file, for example with iconv\.$/;
# the core's texts (mg_check_name), which files and the server share
my $down_detail = qr/^A down_revision is a revision id: 1 to 32 letters, digits or underscores\.$/;
my $dep_detail = qr/^A dependency is a revision id or a branch label: 1 to 64 letters, digits or underscores\.$/;

my @sql_cases = (
	# NULL for each argument of each function
	{ name => 'register: NULL revision', sql => ["$reg(NULL, '{}', 'SELECT 1')"],
	  code => '22004', message => qr/^revision must not be null$/, detail => undef, hint => undef },
	{ name => 'register: NULL down_revisions', sql => ["$reg('n1', NULL, 'SELECT 1')"],
	  code => '22004', message => qr/^down_revisions of revision "n1" must not be null$/,
	  detail => undef, hint => qr/^Use '\{\}' for a base revision\.$/ },
	{ name => 'register: NULL upgrade', sql => ["$reg('n1', '{r3}', NULL)"],
	  code => '22004', message => qr/^upgrade of revision "n1" must not be null$/, detail => undef, hint => undef },
	{ name => 'register: NULL transactional',
	  sql => ["$reg('n1', '{r3}', 'SELECT 1', 'SELECT 1', 'm', '{}', '{}', NULL)"],
	  code => '22004', message => qr/^transactional of revision "n1" must not be null$/ },
	{ name => 'register: NULL downgrade is "no downgrade"',
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1', NULL)",
		"SELECT downgrade IS NULL FROM migrate_revision WHERE revision = 'n1'", 'ROLLBACK' ],
	  out => "added\nt" },
	{ name => 'register: NULL message',
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1', 'SELECT 1', NULL)",
		"SELECT message IS NULL FROM migrate_revision WHERE revision = 'n1'", 'ROLLBACK' ],
	  out => "added\nt" },
	{ name => 'register: NULL branch_labels is the same as {}',
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1', 'SELECT 1', 'm', NULL)",
		"SELECT branch_labels FROM migrate_revision WHERE revision = 'n1'",
		"$reg('n1', '{r3}', 'SELECT 1', 'SELECT 1', 'm', '{}')", 'ROLLBACK' ],
	  out => "added\n{}\nunchanged" },
	{ name => 'register: NULL depends_on is the same as {}',
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1', 'SELECT 1', 'm', '{}', NULL)",
		"SELECT depends_on FROM migrate_revision WHERE revision = 'n1'",
		"$reg('n1', '{r3}', 'SELECT 1', 'SELECT 1', 'm', '{}', '{}')", 'ROLLBACK' ],
	  out => "added\n{}\nunchanged" },
	{ name => 'register: NULL source',
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1', 'SELECT 1', 'm', '{}', '{}', true, NULL)",
		"SELECT source IS NULL FROM migrate_revision WHERE revision = 'n1'", 'ROLLBACK' ],
	  out => "added\nt" },
	{ name => 'upgrade: NULL target', sql => ["SELECT * FROM migrate_upgrade(NULL)"],
	  code => '22004', message => qr/^target must not be null$/, detail => undef, hint => undef },
	{ name => 'downgrade: NULL target', sql => ["SELECT * FROM migrate_downgrade(NULL)"],
	  code => '22004', message => qr/^target must not be null$/ },
	{ name => 'stamp: NULL target', sql => ["SELECT * FROM migrate_stamp(NULL)"],
	  code => '22004', message => qr/^target must not be null$/ },
	{ name => 'stamp: NULL purge', sql => ["SELECT * FROM migrate_stamp('r3', NULL)"],
	  code => '22004', message => qr/^purge must not be null$/ },
	{ name => 'resolve: NULL target', sql => ["SELECT * FROM migrate_resolve(NULL)"],
	  code => '22004', message => qr/^target must not be null$/ },
	{ name => 'show: NULL target', sql => ["SELECT * FROM migrate_show(NULL)"],
	  code => '22004', message => qr/^target must not be null$/ },
	{ name => 'history: NULL range is the whole history',
	  sql => ["SELECT revision || ' ' || is_applied FROM migrate_history(NULL)"],
	  out => "r3 false\nr2 true\nr1 true" },

	# NULL elements, empty arrays
	{ name => 'register: NULL element in down_revisions', sql => ["$reg('n1', '{r3,NULL}', 'SELECT 1')"],
	  code => '22004', message => qr/^down_revisions must not contain null elements$/ },
	{ name => 'register: NULL element in branch_labels',
	  sql => ["$reg('n1', '{r3}', 'SELECT 1', branch_labels => '{NULL}')"],
	  code => '22004', message => qr/^branch_labels must not contain null elements$/ },
	{ name => 'register: NULL element in depends_on',
	  sql => ["$reg('n1', '{r3}', 'SELECT 1', depends_on => ARRAY['r1', NULL])"],
	  code => '22004', message => qr/^depends_on must not contain null elements$/ },
	{ name => "register: '{}' down_revisions makes a new base (a second head)",
	  sql => [ 'BEGIN', "$reg('n1', '{}', 'SELECT 1')",
		"SELECT string_agg(revision, ' ' ORDER BY revision) FROM migrate_heads()", 'ROLLBACK' ],
	  out => "added\nn1 r3" },

	# malformed ids
	{ name => 'register: empty id', sql => ["$reg('', '{r3}', 'SELECT 1')"],
	  code => '42602', message => qr/^invalid revision id ""$/, detail => $id_detail },
	{ name => 'register: whitespace-only id', sql => ["$reg('   ', '{r3}', 'SELECT 1')"],
	  code => '42602', message => qr/^invalid revision id "   "$/, detail => $id_detail },
	{ name => 'register: id with a trailing newline', sql => ["$reg(E'n1\\n', '{r3}', 'SELECT 1')"],
	  code => '42602', message => qr/^invalid revision id "n1\n"$/, detail => $id_detail },
	{ name => 'register: non-ASCII id', sql => ["$reg('r\x{c3}\x{a9}1', '{r3}', 'SELECT 1')"],
	  code => '42602', message => qr/^invalid revision id "r\x{c3}\x{a9}1"$/, detail => $id_detail },
	{ name => 'register: 33-character id', sql => ["$reg(repeat('a', 33), '{r3}', 'SELECT 1')"],
	  code => '42602', message => qr/^invalid revision id "a{33}"$/, detail => $id_detail },
	{ name => 'register: 32-character id is the longest',
	  sql => [ 'BEGIN', "$reg(repeat('a', 32), '{r3}', 'SELECT 1')", 'ROLLBACK' ], out => 'added' },
	{ name => 'register: 1 MB id', sql => ["$reg(repeat('a', $MB), '{r3}', 'SELECT 1')"],
	  code => '42602', message => qr/^invalid revision id "a{80}\.\.\."$/, detail => $id_detail },
	{ name => 'register: SQL injection in the id', sql => ["$reg('x''); DROP TABLE victim; --', '{r3}', 'SELECT 1')"],
	  code => '42602', message => qr/^invalid revision id "\Q$inj\E"$/, detail => $id_detail },
	(map {
		my $w = $_;
		{ name => "register: reserved id \"$w\"", sql => ["$reg('$w', '{r3}', 'SELECT 1')"],
		  code => '42939', message => qr/^revision id "$w" is a reserved word$/, detail => $reserved_detail }
	} qw(heads head base current)),
	{ name => 'register: id "none" is an ordinary id through SQL (files refuse it)',
	  sql => [ 'BEGIN', "$reg('none', '{r3}', 'SELECT 1')", "SELECT * FROM migrate_resolve('none')", 'ROLLBACK' ],
	  out => "added\nnone" },

	# malformed parents, labels, dependencies
	{ name => 'register: SQL injection in a down_revision',
	  sql => ["$reg('n1', ARRAY['r3''; DROP TABLE victim; --'], 'SELECT 1')"],
	  code => '42602', message => qr/^invalid down_revision "r3'; DROP TABLE victim; --" in revision "n1"$/,
	  detail => qr/^A down_revision is a revision id: 1 to 32 letters, digits or underscores\.$/ },
	{ name => 'register: 1 MB down_revision', sql => ["$reg('n1', ARRAY[repeat('b', $MB)], 'SELECT 1')"],
	  code => '42602', message => qr/^invalid down_revision "b{80}\.\.\." in revision "n1"$/,
	  detail => qr/^A down_revision is a revision id: 1 to 32 letters, digits or underscores\.$/ },
	{ name => 'register: empty string down_revision', sql => ["$reg('n1', '{\"\"}', 'SELECT 1')"],
	  code => '42602', message => qr/^invalid down_revision "" in revision "n1"$/,
	  detail => qr/^A down_revision is a revision id: 1 to 32 letters, digits or underscores\.$/ },
	{ name => 'register: reserved down_revision', sql => ["$reg('n1', '{base}', 'SELECT 1')"],
	  code => '42939', message => qr/^down_revision "base" in revision "n1" is a reserved word$/,
	  detail => $reserved_detail },
	{ name => 'register: down_revision listed twice', sql => ["$reg('n1', '{r3,r2,r3}', 'SELECT 1')"],
	  code => '42710', message => qr/^down_revision "r3" is listed twice in revision "n1"$/ },
	{ name => 'register: SQL injection in a branch label',
	  sql => ["$reg('n1', '{r3}', 'SELECT 1', branch_labels => ARRAY['x''); DROP TABLE victim; --'])"],
	  code => '42602', message => qr/^invalid branch label "\Q$inj\E" in revision "n1"$/, detail => $label_detail },
	{ name => 'register: 65-character branch label',
	  sql => ["$reg('n1', '{r3}', 'SELECT 1', branch_labels => ARRAY[repeat('l', 65)])"],
	  code => '42602', message => qr/^invalid branch label "l{65}" in revision "n1"$/, detail => $label_detail },
	{ name => 'register: branch label with a Cyrillic letter',
	  sql => ["$reg('n1', '{r3}', 'SELECT 1', branch_labels => ARRAY['l\x{d0}\x{b0}b'])"],
	  code => '42602', message => qr/^invalid branch label "l\x{d0}\x{b0}b" in revision "n1"$/,
	  detail => $label_detail },
	(map {
		my $w = $_;
		{ name => "register: reserved branch label \"$w\"",
		  sql => ["$reg('n1', '{r3}', 'SELECT 1', branch_labels => '{$w}')"],
		  code => '42939', message => qr/^branch label "$w" in revision "n1" is a reserved word$/,
		  detail => $reserved_detail }
	} qw(head base)),
	{ name => 'register: branch label listed twice',
	  sql => ["$reg('n1', '{r3}', 'SELECT 1', branch_labels => '{l1,l1}')"],
	  code => '42710', message => qr/^branch label "l1" is listed twice in revision "n1"$/ },
	{ name => 'register: SQL injection in a dependency',
	  sql => ["$reg('n1', '{r3}', 'SELECT 1', depends_on => ARRAY['x''); DROP TABLE victim; --'])"],
	  code => '42602', message => qr/^invalid dependency "\Q$inj\E" in revision "n1"$/,
	  detail => qr/^A dependency is a revision id or a branch label: 1 to 64 letters, digits or underscores\.$/ },
	{ name => 'register: reserved dependency', sql => ["$reg('n1', '{r3}', 'SELECT 1', depends_on => '{current}')"],
	  code => '42939', message => qr/^dependency "current" in revision "n1" is a reserved word$/,
	  detail => $reserved_detail },
	{ name => 'register: dependency listed twice', sql => ["$reg('n1', '{r3}', 'SELECT 1', depends_on => '{r1,r1}')"],
	  code => '42710', message => qr/^dependency "r1" is listed twice in revision "n1"$/ },

	# self-references and cycles: registration accepts references it cannot
	# check yet (parents may come later in the transaction); migrate_check()
	# refuses the graph, and the transaction leaves nothing
	{ name => 'self-reference in down_revisions',
	  sql => [ 'BEGIN', "$reg('n1', '{n1}', 'SELECT 1')", 'SELECT migrate_check()' ],
	  code => '42P17', message => qr/^revision "n1" is its own down_revision$/,
	  detail => qr/^Revision "n1" lists itself in down_revisions\.$/ },
	{ name => 'self-reference in depends_on',
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1', depends_on => '{n1}')", 'SELECT migrate_check()' ],
	  code => '42P17', message => qr/^revision "n1" depends on itself$/,
	  detail => qr/^Revision "n1" lists itself in depends_on\.$/ },
	{ name => 'self-reference through its own branch label',
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1', branch_labels => '{nl}', depends_on => '{nl}')",
		'SELECT migrate_check()' ],
	  code => '42P17', message => qr/^revision "n1" depends on itself$/,
	  detail => qr/^Revision "n1" lists itself in depends_on\.$/ },
	{ name => 'cycle through down_revisions',
	  sql => [ 'BEGIN', "$reg('x1', '{y1}', 'SELECT 1'), migrate_register('y1', '{x1}', 'SELECT 1')",
		'SELECT migrate_check()' ],
	  code => '42P17', message => qr/^revisions form a cycle$/,
	  detail => qr/^Revisions form a cycle through down_revisions: (x1 -> y1 -> x1|y1 -> x1 -> y1)\.$/ },
	{ name => 'cycle through depends_on',
	  sql => [ 'BEGIN', "$reg('x1', '{r3}', 'SELECT 1', depends_on => '{y1}'),"
		  . " migrate_register('y1', '{r3}', 'SELECT 1', depends_on => '{x1}')", 'SELECT migrate_check()' ],
		  code => '42P17', message => qr/^revisions form a dependency cycle$/,
		  detail => qr/^Revisions form a cycle through down_revisions and depends_on: (x1 -> y1 -> x1|y1 -> x1 -> y1)\.$/ },
	{ name => 'cycle through a parent and a dependency',
	  sql => [ 'BEGIN', "$reg('x1', '{r3}', 'SELECT 1', depends_on => '{y1}'),"
		  . " migrate_register('y1', '{x1}', 'SELECT 1')", 'SELECT migrate_check()' ],
		  code => '42P17', message => qr/^revisions form a dependency cycle$/,
		  detail => qr/^Revisions form a cycle through down_revisions and depends_on: (x1 -> y1 -> x1|y1 -> x1 -> y1)\.$/ },
	{ name => 'cycle through a dependency on a branch label',
	  sql => [ 'BEGIN', "$reg('x1', '{r3}', 'SELECT 1', branch_labels => '{xl}', depends_on => '{y1}'),"
		  . " migrate_register('y1', '{r3}', 'SELECT 1', depends_on => '{xl}')", 'SELECT migrate_check()' ],
		  code => '42P17', message => qr/^revisions form a dependency cycle$/,
		  detail => qr/^Revisions form a cycle through down_revisions and depends_on: (x1 -> y1 -> x1|y1 -> x1 -> y1)\.$/ },
	{ name => 'dangling down_revision',
	  sql => [ 'BEGIN', "$reg('n1', '{nothere}', 'SELECT 1')", 'SELECT migrate_check()' ],
	  code => '42704', message => qr/^down_revision "nothere" of revision "n1" does not exist$/,
	  detail => qr/^Revision "n1" has down_revision "nothere", which is not registered\.$/ },
	{ name => 'dangling dependency',
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1', depends_on => '{nothere}')", 'SELECT migrate_check()' ],
	  code => '42704', message => qr/^dependency "nothere" of revision "n1" does not exist$/,
	  detail => qr/^Revision "n1" depends on "nothere", which is neither a registered revision nor a branch label\.$/ },
	{ name => 'branch label equal to a revision id',
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1', branch_labels => '{r1}')", 'SELECT migrate_check()' ],
	  code => '42710', message => qr/^branch label "r1" of revision "n1" is already used by revision "r1"$/,
	  detail => qr/^Branch label "r1" of revision "n1" is the id of revision "r1"\.$/ },
	{ name => 'branch label declared by two revisions',
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1', branch_labels => '{lab}')", 'SELECT migrate_check()' ],
	  code => '42710', message => qr/^branch label "lab" of revision "n1" is already used by revision "r1"$/,
	  detail => qr/^Branch label "lab" of revision "n1" is also declared by revision "r1"\.$/ },
	{ name => 'register: new body for an applied revision',
	  sql => ["$reg('r1', '{}', 'CREATE TABLE t_one (id bigint)', 'DROP TABLE t_one', 'One.', '{lab}')"],
	  code => '55000', message => qr/^cannot change applied revision "r1"$/,
	  detail => qr/^Revision "r1" is applied to this database, and the new definition changes its upgrade body\.$/,
	  hint => qr/^Write a new revision for the new change, or downgrade below "r1" first\.$/ },

	# targets
	{ name => 'upgrade: empty target', sql => ["SELECT * FROM migrate_upgrade('')"],
	  code => '22023', message => qr/^target must not be empty$/,
	  hint => qr/^Use "heads" for every head, or "base" for the state before the first revision\.$/ },
	{ name => 'stamp: only separators', sql => ["SELECT * FROM migrate_stamp(' , ')"],
	  code => '22023', message => qr/^target must not be empty$/ },
	{ name => 'history: empty range', sql => ["SELECT * FROM migrate_history('')"],
	  code => '22023', message => qr/^invalid history range ""$/,
	  detail => qr/^A range has the form "\[start\]:\[end\]"\.$/ },
	{ name => 'upgrade: SQL injection in the target',
	  sql => ["SELECT * FROM migrate_upgrade('heads''; DROP TABLE victim; --')"],
	  code => '42704', message => qr/^revision "heads'; DROP TABLE victim; --" does not exist$/,
	  detail => $nomatch->(q{heads'; DROP TABLE victim; --}), hint => undef },
	{ name => 'downgrade: SQL injection in the target',
	  sql => ["SELECT * FROM migrate_downgrade('r1''); DROP TABLE victim; --')"],
	  code => '42704', message => qr/^revision "r1'\); DROP TABLE victim; --" does not exist$/,
	  detail => $nomatch->(q{r1'); DROP TABLE victim; --}) },
	{ name => 'stamp: SQL injection in the targets (split at blanks)',
	  sql => ["SELECT * FROM migrate_stamp('r1''; DROP TABLE victim; --')"],
	  code => '42704', message => qr/^revision "r1';" does not exist$/,
	  detail => $nomatch->(q{r1';}) },
	{ name => 'history: SQL injection in the range',
	  sql => ["SELECT * FROM migrate_history('''; DROP TABLE victim; --:')"],
	  code => '42704', message => qr/^revision "'; DROP TABLE victim; --" does not exist$/,
	  detail => $nomatch->(q{'; DROP TABLE victim; --}) },
	{ name => 'resolve: SQL injection in the target',
	  sql => ["SELECT * FROM migrate_resolve('r1'' OR ''1''=''1')"],
	  code => '42704', message => qr/^revision "r1' OR '1'='1" does not exist$/,
	  detail => $nomatch->(q{r1' OR '1'='1}) },
	{ name => 'upgrade: a@@b', sql => ["SELECT * FROM migrate_upgrade('a\@\@b')"],
	  code => '42704', message => qr/^branch "a" does not exist$/,
	  detail => qr/^No branch label, revision id or unique id prefix matches "a"\.$/ },
	{ name => 'upgrade: label@@revision', sql => ["SELECT * FROM migrate_upgrade('lab\@\@r3')"],
	  code => '42704', message => qr/^revision "\@r3" does not exist$/,
	  detail => qr/^No revision id, branch label or unique id prefix in the lineage of branch "lab" matches "\@r3"\.$/,
	  hint => $short_prefix_hint },
	{ name => 'upgrade: @head', sql => ["SELECT * FROM migrate_upgrade('\@head')"],
	  code => '22023', message => qr/^invalid target "\@head"$/,
	  detail => qr/^A branch name and a revision must stand on both sides of "\@", as in "<branch>\@head"\.$/ },
	{ name => 'upgrade: label@', sql => ["SELECT * FROM migrate_upgrade('lab\@')"],
	  code => '22023', message => qr/^invalid target "lab\@"$/,
	  detail => qr/^A branch name and a revision must stand on both sides of "\@", as in "<branch>\@head"\.$/ },
	{ name => 'upgrade: +-1', sql => ["SELECT * FROM migrate_upgrade('+-1')"],
	  code => '42704', message => qr/^revision "\+-1" does not exist$/, hint => $short_prefix_hint,
	  detail => $nomatch->('+-1') },
	{ name => 'upgrade: +99999999999999999999', sql => ["SELECT * FROM migrate_upgrade('+99999999999999999999')"],
	  code => '22023', message => qr/^relative step count in "\+99999999999999999999" is out of range$/,
	  detail => undef, hint => undef },
	{ name => 'downgrade: -99999999999999999999', sql => ["SELECT * FROM migrate_downgrade('-99999999999999999999')"],
	  code => '22023', message => qr/^relative step count in "-99999999999999999999" is out of range$/ },
	{ name => 'downgrade: label@-99999999999999999999',
	  sql => ["SELECT * FROM migrate_downgrade('lab\@-99999999999999999999')"],
	  code => '22023', message => qr/^relative step count in "lab\@-99999999999999999999" is out of range$/ },
	{ name => 'upgrade: +1000000000 (the largest count) walks off the top',
	  sql => ["SELECT * FROM migrate_upgrade('+1000000000')"],
	  code => '22023', message => qr/^relative target "\+1000000000" goes beyond the head revisions$/,
	  detail => qr/^Fewer than 1000000000 revisions lie above the current revision\.$/ },
	{ name => 'upgrade: 1 MB target', sql => ["SELECT * FROM migrate_upgrade(repeat('t', $MB))"],
	  code => '42704', message => qr/^revision "t{80}\.\.\." does not exist$/,
	  detail => qr/^No revision id, branch label or unique id prefix matches "t{80}\.\.\."\.$/ },
	{ name => 'upgrade: 1 MB of @', sql => ["SELECT * FROM migrate_upgrade(repeat('\@', $MB))"],
	  code => '22023', message => qr/^invalid target "\@{80}\.\.\."$/,
	  detail => qr/^A branch name and a revision must stand on both sides of "\@", as in "<branch>\@head"\.$/ },
	{ name => 'upgrade: 1 MB of label@', sql => ["SELECT * FROM migrate_upgrade(repeat('lab\@', $MB / 4) || '+1')"],
	  code => '42704', message => qr/^branch "(lab\@){20}\.\.\." does not exist$/,
	  detail => qr/^No branch label, revision id or unique id prefix matches "(lab\@){20}\.\.\."\.$/ },
	{ name => 'upgrade: a range', sql => ["SELECT * FROM migrate_upgrade('r1:r3')"],
	  code => '22023', message => qr/^upgrade target "r1:r3" cannot be a range$/,
	  hint => qr/^Ranges are accepted by migrate_history\(\) only\.$/ },
	{ name => 'upgrade: leading blank', sql => ["SELECT * FROM migrate_upgrade(' heads')"],
	  code => '42704', message => qr/^revision " heads" does not exist$/,
	  detail => $nomatch->(' heads') },
	{ name => 'upgrade: negative relative target', sql => ["SELECT * FROM migrate_upgrade('-1')"],
	  code => '22023', message => qr/^relative upgrade target "-1" must be positive$/,
	  detail => qr/^"-1" would not move up from the current revisions\.$/,
	  hint => qr/^Use migrate_downgrade\(\) to move down\.$/ },
	{ name => 'downgrade: positive relative target', sql => ["SELECT * FROM migrate_downgrade('+1')"],
	  code => '22023', message => qr/^relative downgrade target "\+1" must be negative$/,
	  detail => qr/^"\+1" would not move down from the current revisions\.$/,
	  hint => qr/^Use migrate_upgrade\(\) to move up\.$/ },
	{ name => 'downgrade: to heads, which are not applied', sql => ["SELECT * FROM migrate_downgrade('heads')"],
	  code => '22023', message => qr/^cannot downgrade to "heads"$/,
	  detail => qr/^Revision "r3" is not below the current heads "r2"\.$/,
	  hint => qr/^A downgrade target must be an applied revision or "base"\.$/ },
	{ name => 'upgrade: head with two heads',
	  sql => [ 'BEGIN', "$reg('n1', '{}', 'SELECT 1')", "SELECT * FROM migrate_upgrade('head')" ],
	  code => '21000', message => qr/^target "head" matches several head revisions$/,
	  detail => qr/^The heads are "r3" and "n1"\.$/,
	  hint => qr/^Use "heads" to target all heads, or "<branch>\@head" to target the head of one branch\.$/ },
	{ name => 'upgrade: ambiguous prefix',
	  sql => [ 'BEGIN', "$reg('abcd1', '{r3}', 'SELECT 1'), migrate_register('abcd2', '{r3}', 'SELECT 1')",
		"SELECT * FROM migrate_upgrade('abcd')" ],
	  code => '22023', message => qr/^revision prefix "abcd" is ambiguous$/,
	  detail => qr/^Prefix "abcd" matches "abcd1" and "abcd2"\.$/,
	  hint => qr/^Give more characters of the revision id\.$/ },

	# revisions and version tables that cannot be run
	{ name => 'upgrade: non-transactional revision',
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1', transactional => false)", "SELECT * FROM migrate_upgrade('heads')" ],
	  code => '0A000', message => qr/^revision "n1" is not transactional$/,
	  detail => qr/^Revision "n1" is registered with transactional = false, and steps run inside the caller's transaction\.$/,
	  hint => qr/^Non-transactional revisions are not supported yet: run its SQL by hand, then record it with migrate_stamp\(\)\.$/ },
	{ name => 'downgrade: revision without a downgrade body',
	  sql => [ 'BEGIN', "$reg('n1', '{r2}', 'SELECT 1')", "UPDATE migrate_version SET revision = 'n1'",
		"SELECT * FROM migrate_downgrade('r2')" ],
	  code => '55000', message => qr/^revision "n1" has no downgrade$/,
	  detail => qr/^The downgrade needs to undo revision "n1", which was registered without a downgrade body\.$/,
	  hint => qr/^Undo it by hand and record the result with migrate_stamp\(\), or choose a target above it\.$/ },
	{ name => 'version table naming an unregistered revision',
	  sql => [ 'BEGIN', "INSERT INTO migrate_version VALUES ('ghost')", "SELECT * FROM migrate_upgrade('heads')" ],
	  code => '55000', message => qr/^version table contains unrecognized revision "ghost"$/,
	  detail => qr/^Revision "ghost" is listed in migrate_version but is not registered\.$/,
	  hint => qr/^Register the revision, or reset the version table with migrate_stamp\(\.\.\., purge => true\)\.$/ },
	{ name => 'version table holding a revision and its ancestor',
	  sql => [ 'BEGIN', "INSERT INTO migrate_version VALUES ('r1')", "SELECT * FROM migrate_upgrade('heads')" ],
	  code => '55000', message => qr/^version table lists revision "r2" and its ancestor "r1"$/,
	  hint => qr/^Use migrate_stamp\(\) to set the version table to the intended heads\.$/,
	  detail => qr/^Revision "r1" is an ancestor of revision "r2"; migrate_version must hold only the current heads\.$/ },
	{ name => 'upgrade body with a syntax error', db => $seqdb, seq => 1,
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELEC 1')", "SELECT * FROM migrate_upgrade('heads')" ],
	  code => '42601', message => qr/^syntax error at or near "SELEC"$/,
	  context => qr/^upgrade of revision "n1"$/ },
	{ name => 'upgrade body that commits', db => $seqdb, seq => 1,
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1; COMMIT')", "SELECT * FROM migrate_upgrade('heads')" ],
	  code => '2D000', message => qr/^revision "n1" cannot control the transaction$/,
	  detail => qr/^Its upgrade body contains a transaction control statement such as COMMIT, ROLLBACK or SAVEPOINT\.$/,
	  hint => qr/^Steps run inside the caller's transaction; remove the statement from the body\.$/ },
	{ name => 'upgrade body that calls migrate_upgrade() (recursion)', db => $seqdb, seq => 1,
	  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT * FROM migrate_upgrade()')", "SELECT * FROM migrate_upgrade('heads')" ],
	  code => '55000', message => qr/^cannot call migrate_upgrade\(\) from a migration step$/,
	  context => qr/upgrade of revision "n1"$/,
	  detail => qr/^A revision body runs inside migrate_upgrade\(\) or migrate_downgrade\(\), which own the migration state until it ends\.$/ },

	# many revisions, then a bad one: nothing of them remains
	{ name => 'one statement registering 100,000 revisions, the last one malformed',
	  sql => ["SELECT count(migrate_register(CASE WHEN i = 100000 THEN 'bad id' ELSE 'g' || i END,"
		  . " CASE WHEN i = 1 THEN '{r3}'::text[] ELSE ARRAY['g' || (i - 1)] END, 'SELECT 1',"
		  . " source => 'gen/' || i || '.sql')) FROM generate_series(1, 100000) i"],
		  code => '42602', message => qr/^invalid revision id "bad id"$/,
		  context => qr/^registering revision "bad id" from "gen\/100000\.sql"$/,
		  detail => $id_detail },
	{ name => 'a transaction registering 10,000 revisions, then a self-reference',
	  sql => [ 'BEGIN', "SELECT count(migrate_register('g' || i, CASE WHEN i = 1 THEN '{r3}'::text[]"
		  . " ELSE ARRAY['g' || (i - 1)] END, 'SELECT 1')) FROM generate_series(1, 10000) i",
		"$reg('g10001', '{g10000}', 'SELECT 1', depends_on => '{g10001}')", 'SELECT migrate_check()' ],
	  code => '42P17', message => qr/^revision "g10001" depends on itself$/,
	  detail => qr/^Revision "g10001" lists itself in depends_on\.$/ },
);
case_count(\@sql_cases, 95, 'SQL cases');

my $t_sql = time();
for my $case (@sql_cases)
{
	my $name = $case->{name};
	my $target_db = $case->{db} // $db;
	my $before = state_before($target_db);
	my ($rc, $out, $err) = sql_run($target_db, @{ $case->{sql} });
	if (exists $case->{out})
	{
		is($rc, 0, "$name: succeeds") or diag($err);
		is($out, $case->{out}, "$name: result");
	}
	else
	{
		isnt($rc, 0, "$name: fails");
		my $e = psql_error($err);
		check_error($name, $e, $case);
		diag($err) if !defined $e->{code} || $e->{code} ne $case->{code};
	}
	my $after = state_after($target_db);
	if ($case->{seq})
	{
		# the steps that ran took log ids before the failure
		s/^sequence: .*\n?//m for $before, $after;
		$name .= ' (but the sequence)';
	}
	is($after, $before, "$name: database unchanged");
	$ninputs++;
}

note(sprintf('SQL cases: %.1f s', time() - $t_sql));

#
# Revision files through pg_migrate: check (offline), load into the
# reference database, load into the database without the extension.  Every
# parse error names the file and the line; nothing is loaded; the extension
# is not created.
#
# file cases: content of the bad file (next to a good base revision), the
# line named, and message, detail, hint (the message is matched after
# "FILE:LINE: ").
my $crlf = sub { my $t = shift; $t =~ s/\n/\r\n/g; $t };
my $base_good = revfile(id => 'f0', message => 'Good.');
my @file_cases = (
	{ name => 'Latin-1 byte in the message',
	  content => "-- migrate:revision f1\n-- migrate:down_revision f0\n-- migrate:message Caf\xe9\n-- migrate:upgrade\nSELECT 1;\n",
	  line => 3, message => qr/^invalid byte sequence for encoding "UTF8"$/,
	  detail => qr/^Bytes 0xe9 0x0a 0x2d 0x2d at column 23 are not valid UTF-8\.$/,
	  hint => qr/^Revision files are UTF-8 text; convert the file, for example with iconv\.$/ },
	{ name => 'UTF-16 file with its byte order mark',
	  content => join('', map { "$_\0" } split //, "\xff-- migrate:revision f1\n") =~ s/^\xff\0/\xff\xfe/r,
	  line => 1, message => qr/^invalid byte sequence for encoding "UTF8"$/,
	  detail => qr/^Bytes 0xff 0xfe 0x2d 0x00 at column 1 are not valid UTF-8\.$/,
	  hint => $utf8_hint },
	{ name => 'UTF-8-encoded surrogate in the body',
	  content => revfile(id => 'f1', down => 'f0', upgrade => "SELECT 1;\n-- \xed\xa0\x80"),
	  line => 5, message => qr/^invalid byte sequence for encoding "UTF8"$/,
	  detail => qr/^Bytes 0xed 0xa0 0x80 0x0a at column 4 are not valid UTF-8\.$/,
	  hint => $utf8_hint },
	{ name => 'overlong UTF-8 encoding of "/"',
	  content => revfile(id => 'f1', down => 'f0', upgrade => "SELECT '\xc0\xaf';"),
	  line => 4, message => qr/^invalid byte sequence for encoding "UTF8"$/,
	  detail => qr/^Bytes 0xc0 0xaf 0x27 0x3b at column 9 are not valid UTF-8\.$/,
	  hint => $utf8_hint },
	{ name => 'NUL byte in the revision id',
	  content => "-- migrate:revision f\x001\n-- migrate:down_revision f0\n-- migrate:upgrade\n",
	  line => 1, message => qr/^file contains a NUL byte$/,
	  detail => qr/^The NUL byte is at column 22\.$/,
	  hint => qr/^Revision files are UTF-8 text\.$/ },
	{ name => '1 MB revision id',
	  content => revfile(id => 'a' x $MB, down => 'f0'),
	  line => 1, message => qr/^invalid revision id "a{80}\.\.\."$/, detail => $id_detail },
	{ name => '1 MB down_revision',
	  content => revfile(id => 'f1', down => 'b' x $MB),
	  line => 2, message => qr/^invalid down_revision "b{80}\.\.\." in revision "f1"$/,
	  detail => $down_detail },
	{ name => '1 MB branch label',
	  content => revfile(id => 'f1', down => 'f0', labels => 'l' x $MB),
	  line => 3, message => qr/^invalid branch label "l{80}\.\.\." in revision "f1"$/,
	  detail => $label_detail },
	{ name => 'SQL injection in the revision id',
	  content => revfile(id => $inj, down => 'f0'),
	  line => 1, message => qr/^invalid revision id "\Q$inj\E"$/, detail => $id_detail },
	{ name => 'SQL injection in down_revision',
	  content => revfile(id => 'f1', down => "f0'); DROP TABLE victim; --"),
	  line => 2, message => qr/^invalid down_revision "f0'\); DROP TABLE victim; --" in revision "f1"$/,
	  detail => $down_detail },
	{ name => 'SQL injection in branch_labels',
	  content => revfile(id => 'f1', down => 'f0', labels => $inj),
	  line => 3, message => qr/^invalid branch label "\Q$inj\E" in revision "f1"$/,
	  detail => $label_detail },
	{ name => 'SQL injection in depends_on',
	  content => revfile(id => 'f1', down => 'f0', deps => $inj),
	  line => 3, message => qr/^invalid dependency "\Q$inj\E" in revision "f1"$/,
	  detail => $dep_detail },
	{ name => 'non-breaking space after the id',
	  content => revfile(id => "f1\xc2\xa0", down => 'f0'),
	  line => 1, message => qr/^invalid revision id "f1\xc2\xa0"$/,
	  detail => $id_detail },
	{ name => 'zero-width space inside a branch label',
	  content => revfile(id => 'f1', down => 'f0', labels => "l\xe2\x80\x8bb"),
	  line => 3, message => qr/^invalid branch label "l\xe2\x80\x8bb" in revision "f1"$/,
	  detail => $label_detail },
	{ name => 'whitespace-only revision id',
	  content => "-- migrate:revision  \t \n-- migrate:down_revision f0\n-- migrate:upgrade\n",
	  line => 1, message => qr/^empty revision id$/, hint => qr/^Write "-- migrate:revision <id>"\.$/ },
	{ name => 'two ids on the revision line',
	  content => revfile(id => 'f1 f2', down => 'f0'),
	  line => 1, message => qr/^invalid revision id "f1 f2"$/,
	  detail => $id_detail },
	{ name => 'reserved revision id',
	  content => revfile(id => 'heads', down => 'f0'),
	  line => 1, message => qr/^revision id "heads" is a reserved word$/, detail => $reserved_detail },
	{ name => 'revision id "NONE"',
	  content => revfile(id => 'NONE', down => 'f0'),
	  line => 1, message => qr/^revision id "NONE" cannot be used in revision files$/,
	  detail => qr/^"-- migrate:down_revision none" marks a base revision\.$/ },
	{ name => 'reserved branch label',
	  content => revfile(id => 'f1', down => 'f0', labels => 'current'),
	  line => 3, message => qr/^branch label "current" in revision "f1" is a reserved word$/,
	  detail => $reserved_detail },
	{ name => 'reserved down_revision',
	  content => revfile(id => 'f1', down => 'base'),
	  line => 2, message => qr/^down_revision "base" in revision "f1" is a reserved word$/,
	  detail => $reserved_detail },
	{ name => 'none among parents',
	  content => revfile(id => 'f1', down => 'none, f0'),
	  line => 2, message => qr/^"none" in a down_revision list$/,
	  hint => qr/^A base revision has "-- migrate:down_revision none" and no other parent\.$/ },
	{ name => 'empty item in down_revision',
	  content => revfile(id => 'f1', down => 'f0,,r1'),
	  line => 2, message => qr/^empty item in down_revision list$/,
	  hint => qr/^Separate items with single commas\.$/ },
	{ name => 'down_revision listed twice',
	  content => revfile(id => 'f1', down => 'f0, f0'),
	  line => 2, message => qr/^down_revision lists "f0" twice$/ },
	{ name => 'header key in upper case',
	  content => "-- migrate:Revision f1\n-- migrate:down_revision f0\n-- migrate:upgrade\n",
	  line => 1, message => qr/^unrecognized header key "Revision"$/,
	  hint => qr/^The keys are revision, down_revision, branch_labels, depends_on, message, transactional, upgrade, downgrade and verify\.$/ },
	{ name => 'invalid transactional value',
	  content => "-- migrate:revision f1\n-- migrate:down_revision f0\n-- migrate:transactional maybe\n-- migrate:upgrade\n",
	  line => 3, message => qr/^invalid value "maybe" for "transactional"$/, hint => qr/^Use true or false\.$/ },
	{ name => 'header key after the body started',
	  content => "-- migrate:revision f1\n-- migrate:upgrade\nSELECT 1;\n-- migrate:down_revision f0\n",
	  line => 4, message => qr/^header key "down_revision" after the start of a body$/,
	  hint => qr/^Header lines come before "-- migrate:upgrade"\.$/ },
	{ name => 'text after a body marker',
	  content => "-- migrate:revision f1\n-- migrate:down_revision f0\n-- migrate:upgrade DROP TABLE victim;\n",
	  line => 3, message => qr/^unexpected text after "-- migrate:upgrade"$/,
	  hint => qr/^The body starts on the next line\.$/ },
	{ name => 'unterminated dollar quote',
	  content => revfile(id => 'f1', down => 'f0', upgrade => "DO \$\$ BEGIN\n-- migrate:downgrade\nDROP TABLE victim;"),
	  line => 4, message => qr/^unterminated dollar-quoted string in the upgrade body$/,
	  detail => qr/^The dollar-quoted string starting on line 4 runs to the end of the file\.$/,
	  hint => qr/^Close it; a "-- migrate:" line inside it is part of it, not a marker\.$/ },
	{ name => 'psql meta-command hidden after a string',
	  content => revfile(id => 'f1', down => 'f0', upgrade => "SELECT 'a'; \\! rm -rf /"),
	  line => 4, message => qr/^psql meta-command "\\!" in the upgrade body$/,
	  detail => qr/^Bodies are sent to the server as SQL; psql's backslash commands are not run\.$/,
	  hint => qr/^Write the SQL the meta-command stands for, or split the revision\.$/ },
);
case_count(\@file_cases, 29, 'revision-file cases');

my $t_files = time();
for my $case (@file_cases)
{
	my $name = $case->{name};
	my $dir = files_dir('f0_good.sql' => $base_good, 'f1_bad.sql' => $case->{content});
	my $file = "$dir/f1_bad.sql";
	my ($db_before, $fresh_before) = (state_before($db), state_before($fresh));
	for my $cmd ([ 'check', $dir ], [ '-d', $db, 'load', $dir ], [ '-d', $fresh, 'load', $dir ])
	{
		my $what = $cmd->[0] eq 'check' ? 'check' : $cmd->[1] eq $db ? 'load' : 'load (no extension)';
		my ($rc, $out, $err) = pgm(@$cmd);
		is($rc, 1, "$name: $what exits with 1");
		my $e = pgm_error($err);
		my $prefix = quotemeta("$file:$case->{line}: ");
		like($e->{message} // '', qr/^$prefix/, "$name: $what names the file and line $case->{line}")
		  or diag($err);
		$e->{message} =~ s/^$prefix// if defined $e->{message};
		check_error("$name: $what", $e, $case);
		like($err, qr/^pg_migrate: hint: Nothing was loaded\.$/m, "$name: $what: nothing was loaded")
		  if $what ne 'check';
	}
	is(state_after($db), $db_before, "$name: reference database unchanged");
	is(state_after($fresh), $fresh_before, "$name: extension not created");
	$ninputs++;
}

note(sprintf('file cases: %.1f s', time() - $t_files));

# CR-only line ends (classic Mac OS): refused; the message should not carry
# raw carriage returns, which make a terminal overwrite the line
{
	my $name = 'CR-only line ends';
	my $dir = files_dir('f1.sql' => "-- migrate:revision f1\r-- migrate:down_revision none\r-- migrate:upgrade\rSELECT 1;\r");
	my $before = state_before($db);
	my ($rc, $out, $err) = pgm('-d', $db, 'load', $dir);
	is($rc, 1, "$name: load fails");
	like($err, qr/^pg_migrate: error: \Q$dir\E\/f1\.sql:1: invalid revision id "f1/m, "$name: the file and line are named");
	is(state_after($db), $before, "$name: database unchanged");
	unlike($err, qr/\r/, "$name: no raw carriage return in the message");
	like($err, qr/invalid revision id "f1\\r-- migrate:down_revision none\\r/,
		"$name: the carriage returns are shown escaped");
	$ninputs++;
}

# Graph errors in files: check finds them offline; load sends everything
# and the server's migrate_check() refuses it (SQLSTATE with -v).
my @graph_cases = (
	{ name => 'file: self-reference in down_revision',
	  files => { 'f1.sql' => revfile(id => 'f1', down => 'f1') },
	  code => '42P17', message => qr/^revision "f1" is its own down_revision$/,
	  detail => qr/^Revision "f1" lists itself in down_revisions\.$/ },
	{ name => 'file: self-reference in depends_on',
	  files => { 'f1.sql' => revfile(id => 'f1', deps => 'f1') },
	  code => '42P17', message => qr/^revision "f1" depends on itself$/,
	  detail => qr/^Revision "f1" lists itself in depends_on\.$/ },
	{ name => 'files: cycle through down_revision',
	  files => { 'f1.sql' => revfile(id => 'f1', down => 'f2'), 'f2.sql' => revfile(id => 'f2', down => 'f1'),
		'f0.sql' => $base_good },
	  code => '42P17', message => qr/^revisions form a cycle$/,
	  detail => qr/^Revisions form a cycle through down_revisions: (f1 -> f2 -> f1|f2 -> f1 -> f2)\.$/ },
	{ name => 'files: cycle through depends_on',
	  files => { 'f0.sql' => $base_good, 'f1.sql' => revfile(id => 'f1', down => 'f0', deps => 'f2'),
		'f2.sql' => revfile(id => 'f2', down => 'f0', deps => 'f1') },
	  code => '42P17', message => qr/^revisions form a dependency cycle$/,
	  detail => qr/^Revisions form a cycle through down_revisions and depends_on: (f1 -> f2 -> f1|f2 -> f1 -> f2)\.$/ },
	{ name => 'file: dangling dependency',
	  files => { 'f1.sql' => revfile(id => 'f1', deps => 'nothere') },
	  code => '42704', message => qr/^dependency "nothere" of revision "f1" does not exist$/,
	  detail => qr/^Revision "f1" depends on "nothere", which is neither a registered revision nor a branch label\.$/ },
	{ name => 'files: branch label declared twice',
	  files => { 'f1.sql' => revfile(id => 'f1', labels => 'dup'), 'f2.sql' => revfile(id => 'f2', down => 'f1', labels => 'dup') },
	  code => '42710', message => qr/^branch label "dup" of revision "f2" is already used by revision "f1"$/,
	  detail => qr/^Branch label "dup" of revision "f2" is also declared by revision "f1"\.$/ },
);
case_count(\@graph_cases, 6, 'graph cases in files');
for my $case (@graph_cases)
{
	my $name = $case->{name};
	my $dir = files_dir(%{ $case->{files} });
	my ($db_before, $fresh_before) = (state_before($db), state_before($fresh));
	my ($rc, $out, $err) = pgm('check', $dir);
	is($rc, 1, "$name: check exits with 1");
	check_error("$name: check", pgm_error($err), { %$case, code => undef });
	for my $target ($db, $fresh)
	{
		($rc, $out, $err) = pgm('-v', '-d', $target, 'load', $dir);
		is($rc, 1, "$name: load exits with 1");
		check_error("$name: load", pgm_error($err), $case);
		like($err, qr/^pg_migrate: hint: Nothing was loaded\.$/m, "$name: nothing was loaded");
	}
	is(state_after($db), $db_before, "$name: reference database unchanged");
	is(state_after($fresh), $fresh_before, "$name: extension not created");
	$ninputs++;
}

# A file that is fine on its own but clashes with the database: a branch
# label equal to a revision id registered there
{
	my $name = 'file: branch label equal to a revision id of the database';
	my $dir = files_dir('f1.sql' => revfile(id => 'f1', labels => 'r1'));
	my $before = state_before($db);
	my ($out) = pgm_ok('check', $dir);
	is($out, "f1 (r1) (head)\n", "$name: fine offline");
	my ($rc, $o, $err) = pgm('-v', '-d', $db, 'load', $dir);
	is($rc, 1, "$name: load fails");
	check_error($name, pgm_error($err), { code => '42710',
		message => qr/^branch label "r1" of revision "f1" is already used by revision "r1"$/,
		detail => qr/^Branch label "r1" of revision "f1" is the id of revision "r1"\.$/ });
	is(state_after($db), $before, "$name: database unchanged");
	$ninputs++;
}

# Targets through pg_migrate (parameters, never spliced into SQL)
my @target_cases = (
	{ name => 'pg_migrate upgrade: SQL injection', args => [ 'upgrade', "heads'; DROP TABLE victim; --" ],
	  code => '42704', message => qr/^revision "heads'; DROP TABLE victim; --" does not exist$/,
	  detail => $nomatch->(q{heads'; DROP TABLE victim; --}) },
	{ name => 'pg_migrate downgrade: -99999999999999999999', args => [ 'downgrade', '-99999999999999999999' ],
	  code => '22023', message => qr/^relative step count in "-99999999999999999999" is out of range$/ },
	{ name => 'pg_migrate upgrade: +99999999999999999999', args => [ 'upgrade', '+99999999999999999999' ],
	  code => '22023', message => qr/^relative step count in "\+99999999999999999999" is out of range$/ },
	{ name => 'pg_migrate stamp: a@@b', args => [ 'stamp', 'a@@b' ],
	  code => '42704', message => qr/^revision "a" does not exist$/,
	  detail => $nomatch->('a'), hint => $short_prefix_hint },
	{ name => 'pg_migrate stamp: SQL injection in one of several targets', args => [ 'stamp', 'r2', "r3'); DROP TABLE victim; --" ],
	  code => '42704', message => qr/^revision "r3'\);" does not exist$/,
	  detail => $nomatch->(q{r3');}) },
	{ name => 'pg_migrate history: SQL injection in a range', args => [ 'history', "r1:'; DROP TABLE victim; --" ],
	  code => '42704', message => qr/^revision "'; DROP TABLE victim; --" does not exist$/,
	  detail => $nomatch->(q{'; DROP TABLE victim; --}) },
	{ name => 'pg_migrate upgrade: empty target', args => [ 'upgrade', '' ],
	  code => '22023', message => qr/^target must not be empty$/,
	  hint => qr/^Use "heads" for every head, or "base" for the state before the first revision\.$/ },
	{ name => 'pg_migrate upgrade: 100 kB target', args => [ 'upgrade', 'x' x 100_000 ],
	  code => '42704', message => qr/^revision "x{80}\.\.\." does not exist$/,
	  detail => qr/^No revision id, branch label or unique id prefix matches "x{80}\.\.\."\.$/ },
	{ name => 'pg_migrate downgrade: +1', args => [ 'downgrade', '+1' ],
	  code => '22023', message => qr/^relative downgrade target "\+1" must be negative$/,
	  detail => qr/^"\+1" would not move down from the current revisions\.$/,
	  hint => qr/^Use migrate_upgrade\(\) to move up\.$/ },
	{ name => 'pg_migrate upgrade: a range', args => [ 'upgrade', 'r1:r3' ],
	  code => '22023', message => qr/^upgrade target "r1:r3" cannot be a range$/,
	  hint => qr/^Ranges are accepted by migrate_history\(\) only\.$/ },
);
case_count(\@target_cases, 10, 'pg_migrate target cases');
for my $case (@target_cases)
{
	my $name = $case->{name};
	my $before = state_before($db);
	my ($rc, $out, $err) = pgm('-v', '-d', $db, @{ $case->{args} });
	is($rc, 1, "$name: exits with 1");
	check_error($name, pgm_error($err), $case);
	is(state_after($db), $before, "$name: database unchanged");
	$ninputs++;
}

# Symbolic links looping back with --recursive: the walk must end
{
	my $name = 'load --recursive with a directory linking to itself';
	my $dir = files_dir('f0.sql' => $base_good);
	symlink('.', "$dir/loop") or die;
	my $before = state_before($db);
	my ($rc, $out, $err) = pgm('-d', $db, 'load', '-r', $dir);
	is($rc, 1, "$name: fails");
	# the link is recognized as the directory that contains it
	is($err, "pg_migrate: error: $dir/loop: directory loop\n"
		  . "pg_migrate: detail: \"$dir/loop\" is the directory \"$dir\", which contains it.\n"
		  . "pg_migrate: hint: Remove the symbolic link, or load without -r.\n"
		  . "pg_migrate: hint: Nothing was loaded.\n",
		"$name: the loop is named");
	is(state_after($db), $before, "$name: database unchanged");
	$ninputs++;

	$name = 'check --recursive with two directories linking to themselves';
	symlink('.', "$dir/loop2") or die;
	my ($o, $e) = ('', '');
	my $h = IPC::Run::start([ $PG_MIGRATE, 'check', '-r', $dir ], '<', \undef, '>', \$o, '2>', \$e,
		IPC::Run::timeout(5));
	my $finished = eval { $h->finish; 1 };
	$h->kill_kill unless $finished;
	ok($finished, "$name: ends within 5 seconds");
	like($e, qr/^pg_migrate: error: \Q$dir\E\/loop2: directory loop\npg_migrate: detail: "\Q$dir\E\/loop2" is the directory "\Q$dir\E", which contains it\.\npg_migrate: hint: Remove the symbolic link, or load without -r\.$/m,
		"$name: the loop is named");
	$ninputs++;
}

#
# Success where it is due: CRLF, byte order marks, hostile free text
#
{
	my $name = 'CRLF line ends';
	my $dir = files_dir(
		'a1.sql' => $crlf->("-- migrate:revision a1\n-- migrate:down_revision none\n-- migrate:message Crlf one.\n"
			  . "-- migrate:upgrade\nCREATE TABLE crlf_t (v text DEFAULT 'x\ny');\n\n-- migrate:downgrade\nDROP TABLE crlf_t;\n"),
		'b2.sql' => "\xef\xbb\xbf" . revfile(id => 'b2', down => 'a1', message => 'Bom two.',
			upgrade => 'CREATE TABLE bom_t ();', downgrade => 'DROP TABLE bom_t;'),
		'c3.sql' => "\xef\xbb\xbf" . $crlf->(revfile(id => 'c3', down => 'b2', message => "O'Brien'); DROP TABLE victim; --",
			upgrade => 'SELECT 1;', downgrade => '')));
	my ($out) = pgm_ok('check', $dir);
	is($out, "c3 (head)\n", 'CRLF, BOM, BOM + CRLF: check reads them');
	my $cdb = new_db();
	psql($cdb, "CREATE TABLE victim (v text); INSERT INTO victim VALUES ('still here')");
	($out) = pgm_ok('-d', $cdb, 'load', $dir);
	is($out, "added 3, updated 0, unchanged 0\n", "$name: all three loaded");
	is(psql($cdb, "SELECT string_agg(concat_ws('|', revision, down_revisions, message, upgrade, downgrade, source),"
		  . " E'\\n---\\n' ORDER BY seq) FROM migrate_revision"),
		"a1|{}|Crlf one.|CREATE TABLE crlf_t (v text DEFAULT 'x\ny');|DROP TABLE crlf_t;|" . ($dir =~ s{.*/}{}r) . "/a1.sql\n---\n"
		  . "b2|{a1}|Bom two.|CREATE TABLE bom_t ();|DROP TABLE bom_t;|" . ($dir =~ s{.*/}{}r) . "/b2.sql\n---\n"
		  . "c3|{b2}|O'Brien'); DROP TABLE victim; --|SELECT 1;||" . ($dir =~ s{.*/}{}r) . "/c3.sql",
		'CRLF and BOM: exact rows, no carriage return or byte order mark kept, free text stored as written');
	is(psql($cdb, "SELECT count(*) FROM migrate_revision WHERE upgrade ~ E'[\\r\\uFEFF]' OR message ~ E'[\\r\\uFEFF]'"
		  . " OR downgrade ~ E'[\\r\\uFEFF]'"), 0, 'no CR or BOM anywhere');
	my ($rc, $o, $err) = pgm('-d', $cdb, 'upgrade');
	is($rc, 0, 'CRLF and BOM: upgrade runs') or diag($err);
	like($err, qr/^NOTICE:  upgrade b2 -> c3, O'Brien'\); DROP TABLE victim; --$/m, 'the hostile message is only shown');
	is(psql($cdb, "SELECT string_agg(v, ',') FROM victim"), 'still here', 'the victim is still there');
	($rc, $o, $err) = pgm('-d', $cdb, 'downgrade', 'base');
	is($rc, 0, 'CRLF and BOM: downgrade runs') or diag($err);
	is(psql($cdb, "SELECT count(*) FROM pg_tables WHERE tablename IN ('crlf_t', 'bom_t')"), 0, 'tables dropped again');
	$ninputs += 3;
}

#
# 100 MB bodies
#
{
	# through migrate_register: stored exactly, upgrade runs it
	my $bdb = new_db();
	psql($bdb, 'CREATE EXTENSION migrations');
	my $t0 = time();
	my ($rc, $out, $err) = sql_run($bdb,
		"SELECT migrate_register('huge', '{}', 'SELECT 1;' || repeat(' ', 100 * $MB), 'SELECT 2;')",
		"SELECT length(upgrade) FROM migrate_revision",
		'SET client_min_messages = warning',
		"SELECT revision FROM migrate_upgrade('heads')");
	is($rc, 0, '100 MB body through migrate_register: registered and upgraded') or diag($err);
	is($out, "added\n" . (100 * $MB + 9) . "\nhuge", '100 MB body: stored whole, one step');
	note(sprintf('100 MB body through SQL: %.1f s', time() - $t0));

	# through a file: read, sent by COPY, stored exactly
	my $dir = tmpdir() . "/hugebody";
	make_path($dir);
	my $line = '-- ' . ('x' x 96) . "\n";
	my $body = "SELECT 1;\n" . ($line x (100 * $MB / 100));
	open(my $fh, '>:raw', "$dir/h1.sql") or die;
	print $fh "-- migrate:revision h1\n-- migrate:down_revision none\n-- migrate:upgrade\n", $body,
	  "-- migrate:downgrade\nSELECT 2;\n";
	close $fh;
	chomp $body;	# stored without the trailing line end
	$t0 = time();
	my $hdb = new_db();
	my ($o) = pgm_ok('-d', $hdb, 'load', $dir);
	is($o, "added 1, updated 0, unchanged 0\n", '100 MB body through pg_migrate load');
	is(psql($hdb, "SELECT length(upgrade) || ' ' || md5(upgrade) || ' ' || downgrade FROM migrate_revision"),
		length($body) . ' ' . md5_hex($body) . ' SELECT 2;', '100 MB body from a file: stored byte for byte');
	note(sprintf('100 MB body through pg_migrate: %.1f s', time() - $t0));
	unlink("$dir/h1.sql");
	$ninputs += 2;
}

#
# A 100,000-revision linear chain: registered in one statement, planned,
# upgraded and downgraded in one call each, relative targets walked to both
# ends, and closed into a 100,000-long cycle.  Every walk of the graph core
# goes the length of the chain.
#
{
	my $cdb = new_db();
	psql($cdb, 'CREATE EXTENSION migrations');
	my $t0 = time();
	my ($rc, $out, $err) = sql_run($cdb,
		"SELECT count(migrate_register('c' || i, CASE WHEN i = 1 THEN '{}'::text[] ELSE ARRAY['c' || (i - 1)] END,"
		  . " 'SELECT 1', 'SELECT 1', CASE WHEN i % 25000 = 0 THEN 'Step ' || i END,"
		  . " CASE WHEN i = 1 THEN '{chain}'::text[] ELSE '{}' END)) FROM generate_series(1, 100000) i");
	is("$rc $out", '0 100000', '100,000-long chain registered in one statement') or diag($err);
	note(sprintf('chain: registered in %.1f s', time() - $t0));
	($rc, $out, $err) = sql_run($cdb, 'SELECT migrate_check()',
		"SELECT revision || ' ' || array_to_string(branch_labels, ',') FROM migrate_heads()",
		"SELECT count(*) FROM migrate_history()",
		"SELECT count(*) FROM migrate_history('c5:c99995')",
		"SELECT * FROM migrate_resolve('chain\@head')",
		"SELECT count(*) FROM migrate_resolve('chain\@base')");
	is($out, "\nc100000 chain\n100000\n99991\nc100000\n0", 'chain: check, heads, history, label lookups')
	  or diag($err);

	my $state = db_state($cdb);
	my @chain_errors = (
		{ name => 'chain: c1+100000 walks off the top', sql => "SELECT * FROM migrate_upgrade('c1+100000')",
		  code => '22023', message => qr/^relative target "c1\+100000" goes beyond the head revisions$/,
		  detail => qr/^Fewer than 100000 revisions lie above "c1"\.$/ },
		{ name => 'chain: +100001 from nothing', sql => "SELECT * FROM migrate_upgrade('+100001')",
		  code => '22023', message => qr/^relative target "\+100001" goes beyond the head revisions$/,
		  detail => qr/^Fewer than 100001 revisions lie above the current revision\.$/ },
		{ name => 'chain: chain@+100001', sql => "SELECT * FROM migrate_upgrade('chain\@+100001')",
		  code => '22023', message => qr/^relative target "chain\@\+100001" goes beyond the head revisions$/,
		  detail => qr/^Fewer than 100001 revisions lie above the current revision\.$/ },
		{ name => 'chain: -1 with nothing applied', sql => "SELECT * FROM migrate_downgrade('-1')",
		  code => '22023', message => qr/^relative target "-1" goes below base$/,
		  detail => qr/^The version table is empty\.$/ },
		{ name => 'chain: c100000-100001 walks below base', sql => "SELECT * FROM migrate_upgrade('c100000-100001')",
		  code => '22023', message => qr/^relative target "c100000-100001" goes below base$/,
		  detail => qr/^Fewer than 100001 revisions lie below "c100000"\.$/ },
	);
	case_count(\@chain_errors, 5, '100,000-chain error cases');
	for my $case (@chain_errors)
	{
		my $t1 = time();
		($rc, $out, $err) = sql_run($cdb, $case->{sql});
		isnt($rc, 0, "$case->{name}: fails");
		check_error($case->{name}, psql_error($err), $case);
		ok(time() - $t1 < 30, "$case->{name}: answered in reasonable time");
		$ninputs++;
	}

	# closed into a cycle: the whole chain is on it
	for my $cyc (
		[ 'chain: 100,000-long cycle through down_revisions', "SELECT migrate_register('c1', '{c100000}', 'SELECT 1', 'SELECT 1', NULL, '{chain}')",
		  qr/^revisions form a cycle$/, qr/^Revisions form a cycle through down_revisions: c\d+ -> c\d+ -> / ],
		[ 'chain: 100,000-long cycle through depends_on', "SELECT migrate_register('c1', '{}', 'SELECT 1', 'SELECT 1', NULL, '{chain}', '{c100000}')",
		  qr/^revisions form a dependency cycle$/, qr/^Revisions form a cycle through down_revisions and depends_on: c\d+ -> c\d+ -> / ])
	{
		my ($name, $stmt, $msg, $det) = @$cyc;
		($rc, $out, $err) = sql_run($cdb, 'BEGIN', $stmt, 'SELECT migrate_check()');
		my $e = psql_error($err);
		is($e->{code}, '42P17', "$name: SQLSTATE 42P17");
		like($e->{message} // '', $msg, "$name: the message says a cycle, without its path");
		like($e->{detail} // '', $det, "$name: the DETAIL names the cycle");
		cmp_ok(length($e->{message} // ''), '<', 2000, "$name: message of reasonable length")
		  or diag(sprintf('message of %d characters, DETAIL of %d', length($e->{message} // ''), length($e->{detail} // '')));
		cmp_ok(length($e->{detail} // ''), '<', 2000, "$name: DETAIL of reasonable length");
		like($e->{detail} // '', qr/ -> \.\.\. \(99980 more\) -> /, "$name: the middle of the cycle is counted, not listed");
		is(db_state($cdb), $state, "$name: database unchanged");
		$ninputs++;
	}
	is(db_state($cdb), $state, 'chain: errors changed nothing');

	$t0 = time();
	($rc, $out, $err) = sql_run($cdb, 'SET client_min_messages = warning',
		"SELECT count(*) || ' ' || string_agg(revision, ',' ORDER BY revision) FILTER (WHERE revision IN ('c1', 'c100000'))"
		  . " FROM migrate_upgrade('heads')",
		"SELECT string_agg(revision, ',') FROM migrate_version",
		"SELECT count(*) FROM migrate_log WHERE direction = 'upgrade'",
		"SELECT count(*) FROM migrate_upgrade('heads')");
	is($out, "100000 c1,c100000\nc100000\n100000\n0", 'chain: upgraded in one call, then nothing to do')
	  or diag($err);
	note(sprintf('chain: upgraded in %.1f s', time() - $t0));
	($rc, $out, $err) = sql_run($cdb, 'SET client_min_messages = warning',
		"SELECT count(*) FROM migrate_downgrade('c100000-99999')",
		"SELECT string_agg(revision, ',') FROM migrate_version",
		"SELECT count(*) FROM migrate_upgrade('+99999')",
		"SELECT string_agg(revision, ',') FROM migrate_version");
	is($out, "99999\nc1\n99999\nc100000", 'chain: relative targets to the far ends') or diag($err);
	($rc, $out, $err) = sql_run($cdb, "SELECT * FROM migrate_downgrade('-100001')");
	check_error('chain: -100001 from the top', psql_error($err), { code => '22023',
		message => qr/^relative target "-100001" goes below base$/,
		detail => qr/^Fewer than 100001 revisions lie below "c100000"\.$/ });
	$ninputs++;
	$t0 = time();
	($rc, $out, $err) = sql_run($cdb, 'SET client_min_messages = warning',
		"SELECT count(*) || ' ' || string_agg(revision, ',' ORDER BY revision) FILTER (WHERE revision IN ('c1', 'c100000'))"
		  . " FROM migrate_downgrade('base')",
		"SELECT count(*) FROM migrate_version",
		"SELECT count(*) FROM migrate_log");
	is($out, "100000 c1,c100000\n0\n399998", 'chain: downgraded to base in one call') or diag($err);
	note(sprintf('chain: downgraded in %.1f s', time() - $t0));
}

#
# A 100,000-revision history: a base, 100 labelled branches of about 1,000
# revisions each, a dependency on the previous branch's label in the middle
# of each branch, a merge of the first two branches.
#
{
	my $hdb = new_db();
	psql($hdb, 'CREATE EXTENSION migrations');
	my $t0 = time();
	my ($rc, $out, $err) = sql_run($hdb,
		"SELECT count(migrate_register(id, parents, 'SELECT 1', 'SELECT 1', NULL, labels, deps)) FROM ("
		  . " SELECT 0 AS i, 'h0' AS id, '{}'::text[] AS parents, '{}'::text[] AS labels, '{}'::text[] AS deps"
		  . " UNION ALL SELECT i, 'h' || i,"
		  . "  ARRAY[CASE WHEN (i - 1) % 1000 = 0 THEN 'h0' ELSE 'h' || (i - 1) END],"
		  . "  CASE WHEN (i - 1) % 1000 = 0 THEN ARRAY['br' || (i - 1) / 1000] ELSE '{}' END,"
		  . "  CASE WHEN (i - 1) % 1000 = 500 AND i > 1000 THEN ARRAY['br' || ((i - 1) / 1000 - 1)] ELSE '{}' END"
		  . "  FROM generate_series(1, 99998) i"
		  . " UNION ALL SELECT 99999, 'hm', '{h1000,h2000}', '{}', '{}') s",
		'SELECT migrate_check()',
		"SELECT count(*) || ' ' || count(*) FILTER (WHERE is_effective_head) FROM migrate_heads()",
		"SELECT string_agg(revision, ',') FROM (SELECT revision FROM migrate_heads() LIMIT 3) h",
		"SELECT count(*) FROM migrate_branches()");
	is($out, "100000\n\n99 0\nh3000,h4000,h5000\n1", '100,000-revision history: registered, checked, 99 heads')
	  or diag($err);
	note(sprintf('history: registered in %.1f s', time() - $t0));
	my $state = db_state($hdb);
	my @hist_errors = (
		{ name => 'history: head with 99 heads', sql => "SELECT * FROM migrate_upgrade('head')",
		  code => '21000', message => qr/^target "head" matches several head revisions$/,
		  detail => qr/^The heads are "h3000", "h4000", .*, "h22000" and 79 more\.$/,
		  hint => $heads_hint },
		{ name => 'history: unknown branch', sql => "SELECT * FROM migrate_upgrade('br100\@head')",
		  code => '42704', message => qr/^branch "br100" does not exist$/,
		  detail => qr/^No branch label, revision id or unique id prefix matches "br100"\.$/ },
		{ name => 'history: heads-1 with 99 heads', sql => "SELECT * FROM migrate_downgrade('heads-1')",
		  code => '21000', message => qr/^target "heads" matches several head revisions$/,
		  hint => qr/^Use "heads" to target all heads, or "<branch>\@head" to target the head of one branch\.$/,
		  detail => qr/^The heads are "h3000", "h4000", .*, "h22000" and 79 more\.$/ },
		{ name => 'history: prefix of 99,899 revisions', sql => "SELECT * FROM migrate_upgrade('h')",
		  code => '22023', message => qr/^revision prefix "h" is ambiguous$/,
		  detail => qr/^Prefix "h" matches "h100", "h1000", "h10000", "h10001", .*, "h10007" and 99889 more\.$/,
		  hint => qr/^Give more characters of the revision id\.$/ },
		{ name => 'history: unknown id among 100,000', sql => "SELECT * FROM migrate_upgrade('h9999x')",
		  code => '42704', message => qr/^revision "h9999x" does not exist$/,
		  detail => $nomatch->('h9999x') },
	);
	case_count(\@hist_errors, 5, '100,000-revision history error cases');
	for my $case (@hist_errors)
	{
		($rc, $out, $err) = sql_run($hdb, $case->{sql});
		isnt($rc, 0, "$case->{name}: fails");
		check_error($case->{name}, psql_error($err), $case);
		$ninputs++;
	}
	is(db_state($hdb), $state, 'history: errors changed nothing');

	$t0 = time();
	($rc, $out, $err) = sql_run($hdb, 'SET client_min_messages = warning',
		"SELECT count(*) || ' ' || min(revision) || ' ' || max(revision) FROM migrate_upgrade('br5\@head')",
		"SELECT string_agg(revision, ',') FROM migrate_version",
		"SELECT count(*) FROM migrate_status WHERE is_applied");
	is($out, "1002 h0 h6000\nh6000\n1002", 'history: br5@head plans the branch, its base and its dependency')
	  or diag($err);
	($rc, $out, $err) = sql_run($hdb, "SELECT * FROM migrate_upgrade('br5\@+1')");
	check_error('history: br5@+1 at the branch head', psql_error($err), { code => '22023',
		message => qr/^relative target "br5\@\+1" goes beyond the head revisions$/,
		detail => qr/^No revision lies above the current revision\.$/ });
	$ninputs++;
	($rc, $out, $err) = sql_run($hdb, 'SET client_min_messages = warning',
		"SELECT count(*) FROM migrate_downgrade('base')", "SELECT count(*) FROM migrate_version");
	is($out, "1002\n0", 'history: back to base');
	note(sprintf('history: planned and ran in %.1f s', time() - $t0));
}

#
# A 10,000-way merge through SQL: one revision with 10,000 parents
#
{
	my $mdb = new_db();
	psql($mdb, 'CREATE EXTENSION migrations');
	my ($rc, $out, $err) = sql_run($mdb,
		"SELECT count(migrate_register('b' || i, '{}', 'SELECT 1', 'SELECT 1')) FROM generate_series(1, 10000) i");
	is($out, '10000', 'merge: 10,000 bases');
	my $state = db_state($mdb);
	($rc, $out, $err) = sql_run($mdb,
		"SELECT migrate_register('m', ARRAY(SELECT 'b' || i FROM generate_series(1, 10000) i) || '{b1}'::text[], 'SELECT 1', 'SELECT 1', 'Merge.')");
	check_error('merge: 10,001 parents, one listed twice', psql_error($err), { code => '42710',
		message => qr/^down_revision "b1" is listed twice in revision "m"$/ });
	is(db_state($mdb), $state, 'merge: database unchanged');
	$ninputs++;
	($rc, $out, $err) = sql_run($mdb,
		"SELECT migrate_register('m', ARRAY(SELECT 'b' || i FROM generate_series(1, 10000) i), 'SELECT 1', 'SELECT 1', 'Merge.')",
		'SELECT migrate_check()',
		"SELECT revision FROM migrate_heads()",
		"SELECT array_length(down_revisions, 1) || ' ' || is_merge_point FROM migrate_history('b1:m') WHERE revision = 'm'",
		'SET client_min_messages = warning',
		"SELECT count(*) FROM migrate_upgrade('heads')",
		"SELECT string_agg(revision, ',') FROM migrate_version");
	is($out, "added\n\nm\n10000 true\n10001\nm", 'merge: registered, one head, upgraded') or diag($err);
	$state = db_state($mdb);
	($rc, $out, $err) = sql_run($mdb, "SELECT * FROM migrate_downgrade('-1')");
	check_error('merge: -1 below a 10,000-way merge', psql_error($err), { code => '22023',
		message => qr/^relative target "-1" is ambiguous$/,
		detail => qr/^Walking down from revision "m" reaches "b1", "b2", .*, "b20" and 9980 more\.$/,
		hint => qr/^Name a revision on one branch, for example "<branch>\@\+1" or "<revision>-1"\.$/ });
	is(db_state($mdb), $state, 'merge: database unchanged');
	$ninputs++;
	($rc, $out, $err) = sql_run($mdb, 'SET client_min_messages = warning',
		"SELECT string_agg(revision, ',') FROM migrate_downgrade('b1')",
		"SELECT count(*) FROM migrate_version",
		"SELECT count(*) FROM migrate_downgrade('base')",
		"SELECT count(*) FROM migrate_version");
	is($out, "m\n10000\n10000\n0", 'merge: unmerged into 10,000 version rows, then downgraded to base')
	  or diag($err);
}

#
# A 10,000-way merge through 10,001 files: one down_revision line of 10,000
# ids; then the same directory with a broken extra file (nothing of the
# 10,001 may remain), and with a parent listed twice
#
{
	my $dir = tmpdir() . "/merge";
	make_path($dir);
	my @ids = map { sprintf('w%05d', $_) } 1 .. 10000;
	write_file("$dir/$_.sql", revfile(id => $_, downgrade => 'SELECT 1;')) for @ids;
	my $merge = revfile(id => 'wmerge', down => join(', ', @ids), message => 'Merge 10,000.', upgrade => '', downgrade => '');
	write_file("$dir/x_merge.sql", $merge);
	my ($out) = pgm_ok('check', $dir);
	is($out, "wmerge (head)\n", 'merge files: one head');

	# a dependency cycle among two more files
	write_file("$dir/y1.sql", revfile(id => 'y1', down => 'wmerge', deps => 'y2'));
	write_file("$dir/y2.sql", revfile(id => 'y2', down => 'wmerge', deps => 'y1'));
	my ($db_before, $fresh_before) = (state_before($db), state_before($fresh));
	for my $target ($db, $fresh)
	{
		my ($rc, $o, $err) = pgm('-v', '-d', $target, 'load', $dir);
		is($rc, 1, 'merge files with a dependency cycle: load fails');
		check_error('merge files with a dependency cycle', pgm_error($err), { code => '42P17',
			message => qr/^revisions form a dependency cycle$/,
			detail => qr/^Revisions form a cycle through down_revisions and depends_on: (y1 -> y2 -> y1|y2 -> y1 -> y2)\.$/ });
	}
	is(state_after($db), $db_before, 'merge files with a cycle: reference database unchanged');
	is(state_after($fresh), $fresh_before, 'merge files with a cycle: extension not created, nothing of 10,003 files remains');
	unlink("$dir/y1.sql", "$dir/y2.sql");
	$ninputs++;

	# a parent listed twice in the long list
	write_file("$dir/x_merge.sql", revfile(id => 'wmerge', down => join(', ', @ids, 'w00001')));
	my ($rc, $o, $err) = pgm('check', $dir);
	is($rc, 1, 'merge file listing a parent twice: check fails');
	like($err, qr/^pg_migrate: error: \Q$dir\E\/x_merge\.sql:2: down_revision lists "w00001" twice$/m,
		'merge file listing a parent twice: named');
	$ninputs++;
	write_file("$dir/x_merge.sql", $merge);

	my $t0 = time();
	my $mdb = new_db();
	($o) = pgm_ok('-d', $mdb, 'load', $dir);
	is($o, "added 10001, updated 0, unchanged 0\n", 'merge files: loaded');
	($rc, $o, $err) = pgm('-d', $mdb, 'upgrade');
	is($rc, 0, 'merge files: upgrade') or diag(substr($err, 0, 2000));
	like($o, qr/^\(10001 rows\)$/m, 'merge files: 10,001 steps');
	like($err, qr/^NOTICE:  upgrade w00001, w00002, .*, w10000 -> wmerge, Merge 10,000\.$/m, 'merge files: the merge step');
	is(psql($mdb, 'SELECT string_agg(revision, \',\') FROM migrate_version'), 'wmerge', 'merge files: one version row');
	($rc, $o, $err) = pgm('-d', $mdb, 'downgrade', 'base');
	is($rc, 0, 'merge files: downgrade to base') or diag(substr($err, 0, 2000));
	like($o, qr/^\(10001 rows\)$/m, 'merge files: 10,001 steps back');
	is(psql($mdb, 'SELECT count(*) FROM migrate_version'), 0, 'merge files: version table empty');
	note(sprintf('merge files: loaded, upgraded and downgraded in %.1f s', time() - $t0));
}

#
# migrate_register() refuses a revision that lists itself at once: no later
# registration could make it valid.
#
{
	my $before = state_before($db);
	my ($rc, $out, $err) = sql_run($db, 'BEGIN', "$reg('n1', '{n1}', 'SELECT 1')");
	isnt($rc, 0, 'register: a revision that is its own parent is refused at once');
	my $e = psql_error($err);
	is($e->{code}, '42P17', 'register: self-reference is SQLSTATE 42P17');
	is($e->{message}, 'revision "n1" is its own down_revision', 'register: self-reference message');
	is(state_after($db), $before, 'self-reference: database unchanged (rolled back)');
}

# --- issue 10: execution (bodies that change the role or the read-only
# state, drop the extension, fail with a huge statement; a bad
# migrations.lock_timeout set before the library loads)
{
	my $role_detail = sub { qr/^Its upgrade body ran as role "$_[0]" and ended as role "$_[1]"\.$/ };
	my $role_hint = qr/^Remove SET ROLE, RESET ROLE and SET SESSION AUTHORIZATION from the body; grant the migrating role what the body needs instead\.$/;
	my $ro_detail = qr/^Its upgrade body ran SET TRANSACTION READ ONLY or changed default_transaction_read_only\.$/;
	psql($seqdb, "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bx_other') THEN CREATE ROLE bx_other; END IF; END\$\$");
	my @exec_cases = (
		{ name => 'upgrade body that runs RESET ROLE',
		  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1; RESET ROLE')",
			'GRANT EXECUTE ON FUNCTION migrate_upgrade(text) TO bx_other',
			'GRANT SELECT, INSERT, UPDATE, DELETE ON migrate_revision, migrate_version, migrate_log TO bx_other',
			'GRANT USAGE ON SEQUENCE migrate_log_id_seq TO bx_other',
			'GRANT CREATE ON SCHEMA public TO bx_other',
			'SET ROLE bx_other', "SELECT * FROM migrate_upgrade('heads')" ],
		  code => '42501', message => qr/^revision "n1" changed the current role$/,
		  detail => $role_detail->('bx_other', 'postgres'), hint => $role_hint },
		{ name => 'upgrade body that runs SET ROLE to another role',
		  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SET ROLE bx_other')", "SELECT * FROM migrate_upgrade('heads')" ],
		  code => '42501', message => qr/^revision "n1" changed the current role$/,
		  detail => $role_detail->('postgres', 'bx_other'), hint => $role_hint,
		  context => qr/^upgrade of revision "n1"$/ },
		{ name => 'upgrade body that runs SET SESSION AUTHORIZATION',
		  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SET SESSION AUTHORIZATION bx_other')", "SELECT * FROM migrate_upgrade('heads')" ],
		  code => '42501', message => qr/^revision "n1" changed the current role$/,
		  detail => $role_detail->('postgres', 'bx_other'), hint => $role_hint },
		{ name => 'upgrade body that runs SET TRANSACTION READ ONLY',
		  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SET TRANSACTION READ ONLY')", "SELECT * FROM migrate_upgrade('heads')" ],
		  code => '55000', message => qr/^revision "n1" changed the transaction's read-only state$/,
		  detail => $ro_detail, hint => qr/^Remove the statement from the body\.$/ },
		{ name => 'upgrade body that sets transaction_read_only',
		  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SET default_transaction_read_only = on; SET transaction_read_only = on')", "SELECT * FROM migrate_upgrade('heads')" ],
		  code => '55000', message => qr/^revision "n1" changed the transaction's read-only state$/,
		  detail => $ro_detail, hint => qr/^Remove the statement from the body\.$/ },
		{ name => 'upgrade body that drops the extension',
		  # with the drop guard's setting on, so that the drop itself happens
		  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'DROP EXTENSION migrations CASCADE')",
			'SET LOCAL migrations.allow_drop = on', "SELECT * FROM migrate_upgrade('heads')" ],
		  code => '55000', message => qr/^revision "n1" dropped or replaced the extension$/,
		  detail => qr/^Its upgrade body dropped extension "migrations", whose tables record the migration\.$/,
		  hint => qr/^Remove DROP EXTENSION migrations from the body\.$/,
		  context => qr/^upgrade of revision "n1"$/ },
		{ name => 'upgrade body with a 1 MB failing statement after another',
		  sql => [ 'BEGIN', "$reg('n1', '{r3}', 'SELECT 1; SELECT 1 / 0, ''' || repeat('\xc3\xa9', 500000) || '''')",
			"SELECT * FROM migrate_upgrade('heads')" ],
		  code => '22012', message => qr/^division by zero$/,
		  context => qr/^SQL statement "SELECT 1 \/ 0, '(?:\xc3\xa9){504}\.\.\."\nupgrade of revision "n1"$/ },
		{ name => 'migrations.lock_timeout = 2sec set before the library loads',
		  sql => [ "SET migrations.lock_timeout = '2sec'", "SELECT * FROM migrate_upgrade('heads')" ],
		  code => '22023', message => qr/^invalid value for parameter "migrations\.lock_timeout": "2sec"$/,
		  detail => qr/^The value was set before the extension's library was loaded and could not be used, so the steps would run without a lock timeout\.$/,
		  hint => qr/^Set migrations\.lock_timeout to a number of milliseconds or a time with a unit such as "2s" \(units "us", "ms", "s", "min", "h", "d"\)\.$/ },
	);
	case_count(\@exec_cases, 8, 'execution cases');
	for my $case (@exec_cases)
	{
		my $name = $case->{name};
		my $before = state_before($seqdb);
		my ($rc, $out, $err) = sql_run($seqdb, @{ $case->{sql} });
		isnt($rc, 0, "$name: fails");
		my $e = psql_error($err);
		check_error($name, $e, $case);
		diag(substr($err, 0, 3000)) if !defined $e->{code} || $e->{code} ne $case->{code};
		cmp_ok(length($err), '<', 4000, "$name: the error is short");
		my $after = state_after($seqdb);
		s/^sequence: .*\n?//m for $before, $after;
		is($after, $before, "$name: database unchanged (but the sequence)");
		$ninputs++;
	}
	psql($seqdb, "DROP ROLE bx_other");
}

# --- issue 10: pg_migrate client (file types, encodings, sizes, terminal)
{
	my $t0 = time();

	# item 10: a FIFO and a symbolic link to /dev/zero named *.sql; the old
	# reader blocked on the first forever and read the second to 1 GB
	my $dir = files_dir('a1.sql' => revfile(id => 'a1'));
	system('mkfifo', "$dir/fifo.sql") == 0 or die 'mkfifo';
	symlink('/dev/zero', "$dir/zero.sql") or die "symlink: $!";
	for my $target ($db, $fresh)
	{
		my $before = state_before($target);
		my ($out, $err) = ('', '');
		my $ok = eval {
			IPC::Run::run([ $PG_MIGRATE, '-d', $target, 'load', $dir ], '<', \undef,
				'>', \$out, '2>', \$err, IPC::Run::timeout(60));
			1;
		};
		ok($ok && $? >> 8 == 1, 'FIFO and /dev/zero link: load fails at once');
		is($err, "pg_migrate: error: $dir/fifo.sql: not a regular file\n"
			  . "pg_migrate: detail: It is a FIFO.\n"
			  . "pg_migrate: hint: Revision files are regular files.\n"
			  . "pg_migrate: error: $dir/zero.sql: not a regular file\n"
			  . "pg_migrate: detail: It is a symbolic link to \"/dev/zero\", which is a character device.\n"
			  . "pg_migrate: hint: Revision files are regular files.\n"
			  . "pg_migrate: hint: Nothing was loaded.\n", 'FIFO and /dev/zero link: both named, with what they are');
		is(state_after($target), $before, 'FIFO and /dev/zero link: database unchanged');
	}
	unlink("$dir/fifo.sql", "$dir/zero.sql");
	$ninputs += 2;

	# item 12: a character the database's encoding lacks, in a body and in a
	# file name; the COPY row it came in was named instead of the file
	my $latin = "mgtest_${$}_latin1";
	psql('postgres', "CREATE DATABASE $latin ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
	psql($latin, "CREATE TABLE victim (v text); INSERT INTO victim VALUES ('still here')");
	my $edir = files_dir('a1.sql' => revfile(id => 'a1', message => "Caf\xc3\xa9"),
		'b1.sql' => revfile(id => 'b1', down => 'a1', upgrade => "SELECT 1;\n\nSELECT '\xe2\x82\xac';"));
	pgm_ok('-d', $latin, 'load', files_dir('a1.sql' => revfile(id => 'a1', message => "Caf\xc3\xa9")));
	my $before = state_before($latin);
	my ($rc, $o, $err) = pgm('-v', '-d', $latin, 'load', $edir);
	is($rc, 1, 'character LATIN1 lacks, in a body: load fails');
	check_error('character LATIN1 lacks, in a body', pgm_error($err), { code => '22P05',
		message => qr/^\Q$edir\E\/b1\.sql:6: character with byte sequence 0xe2 0x82 0xac in encoding "UTF8" has no equivalent in encoding "LATIN1"$/,
		detail => qr/^Revision "b1" cannot be stored in database "\Q$latin\E", whose encoding is LATIN1\.$/,
		hint => qr/^Use only characters the database's encoding has, or load into a database with encoding UTF8\.$/,
		context => undef });
	unlike($err, qr/pg_migrate_load/, 'character LATIN1 lacks: the COPY row is not what is named');
	is(state_after($latin), $before, 'character LATIN1 lacks, in a body: database unchanged');
	unlink("$edir/b1.sql");
	write_file("$edir/b\xe2\x82\xac.sql", revfile(id => 'b1', down => 'a1'));
	($rc, $o, $err) = pgm('-d', $latin, 'load', $edir);
	is($rc, 1, 'character LATIN1 lacks, in a file name: load fails');
	check_error('character LATIN1 lacks, in a file name', pgm_error($err), {
		message => qr/^\Q$edir\E\/b\xe2\x82\xac\.sql: character with byte sequence 0xe2 0x82 0xac in encoding "UTF8" has no equivalent in encoding "LATIN1"$/,
		detail => qr/^The file's name cannot be stored in database "\Q$latin\E", whose encoding is LATIN1\.$/,
		hint => qr/^Rename the file, or load into a database with encoding UTF8\.$/,
		context => undef });
	is(state_after($latin), $before, 'character LATIN1 lacks, in a file name: database unchanged');
	$ninputs += 2;

	# item 12: a body over 256 MB is refused when read (a 600 MB one was
	# stored and then failed with "invalid memory alloc request size
	# 1073741824" when run); one of 256 MB exactly is accepted
	my $limit = 256 * $MB;
	my $bdir = tmpdir() . "/bodylimit";
	make_path($bdir);
	my $fill = 'x' x ($limit - 10);	# "SELECT '" and "';" make it 256 MB
	write_file("$bdir/big.sql", "-- migrate:revision big\n-- migrate:down_revision none\n"
		  . "-- migrate:upgrade\nSELECT '$fill';\n");
	($rc, $o, $err) = pgm('check', $bdir);
	is($rc, 0, 'a body of 256 MB exactly: check accepts it') or diag(substr($err, 0, 500));
	write_file("$bdir/big.sql", "-- migrate:revision big\n-- migrate:down_revision none\n"
		  . "-- migrate:upgrade\nSELECT '${fill}x';\n");
	undef $fill;
	($rc, $o, $err) = pgm('check', $bdir);
	is($rc, 1, 'a body of 256 MB and 1 byte: check fails');
	my $want = { message => qr/^\Q$bdir\E\/big\.sql:3: upgrade body is too large$/,
		detail => qr/^The body has 268435457 bytes; the limit is 268435456 bytes \(256 MB\)\.$/,
		hint => qr/^Split the work into several revisions, or have the body read its data with COPY FROM a file\.$/ };
	check_error('body over 256 MB, check', pgm_error($err), $want);
	for my $target ($db, $fresh)
	{
		my $before = state_before($target);
		($rc, $o, $err) = pgm('-d', $target, 'load', $bdir);
		is($rc, 1, 'body over 256 MB: load fails');
		check_error('body over 256 MB, load', pgm_error($err), $want);
		is(state_after($target), $before, 'body over 256 MB: database unchanged');
	}
	unlink("$bdir/big.sql");
	$ninputs++;

	# item 12: bodies within the limit whose COPY row exceeds what the server
	# can read in one row (backslashes count twice): the server dropped the
	# connection; now the file is refused before connecting
	my $bs = '\\' x ($limit - 10);
	write_file("$bdir/row.sql", "-- migrate:revision wide\n-- migrate:down_revision none\n"
		  . "-- migrate:message " . ('\\' x 10_000_000) . "\n"
		  . "-- migrate:upgrade\nSELECT '$bs';\n-- migrate:downgrade\nSELECT '$bs';\n");
	undef $bs;
	for my $target ($db, $fresh)
	{
		my $before = state_before($target);
		($rc, $o, $err) = pgm('-v', '-d', $target, 'load', $bdir);
		is($rc, 1, 'COPY row over 1 GB: load fails');
		check_error('COPY row over 1 GB', pgm_error($err), {
			message => qr/^\Q$bdir\E\/row\.sql: revision "wide" is too large to load$/,
			detail => qr/^Sent to the server, its bodies, message and names take 1093741\d\d\d bytes; the limit is 1000000000 bytes\. Backslashes, tabs and line ends count twice\.$/,
			hint => qr/^Split the work into several revisions\.$/ });
		unlike($err, qr/connected to database/, 'COPY row over 1 GB: refused before connecting');
		is(state_after($target), $before, 'COPY row over 1 GB: database unchanged');
	}
	unlink("$bdir/row.sql");
	$ninputs++;

	# item 13: a file name with a newline forging a hint line, a message
	# with escape sequences: shown escaped
	my $tdir = files_dir("bad\npg_migrate: hint: ignore this.sql" => "-- migrate:revision t1\n-- migrate:down_revision none\n-- migrate:colour x\n");
	($rc, $o, $err) = pgm('check', $tdir);
	is($rc, 1, 'file name with a newline: check fails');
	is((split /\n/, $err)[0], "pg_migrate: error: $tdir/bad\\npg_migrate: hint: ignore this.sql:3: unrecognized header key \"colour\"",
		'file name with a newline: escaped, one line');
	unlike($err, qr/^pg_migrate: hint: ignore this/m, 'file name with a newline: no forged line');
	$ninputs++;

	note(sprintf('issue 10 client cases: %.1f s', time() - $t0));
}

# --- issue 10: drop guard (item 6)
#
# Statements that would drop the extension with its history: refused while
# migrations.allow_drop is off (the reference database holds 3 revisions,
# 1 version row, 2 log rows), and the setting is not a role's that is no
# superuser to give.
{
	my $drop_detail = qr/^Rows in the extension's tables: migrate_revision 3, migrate_version 1, migrate_log 2\. Dropping the extension deletes them, and loading the same revision files into a new installation would run every step again\.$/;
	my $drop_hint = qr/^Back up the history with pg_dump first\. To drop it anyway, a superuser can run SET LOCAL migrations\.allow_drop = on before the statement, in the same transaction\.$/;
	my $ext_msg = qr/^cannot drop extension "migrations" because it holds migration history$/;
	psql('postgres', 'DROP ROLE IF EXISTS mg_bad_nsp; CREATE ROLE mg_bad_nsp');
	my @drop_cases = (
		{ name => 'drop guard: DROP EXTENSION', sql => ['DROP EXTENSION migrations'],
		  code => '2BP01', message => $ext_msg, detail => $drop_detail, hint => $drop_hint },
		{ name => 'drop guard: DROP EXTENSION IF EXISTS ... CASCADE',
		  sql => ['DROP EXTENSION IF EXISTS migrations CASCADE'],
		  code => '2BP01', message => $ext_msg, detail => $drop_detail, hint => $drop_hint },
		{ name => 'drop guard: DROP EXTENSION in a list', sql => ['DROP EXTENSION plpgsql, migrations'],
		  code => '2BP01', message => $ext_msg, detail => $drop_detail, hint => $drop_hint },
		{ name => 'drop guard: DROP SCHEMA public CASCADE', sql => ['DROP SCHEMA public CASCADE'],
		  code => '2BP01',
		  message => qr/^cannot drop schema "public" because extension "migrations" in it holds migration history$/,
		  detail => $drop_detail, hint => $drop_hint },
		{ name => 'drop guard: DROP OWNED BY the extension owner',
		  sql => ['DROP OWNED BY CURRENT_USER'], code => '2BP01',
		  message => qr/^cannot drop objects owned by role "[^"]+" because extension "migrations" would be dropped with its migration history$/,
		  detail => $drop_detail, hint => $drop_hint },
		{ name => 'drop guard: replica mode does not switch it off',
		  sql => ['SET session_replication_role = replica', 'DROP EXTENSION migrations'],
		  code => '2BP01', message => $ext_msg, detail => $drop_detail, hint => $drop_hint },
		{ name => 'drop guard: a body that drops the extension',
		  sql => ['BEGIN', "$reg('dx', '{r3}', 'DROP EXTENSION migrations')",
			"SELECT count(*) FROM migrate_upgrade('dx')"],
		  code => '2BP01', message => $ext_msg, detail => qr/^Rows in the extension's tables: migrate_revision 4, /,
		  hint => $drop_hint, seq => 1 },
		{ name => 'drop guard: the setting is a superuser setting',
		  sql => ["LOAD 'migrations'", 'SET ROLE mg_bad_nsp', 'SET migrations.allow_drop = on'],
		  code => '42501', message => qr/^permission denied to set parameter "migrations\.allow_drop"$/,
		  detail => undef, hint => undef },
		# before the library is loaded, anyone can set a placeholder: it is
		# discarded with a warning when the library loads
		{ name => 'drop guard: a placeholder set by a role that is no superuser',
		  sql => ['SET ROLE mg_bad_nsp', 'SET migrations.allow_drop = on', 'DROP EXTENSION migrations'],
		  code => '2BP01', message => $ext_msg, detail => $drop_detail, hint => $drop_hint },
	);
	case_count(\@drop_cases, 9, 'drop guard cases');
	for my $case (@drop_cases)
	{
		my $name = $case->{name};
		my $target_db = $case->{seq} ? $seqdb : $db;
		my $before = state_before($target_db);
		my ($rc, $out, $err) = sql_run($target_db, @{ $case->{sql} });
		isnt($rc, 0, "$name: fails");
		my $e = psql_error($err);
		check_error($name, $e, $case);
		diag($err) if !defined $e->{code} || $e->{code} ne $case->{code};
		my $after = state_after($target_db);
		if ($case->{seq})
		{
			s/^sequence: .*\n?//m for $before, $after;	# steps took log ids
			$name .= ' (but the sequence)';
		}
		is($after, $before, "$name: database unchanged");
		$ninputs++;
	}
	psql('postgres', 'DROP ROLE mg_bad_nsp');
}

# --- issue 10: the catalog guard, registrations that would change the
# applied set, and bodies too long to run (items 3, 5, 12 register part)
{
	my $old = "mg_bad_old_$$";
	my $new = "mg_bad_new_$$";
	my $funcs = "migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text),"
	  . " migrate_upgrade(text), migrate_downgrade(text), migrate_stamp(text, boolean)";
	psql($db, "CREATE ROLE $old; CREATE ROLE $new;"
		  . " GRANT EXECUTE ON FUNCTION $funcs TO $old, $new;"
		  # the grants README.md documented before 0.2
		  . " GRANT INSERT, UPDATE ON migrate_revision TO $old;"
		  . " GRANT INSERT, UPDATE, DELETE ON migrate_version TO $old;"
		  . " GRANT INSERT ON migrate_log TO $old;"
		  . " GRANT USAGE ON SEQUENCE migrate_log_id_seq TO $old");
	# the grants changed nothing that db_state shows
	$last_state{$db} = db_state($db);
	my $guard_detail = qr/^The tables of extension "migrations" change only through its functions migrate_register\(\), migrate_upgrade\(\), migrate_downgrade\(\) and migrate_stamp\(\), whatever rights a role holds on the tables\.$/;
	my $guard_hint = qr/^Only a superuser may write them directly, outside migration steps, as pg_restore does\.$/;
	my @attacks = (
		[ 'a log row dated 2001, attributed to postgres', 'insert into', 'migrate_log',
		  "INSERT INTO migrate_log (logged_at, logged_by, direction, revision) VALUES ('2001-01-01', 'postgres', 'upgrade', 'r3')" ],
		[ 'the version table rewritten with no log row', 'update', 'migrate_version',
		  "UPDATE migrate_version SET revision = 'r3'" ],
		[ 'a version row inserted', 'insert into', 'migrate_version',
		  "INSERT INTO migrate_version VALUES ('r3')" ],
		[ 'the version rows deleted', 'delete from', 'migrate_version', "DELETE FROM migrate_version" ],
		[ 'seq pushed to the bigint maximum', 'update', 'migrate_revision',
		  "UPDATE migrate_revision SET seq = 9223372036854775807 WHERE revision = 'r3'" ],
		[ 'the downgrade body and registered_by of an applied revision', 'update', 'migrate_revision',
		  "UPDATE migrate_revision SET downgrade = 'ALTER ROLE $old SUPERUSER', registered_by = 'postgres' WHERE revision = 'r2'" ],
		[ 'a revision inserted with any seq', 'insert into', 'migrate_revision',
		  "INSERT INTO migrate_revision (revision, upgrade, seq) VALUES ('n9', 'SELECT 1', 9223372036854775807)" ],
	);
	case_count(\@attacks, 7, 'catalog attacks');
	for my $a (@attacks)
	{
		my ($what, $verb, $table, $stmt) = @$a;
		my $before = state_before($db);
		my ($rc, $out, $err) = sql_run($db, "SET ROLE $old", $stmt);
		isnt($rc, 0, "guard, old grants: $what: fails");
		check_error("guard, old grants: $what", psql_error($err),
			{ code => '42501', message => qr/^permission denied to \Q$verb\E table $table$/,
			  detail => $guard_detail, hint => $guard_hint });
		($rc, $out, $err) = sql_run($db, "SET ROLE $new", $stmt);
		isnt($rc, 0, "guard, EXECUTE only: $what: fails");
		check_error("guard, EXECUTE only: $what", psql_error($err),
			{ code => '42501', message => qr/^permission denied for table $table$/,
			  detail => undef, hint => undef });
		is(state_after($db), $before, "guard: $what: database unchanged");
		$ninputs++;
	}
	{
		my $before = state_before($db);
		my ($rc, $out, $err) = sql_run($db, "SET ROLE $old", "TRUNCATE migrate_log");
		check_error('guard, old grants: the log truncated (granted TRUNCATE too)', psql_error($err),
			{ code => '42501', message => qr/^permission denied for table migrate_log$/ });
		psql($db, "GRANT TRUNCATE, DELETE ON migrate_log TO $old");
		($rc, $out, $err) = sql_run($db, "SET ROLE $old", "TRUNCATE migrate_log");
		check_error('guard, TRUNCATE granted: the log truncated', psql_error($err),
			{ code => '42501', message => qr/^permission denied to truncate table migrate_log$/,
			  detail => $guard_detail, hint => $guard_hint });
		($rc, $out, $err) = sql_run($db, "SET ROLE $old", "DELETE FROM migrate_log");
		check_error('guard, DELETE granted: the log deleted', psql_error($err),
			{ code => '42501', message => qr/^permission denied to delete from table migrate_log$/,
			  detail => $guard_detail, hint => $guard_hint });
		is(state_after($db), $before, 'guard: the log is append-only: database unchanged');
		$ninputs++;
	}

	# a superuser's body writing the catalog during a step
	for my $b ([ 'insert into', 'migrate_version', "INSERT INTO migrate_version VALUES (''r1'')" ],
		[ 'delete from', 'migrate_log', 'DELETE FROM migrate_log' ],
		[ 'update', 'migrate_revision', "UPDATE migrate_revision SET upgrade = ''SELECT 2''" ])
	{
		my ($verb, $table, $body) = @$b;
		my $before = state_before($db);
		my ($rc, $out, $err) = sql_run($db, 'BEGIN', "$reg('n1', '{r3}', '$body', 'SELECT 1')",
			"SELECT * FROM migrate_upgrade('heads')");
		isnt($rc, 0, "body writing $table: fails");
		check_error("body writing $table", psql_error($err),
			{ code => '55000', message => qr/^cannot \Q$verb\E table $table from a migration step$/,
			  detail => qr/^The migration running the step records the revisions, the version table and the log itself; a body may read them but not change them\.$/,
			  hint => qr/^Change migration state with migrate_stamp\(\) or migrate_register\(\) after the migration\.$/,
			  context => qr/upgrade of revision "n1"$/ });
		is(state_after($db), $before, "body writing $table: database unchanged");
		$ninputs++;
	}

	# item 5: a name an applied revision's depends_on resolves through (in
	# the copy of the reference database: the upgrade moves the sequence)
	for my $c ([ 'as a label of an existing unapplied revision', "$reg('r3', '{r2}', 'CREATE TABLE t_three (id int)', 'DROP TABLE t_three', 'Three.', '{lab}')",
			qr/^cannot give revision "r3" branch label "lab"$/ ],
		[ 'as a label of a new revision', "$reg('n2', '{}', 'SELECT 1', NULL, NULL, '{lab}')",
			qr/^cannot give revision "n2" branch label "lab"$/ ],
		[ 'as the id of a new revision', "$reg('lab', '{}', 'SELECT 1')",
			qr/^cannot register revision "lab"$/ ])
	{
		my ($what, $stmt, $msg) = @$c;
		my $before = state_before($seqdb);
		my ($rc, $out, $err) = sql_run($seqdb, 'BEGIN',
			"$reg('n1', '{r2}', 'SELECT 1', 'SELECT 1', 'Needs lab.', '{}', '{lab}')",
			'SET client_min_messages = warning', "SELECT count(*) FROM migrate_upgrade('n1')", $stmt);
		isnt($rc, 0, "the label an applied revision depends on, $what: fails");
		check_error("the label an applied revision depends on, $what", psql_error($err),
			{ code => '55000', message => $msg,
			  detail => qr/^An applied revision depends on "lab", and a second revision of that name would change what it depends on, and so which revisions are applied\.$/,
			  hint => qr/^Choose another name, or downgrade below the revisions that depend on "lab" first\.$/ });
		# the upgrade moved the log's sequence (sequences are not transactional)
		my $after = state_after($seqdb);
		s/^sequence: .*\n?//m for $before, $after;
		is($after, $before, "the label an applied revision depends on, $what: database unchanged (but the sequence)");
		$ninputs++;
	}
	psql($db, "DROP OWNED BY $old, $new; DROP ROLE $old, $new");
	$last_state{$db} = db_state($db);

	# item 12: a body no step could run, through SQL and through a file.
	# PostgreSQL's scanner doubles its token buffer up to 1 GB for a token
	# of 2^29 bytes, beyond what palloc allows.
	my $limit = 1 << 29;
	my $before = state_before($db);
	my ($rc, $out, $err) = sql_run($db,
		"$reg('n1', '{r3}', 'SELECT length(''' || repeat('x', $limit) || ''')', 'SELECT 1', 'Big.')");
	isnt($rc, 0, 'an upgrade body holding a 512 MB string constant: refused at registration');
	my $too_long = { code => '54000', message => qr/^upgrade body of revision "n1" is too long to run$/,
		detail => qr/^The body holds a string constant, quoted identifier or dollar-quoted string of 512 MB or more, more than PostgreSQL's parser can read in one token, so no step could ever run it\.$/,
		hint => qr/^Load such data from a file on the server \(COPY \.\.\. FROM 'file'\), or split it over several statements\.$/ };
	check_error('an upgrade body holding a 512 MB string constant', psql_error($err), $too_long);
	($rc, $out, $err) = sql_run($db,
		"$reg('n1', '{r3}', 'SELECT 1', 'SELECT \$\$' || repeat('x', $limit) || '\$\$', 'Big.')");
	check_error('a downgrade body holding a 512 MB dollar-quoted string', psql_error($err),
		{ %$too_long, message => qr/^downgrade body of revision "n1" is too long to run$/ });
	is(state_after($db), $before, 'bodies too long to run: database unchanged');
	$ninputs += 2;
	# one byte less runs; so does a longer body whose tokens are short (in
	# the copy: the upgrade moves the sequence)
	($rc, $out, $err) = sql_run($seqdb, 'BEGIN',
		"$reg('n1', '{r3}', 'SELECT length(''' || repeat('x', $limit - 1) || ''')', 'SELECT 1', 'Big.')",
		"$reg('n2', '{n1}', 'SELECT 1; /* ' || repeat('x', $limit + 1000) || ' */', 'SELECT 1', 'Long comment.')",
		'SET client_min_messages = warning',
		"SELECT revision FROM migrate_upgrade('heads')", 'ROLLBACK');
	is($out, "added\nadded\nr3\nn1\nn2", 'a 512 MB - 1 string constant and a 512 MB comment are registered and run')
	  or diag(substr($err, 0, 2000));
	# through pg_migrate load: refused by the client's 256 MB body limit
	# before anything is sent, naming the file and line
	my $dir = files_dir('n1_big.sql' => revfile(id => 'n1', down => 'r3',
			upgrade => "SELECT length('" . ('x' x $limit) . "');", downgrade => 'SELECT 1;'));
	($rc, $out, $err) = pgm('-d', $db, 'load', $dir);
	is($rc, 1, 'a file holding a 512 MB string constant: load fails');
	check_error('a file holding a 512 MB string constant', pgm_error($err),
		{ message => qr/^\Q$dir\E\/n1_big\.sql:\d+: upgrade body is too large$/,
		  detail => qr/^The body has \d+ bytes; the limit is 268435456 bytes \(256 MB\)\.$/,
		  hint => qr/^Split the work into several revisions, or have the body read its data with COPY FROM a file\.$/ });
	is(state_after($db), $before, 'a file holding a 512 MB string constant: database unchanged');
	unlink("$dir/n1_big.sql");
	$ninputs++;
}

is(db_state($db), $ref_state, 'reference database: unchanged by everything above');
is(db_state($fresh), $fresh_state, 'database without the extension: unchanged by everything above');
# every case of the tables above (case_count) and every single case block
# ran: adding or removing a case changes this number in the same commit
is($ninputs, 208, "distinct bad inputs tried");
note(sprintf('total %.1f s', time() - $started));

done_testing();
