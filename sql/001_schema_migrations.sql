-- 001: the ledger of applied migrations. scripts/migrate.sh records each file
-- here after it ran; every file is also safe to run again on its own.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
