#!/bin/bash
# gitops_sync.sh: hub-gitops sync against real repositories with a local
# bare remote: no-op, fast-forward, dirty tracked files (on main and on
# another branch) skipped untouched, untracked files not blocking (but never
# overwritten), branch switch, diverged refuse and reset (backup ref), local
# commits ahead, trigger lines (stdin and files), bad names and
# configuration, status --json (data alone on stdout, log lines on stderr).
# After every scenario every local branch and unpushed commit is still there.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/gitops/repo.sh"
# No database here: gitops_runs rows are gitops_apply.sh's business.
unset PGHOST PGDATABASE PGSERVICE HUB_PG_DSN
t_need git jq

base=$(t_tmpdir)
n=0
# fresh [KEY=VALUE...]: a new remote + checkout, configured as "demo".
fresh() {
    n=$((n + 1))
    gx_setup "$base/$n" >/dev/null 2>&1 || { t_fail "set up repository $n"; t_done; }
    gx_conf demo "$@"
}
co() { git -C "$GX_ROOT/co" "$@"; }
lost() { t_check "$1: nothing lost" gx_nothing_lost; }

# --- no-op and fast-forward
fresh
before=$(gx_head)
gx_sync demo
gx_rc "no-op: exit 0" 0
t_eq "no-op: outcome noop" noop "$(gx_outcome)"
t_eq "no-op: HEAD unchanged" "$before" "$(gx_head)"
gx_snapshot
new=$(gx_push)
gx_sync demo
gx_rc "fast-forward: exit 0" 0
t_eq "fast-forward: outcome synced" synced "$(gx_outcome)"
t_eq "fast-forward: HEAD = remote" "$new" "$(gx_head)"
t_eq "fast-forward: working tree updated" "$(git -C "$GX_ROOT/up" show HEAD:README)" "$(cat "$GX_ROOT/co/README")"
t_eq "fast-forward: commits counted" 1 "$(printf '%s\n' "$GX_OUT" | grep gitops_sync | jq .commits)"
t_eq "fast-forward: still on main" main "$(co symbolic-ref --short HEAD)"
new=$(gx_push d1/f1.txt; gx_push d2/f2.txt)
new=$(echo "$new" | tail -n 1)
gx_sync demo
t_eq "two commits: HEAD = remote" "$new" "$(gx_head)"
t_eq "two commits: commits counted" 2 "$(printf '%s\n' "$GX_OUT" | grep gitops_sync | jq .commits)"
# hub-gitops reads HEAD and the remote-tracking ref from the files; refs
# that git gc or pack-refs moved into packed-refs read the same.
co pack-refs --all
t_check "pack-refs left no loose tracking ref" test ! -e "$GX_ROOT/co/.git/refs/remotes/origin/main"
gx_sync demo
t_eq "packed refs: no-op" "noop $new" "$(gx_outcome) $(gx_head)"
new=$(gx_push d3/f3.txt)
co pack-refs --all
gx_sync demo
t_eq "packed refs: fast-forward" "synced $new" "$(gx_outcome) $(gx_head)"
lost "fast-forward"

# --- dirty tracked file on main: skipped, content unchanged
fresh
gx_snapshot
echo "local edit" >>"$GX_ROOT/co/README"
saved=$(cat "$GX_ROOT/co/README")
before=$(gx_head)
gx_push d1/f1.txt >/dev/null
gx_sync demo
gx_rc "dirty on main: exit 75" 75
t_eq "dirty on main: outcome skipped_dirty" skipped_dirty "$(gx_outcome)"
t_eq "dirty on main: HEAD unchanged" "$before" "$(gx_head)"
t_eq "dirty on main: file content unchanged" "$saved" "$(cat "$GX_ROOT/co/README")"
co checkout -q -- README
gx_sync demo
gx_rc "clean again: exit 0 (twin)" 0
t_eq "clean again: HEAD = remote" "$(gx_remote_head)" "$(gx_head)"
# a staged change counts as local work too
echo "staged" >>"$GX_ROOT/co/d1/f1.txt"
co add d1/f1.txt
gx_push >/dev/null
gx_sync demo
gx_rc "staged change: exit 75" 75
t_eq "staged change: still staged" "M  d1/f1.txt" "$(co status --porcelain -uno)"
lost "dirty on main"

