# pg_migrate lint (issue 12, item 6): the schema is built revision by
# revision in a scratch database and every finding is reported with the
# revision, file and line: a planted over-long name, a constraint left
# unnamed, breaches of Invenio's naming convention (and of one given with
# --naming-convention), and the risky statements (CREATE INDEX without
# CONCURRENTLY, ALTER COLUMN TYPE, ADD COLUMN with a volatile default,
# SET NOT NULL without a validated CHECK) on tables an earlier revision
# made, with their size when --sizes-from names a live database.  A
# "-- lint-ignore: RULE" comment silences one finding; a clean project exits
# 0; no scratch database is left behind.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use MgTest;
use Test::More;

my ($rc, $out, $err);
my $dir = tmpdir() . '/lint';

sub scratch_left
{
	return psql('postgres',
		"SELECT count(*) FROM pg_database WHERE datname LIKE 'pg_migrate_scratch_%'");
}
my $scratch_before = scratch_left();

# a base revision that follows Invenio's convention, but for three planted
# findings: an over-long name (line 12), a primary key left unnamed (line 17),
# an index named against the convention (line 20)
write_file("$dir/a1_base.sql", <<'EOF');
-- migrate:revision a1
-- migrate:down_revision none
-- migrate:message Base tables.
-- migrate:upgrade
CREATE TABLE accounts (
    id int CONSTRAINT pk_accounts PRIMARY KEY,
    email text CONSTRAINT uq_accounts_email UNIQUE,
    age int CONSTRAINT ck_accounts_positive_age CHECK (age > 0)
);
CREATE INDEX ix_accounts_age ON accounts (age);
CREATE TABLE orders (
    id int CONSTRAINT pk_orders_with_a_name_that_is_much_longer_than_postgresql_allows PRIMARY KEY,
    account_id int CONSTRAINT fk_orders_account_id_accounts REFERENCES accounts,
    total numeric
);
CREATE TABLE items (
    id int PRIMARY KEY,
    order_id int
);
CREATE INDEX items_by_order ON items (order_id);
-- migrate:downgrade
DROP TABLE items; DROP TABLE orders; DROP TABLE accounts;
EOF

# the risky statements, on tables a1 made (lines 5 to 9); the CREATE INDEX
# on the table made in the same revision (line 11) is not risky (CREATE
# INDEX CONCURRENTLY needs a non-transactional revision, which lint cannot
# run yet)
write_file("$dir/a2_risky.sql", <<'EOF');
-- migrate:revision a2
-- migrate:down_revision a1
-- migrate:message Risky changes.
-- migrate:upgrade
CREATE INDEX ix_orders_total ON orders (total);
ALTER TABLE accounts ALTER COLUMN age TYPE bigint;
ALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid(),
    ADD COLUMN created timestamptz DEFAULT now();
ALTER TABLE orders ALTER total SET NOT NULL;
CREATE TABLE notes (id int CONSTRAINT pk_notes PRIMARY KEY, body text);
CREATE INDEX ix_notes_body ON notes (body);
-- migrate:downgrade
SELECT 1;
EOF

# safe forms: SET NOT NULL behind a validated CHECK, ADD COLUMN with a
# stable default, a constant-default column
write_file("$dir/a3_safe.sql", <<'EOF');
-- migrate:revision a3
-- migrate:down_revision a2
-- migrate:message Safe changes.
-- migrate:upgrade
ALTER TABLE items ADD CONSTRAINT ck_items_order_id_nn CHECK (order_id IS NOT NULL) NOT VALID;
ALTER TABLE items VALIDATE CONSTRAINT ck_items_order_id_nn;
ALTER TABLE items ALTER COLUMN order_id SET NOT NULL;
ALTER TABLE items ADD COLUMN qty int DEFAULT 1;
-- migrate:downgrade
SELECT 1;
EOF

my $db = new_db();
($rc, $out, $err) = pgm('-d', $db, 'lint', $dir);
is($rc, 1, 'findings: exit 1');
diag($out, $err) if $out eq '';
my @lines = split /\n/, $out;
is(scalar(@lines), 8, 'eight findings') or diag($out);
like($out, qr{^\Q$dir\E/a1_base\.sql:12: revision a1: truncated-name: identifier "pk_orders_with_a_name_that_is_much_longer_than_postgresql_allows" is 64 bytes long; PostgreSQL truncates it to "pk_orders_with_a_name_that_is_much_longer_than_postgresql_allow"$}m,
	'the over-long name, with file and line');
like($out, qr{^\Q$dir\E/a1_base\.sql:17: revision a1: unnamed-constraint: primary key "items_pkey" on table "items" has a name PostgreSQL chose}m,
	'the unnamed primary key, at its column\'s line');
like($out, qr{^\Q$dir\E/a1_base\.sql:20: revision a1: naming-convention: index "items_by_order" on table "items" does not follow the naming convention: expected "ix_items_order_id" \(ix = ix_%\(column_0_label\)s\)$}m,
	'the convention breach, with the expected name');
like($out, qr{^\Q$dir\E/a1_base\.sql:12: revision a1: naming-convention: primary key "pk_orders_with_a_name_that_is_much_longer_than_postgresql_allow" on table "orders" does not follow the naming convention: expected "pk_orders"}m,
	'the truncated name does not follow the convention either');
like($out, qr{^\Q$dir\E/a2_risky\.sql:5: revision a2: index-not-concurrent: CREATE INDEX without CONCURRENTLY on table "orders"}m,
	'CREATE INDEX without CONCURRENTLY on an existing table');
