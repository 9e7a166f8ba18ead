#!/bin/bash
# demo.sh: the hub's main jobs on a throwaway PostgreSQL, then a summary of
# what landed where. Run through `make demo` (which installs and builds
# first). Everything lives under build/demo and is removed at the start of
# the next demo; the server is stopped at the end.
#
# Each scripts/demo.d/NN-*.sh adds one part. It is sourced with these set:
#   HUB_BUILD   build dir (programs in $HUB_BUILD/bin)
#   HUB_TOP     source top
#   DEMO_DIR    scratch dir for this demo (build/demo/work)
#   HUB_PG_DSN  the demo database, migrations applied
#   PGHOST PGUSER for psql
# and may call demo_say "text" to print a heading.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export HUB_TOP=$top
export HUB_BUILD=${HUB_BUILD:-$top/build}
demo_root=$HUB_BUILD/demo

demo_say() { printf '\n== %s\n' "$*"; }

# The server runs as user postgres when we are root; if the build tree is in
# a private directory it cannot reach, fall back to a directory under /tmp.
rm -rf "$demo_root"
mkdir -p "$demo_root"
pg_dir=$demo_root/pg
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$demo_root" 2>/dev/null; then
    pg_dir=$(mktemp -d /tmp/hub-demo-pg.XXXXXX)
    chmod 755 "$pg_dir"
    echo "demo: $demo_root is not reachable by user postgres; the demo database lives in $pg_dir"
fi
stop_pg() { "$top/scripts/pg.sh" stop "$pg_dir" >/dev/null 2>&1 || true; }
trap stop_pg EXIT

demo_say "Starting a throwaway PostgreSQL 15 in $pg_dir"
sock=$("$top/scripts/pg.sh" start "$pg_dir")
export PGHOST=$sock PGUSER=postgres PGDATABASE=hub PGOPTIONS="-c client_min_messages=warning"
createdb --maintenance-db=postgres hub
export HUB_PG_DSN="host=$sock user=postgres dbname=hub"
"$top/scripts/migrate.sh"

export DEMO_DIR=$demo_root/work
mkdir -p "$DEMO_DIR"
chmod 755 "$DEMO_DIR"
for part in "$top"/scripts/demo.d/[0-9][0-9]-*.sh; do
    [ -f "$part" ] || continue
    # shellcheck source=/dev/null
    . "$part"
done

demo_say "What landed in PostgreSQL ($HUB_PG_DSN)"
psql -X -q -P pager=off "$HUB_PG_DSN" -c "
SELECT 'system_metrics' AS table_name, count(*) AS rows,
       string_agg(DISTINCT metric_type, ', ') AS what
  FROM system_metrics
UNION ALL SELECT 'reading_analytics', count(*), string_agg(DISTINCT event_type, ', ') FROM reading_analytics
UNION ALL SELECT 'reading_sync_history', count(*), string_agg(DISTINCT status, ', ') FROM reading_sync_history
UNION ALL SELECT 'webhook_deliveries', count(*), string_agg(DISTINCT outcome, ', ') FROM webhook_deliveries
UNION ALL SELECT 'gitops_runs', count(*), string_agg(DISTINCT outcome, ', ') FROM gitops_runs;"
echo "Logs and data of this demo: $demo_root (the database is stopped now)."
