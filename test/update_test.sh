#!/usr/bin/env bash
# ALTER EXTENSION migrations UPDATE from 0.1 to 0.2 to 0.3 to 0.4 on a
# database holding real state: revisions registered, applied and logged under 0.1 by
# a migrator with the grants 0.1's README documented.  After each update
# the revisions, version rows, log and log sequence are unchanged; at 0.4
# the extension's objects (and the functions' grants) are those of a fresh
# 0.4 install, migrations go on, and the catalog refuses direct writes
# (issue 10, item 3).  Then the same from 0.2 (issue 12: migrate_snapshot
# and migrate_diff) and from 0.3 with state made under 0.3 (0.4's parts
# each check what they added).  Needs a running server (libpq
# environment variables) with every version installed.
set -euo pipefail
db=mg_update_src
db2=mg_update_src2
fresh=mg_update_fresh
role=mg_update_migrator
cleanup() {
    dropdb --if-exists "$db" 2> /dev/null; dropdb --if-exists "$fresh" 2> /dev/null
    dropdb --if-exists "$db2" 2> /dev/null
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" 2>/dev/null || true
}
trap cleanup EXIT
cleanup

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
fail() { echo "update test: $*"; exit 1; }

createdb "$db"
psql -X -q -d postgres -c "CREATE ROLE $role"
q -c "CREATE EXTENSION migrations VERSION '0.1'"
[ "$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'migrations'")" = 0.1 ] ||
    fail "not at 0.1"
# the grants 0.1's README documented
q -c "GRANT EXECUTE ON FUNCTION
          migrate_register(text, text[], text, text, text, text[], text[], boolean, text),
          migrate_upgrade(text), migrate_downgrade(text), migrate_stamp(text, boolean) TO $role;
      GRANT INSERT, UPDATE ON migrate_revision TO $role;
      GRANT INSERT, UPDATE, DELETE ON migrate_version TO $role;
      GRANT INSERT ON migrate_log TO $role;
      GRANT USAGE ON SEQUENCE migrate_log_id_seq TO $role;
      GRANT CREATE ON SCHEMA public TO $role"
# state under 0.1: registered by the migrator, partly applied, downgraded,
# stamped; one revision left unapplied
q -c "SET ROLE $role" \
  -c "SELECT migrate_register('u1', '{}', 'CREATE TABLE upd_one (id int);', 'DROP TABLE upd_one;', 'One.', '{upd}')" \
  -c "SELECT migrate_register('u2', '{u1}', 'CREATE TABLE upd_two (id int);', 'DROP TABLE upd_two;', 'Two.')" \
  -c "SELECT migrate_register('u3', '{u2}', 'CREATE TABLE upd_three (id int);', 'DROP TABLE upd_three;', 'Three.', '{}', '{upd}')" \
  -c "SELECT migrate_register('u4', '{u3}', 'CREATE TABLE upd_four (id int);', 'DROP TABLE upd_four;', 'Four.')" \
  -c "SET client_min_messages = warning" \
  -c "SELECT count(*) FROM migrate_upgrade('u3')" \
  -c "SELECT count(*) FROM migrate_downgrade('u2')" \
  -c "SELECT count(*) FROM migrate_upgrade('u3')" \
  -c "SELECT count(*) FROM migrate_stamp('u3')" > /dev/null

# (the columns of 0.3: 0.4 appends checksum and the provenance columns,
# checked in the PROV part below)
state() {
    q -c "SELECT md5(string_agg(r::text, '|' ORDER BY seq)) FROM (SELECT revision, down_revisions, depends_on, branch_labels, message, upgrade, downgrade, transactional, source, seq, registered_at, registered_by FROM migrate_revision) AS r" \
      -c "SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version" \
      -c "SELECT md5(string_agg(l::text, '|' ORDER BY id)) FROM (SELECT id, logged_at, logged_by, xid, direction, revision, from_revisions, to_revisions, duration FROM migrate_log) AS l" \
      -c "SELECT count(*) || ' log rows' FROM migrate_log" \
      -c "SELECT last_value FROM migrate_log_id_seq" \
      -c "SELECT string_agg(revision || '=' || is_applied, ' ' ORDER BY revision) FROM migrate_state()"
}
before=$(state)
grep -q '^u3$' <<< "$before" || fail "0.1 state is not at u3: $before"
grep -q '^5 log rows$' <<< "$before" || fail "0.1 log: $before"

