#!/bin/bash
# units_security.sh: every unit in units/ is as tight as the issue asks and
# loads cleanly.
#  - `systemd-analyze security --offline=yes` exposure of each service,
#    printed as a "# report:" line (test/run.sh shows those), at most 2.0
#    for hub-metrics, hub-webhook and hub-readsync and at most 4.0 for
#    hub-gitops (and its trigger twin) and hub-gate;
#  - `systemd-analyze verify --root=DIR` over every unit, with the built
#    binaries and the units installed into DIR by scripts/install.sh and
#    the stock *.target/*.slice units copied in (verify resolves ExecStart=
#    and dependencies inside DIR);
#  - every unit README.md and install.sh say to enable has an [Install]
#    section that `systemctl --root=DIR enable` links;
#  - the things the hardening relies on are there: credentials, the hub.env
#    file, the trigger directory wiring, the sysusers/tmpfiles entries.
. "$(dirname "$0")/../lib.sh"
t_need systemd-analyze awk

units=$HUB_TOP/units

# target EXPOSURE for a service, by name
target_for() {
    case $1 in
    hub-metrics.service|hub-webhook.service|hub-readsync.service) echo 2.0 ;;
    hub-gitops.service|hub-gitops-trigger.service|hub-gate.service) echo 4.0 ;;
    *) echo 0 ;;
    esac
}

n_services=0
for f in "$units"/*.service; do
    name=$(basename "$f")
    n_services=$((n_services + 1))
    out=$(cd "$units" && systemd-analyze security --offline=yes --no-pager "$name" 2>&1)
    score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
    want=$(target_for "$name")
    # test/run.sh shows "# report:" lines even when the test passes.
    echo "# report: $name exposure ${score:-?} (target <= $want)"
    if [ -z "$score" ]; then
        t_fail "$name: exposure scored" "$out"
    elif awk -v s="$score" -v w="$want" 'BEGIN { exit !(s <= w) }'; then
        t_ok "$name: exposure $score <= $want"
    else
        t_fail "$name: exposure $score <= $want" "$(printf '%s\n' "$out" | grep '✗')"
    fi
done
t_eq "six services scored" 6 "$n_services"

# A deliberately loose unit scores above the target: the check can fail.
loose=$(t_tmpdir)
printf '[Service]\nExecStart=/usr/bin/true\n' >"$loose/hub-loose.service"
score=$(cd "$loose" && systemd-analyze security --offline=yes --no-pager hub-loose.service 2>&1 |
    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
t_check "an unhardened unit scores above 4.0 (${score:-?})" \
    awk -v s="${score:-0}" 'BEGIN { exit !(s > 4.0) }'

# Install into a temporary root and verify every unit there.
root=$(t_tmpdir)
if BUILD=$HUB_BUILD PREFIX=/usr DESTDIR=$root "$HUB_TOP/scripts/install.sh" >/dev/null 2>&1; then
    t_ok "install into a temporary root"
else
    t_fail "install into a temporary root"
fi
unitdir=$root/usr/lib/systemd/system
for p in hub-metrics hub-webhook hub-gitops hub-readsync hub-gate; do
    if [ -x "$root/usr/bin/$p" ]; then
        t_ok "$p installed for verify"
    else
        t_fail "$p installed for verify" "$HUB_BUILD/bin/$p is missing: run make"
    fi
done
cp -n /usr/lib/systemd/system/*.target /usr/lib/systemd/system/*.slice "$unitdir/" 2>/dev/null
mapfile -t all < <(cd "$unitdir" && ls hub-*.service hub-*.socket hub-*.timer hub-*.path)
echo "# verify: ${all[*]}"
out=$(cd "$unitdir" && systemd-analyze verify --root="$root" "${all[@]}" 2>&1)
rc=$?
if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
    t_ok "systemd-analyze verify: all ${#all[@]} units clean"
else
    t_fail "systemd-analyze verify: all ${#all[@]} units clean" "exit $rc: $out"
fi
t_eq "eleven units verified" 11 "${#all[@]}"

# Every unit README.md and scripts/install.sh tell people to enable can be
# enabled: `systemctl enable` of a unit without an [Install] section links
# nothing (and exits 0), so look for the link it makes.
enable_units=$(sed -n 's/^ENABLE_UNITS="\(.*\)"$/\1/p' "$HUB_TOP/scripts/install.sh")
t_check "install.sh names the units it enables" test -n "$enable_units"
# README's `systemctl enable --now` commands, continuation lines joined.
readme_enable=$(sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' "$HUB_TOP/README.md" |
    grep 'systemctl enable --now')
for u in $enable_units hub-gate.service; do
    t_check "README enables $u" grep -qw -- "$u" <<<"$readme_enable"
    want=$(sed -n 's/^WantedBy=//p' "$unitdir/$u")
    systemctl --root="$root" enable "$u" >/dev/null 2>&1
    t_check "systemctl enable $u links it into ${want:-(no WantedBy=)}.wants" \
        test -n "$want" -a -L "$root/etc/systemd/system/$want.wants/$u"
done
t_eq "hub-gate starts with the system" "multi-user.target" \
    "$(sed -n 's/^WantedBy=//p' "$unitdir/hub-gate.service")"
# Rejecting twin: a unit with no [Install] section (started by its path
# unit and timer, never enabled) gets no link.
systemctl --root="$root" enable hub-gitops.service >/dev/null 2>&1
t_check "a unit without [Install] is not linked" \
    bash -c '! find "$1/etc/systemd/system" -name hub-gitops.service | grep -q .' _ "$root"

# Rejecting twin: verify notices a unit whose binary is not there.
rm -f "$root/usr/bin/hub-gate"
out=$(cd "$unitdir" && systemd-analyze verify --root="$root" hub-gate.service 2>&1)
t_check "verify fails when the binary is missing" grep -q 'hub-gate' <<<"$out"

# The wiring the hardening depends on.
for f in "$units"/*.service; do
    name=$(basename "$f")
    t_check "$name: EnvironmentFile=-/etc/hub/hub.env" grep -qx 'EnvironmentFile=-/etc/hub/hub.env' "$f"
    t_check "$name: every LoadCredential has a SetCredential default" bash -c '
        for id in $(sed -n "s/^LoadCredential=\([a-z_]*\):.*/\1/p" "$1"); do
            grep -q "^LoadCredential=$id:/etc/hub/credentials/$id\$" "$1" || exit 1
            grep -q "^SetCredential=$id:" "$1" || exit 1
        done' _ "$f"
