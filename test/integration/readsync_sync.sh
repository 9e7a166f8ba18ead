#!/bin/bash
# readsync_sync.sh: hub-readsync against the mongo-wire test server through
# the real mongo-c-driver: full sync, rerun is a no-op, incremental sync,
# --limit, rejected documents, --dry-run, the history row, the summary line
# and progress lines.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/reading/helpers.sh"
t_need jq

dir=$(t_tmpdir)
export HUB_PG_DSN
HUB_PG_DSN=$(t_newdb readsync_sync) || { t_fail "create database"; t_done; }
gen=$RS_FIXTURES/gen.sh
rs() { hub-readsync "$@" >"$dir/out" 2>&1; }
summary() { grep '"msg":"readsync_done"' "$dir/out" | jq -r "$1"; }
count() { t_sql "$HUB_PG_DSN" "SELECT count(*) FROM reading_analytics"; }
trap 'rs_wire_stop; _t_cleanup' EXIT

# --- full sync: 250 documents, batches of 100
"$gen" 250 >"$dir/src.jsonl"
rs_wire_start "$dir" "$dir/src.jsonl" || { t_fail "start mongo-wire"; t_done; }
rs --batch-size 100
t_eq "full sync exits 0" 0 $?
t_eq "full sync: 250 rows" 250 "$(count)"
t_eq "full sync: PostgreSQL holds exactly the source's _ids" \
    "$(rs_fixture_ids "$dir/src.jsonl")" "$(rs_pg_ids "$HUB_PG_DSN")"
t_eq "full sync: every document is processed" 250 "$(rs_ids_with processed | wc -l)"
t_eq "full sync: summary" "success 250 250 250 0 3" \
    "$(summary '[.status,.documents,.inserted,.processed,.rejected,.batches]|map(tostring)|join(" ")')"
t_eq "full sync: history row" "success|250|0|" \
    "$(t_sql "$HUB_PG_DSN" "SELECT status, processed_count, rejected_count, coalesce(error_message,'')
                            FROM reading_sync_history ORDER BY id DESC LIMIT 1")"
t_eq "full sync: one update a batch" 3 "$(grep -c '"msg":"mw_update"' "$dir/mongo-wire.log")"
t_eq "full sync: a row is mapped" \
    "web|page_view|2023-11-14 22:13:20+00|a-0|u-0" \
    "$(t_sql "$HUB_PG_DSN" "SELECT source, event_type, event_timestamp, payload->>'article', meta->>'user'
                            FROM reading_analytics WHERE mongo_id = '650000000000000000000000'")"

# --- rerun: nothing left to do
rs --batch-size 100
t_eq "rerun exits 0" 0 $?
t_eq "rerun is a no-op: still 250 rows" 250 "$(count)"
t_eq "rerun: summary shows nothing read" "success 0 0" \
    "$(summary '[.status,.documents,.inserted]|map(tostring)|join(" ")')"
t_eq "rerun: a second history row" 2 "$(t_sql "$HUB_PG_DSN" "SELECT count(*) FROM reading_sync_history")"
rs_wire_stop

# --- incremental: the collection as left, plus 40 new documents
cp "$RS_DUMP" "$dir/src2.jsonl"
"$gen" 40 300 250 >>"$dir/src2.jsonl"
rs_wire_start "$dir" "$dir/src2.jsonl" || { t_fail "restart mongo-wire"; t_done; }
rs
t_eq "incremental sync exits 0" 0 $?
t_eq "incremental: only the 40 new documents read" "40 40" \
    "$(summary '[.documents,.inserted]|map(tostring)|join(" ")')"
t_eq "incremental: 290 rows" 290 "$(count)"
t_eq "incremental: all 290 processed" 290 "$(rs_ids_with processed | wc -l)"
rs_wire_stop

# --- --limit, and its rejecting twin
t_sql "$HUB_PG_DSN" "TRUNCATE reading_analytics" >/dev/null
rs_wire_start "$dir" "$dir/src.jsonl" || { t_fail "restart mongo-wire"; t_done; }
rs --limit 7 --batch-size 3
t_eq "--limit 7 exits 0" 0 $?
t_eq "--limit 7: 7 rows" 7 "$(count)"
t_eq "--limit 7: the 7 lowest _ids are processed" \
    "$(rs_fixture_ids "$dir/src.jsonl" | head -7)" "$(rs_ids_with processed)"
