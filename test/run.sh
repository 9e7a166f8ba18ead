#!/bin/bash
# test/run.sh: the hub's test runner.
#
# usage: test/run.sh [TEST...]
#   TEST is a unit test binary or a test/integration/*.sh script; without
#   one, every unit test in $HUB_BUILD/test and every integration script
#   runs. Each test prints TAP; the runner counts the results and ends with
#   the line "N passed, N failed" (", N skipped" when any were skipped, each
#   named above it).
#
# The log of a passing test is not shown. A figure a test is meant to show
# every run (an exposure score, a measured rate) goes on a TAP comment line
# that starts with "# report:"; the runner copies each such line, unchanged
# and in order, to its own output, passing or failing, before the test's
# timing line.
#
# It starts a throwaway PostgreSQL 15 (scripts/pg.sh) on a private socket
# directory, as user postgres when run as root, creates the template
# database hub_template with the migrations applied, and stops the server
# on exit, whatever happened.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export HUB_TOP=$top
export HUB_BUILD=${HUB_BUILD:-$top/build}
per_test_timeout=${HUB_TEST_TIMEOUT:-300}

. "$top/test/pgenv.sh"

passed=0
failed=0
skipped=0
failures=()
skips=()

if ! hub_pgenv_start "$top"; then
    echo "not ok - start PostgreSQL and apply migrations (see above)"
    echo "0 passed, 1 failed"
    exit 1
fi
work=$HUB_TEST_WORK
mkdir -p "$work/logs"

# Count one test's TAP output; a crash without a "not ok" is a failure too.
tally() {
    local name=$1 log=$2 rc=$3 line n_lines=0 bad_before=$failed
    while IFS= read -r line; do
        case "$line" in
        "not ok "*)
            failed=$((failed + 1)); n_lines=$((n_lines + 1))
            failures+=("$name: ${line#not ok }") ;;
        "ok "*"# SKIP"*|"ok "*"# skip"*)
            skipped=$((skipped + 1)); n_lines=$((n_lines + 1))
            skips+=("$name: ${line#ok }") ;;
        "ok "*)
            passed=$((passed + 1)); n_lines=$((n_lines + 1)) ;;
        "# report:"*)
            printf '%s\n' "$line" ;;
        esac
    done < "$log"
    if [ "$rc" -ne 0 ] && [ "$failed" -eq "$bad_before" ]; then
        failed=$((failed + 1))
        failures+=("$name: exited $rc$( [ "$rc" -eq 124 ] && echo " (timed out after ${per_test_timeout}s)")")
    elif [ "$n_lines" -eq 0 ]; then
        failed=$((failed + 1))
        failures+=("$name: ran no test")
    fi
    if [ "$failed" -ne "$bad_before" ]; then
        echo "--- $name (log tail)"
        tail -n 40 "$log" | sed 's/^/    /'
    fi
}

# Under make check-sanitize every report of every process a test starts (a
# server in the background too, whose stderr no test reads) goes to a file
# of its own; any such file fails the test that caused it.
asan_base=${ASAN_OPTIONS:-}
ubsan_base=${UBSAN_OPTIONS:-}
sanitizer_options() {
    local dir="$work/sanitizer/$1"
    mkdir -p "$dir"
    export ASAN_OPTIONS="$asan_base:log_path=$dir/asan"
    export UBSAN_OPTIONS="$ubsan_base:log_path=$dir/ubsan"
}

sanitizer_reports() {
    local name=$1 f
    for f in "$work/sanitizer/$name"/*; do
        [ -s "$f" ] || continue
        failed=$((failed + 1))
        failures+=("$name: sanitizer report $(basename "$f")")
        echo "--- $name: $(basename "$f")"
        head -n 30 "$f" | sed 's/^/    /'
    done
}

run_one() {
    local t=$1 name log rc start
    name=$(basename "$t")
    log="$work/logs/$name.log"
    start=$(date +%s)
    [ "${HUB_SANITIZE:-0}" = 1 ] && sanitizer_options "$name"
    case "$t" in
    *.sh) timeout -k 10 "$per_test_timeout" bash "$t" >"$log" 2>&1 </dev/null ;;
    *)    CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$per_test_timeout" "$t" >"$log" 2>&1 </dev/null ;;
    esac
    rc=$?
    tally "$name" "$log" "$rc"
    [ "${HUB_SANITIZE:-0}" = 1 ] && sanitizer_reports "$name"
    echo "# $name: $(( $(date +%s) - start ))s"
}

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
    for t in "$HUB_BUILD"/test/test_*; do [ -x "$t" ] && tests+=("$t"); done
    for t in "$top"/test/integration/*.sh; do [ -f "$t" ] && tests+=("$t"); done
fi

for t in "${tests[@]}"; do
    run_one "$t"
done

for f in "${failures[@]}"; do echo "FAILED: $f"; done
for s in "${skips[@]}"; do echo "SKIPPED: $s"; done
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
