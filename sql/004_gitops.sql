-- 004: what an operator wants on the GitOps dashboard. Both tables are
-- written on a best-effort basis: hub-webhook answers GitHub and hub-gitops
-- syncs even while the database is down.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id          bigserial   PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    delivery    text,
    event       text,
    repo        text,
    ref         text,
    after_rev   text,
    status      integer     NOT NULL,
    outcome     text        NOT NULL,
    duration_us bigint,
    remote_addr text
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_received_idx
    ON webhook_deliveries (received_at DESC);

CREATE TABLE IF NOT EXISTS gitops_runs (
    id          bigserial   PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    repo        text        NOT NULL,
    trigger     text        NOT NULL DEFAULT 'manual',
    delivery    text,
    old_rev     text,
    new_rev     text,
    commits     integer     NOT NULL DEFAULT 0,
    outcome     text        NOT NULL,
    apply_exit  integer,
    duration_ms integer     NOT NULL DEFAULT 0,
    error       text
);
CREATE INDEX IF NOT EXISTS gitops_runs_started_idx
    ON gitops_runs (started_at DESC);
CREATE INDEX IF NOT EXISTS gitops_runs_repo_idx
    ON gitops_runs (repo, started_at DESC);
