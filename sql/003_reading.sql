-- 003: reading events moved from MongoDB by hub-readsync, and one history row
-- per sync run. Column names are those of the Go proxy, so its dashboards
-- keep working; rejected_count is new.
CREATE TABLE IF NOT EXISTS reading_analytics (
    id              bigserial   PRIMARY KEY,
    mongo_id        text        NOT NULL UNIQUE,
    event_timestamp timestamptz,
    source          text,
    event_type      text,
    payload         jsonb,
    meta            jsonb,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS reading_analytics_event_ts_idx
    ON reading_analytics (event_timestamp DESC);

CREATE TABLE IF NOT EXISTS reading_sync_history (
    id              bigserial   PRIMARY KEY,
    start_time      timestamptz NOT NULL,
    end_time        timestamptz,
    status          text        NOT NULL,
    processed_count integer     NOT NULL DEFAULT 0,
    error_message   text
);
ALTER TABLE reading_sync_history
    ADD COLUMN IF NOT EXISTS rejected_count integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS reading_sync_history_start_idx
    ON reading_sync_history (start_time DESC);
