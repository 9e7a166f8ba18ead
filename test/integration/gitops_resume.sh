#!/bin/bash
# gitops_resume.sh: a move cut short after `read-tree -u -m` (index and
# working tree at the new commit, branch and HEAD still at the old one) is
# finished by the next sync, not skipped as "dirty" forever: on the branch,
# when the remote moved on meanwhile, and when the branch had moved but HEAD
# had not (a switch cut short). The rejecting twins: the same cut-short
# state plus a modified or staged tracked file, or a HEAD the target does
# not fast-forward, stays skipped (75) with nothing touched. The cut is
# made by hand with the same plumbing move.c runs.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/gitops/repo.sh"
# No database here: gitops_runs rows are gitops_apply.sh's business.
unset PGHOST PGDATABASE PGSERVICE HUB_PG_DSN
t_need git jq

base=$(t_tmpdir)
log=$base/apply.log
n=0
# fresh [KEY=VALUE...]: a new remote + checkout, configured as "demo" with
# an APPLY that records its revisions.
fresh() {
    n=$((n + 1))
    gx_setup "$base/$n" >/dev/null 2>&1 || { t_fail "set up repository $n"; t_done; }
    gx_conf demo "APPLY=echo \"\$HUB_OLD_REV \$HUB_NEW_REV\" >>$log" "$@"
    rm -f "$log"
}
co() { git -C "$GX_ROOT/co" "$@"; }
lost() { t_check "$1: nothing lost" gx_nothing_lost; }
# cut OLD NEW: what a sync killed right after its read-tree leaves behind
# (the remote's tip fetched, index and working tree moved, no ref moved).
cut() {
    co fetch -q origin && co read-tree -u -m "$1" "$2" ||
        { t_fail "cut a move short in repository $n"; t_done; }
}
logged() { printf '%s\n' "$GX_OUT" | grep -c "\"msg\":\"$1\""; }

# --- on the branch: the tree moved, the branch did not
fresh
gx_snapshot
old=$(gx_head)
new=$(gx_push d1/f1.txt)
cut "$old" "$new"
t_check "cut short: the checkout looks modified" test -n "$(co status --porcelain -uno)"
gx_sync demo
gx_rc "resumed: exit 0" 0
t_eq "resumed: outcome synced" synced "$(gx_outcome)"
t_eq "resumed: logged as resumed" 1 "$(logged gitops_move_resumed)"
t_eq "resumed: HEAD = remote" "$new" "$(gx_head)"
t_eq "resumed: branch = remote" "$new" "$(co rev-parse refs/heads/main)"
t_eq "resumed: still on main" main "$(co symbolic-ref --short HEAD)"
t_eq "resumed: tree clean" "" "$(co status --porcelain -uno)"
t_eq "resumed: APPLY ran from the old revision" "$old $new" "$(cat "$log" 2>/dev/null)"
lost "resumed"
gx_sync demo
t_eq "resumed: the next run is a no-op" noop "$(gx_outcome)"

# --- the remote moved on before the next run: resumed, then forwarded
fresh
gx_snapshot
old=$(gx_head)
mid=$(gx_push d1/f1.txt)
cut "$old" "$mid"
new=$(gx_push d2/f2.txt)
gx_sync demo
gx_rc "remote moved on: exit 0" 0
t_eq "remote moved on: logged as resumed" 1 "$(logged gitops_move_resumed)"
t_eq "remote moved on: HEAD = remote" "$new" "$(gx_head)"
t_eq "remote moved on: working tree at the remote" \
    "$(git -C "$GX_ROOT/up" show HEAD:d2/f2.txt)" "$(cat "$GX_ROOT/co/d2/f2.txt")"
t_eq "remote moved on: tree clean" "" "$(co status --porcelain -uno)"
t_eq "remote moved on: APPLY ran from the old revision" "$old $new" "$(cat "$log" 2>/dev/null)"
lost "remote moved on"

# --- a switch cut short after the branch moved: HEAD still on feature
fresh
co checkout -q -b feature
gx_snapshot
old=$(gx_head)
new=$(gx_push)
cut "$old" "$new"
co update-ref refs/heads/main "$new" "$old"
gx_sync demo
gx_rc "switch cut short: exit 0" 0
t_eq "switch cut short: outcome switched" switched "$(gx_outcome)"
t_eq "switch cut short: logged as resumed" 1 "$(logged gitops_move_resumed)"
t_eq "switch cut short: on main" main "$(co symbolic-ref --short HEAD)"
t_eq "switch cut short: HEAD = remote" "$new" "$(gx_head)"
t_eq "switch cut short: feature kept" "$old" "$(co rev-parse feature)"
t_eq "switch cut short: tree clean" "" "$(co status --porcelain -uno)"
lost "switch cut short"

# --- twin: cut short, plus a modified tracked file
fresh
gx_snapshot
old=$(gx_head)
new=$(gx_push d1/f1.txt)
cut "$old" "$new"
echo "local edit" >>"$GX_ROOT/co/README"
saved=$(cat "$GX_ROOT/co/README")
status=$(co status --porcelain -uno)
gx_sync demo
gx_rc "cut short + modified file: exit 75" 75
t_eq "cut short + modified file: outcome skipped_dirty" skipped_dirty "$(gx_outcome)"
t_eq "cut short + modified file: not resumed" 0 "$(logged gitops_move_resumed)"
t_eq "cut short + modified file: HEAD unchanged" "$old" "$(gx_head)"
t_eq "cut short + modified file: content unchanged" "$saved" "$(cat "$GX_ROOT/co/README")"
t_eq "cut short + modified file: status unchanged" "$status" "$(co status --porcelain -uno)"
t_check "cut short + modified file: APPLY did not run" test ! -e "$log"
lost "cut short + modified file"

# --- twin: cut short, plus a staged change
fresh
gx_snapshot
old=$(gx_head)
new=$(gx_push d1/f1.txt)
cut "$old" "$new"
echo "staged" >>"$GX_ROOT/co/d2/f2.txt"
co add d2/f2.txt
status=$(co status --porcelain -uno)
gx_sync demo
gx_rc "cut short + staged change: exit 75" 75
t_eq "cut short + staged change: HEAD unchanged" "$old" "$(gx_head)"
t_eq "cut short + staged change: still staged" "$status" "$(co status --porcelain -uno)"
t_eq "cut short + staged change: content unchanged" "$(printf 'file 2\nstaged')" \
    "$(cat "$GX_ROOT/co/d2/f2.txt")"
lost "cut short + staged change"

# --- twin: index and tree at the remote, but HEAD has a commit the remote
# lacks (a reset cut short): not a fast-forward, left alone even with
# ON_DIVERGE=reset
fresh ON_DIVERGE=reset
echo "unpushed" >"$GX_ROOT/co/local.txt"
co add local.txt && co commit -q -m "unpushed work"
local_tip=$(gx_head)
gx_snapshot
new=$(gx_push)
cut "$local_tip" "$new"
status=$(co status --porcelain -uno)
gx_sync demo
gx_rc "not a fast-forward: exit 75" 75
t_eq "not a fast-forward: HEAD unchanged" "$local_tip" "$(gx_head)"
t_eq "not a fast-forward: status unchanged" "$status" "$(co status --porcelain -uno)"
t_eq "not a fast-forward: no backup ref" "" "$(co for-each-ref refs/hub/backup/)"
lost "not a fast-forward"
t_done
