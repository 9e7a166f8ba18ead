#!/bin/bash
# metrics_spool.sh: the spool is bounded. With the database unreachable and
# --spool-max of about two samples, the oldest samples are dropped whole, the
# count is logged, and the newest sample is always kept.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/metrics/helpers.sh"

export HUB_PG_DSN="host=$(t_tmpdir)/nothing-listens user=postgres dbname=x"
st=$(t_tmpdir)
m_fixture s2 "$st" >/dev/null 2>&1
one=$(wc -c <"$st/spool")
rm -f "$st/spool"
max=$((one * 5 / 2))          # room for two samples, not three
for i in 1 2 3 4 5; do
    m_fixture s2 "$st" --spool-max "$max" >"$st/out$i" 2>&1
    echo $? >>"$st/codes"
done
t_eq "every run exits 75" "75 75 75 75 75" "$(tr '\n' ' ' <"$st/codes" | sed 's/ $//')"
t_check "spool within its bound" test "$(wc -c <"$st/spool")" -le "$max"
t_eq "two whole samples kept" "2|18" \
    "$(cut -f1 "$st/spool" | sort -u | wc -l)|$(wc -l <"$st/spool")"
t_eq "no drop while there was room" 0 "$(cat "$st/out1" "$st/out2" | grep -c spool_dropped)"
t_eq "third run drops one sample and says so" 1 \
    "$(grep spool_dropped "$st/out3" | sed 's/.*"samples":\([0-9]*\).*/\1/')"
t_eq "drops logged on runs 3, 4, 5" 3 "$(cat "$st"/out? | grep -c spool_dropped)"
newest=$(grep -m1 '"msg":"sample"' "$st/out5" | sed 's/.*"sample_time":"\([^"]*\)".*/\1/')
t_eq "the newest sample is kept" 9 "$(grep -c "^$newest" "$st/spool")"
t_exit "--spool-max below 4096 is a usage error" 64 hub-metrics --no-db --spool-max 100
t_done
