#!/usr/bin/env bash
# make bench: time the extension and pg_migrate against psql -1 -f (the same
# bodies in one file) and Alembic 1.8, on synthetic histories of N revisions
# in two shapes (test/bench/gen.py), in a throwaway cluster with default
# settings, and write test/bench/results/{results.csv,results.md,bench.png}.
# Never part of make test.  See test/bench/README.md.
#
# Environment (defaults in brackets):
#   BENCH_N            sizes ["1000 10000 100000"]
#   BENCH_SHAPES       shapes ["linear branched"]
#   BENCH_REPEAT       repetitions of every measurement [5 for N <= 10000, 3 above]
#   BENCH_ALEMBIC      0 skips Alembic [1]
#   BENCH_ALEMBIC_LIMIT  seconds a single Alembic run may take, projected from
#                      the smaller sizes, before it is skipped [600]
#   BENCH_ALEMBIC_ONCE   an Alembic run that takes longer than this many
#                      seconds is not repeated [120]
#   BENCH_PROFILE      0 skips the perf profile of planning at the largest
#                      branched N [1, if perf is installed]
#   BENCH_WORK         generated histories and raw samples [test/bench/work]
#   BENCH_RESULTS      where results go [test/bench/results]
#   BENCH_BUILD        0 measures what the system has installed instead of
#                      building (see below) [1]
#   BENCH_REV          a commit to build and measure instead of the working tree

# The whole script is one compound command, read before it runs: editing
# this file during a run does not disturb the run.
{
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"

PY=/usr/bin/python3     # Debian's: the one that sees python3-alembic
BENCH_N=${BENCH_N:-"1000 10000 100000"}
BENCH_SHAPES=${BENCH_SHAPES:-"linear branched"}
BENCH_ALEMBIC=${BENCH_ALEMBIC:-1}
BENCH_ALEMBIC_LIMIT=${BENCH_ALEMBIC_LIMIT:-600}
BENCH_ALEMBIC_ONCE=${BENCH_ALEMBIC_ONCE:-120}
BENCH_PROFILE=${BENCH_PROFILE:-1}
BENCH_WORK=${BENCH_WORK:-$here/work}
BENCH_RESULTS=${BENCH_RESULTS:-$here/results}
BENCH_BUILD=${BENCH_BUILD:-1}
start_time=$EPOCHREALTIME
load0=$(cut -d' ' -f1-3 /proc/loadavg)

say() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------------------
# What the benchmark needs: the build dependencies (test/install-deps.sh),
# gnuplot for the plot, psycopg2 for Alembic's online runs.
need=(gnuplot-nox)
[ "$BENCH_ALEMBIC" = 1 ] && need+=(python3-alembic python3-psycopg2)
missing=()
for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "$(id -u)" -eq 0 ]; then
    bash test/install-deps.sh
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" > /dev/null
    fi
elif [ "${#missing[@]}" -gt 0 ]; then
    say "missing packages: ${missing[*]} (sudo apt-get install ${missing[*]})"
    if [[ " ${missing[*]} " == *" python3-"* ]]; then
        say "Alembic cannot run without them: set BENCH_ALEMBIC=0 or install them"
        exit 1
    fi
fi

mkdir -p "$BENCH_WORK" "$BENCH_RESULTS"
samples=$BENCH_WORK/samples.csv
notes=$BENCH_WORK/notes.txt
logdir=$BENCH_WORK/log
rm -rf "$logdir"; mkdir -p "$logdir"
echo "shape,n,metric,rep,value" > "$samples"
: > "$notes"
note() { say "note: $*"; echo "$*" >> "$notes"; }

# ---------------------------------------------------------------------------
# Histories: regenerated when the generator changed.
gen_sum=$(sha1sum "$here/gen.py" | cut -c1-40)
for shape in $BENCH_SHAPES; do
    for n in $BENCH_N; do
        d=$BENCH_WORK/${shape}_$n
        if [ "$(cat "$d/.gen" 2>/dev/null)" != "$gen_sum" ]; then
            say "generating $shape N=$n"
            "$PY" "$here/gen.py" history --shape "$shape" --n "$n" --out "$d"
            echo "$gen_sum" > "$d/.gen"
        fi
    done
