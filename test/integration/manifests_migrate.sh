#!/bin/bash
# manifests_migrate.sh: the scripts the PostgreSQL pod runs at first start
# (manifests/postgres/hub-migrate.sh, grafana-role.sh), run here against the
# test PostgreSQL the way the image's entrypoint runs them (POSTGRES_USER,
# POSTGRES_DB, a local socket). hub-migrate.sh must give the same schema and
# ledger as scripts/migrate.sh (hub_template), twice over; a failing
# migration is not recorded and leaves nothing; the grafana role reads every
# table and writes none.
. "$(dirname "$0")/../lib.sh"
t_need psql createdb dropdb pg_dump

db=manifests_migrate
tmp=$(t_tmpdir)
init=$HUB_TOP/manifests/postgres
reset_db() {
    dropdb --if-exists "$db" >/dev/null 2>&1
    psql -X -q -c 'DROP ROLE IF EXISTS grafana' >/dev/null 2>&1
}
reset_db
createdb "$db"
export POSTGRES_USER=${PGUSER:-postgres} POSTGRES_DB=$db HUB_SQL_DIR=$HUB_TOP/sql
dsn="dbname=$db"
schema() { pg_dump -s "$1" | grep -v -e '^--' -e 'restrict ' ; }

t_check "hub-migrate.sh applies sql/ to an empty database" sh "$init/hub-migrate.sh"
ledger="SELECT string_agg(version, ' ' ORDER BY version) FROM schema_migrations"
t_eq "same ledger as scripts/migrate.sh" "$(t_sql dbname=hub_template "$ledger")" "$(t_sql "$dsn" "$ledger")"
schema hub_template > "$tmp/template.sql"
schema "$dsn" > "$tmp/pod.sql"
t_check "same schema as scripts/migrate.sh" diff -u "$tmp/template.sql" "$tmp/pod.sql"
t_check "a second run (by hand, after an upgrade) succeeds" sh "$init/hub-migrate.sh"
schema "$dsn" > "$tmp/pod2.sql"
t_check "a second run changes nothing" diff -u "$tmp/pod.sql" "$tmp/pod2.sql"

# Rejecting twin: a migration that fails half way is neither kept nor recorded.
mkdir "$tmp/sql"
cp "$HUB_TOP"/sql/[0-9]*.sql "$tmp/sql/"
printf 'CREATE TABLE half_done (x int);\nSELECT no_such_column FROM half_done;\n' > "$tmp/sql/999_broken.sql"
t_exit "a failing migration stops hub-migrate.sh (psql exit 3)" 3 \
    env HUB_SQL_DIR="$tmp/sql" sh "$init/hub-migrate.sh"
t_eq "the failing migration is not recorded" "0" \
    "$(t_sql "$dsn" "SELECT count(*) FROM schema_migrations WHERE version = '999_broken'")"
t_eq "the failing migration left nothing" "0" "$(t_sql "$dsn" "SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'")"
t_exit "an empty migrations directory is refused (66)" 66 env HUB_SQL_DIR="$tmp/none" sh "$init/hub-migrate.sh"

# The read-only role Grafana logs in as.
t_exit "grafana-role.sh refuses to run without GRAFANA_DB_PASSWORD (78)" 78 \
    env -u GRAFANA_DB_PASSWORD sh "$init/grafana-role.sh"
t_check "grafana-role.sh creates the role" env GRAFANA_DB_PASSWORD="pw-$RANDOM" sh "$init/grafana-role.sh"
t_check "grafana-role.sh runs again (password change)" env GRAFANA_DB_PASSWORD="pw2-$RANDOM" sh "$init/grafana-role.sh"
t_eq "the role logs in and is no superuser" "t|f" \
    "$(t_sql "$dsn" "SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = 'grafana'")"
for table in system_metrics reading_analytics reading_sync_history webhook_deliveries gitops_runs; do
    t_check "grafana reads $table" psql -X -q -v ON_ERROR_STOP=1 "$dsn" \
        -c "SET ROLE grafana" -c "SELECT count(*) FROM $table"
done
t_exit "grafana cannot write" 1 psql -X -q -v ON_ERROR_STOP=1 "$dsn" -c "SET ROLE grafana" \
    -c "INSERT INTO gitops_runs (started_at, repo, outcome) VALUES (now(), 'x', 'x')"
psql -X -q "$dsn" -c 'CREATE TABLE later_table (x int)' >/dev/null
t_check "grafana reads a table a later migration adds (default privileges)" \
    psql -X -q -v ON_ERROR_STOP=1 "$dsn" -c "SET ROLE grafana" -c "SELECT count(*) FROM later_table"

reset_db
t_done
