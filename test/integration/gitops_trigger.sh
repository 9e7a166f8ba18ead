#!/bin/bash
# gitops_trigger.sh: `hub-gitops trigger-dir DIR`, the consumer of
# hub-webhook's trigger directory: each DIR/NAME.json is synced, then
# removed; a trigger that lands during a sync is not lost; a .taken file
# left by a crash is picked up; temporary and dot files are left alone; a
# file whose name or content is wrong is refused and removed.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/gitops/repo.sh"
# No database here: gitops_runs rows are gitops_apply.sh's business.
unset PGHOST PGDATABASE PGSERVICE HUB_PG_DSN
t_need git jq

base=$(t_tmpdir)
gx_setup "$base/r" >/dev/null 2>&1 || { t_fail "set up repository"; t_done; }
gx_conf demo
tdir=$base/triggers
mkdir -p "$tdir"
# put NAME JSON: written the way hub-webhook does (temporary file, rename).
put() {
    printf '%s\n' "$2" >"$tdir/.$1.json.tmp"
    mv "$tdir/.$1.json.tmp" "$tdir/$1.json"
}
run_dir() { GX_OUT=$(hub-gitops trigger-dir "$tdir" 2>&1); GX_RC=$?; }

new=$(gx_push)
put demo "{\"repo\":\"demo\",\"ref\":\"refs/heads/main\",\"after\":\"$new\",\"delivery\":\"t-1\"}"
echo "not mine" >"$tdir/.demo.json.tmp2"
echo "{}" >"$tdir/other.json.tmp"
run_dir
gx_rc "trigger file: exit 0" 0
t_eq "trigger file: HEAD = after" "$new" "$(gx_head)"
t_eq "trigger file: removed" "no" "$([ -e "$tdir/demo.json" ] && echo yes || echo no)"
t_eq "trigger file: summary says trigger-dir" "trigger-dir t-1" \
    "$(printf '%s\n' "$GX_OUT" | grep gitops_sync | jq -r '.trigger + " " + .delivery')"
t_eq "temporary and dot files left alone" ".demo.json.tmp2 other.json.tmp" "$(ls -A "$tdir" | sort | tr '\n' ' ' | sed 's/ $//')"
rm -f "$tdir/.demo.json.tmp2" "$tdir/other.json.tmp"

run_dir
gx_rc "empty directory: exit 0" 0
t_eq "empty directory: no sync" 0 "$(printf '%s\n' "$GX_OUT" | grep -c gitops_sync)"

# --- a trigger renamed in during the sync is not lost
gx_conf demo "APPLY=[ -e $base/once ] || { touch $base/once; printf '{\"repo\":\"demo\",\"delivery\":\"t-late\"}\\n' >$tdir/.x; mv $tdir/.x $tdir/demo.json; }"
gx_push >/dev/null
put demo '{"repo":"demo","delivery":"t-2"}'
late=$(gx_push)
run_dir
gx_rc "trigger during a sync: exit 0" 0
t_eq "trigger during a sync: both synced" "t-2 t-late" \
    "$(printf '%s\n' "$GX_OUT" | grep '"msg":"gitops_sync"' | jq -r .delivery | tr '\n' ' ' | sed 's/ $//')"
t_eq "trigger during a sync: directory empty" "" "$(ls -A "$tdir")"
t_eq "trigger during a sync: HEAD = remote" "$late" "$(gx_head)"
gx_conf demo

# --- a .taken file left by a crash is consumed
new=$(gx_push)
printf '{"repo":"demo","delivery":"t-crash"}\n' >"$tdir/demo.json.taken"
run_dir
gx_rc "leftover .taken: exit 0" 0
t_eq "leftover .taken: synced" "$new" "$(gx_head)"
t_eq "leftover .taken: removed" "" "$(ls -A "$tdir")"

# --- refused triggers: removed, nothing moved
before=$(gx_head)
gx_push >/dev/null
put demo '{"repo":"other"}'
run_dir
gx_rc "repo differs from the file name: exit 65" 65
t_eq "repo differs from the file name: HEAD unchanged" "$before" "$(gx_head)"
t_eq "repo differs from the file name: removed" "" "$(ls -A "$tdir")"
put demo 'not json'
run_dir
gx_rc "malformed trigger: exit 65" 65
t_eq "malformed trigger: removed" "" "$(ls -A "$tdir")"
printf '{"repo":"bad name"}\n' >"$tdir/bad name.json"
run_dir
gx_rc "invalid name in the file name: exit 65" 65
t_eq "invalid name in the file name: removed" "" "$(ls -A "$tdir")"
put nosuch '{"repo":"nosuch"}'
run_dir
gx_rc "unknown repository: exit 78" 78
t_eq "unknown repository: removed" "" "$(ls -A "$tdir")"
t_eq "refusals: HEAD unchanged" "$before" "$(gx_head)"
put demo '{"repo":"demo"}'
run_dir
gx_rc "a good trigger after refusals: exit 0 (twin)" 0
t_eq "a good trigger after refusals: HEAD = remote" "$(gx_remote_head)" "$(gx_head)"
t_exit "missing directory: exit 78" 78 hub-gitops trigger-dir "$base/nope"
t_exit "trigger-dir without DIR: exit 64" 64 hub-gitops trigger-dir
t_done
