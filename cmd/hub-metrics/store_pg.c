/*
 * store_pg.c: a sample's way into system_metrics. The spool goes first
 * (oldest samples first, in batches, each batch one INSERT ... ON CONFLICT
 * DO NOTHING, so a replay interrupted halfway is simply repeated), then
 * the sample itself in one statement, one transaction. Whenever the
 * database fails, the sample goes to the spool instead: nothing is lost
 * while PostgreSQL is away. Owns the connection (kept for the next sample
 * in daemon mode, dropped after any failure).
 */
#include "hub.h"
#include "log.h"
#include "metrics.h"

#define REPLAY_BATCH 500

static int
flush_replay(void *arg, const struct metrics_row *rows, size_t n)
{
    struct metrics_store *st = arg;
    uint64_t inserted = 0;
    int rc = metrics_pg_insert(st->pg, rows, n, &inserted);

    /* A batch the server rejects as bad data would block the spool forever:
     * it is dropped (the error line above names why) and the rest goes on. */
    if (rc == EX_DATAERR) {
        hub_log(HUB_LOG_ERROR, "spool_rows_rejected", HUB_INT("rows", n));
        return 0;
    }
    return rc;
}

static int
spool(struct metrics_store *st, const struct metrics_row *rows, size_t n, int why)
{
    uint64_t dropped = 0;
    int rc = metrics_spool_append(st->spool_path, rows, n, st->spool_max, &dropped);

    if (rc != 0)
        return rc;
    hub_log(HUB_LOG_WARN, "sample_spooled", HUB_STR("file", st->spool_path),
            HUB_INT("rows", n), HUB_STR("time", n > 0 ? rows[0].time : NULL));
    return why == EX_CONFIG ? EX_CONFIG : EX_TEMPFAIL;
}

static void
drop_connection(struct metrics_store *st)
{
    metrics_pg_close(st->pg);
    st->pg = NULL;
}

int
metrics_store_sample(struct metrics_store *st, const struct metrics_row *rows, size_t n)
{
    uint64_t replayed = 0, inserted = 0;
    int rc = 0;

    if (st->pg == NULL)
        rc = metrics_pg_connect(&st->pg);
    if (rc != 0)
        return spool(st, rows, n, rc);
    rc = metrics_spool_replay(st->spool_path, REPLAY_BATCH, flush_replay, st, &replayed);
    if (rc != 0) {
        drop_connection(st);
        return spool(st, rows, n, rc);
    }
    if (replayed > 0)
        hub_log(HUB_LOG_INFO, "spool_replayed", HUB_STR("file", st->spool_path),
                HUB_INT("rows", replayed));
    rc = metrics_pg_insert(st->pg, rows, n, &inserted);
    if (rc == EX_DATAERR)
        return rc;
    if (rc != 0) {
        drop_connection(st);
        return spool(st, rows, n, rc);
    }
    return 0;
}

void
metrics_store_release(struct metrics_store *st)
{
    drop_connection(st);
}
