#!/bin/bash
# bench_metrics.sh: what one hub-metrics sample costs, next to one scrape of
# Prometheus' node_exporter (Debian's prometheus-node-exporter, default
# collectors) on the same machine in the same run.
#
#   hub-metrics: CPU time (user + system) and peak RSS of the whole process,
#     exec to exit, one-shot with the database write, averaged over N runs
#     (test/tools/metrics-rusage: wait4's rusage). Also --no-db, and
#     `hub-metrics --version` as the floor any exec'd program pays here.
#   node_exporter: CPU per scrape from /proc/PID/stat utime+stime over N
#     scrapes with curl on loopback; its RSS (VmRSS, VmHWM).
#
# Targets (issue 2): at most 1/10 of node_exporter's CPU per sample, at most
# 4 MiB peak RSS. Figures, not pass/fail: machines are shared and noisy.
# Run by test/bench/run.sh (PostgreSQL and hub_template are ready).
set -u
. "$HUB_TOP/test/lib.sh"
RUNS=${HUB_BENCH_RUNS:-300}
SCRAPES=${HUB_BENCH_SCRAPES:-100}
F=$HUB_TOP/test/fixtures/metrics

for tool in prometheus-node-exporter curl metrics-rusage hub-metrics; do
    command -v "$tool" >/dev/null || { echo "bench_metrics: $tool missing (scripts/install-deps.sh)"; exit 69; }
done

dropdb --if-exists bench_metrics >/dev/null 2>&1
createdb -T hub_template bench_metrics || exit 69
export HUB_PG_DSN="host=$PGHOST user=postgres dbname=bench_metrics"
st=$(t_tmpdir)
hub-metrics --state-dir "$st" >/dev/null || { echo "bench_metrics: hub-metrics cannot write"; exit 1; }

field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }
db=$(metrics-rusage "$RUNS" hub-metrics --state-dir "$st")
nodb=$(metrics-rusage "$RUNS" hub-metrics --state-dir "$st" --no-db)
floor=$(metrics-rusage "$RUNS" hub-metrics --version)
rows=$(psql -X -qtA -c 'SELECT count(*) FROM system_metrics' bench_metrics)

port=$(t_port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$port" >"$st/ne.log" 2>&1 &
ne=$!
trap 'kill $ne 2>/dev/null; wait $ne 2>/dev/null; _t_cleanup' EXIT
t_wait_port "$port" 20 || { echo "bench_metrics: node_exporter did not start"; cat "$st/ne.log"; exit 69; }
for i in 1 2 3; do curl -s "http://127.0.0.1:$port/metrics" >/dev/null; done
ticks() { awk '{print $14 + $15}' "/proc/$ne/stat"; }
t0=$(ticks)
for i in $(seq 1 "$SCRAPES"); do curl -s "http://127.0.0.1:$port/metrics" >/dev/null; done
t1=$(ticks)
hz=$(getconf CLK_TCK)
ne_us=$(( (t1 - t0) * 1000000 / hz / SCRAPES ))
ne_rss=$(awk '/VmRSS/ {print $2}' "/proc/$ne/status")
ne_hwm=$(awk '/VmHWM/ {print $2}' "/proc/$ne/status")

cpu=$(field cpu_us "$db")
rss=$(field maxrss_kib "$db")
printf '\n%-44s %12s %14s\n' "per sample / per scrape" "CPU (us)" "peak RSS (KiB)"
printf '%-44s %12s %14s\n' "hub-metrics one-shot, with the DB write" "$cpu" "$rss"
printf '%-44s %12s %14s\n' "hub-metrics --no-db" "$(field cpu_us "$nodb")" "$(field maxrss_kib "$nodb")"
printf '%-44s %12s %14s\n' "hub-metrics --version (exec floor)" "$(field cpu_us "$floor")" "$(field maxrss_kib "$floor")"
printf '%-44s %12s %14s\n' "node_exporter scrape (RSS now / peak)" "$ne_us" "$ne_rss / $ne_hwm"
echo
if [ "$ne_us" -gt 0 ]; then
    ratio=$(awk -v a="$cpu" -v b="$ne_us" 'BEGIN { printf "%.3f (1/%.1f)", a / b, b / a }')
else
    ratio="n/a (node_exporter below one clock tick per scrape: raise HUB_BENCH_SCRAPES)"
fi
echo "CPU, hub-metrics / node_exporter: $ratio   target <= 0.100 (1/10)"
echo "peak RSS, hub-metrics: $rss KiB   target <= 4096 KiB"
echo "($RUNS one-shot runs, $SCRAPES scrapes; $rows rows written; failed runs: $(field failed "$db"))"
dropdb bench_metrics >/dev/null 2>&1
exit 0
