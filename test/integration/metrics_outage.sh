#!/bin/bash
# metrics_outage.sh: nothing is lost while PostgreSQL is down. On a second
# throwaway server (not the runner's): stop it, run hub-metrics 5 times (each
# exits 75 and spools its sample), start it, run once: all 6 samples are in
# the table exactly once and the spool is gone. A replay of the same spool
# again adds nothing (ON CONFLICT DO NOTHING).
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/metrics/helpers.sh"
t_need psql

pgdir=$(t_tmpdir)/pg
sock=$("$HUB_TOP/scripts/pg.sh" start "$pgdir") || { t_fail "start second server"; t_done; }
trap '"$HUB_TOP/scripts/pg.sh" stop "$pgdir" >/dev/null 2>&1; _t_cleanup' EXIT
dsn="host=$sock user=postgres dbname=outage"
createdb -h "$sock" -U postgres outage && "$HUB_TOP/scripts/migrate.sh" "$dsn" >/dev/null ||
    { t_fail "prepare database"; t_done; }
export HUB_PG_DSN=$dsn HUB_PG_CONNECT_TIMEOUT=2
st=$(t_tmpdir)

"$HUB_TOP/scripts/pg.sh" stop "$pgdir"
codes=""
for i in 1 2 3 4 5; do
    m_fixture s2 "$st" >>"$st/out" 2>&1
    codes="$codes$? "
done
t_eq "5 runs while the server is down exit 75" "75 75 75 75 75 " "$codes"
t_eq "5 samples spooled (9 rows each)" 45 "$(wc -l <"$st/spool")"
t_eq "5 sample_spooled warnings" 5 "$(m_count_msg sample_spooled "$st/out")"
t_check "the connect error names the socket" grep -q "\"pg_connect_failed\".*$sock" "$st/out"
cp "$st/spool" "$st/spool.copy"

"$HUB_TOP/scripts/pg.sh" start "$pgdir" >/dev/null || { t_fail "restart server"; t_done; }
m_fixture s2 "$st" >"$st/out6" 2>&1
t_eq "the run after the outage exits 0" 0 "$?"
t_eq "all 6 samples present exactly once" "6|54|54" \
    "$(t_sql "$dsn" 'SELECT count(DISTINCT time), count(*), count(DISTINCT (time, metric_type)) FROM system_metrics')"
t_check "spool removed after the replay" test ! -e "$st/spool"
t_eq "replay logged with its row count" 45 "$(grep spool_replayed "$st/out6" | sed 's/.*"rows":\([0-9]*\).*/\1/')"

# replaying the same spool again is idempotent
cp "$st/spool.copy" "$st/spool"
m_fixture s2 "$st" >"$st/out7" 2>&1
t_eq "second replay of the same spool exits 0" 0 "$?"
t_eq "...and adds only the new sample" "7|63" \
    "$(t_sql "$dsn" 'SELECT count(DISTINCT time), count(*) FROM system_metrics')"
t_done
