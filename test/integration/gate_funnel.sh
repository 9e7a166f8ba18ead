#!/bin/bash
# gate_funnel.sh: hub-gate in timer mode (one check a run, streaks in a state
# directory) against the real hub-webhook /health on loopback and the
# recording tailscale stand-in: opens after the rise count, closes on the
# first failure, does nothing when the state already matches, heals drift
# both ways (a funnel re-pointed at another port too), and reports every
# failing tailscale command as a failure without claiming a state it did
# not reach.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/gate/lib.sh"
t_need jq
gate_need_webhook

state=$(t_tmpdir)
export HUB_GATE_STATE_DIR=$state
n=0
out=""
rc=0
# gate ARGS...: one run; its log in $out, its exit status in $rc.
gate() {
    n=$((n + 1))
    out="$GATE_TS_DIR/gate.$n.log"
    hub-gate "$@" >"$out" 2>&1
    rc=$?
}
changes() {
    echo "$(calls_matching '^funnel --bg') $(calls_matching ' off$')"
}

webhook_start || t_fail "hub-webhook listens" "see $GATE_TS_DIR/webhook.log"

# Rise: the first healthy check is not enough (HUB_GATE_RISE defaults to 2).
gate
t_eq "first healthy check exits 0" 0 "$rc"
t_check "first healthy check: closed, nothing opened" not funnel_is_on
t_eq "first healthy check runs no open" 0 "$(calls_matching '^funnel --bg')"
t_check "check line: healthy, funnel off, action none" \
    log_has "$out" gate_check '.healthy == true and .funnel == "off" and .action == "none" and .healthy_streak == 1'
t_eq "streak kept in the state directory" "1" "$(jq -r .healthy_streak "$state/gate.state")"

gate
t_eq "second healthy check exits 0" 0 "$rc"
t_check "second healthy check opens the funnel" funnel_is_on
t_eq "open runs tailscale funnel --bg --https=8443 8085" 1 \
    "$(calls_matching '^funnel --bg --https=8443 8085$')"
t_check "funnel_opened line" log_has "$out" funnel_opened '.https_port == 8443'
t_check "check line says on" log_has "$out" gate_check '.funnel == "on" and .action == "open"'

# Nothing to do when the state already matches.
before=$(changes)
gate
t_eq "third healthy check exits 0" 0 "$rc"
t_eq "state matches: no open, no close" "$before" "$(changes)"
t_check "state matches: no transition line" not log_has "$out" funnel_opened
t_check "state matches: check line says on, action none" \
    log_has "$out" gate_check '.funnel == "on" and .action == "none"'

# Drift made by hand is healed: closed behind the gate's back, re-opened.
GATE_TS_DIR=$GATE_TS_DIR tailscale funnel --https=8443 off >/dev/null 2>&1
gate
t_check "drift (closed by hand) is re-opened" funnel_is_on
t_check "re-open logs funnel_opened" log_has "$out" funnel_opened

# Drift of the target: public, but re-pointed by hand at another local port.
GATE_TS_DIR=$GATE_TS_DIR tailscale funnel --bg --https=8443 9999 >/dev/null 2>&1
gate
t_eq "re-pointed by hand: exits 0" 0 "$rc"
t_eq "re-pointed by hand: forwards to the webhook again" 8085 "$(cat "$GATE_TS_DIR/funnel.8443")"
t_check "re-pointed by hand: funnel_opened says what it was" \
    log_has "$out" funnel_opened '.was == "misdirected"'

# Fall: the first failed check closes (HUB_GATE_FALL defaults to 1).
webhook_stop
gate
t_eq "unhealthy check that closes exits 0" 0 "$rc"
t_check "first failed check closes the funnel" not funnel_is_on
t_check "funnel_closed line with the reason" log_has "$out" funnel_closed '.reason == "check_failed"'
t_check "check line: unhealthy, funnel off, action close" \
    log_has "$out" gate_check '.healthy == false and .funnel == "off" and .action == "close"'
before=$(changes)
gate
t_eq "already closed: no close command" "$before" "$(changes)"
t_check "already closed: no transition line" not log_has "$out" funnel_closed

# Drift the other way: opened by hand while unhealthy, closed again.
GATE_TS_DIR=$GATE_TS_DIR tailscale funnel --bg --https=8443 8085 >/dev/null 2>&1
gate
t_check "drift (opened by hand while unhealthy) is closed" not funnel_is_on
t_check "that close logs funnel_closed" log_has "$out" funnel_closed
GATE_TS_DIR=$GATE_TS_DIR tailscale funnel --bg --https=8443 9999 >/dev/null 2>&1
gate
t_check "re-pointed by hand while unhealthy: closed" not funnel_is_on

# A wrong path on the real server is unhealthy (404), never a reason to open.
webhook_start
HUB_GATE_URL="http://127.0.0.1:$gate_port/no-such-path" gate --rise 1
t_check "404 from the webhook is unhealthy" log_has "$out" gate_check '.healthy == false and .reason == "http_status" and .http_status == 404'
t_check "404 does not open" not funnel_is_on

# A failing open: logged with exit code and output, exit non-zero, no claim.
echo open >"$GATE_TS_DIR/fail"
echo 3 >"$GATE_TS_DIR/fail_code"
gate --rise 1
t_eq "failing open exits 69" 69 "$rc"
t_check "failing open is logged with exit code and output" \
    log_has "$out" funnel_open_failed '.exit_code == 3 and (.output | contains("told to fail open"))'