done
t_check "webhook gets the webhook secret" grep -q '^LoadCredential=github_webhook_secret:' "$units/hub-webhook.service"
t_check "readsync gets the MongoDB URI" grep -q '^LoadCredential=mongo_uri:' "$units/hub-readsync.service"
t_check "webhook can write the trigger dir" grep -q '^ReadWritePaths=-/run/hub/triggers' "$units/hub-webhook.service"
t_check "webhook joins hub-trigger" grep -qx 'SupplementaryGroups=hub-trigger' "$units/hub-webhook.service"
t_check "trigger service joins hub-trigger" grep -qx 'SupplementaryGroups=hub-trigger' "$units/hub-gitops-trigger.service"
t_check "tmpfiles: setgid trigger dir owned by hub:hub-trigger" \
    grep -Eq '^d /run/hub/triggers 2770 hub hub-trigger' "$units/hub.tmpfiles.conf"
t_check "sysusers: hub user and hub-trigger group" \
    bash -c 'grep -q "^u hub " "$1" && grep -q "^g hub-trigger " "$1"' _ "$units/hub.sysusers.conf"
t_check "path unit starts the trigger service" \
    bash -c 'grep -qx "PathExistsGlob=/run/hub/triggers/\*.json" "$1" && grep -qx "Unit=hub-gitops-trigger.service" "$1"' _ "$units/hub-gitops.path"
t_check "webhook socket on 8085" grep -Eq '^ListenStream=(127\.0\.0\.1:)?8085$' "$units/hub-webhook.socket"
t_check "metrics timer: every minute, AccuracySec=1s" \
    bash -c 'grep -qx "OnCalendar=\*-\*-\* \*:\*:00" "$1" && grep -qx "AccuracySec=1s" "$1"' _ "$units/hub-metrics.timer"
t_check "readsync timer: Persistent and randomized" \
    bash -c 'grep -qx "Persistent=true" "$1" && grep -q "^RandomizedDelaySec=" "$1"' _ "$units/hub-readsync.timer"
t_check "gitops timer: randomized" grep -q '^RandomizedDelaySec=' "$units/hub-gitops.timer"
t_check "gate is a notify daemon with a watchdog" \
    bash -c 'grep -qx "Type=notify" "$1" && grep -q "^WatchdogSec=" "$1" && grep -q -- "--interval" "$1"' _ "$units/hub-gate.service"

# OnCalendar expressions parse, and mean what the comments say.
t_check "metrics calendar parses" systemd-analyze calendar '*-*-* *:*:00'
t_check "gitops calendar parses" systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "$units/hub-gitops.timer")"
t_check "readsync calendar parses" systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "$units/hub-readsync.timer")"

t_done
