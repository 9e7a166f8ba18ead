#!/bin/bash
# gitops_trace.sh: the run's span. With HUB_OTLP_ENDPOINT set, a sync whose
# trigger carried a traceparent exports a span in that trace, child of the
# given span; without a traceparent the span starts its own trace; a
# collector that is down never fails a sync. End to end, hub-webhook's
# delivery span is the parent of hub-gitops' span.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/gitops/repo.sh"
unset PGHOST PGDATABASE PGSERVICE HUB_PG_DSN
t_need git jq curl openssl
[ -x "$HUB_BUILD/test/bin/otlp-sink" ] || { t_fail "needs otlp-sink (make build-tests)"; t_done; }

base=$(t_tmpdir)
gx_setup "$base/r" >/dev/null 2>&1 || { t_fail "set up repository"; t_done; }
gx_conf demo GITHUB=hub-test/infra BRANCH=main
sink_port=$(t_port)
t_spawn otlp-sink "$sink_port" "$base/spans.jsonl"
t_wait_port "$sink_port" || { t_fail "otlp-sink listens"; t_done; }
export HUB_OTLP_ENDPOINT=http://127.0.0.1:$sink_port

# spans NAME: every exported span called NAME, one compact JSON object a line.
spans() {
    jq -c --arg n "$1" '.resourceSpans[] | .resource as $r | .scopeSpans[].spans[]
        | select(.name == $n) | . + {service: ($r.attributes[] | select(.key == "service.name") | .value.stringValue)}' \
        "$base/spans.jsonl" 2>/dev/null
}
attr() { jq -r --arg k "$1" '.attributes[] | select(.key == $k) | .value | (.stringValue // .intValue)'; }

trace=4bf92f3577b34da6a3ce929d0e0e4736
parent=00f067aa0ba902b7
gx_push >/dev/null
printf '{"repo":"demo","delivery":"tr-1","traceparent":"00-%s-%s-01"}\n' "$trace" "$parent" |
    hub-gitops sync --event - demo >/dev/null 2>&1
t_eq "traced sync: exit 0" 0 "$?"
span=$(spans gitops.sync | tail -n 1)
t_eq "span joins the trigger's trace" "$trace" "$(jq -r .traceId <<<"$span")"
t_eq "span is the child of the trigger's span" "$parent" "$(jq -r .parentSpanId <<<"$span")"
t_eq "span names the service" hub-gitops "$(jq -r .service <<<"$span")"
t_eq "span carries the repo and outcome" "demo synced" "$(attr hub.repo <<<"$span") $(attr hub.outcome <<<"$span")"

hub-gitops sync demo >/dev/null 2>&1
span=$(spans gitops.sync | tail -n 1)
t_check "no traceparent: a trace of its own" test "$(jq -r .traceId <<<"$span")" != "$trace"
t_eq "no traceparent: no parent" "" "$(jq -r '.parentSpanId // ""' <<<"$span")"

gx_push >/dev/null
HUB_OTLP_ENDPOINT=http://127.0.0.1:$(t_port) gx_sync demo
gx_rc "collector down: sync still exit 0" 0
t_eq "collector down: HEAD = remote" "$(gx_remote_head)" "$(gx_head)"

# --- end to end: the webhook's delivery span is the parent
if [ -x "$HUB_BUILD/bin/hub-webhook" ]; then
    export HUB_GITHUB_WEBHOOK_SECRET="trace-secret-$$"
    port=$(t_port)
    t_spawn hub-webhook --listen "127.0.0.1:$port" --state-dir "$base/wh" \
        --exec "hub-gitops sync --event -" >"$base/webhook.log" 2>&1
    t_wait_port "$port" || { t_fail "hub-webhook listens"; t_done; }
    after=$(gx_push)
    gx_post "$port" "$after" "trace-e2e-1" "$HUB_GITHUB_WEBHOOK_SECRET" >/dev/null
    gx_wait_head "$after" || t_fail "webhook push synced"
    kill "$T_PID"; wait "$T_PID" 2>/dev/null     # flushes the webhook's spans
    for _ in $(seq 1 50); do
        [ -n "$(spans webhook.delivery)" ] && [ -n "$(spans gitops.sync | attr github.delivery | grep trace-e2e-1)" ] && break
        sleep 0.1
    done
    wh=$(spans webhook.delivery | tail -n 1)
    gs=$(spans gitops.sync | while read -r s; do [ "$(attr github.delivery <<<"$s")" = trace-e2e-1 ] && echo "$s"; done | tail -n 1)
    t_eq "end to end: one trace" "$(jq -r .traceId <<<"$wh")" "$(jq -r .traceId <<<"$gs")"
    t_eq "end to end: hub-gitops' span is the delivery's child" "$(jq -r .spanId <<<"$wh")" "$(jq -r .parentSpanId <<<"$gs")"
else
    t_fail "end to end: needs hub-webhook"
fi
t_done
