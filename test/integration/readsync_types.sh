#!/bin/bash
# readsync_types.sh: the mapping of every BSON type, every _id form and
# every timestamp form (test/fixtures/reading-types.jsonl) lands in
# PostgreSQL exactly as test/fixtures/reading/types.expected says, whether
# the documents come from --from FILE, from stdin, or from MongoDB (the
# mongo-wire server, through the real driver); _ids that differ only in
# type stay distinct rows. Plus the input errors of --from: unreadable
# file 65, garbage lines rejected, nothing at all 65.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/reading/helpers.sh"
t_need jq

dir=$(t_tmpdir)
fixture=$HUB_TOP/test/fixtures/reading-types.jsonl
expected=$RS_FIXTURES/types.expected
export HUB_PG_DSN
HUB_PG_DSN=$(t_newdb readsync_types) || { t_fail "create database"; t_done; }
trap 'rs_wire_stop; _t_cleanup' EXIT
rows() {
    t_sql "$HUB_PG_DSN" "SELECT mongo_id, event_timestamp, source, event_type, payload, meta
                         FROM reading_analytics ORDER BY event_type"
}
reset() { t_sql "$HUB_PG_DSN" "TRUNCATE reading_analytics" >/dev/null; }

hub-readsync --from "$fixture" >"$dir/out" 2>&1
t_eq "--from FILE exits 0" 0 $?
t_eq "--from FILE: every type mapped as documented" "$(cat "$expected")" "$(rows)"
t_eq "--from FILE: history row" "success|10" \
    "$(t_sql "$HUB_PG_DSN" "SELECT status, processed_count FROM reading_sync_history ORDER BY id DESC LIMIT 1")"
hub-readsync --from "$fixture" >"$dir/out" 2>&1
t_eq "--from FILE twice: no duplicates" "0 10" \
    "$(jq -r 'select(.msg == "readsync_done") | "\(.inserted) \(.duplicates)"' "$dir/out")"

reset
hub-readsync --from - <"$fixture" >"$dir/out" 2>&1
t_eq "--from - (stdin) exits 0" 0 $?
t_eq "--from -: the same rows" "$(cat "$expected")" "$(rows)"

reset
rs_wire_start "$dir" "$fixture" || { t_fail "start mongo-wire"; t_done; }
hub-readsync --batch-size 3 >"$dir/out" 2>&1
t_eq "from MongoDB exits 0" 0 $?
t_eq "from MongoDB: the same rows" "$(cat "$expected")" "$(rows)"
t_eq "from MongoDB: all 10 processed" 10 "$(rs_ids_with processed | wc -l)"
rs_wire_stop

# --- _ids that differ only in type are different documents: "42", 42 and
# NumberLong(42) are three rows, not one row and two "duplicates" marked
# processed and lost
reset
printf '%s\n' \
    '{"_id":"42","status":"ingested","event_type":"id_string"}' \
    '{"_id":{"$numberInt":"42"},"status":"ingested","event_type":"id_int32"}' \
    '{"_id":{"$numberLong":"42"},"status":"ingested","event_type":"id_int64"}' >"$dir/ids42.jsonl"
ids42='{ "$numberInt" : "42" }|id_int32
{ "$numberLong" : "42" }|id_int64
42|id_string'
id_rows() { t_sql "$HUB_PG_DSN" "SELECT mongo_id, event_type FROM reading_analytics ORDER BY event_type"; }
inserted_dups() { jq -r 'select(.msg == "readsync_done") | "\(.inserted) \(.duplicates)"' "$dir/out"; }
hub-readsync --from "$dir/ids42.jsonl" >"$dir/out" 2>&1
t_eq "--from: _id \"42\", 42, NumberLong(42) exits 0" 0 $?
t_eq "--from: _id \"42\", 42, NumberLong(42) are three rows" "$ids42" "$(id_rows)"
t_eq "--from: _id \"42\", 42, NumberLong(42): 3 inserted, no duplicate" "3 0" "$(inserted_dups)"
# A collection cannot hold both 42 and NumberLong(42) (MongoDB compares
# numbers by value, and so does mongo-wire), but "42" and 42 it can.
reset
head -2 "$dir/ids42.jsonl" >"$dir/ids42-mongo.jsonl"
rs_wire_start "$dir" "$dir/ids42-mongo.jsonl" || { t_fail "start mongo-wire"; t_done; }
hub-readsync >"$dir/out" 2>&1
t_eq "from MongoDB: _id \"42\" and 42 exits 0" 0 $?
t_eq "from MongoDB: _id \"42\" and 42 are two rows" "$(sed -n '1p;3p' <<<"$ids42")" "$(id_rows)"
t_eq "from MongoDB: _id \"42\" and 42: 2 inserted, no duplicate" "2 0" "$(inserted_dups)"
t_eq "from MongoDB: both processed" 2 "$(rs_ids_with processed | wc -l)"
rs_wire_stop

# --- --from input errors
reset
t_exit "--from a missing file: 65" 65 hub-readsync --from "$dir/nope.jsonl"
t_exit "--from a directory: 65" 65 hub-readsync --from "$dir"
printf 'not json\n[1,2]\n' >"$dir/garbage.jsonl"
t_exit "--from a file with no document at all: 65" 65 hub-readsync --from "$dir/garbage.jsonl"
{ head -3 "$fixture"; echo '{"_id": broken'; echo; tail -2 "$fixture"; } >"$dir/mixed.jsonl"
hub-readsync --from "$dir/mixed.jsonl" >"$dir/out" 2>&1
t_eq "--from with one broken line: exit 0" 0 $?
t_eq "--from with one broken line: the 5 good documents written" 5 \
    "$(t_sql "$HUB_PG_DSN" "SELECT count(*) FROM reading_analytics")"
t_eq "--from with one broken line: it is counted as rejected, with its line number" "1 line 4" \
    "$(jq -r 'select(.msg == "readsync_done") | .rejected' "$dir/out") $(jq -r 'select(.msg == "readsync_rejected") | .reason' "$dir/out" | cut -d: -f1)"
t_eq "--dry-run --from writes nothing" "0" \
    "$(reset; hub-readsync --dry-run --from "$fixture" >/dev/null; t_sql "$HUB_PG_DSN" "SELECT count(*) FROM reading_analytics")"

t_done
