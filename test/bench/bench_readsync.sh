#!/bin/bash
# bench_readsync.sh: hub-readsync against the local limit and the old
# method, side by side in one run, into the same indexed reading_analytics
# table, emptied before each:
#
#   (a) hub-readsync --from FILE    100,000 Extended-JSON lines of ~1 KB
#   (b) hub-readsync from MongoDB   the same documents served by the
#                                   mongo-wire test server (real driver),
#                                   including marking them processed
#   \copy                           psql \copy of the same rows (the limit)
#   row at a time                   one INSERT ... ON CONFLICT DO NOTHING a
#                                   row, autocommit (the Go handler's way),
#                                   on the first BENCH_ROW_DOCS rows
#
# Prints documents per second for each, then the targets of issue 5:
# (a) >= 50% of the \copy rate and >= 10x the row-at-a-time rate, as TAP.
# A missed target prints "not ok" and makes the run exit 1, as
# bench_gitops.sh does; the figures are for a person to read (the machines
# are shared and noisy).
#
# usage: test/bench/run.sh test/bench/bench_readsync.sh   (starts PostgreSQL)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export HUB_TOP=$top HUB_BUILD=${HUB_BUILD:-$top/build}
PATH="$HUB_BUILD/bin:$HUB_BUILD/test/bin:$PATH"
docs=${BENCH_DOCS:-100000}
row_docs=${BENCH_ROW_DOCS:-5000}
n=0
fail=0
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-readsync.XXXXXX")
chmod 755 "$work"
. "$top/test/fixtures/reading/helpers.sh"
cleanup() { rs_wire_stop; rm -rf "$work"; }
trap cleanup EXIT
say() { printf '# %s\n' "$*"; }
result() { n=$((n + 1)); if [ "$1" = ok ]; then echo "ok $n - $2"; else fail=1; echo "not ok $n - $2"; fi; }
now_ms() { date +%s%3N; }
rate() { awk -v d="$1" -v ms="$2" 'BEGIN { printf "%.0f", (ms > 0 ? d * 1000 / ms : 0) }'; }

dropdb --if-exists bench_readsync >/dev/null 2>&1
createdb -T hub_template bench_readsync || { echo "not ok 1 - create database"; exit 1; }
export HUB_PG_DSN="host=$PGHOST user=${PGUSER:-postgres} dbname=bench_readsync"
sql() { psql -X -qtA "$HUB_PG_DSN" -c "$1"; }
empty() { sql "TRUNCATE reading_analytics" >/dev/null && sql "VACUUM ANALYZE reading_analytics" >/dev/null; }
cols="mongo_id, event_timestamp, source, event_type, payload, meta"

say "generating $docs documents of about 1 KB"
"$RS_FIXTURES/gen.sh" "$docs" 1024 >"$work/docs.jsonl"
say "$(wc -c <"$work/docs.jsonl") bytes"
# Write the 100 MB out now, or its writeback lands in the first timed step.
sync

# (a) from the file
empty
t0=$(now_ms)
hub-readsync --from "$work/docs.jsonl" >"$work/a.log" 2>&1 || { echo "not ok 1 - hub-readsync --from failed"; tail -3 "$work/a.log"; exit 1; }
ms_a=$(( $(now_ms) - t0 ))
[ "$(sql "SELECT count(*) FROM reading_analytics")" = "$docs" ] || { echo "not ok 1 - (a) wrote the wrong count"; exit 1; }

# the same rows as COPY text, for \copy and the row-at-a-time loop
sql "\\copy reading_analytics ($cols) TO '$work/rows.copy'" >/dev/null
sql "CREATE TABLE bench_rows AS SELECT $cols FROM reading_analytics ORDER BY mongo_id LIMIT $row_docs" >/dev/null
psql -X -qtA "$HUB_PG_DSN" -c "SELECT format('INSERT INTO reading_analytics ($cols) VALUES (%L, %L, %L, %L, %L, %L) ON CONFLICT (mongo_id) DO NOTHING;',
    mongo_id, event_timestamp, source, event_type, payload, meta) FROM bench_rows" >"$work/rows.sql"
sync

# \copy
empty
t0=$(now_ms)
sql "\\copy reading_analytics ($cols) FROM '$work/rows.copy'" >/dev/null
ms_copy=$(( $(now_ms) - t0 ))

# row at a time
empty
t0=$(now_ms)
psql -X -q "$HUB_PG_DSN" -f "$work/rows.sql" >/dev/null
ms_row=$(( $(now_ms) - t0 ))

# (b) from MongoDB (the wire server loads first, untimed; no status file,
# whose rewrite after every update would be the test server's cost)
empty
RS_STATUS_FILE=none rs_wire_start "$work" "$work/docs.jsonl" || { echo "not ok 1 - start mongo-wire"; exit 1; }
t0=$(now_ms)
hub-readsync >"$work/b.log" 2>&1 || { echo "not ok 1 - hub-readsync from MongoDB failed"; tail -3 "$work/b.log"; exit 1; }
ms_b=$(( $(now_ms) - t0 ))
rs_wire_stop
processed=$(grep -c '"status" : "processed"' "$RS_DUMP")

r_a=$(rate "$docs" "$ms_a")
r_b=$(rate "$docs" "$ms_b")
r_copy=$(rate "$docs" "$ms_copy")
r_row=$(rate "$row_docs" "$ms_row")
printf '# %-34s %9s %9s %10s\n' "method" "documents" "seconds" "docs/s"
printf '# %-34s %9d %9.2f %10d\n' "(a) hub-readsync --from FILE" "$docs" "$(echo "$ms_a/1000" | bc -l)" "$r_a"
printf '# %-34s %9d %9.2f %10d\n' "(b) hub-readsync from MongoDB" "$docs" "$(echo "$ms_b/1000" | bc -l)" "$r_b"
printf '# %-34s %9d %9.2f %10d\n' "psql \\copy (the local limit)" "$docs" "$(echo "$ms_copy/1000" | bc -l)" "$r_copy"
printf '# %-34s %9d %9.2f %10d\n' "INSERT a row at a time (old way)" "$row_docs" "$(echo "$ms_row/1000" | bc -l)" "$r_row"
say "(a) is $(awk -v a="$r_a" -v c="$r_copy" 'BEGIN { printf "%.0f", 100 * a / c }')% of \\copy and $(awk -v a="$r_a" -v r="$r_row" 'BEGIN { printf "%.1f", a / r }')x row at a time"
say "(b) marked $processed of $docs processed in the test server"

result "$([ $((r_a * 2)) -ge "$r_copy" ] && echo ok)" "(a) at least 50% of the \\copy rate ($r_a vs $r_copy docs/s)"
result "$([ "$r_a" -ge $((r_row * 10)) ] && echo ok)" "(a) at least 10x the row-at-a-time rate ($r_a vs $r_row docs/s)"
result "$([ "$processed" -eq "$docs" ] && echo ok)" "(b) every document marked processed"
echo "1..$n"
exit "$fail"
