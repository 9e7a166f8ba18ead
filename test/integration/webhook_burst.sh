#!/bin/bash
# webhook_burst.sh: per repository at most one hand-over runs and one
# waits. 50 concurrent pushes to one repo cause at most 2 runs of --exec,
# and the last `after` is the one handed over last; with trigger files the
# one file left holds the last `after`. A failed hand-over forgets its
# GUID, so GitHub's redelivery triggers again. The answers never wait for
# the hand-over.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/github/harness.bash"
t_need curl openssl jq

wh_setup
F=$WH_FIX
# The recorder: appends its argv and stdin, then holds until released, so
# the burst arrives while the first run is still running -- whatever the
# machine's speed.
cat > "$WH_DIR/record.sh" <<EOF
#!/bin/bash
line=\$(cat)
echo "\$* \$line" >> "$WH_DIR/runs"
for i in \$(seq 1 400); do [ -e "$WH_DIR/release" ] && break; sleep 0.05; done
case "\$line" in *dead*) exit 3 ;; esac
exit 0
EOF
chmod +x "$WH_DIR/record.sh"
wh_start --exec "$WH_DIR/record.sh sync --event -"

sha() { printf '%040x' "$1"; }
for i in $(seq 1 50); do wh_with_after "$F/push.json" "$(sha "$i")" "$WH_DIR/push.$i.json"; done
burst() {
    local i pids=()
    for i in $(seq 1 49); do
        wh_post "$WH_DIR/push.$i.json" push "$(printf 'b0000000-0000-0000-0000-%012d' "$i")" &
        pids+=($!)
    done
    wait "${pids[@]}"
    wh_post "$WH_DIR/push.50.json" push "b0000000-0000-0000-0000-000000000050"
}
burst
t_eq "the 50th push of a burst -> 202 while the first hand-over still runs" 202 "$WH_CODE"
n_answers=$(grep -c '"outcome":"triggered"' "$WH_DIR/log")
t_eq "all 50 pushes answered triggered" 50 "$n_answers"
touch "$WH_DIR/release"
for i in $(seq 1 200); do
    [ "$(grep -c '"msg":"trigger_exec_done"' "$WH_DIR/log")" -ge "$(wc -l < "$WH_DIR/runs")" ] && break
    sleep 0.05
done
runs=$(wc -l < "$WH_DIR/runs")
t_check "50 concurrent pushes -> at most 2 hand-overs (got $runs)" test "$runs" -le 2
t_eq "the last hand-over carries the last after" "$(sha 50)" \
    "$(tail -1 "$WH_DIR/runs" | sed 's/^[^{]*//' | jq -r .after)"
t_eq "argv is the --exec words then NAME" "sync --event - infra" "$(tail -1 "$WH_DIR/runs" | sed 's/ {.*//')"
t_check "coalesced triggers are counted" test "$(wh_metric 'hub_webhook_triggers_total{result="coalesced"}')" -ge 47

# A failing hand-over: the GUID is forgotten, so a redelivery triggers again.
rm -f "$WH_DIR/runs"
jq -c '.after = "dead000000000000000000000000000000000000" | .head_commit.message = "dead"' \
    "$F/push.json" > "$WH_DIR/dead.json"
sed -i 's/dead000000000000000000000000000000000000/deadbeef0000000000000000000000000000dead/' "$WH_DIR/dead.json"
wh_post "$WH_DIR/dead.json" push c0000000-0000-0000-0000-000000000001
t_eq "a push whose hand-over will fail -> 202" 202 "$WH_CODE"
for i in $(seq 1 100); do
    [ "$(wh_metric 'hub_webhook_triggers_total{result="failed"}')" = 1 ] && break
    sleep 0.1
done
t_eq "... the failure is counted" 1 "$(wh_metric 'hub_webhook_triggers_total{result="failed"}')"
t_check "... and logged with the exit code" grep -q '"msg":"trigger_exec_failed".*"exit_code":3' "$WH_DIR/log"
wh_post "$WH_DIR/dead.json" push c0000000-0000-0000-0000-000000000001
t_eq "GitHub's redelivery of the failed GUID triggers again (202, not duplicate)" \
    "202 triggered" "$WH_CODE $(jq -r .status "$WH_DIR/body")"
wh_stop

# Trigger files: the burst leaves one file, holding the last after.
wh_start
burst
t_eq "trigger files: one file after 50 pushes" 1 "$(wh_triggers)"
t_eq "... holding the last after" "$(sha 50)" "$(jq -r .after "$WH_DIR/triggers/infra.json")"
n=$(wh_metric 'hub_webhook_triggers_total{result="coalesced"}')
t_check "... and replacements are counted as coalesced ($n)" test "$n" -ge 49
wh_stop
t_done
