#!/usr/bin/env bash
# make test: everything, in a throwaway cluster.
#  1. unit tests of the graph core and of the revision file parser (no
#     server), under ASan and UBSan, the
#     core's replay of every Alembic fixture compared with Alembic 1.8, and
#     40 random histories run through both and compared;
#  2. build and install the extension;
#  3. in a throwaway cluster (pg_virtualenv): the pg_regress suite, the
#     isolation specs, the SQL replay of every Alembic fixture, a
#     pg_dump/pg_restore round trip, and the end-to-end TAP tests of
#     pg_migrate (test/t/), built under ASan and UBSan;
#  4. TAP tests in clusters of their own (test/cluster/): crashes,
#     cancellation, lock timeouts, a streaming standby.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash test/install-deps.sh

status=0
summary=()
run() {
    local name=$1; shift
    echo "=== $name"
    if "$@"; then
        summary+=("ok      $name")
    else
        summary+=("FAILED  $name")
        status=1
    fi
}

run "core unit tests and Alembic replay" make -s unittest
run "random histories against Alembic" bash test/alembic/run_random.sh 1 40
run "build" make -s
if [ "$(id -u)" -eq 0 ]; then
    run "install" make -s install
else
    run "install" sudo make -s install
fi

# pg_virtualenv runs the commands with a fresh cluster and libpq variables
# pointing at it; it refuses nothing as root (the cluster belongs to postgres).
in_cluster() {
    pg_virtualenv -v 15 bash -c "$*" 2>&1 | grep -v ' LOG: \| DETAIL: \| STATEMENT: '
    return "${PIPESTATUS[0]}"
}
run "regression and isolation tests" in_cluster "make -s installcheck || { cat regression.diffs test/isolation/output_iso/regression.diffs 2>/dev/null; exit 1; }"
run "SQL replay against Alembic" in_cluster "bash test/alembic/replay_sql.sh"
run "pg_dump and pg_restore" in_cluster "bash test/dump_restore.sh"
run "ALTER EXTENSION UPDATE from 0.1" in_cluster "bash test/update_test.sh"
# The end-to-end tests run a build of pg_migrate under AddressSanitizer and
# UndefinedBehaviorSanitizer (leak checks off: the program exits without
# freeing what it allocated, as PostgreSQL's own client programs do).
run "pg_migrate under ASan/UBSan" make -s -C src/bin/pg_migrate san/pg_migrate
run "pg_migrate end to end (TAP, ASan/UBSan)" in_cluster \
    "ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 PG_MIGRATE=$top/src/bin/pg_migrate/san/pg_migrate prove test/t/*.pl"
# Crashes, cancellation, lock timeouts and a streaming standby: clusters of
# their own (PostgreSQL::Test::Cluster; as root the tests run as postgres).
run "crash, cancel, lock timeout and standby (TAP clusters)" bash test/cluster/run.sh

echo
printf '%s\n' "${summary[@]}"
passed=$(printf '%s\n' "${summary[@]}" | grep -c '^ok' || true)
failed=$(printf '%s\n' "${summary[@]}" | grep -c '^FAILED' || true)
echo "$passed passed, $failed failed"
exit $status
