#!/bin/sh
# Regenerate test/alembic/reference/<name>.out from fixtures/<name>.hist by
# running each fixture through real Alembic (Debian python3-alembic 1.8.1).
#
#   test/alembic/run_ref.sh            rewrite every reference output
#   test/alembic/run_ref.sh --check    only compare; exit 1 on any difference
#   test/alembic/run_ref.sh FIXTURE... limit to the given .hist files
set -eu

here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3         # the only interpreter that sees python3-alembic
check=no
if [ "${1:-}" = "--check" ]; then
	check=yes
	shift
fi
if [ $# -eq 0 ]; then
	set -- "$here"/fixtures/*.hist
fi

# Nothing printed should depend on set order, but pin the hash seed anyway so
# that a fixture which does (several depends_on entries) is at least stable.
export PYTHONHASHSEED=0

mkdir -p "$here/reference"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
status=0
for fixture in "$@"; do
	name=$(basename "$fixture" .hist)
	out="$here/reference/$name.out"
	if ! "$python" "$here/alembic_ref.py" "$fixture" >"$tmp"; then
		echo "FAILED: $fixture" >&2
		status=1
		continue
	fi
	if [ $check = yes ]; then
		if ! diff -u "$out" "$tmp"; then
			echo "DIFFERS: $name" >&2
			status=1
		fi
	else
		cp "$tmp" "$out"
		echo "wrote reference/$name.out"
	fi
done
exit $status
