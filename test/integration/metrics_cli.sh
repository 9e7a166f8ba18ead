#!/bin/bash
# metrics_cli.sh: hub-metrics' command line: --help, --version, usage errors
# (64, for flags and for their HUB_* twins), no database configured (78).
. "$(dirname "$0")/../lib.sh"

out=$(hub-metrics --help)
t_eq "--help exits 0" 0 "$?"
t_check "--help shows the synopsis" grep -q '^usage: hub-metrics' <<<"$out"
for opt in --interval --no-db --state-dir --proc-root --sys-root --spool-max --exclude-iface --exclude-fs HUB_PG_DSN HUB_METRICS_INTERVAL "75 temporary"; do
    t_check "--help names $opt" grep -q -- "$opt" <<<"$out"
done
t_eq "--version" "hub-metrics 0.1.0" "$(hub-metrics --version)"
t_exit "unknown flag -> 64" 64 hub-metrics --frobnicate
t_exit "--interval not a number -> 64" 64 hub-metrics --no-db --interval soon
t_exit "--interval out of range -> 64" 64 hub-metrics --no-db --interval 999999
t_exit "HUB_METRICS_INTERVAL bad -> 64" 64 env HUB_METRICS_INTERVAL=x hub-metrics --no-db
t_exit "HUB_METRICS_NO_DB bad -> 64" 64 env HUB_METRICS_NO_DB=maybe hub-metrics
t_exit "an operand -> 64" 64 hub-metrics --no-db extra
t_exit "empty --proc-root -> 64" 64 hub-metrics --no-db --proc-root ''
t_exit "no database configured -> 78" 78 env -u HUB_PG_DSN -u PGHOST -u PGDATABASE hub-metrics
t_check "...and the fix is named" sh -c 'env -u HUB_PG_DSN -u PGHOST -u PGDATABASE hub-metrics | grep -q "set HUB_PG_DSN"'
t_exit "TLS demanded -> 78" 78 env HUB_PG_DSN="host=127.0.0.1 sslmode=require dbname=x" \
    hub-metrics --state-dir "$(t_tmpdir)"
t_exit "malformed DSN -> 78" 78 env HUB_PG_DSN="host='unterminated" hub-metrics --state-dir "$(t_tmpdir)"
t_exit "database without a state directory -> 78" 78 env -u STATE_DIRECTORY HUB_PG_DSN="host=/x" hub-metrics
t_exit "flag wins over its twin (one sample, not a daemon)" 0 \
    env HUB_METRICS_INTERVAL=3600 hub-metrics --no-db --interval 0 --warmup 0
t_done
