#!/bin/sh
# install.sh: install the hub on a host, or stage it under DESTDIR.
#
# usage: [BUILD=build] [PREFIX=/usr/local] [DESTDIR=] [UNITDIR=...] scripts/install.sh
#        [PREFIX=...] [DESTDIR=] scripts/install.sh --uninstall
#
# Install puts:
#   $BUILD/bin/hub-*             -> $PREFIX/bin/
#   units/*.service|socket|timer|path -> the systemd unit directory, with
#                                   /usr/local/ in them rewritten to $PREFIX/
#   units/hub.sysusers.conf      -> sysusers.d/hub.conf (the hub user and groups)
#   units/hub.tmpfiles.conf      -> tmpfiles.d/hub.conf (/run/hub/triggers)
#   README.md                    -> $PREFIX/share/doc/hub/
#   units/hub.env.example        -> /etc/hub/hub.env, only when absent
#   units/repos.d/*.example      -> /etc/hub/repos.d/, only when absent
#   /etc/hub/credentials/        (mode 0700), only when absent
# The unit, sysusers.d and tmpfiles.d directories are $PREFIX/lib/... for
# PREFIX /usr or /usr/local (both on systemd's search paths), /etc/...
# otherwise; UNITDIR overrides the unit directory.
#
# On the live system (DESTDIR empty, run as root) it also creates the users
# (systemd-sysusers), the trigger directory (systemd-tmpfiles), and, when
# systemd is running, reloads it and enables the timers, the path unit and
# the socket. It never starts them and never enables hub-gate (opening a
# public funnel is the operator's call). Under DESTDIR it touches nothing
# outside DESTDIR.
#
# A configuration file that exists is never overwritten. Every path install
# creates is recorded in $PREFIX/share/hub/install-manifest; --uninstall
# removes exactly those (configuration files only while unchanged since
# install, directories only when empty), disables what install enabled, and
# leaves the users in place (files they own may remain).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
PREFIX=${PREFIX%/}
DESTDIR=${DESTDIR%/}

case $PREFIX in
/usr|/usr/local) sdbase=$PREFIX/lib ;;
*) sdbase=/etc ;;
esac
if [ "$sdbase" = /etc ]; then
    UNITDIR=${UNITDIR:-/etc/systemd/system}
else
    UNITDIR=${UNITDIR:-$sdbase/systemd/system}
fi
SYSCONF=/etc/hub
MANIFEST=$PREFIX/share/hub/install-manifest
ENABLE_UNITS="hub-metrics.timer hub-gitops.timer hub-readsync.timer hub-gitops.path hub-webhook.socket"

say() { printf 'install: %s\n' "$*" >&2; }
die() { printf 'install: %s\n' "$*" >&2; exit "${2:-1}"; }

live() { [ -z "$DESTDIR" ] && [ "$(id -u)" -eq 0 ]; }
systemd_running() { [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; }

# The manifest is written to a temporary file and moved into place at the
# end, so an interrupted install leaves the previous manifest.
newman=""
record() { printf '%s\n' "$*" >>"$newman"; }

# mkdirs DIR MODE: create DIR and missing parents; record each new one.
mkdirs() {
    _d=$1 _todo=""
    while [ ! -d "$DESTDIR$_d" ]; do
        _todo="$_d $_todo"
        _d=$(dirname "$_d")
    done
    for _d in $_todo; do
        mkdir -m "$2" "$DESTDIR$_d"
        record "dir $_d"
    done
}

# put SRC DEST MODE: install a file we own (replaced on every install).
put() {
    mkdirs "$(dirname "$2")" 0755
    install -m "$3" "$1" "$DESTDIR$2"
    record "file $2"
}

# put_unit SRC DEST: a unit with the install prefix in its paths.
put_unit() {
    mkdirs "$(dirname "$2")" 0755
    sed "s|/usr/local/|$PREFIX/|g" "$1" >"$DESTDIR$2.tmp"
    chmod 0644 "$DESTDIR$2.tmp"
    mv -f "$DESTDIR$2.tmp" "$DESTDIR$2"
    record "file $2"
}

# put_config SRC DEST MODE: only when absent; remember its checksum so that
# uninstall can tell an untouched copy from one a person edited.
put_config() {
    if [ -e "$DESTDIR$2" ] || [ -L "$DESTDIR$2" ]; then
        say "keeping $2 (exists)"
        return 0
    fi
    mkdirs "$(dirname "$2")" 0755
    install -m "$3" "$1" "$DESTDIR$2"
    record "config $2 $(sha256sum <"$DESTDIR$2" | cut -d' ' -f1)"
}

# Entries of an earlier install that this one does not redo (configuration
# it created then, directories it made then) stay in the manifest.
carry_over() {
    [ -f "$DESTDIR$MANIFEST" ] || return 0
    while read -r kind path rest; do
        case $kind in
        config|dir|enabled)
            grep -q "^$kind $path\( \|\$\)" "$newman" 2>/dev/null && continue
            if [ "$kind" = enabled ] || [ -e "$DESTDIR$path" ]; then
                record "$kind $path${rest:+ $rest}"
            fi
            ;;
        esac
    done <"$DESTDIR$MANIFEST"
}