q -c "ALTER EXTENSION migrations UPDATE TO '0.2'"
[ "$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'migrations'")" = 0.2 ] ||
    fail "not at 0.2"
after=$(state)
[ "$before" = "$after" ] || { echo "state changed by the update:"; diff <(echo "$before") <(echo "$after"); exit 1; }
q -c "ALTER EXTENSION migrations UPDATE TO '0.3'"
[ "$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'migrations'")" = 0.3 ] ||
    fail "not at 0.3"
after=$(state)
[ "$before" = "$after" ] || { echo "state changed by the update to 0.3:"; diff <(echo "$before") <(echo "$after"); exit 1; }
q -c "ALTER EXTENSION migrations UPDATE TO '0.4'"
[ "$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'migrations'")" = 0.4 ] ||
    fail "not at 0.4"
after=$(state)
[ "$before" = "$after" ] || { echo "state changed by the update to 0.4:"; diff <(echo "$before") <(echo "$after"); exit 1; }

# the same objects as a fresh 0.2 install
objects() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "
        SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
         WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
           AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrations')
         ORDER BY 1" \
      -c "SELECT tgrelid::regclass || ' ' || tgname || ' ' || tgenabled::text || ' ' || tgisinternal || ' ' || tgtype
            FROM pg_trigger WHERE tgrelid::regclass::text LIKE 'migrate%' ORDER BY 1" \
      -c "-- grants, the migrator's own (given by the test) left out
          SELECT p.oid::regprocedure || ' ' || coalesce(regexp_replace(p.proacl::text, ',?$role=[^,}]*', '', 'g'), 'default') || ' ' || p.provolatile::text || ' ' || p.proisstrict::text
            FROM pg_proc AS p JOIN pg_depend AS d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
           WHERE d.deptype = 'e' AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrations')
           ORDER BY 1"
}
createdb "$fresh"
psql -X -q -d "$fresh" -c "CREATE EXTENSION migrations"
objects_updated=$(objects "$db")
objects_fresh=$(objects "$fresh")
[ "$objects_updated" = "$objects_fresh" ] ||
    { echo "objects differ from a fresh 0.4 install:"; diff <(echo "$objects_fresh") <(echo "$objects_updated"); exit 1; }
grep -c 'migrate_guard' <<< "$objects_updated" | grep -q '^12$' || fail "guard triggers missing"

# the migrator's old table grants no longer let it write the tables...
for stmt in "INSERT INTO migrate_log (logged_at, logged_by, direction, revision) VALUES ('2001-01-01', 'postgres', 'upgrade', 'u4')" \
            "UPDATE migrate_version SET revision = 'u4'" \
            "DELETE FROM migrate_version" \
            "UPDATE migrate_revision SET seq = 9223372036854775807 WHERE revision = 'u4'" \
            "UPDATE migrate_revision SET downgrade = 'ALTER ROLE $role SUPERUSER;' WHERE revision = 'u2'"; do
    if out=$(q -c "SET ROLE $role" -c "$stmt" 2>&1); then
        fail "direct write allowed after the update: $stmt"
    fi
    grep -q 'ERROR:  permission denied to' <<< "$out" || fail "unexpected error for $stmt: $out"
done
[ "$(state)" = "$before" ] || fail "a refused write changed the state"

# ...and with its grants taken away, EXECUTE alone lets it go on migrating
q -c "REVOKE ALL ON migrate_revision, migrate_version, migrate_log FROM $role;
      REVOKE ALL ON SEQUENCE migrate_log_id_seq FROM $role"
