#!/usr/bin/env bash
# ALTER EXTENSION migrations UPDATE from every released version, on a
# database that holds real state: revisions registered and applied, a
# version table and a log.  Afterwards the state is the same, the new
# objects of the version exist, and migrating goes on from where it was.
# Needs a running server (libpq environment variables).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
trap 'dropdb --if-exists mg_update_src' EXIT

run() { psql -X -q -At -v ON_ERROR_STOP=1 -d mg_update_src "$@"; }
createdb mg_update_src
run -c "CREATE EXTENSION migrations VERSION '0.1'"
# the example project, registered and applied at 0.1 (demo.sql creates the
# extension itself when missing)
psql -X -q -v ON_ERROR_STOP=1 -d mg_update_src -f "$top/examples/demo.sql" > /dev/null 2>&1
run -c "SELECT migrate_downgrade('bf8a6e0fe6f4-1')" > /dev/null

state() {
    run -c "SELECT md5(string_agg(r::text, '|' ORDER BY seq)) FROM migrate_revision AS r" \
        -c "SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version" \
        -c "SELECT string_agg(direction || ' ' || revision, ',' ORDER BY id) FROM migrate_log" \
        -c "SELECT string_agg(revision || ':' || is_applied || ':' || is_head || ':' || (applied_at IS NOT NULL), ',' ORDER BY revision) FROM migrate_status"
}
before=$(state)
[ "$(run -c "SELECT extversion FROM pg_extension WHERE extname = 'migrations'")" = 0.1 ]
run -c "ALTER EXTENSION migrations UPDATE"
[ "$(run -c "SELECT extversion FROM pg_extension WHERE extname = 'migrations'")" = 0.2 ]
after=$(state)
if [ "$before" != "$after" ]; then
    echo "state changed by the update:"; diff <(echo "$before") <(echo "$after")
    exit 1
fi
# 0.2's objects: the log index, and the view reading the log once
[ "$(run -c "SELECT count(*) FROM pg_indexes WHERE indexname = 'migrate_log_revision_idx'")" = 1 ]
if run -c "EXPLAIN SELECT * FROM migrate_status" | grep -q SubPlan; then
    echo "migrate_status still runs a subquery per revision after the update"; exit 1
fi
# migrating goes on: the step downgraded at 0.1 runs again, once
steps=$(run -c "SELECT count(*) FROM migrate_upgrade('heads')")
[ "$steps" = 1 ] || { echo "expected 1 step after the update, got $steps"; exit 1; }
[ "$(run -c "SELECT count(*) FROM migrate_upgrade('heads')")" = 0 ]
# the updated extension is the same as a fresh 0.2 install, object by object
createdb mg_update_fresh
trap 'dropdb --if-exists mg_update_src; dropdb --if-exists mg_update_fresh' EXIT
psql -X -q -v ON_ERROR_STOP=1 -d mg_update_fresh -c "CREATE EXTENSION migrations"
objects() {
    psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "SELECT pg_describe_object(classid, objid, 0) FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e' AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrations') ORDER BY 1" \
      -c "SELECT pg_get_viewdef('migrate_status'::regclass)" \
      -c "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename LIKE 'migrate\_%' ORDER BY 1"
}
if [ "$(objects mg_update_src)" != "$(objects mg_update_fresh)" ]; then
    echo "updated extension differs from a fresh install:"
    diff <(objects mg_update_src) <(objects mg_update_fresh); exit 1
fi
echo "update 0.1 -> 0.2 with state: same revisions, version rows, log and status; same objects as a fresh 0.2"
