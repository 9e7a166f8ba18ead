#!/bin/bash
# gitops_webhook_e2e.sh: end to end. hub-webhook on loopback hands signed
# pushes to hub-gitops, (1) with --exec "hub-gitops sync --event -" and (2)
# through a trigger directory consumed by `hub-gitops trigger-dir` (what
# hub-gitops.path runs; here a small loop stands in for systemd). A signed
# push after a new commit lands in the bare remote brings the checkout to
# `after`; a badly signed one moves nothing; a burst of 20 pushes ends on
# the last one.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/gitops/repo.sh"
# No database here: gitops_runs rows are gitops_apply.sh's business.
unset PGHOST PGDATABASE PGSERVICE HUB_PG_DSN
t_need git jq curl openssl
if [ ! -x "$HUB_BUILD/bin/hub-webhook" ]; then
    t_fail "needs hub-webhook" "build/bin/hub-webhook is missing: this test drives the real one"
    t_done
fi

export HUB_GITHUB_WEBHOOK_SECRET="e2e-secret-$$"
base=$(t_tmpdir)

# scenario MODE: one webhook, one checkout, the whole story.
scenario() {
    local mode=$1 port root=$base/$1 args=() resp new i last consumer=
    gx_setup "$root" >/dev/null 2>&1 || { t_fail "$mode: set up repository"; return; }
    gx_conf demo GITHUB=hub-test/infra BRANCH=main
    port=$(t_port)
    if [ "$mode" = exec ]; then
        args=(--exec "hub-gitops sync --event -")
    else
        mkdir -p "$root/triggers"
        args=(--trigger-dir "$root/triggers")
        # stands in for hub-gitops.path: run the consumer while files exist
        ( while :; do
              compgen -G "$root/triggers/*.json" >/dev/null && hub-gitops trigger-dir "$root/triggers"
              sleep 0.02
          done ) >>"$root/consumer.log" 2>&1 &
        consumer=$!
        _t_pids+=("$consumer")
    fi
    t_spawn hub-webhook --listen "127.0.0.1:$port" --state-dir "$root/wh-state" "${args[@]}" \
        >>"$root/webhook.log" 2>&1
    t_wait_port "$port" || { t_fail "$mode: hub-webhook listens" "$(tail -5 "$root/webhook.log")"; return; }

    new=$(gx_push)
    resp=$(gx_post "$port" "$new" "e2e-$mode-1" "$HUB_GITHUB_WEBHOOK_SECRET")
    t_eq "$mode: signed push accepted" 202 "${resp##* }"
    t_check "$mode: checkout reaches after" gx_wait_head "$new"

    before=$new
    new=$(gx_push)
    resp=$(gx_post "$port" "$new" "e2e-$mode-bad" "not-the-secret")
    t_eq "$mode: badly signed push refused" 401 "${resp##* }"
    sleep 0.5
    t_eq "$mode: badly signed push moved nothing" "$before" "$(gx_head)"

    for i in $(seq 1 20); do
        last=$(gx_push "d$i/burst.txt")
        gx_post "$port" "$last" "e2e-$mode-burst-$i" "$HUB_GITHUB_WEBHOOK_SECRET" >/dev/null
    done
    t_check "$mode: a burst of 20 pushes ends on the last" gx_wait_head "$last" 30
    sleep 0.3
    t_eq "$mode: and stays there" "$last" "$(gx_head)"
    t_eq "$mode: tree clean" "" "$(git -C "$GX_ROOT/co" status --porcelain -uno)"
    if [ "$mode" = dir ]; then
        kill "$consumer" 2>/dev/null
        wait "$consumer" 2>/dev/null
        t_eq "$mode: trigger directory drained" "" "$(ls "$root/triggers" | grep '\.json$')"
        logs=$root/consumer.log
    else
        logs=$root/webhook.log     # hub-webhook logs the --exec run's output
    fi
    t_check "$mode: hub-gitops ran and logged its summary" grep -q 'gitops_sync' "$logs"
    kill "$T_PID" 2>/dev/null
    wait "$T_PID" 2>/dev/null
}

scenario exec
scenario dir
t_done
