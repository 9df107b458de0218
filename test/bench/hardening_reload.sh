#!/usr/bin/env bash
# Issue 10, item 11 (reload half): pg_migrate load after editing every
# unapplied body, at N = 1,000, 10,000 and 100,000 revisions.  Before 0.2
# each changed revision rebuilt the graph (49 s at 10,000); now
# migrate_register works out the applied set once per transaction, so the
# reload is linear in N.
#
# Runs against the server of the libpq environment (make bench's throwaway
# cluster when called from test/bench/run.sh).  Writes
# $BENCH_RESULTS/hardening_reload.{md,csv}.
#
# Environment: HARDENING_N [1000 10000 100000], PG_MIGRATE [pg_migrate],
# BENCH_RESULTS [test/bench/results], BENCH_WORK [test/bench/work].
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N_LIST=${HARDENING_N:-"1000 10000 100000"}
PG_MIGRATE=${PG_MIGRATE:-pg_migrate}
BENCH_RESULTS=${BENCH_RESULTS:-$here/results}
BENCH_WORK=${BENCH_WORK:-$here/work}
work=$BENCH_WORK/hardening_reload
mkdir -p "$work" "$BENCH_RESULTS"
db=b_hardening_reload
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)
say() { printf '%s hardening_reload: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# gen DIR N VERSION: a chain of N revision files; the first tenth have
# fixed bodies (they get applied), the others bodies that name VERSION
gen() {
    /usr/bin/python3 - "$1" "$2" "$3" <<'EOF'
import os, sys
d, n, version = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(d, exist_ok=True)
for i in range(n):
    body = f"SELECT {i};" if i < n // 10 else f"SELECT {i}, '{version}';"
    down = "none" if i == 0 else f"r{i - 1:06d}"
    with open(os.path.join(d, f"{i:06d}_r{i:06d}.sql"), "w") as f:
        f.write(f"-- migrate:revision r{i:06d}\n-- migrate:down_revision {down}\n"
                f"-- migrate:message Revision {i}.\n-- migrate:upgrade\n{body}\n"
                f"-- migrate:downgrade\nSELECT -{i};\n")
EOF
}

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

csv=$BENCH_RESULTS/hardening_reload.csv
echo "n,applied,load_s,reload_unchanged_s,reload_edited_s,updated" > "$csv"
for n in $N_LIST; do
    rm -rf "$work/files"
    gen "$work/files" "$n" v1
    PGOPTIONS="-c client_min_messages=warning" dropdb --if-exists "$db"
    createdb "$db"
    t0=$EPOCHREALTIME
    "$PG_MIGRATE" -d "$db" load "$work/files" > /dev/null
    t1=$EPOCHREALTIME
    "${PSQL[@]}" -d "$db" -c "SET client_min_messages = warning" \
        -c "SELECT count(*) FROM migrate_upgrade('r$(printf %06d $(( n / 10 - 1 )))')" > /dev/null
    t2=$EPOCHREALTIME
    "$PG_MIGRATE" -d "$db" load "$work/files" > /dev/null
    t3=$EPOCHREALTIME
    gen "$work/files" "$n" v2       # the same files, every unapplied body edited
    t3b=$EPOCHREALTIME
    out=$("$PG_MIGRATE" -d "$db" load "$work/files")
    t4=$EPOCHREALTIME
    updated=$(sed -n 's/^added 0, updated \([0-9]*\), .*/\1/p' <<< "$out")
    [ "$updated" = $(( n - n / 10 )) ] || { say "unexpected result at $n: $out"; exit 1; }
    echo "$n,$(( n / 10 )),$(secs "$t0" "$t1"),$(secs "$t2" "$t3"),$(secs "$t3b" "$t4"),$updated" >> "$csv"
    say "N=$n: load $(secs "$t0" "$t1") s, reload unchanged $(secs "$t2" "$t3") s, reload with $updated bodies edited $(secs "$t3b" "$t4") s"
    PGOPTIONS="-c client_min_messages=warning" dropdb --if-exists "$db"
done
rm -rf "$work/files"

/usr/bin/python3 - "$csv" "$BENCH_RESULTS/hardening_reload.md" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
out = open(sys.argv[2], "w")
out.write("# Reload after editing every unapplied body (issue 10, item 11)\n\n")
out.write("A chain of N revision files, the first tenth applied; `pg_migrate load`"
          " of the same files with every unapplied body edited (wall clock,"
          " connection included). Growth: time at N divided by time at the"
          " previous N (10 for linear growth over a tenfold N).\n\n")
out.write("| N | applied | first load | reload, unchanged | reload, bodies edited | updated | growth |\n")
out.write("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
prev = None
for r in rows:
    t = float(r["reload_edited_s"])
    growth = "" if prev is None else "%.1fx over %sx N" % (t / prev[1], int(r["n"]) // prev[0])
    out.write("| {:,} | {:,} | {:.2f} s | {:.2f} s | {:.2f} s | {:,} | {} |\n".format(
        int(r["n"]), int(r["applied"]), float(r["load_s"]), float(r["reload_unchanged_s"]),
        t, int(r["updated"]), growth))
    prev = (int(r["n"]), t)
out.write("\nBefore 0.2 each changed revision rebuilt the graph: 49 s at N = 10,000"
          " (the issue's figure), quadratic in N.\n")
EOF
say "wrote $BENCH_RESULTS/hardening_reload.md"
