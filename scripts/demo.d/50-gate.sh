# 50-gate.sh (sourced by scripts/demo.sh): hub-gate follows hub-webhook's
# health. The Tailscale CLI is the recording stand-in from the tests, so no
# funnel is touched: first a --dry-run, then real runs against the stand-in
# while the webhook is up, then down.
demo_say "hub-gate: the funnel follows the webhook's health (tailscale stand-in)"
gate_dir=$DEMO_DIR/gate
mkdir -p "$gate_dir/ts" "$gate_dir/state"
gate_port=18085
while (exec 3<>"/dev/tcp/127.0.0.1/$gate_port") 2>/dev/null; do
    gate_port=$((gate_port + 1))
done
HUB_GITHUB_WEBHOOK_SECRET=demo-secret HUB_REPOS_DIR=$gate_dir \
    HUB_WEBHOOK_STATE_DIR=$gate_dir "$HUB_BUILD/bin/hub-webhook" \
    --listen "127.0.0.1:$gate_port" >"$gate_dir/webhook.log" 2>&1 &
gate_webhook=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$gate_port") 2>/dev/null && break
    sleep 0.05
done
gate() {
    GATE_TS_DIR=$gate_dir/ts PATH="$HUB_TOP/test/fixtures/gate:$PATH" \
        HUB_GATE_URL="http://127.0.0.1:$gate_port/health" HUB_GATE_STATE_DIR=$gate_dir/state \
        "$HUB_BUILD/bin/hub-gate" "$@" | tee -a "$gate_dir/gate.log" |
        jq -c '{msg, healthy, funnel, action, would, reason}
               | with_entries(select(.value != null))' || true
}
echo "-- webhook up, --dry-run --rise 1:"
gate --dry-run --rise 1
echo "-- webhook up, two checks (rise 2):"
gate
gate
echo "-- webhook stopped, one check (fall 1):"
kill "$gate_webhook" 2>/dev/null || true
wait "$gate_webhook" 2>/dev/null || true
gate
echo "-- the stand-in's record of tailscale calls:"
sed 's/^/   tailscale /' "$gate_dir/ts/calls"
