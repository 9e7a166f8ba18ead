#!/bin/bash
# webhook_http.sh: hub-webhook's answers over loopback with curl and real
# GitHub payloads: what triggers (exactly one trigger file), what is
# ignored (202, no trigger), what is refused (401/400/404/405/415), replays,
# form bodies, secret rotation, the routes beside the hook, and the log.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/github/harness.bash"
t_need curl openssl jq

wh_setup
# Rotation: the old and the new secret, one a line; both must verify.
WH_SECRET_NEW="new-secret-$$"
WH_SECRET_EXTRA=$WH_SECRET_NEW wh_start
F=$WH_FIX

# --- what triggers ---------------------------------------------------------
wh_post "$F/push.json" push 00000000-0000-0000-0000-000000000001
t_eq "push to the tracked branch -> 202" 202 "$WH_CODE"
t_eq "... answer says triggered for infra" "triggered infra" "$(jq -r '.status + " " + .repo' "$WH_DIR/body")"
t_eq "... exactly one trigger file" 1 "$(wh_triggers)"
trig=$WH_DIR/triggers/infra.json
t_eq "... trigger names repo, ref, after, delivery, event" \
    "infra refs/heads/main 8f2d6c4b1a0e9f7d3c5b2a1e8d7c6b5a4f3e2d1c 00000000-0000-0000-0000-000000000001 push" \
    "$(jq -r '[.repo, .ref, .after, .delivery, .event] | join(" ")' "$trig" 2>&1)"
t_check "... trigger carries a W3C traceparent" \
    grep -Eq '"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"' "$trig"
t_eq "... trigger is one newline-terminated line" 1 "$(wc -l < "$trig")"
t_check "... no temporary file left beside it" test "$(ls -A "$WH_DIR/triggers")" = infra.json

wh_clear_triggers
wh_post "$F/pull_request_merged.json" pull_request 00000000-0000-0000-0000-000000000002
t_eq "merged pull request into main -> 202" 202 "$WH_CODE"
t_eq "... triggers with the merge commit on refs/heads/main" \
    "refs/heads/main 3e1f5a7c9b2d4f6e8a0c1b3d5f7e9a2c4b6d8f0e pull_request" \
    "$(jq -r '[.ref, .after, .event] | join(" ")' "$trig" 2>&1)"

# --- what is ignored: 202 with a reason, and no trigger --------------------
ignored() {
    local name=$1 file=$2 event=$3 want=$4
    wh_clear_triggers
    wh_post "$file" "$event" "00000000-0000-0000-0000-0000000000$5"
    t_eq "$name -> 202 ignored: $want" "202 ignored $want" \
        "$WH_CODE $(jq -r '.status + " " + .reason' "$WH_DIR/body")"
    t_eq "$name -> no trigger" 0 "$(wh_triggers)"
}
ignored "push to another branch" "$F/push_other_branch.json" push "branch not tracked" 10
ignored "branch deletion" "$F/push_delete.json" push "branch deleted" 11
ignored "push to an unlisted repository" "$F/push_unlisted.json" push "repository not allowlisted" 12
ignored "pull request closed without merge" "$F/pull_request_closed_unmerged.json" pull_request \
    "pull request closed without merge" 13
ignored "pull request opened" "$F/pull_request_opened.json" pull_request "pull request not closed" 14
ignored "an event we do not handle" "$F/push.json" issues "event not handled" 15

# --- ping -----------------------------------------------------------------------
wh_post "$F/ping.json" ping 00000000-0000-0000-0000-000000000020
t_eq "signed ping -> 200 with the zen" "200 pong Keep it logically awesome." \
    "$WH_CODE $(jq -r '.status + " " + .zen' "$WH_DIR/body")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: ping' -H 'X-GitHub-Delivery: 00000000-0000-0000-0000-000000000021' \
    --data-binary @"$F/ping.json" "$WH_URL")
