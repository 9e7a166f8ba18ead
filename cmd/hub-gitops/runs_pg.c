/*
 * runs_pg.c: one gitops_runs row per run, when HUB_PG_DSN is set.
 *
 * Best effort by design: the checkout is the job, the row is a report.
 * A database that is down costs one connect attempt per invocation (the
 * failure is remembered in ctx, so `sync --all` or a trigger directory do
 * not wait on it again) and never changes a run's exit code. The row is
 * written after the lock is released, so a slow database never holds up
 * the next sync of the repository.
 */
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "gitops.h"
#include "hub.h"
#include "log.h"
#include "pg.h"
#include "timefmt.h"

struct gitops_db {
    PGconn *conn;
};

static const char insert_sql[] =
    "INSERT INTO gitops_runs (started_at, repo, trigger, delivery, old_rev, new_rev,"
    " commits, outcome, apply_exit, duration_ms, error, branch, backup_ref, trace_id)"
    " VALUES ($1::timestamptz, $2, $3, NULLIF($4, ''), NULLIF($5, ''), NULLIF($6, ''),"
    " $7::integer, $8, NULLIF($9, '')::integer, $10::integer, NULLIF($11, ''), $12,"
    " NULLIF($13, ''), NULLIF($14, ''))";

static PGconn *
db_conn(struct gitops_ctx *ctx)
{
    if (ctx->db != NULL)
        return ctx->db->conn;
    if (ctx->db_failed || !hub_pg_configured())
        return NULL;
    ctx->db = calloc(1, sizeof *ctx->db);
    if (ctx->db == NULL || hub_pg_connect(&ctx->db->conn) != 0) {
        free(ctx->db);
        ctx->db = NULL;
        ctx->db_failed = 1;
        hub_log(HUB_LOG_WARN, "gitops_runs_not_recorded",
                HUB_STR("reason", "database unreachable; syncs go on without rows"));
        return NULL;
    }
    return ctx->db->conn;
}

void
gitops_runs_record(struct gitops_ctx *ctx, const struct gitops_run *run, const char *trace_id)
{
    char started[HUB_TIME_RFC3339_LEN], commits[24], apply[24], duration[24];
    PGconn *conn = db_conn(ctx);

    if (conn == NULL || hub_time_rfc3339_ms(run->started_ns, started, sizeof started) != 0)
        return;
    snprintf(commits, sizeof commits, "%lld", run->commits);
    snprintf(duration, sizeof duration, "%lld", (long long)run->duration_ms);
    if (run->apply_exit >= 0)
        snprintf(apply, sizeof apply, "%d", run->apply_exit);
    else
        apply[0] = '\0';
    const char *const params[] = {
        started, run->repo->name, run->trigger->source, run->trigger->delivery, run->old_rev,
        run->new_rev, commits, gitops_outcome_name(run->outcome), apply, duration, run->error,
        run->repo->branch, run->backup_ref, trace_id,
    };
    /* hub_pg_exec logs the failure; the run's outcome stands. */
    if (hub_pg_exec(conn, "insert gitops_runs", insert_sql, 14, params, NULL) != 0 &&
        PQstatus(conn) != CONNECTION_OK)
        gitops_db_close(ctx);
}

void
gitops_db_close(struct gitops_ctx *ctx)
{
    if (ctx->db == NULL)
        return;
    PQfinish(ctx->db->conn);
    free(ctx->db);
    ctx->db = NULL;
}
