-- 005: TimescaleDB where it exists, plain PostgreSQL everywhere else.
--
-- With the extension: system_metrics becomes a hypertable on time. Compression
-- and retention policies are Timescale-licensed features, so they are added
-- only when timescaledb.license is not 'apache' (the Apache-only build refuses
-- them with an error, which would fail the migration).
--
-- Without the extension nothing here runs; retention is then the job of
-- hub_apply_retention() below, called from cron or a timer (see README,
-- "Retention"). Every branch is guarded, so running this file again is a
-- no-op.
DO $$
DECLARE
    license text;
BEGIN
    -- The extension must be both installed and preloaded to be created.
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions
                   WHERE name = 'timescaledb')
       OR current_setting('shared_preload_libraries') NOT LIKE '%timescaledb%' THEN
        RAISE NOTICE 'timescaledb not available: plain tables, retention by hub_apply_retention()';
        RETURN;
    END IF;
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    PERFORM create_hypertable('system_metrics', 'time',
                              if_not_exists => true, migrate_data => true);
    license := coalesce(current_setting('timescaledb.license', true), 'apache');
    IF license = 'apache' THEN
        RAISE NOTICE 'timescaledb license is apache: no compression or retention policy';
        RETURN;
    END IF;
    IF NOT (SELECT compression_enabled FROM timescaledb_information.hypertables
            WHERE hypertable_name = 'system_metrics') THEN
        EXECUTE 'ALTER TABLE system_metrics SET (timescaledb.compress, '
             || 'timescaledb.compress_segmentby = ''host, metric_type'')';
    END IF;
    PERFORM add_compression_policy('system_metrics', INTERVAL '7 days',
                                   if_not_exists => true);
    PERFORM add_retention_policy('system_metrics', INTERVAL '90 days',
                                 if_not_exists => true);
END
$$;

-- Retention for plain PostgreSQL (and a manual lever on TimescaleDB):
-- deletes samples older than keep and returns how many rows went.
CREATE OR REPLACE FUNCTION hub_apply_retention(keep interval DEFAULT '90 days')
RETURNS bigint
LANGUAGE sql
AS $$
    WITH gone AS (
        DELETE FROM system_metrics WHERE time < now() - keep RETURNING 1
    )
    SELECT count(*) FROM gone;
$$;
