-- 007: hub-gitops' run rows carry what links them to the rest of the story:
-- the branch synced, the backup ref a diverged reset kept, and the trace id
-- of the run's span (joined to the webhook delivery's trace), so a Grafana
-- table of runs can open the trace in Tempo. Idempotent.
ALTER TABLE gitops_runs ADD COLUMN IF NOT EXISTS branch     text;
ALTER TABLE gitops_runs ADD COLUMN IF NOT EXISTS backup_ref text;
ALTER TABLE gitops_runs ADD COLUMN IF NOT EXISTS trace_id   text;
CREATE INDEX IF NOT EXISTS gitops_runs_outcome_idx
    ON gitops_runs (outcome, started_at DESC);