t_check "failing open: no funnel_opened line" not log_has "$out" funnel_opened
t_check "failing open: check line says off, not ok" log_has "$out" gate_check '.funnel == "off" and .ok == false'
rm -f "$GATE_TS_DIR/fail" "$GATE_TS_DIR/fail_code"

# A failing status read: exit non-zero, state reported unknown, nothing opened.
echo status >"$GATE_TS_DIR/fail"
before=$(changes)
gate --rise 1
t_eq "failing status exits 69" 69 "$rc"
t_check "failing status is logged" log_has "$out" funnel_status_failed '.exit_code == 1'
t_check "failing status: funnel unknown, nothing opened" log_has "$out" gate_check '.funnel == "unknown" and .action == "none"'
t_eq "failing status: no open attempted" "$before" "$(changes)"
rm -f "$GATE_TS_DIR/fail"

gate --rise 1
t_check "healthy again: opens" funnel_is_on

# A failing close: the funnel stays on and the gate says so.
webhook_stop
echo close >"$GATE_TS_DIR/fail"
gate
t_eq "failing close exits 69" 69 "$rc"
t_check "failing close is logged with its output" \
    log_has "$out" funnel_close_failed '(.output | contains("told to fail close"))'
t_check "failing close: no funnel_closed line" not log_has "$out" funnel_closed
t_check "failing close: check line says on" log_has "$out" gate_check '.funnel == "on" and .ok == false'

# A failing close whose read-back fails too: the close's own failure is
# logged like any other (its command, exit code and output), not "already
# off", and the state is unknown.
echo all >"$GATE_TS_DIR/fail"
gate
t_eq "failing close and status exits 69" 69 "$rc"
t_check "failing close and status: close failure logged with its command and output" \
    log_has "$out" funnel_close_failed '.command == "tailscale funnel --https=8443 off" and .exit_code == 1 and (.output | contains("told to fail close"))'
t_check "failing close and status: read-back failure logged" log_has "$out" funnel_status_failed
t_check "failing close and status: not taken for already off" not log_has "$out" funnel_already_off
t_check "failing close and status: no funnel_closed line" not log_has "$out" funnel_closed
t_check "failing close and status: check line says unknown" \
    log_has "$out" gate_check '.funnel == "unknown" and .action == "close" and .ok == false'
t_check "failing close and status: the funnel is still on" funnel_is_on
rm -f "$GATE_TS_DIR/fail"

# A command that succeeds but changes nothing is not a transition.
touch "$GATE_TS_DIR/ignore"
gate
t_eq "close that changes nothing exits 69" 69 "$rc"
t_check "mismatch logged" log_has "$out" funnel_state_mismatch '.wanted == "off" and .actual == "on"'
t_check "mismatch: no funnel_closed line" not log_has "$out" funnel_closed
rm -f "$GATE_TS_DIR/ignore"

# `funnel --https=N off` failing while the funnel reads back off is "already off".
touch "$GATE_TS_DIR/close_then_fail"
gate
t_eq "close exiting 1 with the funnel gone exits 0" 0 "$rc"
t_check "already off is logged" log_has "$out" funnel_already_off '.exit_code == 1'
t_check "and the transition is logged" log_has "$out" funnel_closed
rm -f "$GATE_TS_DIR/close_then_fail"

# A hanging tailscale is cut at the deadline and reported.
webhook_start
touch "$GATE_TS_DIR/hang"
gate --rise 1 --command-timeout 300
t_eq "hanging tailscale exits 69" 69 "$rc"
t_check "hanging tailscale is logged as timed out" log_has "$out" funnel_status_failed '.timed_out == true'
rm -f "$GATE_TS_DIR/hang"

# A missing tailscale is a failure too.
HUB_TAILSCALE=/nonexistent/tailscale gate --rise 1
t_eq "missing tailscale exits 69" 69 "$rc"
t_check "missing tailscale: funnel unknown" log_has "$out" gate_check '.funnel == "unknown"'

# --unit: the webhook's unit must be active too (systemctl stand-in).
echo failed >"$GATE_TS_DIR/unit.hub-webhook.socket"
gate --rise 1 --unit hub-webhook.socket
t_check "inactive unit is unhealthy" log_has "$out" gate_check '.healthy == false and .reason == "unit_inactive" and .detail == "failed"'
t_check "inactive unit: closed" not funnel_is_on
echo active >"$GATE_TS_DIR/unit.hub-webhook.socket"
gate --rise 1 --unit hub-webhook.socket
t_check "active unit and healthy endpoint: opens" funnel_is_on

# --dry-run reads, prints, changes nothing (state file included).
webhook_stop
cp "$state/gate.state" "$GATE_TS_DIR/state.before"
before=$(changes)
gate --dry-run
t_eq "dry run exits 0" 0 "$rc"
t_check "dry run says it would close" log_has "$out" dry_run '.would == "close"'
t_check "dry run leaves the funnel on" funnel_is_on
t_eq "dry run runs no change" "$before" "$(changes)"
t_check "dry run leaves the state file" cmp -s "$GATE_TS_DIR/state.before" "$state/gate.state"

# Configuration errors.
HUB_GATE_STATE_DIR="" STATE_DIRECTORY="" gate
t_eq "no state directory in timer mode exits 78" 78 "$rc"
gate --rise 0
t_eq "--rise 0 is a usage error" 64 "$rc"

# A corrupt state file starts over closed (fail closed), with a warning.
echo 'not json' >"$state/gate.state"
gate
t_check "corrupt state is reported" log_has "$out" state_invalid
t_check "corrupt state starts over: streak 0 then this failure" \
    log_has "$out" gate_check '.failed_streak == 1 and .wanted == "closed"'
t_check "and the funnel is closed" not funnel_is_on

t_done
