#!/bin/bash
# metrics_db.sh: rows land in a real PostgreSQL: one row per metric type per
# sample, payloads equal to the "sample" lines on stdout, one statement per
# sample (the same time for every row), and no row twice.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/metrics/helpers.sh"
t_need jq psql

dsn=$(t_newdb metrics_db) || { t_fail "create database"; t_done; }
st=$(t_tmpdir)
HUB_PG_DSN=$dsn m_fixture s1 "$st" >"$st/out1" 2>&1
t_eq "first sample stored (exit 0)" 0 "$?"
HUB_PG_DSN=$dsn m_fixture s2 "$st" >"$st/out2" 2>&1
t_eq "second sample stored (exit 0)" 0 "$?"
t_eq "9 rows a sample" "2|18" "$(t_sql "$dsn" 'SELECT count(DISTINCT time), count(*) FROM system_metrics')"
t_eq "metric types" "cpu,disk,diskio,load,memory,network,swap,temperature,uptime" \
    "$(t_sql "$dsn" "SELECT string_agg(DISTINCT metric_type, ',' ORDER BY metric_type) FROM system_metrics")"
t_eq "host and os columns" "fixture-host|linux" "$(t_sql "$dsn" 'SELECT DISTINCT host, os FROM system_metrics')"
t_eq "cpu usage as the Go collector's dashboards read it" "45" \
    "$(t_sql "$dsn" "SELECT payload->>'usage' FROM system_metrics WHERE metric_type = 'cpu' AND payload ? 'usage'")"
t_eq "memory used_percent" "37.5" \
    "$(t_sql "$dsn" "SELECT DISTINCT payload->>'used_percent' FROM system_metrics WHERE metric_type = 'memory'")"
t_eq "disk keyed by mount" "t" \
    "$(t_sql "$dsn" "SELECT bool_and(payload ? '/' AND (payload->'/'->>'total')::bigint > 0) FROM system_metrics WHERE metric_type = 'disk'")"
t_eq "network keyed by interface with rx/tx bytes" "1100000|550000" \
    "$(t_sql "$dsn" "SELECT payload->'eth0'->>'rx_bytes', payload->'eth0'->>'tx_bytes' FROM system_metrics WHERE metric_type = 'network' AND payload->'eth0' ? 'rx_bytes_per_s'")"

# every stored payload equals the stdout line of the same sample
same=0
for type in cpu memory swap load disk diskio network temperature uptime; do
    p=$(m_payload "$type" "$st/out2")
    t=$(grep -m1 "\"metric_type\":\"$type\"" "$st/out2" | jq -r .sample_time)
    r=$(t_sql "$dsn" "SELECT payload = \$\$$p\$\$::jsonb FROM system_metrics WHERE metric_type = '$type' AND time = '$t'")
    [ "$r" = t ] && same=$((same + 1))
done
t_eq "stored payloads equal the sample lines" 9 "$same"
t_eq "sample time of the log line is the row time" 1 \
    "$(t_sql "$dsn" "SELECT count(*) FROM system_metrics WHERE metric_type = 'uptime' AND time = '$(grep -m1 '"metric_type":"uptime"' "$st/out2" | jq -r .sample_time)'")"
t_eq "summary says database" database "$(grep metrics_collected "$st/out2" | jq -r .stored)"

# the rejecting twin: a database without the table is a configuration error
# (78), and the sample is kept in the spool, not lost
createdb metrics_db_empty 2>/dev/null
st2=$(t_tmpdir)
HUB_PG_DSN="host=$PGHOST user=postgres dbname=metrics_db_empty" m_fixture s1 "$st2" >"$st2/out" 2>&1
t_eq "no system_metrics table -> 78" 78 "$?"
t_eq "...the sample is spooled" 9 "$(wc -l <"$st2/spool")"
t_check "...and the fix is named" grep -q 'scripts/migrate.sh' "$st2/out"
HUB_PG_DSN="host=$PGHOST user=postgres dbname=nosuchdb" m_fixture s1 "$st2" >"$st2/out" 2>&1
t_eq "no such database -> 78" 78 "$?"
t_eq "unset database -> 78 without touching the state" 78 \
    "$(env -u PGHOST -u HUB_PG_DSN -u PGDATABASE hub-metrics --state-dir "$st2" >/dev/null 2>&1; echo $?)"
dropdb metrics_db_empty
dropdb metrics_db
t_done
