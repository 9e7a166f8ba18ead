#!/bin/bash
# metrics_daemon.sh: --interval runs as a notify daemon: READY=1 and
# WATCHDOG=1 reach $NOTIFY_SOCKET (a recording stand-in here), a sample every
# interval, a clean exit 0 with STOPPING=1 on SIGTERM; meanwhile a one-shot
# run on the same state directory is refused (75), not interleaved.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/metrics/helpers.sh"

work=$(t_tmpdir)
t_spawn metrics-notify "$work/notify.sock" "$work/notes"
t_wait_file "$work/notify.sock" || { t_fail "notify stand-in did not start"; t_done; }
NOTIFY_SOCKET=$work/notify.sock WATCHDOG_USEC=1000000 hub-metrics --no-db --interval 1 \
    --state-dir "$work/st" --warmup 100 >"$work/out" 2>&1 &
pid=$!
for i in $(seq 1 100); do
    [ "$(grep -c metrics_collected "$work/out")" -ge 3 ] && break
    sleep 0.1
done
t_check "READY=1 sent" grep -q '^READY=1' "$work/notes"
t_check "WATCHDOG=1 sent" grep -q '^WATCHDOG=1' "$work/notes"
t_check "samples keep coming" test "$(grep -c metrics_collected "$work/out")" -ge 3
t_exit "a one-shot run on the daemon's state dir -> 75" 75 \
    hub-metrics --no-db --state-dir "$work/st"
kill -TERM "$pid"
wait "$pid"
t_eq "SIGTERM: clean exit 0" 0 "$?"
t_check "STOPPING=1 sent" grep -q '^STOPPING=1' "$work/notes"
t_check "stopping logged" grep -q '"msg":"stopping"' "$work/out"
t_eq "every line is JSON" "$(wc -l <"$work/out")" "$(grep -c '^{.*}$' "$work/out")"
t_eq "second sample has rates (state kept in memory)" true \
    "$(grep '"metric_type":"cpu"' "$work/out" | sed -n 2p | grep -q '"usage"' && echo true)"

# SIGTERM during the first run's warmup: still a clean exit
hub-metrics --no-db --interval 5 --state-dir "$work/st3" --warmup 30000 >"$work/out3" 2>&1 &
pid=$!
sleep 0.3
kill -TERM "$pid"
wait "$pid"
t_eq "SIGTERM during warmup: exit 0" 0 "$?"
t_done
