#!/usr/bin/env bash
# pg_dump / pg_restore keep the revisions, the version table, the log and
# the log's sequence: a restored database is at the same state and has
# nothing to upgrade.  Needs a running server (libpq environment variables).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; dropdb --if-exists mg_dump_src; dropdb --if-exists mg_dump_dst' EXIT

createdb mg_dump_src
psql -X -q -v ON_ERROR_STOP=1 -d mg_dump_src -f "$top/examples/demo.sql" > /dev/null 2>&1
pg_dump -Fc -d mg_dump_src -f "$tmp/db.dump"
createdb mg_dump_dst
pg_restore -d mg_dump_dst "$tmp/db.dump"

state() {
    psql -X -At -v ON_ERROR_STOP=1 -d "$1" \
        -c "SELECT md5(string_agg(r::text, '|' ORDER BY seq)) FROM migrate_revision AS r" \
        -c "SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version" \
        -c "SELECT count(*) || ' log rows' FROM migrate_log" \
        -c "SELECT last_value FROM migrate_log_id_seq" \
        -c "SELECT count(*) || ' steps to run' FROM migrate_upgrade('heads')" \
        -c "SELECT count(*) || ' tables' FROM pg_tables WHERE tablename IN ('accounts_user', 'rdm_records_owners')"
}
src=$(state mg_dump_src)
dst=$(state mg_dump_dst)
echo "$dst"
if [ "$src" != "$dst" ]; then
    echo "restored state differs:"; diff <(echo "$src") <(echo "$dst")
    exit 1
fi
grep -q '^6 log rows$' <<< "$dst" && grep -q '^0 steps to run$' <<< "$dst"

# The restore ran as a superuser, through the guard of the catalog, which
# CREATE EXTENSION put back (pg_dump leaves internal triggers out); the
# restored catalog refuses other roles' direct writes as the source did.
guard=$(psql -X -At -d mg_dump_dst -c "SELECT count(*) FROM pg_trigger
    WHERE tgname IN ('migrate_guard_row', 'migrate_guard_statement') AND tgisinternal AND tgenabled = 'A'")
[ "$guard" = 6 ] || { echo "restored database: $guard guard triggers instead of 6"; exit 1; }
psql -X -q -d mg_dump_dst -c "CREATE ROLE mg_dump_writer" -c "GRANT ALL ON migrate_log TO mg_dump_writer"
if out=$(psql -X -q -v ON_ERROR_STOP=1 -d mg_dump_dst -c "SET ROLE mg_dump_writer" \
        -c "DELETE FROM migrate_log" 2>&1); then
    psql -X -q -d mg_dump_dst -c "DROP OWNED BY mg_dump_writer" -c "DROP ROLE mg_dump_writer"
    echo "restored database: a direct write went through"; exit 1
fi
psql -X -q -d mg_dump_dst -c "DROP OWNED BY mg_dump_writer" -c "DROP ROLE mg_dump_writer"
grep -q 'permission denied to delete from table migrate_log' <<< "$out" ||
    { echo "restored database: unexpected error: $out"; exit 1; }
echo "pg_dump round trip: same revisions, version rows and log; the catalog is guarded"