# --- dirty tracked file on another branch
fresh
co checkout -q -b feature
echo "feature work" >>"$GX_ROOT/co/README"
saved=$(cat "$GX_ROOT/co/README")
gx_snapshot
gx_push >/dev/null
gx_sync demo
gx_rc "dirty on feature: exit 75" 75
t_eq "dirty on feature: still on feature" feature "$(co symbolic-ref --short HEAD)"
t_eq "dirty on feature: file content unchanged" "$saved" "$(cat "$GX_ROOT/co/README")"
lost "dirty on feature"

# --- untracked files never block, and are never overwritten
fresh
gx_snapshot
echo "my notes" >"$GX_ROOT/co/notes.txt"
new=$(gx_push)
gx_sync demo
gx_rc "untracked file: exit 0" 0
t_eq "untracked file: HEAD = remote" "$new" "$(gx_head)"
t_eq "untracked file: kept" "my notes" "$(cat "$GX_ROOT/co/notes.txt")"
before=$(gx_head)
gx_push notes.txt "their notes" >/dev/null
gx_sync demo
gx_rc "untracked file in the way: exit 75" 75
t_eq "untracked file in the way: outcome blocked" blocked "$(gx_outcome)"
t_eq "untracked file in the way: content kept" "my notes" "$(cat "$GX_ROOT/co/notes.txt")"
t_eq "untracked file in the way: HEAD unchanged" "$before" "$(gx_head)"
t_eq "untracked file in the way: tree still clean" "" "$(co status --porcelain -uno)"
lost "untracked"

# --- branch switch (clean, on a feature branch with an unpushed commit)
fresh
co checkout -q -b feature
echo "feature" >"$GX_ROOT/co/feature.txt"
co add feature.txt && co commit -q -m "local feature work"
feature_tip=$(gx_head)
gx_snapshot
new=$(gx_push)
gx_sync demo
gx_rc "switch: exit 0" 0
t_eq "switch: outcome switched" switched "$(gx_outcome)"
t_eq "switch: on main" main "$(co symbolic-ref --short HEAD)"
t_eq "switch: HEAD = remote" "$new" "$(gx_head)"
t_eq "switch: feature branch kept at its commit" "$feature_tip" "$(co rev-parse feature)"
t_eq "switch: tree clean" "" "$(co status --porcelain -uno)"
lost "switch"
# detached HEAD and no local main: main is created at the remote
co checkout -q --detach
co branch -q -D main
new=$(gx_push)
gx_sync demo
gx_rc "no local main: exit 0" 0
t_eq "no local main: main created at the remote" "$new" "$(co rev-parse main)"
t_eq "no local main: on main" main "$(co symbolic-ref --short HEAD)"
t_eq "no local main: feature kept" "$feature_tip" "$(co rev-parse feature)"

# --- local commits ahead of the remote are left alone
fresh
echo "unpushed" >>"$GX_ROOT/co/README"
co commit -q -am "unpushed work"
local_tip=$(gx_head)
gx_snapshot
gx_sync demo
gx_rc "ahead: exit 0" 0
t_eq "ahead: outcome local_ahead" local_ahead "$(gx_outcome)"
t_eq "ahead: HEAD keeps the local commit" "$local_tip" "$(gx_head)"
lost "ahead"

# --- diverged: refuse (default)
fresh
echo "unpushed" >"$GX_ROOT/co/local.txt"
co add local.txt && co commit -q -m "unpushed work"
local_tip=$(gx_head)
gx_snapshot
remote_tip=$(gx_push)
gx_sync demo
gx_rc "diverged refuse: exit 65" 65
t_eq "diverged refuse: outcome diverged" diverged "$(gx_outcome)"
t_eq "diverged refuse: HEAD unchanged" "$local_tip" "$(gx_head)"
diverged_line=$(printf '%s\n' "$GX_OUT" | grep '"msg":"gitops_diverged"')
t_eq "diverged refuse: both revisions named" "$local_tip $remote_tip" \
    "$(printf '%s' "$diverged_line" | jq -r '.local + " " + .remote')"
lost "diverged refuse"

