#!/bin/bash
# metrics_badinput.sh: bad /proc input (garbage, truncated, missing files) and
# a missing /sys give a warning for the metric concerned; the other metrics
# are still printed and written, and the program never crashes.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/metrics/helpers.sh"
t_need psql

work=$(t_tmpdir)
cp -r "$METRICS_FIX/s2/proc" "$work/proc"
printf 'cpu  12 garbage\nintr 1\n' >"$work/proc/stat"
printf 'MemTotal:       16' >"$work/proc/meminfo"          # truncated
printf '\x01\x02 not a number\n' >"$work/proc/loadavg"
rm "$work/proc/diskstats"
run() {
    hub-metrics --proc-root "$work/proc" --sys-root "$work/no-sys" --fs-root "$METRICS_FIX/fsroot" \
        --state-dir "$work/st" --warmup 0 "$@"
}
run --no-db >"$work/out" 2>&1
t_eq "exit 0 despite bad input" 0 "$?"
warned=$(grep '"msg":"metric_failed"' "$work/out" | sed 's/.*"metric_type":"\([a-z]*\)".*/\1/' | sort | tr '\n' ' ')
t_eq "one warning per broken metric" "cpu diskio load memory swap temperature " "$warned"
t_eq "warnings are WARN lines naming the file" 6 \
    "$(grep '"metric_failed"' "$work/out" | grep '"level":"WARN"' | grep -c '"file":"')"
t_eq "the other metrics still sampled" "disk network uptime " \
    "$(grep '"msg":"sample"' "$work/out" | sed 's/.*"metric_type":"\([a-z]*\)".*/\1/' | sort | tr '\n' ' ')"
t_eq "summary counts the failures" 6 "$(grep metrics_collected "$work/out" | sed 's/.*"failed":\([0-9]*\).*/\1/')"

dsn=$(t_newdb metrics_bad) || { t_fail "create database"; t_done; }
HUB_PG_DSN=$dsn run >"$work/out2" 2>&1
t_eq "with a database: exit 0" 0 "$?"
t_eq "...and the good metrics are written" "disk,network,uptime" \
    "$(t_sql "$dsn" "SELECT string_agg(metric_type, ',' ORDER BY metric_type) FROM system_metrics")"

# a missing /sys alone: cpu still has its usage, only temperature warns
hub-metrics --proc-root "$METRICS_FIX/s2/proc" --sys-root "$work/no-sys" --fs-root "$METRICS_FIX/fsroot" \
    --state-dir "$work/st2" --warmup 0 --no-db >"$work/out3" 2>&1
t_eq "missing /sys: only temperature warns" "temperature" \
    "$(grep '"metric_failed"' "$work/out3" | sed 's/.*"metric_type":"\([a-z]*\)".*/\1/')"
t_eq "missing /sys: whole disks found by name" '{"sda":' "$(m_payload diskio "$work/out3" | cut -c1-7)"

# random bytes in every file: never a crash (exit below 128), every line JSON
crashes=0
for round in 1 2 3 4 5 6 7 8; do
    for f in stat meminfo loadavg uptime diskstats net/dev self/mounts; do
        head -c $((RANDOM % 3000 + 1)) /dev/urandom >"$work/proc/$f"
    done
    run --no-db >"$work/fuzz" 2>&1
    rc=$?
    [ "$rc" -ge 128 ] && crashes=$((crashes + 1))
    [ "$rc" -ne 0 ] && echo "# round $round exit $rc"
done
t_eq "garbage in every file never crashes" 0 "$crashes"
# a corrupt state file is a warning and a fresh start, not a crash
printf 'hub-metrics-state 1\ncpu cpu 1 2 x\n' >"$work/st2/state"
hub-metrics --proc-root "$METRICS_FIX/s2/proc" --sys-root "$METRICS_FIX/sys" --fs-root "$METRICS_FIX/fsroot" \
    --state-dir "$work/st2" --warmup 0 --no-db >"$work/out4" 2>&1
t_eq "corrupt state: exit 0" 0 "$?"
t_eq "corrupt state: one state_unreadable warning" 1 "$(m_count_msg state_unreadable "$work/out4")"
# the state is rewritten in place: a torn write (one byte off, as a crash
# mid-write leaves it) fails its checksum and is a fresh start, not wrong rates
s2run() {
    hub-metrics --proc-root "$METRICS_FIX/$1/proc" --sys-root "$METRICS_FIX/sys" \
        --fs-root "$METRICS_FIX/fsroot" --state-dir "$work/st2" --warmup 0 --no-db
}
s2run s1 >/dev/null 2>&1
t_eq "state written in place, checksummed" "hub-metrics-state 2|sum" \
    "$(head -1 "$work/st2/state")|$(tail -1 "$work/st2/state" | cut -c1-3)"
sed -i '2s/[0-9]/9/' "$work/st2/state"
s2run s2 >"$work/out5" 2>&1
t_eq "torn state: exit 0" 0 "$?"
t_eq "torn state: one state_unreadable warning" 1 "$(m_count_msg state_unreadable "$work/out5")"
t_eq "torn state: no rates from it" 0 "$(grep -c '_per_s' "$work/out5")"
s2run s1 >/dev/null 2>&1
s2run s2 >"$work/out6" 2>&1
t_eq "the next whole state gives rates again" 0 "$(m_count_msg state_unreadable "$work/out6")"
t_check "...with rates" grep -q '_per_s' "$work/out6"
dropdb metrics_bad
t_done