q -c "SET ROLE $role" \
  -c "SELECT migrate_register('u5', '{u4}', 'CREATE TABLE upd_five (id int);', 'DROP TABLE upd_five;', 'Five.')" \
  -c "SET client_min_messages = warning" \
  -c "SELECT count(*) FROM migrate_upgrade('heads')" \
  -c "SELECT count(*) FROM migrate_downgrade('u4')" > /dev/null
[ "$(q -c "SELECT string_agg(revision, ',') FROM migrate_version")" = u4 ] || fail "not at u4 after the migrations"
[ "$(q -c "SELECT count(*) FROM migrate_log")" = 8 ] || fail "log rows after the update"
[ "$(q -c "SELECT string_agg(DISTINCT logged_by, ',') FROM migrate_log")" = "$role" ] ||
    fail "log rows not attributed to the migrator"
[ "$(q -c "SELECT registered_by FROM migrate_revision WHERE revision = 'u5'")" = "$role" ] ||
    fail "u5 not registered by the migrator"
[ "$(q -c "SELECT max(id) = (SELECT last_value FROM migrate_log_id_seq) FROM migrate_log")" = t ] ||
    fail "log sequence behind the log"
# an applied revision registered under 0.1 keeps its bodies
if q -c "SELECT migrate_register('u2', '{u1}', 'SELECT 2;', 'DROP TABLE upd_two;', 'Two.')" 2> /dev/null; then
    fail "an applied revision was changed"
fi
q -c "SELECT migrate_check()" > /dev/null
q -c "DROP OWNED BY $role"

# 0.2 -> 0.3 on a database with state made under 0.2
q2() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db2" "$@"; }
createdb "$db2"
q2 -c "CREATE EXTENSION migrations VERSION '0.2'"
q2 -c "SELECT migrate_register('v1', '{}', 'CREATE TABLE v_one (id int PRIMARY KEY);', 'DROP TABLE v_one;', 'One.')" \
   -c "SELECT migrate_register('v2', '{v1}', 'CREATE TABLE v_two (id int REFERENCES v_one);', 'DROP TABLE v_two;', 'Two.')" \
   -c "SET client_min_messages = warning" \
   -c "SELECT count(*) FROM migrate_upgrade('heads')" > /dev/null
state2() {
    q2 -c "SELECT md5(string_agg(r::text, '|' ORDER BY seq)) FROM (SELECT revision, down_revisions, depends_on, branch_labels, message, upgrade, downgrade, transactional, source, seq, registered_at, registered_by FROM migrate_revision) AS r" \
       -c "SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version" \
       -c "SELECT md5(string_agg(l::text, '|' ORDER BY id)) FROM (SELECT id, logged_at, logged_by, xid, direction, revision, from_revisions, to_revisions, duration FROM migrate_log) AS l"
}
before2=$(state2)
q2 -c "ALTER EXTENSION migrations UPDATE TO '0.3'"
[ "$(q2 -c "SELECT extversion FROM pg_extension WHERE extname = 'migrations'")" = 0.3 ] ||
    fail "$db2 not at 0.3"
[ "$(state2)" = "$before2" ] || fail "state changed by the update 0.2 -> 0.3"
q2 -c "ALTER EXTENSION migrations UPDATE"
[ "$(q2 -c "SELECT extversion FROM pg_extension WHERE extname = 'migrations'")" = 0.4 ] ||
    fail "$db2 not at 0.4"
[ "$(state2)" = "$before2" ] || fail "state changed by the update 0.3 -> 0.4"
objects_updated2=$(objects "$db2")
[ "$objects_updated2" = "$objects_fresh" ] ||
    { echo "objects differ from a fresh 0.4 install after 0.2 -> 0.3 -> 0.4:"; diff <(echo "$objects_fresh") <(echo "$objects_updated2"); exit 1; }
