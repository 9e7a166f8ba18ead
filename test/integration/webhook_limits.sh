#!/bin/bash
# webhook_limits.sh: the limits hold before any work: a 30 MiB
# Content-Length is answered 413 without the body being read (RSS grows by
# less than 1 MiB), a chunked body past the cap is cut off just past the cap
# with no answer (and counted, and triggers nothing), oversized
# headers are refused, a slow client is dropped at the timeout while other
# requests are served, a client trickling its body (never idle long enough
# for the idle timeout) is dropped at the body deadline, and the
# per-address and global connection limits hold.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/github/harness.bash"
t_need curl openssl jq

hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
health() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$WH_PORT/health"; }

wh_setup
wh_start --timeout 2 --body-timeout 3 --max-per-ip 4 --max-body 1048576
F=$WH_FIX

# Warm up: a few requests so the pools exist before we measure.
for i in 1 2 3; do wh_post "$F/push_other_branch.json" push "00000000-0000-0000-0000-00000000000$i"; done
big=$WH_DIR/big.bin
head -c $((30 * 1024 * 1024)) /dev/zero > "$big"
before_hwm=$(hwm_kb "$WH_PID")
before_rss=$(rss_kb "$WH_PID")
WH_SIG=sha256=$(printf '%064d' 0) wh_post "$big" push 00000000-0000-0000-0000-000000000100
t_eq "30 MiB Content-Length -> 413" 413 "$WH_CODE"
after_hwm=$(hwm_kb "$WH_PID")
after_rss=$(rss_kb "$WH_PID")
t_check "... peak RSS grew by less than 1 MiB ($before_hwm -> $after_hwm kB)" \
    test $((after_hwm - before_hwm)) -lt 1024
t_check "... RSS grew by less than 1 MiB ($before_rss -> $after_rss kB)" \
    test $((after_rss - before_rss)) -lt 1024
t_eq "... counted as too_large" 1 "$(wh_metric 'hub_webhook_deliveries_total{event="push",outcome="too_large"}')"
# The 413 is decided from the header alone: an unsigned 30 MiB request
# gets the same answer without a byte of its body being buffered.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: 00000000-0000-0000-0000-000000000101' \
    -H 'Expect: 100-continue' --data-binary @"$big" "$WH_URL")
t_eq "30 MiB with Expect: 100-continue -> 413 before the body is sent" 413 "$code"

# Chunked: no Content-Length to refuse up front. The body is read up to the
# cap (1 MiB here), then the connection is closed without an answer:
# libmicrohttpd cannot queue a response while it reads a body (respond() in
# routes.c). The server carries on. The bodies are a real push, signed,
# padded with JSON whitespace: the one under the cap triggers, so the one
# past it would too, were the cap not enforced. "Expect:" stops curl from
# asking for a 100 Continue, so any status line would be a real answer.
# pad_push SRC BYTES OUT: SRC followed by BYTES spaces.
pad_push() {
    { cat "$1"; head -c "$2" /dev/zero | tr '\0' ' '; } > "$3"
}
# chunked_post FILE GUID: post FILE signed and chunked; returns curl's exit
# status (wh_post's last command is the assignment from curl).
chunked_post() {
    rm -f "$WH_DIR/headers" "$WH_DIR/body"
    WH_SIG=$(wh_sign "$1") wh_post "$1" push "$2" -H 'Transfer-Encoding: chunked' -H 'Expect:' \
        -D "$WH_DIR/headers" --max-time 30
}
# request_log GUID JQ: a field of the server's http_request line for GUID.
request_log() {
    jq -r --arg d "$1" "select(.msg == \"http_request\" and .delivery == \$d) | $2" "$WH_DIR/log"
}
wh_clear_triggers
wh_with_after "$F/push.json" c000000000000000000000000000000000000001 "$WH_DIR/under.json"
pad_push "$WH_DIR/under.json" $((1024 * 1024 - 16384)) "$WH_DIR/under.pad"
chunked_post "$WH_DIR/under.pad" 00000000-0000-0000-0000-000000000107
t_eq "a signed chunked push padded to just under the cap -> 202 triggered" "202 triggered" \
    "$WH_CODE $(jq -r .status "$WH_DIR/body" 2>&1)"
