#!/usr/bin/env bash
# make demo, the README's main job: build and install the extension and
# pg_migrate, start a throwaway cluster, load the example project
# (examples/*/, an Invenio-shaped history of four modules), upgrade it to
# its heads, and print heads, current and history.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash test/install-deps.sh
make -s
if [ "$(id -u)" -eq 0 ]; then make -s install; else sudo make -s install; fi

# pg_virtualenv makes a cluster, points the PG* variables at it, runs the
# command and removes the cluster.
pg_virtualenv -v 15 bash -c '
set -e
echo "\$ pg_migrate load examples/*/ && pg_migrate upgrade heads"
pg_migrate load examples/*/ && pg_migrate upgrade heads
for cmd in heads current history; do
    echo; echo "\$ pg_migrate $cmd"
    pg_migrate $cmd
done
echo; echo "\$ pg_migrate load examples/*/     # again: nothing changes"
pg_migrate load examples/*/
' 2>&1 | grep -v ' LOG: \| DETAIL: \| STATEMENT: \|^Creating new PostgreSQL\|^Dropping cluster'
exit "${PIPESTATUS[0]}"
