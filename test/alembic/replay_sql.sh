#!/usr/bin/env bash
# Replays every Alembic fixture against a real server through the SQL API
# (migrate_register, migrate_upgrade, ...) and compares the transcript with
# Alembic 1.8's (test/alembic/reference/NAME.out), as test/unit/run_replay.sh
# does for the core alone.  Each fixture gets a fresh database; each command
# runs in a subtransaction, so a failing command must leave the version
# table as it was.  Needs a running server (libpq environment variables).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${RESULTS:-$here/results}
mkdir -p "$out"
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)

sql_quote() { printf "'%s'" "${1//\'/\'\'}"; }
sql_array() {
    local IFS=,
    local items=() x
    for x in $1; do items+=("\"$x\""); done
    printf "'{%s}'" "${items[*]}"
}

# Turn a fixture into SQL that prints the transcript
fixture_sql() {
    cat <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migrations;
CREATE TABLE public.step_log (n serial, direction text, revision text);
CREATE FUNCTION public.replay(kind text, arg text, purge boolean)
RETURNS SETOF text LANGUAGE plpgsql AS $f$
BEGIN
    BEGIN
        IF kind = 'upgrade' THEN
            RETURN QUERY SELECT 'step upgrade ' || revision FROM migrate_upgrade(arg);
        ELSIF kind = 'downgrade' THEN
            RETURN QUERY SELECT 'step downgrade ' || revision FROM migrate_downgrade(arg);
        ELSIF kind = 'stamp' THEN
            PERFORM migrate_stamp(arg, purge);
        ELSIF kind = 'heads' THEN
            RETURN QUERY SELECT 'out ' || revision
                || CASE WHEN is_effective_head THEN ' effective' ELSE ' head' END
                FROM migrate_heads();
        ELSIF kind = 'current' THEN
            RETURN QUERY SELECT 'out ' || revision FROM migrate_current()
                ORDER BY revision COLLATE "C";
        ELSIF kind = 'history' THEN
            RETURN QUERY SELECT 'out ' || revision FROM migrate_history(arg);
        ELSIF kind = 'labels' THEN
            RETURN QUERY SELECT 'out ' || h.revision
                || COALESCE((SELECT string_agg(' ' || l, '' ORDER BY l COLLATE "C")
                             FROM unnest(h.branch_labels) AS l), '')
                FROM migrate_history() AS h
                JOIN migrate_revision AS r USING (revision)
                ORDER BY r.seq;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        RETURN NEXT 'error ' || SQLERRM;
    END;
    IF kind IN ('upgrade', 'downgrade', 'stamp') THEN
        RETURN NEXT 'rows' || COALESCE((SELECT string_agg(' ' || revision, ''
                                                ORDER BY revision COLLATE "C")
                                        FROM migrate_version), '');
    END IF;
END
$f$;
SQL
    # a run of registrations is one transaction: the graph is validated at
    # commit, and a fixture may name a dependency registered after it
    local line registering=0
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        case "$line" in
            ''|'#'*) continue ;;
            rev\ *)
                local rest=${line#rev } msg=NULL id down='' deps='' labels='' tok
                if [[ "$rest" == *" message="* ]]; then
                    msg=$(sql_quote "${rest#* message=}")
                    rest=${rest%% message=*}
                fi
                read -r id rest <<< "$rest"
                [ "$registering" = 1 ] || { echo "BEGIN;"; registering=1; }
                for tok in $rest; do
                    case "$tok" in
                        down=*) down=${tok#down=} ;;
                        deps=*) deps=${tok#deps=} ;;
                        labels=*) labels=${tok#labels=} ;;
                        *) echo "bad token $tok" >&2; exit 2 ;;
                    esac
                done
                printf "SELECT NULL FROM migrate_register(%s, %s, %s, %s, %s, %s, %s);\n" \
                    "$(sql_quote "$id")" "$(sql_array "$down")" \
                    "$(sql_quote "INSERT INTO public.step_log (direction, revision) VALUES ('upgrade', '$id')")" \
                    "$(sql_quote "INSERT INTO public.step_log (direction, revision) VALUES ('downgrade', '$id')")" \
                    "$msg" "$(sql_array "$labels")" "$(sql_array "$deps")"
                ;;
            cmd\ *)
                local cmd=${line#cmd } purge=false kind arg
                [ "$registering" = 0 ] || { echo "COMMIT;"; registering=0; }
                if [[ "$cmd" == *" --purge"* ]]; then
                    purge=true
                    cmd=${cmd/ --purge/}
                fi
                kind=${cmd%% *}
                arg=${cmd#"$kind"}
                arg=${arg# }
                printf "SELECT %s;\n" "$(sql_quote "> ${line#cmd }")"
                if [ -z "$arg" ]; then
                    case "$kind" in
                        upgrade) arg=heads ;;
                    esac
                fi
                printf "SELECT * FROM public.replay(%s, %s, %s);\n" "$(sql_quote "$kind")" \
                    "$( [ -n "$arg" ] && sql_quote "$arg" || echo NULL)" "$purge"
                ;;
            *) echo "bad line: $line" >&2; exit 2 ;;
        esac
    done < "$1"
    [ "$registering" = 0 ] || echo "COMMIT;"
}

normalize() {
    # $1 = fixture name, stdin = transcript
    awk -v fixture="$1" -v divfile="$here/divergences" -f "$here/normalize.awk"
}

pass=0
fail=0
for fx in "$here"/fixtures/*.hist; do
    name=$(basename "$fx" .hist)
    db=replay_$name
    dropdb --if-exists "$db" 2>/dev/null || true
    createdb "$db"
    fixture_sql "$fx" > "$out/$name.sql"
    PGDATABASE=$db "${PSQL[@]}" -f "$out/$name.sql" > "$out/$name.sql.out" 2> "$out/$name.sql.err" || {
        echo "FAIL: $name: psql failed"; cat "$out/$name.sql.err"; fail=$((fail + 1)); continue; }
    dropdb "$db"
    if diff -u <(normalize "$name" < "$here/reference/$name.out") \
               <(normalize "$name" < "$out/$name.sql.out") > "$out/$name.sql.diff"; then
        pass=$((pass + 1))
        rm -f "$out/$name.sql.diff"
    else
        fail=$((fail + 1))
        echo "FAIL: $name (see $out/$name.sql.diff)"
        head -40 "$out/$name.sql.diff"
    fi
done
echo "SQL replay against Alembic 1.8: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
