#!/bin/bash
# test/fuzz/run.sh: run every libFuzzer target for a bounded time, each
# starting from its seed corpus test/fuzz/corpus/NAME/ (fuzz_NAME.c).
#
# usage: HUB_FUZZ_BUILD=build/fuzz-tree test/fuzz/run.sh
#   HUB_FUZZ_SECONDS  total time shared by the targets (default 60)
#   `make fuzz` builds the targets with clang (ASan+UBSan+libFuzzer) into
#   $HUB_FUZZ_BUILD/fuzz/ and calls this script.
# New inputs are written to a scratch copy, never into the seed corpus, so
# a run leaves the tree as it was. Exit 0 when no target crashed; a crash
# leaves its input in $HUB_FUZZ_BUILD/fuzz/crash-* and exits 1.
# Undefined behaviour counts as a crash (the build lets UBSan recover, so
# halt_on_error makes it stop). Targets that must read files make their
# temporary directory under $TMPDIR, pointed into the scratch directory so
# that it goes away with it even when a target dies.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${HUB_FUZZ_BUILD:-$top/build/fuzz-tree}
total=${HUB_FUZZ_SECONDS:-60}
targets=()
for bin in "$build"/fuzz/fuzz_*; do
    [ -x "$bin" ] && targets+=("$bin")
done
if [ ${#targets[@]} -eq 0 ]; then
    echo "fuzz: no targets in $build/fuzz (run: make fuzz)" >&2
    exit 1
fi
per=$(( total / ${#targets[@]} ))
[ "$per" -lt 5 ] && per=5
work=$(mktemp -d "${TMPDIR:-/tmp}/hub-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0
for bin in "${targets[@]}"; do
    name=$(basename "$bin")
    name=${name#fuzz_}
    mkdir -p "$work/$name"
    if [ -d "$top/test/fuzz/corpus/$name" ]; then
        cp "$top/test/fuzz/corpus/$name"/* "$work/$name/" 2>/dev/null
    fi
    echo "fuzz: $name for ${per}s"
    if TMPDIR=$work UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$bin" -max_total_time="$per" -max_len=65536 -timeout=10 -rss_limit_mb=1024 \
        -print_final_stats=1 -artifact_prefix="$build/fuzz/" "$work/$name" \
        >"$work/$name.log" 2>&1; then
        echo "ok - fuzz_$name: no crash ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" | grep -o '[0-9]*$') runs)"
    else
        failed=1
        echo "not ok - fuzz_$name crashed; input in $build/fuzz/:"
        tail -n 30 "$work/$name.log"
    fi
done
exit "$failed"