# the new functions work on the updated database, for PUBLIC too
[ "$(q2 -c "SET ROLE $role" -c "SELECT count(*) FROM jsonb_object_keys(migrate_snapshot('{public}')->'tables')")" = 2 ] ||
    fail "migrate_snapshot after 0.2 -> 0.3"
[ "$(q2 -c "SELECT count(*) FROM migrate_diff(migrate_snapshot('{public}'), migrate_snapshot('{public}'))")" = 0 ] ||
    fail "migrate_diff after 0.2 -> 0.3"

# 0.3 -> 0.4 on a database with state made under 0.3: registered, applied,
# downgraded and stamped revisions, a branch label and a dependency
db3=mg_update_src3
q3() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db3" "$@"; }
dropdb --if-exists "$db3" 2> /dev/null
trap 'cleanup; dropdb --if-exists "$db3" 2> /dev/null' EXIT
createdb "$db3"
q3 -c "CREATE EXTENSION migrations VERSION '0.3'"
q3 -c "SELECT migrate_register('w1', '{}', 'CREATE TABLE w_one (id int PRIMARY KEY);', 'DROP TABLE w_one;', 'One.', '{w}')" \
   -c "SELECT migrate_register('w2', '{w1}', 'CREATE TABLE w_two (id int REFERENCES w_one);', 'DROP TABLE w_two;', 'Two.')" \
   -c "SELECT migrate_register('x1', '{}', 'CREATE TABLE x_one (id int);', 'DROP TABLE x_one;', 'Other base.', '{x}', '{w1}')" \
   -c "SELECT migrate_register('w3', '{w2}', 'CREATE TABLE w_three (id int);', 'DROP TABLE w_three;', 'Three.')" \
   -c "SET client_min_messages = warning" \
   -c "SELECT count(*) FROM migrate_upgrade('heads')" \
   -c "SELECT count(*) FROM migrate_downgrade('w2')" \
   -c "SELECT count(*) FROM migrate_stamp('w3')" \
   -c "SELECT count(*) FROM migrate_stamp('w2')" > /dev/null
state3() {
    q3 -c "SELECT md5(string_agg(r::text, '|' ORDER BY seq)) FROM (SELECT revision, down_revisions, depends_on, branch_labels, message, upgrade, downgrade, transactional, source, seq, registered_at, registered_by FROM migrate_revision) AS r" \
       -c "SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version" \
       -c "SELECT md5(string_agg(l::text, '|' ORDER BY id)) FROM (SELECT id, logged_at, logged_by, xid, direction, revision, from_revisions, to_revisions, duration FROM migrate_log) AS l"
}
before3=$(state3)
q3 -c "ALTER EXTENSION migrations UPDATE TO '0.4'"
[ "$(q3 -c "SELECT extversion FROM pg_extension WHERE extname = 'migrations'")" = 0.4 ] ||
    fail "$db3 not at 0.4"
[ "$(state3)" = "$before3" ] || { echo "state changed by the update 0.3 -> 0.4:"; diff <(echo "$before3") <(echo "$(state3)"); exit 1; }
objects_updated3=$(objects "$db3")
[ "$objects_updated3" = "$objects_fresh" ] ||
    { echo "objects differ from a fresh 0.4 install after 0.3 -> 0.4:"; diff <(echo "$objects_fresh") <(echo "$objects_updated3"); exit 1; }

# the log rows written under 0.3 (the checks below add more)
last_log_03=$(q3 -c "SELECT max(id) FROM migrate_log")
applied_via_03=$(q3 -c "SELECT string_agg(revision || '=' || coalesce(applied_via, '-'), ' ' ORDER BY revision) FROM migrate_status")

# BEGIN 0.4 checks STEP (issue 14)
# the stepwise procedures go on from the state made under 0.3 (w2 and x1
# applied): down to base and up to heads, one commit per revision, each
# logged after the rows 0.3 wrote; PUBLIC cannot run them
nlog3=$(q3 -c "SELECT count(*) FROM migrate_log")
q3 -c "SET client_min_messages = warning" -c "CALL migrate_downgrade_stepwise('base')"
[ "$(q3 -c "SELECT count(*) FROM migrate_version")" = 0 ] || fail "$db3: stepwise downgrade to base after 0.3 -> 0.4"
q3 -c "SET client_min_messages = warning" -c "CALL migrate_upgrade_stepwise()"
[ "$(q3 -c "SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version")" = w3,x1 ] ||
    fail "$db3: stepwise upgrade to heads after 0.3 -> 0.4"
