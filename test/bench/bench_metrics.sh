#!/bin/bash
# bench_metrics.sh: what one hub-metrics sample costs, next to one scrape of
# Prometheus' node_exporter (Debian's prometheus-node-exporter, default
# collectors) on the same machine in the same run.
#
#   hub-metrics: CPU time (user + system) and peak RSS of the whole process,
#     exec to exit, one-shot with the database write, mean and median over
#     N runs, the variants interleaved (test/tools/metrics-rusage: wait4's
#     rusage; the median because the machine is shared and a neighbour's
#     burst inflates a few runs).
#     Also --no-db, `hub-metrics --version` (exec, dynamic loading, exit: the
#     floor of any one-shot design) and /bin/true (the same for a program
#     that links libc alone). For comparison, not the target: the same
#     sample in `--interval 1` daemon mode, where no exec is paid per sample
#     (/proc/PID/schedstat, ns, over DAEMON samples after the first).
#   node_exporter: CPU per scrape from /proc/PID/stat utime+stime over N
#     scrapes with curl on loopback; its RSS (VmRSS, VmHWM).
#
# Targets (issue 2): at most 1/10 of node_exporter's CPU per sample, at most
# 4 MiB peak RSS. Figures, not pass/fail: machines are shared and noisy.
# Run by test/bench/run.sh (PostgreSQL and hub_template are ready).
set -u
. "$HUB_TOP/test/lib.sh"
RUNS=${HUB_BENCH_RUNS:-300}
SCRAPES=${HUB_BENCH_SCRAPES:-200}
DAEMON=${HUB_BENCH_DAEMON_SAMPLES:-8}
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
# interleaved: one run of each in turn (a neighbour's burst hits all rows alike)
costs=$(metrics-rusage "$RUNS" hub-metrics --state-dir "$st" -- hub-metrics --state-dir "$st" --no-db \
        -- hub-metrics --version -- /bin/true)
db=$(sed -n 1p <<<"$costs")
nodb=$(sed -n 2p <<<"$costs")
floor=$(sed -n 3p <<<"$costs")
true_floor=$(sed -n 4p <<<"$costs")

# daemon mode: CPU between the end of the first sample and the end of the
# DAEMON+1st (each sample with its database write; sleeping costs nothing)
dst=$(t_tmpdir)
hub-metrics --state-dir "$dst" --interval 1 --warmup 0 >"$dst/out" 2>&1 &
dm=$!
samples() { grep -c '"msg":"metrics_collected"' "$dst/out"; }
wait_samples() {
    for _ in $(seq 1 $(( ($1 + 3) * 20 ))); do [ "$(samples)" -ge "$1" ] && return 0; sleep 0.05; done
    return 1
}
daemon_us=n/a
if wait_samples 1; then
    d0=$(awk '{print $1}' "/proc/$dm/schedstat")
    if wait_samples $((DAEMON + 1)); then
        d1=$(awk '{print $1}' "/proc/$dm/schedstat")
        daemon_us=$(( (d1 - d0) / 1000 / DAEMON ))
    fi
fi
kill "$dm" 2>/dev/null
wait "$dm" 2>/dev/null
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
med=$(field cpu_med_us "$db")
rss=$(field maxrss_kib "$db")
row() { printf '%-44s %9s %9s %16s\n' "$@"; }
echo
row "per sample / per scrape" "CPU mean" "median" "peak RSS (KiB)"
row "hub-metrics one-shot, with the DB write" "$cpu" "$med" "$rss"
row "hub-metrics --no-db" "$(field cpu_us "$nodb")" "$(field cpu_med_us "$nodb")" "$(field maxrss_kib "$nodb")"
row "hub-metrics --version (exec floor)" "$(field cpu_us "$floor")" "$(field cpu_med_us "$floor")" \
    "$(field maxrss_kib "$floor")"
row "/bin/true (exec floor, libc only)" "$(field cpu_us "$true_floor")" \
    "$(field cpu_med_us "$true_floor")" "$(field maxrss_kib "$true_floor")"
row "hub-metrics --interval 1 (daemon), a sample" "$daemon_us" "" ""
row "node_exporter scrape (RSS now / peak)" "$ne_us" "" "$ne_rss / $ne_hwm"
echo "(CPU in microseconds)"
echo
ratio() { awk -v a="$1" -v b="$ne_us" 'BEGIN { printf "%.3f (1/%.1f)", a / b, b / a }'; }
if [ "$ne_us" -gt 0 ]; then
    ratio="mean $(ratio "$cpu"), median $(ratio "$med")"
else
    ratio="n/a (node_exporter below one clock tick per scrape: raise HUB_BENCH_SCRAPES)"
fi
echo "CPU, hub-metrics / node_exporter: $ratio   target <= 0.100 (1/10)"
echo "peak RSS, hub-metrics: $rss KiB   target <= 4096 KiB"
echo "($RUNS one-shot runs, $DAEMON daemon samples, $SCRAPES scrapes; $rows rows written;" \
     "failed runs: $(field failed "$db"))"
dropdb bench_metrics >/dev/null 2>&1
exit 0