t_wait_file "$WH_DIR/triggers/infra.json" 5
t_eq "... its trigger is written" c000000000000000000000000000000000000001 \
    "$(jq -r .after "$WH_DIR/triggers/infra.json" 2>&1)"
wh_clear_triggers
handed=$(wh_metric 'hub_webhook_triggers_total{result="handed_over"}')
too_large=$(wh_metric 'hub_webhook_deliveries_total{event="push",outcome="too_large"}')
pad_push "$F/push.json" $((16 * 1024 * 1024)) "$WH_DIR/sixteen.bin"
before_hwm=$(hwm_kb "$WH_PID")
chunked_post "$WH_DIR/sixteen.bin" 00000000-0000-0000-0000-000000000102
rc=$?
t_eq "16 MiB signed chunked push past a 1 MiB cap: no answer at all (code, header bytes)" \
    "000 0" "$WH_CODE $(cat "$WH_DIR/headers" 2>/dev/null | wc -c)"
t_check "... the connection is cut mid-upload (curl exit $rc: 55 send or 56 receive failure)" \
    test "$rc" = 55 -o "$rc" = 56
for i in $(seq 1 40); do
    [ -n "$(request_log 00000000-0000-0000-0000-000000000102 .status)" ] && break
    sleep 0.05
done
t_eq "... logged: status 0, too_large, the reason" "0 too_large body larger than the cap" \
    "$(request_log 00000000-0000-0000-0000-000000000102 '"\(.status) \(.outcome) \(.reason)"')"
bytes_in=$(request_log 00000000-0000-0000-0000-000000000102 .bytes_in)
t_check "... cut just past the cap, not at the end: read $bytes_in bytes (1 MiB < n <= 1 MiB + 64 KiB)" \
    test "${bytes_in:-0}" -gt 1048576 -a "${bytes_in:-0}" -le $((1048576 + 65536))
t_eq "... counted as too_large in /metrics" $((too_large + 1)) \
    "$(wh_metric 'hub_webhook_deliveries_total{event="push",outcome="too_large"}')"
t_eq "... nothing triggered (trigger files, handed_over)" "0 $handed" \
    "$(wh_triggers) $(wh_metric 'hub_webhook_triggers_total{result="handed_over"}')"
after_hwm=$(hwm_kb "$WH_PID")
# 4 MiB leaves room for the sanitizers' redzones; buffering the whole
# body would take 16.
t_check "... peak RSS grew by less than 4 MiB ($before_hwm -> $after_hwm kB)" \
    test $((after_hwm - before_hwm)) -lt 4096
t_eq "... and the server still answers" 200 "$(health)"
WH_SIG=sha256=$(printf '%064d' 0) WH_CT=text/plain wh_post "$WH_DIR/sixteen.bin" push 00000000-0000-0000-0000-000000000103
t_eq "oversized body with a wrong content type -> 415 first" 415 "$WH_CODE"

# Headers past the per-connection memory (16 KiB by default).
long=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Long: $long" "http://127.0.0.1:$WH_PORT/health")
t_check "40 kB of headers -> refused with a 4xx (got $code)" bash -c "[ '$code' -ge 400 ] && [ '$code' -lt 500 ]"
t_eq "... and the server still answers" 200 "$(health)"

# Slow clients: one stops in the middle of its headers, one after its
# headers with the body promised. Both are dropped at the 2 s timeout;
# meanwhile other requests are served.
exec 8<>"/dev/tcp/127.0.0.1/$WH_PORT"
printf 'POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty' >&8
exec 3<>"/dev/tcp/127.0.0.1/$WH_PORT"
printf 'POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: 00000000-0000-0000-0000-000000000105\r\nX-Hub-Signature-256: sha256=%064d\r\nContent-Length: 100\r\n\r\n{"ref":' 0 >&3
t_eq "while a slow client holds a connection, /health answers" 200 "$(health)"
wh_post "$F/push.json" push 00000000-0000-0000-0000-000000000104
t_eq "... and a signed push is served (202)" 202 "$WH_CODE"
# Generous bound: the point is that the server closes it, not how fast.
for fd in 8 3; do
    if timeout 20 cat <&$fd >/dev/null; then
        t_ok "slow client $fd is disconnected by the server"
    else
        t_fail "slow client $fd is disconnected by the server" "still open after 20 s"
    fi
    eval "exec $fd<&-"