steps3=$(q3 -c "SELECT string_agg(direction || ' ' || revision, ',' ORDER BY id) FROM (SELECT * FROM migrate_log ORDER BY id OFFSET $nlog3) AS l")
[ "$steps3" = "downgrade w2,downgrade x1,downgrade w1,upgrade w1,upgrade w2,upgrade w3,upgrade x1" ] ||
    fail "$db3: stepwise steps logged as: $steps3"
[ "$(q3 -c "SELECT count(DISTINCT xid) FROM (SELECT * FROM migrate_log ORDER BY id OFFSET $nlog3) AS l")" = 7 ] ||
    fail "$db3: the stepwise procedures did not commit each revision on its own"
[ "$(q3 -c "SELECT bool_or(has_function_privilege('public', p.oid, 'EXECUTE')) FROM pg_proc AS p WHERE p.proname LIKE 'migrate_%_stepwise'")" = f ] ||
    fail "$db3: PUBLIC may run the stepwise procedures"
# back to the state made under 0.3 (w2 and x1), for the parts below
q3 -c "SET client_min_messages = warning" -c "CALL migrate_downgrade_stepwise('w2')"
[ "$(q3 -c "SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version")" = w2,x1 ] ||
    fail "$db3: stepwise downgrade to w2"
# END 0.4 checks STEP


# BEGIN 0.4 checks PROV (issue 15)
# rows registered under 0.3 got their body checksum from the update
[ "$(q3 -c "SELECT count(*) FROM migrate_revision WHERE checksum IS DISTINCT FROM migrate_checksum(upgrade, downgrade)")" = 0 ] ||
    fail "$db3: checksums of revisions registered under 0.3"
# log rows written under 0.3 keep their rows, with NULL provenance
[ "$(q3 -c "SELECT count(*) FROM migrate_log WHERE id <= $last_log_03 AND message IS NULL AND checksum IS NULL AND application_name IS NULL AND client_addr IS NULL AND backend_pid IS NULL AND session_id IS NULL AND session_role IS NULL AND sqlstate IS NULL AND error IS NULL")" = \
  "$(q3 -c "SELECT count(*) FROM migrate_log WHERE id <= $last_log_03")" ] || fail "$db3: provenance of log rows written under 0.3"
# stamped or ran, from the log written under 0.3
[ "$applied_via_03" = "w1=upgrade w2=upgrade w3=- x1=upgrade" ] ||
    fail "$db3: migrate_status.applied_via after 0.3 -> 0.4"
# unregister and the check at commit work on the updated database
q3 -c "BEGIN" -c "SELECT migrate_unregister('w3')" -c "ROLLBACK" > /dev/null ||
    fail "$db3: migrate_unregister after 0.3 -> 0.4"
q3 -c "SELECT migrate_unregister('w1')" > /dev/null 2>&1 && fail "$db3: unregistered applied w1"
q3 -c "SELECT migrate_register('zz1', '{nope}', 'SELECT 1')" > /dev/null 2>&1 && fail "$db3: committed a dangling parent"
[ "$(q3 -c "SELECT count(*) FROM migrate_revision WHERE revision = 'zz1'")" = 0 ] || fail "$db3: zz1 stayed"
# a 0.3 database that holds an invalid graph (made with the guard off)
# updates, and a load of a correct file repairs it
db4=mg_update_src4
q4() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db4" "$@"; }
dropdb --if-exists "$db4" 2> /dev/null
createdb "$db4"
q4 -c "CREATE EXTENSION migrations VERSION '0.3'" \
   -c "ALTER TABLE migrate_revision DISABLE TRIGGER ALL" \
   -c "SELECT migrate_register('zz1', '{nope}', 'SELECT 1')" \
   -c "ALTER TABLE migrate_revision ENABLE TRIGGER ALL" > /dev/null