do_install() {
    set -- "$BUILD"/bin/hub-*
    [ -e "$1" ] || die "no programs in $BUILD/bin: run make first" 66
    [ -z "$DESTDIR" ] || mkdir -p "$DESTDIR"
    newman=$(mktemp "${TMPDIR:-/tmp}/hub-manifest.XXXXXX")
    trap 'rm -f "$newman"' EXIT

    for bin in "$BUILD"/bin/hub-*; do
        put "$bin" "$PREFIX/bin/$(basename "$bin")" 0755
    done
    for unit in "$top"/units/*.service "$top"/units/*.socket "$top"/units/*.timer \
                "$top"/units/*.path; do
        if [ -e "$unit" ]; then
            put_unit "$unit" "$UNITDIR/$(basename "$unit")"
        fi
    done
    put "$top/units/hub.sysusers.conf" "$sdbase/sysusers.d/hub.conf" 0644
    put "$top/units/hub.tmpfiles.conf" "$sdbase/tmpfiles.d/hub.conf" 0644
    if [ -f "$top/README.md" ]; then
        put "$top/README.md" "$PREFIX/share/doc/hub/README.md" 0644
    fi

    mkdirs "$SYSCONF" 0755
    put_config "$top/units/hub.env.example" "$SYSCONF/hub.env" 0640
    for ex in "$top"/units/repos.d/*.example; do
        if [ -e "$ex" ]; then
            put_config "$ex" "$SYSCONF/repos.d/$(basename "$ex")" 0644
        fi
    done
    mkdirs "$SYSCONF/credentials" 0700

    setup_live
    carry_over
    mkdirs "$(dirname "$MANIFEST")" 0755
    record "file $MANIFEST"
    sort -u "$newman" >"$DESTDIR$MANIFEST"
    chmod 0644 "$DESTDIR$MANIFEST"
    say "installed under ${DESTDIR:-/} (prefix $PREFIX, units in $UNITDIR)"
}

# The parts that only make sense on the running host.
setup_live() {
    if ! live; then
        if [ -n "$DESTDIR" ]; then
            say "DESTDIR set: users, trigger directory and systemd left alone"
        else
            say "not root: users, trigger directory and systemd left alone"
        fi
        return 0
    fi
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers "$sdbase/sysusers.d/hub.conf"
    else
        getent group hub-trigger >/dev/null || groupadd --system hub-trigger
        getent passwd hub >/dev/null ||
            useradd --system --user-group --home-dir /var/lib/hub --shell /usr/sbin/nologin \
                --comment "hub: owner of the GitOps checkouts" hub
        usermod -a -G hub-trigger hub
    fi
    if command -v systemd-tmpfiles >/dev/null 2>&1; then
        systemd-tmpfiles --create "$sdbase/tmpfiles.d/hub.conf"
    fi
    if systemd_running; then
        systemctl daemon-reload
        # shellcheck disable=SC2086
        systemctl enable $ENABLE_UNITS
        for u in $ENABLE_UNITS; do record "enabled $u"; done
        say "enabled $ENABLE_UNITS; start them with: systemctl start $ENABLE_UNITS"
        say "hub-gate is not enabled: systemctl enable --now hub-gate.service when ready"
    else
        say "systemd is not running: no daemon-reload, nothing enabled"
    fi
}

do_uninstall() {
    [ -f "$DESTDIR$MANIFEST" ] || die "nothing to uninstall: no $DESTDIR$MANIFEST" 66
    # Work from a copy: the manifest lists itself.
    man=$(mktemp "${TMPDIR:-/tmp}/hub-manifest.XXXXXX")
    trap 'rm -f "$man"' EXIT
    cp "$DESTDIR$MANIFEST" "$man"
    if systemd_running; then
        units=$(sed -n 's/^enabled //p' "$man")
        # shellcheck disable=SC2086
        [ -z "$units" ] || systemctl disable --now $units || true
    fi
    while read -r kind path sum; do
        case $kind in
        file)
            rm -f "$DESTDIR$path" ;;
        config)
            if [ -f "$DESTDIR$path" ] && [ "$(sha256sum <"$DESTDIR$path" | cut -d' ' -f1)" = "$sum" ]; then
                rm -f "$DESTDIR$path"
            elif [ -e "$DESTDIR$path" ]; then
                say "keeping $path (changed since install)"
            fi
            ;;
        esac
    done <"$man"
    # Directories last, deepest first, and only when empty.
    sed -n 's/^dir //p' "$man" | awk '{ print length($0) " " $0 }' |
        sort -rn | cut -d' ' -f2- | while read -r dir; do
        rmdir "$DESTDIR$dir" 2>/dev/null || true
    done
    if systemd_running; then
        systemctl daemon-reload
    fi
    say "uninstalled from ${DESTDIR:-/} (prefix $PREFIX); users hub and hub-trigger kept"
}

case ${1:-} in
"") do_install ;;
--uninstall) do_uninstall ;;
-h|--help) sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
*) die "unknown argument '$1'; try --help" 64 ;;
esac
