#!/usr/bin/env bash
# Cluster tests: crash recovery, cancellation, lock timeouts and a hot
# standby, each in clusters of its own made by PostgreSQL::Test::Cluster
# (from postgresql-server-dev-15).  The extension and pg_migrate must be
# installed (make install).
#
#   bash test/cluster/run.sh [TEST.pl...]     default: every test/cluster/*.pl
#
# initdb refuses to run as root, so as root the tests run as the user
# "postgres" (runuser), from a copy in a temporary directory it owns.
# PG_MIGRATE names the pg_migrate to test (default: the one on PATH, which
# includes PostgreSQL's bindir); it must be executable by that user.
# After a failure the logs (tmp_check/log/) and data directories are kept
# and their place is printed; PG_TEST_NOCLEAN=1 keeps them always.
# PROVE_FLAGS adds options to prove (-v, -j2); PG_TEST_TIMEOUT_DEFAULT
# (seconds, default 180) bounds every wait.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

pg_config=${PG_CONFIG:-pg_config}
command -v "$pg_config" > /dev/null || pg_config=/usr/lib/postgresql/15/bin/pg_config
bindir=$("$pg_config" --bindir)
pgxs=$(dirname "$("$pg_config" --pgxs)")/..     # .../lib/pgxs/src/makefiles/..
perllib=$pgxs/test/perl
pg_regress=$pgxs/test/regress/pg_regress

if [ ! -f "$perllib/PostgreSQL/Test/Cluster.pm" ] || [ ! -x "$pg_regress" ]; then
    echo "run.sh: PostgreSQL::Test::Cluster not found under $perllib" >&2
    echo "run.sh: install postgresql-server-dev-15" >&2
    exit 1
fi
if ! perl -MIPC::Run -e 1 2> /dev/null; then
    echo "run.sh: the Perl module IPC::Run is missing: install libipc-run-perl" >&2
    exit 1
fi
if [ ! -f "$("$pg_config" --sharedir)/extension/migrations.control" ]; then
    echo "run.sh: the extension is not installed: run make install first" >&2
    exit 1
fi

tests=()
if [ $# -gt 0 ]; then
    for t in "$@"; do tests+=("$(basename "$t")"); done
else
    for t in "$here"/*.pl; do tests+=("$(basename "$t")"); done
fi

# a pg_migrate given by path: absolute, since the tests run elsewhere
pg_migrate=${PG_MIGRATE:-pg_migrate}
case $pg_migrate in
    */*) pg_migrate=$(realpath "$pg_migrate") ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/mg_cluster_XXXXXX")
status=0
cleanup() {
    if [ -n "${PG_TEST_NOCLEAN:-}" ] || [ $status -ne 0 ]; then
        echo "run.sh: logs and data directories kept in $work/tmp_check" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
cp "$here"/*.pl "$here"/*.pm "$work"/

# What PGXS's prove_installcheck sets, plus PATH to PostgreSQL's programs
# and pg_migrate.  TESTDIR holds tmp_check/ (logs, data directories, port
# locks).
env_vars=(
    "PATH=$bindir:$PATH"
    "TESTDIR=$work"
    "PG_REGRESS=$pg_regress"
    "PG_MIGRATE=$pg_migrate"
)
for v in PG_TEST_NOCLEAN PG_TEST_TIMEOUT_DEFAULT ASAN_OPTIONS UBSAN_OPTIONS; do
    if [ -n "${!v:-}" ]; then env_vars+=("$v=${!v}"); fi
done
# PROVE_FLAGS: extra options for prove, e.g. -v or -j2
read -r -a prove_flags <<< "${PROVE_FLAGS:-}"
prove_cmd=(prove "${prove_flags[@]}" -I "$perllib" -I "$work" "${tests[@]}")

if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$work"
    (cd "$work" && runuser -u postgres -- env "${env_vars[@]}" HOME="$work" "${prove_cmd[@]}") || status=$?
else
    (cd "$work" && env "${env_vars[@]}" "${prove_cmd[@]}") || status=$?
fi

if [ $status -ne 0 ]; then
    # The test logs say what each psql and server said
    for log in "$work"/tmp_check/log/regress_log_*; do
        [ -f "$log" ] || continue
        echo "---- last lines of $(basename "$log")" >&2
        tail -n 60 "$log" >&2
    done
fi
exit $status
