#!/bin/bash
# gitops_apply.sh: the APPLY step: runs only when HEAD moved, in the
# checkout, with HUB_REPO/HUB_OLD_REV/HUB_NEW_REV; its exit code decides the
# outcome (failure and timeout: exit 70); ROLLBACK=yes returns the checkout
# to the old revision and runs APPLY again; the run's row lands in
# gitops_runs, and a database that is down never fails a sync. After every
# scenario every local branch and unpushed commit is still there.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/gitops/repo.sh"
t_need git jq

base=$(t_tmpdir)
n=0
# fresh [KEY=VALUE...]: a new remote + checkout, configured as "demo", with
# a local branch holding an unpushed commit (HEAD stays on main), snapshotted
# for gx_nothing_lost.
fresh() {
    n=$((n + 1))
    gx_setup "$base/$n" >/dev/null 2>&1 || { t_fail "set up repository $n"; t_done; }
    gx_conf demo "$@"
    {
        git -C "$GX_ROOT/co" checkout -q -b keep &&
            echo "unpushed" >"$GX_ROOT/co/keep.txt" &&
            git -C "$GX_ROOT/co" add keep.txt &&
            git -C "$GX_ROOT/co" commit -q -m "unpushed work" &&
            git -C "$GX_ROOT/co" checkout -q main
    } || { t_fail "set up local branch $n"; t_done; }
    gx_snapshot
}
lost() { t_check "$1: nothing lost" gx_nothing_lost; }
log=$base/apply.log

# --- success: environment and working directory
fresh "APPLY=echo \"\$HUB_REPO \$HUB_OLD_REV \$HUB_NEW_REV \$(pwd)\" >>$log"
old=$(gx_head)
gx_sync demo
gx_rc "no move: exit 0" 0
t_check "no move: APPLY did not run" test ! -e "$log"
new=$(gx_push)
gx_sync demo
gx_rc "apply success: exit 0" 0
t_eq "apply success: APPLY saw repo, old, new, cwd" "demo $old $new $GX_ROOT/co" "$(cat "$log")"
t_eq "apply success: exit code in the summary" 0 "$(printf '%s\n' "$GX_OUT" | grep gitops_sync | jq .apply_exit_code)"
t_check "apply success: output logged" grep -q '"msg":"gitops_apply_done"' <<<"$GX_OUT"
lost "apply success"

# --- failure: exit 70, the checkout stays at the new revision (no rollback)
fresh 'APPLY=echo "apply says no"; exit 3'
new=$(gx_push)
gx_sync demo
gx_rc "apply failure: exit 70" 70
t_eq "apply failure: outcome apply_failed" apply_failed "$(gx_outcome)"
t_eq "apply failure: apply exit code recorded" 3 "$(printf '%s\n' "$GX_OUT" | grep gitops_sync | jq .apply_exit_code)"
t_eq "apply failure: output logged" "apply says no" \
    "$(printf '%s\n' "$GX_OUT" | grep gitops_apply_failed | jq -r .output | head -n 1)"
t_eq "apply failure: HEAD stays at the new revision" "$new" "$(gx_head)"
t_eq "apply failure: state file says apply_failed" apply_failed \
    "$(hub-gitops status --json demo | jq -r '.[0].last_outcome')"
lost "apply failure"

# --- timeout: killed at APPLY_TIMEOUT, exit 70
fresh 'APPLY=sleep 30' APPLY_TIMEOUT=1
gx_push >/dev/null
start=$(date +%s)
gx_sync demo
took=$(( $(date +%s) - start ))
gx_rc "apply timeout: exit 70" 70
t_check "apply timeout: logged as timed out" jq -s -e 'map(select(.msg == "gitops_apply_failed")) | .[0].timed_out' <<<"$GX_OUT"
t_check "apply timeout: killed, not waited for (${took}s)" test "$took" -lt 20
lost "apply timeout"

# --- rollback: back to the old revision, APPLY run again on it
fresh "APPLY=echo \"\$HUB_OLD_REV>\$HUB_NEW_REV\" >>$log.rb; test \"\$HUB_NEW_REV\" != \"\$(cat $base/bad)\"" ROLLBACK=yes
old=$(gx_head)
bad=$(gx_push)
echo "$bad" >"$base/bad"
gx_sync demo
gx_rc "rollback: exit 70" 70
t_eq "rollback: outcome rolled_back" rolled_back "$(gx_outcome)"
t_eq "rollback: HEAD back at the old revision" "$old" "$(gx_head)"
t_eq "rollback: main back at the old revision" "$old" "$(git -C "$GX_ROOT/co" rev-parse main)"
t_eq "rollback: working tree back" "$(git -C "$GX_ROOT/co" show "$old:README")" "$(cat "$GX_ROOT/co/README")"
t_eq "rollback: tree clean" "" "$(git -C "$GX_ROOT/co" status --porcelain -uno)"
t_eq "rollback: APPLY ran forward then back" "$old>$bad $bad>$old" "$(tr '\n' ' ' <"$log.rb" | sed 's/ $//')"
lost "rollback"
good=$(gx_push)
gx_sync demo
gx_rc "after rollback, a good revision: exit 0" 0
t_eq "after rollback, a good revision: HEAD = remote" "$good" "$(gx_head)"
lost "after rollback"

# --- gitops_runs rows
export HUB_PG_DSN
HUB_PG_DSN=$(t_newdb gitops_apply) || { t_fail "create database"; t_done; }
fresh 'APPLY=true'
gx_push >/dev/null
gx_sync demo
gx_rc "row: sync exit 0" 0
t_eq "row written" "demo|synced|1|0|manual|main" \
    "$(t_sql "$HUB_PG_DSN" "SELECT repo, outcome, commits, apply_exit, trigger, branch FROM gitops_runs")"
t_eq "row: revisions" "$(gx_head)" "$(t_sql "$HUB_PG_DSN" "SELECT new_rev FROM gitops_runs")"
lost "row"
printf '{"repo":"demo","delivery":"abc-123","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}\n' |
    hub-gitops sync --event - demo >/dev/null 2>&1
t_eq "row from a trigger: delivery and trace id" "noop|event|abc-123|0af7651916cd43dd8448eb211c80319c" \
    "$(t_sql "$HUB_PG_DSN" "SELECT outcome, trigger, delivery, trace_id FROM gitops_runs ORDER BY id DESC LIMIT 1")"
HUB_PG_DSN="host=/nonexistent dbname=none" gx_sync demo
gx_rc "database down: sync still exit 0" 0
t_check "database down: said so" grep -q gitops_runs_not_recorded <<<"$GX_OUT"
gx_push >/dev/null
HUB_PG_DSN="host=/nonexistent dbname=none" gx_sync demo
t_eq "database down: a move still happens" "$(gx_remote_head)" "$(gx_head)"
lost "database down"
unset HUB_PG_DSN
t_done
