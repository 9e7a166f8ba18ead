#!/bin/bash
# sql_migrations.sh: the migrations apply on plain PostgreSQL 15, are recorded
# in schema_migrations, and running them again (twice, and with --all) changes
# nothing; rows survive a re-run.
. "$(dirname "$0")/../lib.sh"

createdb mig_test 2>/dev/null || { dropdb mig_test; createdb mig_test; }
dsn="host=$PGHOST user=postgres dbname=mig_test"

t_check "first run applies every file" "$HUB_TOP/scripts/migrate.sh" "$dsn"
n_files=$(ls "$HUB_TOP"/sql/[0-9][0-9][0-9]_*.sql | wc -l)
t_eq "every file recorded" "$n_files" "$(t_sql "$dsn" 'SELECT count(*) FROM schema_migrations')"
for table in system_metrics reading_analytics reading_sync_history webhook_deliveries gitops_runs; do
    t_eq "table $table exists" "1" "$(t_sql "$dsn" "SELECT count(*) FROM pg_tables WHERE tablename = '$table'")"
done
t_sql "$dsn" "INSERT INTO system_metrics (time, host, os, metric_type, payload) VALUES ('2026-01-01T00:00:00Z', 'h', 'linux', 'cpu', '{\"usage\": 1}')" >/dev/null
schema_before=$(pg_dump -s "$dsn" | grep -v -e '^--' -e 'restrict ' | md5sum)
t_check "second run is a no-op" "$HUB_TOP/scripts/migrate.sh" "$dsn"
t_check "re-applying every file (--all) succeeds" "$HUB_TOP/scripts/migrate.sh" --all "$dsn"
t_eq "schema unchanged by re-runs" "$schema_before" "$(pg_dump -s "$dsn" | grep -v -e '^--' -e 'restrict ' | md5sum)"
t_eq "rows survive re-runs" "1" "$(t_sql "$dsn" 'SELECT count(*) FROM system_metrics')"
t_exit "duplicate sample refused by the key" 1 \
    psql -X -q -v ON_ERROR_STOP=1 "$dsn" -c "INSERT INTO system_metrics (time, host, os, metric_type, payload) VALUES ('2026-01-01T00:00:00Z', 'h', 'linux', 'cpu', '{}')"
t_eq "retention function deletes old samples" "1" "$(t_sql "$dsn" "SELECT hub_apply_retention('1 day')")"
t_exit "unreachable database -> 69" 69 "$HUB_TOP/scripts/migrate.sh" "host=/nonexistent dbname=x"
dropdb mig_test
t_done
