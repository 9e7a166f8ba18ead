#!/bin/bash
# webhook_socket.sh: hub-webhook under systemd's protocols, driven by
# systemd-socket-activate (systemd package): it serves on the socket it is
# passed (LISTEN_FDS), exits after --exit-idle, remembers delivery GUIDs
# across that restart in its state directory, and on SIGTERM finishes the
# request in flight before it exits 0.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/github/harness.bash"
t_need curl openssl jq systemd-socket-activate

wh_setup
F=$WH_FIX
printf '%s\n' "$WH_SECRET" > "$WH_DIR/secret"
mkdir -p "$WH_DIR/state"
WH_PORT=$(t_port)
WH_URL=http://127.0.0.1:$WH_PORT/hooks/github

# activate: one socket-activated life of hub-webhook on WH_PORT (the socket
# is bound by systemd-socket-activate; the first connection starts us).
activate() {
    # systemd-socket-activate passes only the variables named with -E.
    t_spawn systemd-socket-activate -l "127.0.0.1:$WH_PORT" \
        -E HUB_GITHUB_WEBHOOK_SECRET_FILE="$WH_DIR/secret" -E STATE_DIRECTORY="$WH_DIR/state" \
        "$HUB_BUILD/bin/hub-webhook" --repos-dir "$WH_DIR/repos" --trigger-dir "$WH_DIR/triggers" \
        --listen 127.0.0.1:1 --exit-idle 1 >>"$WH_DIR/log" 2>&1
    WH_PID=$T_PID
    t_wait_port "$WH_PORT"
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

activate
wh_post "$F/push.json" push d0000000-0000-0000-0000-000000000001
t_eq "socket-activated: a signed push -> 202" 202 "$WH_CODE"
t_check "... served on the passed socket, not --listen" \
    grep -q '"listen":"socket activation"' "$WH_DIR/log"
t_eq "... the trigger file is written" 1 "$(wh_triggers)"
exited "$WH_PID"
t_eq "--exit-idle 1: exits 0 once idle" "exit 0" "$EXITED"
t_check "... and says why" grep -q '"msg":"webhook_stopping".*"reason":"idle"' "$WH_DIR/log"
t_check "... the replay memory is in STATE_DIRECTORY" \
    grep -qx '+d0000000-0000-0000-0000-000000000001' "$WH_DIR/state/replay.log"

activate
wh_clear_triggers
wh_post "$F/push.json" push d0000000-0000-0000-0000-000000000001
t_eq "started again: the same GUID -> 200 duplicate (remembered across restarts)" \
    "200 duplicate" "$WH_CODE $(jq -r .status "$WH_DIR/body")"
t_eq "... nothing triggered" 0 "$(wh_triggers)"
wh_post "$F/push.json" push d0000000-0000-0000-0000-000000000002
t_eq "... a new GUID still triggers" 202 "$WH_CODE"

# SIGTERM while a request is in flight: a 7.7 kB body sent at 2 kB/s takes
# about 4 s; SIGTERM arrives after 1 s, and the answer still comes.
wh_clear_triggers
jq -c '.after = "e000000000000000000000000000000000000003"' "$F/push.json" > "$WH_DIR/slow.json"
wh_post "$WH_DIR/slow.json" push d0000000-0000-0000-0000-000000000003 --limit-rate 2k &
post=$!
sleep 1
kill -TERM "$WH_PID"
wait "$post"
t_eq "SIGTERM with a request in flight: the request is still answered 202" 202 "$WH_CODE"
t_eq "... its trigger is written" e000000000000000000000000000000000000003 \
    "$(jq -r .after "$WH_DIR/triggers/infra.json" 2>&1)"
exited "$WH_PID"
t_eq "... and the process exits 0" "exit 0" "$EXITED"
t_check "... after logging SIGTERM" grep -q '"reason":"SIGTERM"' "$WH_DIR/log"
t_eq "no new connection is accepted once it stopped" 000 \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$WH_PORT/health")"

# Refusals at start: no secret, a broken allowlist.
rm -f "$WH_DIR/secret"
t_exit "no github_webhook_secret -> exit 78" 78 env HUB_GITHUB_WEBHOOK_SECRET_FILE= \
    hub-webhook --repos-dir "$WH_DIR/repos" --trigger-dir "$WH_DIR/triggers" --listen 127.0.0.1:1
printf 'x\n' > "$WH_DIR/secret"
printf 'GITHUB=a/b\n' > "$WH_DIR/repos/broken.conf"
t_exit "a repos.d file without CHECKOUT -> exit 78" 78 env HUB_GITHUB_WEBHOOK_SECRET_FILE="$WH_DIR/secret" \
    hub-webhook --repos-dir "$WH_DIR/repos" --trigger-dir "$WH_DIR/triggers" --listen 127.0.0.1:1
t_exit "a bad flag -> exit 64" 64 hub-webhook --max-body 12
t_check "--help lists the flags with their HUB_* twins" bash -c "hub-webhook --help | grep -q HUB_WEBHOOK_EXIT_IDLE"
t_done
