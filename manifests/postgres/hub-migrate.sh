#!/bin/sh
# hub-migrate.sh: apply the hub's migrations (the hub-sql ConfigMap, made
# from the files of sql/) in name order and record each in
# schema_migrations.
#
# The image's entrypoint runs it from /docker-entrypoint-initdb.d once, when
# the data directory is new, with a socket-only server up and POSTGRES_USER
# and POSTGRES_DB set. Every migration is idempotent, so after an upgrade
# that brings new files it is run again by hand:
#   kubectl -n observability exec postgres-0 -- /hub/init/hub-migrate.sh
# The same ledger as scripts/migrate.sh (version = file name without .sql);
# test/integration/manifests_migrate.sh checks that both give one schema.
set -eu

# A missing setting is a configuration error (78, EX_CONFIG), named.
require() {
    eval "v=\${$1:-}"
    if [ -z "$v" ]; then
        echo "$(basename "$0"): $1 is not set" >&2
        exit 78
    fi
}
require POSTGRES_USER
require POSTGRES_DB

sql_dir=${HUB_SQL_DIR:-/hub/sql}
# A local connection may ask for a password (the entrypoint exports it too).
export PGPASSWORD="${PGPASSWORD:-${POSTGRES_PASSWORD:-}}"

run_psql() {
    psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --quiet \
        --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" "$@"
}

applied=0
for f in "$sql_dir"/[0-9]*.sql; do
    if [ ! -e "$f" ]; then
        echo "hub-migrate: no migrations in $sql_dir" >&2
        exit 66
    fi
    version=$(basename "$f" .sql)
    echo "hub-migrate: applying $version"
    # One transaction a file, the ledger row included, as scripts/migrate.sh
    # does: a file that fails leaves nothing behind and is not recorded.
    run_psql --single-transaction -v version="$version" -f "$f" -f - <<'SQL'
INSERT INTO schema_migrations (version) VALUES (:'version')
    ON CONFLICT (version) DO NOTHING;
SQL
    applied=$((applied + 1))
done
echo "hub-migrate: $applied migrations applied to $POSTGRES_DB"
