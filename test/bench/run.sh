#!/bin/bash
# test/bench/run.sh: `make bench`. Runs every test/bench/bench_*.sh (or the
# ones named) against a throwaway PostgreSQL and prints their tables. The
# figures are measurements, not pass/fail checks: the machines are shared
# and noisy, so targets are printed next to the numbers for a person to read.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export HUB_TOP=$top
export HUB_BUILD=${HUB_BUILD:-$top/build}
. "$top/test/pgenv.sh"
# A durable server (fsync on), as in production: commit costs are part of
# what the benchmarks compare.
export HUB_PG_DURABLE=1
hub_pgenv_start "$top" || { echo "bench: could not start PostgreSQL" >&2; exit 69; }

benches=("$@")
if [ ${#benches[@]} -eq 0 ]; then
    for b in "$top"/test/bench/bench_*.sh; do [ -f "$b" ] && benches+=("$b"); done
fi
rc=0
for b in "${benches[@]}"; do
    echo
    echo "### $(basename "$b" .sh)"
    bash "$b" || { echo "bench $(basename "$b") failed (exit $?)"; rc=1; }
done
exit $rc
