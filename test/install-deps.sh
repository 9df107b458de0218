#!/usr/bin/env bash
# Installs what building and testing the extension needs, on Debian 12 with
# PostgreSQL 15: the server development files (PGXS), the server itself,
# Alembic 1.8 (the semantic reference the tests compare against) and
# sqlalchemy_utils (test/alembic_projects use its UUID and JSON types),
# psycopg2 (Alembic's online runs against PostgreSQL in the adoption tests),
# IPC::Run (TAP tests) and pgbouncer (test/t/010_pgbouncer.pl runs
# pg_migrate through it).  Run as root; otherwise it says what to install.
set -euo pipefail

packages=(postgresql-15 postgresql-server-dev-15 postgresql-common
          python3-alembic python3-psycopg2 python3-sqlalchemy-utils
          libipc-run-perl pgbouncer make gcc)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$p")
    fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" > /dev/null