t_eq "unsigned ping -> 401" 401 "$code"
# The longest zen kept (255 bytes), all control characters: the reply body
# is printed into a fixed buffer, and this is its worst case (6 bytes each).
python3 -c 'import json; print(json.dumps({"zen": "\u0001" * 255, "hook_id": 1}))' > "$WH_DIR/zen255.json"
python3 -c 'import json; print(json.dumps({"zen": "z" * 256, "hook_id": 1}))' > "$WH_DIR/zen256.json"
wh_post "$WH_DIR/zen255.json" ping 00000000-0000-0000-0000-000000000022
t_eq "ping with a 255-byte zen of control characters -> 200, zen echoed whole" "200 255 true" \
    "$WH_CODE $(jq -r '.zen | length' "$WH_DIR/body") $(jq -r '.zen == ("\u0001" * 255)' "$WH_DIR/body")"
wh_post "$WH_DIR/zen256.json" ping 00000000-0000-0000-0000-000000000023
t_eq "ping with a 256-byte zen -> 200, zen left out as too long" "200 pong" \
    "$WH_CODE $(jq -r '.status + .zen' "$WH_DIR/body")"

# --- signatures -------------------------------------------------------------------
wh_clear_triggers
WH_SIG=$(wh_sign "$F/push.json" wrong-secret) wh_post "$F/push.json" push 00000000-0000-0000-0000-000000000030
t_eq "push signed with a wrong secret -> 401" 401 "$WH_CODE"
t_eq "... no trigger" 0 "$(wh_triggers)"
WH_SIG=none wh_post "$F/push.json" push 00000000-0000-0000-0000-000000000031
t_eq "push without a signature -> 401" 401 "$WH_CODE"
WH_SIG=none wh_post "$F/push.json" push 00000000-0000-0000-0000-000000000032 \
    -H "X-Hub-Signature: sha1=$(openssl dgst -sha1 -hmac "$WH_SECRET" -r < "$F/push.json" | cut -d' ' -f1)"
t_eq "push with only a SHA-1 signature -> 401" 401 "$WH_CODE"
printf '{"ref": ' > "$WH_DIR/broken.json"
WH_SIG=sha256=$(printf '%064d' 0) wh_post "$WH_DIR/broken.json" push 00000000-0000-0000-0000-000000000033
t_eq "malformed JSON with a wrong signature -> 401 (never parsed)" 401 "$WH_CODE"
WH_SIG=$(wh_sign "$F/push.json" "$WH_SECRET_NEW") wh_post "$F/push.json" push 00000000-0000-0000-0000-000000000034
t_eq "push signed with the second (rotated-in) secret -> 202" 202 "$WH_CODE"
t_eq "... and it triggered" 1 "$(wh_triggers)"

# --- bad bodies ---------------------------------------------------------------------
wh_post "$WH_DIR/broken.json" push 00000000-0000-0000-0000-000000000040
t_eq "malformed JSON with a valid signature -> 400" 400 "$WH_CODE"
printf '{"ref": "refs/heads/main"} trailing' > "$WH_DIR/trailing.json"
wh_post "$WH_DIR/trailing.json" push 00000000-0000-0000-0000-000000000041
t_eq "JSON with trailing junk -> 400" 400 "$WH_CODE"
WH_CT=text/plain wh_post "$F/push.json" push 00000000-0000-0000-0000-000000000042
t_eq "text/plain body -> 415" 415 "$WH_CODE"
wh_post "$F/push.json" none 00000000-0000-0000-0000-000000000043
t_eq "no X-GitHub-Event -> 400" 400 "$WH_CODE"
wh_post "$F/push.json" push '../../etc/passwd'
t_eq "a GUID that is not a GUID -> 400" 400 "$WH_CODE"

# --- form-encoded bodies (payload=) ---------------------------------------------------
wh_clear_triggers
form=$WH_DIR/form.txt
printf 'payload=%s' "$(jq -sRr @uri < "$F/push.json")" > "$form"
WH_CT=application/x-www-form-urlencoded wh_post "$form" push 00000000-0000-0000-0000-000000000050
t_eq "form-encoded push (signature over the raw form body) -> 202" 202 "$WH_CODE"
t_eq "... triggered with the decoded payload's after" 8f2d6c4b1a0e9f7d3c5b2a1e8d7c6b5a4f3e2d1c \
    "$(jq -r .after "$WH_DIR/triggers/infra.json" 2>&1)"
printf 'other=1' > "$WH_DIR/noform.txt"
WH_CT=application/x-www-form-urlencoded wh_post "$WH_DIR/noform.txt" push 00000000-0000-0000-0000-000000000051
t_eq "form body without payload= -> 400" 400 "$WH_CODE"

