#!/bin/bash
# webhook_observe.sh: what hub-webhook tells the platform. A loopback OTLP
# receiver (test/tools/otlp-sink) records one span per delivery, joined to
# the incoming traceparent, and the trigger carries the span's context so
# hub-gitops' span becomes its child; a collector that is down costs spans
# (counted), never answers. With HUB_PG_DSN each delivery becomes a
# webhook_deliveries row; a database that is down changes no answer.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/github/harness.bash"
t_need curl openssl jq psql

wh_setup
F=$WH_FIX
sink_port=$(t_port)
spans=$WH_DIR/spans.jsonl
t_spawn otlp-sink "$sink_port" "$spans" 2>>"$WH_DIR/sink.log"
t_wait_port "$sink_port" || { t_fail "otlp-sink listens"; t_done; }
dsn=$(t_newdb webhook_observe)

HUB_OTLP_ENDPOINT=http://127.0.0.1:$sink_port HUB_PG_DSN=$dsn wh_start
tid=4bf92f3577b34da6a3ce929d0e0e4736
parent=00f067aa0ba902b7
wh_post "$F/push.json" push f0000000-0000-0000-0000-000000000001 \
    -H "traceparent: 00-$tid-$parent-01"
t_eq "traced push -> 202" 202 "$WH_CODE"
wh_post "$F/push_other_branch.json" push f0000000-0000-0000-0000-000000000002
WH_SIG=sha256=$(printf '%064d' 0) wh_post "$F/push.json" push f0000000-0000-0000-0000-000000000003
t_eq "badly signed push -> 401" 401 "$WH_CODE"

# The exporter batches for up to half a second; wait (bounded) for 3 spans.
for i in $(seq 1 100); do
    [ "$(jq -s '[.[].resourceSpans[].scopeSpans[].spans[]] | length' "$spans" 2>/dev/null)" = 3 ] && break
    sleep 0.1
done
span() { jq -c --arg g "$1" '.resourceSpans[].scopeSpans[].spans[] | select(any(.attributes[]; .key == "github.delivery" and .value.stringValue == $g))' "$spans"; }
s1=$(span f0000000-0000-0000-0000-000000000001)
t_eq "the OTLP sink recorded the delivery's span" webhook.delivery "$(jq -r .name <<<"$s1" 2>&1)"
t_eq "... in the incoming trace, as a child of the incoming span" "$tid $parent 2" \
    "$(jq -r '[.traceId, .parentSpanId, .kind] | map(tostring) | join(" ")' <<<"$s1" 2>&1)"
t_eq "... with the outcome, repo and status" "triggered infra 202" \
    "$(jq -r '[(.attributes[] | select(.key == "hub.outcome") | .value.stringValue),
               (.attributes[] | select(.key == "hub.repo") | .value.stringValue),
               (.attributes[] | select(.key == "http.response.status_code") | .value.intValue)] | join(" ")' <<<"$s1" 2>&1)"
t_check "... from service hub-webhook" grep -q '"key":"service.name","value":{"stringValue":"hub-webhook"}' "$spans"
sid=$(jq -r .spanId <<<"$s1")
t_eq "the trigger carries the span's context (hub-gitops joins the trace)" "00-$tid-$sid-01" \
    "$(jq -r .traceparent "$WH_DIR/triggers/infra.json" 2>&1)"
s3=$(span f0000000-0000-0000-0000-000000000003)
t_eq "the refused delivery has its own span, in a new trace" "unauthorized false" \
    "$(jq -r '[(.attributes[] | select(.key == "hub.outcome") | .value.stringValue), (.traceId == "'"$tid"'")] | map(tostring) | join(" ")' <<<"$s3" 2>&1)"

# webhook_deliveries, written off the request path.
for i in $(seq 1 100); do
    [ "$(t_sql "$dsn" 'SELECT count(*) FROM webhook_deliveries')" = 3 ] && break
    sleep 0.1
done
t_eq "one webhook_deliveries row per delivery" 3 "$(t_sql "$dsn" 'SELECT count(*) FROM webhook_deliveries')"
t_eq "... the triggered one" "push|infra|refs/heads/main|8f2d6c4b1a0e9f7d3c5b2a1e8d7c6b5a4f3e2d1c|202|triggered|127.0.0.1|$tid" \
    "$(t_sql "$dsn" "SELECT event, repo, ref, after_rev, status, outcome, remote_addr, trace_id FROM webhook_deliveries WHERE delivery = 'f0000000-0000-0000-0000-000000000001'")"
t_eq "... the ignored one, with its reason" "202|ignored|branch not tracked" \
    "$(t_sql "$dsn" "SELECT status, outcome, reason FROM webhook_deliveries WHERE delivery = 'f0000000-0000-0000-0000-000000000002'")"
t_eq "... the refused one" "401|unauthorized" \
    "$(t_sql "$dsn" "SELECT status, outcome FROM webhook_deliveries WHERE delivery = 'f0000000-0000-0000-0000-000000000003'")"
t_check "... with a duration" test "$(t_sql "$dsn" 'SELECT count(*) FROM webhook_deliveries WHERE duration_us >= 0')" = 3
wh_stop

# Collector and database down: the answers do not change.
dead_port=$(t_port)
HUB_OTLP_ENDPOINT=http://127.0.0.1:$dead_port HUB_PG_DSN="host=$WH_DIR/nowhere dbname=x connect_timeout=1" wh_start
wh_post "$F/push.json" push f0000000-0000-0000-0000-000000000010
t_eq "collector and database down: a signed push -> 202 all the same" 202 "$WH_CODE"
wh_post "$F/ping.json" ping f0000000-0000-0000-0000-000000000011
t_eq "... a ping -> 200" 200 "$WH_CODE"
for i in $(seq 1 60); do
    [ "$(wh_metric hub_webhook_spans_dropped_total)" -ge 2 ] && break
    sleep 0.1
done
t_check "... the spans are dropped and counted" test "$(wh_metric hub_webhook_spans_dropped_total)" -ge 2
t_check "... no row is written (they wait in the bounded queue or are dropped, counted)" \
    test "$(wh_metric hub_webhook_db_rows_written_total)" = 0
t_check "... the collector outage is logged once" test "$(grep -c '"msg":"trace_export_failed"' "$WH_DIR/log")" -le 2
wh_stop
t_done
