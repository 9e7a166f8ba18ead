# 10-metrics.sh (sourced by scripts/demo.sh): hub-metrics against the demo
# database: a first run (which measures its rates over a short warmup), two
# timer-style runs that take their rates from the saved state, one run while
# the database is "away" (a wrong socket: the sample is spooled, exit 75) and
# one more that writes the spool first. Then what landed, by metric type.
demo_say "hub-metrics: sampling this host into system_metrics"
metrics_state=$DEMO_DIR/metrics-state
metrics_log=$DEMO_DIR/metrics.log
mkdir -p "$metrics_state"
for run in 1 2 3; do
    rc=0
    "$HUB_BUILD/bin/hub-metrics" --state-dir "$metrics_state" --warmup 500 >>"$metrics_log" || rc=$?
    echo "run $run: exit $rc, $(grep -c '"msg":"sample"' "$metrics_log") sample lines so far"
    sleep 1
done
HUB_PG_DSN="host=$DEMO_DIR/no-server dbname=hub" HUB_PG_CONNECT_TIMEOUT=1 \
    "$HUB_BUILD/bin/hub-metrics" --state-dir "$metrics_state" >>"$metrics_log" || \
    echo "run 4 (database away): exit $? (75: spooled to $metrics_state/spool, $(wc -l <"$metrics_state/spool") rows)"
rc=0
"$HUB_BUILD/bin/hub-metrics" --state-dir "$metrics_state" >>"$metrics_log" || rc=$?
echo "run 5: exit $rc, spool replayed: $(grep -c spool_replayed "$metrics_log") time(s)"
echo "one sample line (of $(grep -c '"msg":"sample"' "$metrics_log")), as journald/Loki get it:"
grep '"metric_type":"memory"' "$metrics_log" | tail -1
psql -X -q -P pager=off "$HUB_PG_DSN" -c "
SELECT metric_type, count(*) AS samples, max(time) AS last,
       left(max(payload::text), 70) AS payload
  FROM system_metrics GROUP BY metric_type ORDER BY metric_type;"
psql -X -q -P pager=off "$HUB_PG_DSN" -c "
SELECT time, payload->>'usage' AS cpu_usage_pct,
       (SELECT payload->>'used_percent' FROM system_metrics m
         WHERE m.metric_type = 'memory' AND m.time = c.time) AS mem_used_pct
  FROM system_metrics c WHERE metric_type = 'cpu' ORDER BY time;"
