#!/bin/bash
# build_clang.sh: the whole tree (programs, libhub, tests, tools) builds with
# the compiler the main build did not use, warnings as errors. The main build
# uses cc (gcc); this one uses clang, and gcc when cc is clang.
. "$(dirname "$0")/../lib.sh"

other=clang
if cc --version 2>/dev/null | grep -qi clang; then
    other=gcc
fi
t_need "$other" make
out=$(t_tmpdir)
if log=$(make -C "$HUB_TOP" -s -j2 CC="$other" BUILD="$out/build" build-tests 2>&1); then
    t_ok "everything builds with $other -Werror"
else
    t_fail "everything builds with $other -Werror" "$(echo "$log" | tail -30)"
fi
for p in "$HUB_TOP"/cmd/hub-*; do
    name=$(basename "$p")
    t_check "$name --version runs ($other build)" "$out/build/bin/$name" --version
done
t_done
