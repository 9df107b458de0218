#!/usr/bin/env bash
# Issue 13, item 4: "pg_migrate check --alembic" (revision headers read in
# C, graph checked by the core, heads printed) against "alembic heads"
# (Alembic 1.8 importing every revision module) on a generated Alembic
# version directory (gen_alembic.py) of BENCH_ALEMBIC_CHECK_N revisions
# (default 10,000).  Both are offline: no database.  Writes
# $BENCH_RESULTS/alembic_check.md: medians of BENCH_REPEAT runs (default
# 3) side by side and their ratio, plus Alembic's first run, which also
# compiles the modules' bytecode (__pycache__) as a first run in CI does.
# The heads of both programs are checked against the generator's first.
# Run by run.sh (make bench) unless BENCH_ALEMBIC=0; also on its own:
#   PG_MIGRATE=src/bin/pg_migrate/pg_migrate bash test/bench/alembic_check.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
PG_MIGRATE=${PG_MIGRATE:-$top/src/bin/pg_migrate/pg_migrate}
N=${BENCH_ALEMBIC_CHECK_N:-10000}
R=${BENCH_REPEAT:-3}
BENCH_WORK=${BENCH_WORK:-$here/work}
BENCH_RESULTS=${BENCH_RESULTS:-$here/results}
d=$BENCH_WORK/alembic_check_$N
out=$BENCH_RESULTS/alembic_check.md
say() { echo "$(date +%H:%M:%S) alembic_check: $*" >&2; }

rm -rf "$d"
mkdir -p "$d/project/versions" "$BENCH_RESULTS"
"$PY" "$here/gen_alembic.py" --n "$N" --out "$d/project/versions"
mv "$d/project/versions/heads.txt" "$d/heads.txt"
printf '[alembic]\nscript_location = %s\n' "$d/project" > "$d/alembic.ini"

# seconds one command takes (its output to $d/last.out)
timed() {
    local t0=$EPOCHREALTIME
    "$@" > "$d/last.out" 2> "$d/last.err"
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
heads_of() { awk '{ print $1 }' "$d/last.out" | sort; }

say "N=$N: first alembic heads (compiles bytecode)"
al_first=$(cd "$d" && timed "$PY" -m alembic -c alembic.ini heads)
heads_of > "$d/heads.alembic"
ours_first=$(timed "$PG_MIGRATE" check --alembic "$d/project/versions")
heads_of > "$d/heads.ours"
for f in alembic ours; do
    cmp -s "$d/heads.$f" "$d/heads.txt" || { say "heads of $f differ from the generator's"; exit 1; }
done
ours=(); al=()
for i in $(seq 1 "$R"); do
    say "N=$N: repetition $i/$R"
    ours+=("$(timed "$PG_MIGRATE" check --alembic "$d/project/versions")")
    al+=("$(cd "$d" && timed "$PY" -m alembic -c alembic.ini heads)")
done
ours_med=$(printf '%s\n' "${ours[@]}" | median)
al_med=$(printf '%s\n' "${al[@]}" | median)
ratio=$(awk -v a="$al_med" -v o="$ours_med" 'BEGIN { printf "%.0f", a / o }')
ratio_first=$(awk -v a="$al_first" -v o="$ours_first" 'BEGIN { printf "%.0f", a / o }')
alembic_version=$("$PY" -c 'import alembic, sqlalchemy; print("Alembic %s, SQLAlchemy %s" % (alembic.__version__, sqlalchemy.__version__))')
{
    echo "# pg_migrate check --alembic against alembic heads"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)); load $(cut -d' ' -f1-3 /proc/loadavg); $alembic_version"
    echo
    echo "One generated version directory of $N revision files (gen_alembic.py: 16 labelled"
    echo "branches, merges, depends_on, both quoting styles, annotated headers); $(wc -l < "$d/heads.txt") heads, the same"
    echo "for the generator, pg_migrate and Alembic. Wall time of the whole command, no database."
    echo
    echo "| N | pg_migrate check --alembic | alembic heads | alembic / pg_migrate |"
    echo "| ---: | ---: | ---: | ---: |"
    echo "| $N | $ours_med s | $al_med s | $ratio |"
    echo "| $N, first run (Alembic compiles bytecode) | $ours_first s | $al_first s | $ratio_first |"
    echo
    echo "Medians of $R runs after the first; samples: pg_migrate ${ours[*]}; Alembic ${al[*]}."
} > "$out"
cat "$out"