done
t_check "... the body-stalled one is logged as aborted" \
    grep -q '"delivery":"00000000-0000-0000-0000-000000000105".*"outcome":"aborted"' "$WH_DIR/log"

# A trickle: one body byte a second, never idle for the 2 s idle timeout.
# The body deadline (3 s after the headers) drops it; without one it would
# hold its connection for as long as it kept trickling (15 s here).
exec 9<>"/dev/tcp/127.0.0.1/$WH_PORT"
printf 'POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: 00000000-0000-0000-0000-000000000106\r\nX-Hub-Signature-256: sha256=%064d\r\nContent-Length: 100\r\n\r\n{' 0 >&9
( for _ in $(seq 1 15); do sleep 1; printf ' ' >&9 2>/dev/null || exit 0; done ) &
trickler=$!
t0=$(date +%s%N)
timeout 30 cat <&9 >/dev/null
held_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill "$trickler" 2>/dev/null; wait "$trickler" 2>/dev/null
exec 9<&-
t_check "a trickling client is dropped at the body deadline (held ${held_ms} ms, < 8000)" \
    test "$held_ms" -lt 8000
t_check "... logged as aborted with the reason" \
    grep -q '"delivery":"00000000-0000-0000-0000-000000000106".*"outcome":"aborted".*"reason":"body not complete within --body-timeout"' "$WH_DIR/log"

# Per-address limit (4): hold four connections open, the fifth is refused.
for fd in 4 5 6 7; do
    eval "exec $fd<>/dev/tcp/127.0.0.1/$WH_PORT"
done
sleep 0.2
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$WH_PORT/health")
t_check "a fifth connection from one address is refused (got $code)" test "$code" = 000
for fd in 4 5 6 7; do eval "exec $fd<&-"; done
ok=0
for i in $(seq 1 50); do [ "$(health)" = 200 ] && { ok=1; break; }; sleep 0.1; done
t_eq "... and served again once they close" 1 "$ok"
wh_stop

# Global limit (3), with a per-address limit (8) that does not bite: every
# client here is 127.0.0.1. At the limit libmicrohttpd stops accepting, so
# a new connection waits in the kernel's backlog, unanswered, until a slot
# frees.
wh_start --max-connections 3 --max-per-ip 8
for fd in 4 5; do
    eval "exec $fd<>/dev/tcp/127.0.0.1/$WH_PORT"
done
sleep 0.2
t_eq "holding 2 of 3 connections: /metrics counts them and itself" 3 \
    "$(wh_metric hub_webhook_open_connections)"
exec 6<>"/dev/tcp/127.0.0.1/$WH_PORT"
sleep 0.2
curl -s -o "$WH_DIR/waiting" -w '%{http_code}' --max-time 15 "http://127.0.0.1:$WH_PORT/health" \
    > "$WH_DIR/waiting.code" &
waiter=$!
sleep 1.5
if kill -0 "$waiter" 2>/dev/null && [ ! -s "$WH_DIR/waiting" ]; then
    t_ok "holding all 3: a fourth connection is not served (no answer after 1.5 s)"
else
    t_fail "holding all 3: a fourth connection is not served (no answer after 1.5 s)" \
        "answered: $(cat "$WH_DIR/waiting.code") $(cat "$WH_DIR/waiting")"
fi
exec 4<&-
wait "$waiter"
t_eq "... and served (200) once one of the three closes" 200 "$(cat "$WH_DIR/waiting.code")"
for fd in 5 6; do eval "exec $fd<&-"; done
wh_stop
t_done