# --- diverged: reset keeps the old HEAD under refs/hub/backup/
gx_conf demo ON_DIVERGE=reset
gx_sync demo
gx_rc "diverged reset: exit 0" 0
t_eq "diverged reset: outcome reset" reset "$(gx_outcome)"
t_eq "diverged reset: HEAD = remote" "$remote_tip" "$(gx_head)"
backup=$(co for-each-ref --format='%(refname)' refs/hub/backup/)
t_check "diverged reset: one backup ref" test "$(echo "$backup" | grep -c .)" -eq 1
t_eq "diverged reset: backup points at the old HEAD" "$local_tip" "$(co rev-parse "$backup")"
t_eq "diverged reset: backup ref logged" "$backup" "$(printf '%s\n' "$GX_OUT" | grep gitops_sync | jq -r .backup)"
t_eq "diverged reset: local file gone with the old commit" "no" "$([ -e "$GX_ROOT/co/local.txt" ] && echo yes || echo no)"
lost "diverged reset"
# a second reset gets its own backup ref (a suffix when in the same second)
echo "again" >"$GX_ROOT/co/local2.txt"
co add local2.txt && co commit -q -m "more unpushed work"
second_tip=$(gx_head)
gx_push >/dev/null
gx_sync demo
gx_sync demo
t_eq "second reset: two backup refs" 2 "$(co for-each-ref refs/hub/backup/ | grep -c .)"
t_check "second reset: old tip kept" test -n "$(co for-each-ref --contains "$second_tip" refs/hub)"

# --- run from a git hook: GIT_DIR and friends point elsewhere, and are ignored
fresh
new=$(gx_push)
remote_before=$(gx_remote_head)
GIT_DIR=$GX_ROOT/remote.git GIT_WORK_TREE=$GX_ROOT/up gx_sync demo
gx_rc "under a hook's GIT_DIR: exit 0" 0
t_eq "under a hook's GIT_DIR: the checkout moved" "$new" "$(gx_head)"
t_eq "under a hook's GIT_DIR: the remote untouched" "$remote_before" "$(gx_remote_head)"

# --- triggers (--event)
fresh
gx_snapshot
new=$(gx_push)
ev() { printf '%s\n' "$1" | hub-gitops sync --event - "${@:2}" 2>&1; }
out=$(ev "{\"repo\":\"demo\",\"ref\":\"refs/heads/main\",\"after\":\"$new\",\"delivery\":\"d-1\",\"event\":\"push\"}" demo)
t_eq "event: exit 0" 0 "$?"
t_eq "event: HEAD = after" "$new" "$(gx_head)"
t_eq "event: summary names the delivery" "d-1 event" \
    "$(printf '%s\n' "$out" | grep gitops_sync | jq -r '.delivery + " " + .trigger')"
new2=$(gx_push)
ev '{"repo":"demo","ref":"refs/heads/other"}' demo >/dev/null
t_eq "event for another branch: exit 0" 0 "$?"
t_eq "event for another branch: HEAD unchanged" "$new" "$(gx_head)"
ev '{"repo":"demo"}' >/dev/null
t_eq "event without NAME: exit 0" 0 "$?"
t_eq "event without NAME: HEAD = remote" "$new2" "$(gx_head)"
ev '{"repo":"other"}' demo >/dev/null
t_eq "event naming another repo: exit 65" 65 "$?"
ev '{"repo":"demo"' demo >/dev/null
t_eq "malformed event: exit 65" 65 "$?"
ev '{"repo":"../etc"}' >/dev/null
t_eq "event with a bad name: exit 65" 65 "$?"
ev '{"repo":"demo","after":"not-a-sha"}' >/dev/null
t_eq "event with a bad after: exit 65" 65 "$?"
# --event FILE: a trigger file that cannot be read is bad input (65), like
# a malformed one; retrying the same command cannot help.
printf '{"repo":"demo"}\n' >"$GX_ROOT/trigger.json"
t_exit "event from a file: exit 0" 0 hub-gitops sync --event "$GX_ROOT/trigger.json"
t_exit "event from a missing file: exit 65" 65 hub-gitops sync --event "$GX_ROOT/no-such-trigger.json"
out=$(hub-gitops sync --event "$GX_ROOT/no-such-trigger.json" 2>&1)
t_check "event from a missing file: message names the file" \
    jq -s -e --arg f "$GX_ROOT/no-such-trigger.json" \
    'map(select(.msg == "gitops_trigger_unreadable" and .file == $f)) | length == 1' <<<"$out"
t_exit "event from a directory: exit 65" 65 hub-gitops sync --event "$GX_ROOT/repos.d"
lost "events"