q4 -c "ALTER EXTENSION migrations UPDATE" || fail "$db4: update of an invalid graph"
q4 -c "SELECT migrate_check()" > /dev/null 2>&1 && fail "$db4: the invalid graph passed migrate_check"
fixdir=$(mktemp -d)
printf -- '-- migrate:revision zz1\n-- migrate:down_revision none\n-- migrate:upgrade\nSELECT 1;\n' > "$fixdir/zz1.sql"
"${PG_MIGRATE:-pg_migrate}" -d "$db4" load "$fixdir" > /dev/null || fail "$db4: load did not repair the graph"
rm -r "$fixdir"
q4 -c "SELECT migrate_check()" > /dev/null || fail "$db4: graph still invalid after the load"
dropdb "$db4"
# END 0.4 checks PROV


# BEGIN 0.4 checks ADOPT (issue 13)
# nothing is kept after the update; keeping an Alembic table works on the
# state made under 0.3, and stops again
[ "$(q3 -c "SELECT count(*) FROM migrate_alembic_version")" = 0 ] ||
    fail "$db3: an Alembic version table kept after 0.3 -> 0.4"
q3 -c "CREATE TABLE upd_alembic_version (version_num varchar(32) PRIMARY KEY)" \
   -c "INSERT INTO upd_alembic_version VALUES ('w2')" \
   -c "SELECT migrate_keep_alembic_version('upd_alembic_version', 'public')" \
   -c "SET client_min_messages = warning" \
   -c "SELECT count(*) FROM migrate_stamp('w3')" > /dev/null
[ "$(q3 -c "SELECT string_agg(version_num, ',' ORDER BY version_num) FROM upd_alembic_version")" = w3,x1 ] ||
    fail "$db3: migrate_stamp did not write the kept Alembic table after 0.3 -> 0.4"
[ "$(q3 -c "SELECT migrate_forget_alembic_version()")" = t ] ||
    fail "$db3: migrate_forget_alembic_version after 0.3 -> 0.4"
q3 -c "SET client_min_messages = warning" -c "SELECT count(*) FROM migrate_stamp('w2')" \
   -c "DROP TABLE upd_alembic_version" > /dev/null
# END 0.4 checks ADOPT


# BEGIN 0.4 checks PLAN (issue 16)
# END 0.4 checks PLAN


# BEGIN 0.4 checks OTHER (issue 16, items 5-7)
[ "$(q3 -c "SELECT count(*) FROM migrate_revision WHERE verify IS NOT NULL")" = 0 ] ||
    fail "$db3: revisions registered under 0.3 have verify bodies"
# A database with a revision applied under 0.3 and a grant on
# migrate_register's old signature.  After the update the grant is on the
# new signature, as the user's own (not an initial privilege of the
# extension: pg_dump keeps it, DROP OWNED takes it away); then verify
# bodies work: a failing one fails the step with its own context line and
# leaves nothing behind, a passing one lets it through.
db4=mg_update_src4
vrole=mg_update_verify_role
q4() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db4" "$@"; }
dropdb --if-exists "$db4" 2> /dev/null
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $vrole" 2> /dev/null || true
createdb "$db4"
psql -X -q -d postgres -c "CREATE ROLE $vrole"
q4 -c "CREATE EXTENSION migrations VERSION '0.3'" \
   -c "GRANT EXECUTE ON FUNCTION migrate_register(text, text[], text, text, text, text[], text[], boolean, text) TO $vrole WITH GRANT OPTION" \
   -c "SELECT migrate_register('y1', '{}', 'CREATE TABLE y_one (id int);', 'DROP TABLE y_one;', 'One.')" \
   -c "SET client_min_messages = warning" -c "SELECT count(*) FROM migrate_upgrade('heads')" > /dev/null
