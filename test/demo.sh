#!/usr/bin/env bash
# make demo: build and install the extension, start a throwaway cluster,
# register an example history (examples/demo.sql), upgrade it and print
# heads, current and history.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash test/install-deps.sh
make -s
if [ "$(id -u)" -eq 0 ]; then make -s install; else sudo make -s install; fi
pg_virtualenv -v 15 psql -X -q -f examples/demo.sql 2>&1 | grep -v ' LOG: \| DETAIL: \| STATEMENT: '
exit "${PIPESTATUS[0]}"
