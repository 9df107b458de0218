#!/usr/bin/env bash
# Issue 10, items 9 and 11: migrate_status at N applied revisions, and the
# backend's peak memory for a body that SELECTs R rows against the same
# query run plainly.  Runs against the server psql reaches (PGHOST/PGPORT)
# as a superuser, in a throwaway database; called by run.sh.
#   HX_N     sizes for migrate_status ["1000 10000 100000"]
#   HX_ROWS  rows of the body's SELECT [5000000]
set -euo pipefail
HX_N=${HX_N:-"1000 10000 100000"}
HX_ROWS=${HX_ROWS:-5000000}
db=hx_bench_$$
psql -X -q -d postgres -c "CREATE DATABASE $db"
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db"' EXIT
psql -X -q -d "$db" -c "CREATE EXTENSION migrations"
echo "migrate_status (one linear chain, all applied)"
for n in $HX_N; do
	psql -X -q -d "$db" -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
DELETE FROM migrate_version; DELETE FROM migrate_log; DELETE FROM migrate_revision;
SELECT count(migrate_register('s' || i, CASE WHEN i = 1 THEN '{}'::text[] ELSE ARRAY['s' || (i - 1)] END, 'SELECT 1;')) FROM generate_series(1, $n) i \gset
SELECT count(*) FROM migrate_upgrade('heads') \gset
SQL
	t=$( { psql -X -q -d "$db" -c '\timing on' -c 'SELECT count(*) FROM migrate_status' -o /dev/null; } 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
	echo "  N=$n: $t ms"
done
peak() {	# peak RSS (VmHWM, kB) of a new backend after running $1
	psql -X -q -A -t -d "$db" <<SQL
SET client_min_messages = warning;
DELETE FROM migrate_version; DELETE FROM migrate_log; DELETE FROM migrate_revision;
$1
SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\s+(\d+)'))[1];
SQL
}
q="SELECT g, repeat('x', 100) FROM generate_series(1, $HX_ROWS) g"
plain=$(peak "SELECT count(*) FROM ($q) s;" | tail -1)
body=$(peak "SELECT migrate_register('big', '{}', \$b\$$q;\$b\$); SELECT count(*) FROM migrate_upgrade('heads');" | tail -1)
echo "body SELECT of $HX_ROWS rows: backend peak ${body} kB as a body, ${plain} kB plainly"