# --- bad names and configuration: 78, nothing touched
t_exit "unknown NAME: exit 78" 78 hub-gitops sync nosuchrepo
t_exit "../etc refused: exit 78" 78 hub-gitops sync ../etc
t_exit "a/b refused: exit 78" 78 hub-gitops sync a/b
t_exit "empty name refused: exit 78" 78 hub-gitops sync ""
out=$(hub-gitops sync ../etc 2>&1)
t_check "../etc: message names the problem" grep -q repo_name_invalid <<<"$out"
gx_conf bad1 ON_DIVERGE=maybe
t_exit "bad ON_DIVERGE: exit 78" 78 hub-gitops sync bad1
out=$(hub-gitops sync bad1 2>&1)
t_check "bad ON_DIVERGE: message names the file" grep -q "$GX_ROOT/repos.d/bad1.conf" <<<"$out"
printf 'CHECKOUT=%s\n' "$GX_ROOT/nope" >"$GX_ROOT/repos.d/bad2.conf"
t_exit "missing checkout: exit 78" 78 hub-gitops sync bad2
gx_conf bad3 'BRANCH=main:evil'
t_exit "BRANCH with ':': exit 78" 78 hub-gitops sync bad3
gx_conf gone REMOTE=nowhere
t_exit "unknown remote: exit 69" 69 hub-gitops sync gone
rm -f "$GX_ROOT"/repos.d/bad*.conf "$GX_ROOT/repos.d/gone.conf"
t_exit "no command: exit 64" 64 hub-gitops
t_exit "sync without a name: exit 64" 64 hub-gitops sync
t_exit "sync --all with a name: exit 64" 64 hub-gitops sync --all demo
t_exit "unknown command: exit 64" 64 hub-gitops frobnicate
t_check "--help" hub-gitops --help
t_check "sync --help" hub-gitops sync --help

# --- sync --all and status --json
gx_conf second
new=$(gx_push)
gx_sync --all
gx_rc "sync --all: exit 0" 0
t_eq "sync --all: two summaries" 2 "$(printf '%s\n' "$GX_OUT" | grep -c '"msg":"gitops_sync"')"
echo "dirty" >>"$GX_ROOT/co/README"
json=$(hub-gitops status --json)
t_eq "status --json: exit 0" 0 "$?"
t_check "status --json parses" jq -e 'type == "array" and length == 2' <<<"$json"
t_eq "status --json: head" "$new" "$(jq -r '.[0].head' <<<"$json")"
t_eq "status --json: remote head" "$new" "$(jq -r '.[0].remote_head' <<<"$json")"
t_eq "status --json: dirty" true "$(jq -r '.[0].dirty' <<<"$json")"
t_eq "status --json: ahead/behind" "0 0" "$(jq -r '"\(.[0].ahead) \(.[0].behind)"' <<<"$json")"
t_eq "status --json: last outcome" noop "$(jq -r '.[1].last_outcome' <<<"$json")"
t_check "status --json: last time" jq -e '.[0].last_time | test("^20[0-9-]+T")' <<<"$json"
t_check "status (text) names the repo" grep -q "^demo .*main@" <<<"$(hub-gitops status)"
t_exit "status of an unknown repo: exit 78" 78 hub-gitops status nosuchrepo
# status's stdout is its data: a configuration warning and a checkout that
# cannot be read are logged on stderr, and stdout stays one JSON array.
printf 'CHECKOUT=%s\nFROB=1\n' "$GX_ROOT/nope" >"$GX_ROOT/repos.d/broken.conf"
hub-gitops status --json 2>"$base/status.err" | jq -s -e 'length == 1 and (.[0] | length == 3)' >/dev/null
t_eq "status --json with a warning: stdout is only the array (exit 0, jq ok)" "0 0" "${PIPESTATUS[*]}"
t_check "status --json with a warning: the warning is on stderr" \
    jq -s -e 'map(select(.msg == "repo_config_unknown_key" and .key == "FROB")) | length == 1' \
    "$base/status.err"
t_eq "status --json with a warning: the broken checkout in its entry" \
    "checkout missing or not a git repository" \
    "$(hub-gitops status --json 2>/dev/null | jq -r '.[] | select(.repo == "broken") | .error')"
t_eq "status (text) with a warning: no log line on stdout" "" \
    "$(hub-gitops status 2>/dev/null | grep '^[<{]')"
t_check "status (text) with a warning: the warning is on stderr" \
    grep -q '"msg":"repo_config_unknown_key"' <<<"$(hub-gitops status 2>&1 >/dev/null)"
t_check "status of a missing checkout: stderr says so (not 'install git')" \
    grep -q '"error":"the checkout directory is missing"' <<<"$(hub-gitops status 2>&1 >/dev/null)"
rm -f "$GX_ROOT/repos.d/broken.conf"
co checkout -q -- README
lost "status"
t_done