# --- replays ---------------------------------------------------------------------------
wh_clear_triggers
wh_post "$F/push.json" push 00000000-0000-0000-0000-000000000001
t_eq "a GUID that already triggered -> 200" 200 "$WH_CODE"
t_eq "... answered duplicate" duplicate "$(jq -r .status "$WH_DIR/body")"
t_eq "... and nothing triggered" 0 "$(wh_triggers)"
wh_post "$F/push_other_branch.json" push 00000000-0000-0000-0000-000000000010
t_eq "an ignored GUID sent again is ignored again (202)" 202 "$WH_CODE"

# --- the other routes ---------------------------------------------------------------------
hdrs=$(curl -s -D - -o /dev/null "$WH_URL")
t_check "GET on the hook -> 405" grep -q '^HTTP/1.1 405' <<<"$hdrs"
t_check "... with Allow: POST" grep -qi '^Allow: POST' <<<"$hdrs"
t_eq "unknown path -> 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WH_PORT/hooks/gitlab")"
t_eq "POST /health -> 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$WH_PORT/health")"
health=$(curl -s "http://127.0.0.1:$WH_PORT/health")
t_eq "/health -> status ok, version, uptime_s" "ok 0.1.0 number" \
    "$(jq -r '[.status, .version, (.uptime_s | type)] | join(" ")' <<<"$health" 2>&1)"
t_eq "/api/health is the same" ok "$(curl -s "http://127.0.0.1:$WH_PORT/api/health" | jq -r .status)"
WH_URL_SAVED=$WH_URL
WH_URL=http://127.0.0.1:$WH_PORT/api/webhook/gitops
wh_post "$F/push_other_branch.json" push 00000000-0000-0000-0000-000000000060
t_eq "POST /api/webhook/gitops (the Go system's path) -> 202" 202 "$WH_CODE"
WH_URL=$WH_URL_SAVED
t_eq "/metrics counts triggered pushes" 3 "$(wh_metric 'hub_webhook_deliveries_total{event="push",outcome="triggered"}')"
t_check "/metrics counts signature failures" test "$(wh_metric hub_webhook_signature_failures_total)" -ge 4
t_check "/metrics has the duration histogram" test "$(wh_metric 'hub_webhook_request_duration_seconds_bucket{le="+Inf"}')" -ge 20
t_check "/metrics counts 405s on the hook" test "$(wh_metric 'hub_webhook_requests_total{route="/hooks/github",code="405"}')" -ge 1

# --- the log ------------------------------------------------------------------------------
line=$(grep '"delivery":"00000000-0000-0000-0000-000000000002"' "$WH_DIR/log" | grep http_request)
t_eq "one log line per request, with the fields" \
    "POST /hooks/github 202 pull_request infra triggered 127.0.0.1 true true" \
    "$(jq -r '[.method, .path, .status, .event, .repo, .outcome, .remote, (.bytes > 0), (.duration_us >= 0)] | map(tostring) | join(" ")' <<<"$line" 2>&1)"
t_check "every log line is JSON" jq -e . "$WH_DIR/log"
t_check "the secret is never logged" bash -c "! grep -qF -e '$WH_SECRET' -e '$WH_SECRET_NEW' '$WH_DIR/log'"
t_check "no body is logged" bash -c "! grep -q 'logically awesome' '$WH_DIR/log'"

# --- GitHub's documented test vector ------------------------------------------------------
wh_stop
WH_SECRET="It's a Secret to Everybody"
wh_start
printf 'Hello, World!' > "$WH_DIR/hello.txt"
vector=sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
t_eq "openssl agrees with GitHub's test vector" "$vector" "$(wh_sign "$WH_DIR/hello.txt")"
WH_SIG=$vector wh_post "$WH_DIR/hello.txt" push 00000000-0000-0000-0000-000000000070
t_eq "test vector verifies (then 400: 'Hello, World!' is not JSON)" 400 "$WH_CODE"
WH_SIG=${vector%?}f wh_post "$WH_DIR/hello.txt" push 00000000-0000-0000-0000-000000000071
t_eq "test vector with one digit changed -> 401" 401 "$WH_CODE"
wh_stop
t_done
