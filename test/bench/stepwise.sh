#!/usr/bin/env bash
# Issue 14: CALL migrate_upgrade_stepwise over N revisions, each creating a
# table with a primary key (default settings: more than one transaction can
# hold at N = 20,000), against psql running the same bodies one transaction
# per file (psql -1 -f, one process per file; and one psql session running
# BEGIN; \i file; COMMIT for each file).  Prints both times and their
# ratio, from one run of each.  Runs against the server psql reaches
# (PGHOST/PGPORT) as a superuser, in throwaway databases; called by run.sh.
#   SW_N   revisions [20000]
set -euo pipefail
SW_N=${SW_N:-20000}
db=sw_bench_$$
dir=$(mktemp -d)
cleanup() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP DATABASE IF EXISTS ${db}_psql"
	rm -rf "$dir"
}
trap cleanup EXIT
psql -X -q -d postgres -c "CREATE DATABASE $db" -c "CREATE DATABASE ${db}_psql"
psql -X -q -d "$db" -c "CREATE EXTENSION migrations"
for i in $(seq 1 "$SW_N"); do
	printf 'CREATE TABLE t%d (id int PRIMARY KEY);\n' "$i" > "$dir/$i.sql"
done
psql -X -q -d "$db" -v ON_ERROR_STOP=1 -c "SELECT count(migrate_register('r' || i,
    CASE WHEN i = 1 THEN '{}' ELSE ARRAY['r' || (i - 1)] END,
    pg_catalog.format('CREATE TABLE t%s (id int PRIMARY KEY);', i))) FROM generate_series(1, $SW_N) AS i" > /dev/null
now() { date +%s.%N; }
t0=$(now)
psql -X -q -d "$db" -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
	-c "CALL migrate_upgrade_stepwise('heads')"
t1=$(now)
for i in $(seq 1 "$SW_N"); do
	psql -X -q -1 -v ON_ERROR_STOP=1 -d "${db}_psql" -f "$dir/$i.sql"
done
t2=$(now)
# the same files, one transaction each, in one psql session (no connection
# per file): the fairer figure
psql -X -q -d postgres -c "DROP DATABASE ${db}_psql" -c "CREATE DATABASE ${db}_psql"
for i in $(seq 1 "$SW_N"); do
	printf 'BEGIN;\n\\i %s/%d.sql\nCOMMIT;\n' "$dir" "$i"
done > "$dir/all.psql"
t3=$(now)
psql -X -q -v ON_ERROR_STOP=1 -d "${db}_psql" -f "$dir/all.psql"
t4=$(now)
[ "$(psql -X -A -t -d "$db" -c "SELECT count(*) FROM migrate_log")" = "$SW_N" ] ||
	{ echo "stepwise: not every revision ran" >&2; exit 1; }
awk -v n="$SW_N" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" 'BEGIN {
	printf "stepwise upgrade of %d revisions (CREATE TABLE ... PRIMARY KEY each)\n", n
	printf "  CALL migrate_upgrade_stepwise: %.2f s\n", b - a
	printf "  psql -1 -f, one file at a time: %.2f s\n", c - b
	printf "  ratio stepwise / psql: %.2f\n", (b - a) / (c - b)
	printf "  psql, one session, BEGIN; \\i file; COMMIT per file: %.2f s\n", e - d
	printf "  ratio stepwise / psql in one session: %.2f\n", (b - a) / (e - d)
}'
