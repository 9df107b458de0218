#!/usr/bin/env bash
# Replays every Alembic fixture through the graph core (test/unit/mg_replay)
# and compares the transcript with the one Alembic 1.8 produced
# (test/alembic/reference/NAME.out).  Error texts differ by design (ours
# follow PostgreSQL's style), so an error line compares as "error".
# Commands listed in test/alembic/divergences are left out of the
# comparison; each line there gives the reason.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
replay=${REPLAY:-$here/mg_replay}
out=$here/results
mkdir -p "$out"

normalize() {
    # $1 = fixture name, stdin = transcript
    awk -v fixture="$1" -v divfile="$top/test/alembic/divergences" -f "$top/test/alembic/normalize.awk"
}

pass=0
fail=0
for fx in "$top"/test/alembic/fixtures/*.hist; do
    name=$(basename "$fx" .hist)
    ref=$top/test/alembic/reference/$name.out
    "$replay" "$fx" > "$out/$name.out"
    if diff -u <(normalize "$name" < "$ref") <(normalize "$name" < "$out/$name.out") > "$out/$name.diff"; then
        pass=$((pass + 1))
        rm -f "$out/$name.diff"
    else
        fail=$((fail + 1))
        echo "FAIL: $name (see $out/$name.diff)"
        head -40 "$out/$name.diff"
    fi
done
echo "replay against Alembic 1.8: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
