#!/bin/bash
# gitops_lock.sh: one run at a time per repository. 20 concurrent syncs
# while commits land are serialized and end on the remote's HEAD; --no-wait
# exits 75 while another run holds the lock; a hung remote (a fake ssh that
# never answers, even one that ignores SIGTERM) ends the run within the git
# timeout + 2 s, kills the transport and releases the lock; so does a remote
# whose ls-remote is slow and whose fetch hangs (one deadline per exchange).
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/gitops/repo.sh"
# No database here: gitops_runs rows are gitops_apply.sh's business.
unset PGHOST PGDATABASE PGSERVICE HUB_PG_DSN
t_need git jq flock

base=$(t_tmpdir)
gx_setup "$base/r" >/dev/null 2>&1 || { t_fail "set up repository"; t_done; }
# APPLY fails if two of them ever overlap (mkdir is atomic).
gx_conf demo "APPLY=mkdir $base/inside || exit 9; sleep 0.05; rmdir $base/inside"
gx_snapshot

# --- 20 concurrent syncs, commits landing meanwhile
pids=()
for i in $(seq 1 20); do
    hub-gitops sync demo >"$base/run.$i.log" 2>&1 &
    pids+=($!)
    [ $((i % 4)) -eq 0 ] && gx_push "d$i/f.txt" >/dev/null
done
fails=0
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fails=$((fails + 1))
done
t_eq "20 concurrent syncs: all exit 0" 0 "$fails"
gx_sync demo            # the pushes after the last run started
t_eq "20 concurrent syncs: final HEAD = remote" "$(gx_remote_head)" "$(gx_head)"
summaries=$(cat "$base"/run.*.log | grep -c '"msg":"gitops_sync"')
t_eq "20 concurrent syncs: 20 summaries" 20 "$summaries"
moved=$(cat "$base"/run.*.log | grep '"msg":"gitops_sync"' | jq -r .outcome | grep -c synced)
t_check "20 concurrent syncs: some moved HEAD ($moved), none overlapped" test "$moved" -ge 1
t_eq "20 concurrent syncs: no APPLY saw another" 0 "$(cat "$base"/run.*.log | grep -c gitops_apply_failed)"
t_eq "20 concurrent syncs: tree clean" "" "$(git -C "$GX_ROOT/co" status --porcelain -uno)"
t_check "20 concurrent syncs: nothing lost" gx_nothing_lost

# --- --no-wait while another run holds the lock
lockfile=$HUB_GITOPS_STATE_DIR/demo.lock
flock "$lockfile" sleep 30 &
holder=$!
_t_pids+=("$holder")
for i in $(seq 1 100); do
    flock -n "$lockfile" true 2>/dev/null || break
    sleep 0.05
done
before=$(gx_head)
gx_push >/dev/null
gx_sync --no-wait demo
gx_rc "--no-wait while locked: exit 75" 75
t_eq "--no-wait while locked: outcome busy" busy "$(gx_outcome)"
t_eq "--no-wait while locked: HEAD unchanged" "$before" "$(gx_head)"
# a waiting run goes on once the holder is gone
hub-gitops sync demo >"$base/waiter.log" 2>&1 &
waiter=$!
sleep 0.3
t_check "waiting run: still waiting while locked" kill -0 "$waiter"
kill "$holder"
wait "$holder" 2>/dev/null
wait "$waiter"
t_eq "waiting run: exit 0 once the lock is free" 0 "$?"
t_eq "waiting run: HEAD = remote" "$(gx_remote_head)" "$(gx_head)"
gx_push >/dev/null
gx_sync --no-wait demo
gx_rc "--no-wait, lock free: exit 0 (twin)" 0

