#!/bin/bash
# Label inheritance at scale (issue 10, item 1): migrate_heads() time and
# peak backend memory (VmHWM) for one revision with N labels and for a chain
# of N revisions with one label each, N = 1,000 / 10,000 / 100,000, measured
# side by side in one run against the running server (PGHOST/PGPORT).
# Writes test/bench/results/hardening_labels.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_RESULTS:-$here/results}/hardening_labels.md
db=mg_bench_labels
sizes=${HARDENING_SIZES:-"1000 10000 100000"}
mkdir -p "$(dirname "$out")"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
psql -X -q -d $db -c "CREATE EXTENSION migrations" >/dev/null

# an empty history: the drop guard refuses DROP EXTENSION while the
# extension holds history, so the extension is dropped with the guard's
# setting on, in one transaction, and created again
fresh_extension() {
    psql -X -q -d $db -c "BEGIN" -c "SET LOCAL migrations.allow_drop = on" \
        -c "DROP EXTENSION migrations CASCADE" -c "COMMIT" \
        -c "CREATE EXTENSION migrations" >/dev/null
}

# one fresh backend: ms of migrate_heads() and its VmHWM in kB
measure() {
    psql -X -q -A -t -d $db <<'SQL'
SELECT pg_backend_pid() AS pid \gset
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SELECT count(*) FROM migrate_heads() \g /dev/null
SELECT round((extract(epoch FROM clock_timestamp()) - :t0) * 1000) AS ms \gset
\echo :ms
\setenv MGPID :pid
\! awk '/VmHWM/ {print $2}' /proc/$MGPID/status
SQL
}

rows=()
for n in $sizes; do
    fresh_extension
    psql -X -q -d $db -c "SELECT count(migrate_register('big', '{}', 'SELECT 1;', 'SELECT 1;', NULL,
        (SELECT array_agg('b' || i) FROM generate_series(1, $n) i)))" >/dev/null
    read -r ms1 kb1 < <(measure | tr '\n' ' '; echo)
    fresh_extension
    psql -X -q -d $db -c "SELECT count(migrate_register('c' || i,
        CASE WHEN i = 0 THEN '{}'::text[] ELSE ARRAY['c' || (i - 1)] END,
        'SELECT 1;', 'SELECT 1;', NULL, ARRAY['l' || i])) FROM generate_series(0, $n - 1) i" >/dev/null
    read -r ms2 kb2 < <(measure | tr '\n' ' '; echo)
    rows+=("$n $ms1 $kb1 $ms2 $kb2")
done
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null
{
    echo "# migrate_heads() with many labels (first call of a backend)"
    echo
    echo "| N | 1 revision, N labels: ms | peak backend kB | chain of N, 1 label each: ms | peak backend kB |"
    echo "|---:|---:|---:|---:|---:|"
    for r in "${rows[@]}"; do set -- $r; echo "| $1 | $2 | $3 | $4 | $5 |"; done
} > "$out"
cat "$out"