like($out, qr{^\Q$dir\E/a2_risky\.sql:6: revision a2: alter-column-type: ALTER COLUMN "age" TYPE on table "accounts"}m,
	'ALTER COLUMN TYPE');
like($out, qr{^\Q$dir\E/a2_risky\.sql:7: revision a2: volatile-default: ADD COLUMN "token" with a volatile default}m,
	'ADD COLUMN with a volatile default');
unlike($out, qr{"created"}, 'a stable default (now()) is not flagged');
like($out, qr{^\Q$dir\E/a2_risky\.sql:9: revision a2: set-not-null: SET NOT NULL on column "total" of table "orders"}m,
	'SET NOT NULL without a validated CHECK');
unlike($out, qr{"notes"|a3_safe}, 'an index on a new table and the safe forms are not flagged');
like($err, qr{error: 8 findings in 3 revisions}, 'the count on stderr');
is(scratch_left(), $scratch_before, 'no scratch database left');
is(psql($db, "SELECT count(*) FROM pg_extension WHERE extname = 'migrations'"), 0,
	'the database named by -d is not touched');

# one finding silenced by a comment on the line before
my $base = do { local $/; open(my $fh, '<', "$dir/a1_base.sql") or die; <$fh> };
(my $silenced = $base) =~ s/^CREATE INDEX items_by_order/-- lint-ignore: naming-convention\nCREATE INDEX items_by_order/m;
write_file("$dir/a1_base.sql", $silenced);
($rc, $out, $err) = pgm('-d', $db, 'lint', $dir);
is($rc, 1, 'still findings after silencing one');
unlike($out, qr{items_by_order}, 'the silenced finding is gone');
like($err, qr{7 findings in 3 revisions.*\n.*1 more silenced}, 'and counted as silenced');
# a comment naming another rule silences nothing
(my $other = $base) =~ s/^CREATE INDEX items_by_order/-- lint-ignore: set-not-null\nCREATE INDEX items_by_order/m;
write_file("$dir/a1_base.sql", $other);
($rc, $out, $err) = pgm('-d', $db, 'lint', $dir);
like($out, qr{items_by_order}, 'a comment for another rule silences nothing');
write_file("$dir/a1_base.sql", $base);

# another convention: the index is then right, the foreign key is not
($rc, $out, $err) = pgm('-d', $db, 'lint', '--naming-convention', 'ix=%(table_name)s_by_%(column_0_name)s',
	'--naming-convention', 'fk=fk_%(table_name)s_%(referred_table_name)s', $dir);
like($out, qr{index "items_by_order" on table "items" does not follow the naming convention: expected "items_by_order_id" \(ix = %\(table_name\)s_by_%\(column_0_name\)s\)},
	'--naming-convention: the index is checked against the given template');
like($out, qr{foreign key "fk_orders_account_id_accounts" on table "orders" does not follow the naming convention: expected "fk_orders_accounts"},
	'--naming-convention: the foreign key does not');
($rc, $out, $err) = pgm('-d', $db, 'lint', '--no-naming-convention', $dir);
unlike($out, qr{naming-convention}, '--no-naming-convention: no convention findings');
like($out, qr{unnamed-constraint}, 'but the unnamed constraint still');
($rc, $out, $err) = pgm('-d', $db, 'lint', '--naming-convention', 'zz=%(table_name)s', $dir);
is($rc, 2, 'an unknown kind is bad usage');
like($err, qr{invalid --naming-convention "zz=%\(table_name\)s": expected KIND=TEMPLATE}, 'naming it');

# --sizes-from: the table's size in a live database beside a risky finding
my $live = new_db();
psql($live, "CREATE TABLE orders (id int, total numeric); INSERT INTO orders SELECT g, g FROM generate_series(1, 5000) g; ANALYZE orders");
($rc, $out, $err) = pgm('-d', $db, 'lint', '--sizes-from', "dbname=$live", $dir);
like($out, qr{a2_risky\.sql:5: .*"orders".*\(in the live database: about 5000 rows, \d+ kB\)$}m,
	'--sizes-from: rows and size of the live table');
like($out, qr{a2_risky\.sql:6: .*"accounts".*\(not in the live database\)$}m,
	'--sizes-from: a table the live database lacks is said so');

# a clean project exits 0
my $clean = tmpdir() . '/lint_clean';
write_file("$clean/c1.sql", <<'EOF');
-- migrate:revision c1
-- migrate:down_revision none
-- migrate:upgrade
CREATE TABLE t (id int CONSTRAINT pk_t PRIMARY KEY, code text CONSTRAINT uq_t_code UNIQUE);
CREATE INDEX ix_t_code ON t (code);
-- migrate:downgrade
DROP TABLE t;
EOF
($rc, $out, $err) = pgm('-d', $db, 'lint', $clean);
is($rc, 0, 'a clean project: exit 0') or diag($out, $err);
is($out, "no findings in 1 revision\n", 'saying so');

# a revision that fails to upgrade: its file is named, exit 1
write_file("$clean/c2.sql", <<'EOF');
-- migrate:revision c2
-- migrate:down_revision c1
-- migrate:upgrade
ALTER TABLE nope ADD COLUMN x int;
EOF
($rc, $out, $err) = pgm('-d', $db, 'lint', $clean);
is($rc, 1, 'a failing revision: exit 1');
like($err, qr{\Q$clean\E/c2\.sql:3: .*relation "nope" does not exist}s, 'the failing revision\'s file is named');
is(scratch_left(), $scratch_before, 'no scratch database left after a failure');

done_testing();
