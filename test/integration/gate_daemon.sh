#!/bin/bash
# gate_daemon.sh: hub-gate --interval (daemon mode) against the real
# hub-webhook and the recording tailscale stand-in: it opens once healthy,
# closes when the webhook goes away, closes the funnel on SIGTERM before it
# exits (and leaves it with --keep-on-exit), counts its streaks in memory
# under --dry-run while changing nothing, and sends READY/STATUS/WATCHDOG
# to $NOTIFY_SOCKET when one is given.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/gate/lib.sh"
t_need jq
gate_need_webhook

log="$GATE_TS_DIR/daemon.log"
gate_pid=""
# daemon_start ARGS...: hub-gate --interval 1 --rise 1 in the background.
daemon_start() {
    : >"$log"
    t_spawn hub-gate --interval 1 --rise 1 "$@" >"$log" 2>&1
    gate_pid=$T_PID
}
# daemon_stop SIGNAL: send it, wait for the exit; the status is in $rc.
daemon_stop() {
    kill "-$1" "$gate_pid"
    wait "$gate_pid"
    rc=$?
}

webhook_start || t_fail "hub-webhook listens" "see $GATE_TS_DIR/webhook.log"

# SIGTERM closes the funnel before the gate exits.
daemon_start
if wait_until 15 funnel_is_on; then t_ok "daemon opens once healthy"; else t_fail "daemon opens once healthy" "$(cat "$log")"; fi
# The stand-in turns the funnel on before the gate reads it back and logs.
t_check "daemon logs funnel_opened" wait_until 15 log_has "$log" funnel_opened
daemon_stop TERM
t_eq "SIGTERM: exit 0" 0 "$rc"
t_check "SIGTERM: funnel closed" not funnel_is_on
t_check "SIGTERM: funnel_closed with reason shutdown" log_has "$log" funnel_closed '.reason == "shutdown"'
t_check "SIGTERM: last line says the funnel is off" log_has "$log" gate_stopping '.funnel == "off"'

# The rejecting twin: --keep-on-exit leaves it open.
daemon_start --keep-on-exit
wait_until 15 funnel_is_on
daemon_stop TERM
t_eq "--keep-on-exit: exit 0" 0 "$rc"
t_check "--keep-on-exit: funnel left on" funnel_is_on
t_check "--keep-on-exit: no funnel_closed" not log_has "$log" funnel_closed
GATE_TS_DIR=$GATE_TS_DIR tailscale funnel --https=8443 off >/dev/null 2>&1

# A failing close on the way out is reported in the exit status.
daemon_start
wait_until 15 funnel_is_on
echo close >"$GATE_TS_DIR/fail"
daemon_stop TERM
t_eq "SIGTERM with a failing close: exit 69" 69 "$rc"
t_check "failing close on exit is logged" log_has "$log" funnel_close_failed
t_check "failing close on exit: no funnel_closed" not log_has "$log" funnel_closed
rm -f "$GATE_TS_DIR/fail"
GATE_TS_DIR=$GATE_TS_DIR tailscale funnel --https=8443 off >/dev/null 2>&1

# The loop follows the webhook: down closes, up re-opens; one line a check.
daemon_start
wait_until 15 funnel_is_on
webhook_stop
if wait_until 15 not funnel_is_on; then t_ok "daemon closes when the webhook stops"; else t_fail "daemon closes when the webhook stops" "$(cat "$log")"; fi
t_check "that close is check_failed" \
    wait_until 15 log_has "$log" funnel_closed '.reason == "check_failed"'
webhook_start
if wait_until 15 funnel_is_on; then t_ok "daemon re-opens when the webhook is back"; else t_fail "daemon re-opens when the webhook is back" "$(cat "$log")"; fi
daemon_stop INT
t_eq "SIGINT: exit 0" 0 "$rc"
t_check "SIGINT closes too" not funnel_is_on
checks=$(jq -s 'map(select(.msg == "gate_check")) | length' "$log")
opened=$(jq -s 'map(select(.msg == "funnel_opened")) | length' "$log")
t_check "one gate_check line a check (at least 3 checks)" test "$checks" -ge 3
t_eq "a transition line per transition" 2 "$opened"
t_check "every line is JSON with the service name" \
    jq -e -s 'all(.service == "hub-gate" and (.time | type) == "string")' "$log"

# --dry-run keeps its streaks in memory: with --rise 2 the second healthy
# check says it would open. It still writes no state file and runs no open
# or close, and on SIGTERM it leaves the funnel alone.
dry_state=$(t_tmpdir)
before="$(calls_matching '^funnel --bg') $(calls_matching ' off$')"
HUB_GATE_STATE_DIR=$dry_state daemon_start --dry-run --rise 2
if wait_until 15 log_has "$log" dry_run '.would == "open"'; then
    t_ok "--dry-run daemon: would open after --rise 2 healthy checks"
else
    t_fail "--dry-run daemon: would open after --rise 2 healthy checks" "$(cat "$log")"
fi
daemon_stop TERM
t_eq "--dry-run daemon: exit 0" 0 "$rc"
t_check "--dry-run daemon: the streak grows from check to check" \
    log_has "$log" gate_check '.healthy_streak == 2 and .wanted == "open" and .action == "open" and .dry_run'
t_check "--dry-run daemon: funnel left off" not funnel_is_on
t_eq "--dry-run daemon: no open or close run" "$before" \
    "$(calls_matching '^funnel --bg') $(calls_matching ' off$')"
t_eq "--dry-run daemon: nothing written to the state directory" "" "$(ls -A "$dry_state")"
t_check "--dry-run daemon: SIGTERM leaves the funnel alone" \
    log_has "$log" gate_stopping '.funnel == "left as it is"'

# sd_notify: READY, STATUS and WATCHDOG arrive on $NOTIFY_SOCKET.
if command -v socat >/dev/null 2>&1; then
    sock="$GATE_TS_DIR/notify.sock"
    t_spawn socat -u "UNIX-RECV:$sock" "OPEN:$GATE_TS_DIR/notify.out,creat,append"
    t_wait_file "$sock" 5
    NOTIFY_SOCKET=$sock WATCHDOG_USEC=400000 daemon_start
    wait_until 15 grep -q 'READY=1' "$GATE_TS_DIR/notify.out"
    wait_until 5 test "$(grep -c 'WATCHDOG=1' "$GATE_TS_DIR/notify.out")" -ge 3
    daemon_stop TERM
    t_check "READY=1 sent" grep -q 'READY=1' "$GATE_TS_DIR/notify.out"
    t_check "STATUS= sent" grep -q 'STATUS=funnel ' "$GATE_TS_DIR/notify.out"
    t_check "WATCHDOG=1 sent between checks" test "$(grep -c 'WATCHDOG=1' "$GATE_TS_DIR/notify.out")" -ge 3
    t_check "STOPPING=1 sent" grep -q 'STOPPING=1' "$GATE_TS_DIR/notify.out"
else
    t_fail "needs socat" "socat is not installed: run scripts/install-deps.sh"
fi

t_done
