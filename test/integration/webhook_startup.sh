#!/bin/bash
# webhook_startup.sh: how hub-webhook comes up and goes down outside socket
# activation. The address comes from HUB_WEBHOOK_LISTEN or --listen, and
# the flag wins. READY=1 reaches $NOTIFY_SOCKET (a recording stand-in, one
# line per datagram) only once the server answers, so a request sent the
# moment it arrives is served; a server that refuses to start never sends
# it. SIGTERM sends STOPPING=1, then the process exits 0.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/github/harness.bash"
t_need curl openssl jq metrics-notify

# health PORT: the status of GET /health there ("000" when not answered).
health() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1/health"
}
# exited PID: wait (bounded) for the process to end; sets EXITED to its
# status (not in a subshell: only this shell can wait for its child).
exited() {
    local i
    EXITED="still running"
    for i in $(seq 1 200); do
        if ! kill -0 "$1" 2>/dev/null; then wait "$1"; EXITED="exit $?"; return; fi
        sleep 0.05
    done
}

wh_setup

# ---- HUB_WEBHOOK_LISTEN, the environment twin of --listen ------------------

p1=$(t_port)
HUB_WEBHOOK_LISTEN=127.0.0.1:$p1 wh_spawn
if t_wait_port "$p1"; then
    t_eq "HUB_WEBHOOK_LISTEN alone: the server answers /health there" 200 "$(health "$p1")"
else
    t_fail "HUB_WEBHOOK_LISTEN alone: the server answers /health there" "$(tail -5 "$WH_DIR/log")"
fi
t_check "... and logs that address" grep -q "\"msg\":\"webhook_started\".*\"listen\":\"127.0.0.1:$p1\"" "$WH_DIR/log"
wh_stop

p2=$(t_port)
while [ "$p2" = "$p1" ]; do p2=$(t_port); done
HUB_WEBHOOK_LISTEN=127.0.0.1:$p1 wh_spawn --listen "127.0.0.1:$p2"
t_wait_port "$p2"
t_eq "HUB_WEBHOOK_LISTEN=127.0.0.1:PORT1 with --listen 127.0.0.1:PORT2: PORT2 answers /health" 200 "$(health "$p2")"
code=$(health "$p1")
rc=$?
t_eq "... and PORT1 refuses the connection (the flag wins)" "000 curl exit 7" "$code curl exit $rc"
wh_stop

# Rejecting twin: the variable is parsed, not ignored.
t_exit "HUB_WEBHOOK_LISTEN=not-an-address -> exit 78" 78 \
    env HUB_WEBHOOK_LISTEN=not-an-address HUB_GITHUB_WEBHOOK_SECRET_FILE="$WH_DIR/secret" \
    timeout 10 hub-webhook --repos-dir "$WH_DIR/repos" --trigger-dir "$WH_DIR/triggers"

# ---- sd_notify: READY=1 once serving, STOPPING=1 on SIGTERM -----------------

sock=$WH_DIR/notify.sock
notes=$WH_DIR/notes
t_spawn metrics-notify "$sock" "$notes"
notifier=$T_PID
t_wait_file "$sock" || { t_fail "notify stand-in did not start"; t_done; }

# No secret: the server refuses to start (78) and must not claim readiness.
t_exit "no secret -> exit 78" 78 env NOTIFY_SOCKET="$sock" HUB_GITHUB_WEBHOOK_SECRET_FILE= \
    timeout 10 hub-webhook --repos-dir "$WH_DIR/repos" --trigger-dir "$WH_DIR/triggers" \
    --listen "127.0.0.1:$(t_port)"
sleep 0.2
t_eq "... and sends no READY=1" 0 "$(grep -c '^READY=1' "$notes" 2>/dev/null || true)"

# No t_wait_port here: READY=1 itself is the signal that the port serves.
WH_PORT=$(t_port)
NOTIFY_SOCKET=$sock wh_spawn --listen "127.0.0.1:$WH_PORT"
ready=0
for i in $(seq 1 1000); do
    grep -q '^READY=1' "$notes" 2>/dev/null && { ready=1; break; }
    sleep 0.01
done
code=$(health "$WH_PORT")
t_eq "READY=1 is sent" 1 "$ready"
t_eq "... and a request sent the moment it arrives is served (one try)" 200 "$code"
t_check "... with a STATUS= in the same message" grep -q '^READY=1 STATUS=serving GitHub webhooks$' "$notes"
t_eq "... once" 1 "$(grep -c '^READY=1' "$notes")"

kill -TERM "$WH_PID"
exited "$WH_PID"
t_eq "SIGTERM: exit 0" "exit 0" "$EXITED"
t_eq "... STOPPING=1 is sent, once" 1 "$(grep -c '^STOPPING=1$' "$notes")"
t_eq "... and the messages came in that order" "READY=1 STOPPING=1" \
    "$(cut -d' ' -f1 "$notes" | paste -sd' ')"
kill -TERM "$notifier"
t_done
