# 30-gitops.sh (sourced by scripts/demo.sh): hub-gitops keeps a checkout at
# its remote. A demo repository with a bare remote, a new commit pushed to
# it, a signed GitHub push sent to hub-webhook (which hands the trigger to
# `hub-gitops sync --event -`; without hub-webhook, a direct sync), the sync
# it caused with its APPLY step, `hub-gitops status`, and the gitops_runs
# row. Runs in a subshell so its HUB_* settings stay out of other parts.
(
set -euo pipefail
. "$HUB_TOP/test/fixtures/gitops/repo.sh"
demo_say "hub-gitops: a demo repository with a bare remote, a push, the sync it causes"
root=$DEMO_DIR/gitops
gx_setup "$root" >/dev/null 2>&1
gx_conf site GITHUB=hub-test/infra BRANCH=main \
    "APPLY=echo \"deployed \$HUB_NEW_REV\" >\"$root/deployed.txt\"; echo applied \$HUB_OLD_REV..\$HUB_NEW_REV"
echo "repos.d/site.conf:"
sed 's/^/   /' "$root/repos.d/site.conf"
echo "checkout at $(gx_head | cut -c1-12); pushing a new commit to the bare remote..."
after=$(gx_push index.html "<h1>hello from the demo</h1>")
echo "remote main is now $(echo "$after" | cut -c1-12)"
summary() { grep -o '{[^{}]*gitops_sync[^{}]*}' "$1" | sed 's/\\"/"/g' | tail -n 1 |
    jq -c '{repo, old: .old[0:12], new: .new[0:12], commits, outcome, duration_ms, trigger, delivery}'; }

if [ -x "$HUB_BUILD/bin/hub-webhook" ]; then
    export HUB_GITHUB_WEBHOOK_SECRET=demo-secret
    port=18185
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    PATH=$HUB_BUILD/bin:$PATH "$HUB_BUILD/bin/hub-webhook" --listen "127.0.0.1:$port" \
        --state-dir "$root/webhook-state" --exec "hub-gitops sync --event -" >"$root/webhook.log" 2>&1 &
    webhook=$!
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.05
    done
    echo "-- signed push (X-Hub-Signature-256, HMAC of the body) to hub-webhook on 127.0.0.1:$port:"
    start=${EPOCHREALTIME/./}
    echo "   $(gx_post "$port" "$after" "demo-$(date +%s)" "$HUB_GITHUB_WEBHOOK_SECRET")"
    gx_wait_head "$after" 15 || echo "   (the checkout did not reach $after: see $root/webhook.log)"
    echo "   checkout reached after in $(( (${EPOCHREALTIME/./} - start) / 1000 )) ms"
    sleep 0.2
    kill "$webhook" 2>/dev/null || true
    wait "$webhook" 2>/dev/null || true
    echo "-- the sync it caused (hub-gitops' summary line, from hub-webhook's log):"
    summary "$root/webhook.log" | sed 's/^/   /'
else
    echo "-- hub-webhook is not built: syncing directly"
    PATH=$HUB_BUILD/bin:$PATH hub-gitops sync site >"$root/sync.log" 2>&1 || true
    summary "$root/sync.log" | sed 's/^/   /'
fi
echo "-- APPLY wrote: $(cat "$root/deployed.txt" 2>/dev/null || echo nothing)"
echo "-- hub-gitops status:"
"$HUB_BUILD/bin/hub-gitops" status | sed 's/^/   /'
echo "-- gitops_runs:"
psql -X -q -P pager=off -c "SELECT repo, trigger, left(old_rev, 12) AS old, left(new_rev, 12) AS new,
    commits, outcome, apply_exit, duration_ms, delivery FROM gitops_runs ORDER BY id" "$HUB_PG_DSN"
) || echo "gitops demo part failed (exit $?)"
