#!/bin/bash
# readsync_kill.sh: exactly once under SIGKILL. A 20,000-document sync from
# the mongo-wire server is killed with SIGKILL at 20 random moments, each
# time rerun; after every kill nothing is processed in MongoDB that
# PostgreSQL lacks, PostgreSQL holds nothing the source lacks, and no
# mongo_id twice; at the end PostgreSQL holds exactly the source's
# documents, each once, and every one of them is processed.
#
# The kill moment is random (RS_SEED picks the sequence; the log names it)
# and scaled to the work left, so the 20 kills spread over the whole sync
# instead of all landing at its start.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/reading/helpers.sh"

dir=$(t_tmpdir)
export HUB_PG_DSN
HUB_PG_DSN=$(t_newdb readsync_kill) || { t_fail "create database"; t_done; }
trap 'rs_wire_stop; _t_cleanup' EXIT
seed=${RS_SEED:-$$}
RANDOM=$seed
echo "# RS_SEED=$seed"

total=20000
"$RS_FIXTURES/gen.sh" "$total" 200 >"$dir/src.jsonl"
rs_fixture_ids "$dir/src.jsonl" >"$dir/src.ids"
rs_wire_start "$dir" "$dir/src.jsonl" || { t_fail "start mongo-wire"; t_done; }

# Invariants that must hold at any moment; prints what is wrong.
check_state() {
    rs_ids_with processed >"$dir/processed.ids"
    rs_pg_ids "$HUB_PG_DSN" >"$dir/pg.ids"
    local lost extra dup
    lost=$(comm -23 "$dir/processed.ids" "$dir/pg.ids" | wc -l)
    extra=$(comm -13 "$dir/src.ids" "$dir/pg.ids" | wc -l)
    dup=$(uniq -d "$dir/pg.ids" | wc -l)
    [ "$lost" -eq 0 ] && [ "$extra" -eq 0 ] && [ "$dup" -eq 0 ] && return 0
    echo "processed but not in PostgreSQL: $lost; in PostgreSQL but not in the source: $extra; twice: $dup"
    return 1
}

kills=0 attempts=0 bad=""
while [ "$kills" -lt 20 ] && [ "$attempts" -lt 60 ]; do
    attempts=$((attempts + 1))
    left=$(( total - $(rs_ids_with processed | wc -l) ))
    # ~25 ms to connect, then about 20 documents a millisecond: aim within
    # the work left divided among the kills left
    span=$(( 25 + left / 20 / (20 - kills) ))
    delay=$(( 5 + RANDOM % span ))
    hub-readsync --batch-size 500 >>"$dir/runs.log" 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    if kill -KILL "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        kills=$((kills + 1))
        echo "# kill $kills after ${delay} ms: $(rs_ids_with processed | wc -l) processed, $(t_sql "$HUB_PG_DSN" "SELECT count(*) FROM reading_analytics") rows"
    else
        wait "$pid" 2>/dev/null
        echo "# run finished before the kill at ${delay} ms"
    fi
    if ! msg=$(check_state); then
        bad="after kill $kills: $msg"
        break
    fi
done
t_eq "20 SIGKILLs landed during the sync" 20 "$kills"
t_eq "after every kill: nothing processed that PostgreSQL lacks, no extra, no twice" "" "$bad"

hub-readsync --batch-size 500 >"$dir/out" 2>&1
t_eq "the final rerun exits 0" 0 $?
t_eq "PostgreSQL holds exactly the source's documents" "$(cat "$dir/src.ids")" "$(rs_pg_ids "$HUB_PG_DSN")"
t_eq "each of them once" "$total|$total" \
    "$(t_sql "$HUB_PG_DSN" "SELECT count(*), count(DISTINCT mongo_id) FROM reading_analytics")"
t_eq "every document is processed in MongoDB" "$total" "$(rs_ids_with processed | wc -l)"
t_check "and the rows are whole (one row checked against its source)" \
    test "$(t_sql "$HUB_PG_DSN" "SELECT event_type || '|' || (payload->>'words') || '|' || (meta->>'seq')
                                 FROM reading_analytics WHERE mongo_id = '650000000000000000012345'")" = "page_view|2445|12345"
rs_wire_stop
t_done
