#!/bin/bash
# gitops_apply.sh: the APPLY step: runs only when HEAD moved, in the
# checkout, with HUB_REPO/HUB_OLD_REV/HUB_NEW_REV; its exit code decides the
# outcome (failure and timeout: exit 70); ROLLBACK=yes returns the checkout
# to the old revision and runs APPLY again; a run killed mid-APPLY leaves a
# pending record that makes the next run run APPLY again for the same move
# (a record for a move that never happened runs nothing; a rollback cut
# short has its tree put forward first); the run's row lands in
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

# --- killed mid-APPLY: APPLY runs at least once per move
# killer FLAG: an APPLY that records its revisions and, on its first call
# (FLAG absent), SIGKILLs the hub-gitops running it, so the run dies after
# the refs moved and before APPLY finished. killed_sync: a sync whose pid
# the subshell writes before it execs hub-gitops (no race with APPLY).
killer() {
    printf '%s' "APPLY=echo \"\$HUB_OLD_REV \$HUB_NEW_REV\" >>$log.k; if [ ! -e $1 ]; then : >$1; kill -9 \$(cat $base/pid); fi"
}
killed_sync() {
    (echo "$BASHPID" >"$base/pid" && exec hub-gitops sync demo) >"$base/killed.out" 2>&1
    GX_RC=$?
}
applies() { paste -sd'|' "$log.k"; }
logged() { printf '%s\n' "$GX_OUT" | grep -c "\"msg\":\"$1\""; }
pending=state/demo.pending

fresh "$(killer "$base/killed1")"
rm -f "$log.k"
old=$(gx_head)
new=$(gx_push)
killed_sync
t_eq "killed mid-APPLY: the run died of SIGKILL" 137 "$GX_RC"
t_eq "killed mid-APPLY: HEAD moved" "$new" "$(gx_head)"
t_eq "killed mid-APPLY: no summary line" 0 "$(grep -c '"msg":"gitops_sync"' "$base/killed.out")"
t_check "killed mid-APPLY: a pending record" test -s "$GX_ROOT/$pending"
gx_sync demo
gx_rc "next run: exit 0" 0
t_eq "next run: logged as resumed" 1 "$(logged gitops_apply_resumed)"
t_eq "next run: APPLY ran again for the same move" "$old $new|$old $new" "$(applies)"
t_check "next run: the record is gone" test ! -e "$GX_ROOT/$pending"
gx_sync demo
gx_rc "third run: exit 0" 0
t_eq "third run: a no-op" noop "$(gx_outcome)"
t_eq "third run: APPLY did not run" "$old $new|$old $new" "$(applies)"
lost "killed mid-APPLY"

# --- killed, then the resumed APPLY fails: exit 70, and it is not retried
fresh "$(killer "$base/killed2"); exit 4"
rm -f "$log.k"
old=$(gx_head)
new=$(gx_push)
killed_sync
gx_sync demo
gx_rc "resumed APPLY fails: exit 70" 70
t_eq "resumed APPLY fails: outcome apply_failed" apply_failed "$(gx_outcome)"
t_eq "resumed APPLY fails: its exit code recorded" 4 \
    "$(printf '%s\n' "$GX_OUT" | grep '"msg":"gitops_sync"' | jq .apply_exit_code)"
t_eq "resumed APPLY fails: HEAD stays at the new revision" "$new" "$(gx_head)"
t_check "resumed APPLY fails: the record is gone" test ! -e "$GX_ROOT/$pending"
gx_sync demo
gx_rc "resumed APPLY fails: the next run exits 0" 0
t_eq "resumed APPLY fails: the next run does not run APPLY" "$old $new|$old $new" "$(applies)"
lost "resumed APPLY fails"

# --- killed, then the resumed APPLY fails with ROLLBACK=yes: rolled back
fresh "$(killer "$base/killed3"); test \"\$HUB_NEW_REV\" != \"\$(cat $base/bad3)\"" ROLLBACK=yes
rm -f "$log.k"
old=$(gx_head)
bad=$(gx_push)
echo "$bad" >"$base/bad3"
killed_sync
gx_sync demo
gx_rc "resumed APPLY rolls back: exit 70" 70
t_eq "resumed APPLY rolls back: outcome rolled_back" rolled_back "$(gx_outcome)"
t_eq "resumed APPLY rolls back: HEAD back at the old revision" "$old" "$(gx_head)"
t_eq "resumed APPLY rolls back: still on main" main "$(git -C "$GX_ROOT/co" symbolic-ref --short HEAD)"
t_eq "resumed APPLY rolls back: tree clean" "" "$(git -C "$GX_ROOT/co" status --porcelain -uno)"
t_eq "resumed APPLY rolls back: APPLY ran, again, then back" "$old $bad|$old $bad|$bad $old" "$(applies)"
lost "resumed APPLY rolls back"

