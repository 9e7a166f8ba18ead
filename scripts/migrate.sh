#!/bin/sh
# migrate.sh: apply the hub's SQL migrations in order, recording each in
# schema_migrations. Every file is idempotent, so a re-run (or --all, which
# re-applies the files already recorded) changes nothing.
#
# usage: scripts/migrate.sh [--all] [DSN]
#   DSN defaults to $HUB_PG_DSN, else libpq's PG* variables.
#   --all   apply every file even if already recorded (proves idempotence)
# Needs psql (Debian postgresql-client-15). Exit 0 done, 69 database
# unreachable, 65 a migration failed (nothing of that file is kept).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
sqldir=${HUB_SQL_DIR:-$here/sql}
all=0
if [ "${1:-}" = "--all" ]; then all=1; shift; fi
case "${1:-}" in -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
dsn=${1:-${HUB_PG_DSN:-}}

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
psql_() { psql -X -q -v ON_ERROR_STOP=1 ${dsn:+"$dsn"} "$@"; }

if ! psql_ -c 'SELECT 1' >/dev/null 2>&1; then
    echo "migrate: database unreachable: set HUB_PG_DSN or PGHOST (psql said: $(psql_ -c 'SELECT 1' 2>&1 | head -1))" >&2
    exit 69
fi
psql_ -f "$sqldir/001_schema_migrations.sql"
for f in "$sqldir"/[0-9][0-9][0-9]_*.sql; do
    v=$(basename "$f" .sql)
    if [ "$all" -eq 0 ] && [ "$(psql_ -tA -c "SELECT 1 FROM schema_migrations WHERE version = '$v'")" = 1 ]; then
        continue
    fi
    if ! psql_ -1 -f "$f" -c "INSERT INTO schema_migrations (version) VALUES ('$v') ON CONFLICT (version) DO NOTHING" >/dev/null 2>"${TMPDIR:-/tmp}/migrate.$$"; then
        echo "migrate: $v failed: $(cat "${TMPDIR:-/tmp}/migrate.$$")" >&2
        rm -f "${TMPDIR:-/tmp}/migrate.$$"
        exit 65
    fi
    rm -f "${TMPDIR:-/tmp}/migrate.$$"
    echo "migrate: applied $v"
done
