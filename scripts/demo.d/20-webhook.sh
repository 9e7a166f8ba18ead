# 20-webhook.sh (sourced by scripts/demo.sh): hub-webhook on loopback, one
# signed GitHub push sent with curl, and the trigger it handed to hub-gitops.
demo_say "hub-webhook: a signed GitHub push over loopback becomes a trigger"
wh_dir=$DEMO_DIR/webhook
mkdir -p "$wh_dir/repos" "$wh_dir/triggers" "$wh_dir/state"
printf 'CHECKOUT=%s/checkout\nGITHUB=hub-test/infra\nBRANCH=main\n' "$wh_dir" > "$wh_dir/repos/infra.conf"
wh_secret="demo-secret-$$"
printf '%s\n' "$wh_secret" > "$wh_dir/secret"
wh_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HUB_GITHUB_WEBHOOK_SECRET_FILE=$wh_dir/secret "$HUB_BUILD/bin/hub-webhook" \
    --listen "127.0.0.1:$wh_port" --repos-dir "$wh_dir/repos" \
    --trigger-dir "$wh_dir/triggers" --state-dir "$wh_dir/state" > "$wh_dir/hub-webhook.log" 2>&1 &
wh_pid=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$wh_port") 2>/dev/null && break
    sleep 0.05
done
wh_body=$HUB_TOP/test/fixtures/github/push.json
wh_sig="sha256=$(openssl dgst -sha256 -hmac "$wh_secret" -r < "$wh_body" | cut -d' ' -f1)"
echo "\$ curl -X POST http://127.0.0.1:$wh_port/hooks/github -H 'X-GitHub-Event: push' -H 'X-Hub-Signature-256: ${wh_sig:0:20}...' --data-binary @push.json"
curl -s -w '\n(HTTP %{http_code})\n' -X POST -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: $(cat /proc/sys/kernel/random/uuid)" \
    -H "X-Hub-Signature-256: $wh_sig" --data-binary @"$wh_body" "http://127.0.0.1:$wh_port/hooks/github"
echo "The same push with a forged signature:"
curl -s -w '\n(HTTP %{http_code})\n' -X POST -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: $(cat /proc/sys/kernel/random/uuid)" \
    -H "X-Hub-Signature-256: sha256=$(printf '%064d' 0)" --data-binary @"$wh_body" "http://127.0.0.1:$wh_port/hooks/github"
echo "The trigger it left for hub-gitops ($wh_dir/triggers/infra.json):"
cat "$wh_dir/triggers/infra.json"
echo "Its log lines:"
sleep 0.3
grep '"msg":"http_request"' "$wh_dir/hub-webhook.log"
kill -TERM "$wh_pid"
wait "$wh_pid" || true
