-- 002: host samples written by hub-metrics, one row per metric type per
-- sample. The primary key (host, metric_type, time) makes a replay of the
-- spool idempotent: hub-metrics inserts with ON CONFLICT DO NOTHING.
CREATE TABLE IF NOT EXISTS system_metrics (
    time        timestamptz NOT NULL,
    host        text        NOT NULL,
    os          text        NOT NULL DEFAULT '',
    metric_type text        NOT NULL,
    payload     jsonb       NOT NULL,
    PRIMARY KEY (host, metric_type, time)
);
CREATE INDEX IF NOT EXISTS system_metrics_time_idx
    ON system_metrics (time DESC);
CREATE INDEX IF NOT EXISTS system_metrics_type_time_idx
    ON system_metrics (metric_type, time DESC);