# --- a hung remote: fake ssh that never answers
cat >"$base/fake-ssh" <<FAKE
#!/bin/sh
echo \$\$ >>"$base/ssh.pids"
[ "\${HUB_FAKE_SSH_STUBBORN:-0}" = 1 ] && trap '' TERM
sleep 300 &
echo \$! >>"$base/ssh.pids"
wait
FAKE
chmod +x "$base/fake-ssh"
# live_pids: the pids on stdin that are still running (zombies are dead;
# a container's init may be slow to reap them).
live_pids() {
    local p st out=
    while read -r p; do
        st=$(ps -o stat= -p "$p" 2>/dev/null)
        case "$st" in ""|Z*) ;; *) out="$out $p" ;; esac
    done
    echo "${out# }"
}
git -C "$GX_ROOT/co" remote set-url origin "ssh://hub-fake.invalid/x.git"
timeout_s=1
for stubborn in 0 1; do
    : >"$base/ssh.pids"
    start=$(date +%s%N)
    GIT_SSH_COMMAND="$base/fake-ssh" HUB_FAKE_SSH_STUBBORN=$stubborn HUB_GIT_TIMEOUT=$timeout_s gx_sync demo
    took=$(( ($(date +%s%N) - start) / 1000000 ))
    label="hung remote$([ $stubborn = 1 ] && echo ", SIGTERM ignored")"
    gx_rc "$label: exit 69" 69
    t_check "$label: ended within timeout + 2 s (${took} ms)" test "$took" -lt $(( (timeout_s + 2) * 1000 ))
    t_check "$label: git call logged as timed out" \
        jq -s -e 'map(select(.level == "ERROR" and .timed_out == true)) | length == 1' <<<"$GX_OUT"
    sleep 0.3               # the group's SIGTERM takes effect asynchronously
    alive=$(live_pids <"$base/ssh.pids")
    t_eq "$label: transport processes killed" "" "$alive"
    [ -z "$alive" ] || kill -KILL $alive 2>/dev/null
done

# --- a slow remote: ls-remote answers just inside the timeout, then the
# fetch hangs. The whole remote exchange of one sync shares one deadline,
# so the run still ends within timeout + 2 s (not ls-remote's time plus a
# full timeout for the fetch). GIT_SSH_VARIANT=simple: no "-G" probe call.
cat >"$base/slow-ssh" <<FAKE
#!/bin/sh
if mkdir "$base/slow-ssh.first" 2>/dev/null; then
    sleep 3
    exec git upload-pack "$GX_ROOT/remote.git"
fi
exec "$base/fake-ssh"
FAKE
chmod +x "$base/slow-ssh"
timeout_s=4
: >"$base/ssh.pids"
rm -rf "$base/slow-ssh.first"
gx_push >/dev/null
start=$(date +%s%N)
GIT_SSH_COMMAND="$base/slow-ssh" GIT_SSH_VARIANT=simple HUB_FAKE_SSH_STUBBORN=1 \
    HUB_GIT_TIMEOUT=$timeout_s gx_sync demo
took=$(( ($(date +%s%N) - start) / 1000000 ))
gx_rc "slow ls-remote, hung fetch: exit 69" 69
t_check "slow ls-remote, hung fetch: ls-remote answered" test -d "$base/slow-ssh.first"
t_check "slow ls-remote, hung fetch: the fetch timed out" \
    jq -s -e 'map(select(.msg == "gitops_fetch_failed" and .timed_out == true)) | length == 1' <<<"$GX_OUT"
t_check "slow ls-remote, hung fetch: ended within timeout + 2 s (${took} ms)" \
    test "$took" -lt $(( (timeout_s + 2) * 1000 ))
sleep 0.3
alive=$(live_pids <"$base/ssh.pids")
t_eq "slow ls-remote, hung fetch: transport processes killed" "" "$alive"
[ -z "$alive" ] || kill -KILL $alive 2>/dev/null

git -C "$GX_ROOT/co" remote set-url origin "$GX_ROOT/remote.git"
gx_push >/dev/null
gx_sync --no-wait demo
gx_rc "after the hung remote: lock released, sync exit 0" 0
t_eq "after the hung remote: HEAD = remote" "$(gx_remote_head)" "$(gx_head)"
t_check "nothing lost" gx_nothing_lost
t_done