t_eq "--limit 7: the rest is still ingested" 243 "$(rs_ids_with ingested | wc -l)"
t_exit "--limit -1 is a usage error" 64 hub-readsync --limit -1
t_exit "--batch-size 0 is a usage error" 64 hub-readsync --batch-size 0
t_exit "an operand is a usage error" 64 hub-readsync extra

# --- --dry-run: reads, maps, counts; writes and marks nothing
rows_before=$(count)
hist_before=$(t_sql "$HUB_PG_DSN" "SELECT count(*) FROM reading_sync_history")
rs --dry-run
t_eq "--dry-run exits 0" 0 $?
t_eq "--dry-run: counts the 243 remaining" "243 0 true" \
    "$(summary '[.documents,.inserted,.dry_run]|map(tostring)|join(" ")')"
t_eq "--dry-run: no row written" "$rows_before" "$(count)"
t_eq "--dry-run: no history row" "$hist_before" \
    "$(t_sql "$HUB_PG_DSN" "SELECT count(*) FROM reading_sync_history")"
t_eq "--dry-run: nothing marked" 243 "$(rs_ids_with ingested | wc -l)"
rs_wire_stop

# --- rejected documents: marked rejected with a reason, never block a batch
cat "$RS_FIXTURES/../reading-rejects.jsonl" >"$dir/rej.jsonl"
"$gen" 5 >>"$dir/rej.jsonl"
t_sql "$HUB_PG_DSN" "TRUNCATE reading_analytics" >/dev/null
rs_wire_start "$dir" "$dir/rej.jsonl" || { t_fail "restart mongo-wire"; t_done; }
nrej=$(grep -c . "$RS_FIXTURES/../reading-rejects.jsonl")
rs --batch-size 4
t_eq "rejects: exit 0" 0 $?
t_eq "rejects: the good documents are written" 5 "$(count)"
t_eq "rejects: each bad document is marked rejected" "$nrej" "$(rs_ids_with rejected | wc -l)"
t_eq "rejects: the good ones are processed" 5 "$(rs_ids_with processed | wc -l)"
t_eq "rejects: counted in the summary" "$nrej" "$(summary .rejected)"
t_eq "rejects: one log line each, with _id and reason" "$nrej" \
    "$(grep '"msg":"readsync_rejected"' "$dir/out" | jq -r 'select(._id != null and .reason != null) | ._id' | wc -l)"
t_eq "rejects: counted in the history row" "$nrej" \
    "$(t_sql "$HUB_PG_DSN" "SELECT rejected_count FROM reading_sync_history ORDER BY id DESC LIMIT 1")"
rs --batch-size 4
t_eq "rejects: a rerun does not read them again" "0 0" \
    "$(summary '[.documents,.rejected]|map(tostring)|join(" ")')"
rs_wire_stop
t_eq "rejects: reject_reason stored in MongoDB" "timestamp: not an ISO-8601 date and time: \"yesterday\"" \
    "$(jq -r 'select(._id == "rej-bad-date") | .reject_reason' "$RS_DUMP")"
t_eq "rejects: NUL in payload named as the reason" "payload: holds a NUL character, which jsonb cannot store" \
    "$(jq -r 'select(._id == "rej-nul-payload") | .reject_reason' "$RS_DUMP")"

# --- progress lines on a long run (interval shortened, server slowed)
rs_wire_start "$dir" "$dir/src.jsonl" --stall-ms 300 || { t_fail "restart mongo-wire"; t_done; }
rs --batch-size 20 --limit 100 --progress-interval 1
t_eq "slow run exits 0" 0 $?
t_check "progress lines carry documents and a rate" \
    jq -e -s '[.[] | select(.msg == "readsync_progress" and .documents > 0 and .docs_per_s > 0)] | length >= 1' "$dir/out"
rs_wire_stop

t_done