q4 -c "ALTER EXTENSION migrations UPDATE TO '0.4'"
[ "$(q4 -c "SELECT has_function_privilege('$vrole', 'migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text)', 'EXECUTE WITH GRANT OPTION')")" = t ] ||
    fail "$db4: the grant on migrate_register's old signature was not kept"
[ "$(q4 -c "SELECT count(*) FROM pg_proc WHERE proname = 'migrate_register'")" = 1 ] ||
    fail "$db4: the old migrate_register is still there"
[ "$(q4 -c "SELECT count(*) FROM pg_init_privs WHERE objoid = 'migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text)'::regprocedure AND initprivs::text LIKE '%$vrole%'")" = 0 ] ||
    fail "$db4: the copied grant became an initial privilege of the extension"
pg_dump --schema-only "$db4" | grep -q "GRANT ALL ON FUNCTION public.migrate_register(.*verify text) TO $vrole WITH GRANT OPTION" ||
    fail "$db4: pg_dump does not keep the copied grant"
[ "$(q4 -c "SELECT verify IS NULL FROM migrate_revision WHERE revision = 'y1'")" = t ] ||
    fail "$db4: y1 has a verify body after the update"
q4 -c "SELECT migrate_register('y2', '{y1}', 'CREATE TABLE y_two (id int);', 'DROP TABLE y_two;', 'Two.', verify => 'SELECT 1 / pg_catalog.count(*) FROM y_two;')" > /dev/null
if out=$(q4 -c "SET client_min_messages = warning" -c "SELECT count(*) FROM migrate_upgrade('heads')" 2>&1); then
    fail "$db4: a failing verify let the upgrade through"
fi
grep -q 'division by zero' <<< "$out" && grep -q 'verify of revision "y2" (Two.)' <<< "$out" ||
    fail "$db4: failing verify reported as: $out"
[ "$(q4 -c "SELECT count(*) FROM pg_class WHERE relname = 'y_two'")-$(q4 -c "SELECT string_agg(revision, ',') FROM migrate_version")" = 0-y1 ] ||
    fail "$db4: the failed step left something behind"
q4 -c "SET ROLE $vrole" \
   -c "SELECT migrate_register('y2', '{y1}', 'CREATE TABLE y_two (id int); INSERT INTO y_two VALUES (1);', 'DROP TABLE y_two;', 'Two.', verify => 'SELECT 1 / pg_catalog.count(*) FROM y_two;')" > /dev/null ||
    fail "$db4: the role cannot call the new migrate_register"
q4 -c "SET client_min_messages = warning" -c "SELECT count(*) FROM migrate_upgrade('heads')" > /dev/null
[ "$(q4 -c "SELECT string_agg(revision, ',') FROM migrate_version")" = y2 ] || fail "$db4: upgrade with a passing verify"
q4 -c "DROP OWNED BY $vrole"
dropdb "$db4"
psql -X -q -d postgres -c "DROP ROLE $vrole"
# END 0.4 checks OTHER


# migrations go on after the update
q3 -c "SET client_min_messages = warning" -c "SELECT count(*) FROM migrate_downgrade('base')" > /dev/null
[ "$(q3 -c "SELECT count(*) FROM migrate_version")" = 0 ] || fail "$db3: downgrade to base after 0.3 -> 0.4"
q3 -c "SET client_min_messages = warning" -c "SELECT count(*) FROM migrate_upgrade('heads')" > /dev/null
[ "$(q3 -c "SELECT string_agg(revision, ',' ORDER BY revision) FROM migrate_version")" = w3,x1 ] ||
    fail "$db3: upgrade to heads after 0.3 -> 0.4"
q3 -c "SELECT migrate_check()" > /dev/null
echo "update 0.1 -> 0.2 -> 0.3 -> 0.4, 0.2 -> 0.3 -> 0.4 and 0.3 -> 0.4: state kept, objects as a fresh install, direct writes refused, migrations go on"
