/*
 * deliveries_pg.c: one webhook_deliveries row per delivery, written by a
 * background thread so that a slow or absent database never changes an
 * answer to GitHub or its timing.
 *
 * Owns a bounded ring of row copies (allocated once), one thread and one
 * libpq connection. While the database is down rows wait in the ring;
 * reconnects back off from 1 s to 30 s, and when the ring is full the
 * newest row is dropped and counted. Rows are best-effort by design
 * (DESIGN.md): the answer to GitHub is what matters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "hub.h"
#include "log.h"
#include "pg.h"
#include "timefmt.h"
#include "webhook.h"

#define QUEUE_MAX 1024
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

static const char insert_sql[] =
    "INSERT INTO webhook_deliveries (received_at, delivery, event, repo, ref, after_rev,"
    " status, outcome, duration_us, remote_addr, reason, trace_id)"
    " VALUES ($1::timestamptz, NULLIF($2, ''), NULLIF($3, ''), NULLIF($4, ''), NULLIF($5, ''),"
    " NULLIF($6, ''), $7::integer, $8, $9::bigint, NULLIF($10, ''), NULLIF($11, ''),"
    " NULLIF($12, ''))";

struct webhook_deliveries {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    struct webhook_delivery_row *ring;
    size_t head, n;
    int stopping;
    int64_t stop_deadline_ms;
    uint64_t written, dropped;
    PGconn *conn;
    int64_t next_connect_ms;
    int64_t backoff_ms;
};

/* Connect unless connected or backing off. Called unlocked. */
static int
ensure_conn(struct webhook_deliveries *d)
{
    int64_t now = hub_time_mono_ms();

    if (d->conn != NULL && PQstatus(d->conn) == CONNECTION_OK)
        return 0;
    if (d->conn != NULL) {
        PQfinish(d->conn);
        d->conn = NULL;
    }
    if (now < d->next_connect_ms)
        return -1;
    if (hub_pg_connect(&d->conn) == 0) {
        d->backoff_ms = BACKOFF_MIN_MS;
        return 0;
    }
    d->conn = NULL;
    d->next_connect_ms = now + d->backoff_ms;
    d->backoff_ms = d->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : d->backoff_ms * 2;
    return -1;
}

static int
insert_row(struct webhook_deliveries *d, const struct webhook_delivery_row *r)
{
    char ts[HUB_TIME_RFC3339_LEN], status[16], dur[32];
    const char *params[12];

    hub_time_rfc3339_ms(r->received_ns, ts, sizeof ts);
    snprintf(status, sizeof status, "%u", r->status);
    snprintf(dur, sizeof dur, "%lld", (long long)r->duration_us);
    params[0] = ts;
    params[1] = r->delivery;
    params[2] = r->event;
    params[3] = r->repo;
    params[4] = r->ref;
    params[5] = r->after;
    params[6] = status;
    params[7] = r->outcome;
    params[8] = dur;
    params[9] = r->remote;
    params[10] = r->reason;
    params[11] = r->trace_id;
    return hub_pg_exec(d->conn, "insert webhook_deliveries", insert_sql, 12, params, NULL);
}

/* Sleep until there is work, the stop, or the end of a backoff. Locked. */
static void
wait_for_work(struct webhook_deliveries *d, int backing_off)
{
    struct timespec until;

    if (d->stopping || (d->n > 0 && !backing_off))
        return;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    pthread_cond_timedwait(&d->wake, &d->mu, &until);
}

static void *
writer_main(void *arg)
{
    struct webhook_deliveries *d = arg;
    int backing_off = 0;

    pthread_mutex_lock(&d->mu);
    for (;;) {
        struct webhook_delivery_row row;
        int rc;

        wait_for_work(d, backing_off);
        if (d->n == 0 && d->stopping)
            break;
        if (d->stopping && hub_time_mono_ms() >= d->stop_deadline_ms) {
            d->dropped += d->n;
            d->n = 0;
            break;
        }
        if (d->n == 0)
            continue;
        row = d->ring[d->head];
        pthread_mutex_unlock(&d->mu);
        rc = ensure_conn(d);
        if (rc == 0)
            rc = insert_row(d, &row);
        pthread_mutex_lock(&d->mu);
        backing_off = rc != 0 && d->conn == NULL;
        if (rc == 0 || !backing_off) {
            /* written, or refused by a live server (a data error: retrying
             * the same row would fail the same way) */
            d->head = (d->head + 1) % QUEUE_MAX;
            d->n--;
            if (rc == 0)
                d->written++;
            else
                d->dropped++;
        }
        if (backing_off && d->stopping) {
            d->dropped += d->n;
            d->n = 0;
        }
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

int
webhook_deliveries_start(struct webhook_deliveries **out)
{
    struct webhook_deliveries *d;
    int err;

    *out = NULL;
    if (!hub_pg_configured())
        return 0;
    d = calloc(1, sizeof *d);
    if (d != NULL)
        d->ring = calloc(QUEUE_MAX, sizeof *d->ring);
    if (d == NULL || d->ring == NULL) {
        free(d);
        return hub_fail(EX_OSERR, "deliveries_start_failed", HUB_STR("error", "out of memory"));
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->wake, NULL);
    d->backoff_ms = BACKOFF_MIN_MS;
    err = pthread_create(&d->thread, NULL, writer_main, d);
    if (err != 0) {
        free(d->ring);
        free(d);
        return hub_fail(EX_OSERR, "deliveries_start_failed", HUB_STR("error", strerror(err)));
    }
    *out = d;
    return 0;
}

void
webhook_deliveries_add(struct webhook_deliveries *d, const struct webhook_delivery_row *row)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    if (d->n < QUEUE_MAX && !d->stopping) {
        d->ring[(d->head + d->n) % QUEUE_MAX] = *row;
        d->n++;
        pthread_cond_signal(&d->wake);
    } else {
        d->dropped++;
    }
    pthread_mutex_unlock(&d->mu);
}

void
webhook_deliveries_counts(struct webhook_deliveries *d, uint64_t *written, uint64_t *dropped)
{
    *written = *dropped = 0;
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    *written = d->written;
    *dropped = d->dropped;
    pthread_mutex_unlock(&d->mu);
}

void
webhook_deliveries_stop(struct webhook_deliveries *d, unsigned flush_ms)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    d->stopping = 1;
    d->stop_deadline_ms = hub_time_mono_ms() + flush_ms;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    if (d->dropped > 0)
        hub_log(HUB_LOG_WARN, "deliveries_rows_dropped", HUB_INT("dropped", d->dropped),
                HUB_INT("written", d->written));
    if (d->conn != NULL)
        PQfinish(d->conn);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->wake);
    free(d->ring);
    free(d);
}
