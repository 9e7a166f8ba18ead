# 40-readsync.sh (sourced by scripts/demo.sh): hub-readsync moves a bundled
# sample of reading events (test/fixtures/reading-sample.jsonl, Extended-JSON
# lines as mongoexport writes them; one has an unreadable timestamp) into
# reading_analytics, then a rerun shows that nothing is written twice.
demo_say "hub-readsync: reading events from an Extended-JSON file into reading_analytics"
readsync_log=$DEMO_DIR/readsync.log
readsync() {
    "$HUB_BUILD/bin/hub-readsync" "$@" | tee -a "$readsync_log" |
        jq -c 'select(.msg == "readsync_done" or .msg == "readsync_rejected")
               | {msg, status, documents, inserted, duplicates, rejected, _id, reason}
               | with_entries(select(.value != null))' || true
}
echo "-- first sync:"
readsync --from "$HUB_TOP/test/fixtures/reading-sample.jsonl"
echo "-- the same file again (nothing new):"
readsync --from "$HUB_TOP/test/fixtures/reading-sample.jsonl"
psql -X -q -P pager=off -c "
SELECT event_type, count(*) AS events, min(event_timestamp) AS first, max(event_timestamp) AS last
  FROM reading_analytics GROUP BY event_type ORDER BY event_type;"
psql -X -q -P pager=off -c "
SELECT id, start_time, end_time - start_time AS took, status, processed_count, rejected_count
  FROM reading_sync_history ORDER BY id;"