# --- twins: a record for a move that never happened (old = HEAD), one for a
# HEAD moved by hand, and an unreadable one: dropped, APPLY not run for them
fresh "APPLY=echo \"\$HUB_OLD_REV \$HUB_NEW_REV\" >>$log.k"
rm -f "$log.k"
head=$(gx_head)
other=1111111111111111111111111111111111111111
# record OLD NEW: what a run moving main from OLD to NEW writes before it moves
record() {
    printf '{"repo":"demo","old":"%s","new":"%s","head_ref":"refs/heads/main","branch_ref":"refs/heads/main","branch_old":"%s"}\n' \
        "$1" "$2" "$1" >"$GX_ROOT/$pending"
}
record "$head" "$other"
gx_sync demo
gx_rc "move never happened: exit 0" 0
t_eq "move never happened: a no-op" noop "$(gx_outcome)"
t_eq "move never happened: not resumed" 0 "$(logged gitops_apply_resumed)"
t_eq "move never happened: dropped as such" "INFO" \
    "$(printf '%s\n' "$GX_OUT" | grep '"msg":"gitops_apply_pending_dropped"' | jq -r .level)"
t_check "move never happened: APPLY did not run" test ! -e "$log.k"
t_check "move never happened: the record is gone" test ! -e "$GX_ROOT/$pending"
record "$other" 2222222222222222222222222222222222222222
gx_sync demo
gx_rc "HEAD moved by hand: exit 0" 0
t_eq "HEAD moved by hand: dropped with a warning" WARN \
    "$(printf '%s\n' "$GX_OUT" | grep '"msg":"gitops_apply_pending_dropped"' | jq -r .level)"
t_check "HEAD moved by hand: APPLY did not run" test ! -e "$log.k"
t_check "HEAD moved by hand: the record is gone" test ! -e "$GX_ROOT/$pending"
printf '{"repo":"demo","old":"%s"' "$head" >"$GX_ROOT/$pending"
gx_sync demo
gx_rc "unreadable record: exit 0" 0
t_eq "unreadable record: warned" 1 "$(logged gitops_apply_pending_invalid)"
t_check "unreadable record: APPLY did not run" test ! -e "$log.k"
t_check "unreadable record: the record is gone" test ! -e "$GX_ROOT/$pending"
lost "pending twins"

# --- a rollback cut short: APPLY failed, the rollback's read-tree put the
# tree back at the old revision, and the run died before the refs followed
# (HEAD at new, tree at old, the record still there). The next run puts the
# tree forward and runs the owed APPLY; with a local change on top it
# touches nothing (75) and keeps the record until the change is gone.
fresh "APPLY=echo \"\$HUB_OLD_REV \$HUB_NEW_REV\" >>$log.k" ROLLBACK=yes
old=$(gx_head)
new=$(gx_push d1/rollback.txt)
gx_sync demo
rm -f "$log.k"
co() { git -C "$GX_ROOT/co" "$@"; }
record "$old" "$new"
co read-tree -u -m "$new" "$old"
echo local >>"$GX_ROOT/co/README"
gx_sync demo
gx_rc "rollback cut short, plus a local change: exit 75" 75
t_eq "... outcome skipped_dirty" skipped_dirty "$(gx_outcome)"
t_eq "... the local change untouched" local "$(tail -n 1 "$GX_ROOT/co/README")"
t_check "... the tree still at the old revision" test ! -e "$GX_ROOT/co/d1/rollback.txt"
t_check "... APPLY did not run" test ! -e "$log.k"
t_check "... the record kept" test -s "$GX_ROOT/$pending"
co checkout -q -- README
gx_sync demo
gx_rc "rollback cut short: exit 0" 0
t_eq "rollback cut short: logged" 1 "$(logged gitops_rollback_undone)"
t_eq "rollback cut short: the owed APPLY ran" "$old $new" "$(applies)"
t_eq "rollback cut short: HEAD at new" "$new" "$(gx_head)"
t_check "rollback cut short: the tree at new" test -e "$GX_ROOT/co/d1/rollback.txt"
t_eq "rollback cut short: tree clean" "" "$(co status --porcelain -uno)"
t_check "rollback cut short: the record is gone" test ! -e "$GX_ROOT/$pending"
lost "rollback cut short"

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
