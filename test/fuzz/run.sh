#!/usr/bin/env bash
# libFuzzer targets of the graph core and the revision-file parser.
#
#   run.sh [SECONDS]   build the three fuzz targets with clang
#                      (-fsanitize=fuzzer,address,undefined), replay the
#                      seed corpus and the regression inputs, then fuzz each
#                      target for SECONDS seconds (default 60), one at a time
#   run.sh --regress   build with clang and only replay corpus + regress
#   run.sh --replay    no clang or libFuzzer: build each target with a plain
#                      main() (replay_main.c) using $CC (default cc) with
#                      ASan/UBSan and replay corpus + regress; for make test
#
# Everything built or found goes to test/fuzz/build/ (ignored by git):
# build/corpus/TARGET is the working corpus, started from a copy of the
# checked-in seeds (test/fuzz/corpus/TARGET) and kept between runs, and
# build/findings/TARGET/ receives crashing inputs.  Copy a finding to
# test/fuzz/regress/TARGET/ once it is fixed, to keep it as a regression
# test.  Exits nonzero on any crash, leak, UB report or broken invariant.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$here/build
targets="revfile target graph alembic"
mode=fuzz
seconds=60

case "${1:-}" in
    --regress) mode=regress ;;
    --replay) mode=replay ;;
    "") ;;
    *[!0-9]*)
        echo "usage: $0 [SECONDS | --regress | --replay]" >&2
        exit 2 ;;
    *) seconds=$1 ;;
esac

mkdir -p "$build"

# Sources of target $1 besides its own file, into the array srcs
set_sources() {
    local f
    srcs=()
    # the core's sources, as src/core.mk names them
    for f in $(sed -n 's/^CORE_SRCS *=//; T; :a; /\\$/{N; s/\\\n//; ba}; p' "$top/src/core.mk"); do
        srcs+=("$top/src/$f")
    done
    [ "$1" = revfile ] && srcs+=("$top/src/bin/pg_migrate/mg_revfile.c" "$top/src/bin/pg_migrate/mg_revdir.c")
    [ "$1" = alembic ] && srcs+=("$top/src/bin/pg_migrate/mg_alembic.c" "$top/src/bin/pg_migrate/mg_revfile.c"
        "$top/src/bin/pg_migrate/mg_revdir.c")
    return 0
}

# Inputs of target $1 to replay, into the array ins: seeds and regressions
set_inputs() {
    local d
    ins=()
    for d in "$here/corpus/$1" "$here/regress/$1"; do
        [ -d "$d" ] && ins+=("$d")
    done
    return 0
}

# MG_CORE_ASSERTS: the core checks its internal invariants (mg_core_int.h)
includes=(-DMG_CORE_ASSERTS -I"$top/src" -I"$top/src/bin/pg_migrate" -I"$here")
warnings=(-Wall -Wextra)

if [ "$mode" = replay ]; then
    cc=${CC:-cc}
    status=0
    for t in $targets; do
        set_sources "$t"
        set_inputs "$t"
        "$cc" -g -O1 "${warnings[@]}" -Wno-format-truncation -fsanitize=address,undefined \
            -fno-sanitize-recover=undefined -fno-omit-frame-pointer "${includes[@]}" \
            -o "$build/replay_$t" "$here/fuzz_$t.c" "$here/replay_main.c" "${srcs[@]}"
        "$build/replay_$t" "${ins[@]}" || status=1
    done
    exit $status
fi

# clang with libFuzzer
find_clang() {
    local c
    for c in "${CLANG:-}" clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
        [ -n "$c" ] && command -v "$c" > /dev/null 2>&1 && { echo "$c"; return 0; }
    done
    return 1
}
if ! clang=$(find_clang); then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null 2>&1; then
        echo "clang is missing: installing it"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-dev
        clang=$(find_clang)
    else
        echo "$0: clang is missing; install it (Debian: apt-get install clang) or set CLANG" >&2
        exit 1
    fi
fi
# shellcheck disable=SC2054
fuzzflags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void) d; (void) n; return 0; }' \
    > "$build/probe.c"
probe() {
    "$clang" "${fuzzflags[@]}" -o "$build/probe" "$build/probe.c" > "$build/probe.log" 2>&1
}
if ! probe && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null 2>&1; then
    echo "$clang cannot link libFuzzer: installing libclang-rt-dev"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-rt-dev || true
fi
if ! probe; then
    echo "$0: $clang cannot build libFuzzer targets (see $build/probe.log);" \
        "on Debian libFuzzer is in libclang-rt-dev (libclang-rt-NN-dev)" >&2
    exit 1
fi

for t in $targets; do
    set_sources "$t"
    "$clang" "${fuzzflags[@]}" "${warnings[@]}" "${includes[@]}" -o "$build/fuzz_$t" \
        "$here/fuzz_$t.c" "${srcs[@]}"
done
echo "built with $("$clang" --version | head -1)"

# Replay the seeds and regression inputs: each must pass
for t in $targets; do
    set_inputs "$t"
    mkdir -p "$build/findings/$t"
    if ! "$build/fuzz_$t" -runs=0 -artifact_prefix="$build/findings/$t/" "${ins[@]}" \
        > "$build/replay_$t.log" 2>&1; then
        tail -40 "$build/replay_$t.log"
        echo "FAIL: $t: a seed or regression input fails (log: $build/replay_$t.log)"
        exit 1
    fi
    echo "replayed $t: $(find "${ins[@]}" -type f | wc -l) inputs"
done
[ "$mode" = regress ] && exit 0

maxlen() {
    case "$1" in
        revfile) echo 8192 ;;
        target) echo 2048 ;;
        graph) echo 1024 ;;
    esac
}

status=0
total=0
for t in $targets; do
    work=$build/corpus/$t
    findings=$build/findings/$t
    log=$build/fuzz_$t.log
    dict=()
    [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
    mkdir -p "$work" "$findings"
    cp -n "$here/corpus/$t"/* "$work"/ 2> /dev/null || true
    cp -n "$here/regress/$t"/* "$work"/ 2> /dev/null || true
    echo "fuzzing $t for ${seconds}s (working corpus $work)"
    rc=0
    "$build/fuzz_$t" -max_total_time="$seconds" -max_len="$(maxlen "$t")" -timeout=20 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/" \
        "${dict[@]}" "$work" > "$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    execs=${execs:-0}
    total=$((total + execs))
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "  $t: $execs executions, ${cov:-cov: ?}, corpus $(find "$work" -type f | wc -l) files"
    if [ "$rc" -ne 0 ]; then
        status=1
        grep -E 'ERROR|runtime error|FUZZ INVARIANT|SUMMARY|Test unit written' "$log" | head -20
        echo "FAIL: $t (exit $rc, log: $log, inputs in $findings/)"
    fi
done
echo "total: $total executions"
exit $status
