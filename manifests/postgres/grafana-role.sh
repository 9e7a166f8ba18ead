#!/bin/sh
# grafana-role.sh: the read-only login ("grafana") that Grafana's PostgreSQL
# data source uses, so a dashboard can never change the hub's data.
#
# Runs from /docker-entrypoint-initdb.d after hub-migrate.sh (name order
# 900, 910) and is safe to run again by hand, e.g. after changing
# GRAFANA_DB_PASSWORD in secrets.env:
#   kubectl -n observability exec postgres-0 -- /hub/init/grafana-role.sh
# The password comes from the environment through psql's \getenv, never
# from the command line, where other processes could read it.
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
require GRAFANA_DB_PASSWORD

export PGPASSWORD="${PGPASSWORD:-${POSTGRES_PASSWORD:-}}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --quiet \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
\getenv pw GRAFANA_DB_PASSWORD
SELECT current_database() AS db \gset
SELECT 'CREATE ROLE grafana LOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grafana') \gexec
SELECT format('ALTER ROLE grafana LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'pw') \gexec
GRANT CONNECT ON DATABASE :"db" TO grafana;
GRANT USAGE ON SCHEMA public TO grafana;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO grafana;
SQL
echo "grafana-role: read-only role grafana ready on $POSTGRES_DB"
