#!/usr/bin/env bash
# Differential test against Alembic 1.8 on random histories:
#   test/alembic/run_random.sh FIRST_SEED LAST_SEED
# Each seed makes a history with commands (random_hist.py), runs it through
# Alembic (alembic_ref.py) and through the core (test/unit/mg_replay), and
# compares the transcripts (compare.py).  Fails on any difference that is
# not an Alembic crash or one of our documented deliberate differences.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
replay=${REPLAY:-$here/../unit/mg_replay}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PYTHONHASHSEED=0
declare -A count=()
fail=0
for seed in $(seq "$1" "$2"); do
    /usr/bin/python3 "$here/random_hist.py" "$seed" > "$work/h.hist"
    /usr/bin/python3 "$here/alembic_ref.py" "$work/h.hist" > "$work/a.out" 2> /dev/null
    "$replay" "$work/h.hist" > "$work/o.out"
    if result=$(/usr/bin/python3 "$here/compare.py" "$work/h.hist" "$work/a.out" "$work/o.out"); then
        kind=${result%%:*}
        count[$kind]=$(( ${count[$kind]:-0} + 1 ))
    else
        fail=$((fail + 1))
        echo "seed $seed: $result"
        cp "$work/h.hist" "$here/results/random_$seed.hist" 2>/dev/null || true
    fi
done
for k in "${!count[@]}"; do echo "  $k: ${count[$k]}"; done
echo "random histories against Alembic 1.8 (seeds $1-$2): $(( ${count[same]:-0} + ${count[alembic-crash]:-0} + ${count[deliberate]:-0} + ${count[consistent-rows]:-0} )) passed, $fail failed"
[ "$fail" -eq 0 ]