done

# ---------------------------------------------------------------------------
# A throwaway cluster, initdb's defaults (fsync, synchronous_commit,
# full_page_writes on), Unix socket only.  One setting differs above 10,000
# revisions: max_locks_per_transaction, because one transaction creating
# 100,000 sequences takes a lock on each (with the default 64, psql -1 -f
# fails at about 12,500 too).
cluster=$(mktemp -d /tmp/pg_bench.XXXXXX)
chmod 755 "$cluster"
as_pg=()
[ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
cleanup() {
    if [ -f "$cluster/data/postmaster.pid" ]; then
        "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$cluster/data" -m immediate -w stop > /dev/null 2>&1 || true
    fi
    rm -rf "$cluster"
}
trap cleanup EXIT

# The code measured: the working tree, or with BENCH_REV a commit's tree
# (git archive).  It is built, then installed (DESTDIR) into a private copy
# of the server's bin, lib and share directories, which PostgreSQL finds
# relative to its binaries: the run measures what it built, whatever other
# sessions install into the system meanwhile, and needs no root.  Where
# that copy cannot be made, the extension is installed into the system.
# BENCH_BUILD=0 measures what the system has installed.
PGBIN=$(pg_config --bindir)
src=$top
if [ -n "${BENCH_REV:-}" ]; then
    src=$cluster/src
    mkdir "$src"
    git -C "$top" archive "$BENCH_REV" | tar -x -C "$src"
    code="commit $(git -C "$top" rev-parse --short "$BENCH_REV")"
else
    code="working tree at commit $(git -C "$top" rev-parse --short HEAD)"
    if [ -n "$(git -C "$top" status --porcelain -- src sql Makefile migrations.control)" ]; then
        code="$code, with uncommitted changes to src/, sql/ or Makefile"
    fi
fi
if [ "$BENCH_BUILD" = 1 ]; then
    say "building $code"
    make -s -C "$src"
    priv=$cluster/pg
    sys_pkglib=$(pg_config --pkglibdir)
    sys_share=$(pg_config --sharedir)
    for dir in "$PGBIN" "$sys_pkglib" "$sys_share"; do
        mkdir -p "$priv$(dirname "$dir")"
        cp -a "$dir" "$priv$(dirname "$dir")/"
    done
    rm -f "$priv$sys_pkglib/migrations.so" "$priv$sys_share"/extension/migrations*
    if [ "$("$priv$PGBIN/pg_config" --pkglibdir 2>/dev/null)" = "$priv$sys_pkglib" ] &&
       [ "$("$priv$PGBIN/pg_config" --sharedir 2>/dev/null)" = "$priv$sys_share" ]; then
        say "installing into a private copy of the server ($priv)"
        make -s -C "$src" install DESTDIR="$priv" PG_MIGRATE_LINKDIR=
        PGBIN=$priv$PGBIN
        install_kind="a private copy of the server"
    else
        rm -rf "$priv"
        say "installing into the system (no relocatable copy of the server)"
        if [ "$(id -u)" -eq 0 ]; then make -s -C "$src" install; else sudo make -s -C "$src" install; fi
        install_kind="the system"
    fi
else
    code="what the system has installed (BENCH_BUILD=0)"
    install_kind="the system"
fi
PG_MIGRATE=$PGBIN/pg_migrate
so_sum=$(md5sum "$("$PGBIN/pg_config" --pkglibdir)/migrations.so" | cut -c1-12)
[ "$(id -u)" -eq 0 ] && chown postgres: "$cluster"

"${as_pg[@]}" "$PGBIN/initdb" -D "$cluster/data" -A trust -U postgres --no-instructions > "$logdir/initdb.log"
max_n=0
for n in $BENCH_N; do [ "$n" -gt "$max_n" ] && max_n=$n; done
locks=$(( max_n > 10000 ? max_n / 50 : 64 ))
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories='$cluster' -c max_locks_per_transaction=$locks" \
    start > /dev/null
export PGHOST=$cluster PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
unset PGSERVICE PGOPTIONS PGHOSTADDR
[ "$locks" -gt 64 ] && note "max_locks_per_transaction = $locks (default 64): one transaction creating $max_n sequences takes a lock per sequence."

PSQL=(psql -X -q -v ON_ERROR_STOP=1)

# ---------------------------------------------------------------------------
# Helpers.

# sample METRIC VALUE
sample() { echo "$shape,$n,$1,$rep,$2" >> "$samples"; }

# timed METRIC CMD...: run CMD (stdout and stderr to a log), record its wall time in seconds
timed() {
    local metric=$1; shift
    local log=$logdir/$shape-$n-$metric.log t0 t1 rc=0
    t0=$EPOCHREALTIME
    "$@" > "$log" 2>&1 || rc=$?
    t1=$EPOCHREALTIME
    if [ $rc -ne 0 ]; then
        say "FAILED ($rc): $*"; tail -5 "$log" >&2
        return $rc
    fi
    sample "$metric" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')"
}

drop_db() { PGOPTIONS="-c client_min_messages=warning" dropdb --if-exists "$1"; }
fresh_db() {    # fresh_db NAME: an empty database with table bench_t
    drop_db "$1"
    createdb "$1"
    "${PSQL[@]}" -d "$1" -c "CREATE TABLE bench_t (id int)"
}
settle() {      # settle DB: vacuum and analyze, then a checkpoint
    "${PSQL[@]}" -d "$1" -c "VACUUM ANALYZE" -c "CHECKPOINT"
}

# plan_session DB KIND QUERY: in a fresh backend, the server-side time and
# peak memory of QUERY's first call, then the time of a second call.
plan_session() {
    local db=$1 kind=$2 q=$3 out
    out=$("${PSQL[@]}" -At -F' ' -d "$db" <<EOF
LOAD 'migrations';
SELECT bench.vm('VmRSS') IS NOT NULL AND bench.vm('RssShmem') IS NOT NULL;
SELECT 'first', ms, peak_kb FROM bench.measure(\$q\$$q\$q\$);
SELECT 'second', ms, peak_kb FROM bench.measure(\$q\$$q\$q\$);
EOF
)
    set -- $(echo "$out" | awk '$1 == "first" { print $2, $3 } $1 == "second" { print $2, $3 }')
    [ $# -eq 4 ] || { say "plan_session: unexpected output: $out"; return 1; }
    sample "${kind}_ms" "$1"
    sample "${kind}_mem_kb" "$2"
    sample "${kind}_2nd_ms" "$3"
    sample "${kind}_2nd_mem_kb" "$4"
}

reps_for() {
    if [ -n "${BENCH_REPEAT:-}" ]; then echo "$BENCH_REPEAT"
    elif [ "$1" -le 10000 ]; then echo 5
    else echo 3
    fi
}

# median of a metric's samples so far (for Alembic's projections)
median_of() {
    awk -F, -v s="$1" -v n="$2" -v m="$3" '$1 == s && $2 == n && $3 == m { print $5 }' "$samples" |
        sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# project_alembic METRIC: a single run's projected seconds at $n from the
# two largest sizes measured so far (at least linear growth), or nothing
project_alembic() {
    local metric=$1 p1="" t1="" p2="" t2="" m
    for m in $BENCH_N; do
        [ "$m" -lt "$n" ] || continue
        local t; t=$(median_of "$shape" "$m" "$metric")
        [ -n "$t" ] || continue
        p1=$p2; t1=$t2; p2=$m; t2=$t
    done
    [ -n "$p2" ] || return 0
    awk -v n="$n" -v p1="$p1" -v t1="$t1" -v p2="$p2" -v t2="$t2" 'BEGIN {
        k = 1
        if (p1 != "" && t1 > 0 && t2 > t1) { k = log(t2 / t1) / log(p2 / p1); if (k < 1) k = 1 }
        printf "%.1f", t2 * (n / p2) ^ k }'
}

# alembic_cmd ARGS...: python3 -m alembic ARGS in the history's Alembic
# project, against database b_alembic, stopped after BENCH_ALEMBIC_LIMIT
# seconds; Python may write bytecode (versions/__pycache__), as it does for
# a user, even if the environment says otherwise.
alembic_cmd() {
    (cd "$adir" && exec env -u PYTHONDONTWRITEBYTECODE \
        BENCH_ALEMBIC_URL="postgresql+psycopg2://postgres@/b_alembic?host=$cluster&port=5432" \
        timeout "$BENCH_ALEMBIC_LIMIT" "$PY" -m alembic -c alembic.ini "$@")
}

# The runs that are compared, each after a CHECKPOINT.
step_ours_ddl() { timed up_ddl_ours_s "${PSQL[@]}" -d b_ours -c "SELECT count(*) FROM migrate_upgrade('heads')"; }
step_psql_ddl() { timed up_ddl_psql_s "${PSQL[@]}" -d b_psql -1 -f "$d/all_ddl.sql"; }
step_alembic_up() { alembic_run al_up_s upgrade heads; }
step_ours_ins() { timed up_ins_ours_s "${PSQL[@]}" -d b_ours -c "SELECT count(*) FROM migrate_upgrade('heads')"; }
step_psql_ins() { timed up_ins_psql_s "${PSQL[@]}" -d b_psql -1 -f "$d/all_ins.sql"; }

# rotated STEP...: run the steps back to back, starting with a different
# one at each repetition, so that neither side always runs first.
rotated() {
    local steps=("$@") k=${#@} i
    for i in $(seq 0 $((k - 1))); do
        "${PSQL[@]}" -c "CHECKPOINT"
        "${steps[$(( (i + rep - 1) % k ))]}"
    done
}

# alembic_run METRIC ARGS...: one timed Alembic run (online ones against
# database b_alembic), unless skipped; a failure or a run over the limit is
# noted, and the metric is skipped from then on.
alembic_run() {
    local metric=$1 rc=0; shift
    [[ " ${al_skip[*]} " != *" $metric "* ]] || return 0
    timed "$metric" alembic_cmd "$@" || rc=$?
    if [ $rc -eq 0 ] && [ "$rep" -lt "$R" ]; then
        local took; took=$(tail -1 "$samples" | cut -d, -f5)
        if awk -v t="$took" -v o="$BENCH_ALEMBIC_ONCE" 'BEGIN { exit !(t > o) }'; then
            al_skip+=("$metric")
            note "$shape N=$n: Alembic $metric measured once: it took $(printf '%.0f' "$took") s (over ${BENCH_ALEMBIC_ONCE} s)"
        fi
    elif [ $rc -ne 0 ]; then
        al_skip+=("$metric")
        if [ $rc -eq 124 ]; then
            note "$shape N=$n: Alembic $metric stopped after ${BENCH_ALEMBIC_LIMIT} s (the limit), not measured"
        else
            note "$shape N=$n: Alembic $metric failed (exit $rc, see $logdir/$shape-$n-$metric.log)"
        fi
    fi
}

# ---------------------------------------------------------------------------
machine_cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
machine_cores=$(nproc)
machine_ram=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
pg_version=$("${PSQL[@]}" -At -c "SELECT version()")
alembic_version=$([ "$BENCH_ALEMBIC" = 1 ] && "$PY" -c 'import alembic, sqlalchemy, psycopg2; print("Alembic %s, SQLAlchemy %s, psycopg2 %s (Debian packages)" % (alembic.__version__, sqlalchemy.__version__, psycopg2.__version__.split()[0]))' || echo "Alembic not run")

for shape in $BENCH_SHAPES; do
    for n in $BENCH_N; do
        d=$BENCH_WORK/${shape}_$n
        adir=$d/alembic
        R=$(reps_for "$n")
        rep=0
        say "$shape N=$n: $R repetitions"

        # The order our upgrade runs the steps in, for the psql files; and the
        # heads as the generator, pg_migrate check, migrate_heads() and
        # Alembic see them.
        fresh_db b_ours
        "$PG_MIGRATE" -d b_ours load "$d/revs_ddl" > /dev/null
        "${PSQL[@]}" -At -d b_ours -o "$d/order.txt" \
            -c "BEGIN" -c "SET client_min_messages = warning" \
            -c "SELECT revision FROM migrate_upgrade('heads')" -c "ROLLBACK"
        "$PY" "$here/gen.py" concat --dir "$d" --order "$d/order.txt"
        "$PG_MIGRATE" check "$d/revs_ddl" > "$d/heads.check" 2> /dev/null
        "${PSQL[@]}" -At -F' ' -d b_ours -o "$d/heads.sql" \
            -c "SELECT revision, CASE WHEN is_effective_head THEN '(effective head)' END FROM migrate_heads()"
        heads_args=(generator="$d/heads.txt" "pg_migrate check=$d/heads.check" "migrate_heads()=$d/heads.sql")
        al_skip=()
        if [ "$BENCH_ALEMBIC" = 1 ]; then
            # also the warm-up that compiles versions/__pycache__
            t0=$EPOCHREALTIME
            if alembic_cmd heads > "$d/heads.alembic" 2> "$logdir/$shape-$n-alembic-heads-check.log"; then
                heads_args+=("alembic heads=$d/heads.alembic")
                say "$shape N=$n: first alembic heads (compiling bytecode) took $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
            else
                al_skip=(al_heads_s al_up_s al_sql_s)
                note "$shape N=$n: Alembic not measured: the first alembic heads did not finish in ${BENCH_ALEMBIC_LIMIT} s"
            fi
        fi
        "$PY" "$here/gen.py" heads-equal "${heads_args[@]}" | sed "s/^/$(date +%H:%M:%S) bench: $shape N=$n: /" >&2

        # Which Alembic runs fit in the time limit.
        if [ "$BENCH_ALEMBIC" = 1 ]; then
            for m in al_heads_s al_up_s al_sql_s; do
                [[ " ${al_skip[*]} " != *" $m "* ]] || continue
                p=$(project_alembic "$m")
                if [ -n "$p" ] && awk -v p="$p" -v l="$BENCH_ALEMBIC_LIMIT" 'BEGIN { exit !(p > l) }'; then
                    al_skip+=("$m")
                    note "$shape N=$n: Alembic $m skipped: one run projected at ${p} s (limit ${BENCH_ALEMBIC_LIMIT} s)"
                fi
            done
        fi

        for rep in $(seq 1 "$R"); do
            say "$shape N=$n: repetition $rep/$R"
            # -- DDL bodies.  pg_migrate load into a database with the
            # extension; then ours, psql -1 -f and Alembic run the upgrade
            # back to back, each from a fresh database.
            fresh_db b_ours
            "${PSQL[@]}" -d b_ours -c "CREATE EXTENSION migrations" -c "CHECKPOINT"
            timed load_s "$PG_MIGRATE" -d b_ours load "$d/revs_ddl"
            timed reload_s "$PG_MIGRATE" -d b_ours load "$d/revs_ddl"
            timed check_s "$PG_MIGRATE" check "$d/revs_ddl"
            fresh_db b_psql
            steps=(step_ours_ddl step_psql_ddl)
            if [ "$BENCH_ALEMBIC" = 1 ] && [[ " ${al_skip[*]} " != *" al_up_s "* ]]; then
                fresh_db b_alembic
                steps+=(step_alembic_up)
            fi
            settle b_ours; settle b_psql
            rotated "${steps[@]}"

            # -- planning, downgrade and stamp, on ours at head
            "${PSQL[@]}" -d b_ours -f "$here/bench.sql"
            settle b_ours
            plan_session b_ours heads "SELECT count(*) FROM migrate_heads()"
            plan_session b_ours noop "SELECT count(*) FROM migrate_upgrade('heads')"
            timed heads_cli_s "$PG_MIGRATE" -d b_ours heads
            "${PSQL[@]}" -d b_ours -c "CHECKPOINT"
            timed down_s "${PSQL[@]}" -d b_ours -c "SELECT count(*) FROM migrate_downgrade('base')"
            settle b_ours
            timed stamp_s "${PSQL[@]}" -d b_ours -c "SELECT count(*) FROM migrate_stamp('heads')"

            # -- trivial bodies (one-row INSERTs): ours and psql back to back
            fresh_db b_ours
            "${PSQL[@]}" -d b_ours -c "CREATE EXTENSION migrations"
            "$PG_MIGRATE" -d b_ours load "$d/revs_ins" > /dev/null
            fresh_db b_psql
            settle b_ours; settle b_psql
            rotated step_ours_ins step_psql_ins

            # -- Alembic offline: heads, upgrade heads --sql
            if [ "$BENCH_ALEMBIC" = 1 ]; then
                alembic_run al_heads_s heads
                alembic_run al_sql_s upgrade heads --sql
            fi
        done
        drop_db b_ours; drop_db b_psql; drop_db b_alembic
    done
done

# ---------------------------------------------------------------------------
# Profiles at the largest branched history: where the backend spends
# migrate_heads() and a no-op migrate_upgrade('heads') (planning), and an
# upgrade from empty with one-row INSERT bodies (execution without DDL).

# profile DB FREQ LABEL SQL: perf record of the backend running SQL
profile() {
    local db=$1 freq=$2 label=$3 sql=$4 pidfile=$BENCH_WORK/profile.pid psql_pid perf_pid bpid
    rm -f "$pidfile"
    "${PSQL[@]}" -At -d "$db" > /dev/null 2>&1 <<EOF &
LOAD 'migrations';
\\o $pidfile
SELECT pg_backend_pid();
\\o
SELECT pg_sleep(1);
$sql;
EOF
    psql_pid=$!
    for _ in $(seq 50); do [ -s "$pidfile" ] && break; sleep 0.1; done
    bpid=$(head -1 "$pidfile")
    perf record -q -F "$freq" -g -p "$bpid" -o "$BENCH_WORK/perf.data" > /dev/null 2>&1 &
    perf_pid=$!
    wait "$psql_pid"
    wait "$perf_pid" || true
    {
        echo "== $label, branched N=$n: perf record -F $freq -g -p <backend>; self time"
        perf report -i "$BENCH_WORK/perf.data" --stdio --no-children --sort dso,symbol 2>/dev/null |
            grep -E '^ +[0-9.]+%' | sed -n 1,25p
        echo
        echo "== the same, inclusive time (children), without unresolved addresses"
        perf report -i "$BENCH_WORK/perf.data" --stdio --children --sort symbol -g none 2>/dev/null |
            grep -E '^ +[0-9.]+%' | grep -v '\] 0x' | sed -n 1,40p
        echo
    } >> "$prof" || true
}

shape=branched; n=$max_n; d=$BENCH_WORK/${shape}_$n
if [ "$BENCH_PROFILE" = 1 ] && command -v perf > /dev/null && [[ " $BENCH_SHAPES " == *" branched "* ]]; then
    say "profiling planning and execution at branched N=$n"
    prof=$BENCH_RESULTS/profile.txt
    echo "perf profiles of the backend, $(date -u '+%Y-%m-%d %H:%M UTC'), $code" > "$prof"
    echo >> "$prof"
    fresh_db b_ours
    "${PSQL[@]}" -d b_ours -c "CREATE EXTENSION migrations"
    "$PG_MIGRATE" -d b_ours load "$d/revs_ddl" > /dev/null
    "${PSQL[@]}" -d b_ours -f "$here/bench.sql" -c "SELECT count(*) FROM migrate_stamp('heads')" > /dev/null
    settle b_ours
    loops=$(( 2000000 / n > 20 ? 2000000 / n : 20 ))
    for q in "SELECT count(*) FROM migrate_heads()" "SELECT count(*) FROM migrate_upgrade('heads')"; do
        profile b_ours 2000 "$q at head, $loops calls" "SELECT bench.loop(\$q\$$q\$q\$, $loops)"
    done
    fresh_db b_ours
    "${PSQL[@]}" -d b_ours -c "CREATE EXTENSION migrations"
    "$PG_MIGRATE" -d b_ours load "$d/revs_ins" > /dev/null
    settle b_ours
    profile b_ours 250 "SELECT count(*) FROM migrate_upgrade('heads') from empty, INSERT bodies" \
        "SELECT count(*) FROM migrate_upgrade('heads')"
    drop_db b_ours
fi

# issue 10, items 9 and 11: migrate_status at 1k-100k applied revisions and
# a body's big SELECT (peak backend memory), into hardening_exec.txt
say "hardening: migrate_status and a body's result rows"
"$here/hardening_exec.sh" | tee "$BENCH_RESULTS/hardening_exec.txt"

# ---------------------------------------------------------------------------
# Issue 10, item 11: reload after editing every unapplied body
HARDENING_N="$BENCH_N" PG_MIGRATE="$PG_MIGRATE" BENCH_RESULTS="$BENCH_RESULTS" BENCH_WORK="$BENCH_WORK" \
    bash "$here/hardening_reload.sh" || note "hardening_reload.sh failed"

# ---------------------------------------------------------------------------
# Issue 13, item 4: pg_migrate check --alembic against alembic heads on a
# generated 10,000-revision Alembic directory, into alembic_check.md
if [ "$BENCH_ALEMBIC" = 1 ]; then
    say "check --alembic against alembic heads"
    PG_MIGRATE="$PG_MIGRATE" BENCH_WORK="$BENCH_WORK" BENCH_RESULTS="$BENCH_RESULTS" \
        bash "$here/alembic_check.sh" || note "alembic_check.sh failed"
fi

# ---------------------------------------------------------------------------
wall=$(awk -v a="$start_time" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu=$machine_cpu"
    echo "cores=$machine_cores"
    echo "ram=$machine_ram"
    echo "kernel=$(uname -sr)"
    echo "postgres=$pg_version"
    echo "alembic=$alembic_version"
    echo "max_locks_per_transaction=$locks"
    echo "code=$code, installed into $install_kind (migrations.so md5 $so_sum...)"
    echo "sizes=$BENCH_N"
    echo "shapes=$BENCH_SHAPES"
    echo "repeat=${BENCH_REPEAT:-5 for N <= 10000, 3 above}"
    echo "wall_s=$wall"
    echo "load0=$load0"
    echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$BENCH_WORK/meta.txt"
BENCH_RESULTS="$BENCH_RESULTS" bash "$here/hardening_labels.sh"  # issue 10, item 1: label inheritance at 100,000
# issue 14: 20,000 CREATE TABLE ... PRIMARY KEY revisions stepwise against psql, one transaction per file
say "stepwise: 20,000 revisions, one commit each, against psql"
bash "$here/stepwise.sh" | tee "$BENCH_RESULTS/stepwise.txt" || note "stepwise.sh failed"
"$PY" "$here/report.py" --samples "$samples" --meta "$BENCH_WORK/meta.txt" \
    --notes "$notes" --out "$BENCH_RESULTS"
say "done in ${wall} s: $BENCH_RESULTS/results.md"
exit 0
}
