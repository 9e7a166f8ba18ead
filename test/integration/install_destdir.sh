#!/bin/bash
# install_destdir.sh: scripts/install.sh (what `make install` runs) into a
# DESTDIR staging root: the tree holds the binaries, the units (with
# ExecStart= under PREFIX) and the configuration; a second install over a
# changed configuration keeps the changes; uninstall removes what install
# added and nothing else. Also `make install`/`make uninstall` themselves.
. "$(dirname "$0")/../lib.sh"
t_need sha256sum

inst=$HUB_TOP/scripts/install.sh
stage=$(t_tmpdir)/stage
prefix=/opt/hub
man=$stage$prefix/share/hub/install-manifest
not_grep() {
    ! grep -rq -- "$1" "$2"
}
install_to() {
    BUILD=$HUB_BUILD PREFIX=$prefix DESTDIR=$stage "$inst" "$@" >"$stage.log" 2>&1
}

t_check "install into DESTDIR" install_to
for bin in "$HUB_BUILD"/bin/hub-*; do
    b=$(basename "$bin")
    t_check "binary $b installed and executable" test -x "$stage$prefix/bin/$b"
    t_check "binary $b is the built one" cmp -s "$bin" "$stage$prefix/bin/$b"
done
# PREFIX outside /usr and /usr/local: units in /etc/systemd/system.
unitdir=$stage/etc/systemd/system
n_units=$(ls "$HUB_TOP"/units/*.service "$HUB_TOP"/units/*.socket "$HUB_TOP"/units/*.timer \
    "$HUB_TOP"/units/*.path | wc -l)
t_eq "every unit installed" "$n_units" "$(ls "$unitdir" | wc -l)"
t_check "ExecStart= paths follow PREFIX" grep -qx "ExecStart=$prefix/bin/hub-gate --interval 15" "$unitdir/hub-gate.service"
t_check "no /usr/local path left in the units" not_grep /usr/local/ "$unitdir"
t_check "sysusers.d entry staged" grep -q '^u hub ' "$stage/etc/sysusers.d/hub.conf"
t_check "tmpfiles.d entry staged" grep -q '^d /run/hub/triggers ' "$stage/etc/tmpfiles.d/hub.conf"
t_check "hub.env installed" cmp -s "$HUB_TOP/units/hub.env.example" "$stage/etc/hub/hub.env"
t_eq "hub.env mode 640" 640 "$(stat -c %a "$stage/etc/hub/hub.env")"
t_check "example repos.d entry installed (inert name)" test -f "$stage/etc/hub/repos.d/example.conf.example"
t_eq "credentials directory mode 700" 700 "$(stat -c %a "$stage/etc/hub/credentials")"
t_check "manifest written" test -s "$man"
t_check "DESTDIR install stays inside DESTDIR" grep -q 'DESTDIR set' "$stage.log"

# A person edits the configuration and adds their own files.
echo 'HUB_PG_DSN=host=db.example dbname=hub' >>"$stage/etc/hub/hub.env"
edited=$(sha256sum <"$stage/etc/hub/hub.env")
echo 'EDITED=1' >>"$stage/etc/hub/repos.d/example.conf.example"
printf 'CHECKOUT=/var/lib/hub/checkouts/site\n' >"$stage/etc/hub/repos.d/site.conf"
echo 's3cret' >"$stage/etc/hub/credentials/github_webhook_secret"
mkdir -p "$stage$prefix/bin" && echo keep >"$stage$prefix/bin/not-ours"

t_check "second install over a changed configuration" install_to
t_eq "second install keeps the edited hub.env" "$edited" "$(sha256sum <"$stage/etc/hub/hub.env")"
t_check "second install keeps the edited example" grep -q EDITED=1 "$stage/etc/hub/repos.d/example.conf.example"
t_check "second install says so" grep -q 'keeping /etc/hub/hub.env' "$stage.log"
t_check "manifest still remembers hub.env from the first install" grep -q '^config /etc/hub/hub.env ' "$man"

t_check "uninstall" install_to --uninstall
t_check "binaries removed" test ! -e "$stage$prefix/bin/hub-gate"
t_check "units removed" test ! -e "$unitdir/hub-gate.service"
t_check "sysusers/tmpfiles entries removed" test ! -e "$stage/etc/sysusers.d/hub.conf" -a ! -e "$stage/etc/tmpfiles.d/hub.conf"
t_check "manifest removed" test ! -e "$man"
t_check "edited hub.env kept" test -f "$stage/etc/hub/hub.env"
t_check "edited example kept" test -f "$stage/etc/hub/repos.d/example.conf.example"
t_check "a person's repos.d file kept" test -f "$stage/etc/hub/repos.d/site.conf"
t_check "a person's credential kept" test -f "$stage/etc/hub/credentials/github_webhook_secret"
t_check "a file install did not add kept" test -f "$stage$prefix/bin/not-ours"
t_check "directories install made and left empty are gone" test ! -e "$stage/etc/systemd"
left=$(cd "$stage" && find . -mindepth 1 | sort | tr '\n' ' ')
t_eq "exactly the person's files remain" \
    "./etc ./etc/hub ./etc/hub/credentials ./etc/hub/credentials/github_webhook_secret ./etc/hub/hub.env ./etc/hub/repos.d ./etc/hub/repos.d/example.conf.example ./etc/hub/repos.d/site.conf ./opt ./opt/hub ./opt/hub/bin ./opt/hub/bin/not-ours " \
    "$left"

# An untouched install uninstalls to nothing at all.
clean=$(t_tmpdir)/clean
t_check "clean install (PREFIX /usr)" env BUILD="$HUB_BUILD" PREFIX=/usr DESTDIR="$clean" "$inst"
t_check "PREFIX /usr: units in /usr/lib/systemd/system" test -f "$clean/usr/lib/systemd/system/hub-webhook.socket"
t_check "clean uninstall" env PREFIX=/usr DESTDIR="$clean" "$inst" --uninstall
t_eq "nothing left after a clean uninstall" "" "$(cd "$clean" && find . -mindepth 1)"
t_exit "uninstall with nothing installed exits 66" 66 env PREFIX=/usr DESTDIR="$clean" "$inst" --uninstall
t_exit "unknown argument exits 64" 64 "$inst" --bogus

# The Makefile targets call the script the same way.
mk=$(t_tmpdir)/mk
# The same build flavour as the tree under test, so make never relinks it
# differently (check-sanitize builds with clang and the sanitizers).
flavour=()
[ "${HUB_SANITIZE:-0}" = 1 ] && flavour=(SANITIZE=1 CC=clang)
t_check "make install DESTDIR=..." make -s -C "$HUB_TOP" install BUILD="$HUB_BUILD" "${flavour[@]}" PREFIX=/usr/local DESTDIR="$mk"
t_check "make install: units under /usr/local/lib/systemd/system" test -f "$mk/usr/local/lib/systemd/system/hub-gate.service"
t_check "make uninstall DESTDIR=..." make -s -C "$HUB_TOP" uninstall PREFIX=/usr/local DESTDIR="$mk"
t_eq "make uninstall leaves nothing" "" "$(cd "$mk" && find . -mindepth 1)"

t_done
