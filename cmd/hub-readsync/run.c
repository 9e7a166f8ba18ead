/*
 * run.c: one hub-readsync run, as three threads and three batches.
 *
 * The reading thread (main) takes documents from the source and maps each
 * into a batch; the writing thread writes a full batch to PostgreSQL in one
 * transaction; the marking thread then marks it in the source. So while
 * batch i is marked, batch i+1 is written and batch i+2 read and mapped:
 * PostgreSQL never waits for the mapping or for MongoDB's update
 * (test/bench/bench_readsync.sh). The order that makes the sync
 * exactly-once is unchanged: every batch is committed before it is marked,
 * and batches are written one at a time, in order, and marked in order. A
 * kill while batch i+1 is committed but i is not yet marked leaves both
 * unmarked: the rerun reads them again and skips their rows as present.
 *
 * The run ends when the source is drained, --limit is reached, or
 * SIGTERM/SIGINT asks to stop (the batches in hand are finished first, then
 * exit 75), and leaves one reading_sync_history row and one summary line.
 * The stop is a flag checked between documents and a self-pipe: a source
 * that waits for input (stdin from a pipe that stays open) waits for the
 * pipe too, since a flag cannot wake a blocked read and EINTR can be missed
 * (the signal may land just before the read, or on another thread).
 * Owns the source, the connection, the stop pipe and the batches.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hub.h"
#include "log.h"
#include "readsync.h"
#include "timefmt.h"

static volatile sig_atomic_t stop_signal;
/* The stop pipe's write end, for the handler; -1 when there is none. */
static volatile sig_atomic_t stop_pipe_w = -1;

static void
on_stop(int sig)
{
    int saved_errno = errno;
    ssize_t n;

    stop_signal = sig;
    /* Non-blocking: when the pipe is full, it is readable already. */
    n = write(stop_pipe_w, "", 1);
    (void)n;
    errno = saved_errno;
}

struct run {
    const struct readsync_opts *o;
    struct readsync_source src;
    struct readsync_pg pg;
    struct readsync_batch batches[3];
    int stop_pipe[2];         /* readable once SIGTERM/SIGINT came */
    long long read;           /* reading thread: documents taken so far */
    int64_t start_ns, start_ms, next_progress_ms;

    /* The hand-overs between the threads, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct readsync_batch *pending;   /* being written; NULL when the slot is free */
    struct readsync_batch *marking;   /* written, being marked; NULL when free */
    int no_more;                      /* the reading thread is done */
    int writer_done;                  /* the writing thread is done */
    int write_rc;                     /* the writing or marking thread's first failure */
    char error[256];          /* for the history row: what failed (under lock
                                 until the threads are joined) */

    /* t.inserted and duplicates: writing thread only; the rest of t:
     * marking thread only (read by main after the joins). */
    struct readsync_totals t;
    long long duplicates;
};

/* Create the stop pipe, then catch the stop signals. 0 or EX_OSERR. */
static int
install_signals(struct run *r)
{
    struct sigaction sa;

    if (pipe2(r->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return hub_fail(EX_OSERR, "readsync_pipe_failed", HUB_STR("error", strerror(errno)));
    stop_pipe_w = r->stop_pipe[1];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    /* The stop reaches a blocked read through the pipe, never through
     * EINTR; every other slow call (a log line to a full pipe) resumes. */
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

/* The handler stays installed; the flag alone serves from here on. */
static void
close_stop_pipe(struct run *r)
{
    stop_pipe_w = -1;
    for (size_t i = 0; i < 2; i++)
        if (r->stop_pipe[i] >= 0)
            close(r->stop_pipe[i]);
}

/* Remember what failed, for the history row; the detail is in the log. */
static void
note_error(char *error, size_t len, int rc, const char *what, const char *where)
{
    if (error[0] != '\0')
        return;
    int n = where != NULL ? snprintf(error, len, "%s (%s, exit %d)", what, where, rc)
                          : snprintf(error, len, "%s (exit %d)", what, rc);

    if (n < 0)
        error[0] = '\0';
}

/* ---- the writing thread ---- */

static void
log_rejects(const struct readsync_batch *b)
{
    for (size_t i = 0; i < b->nrejects; i++) {
        const struct readsync_reject *rej = &b->rejects[i];
        struct hub_buf id = HUB_BUF_INIT(HUB_MAX_LOG_FIELD);
        char reason[READSYNC_MAX_REASON];
        int have_id = rej->id.value_type != BSON_TYPE_EOD &&
                      readsync_map_id(&rej->id, &id, reason, sizeof reason) == 0;

        hub_log(HUB_LOG_WARN, "readsync_rejected",
                HUB_STR("_id", have_id ? hub_buf_str(&id) : NULL),
                HUB_STR("reason", rej->reason));
        hub_buf_release(&id);
    }
}

/* Record a thread's failure (the first one wins), under lock. */
static void
fail_locked(struct run *r, int rc, const char *what, const char *where)
{
    if (r->write_rc == 0)
        r->write_rc = rc;
    note_error(r->error, sizeof r->error, rc, what, where);
    pthread_cond_broadcast(&r->cond);
}

/* Write the batch (the writing thread); marking comes after, elsewhere. */
static int
write_batch(struct run *r, struct readsync_batch *b)
{
    long long inserted = 0;
    int rc;

    if (r->o->dry_run)
        return 0;
    rc = readsync_pg_write(&r->pg, b, &inserted);
    if (rc != 0)
        return rc;
    r->t.inserted += inserted;
    r->duplicates += (long long)readsync_batch_good_rows(b) - inserted;
    return 0;
}

static void *
writer_main(void *arg)
{
    struct run *r = arg;

    pthread_mutex_lock(&r->lock);
    for (;;) {
        struct readsync_batch *b;
        int rc;

        while (r->pending == NULL && !r->no_more && r->write_rc == 0)
            pthread_cond_wait(&r->cond, &r->lock);
        if (r->pending == NULL || r->write_rc != 0)
            break;
        b = r->pending;
        pthread_mutex_unlock(&r->lock);
        rc = write_batch(r, b);
        pthread_mutex_lock(&r->lock);
        if (rc != 0)
            fail_locked(r, rc, "writing to PostgreSQL failed", NULL);
        /* Committed: to the marking thread, once it is done with the last. */
        while (r->marking != NULL && r->write_rc == 0)
            pthread_cond_wait(&r->cond, &r->lock);
        if (r->write_rc == 0)
            r->marking = b;
        r->pending = NULL;
        pthread_cond_broadcast(&r->cond);
    }
    r->writer_done = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Mark a written batch (the marking thread), then count it as done. */
static int
mark_batch(struct run *r, struct readsync_batch *b)
{
    size_t good = readsync_batch_good_rows(b);
    int rc;

    if (!r->o->dry_run) {
        rc = r->src.ops->mark(&r->src, b);
        if (rc != 0)
            return rc;
    }
    log_rejects(b);
    r->t.read += (long long)b->read;
    r->t.processed += (long long)good;
    r->t.rejected += (long long)b->nrejects;
    r->t.batches++;
    return 0;
}

static void *
marker_main(void *arg)
{
    struct run *r = arg;

    pthread_mutex_lock(&r->lock);
    for (;;) {
        struct readsync_batch *b;
        int rc;

        while (r->marking == NULL && !r->writer_done)
            pthread_cond_wait(&r->cond, &r->lock);
        if (r->marking == NULL)
            break;
        b = r->marking;
        pthread_mutex_unlock(&r->lock);
        rc = mark_batch(r, b);
        pthread_mutex_lock(&r->lock);
        if (rc != 0)
            fail_locked(r, rc, "marking documents failed", r->src.where);
        r->marking = NULL;
        pthread_cond_broadcast(&r->cond);
        if (rc != 0)
            break;
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Give b to the writing thread once it is free. Returns its failure, if
 * any (then b was not taken). */
static int
hand_over(struct run *r, struct readsync_batch *b)
{
    int rc;

    pthread_mutex_lock(&r->lock);
    while (r->pending != NULL && r->write_rc == 0)
        pthread_cond_wait(&r->cond, &r->lock);
    rc = r->write_rc;
    if (rc == 0) {
        r->pending = b;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

/* Wait until everything handed over is written and marked. */
static int
wait_written(struct run *r)
{
    int rc;

    pthread_mutex_lock(&r->lock);
    while ((r->pending != NULL || r->marking != NULL) && r->write_rc == 0)
        pthread_cond_wait(&r->cond, &r->lock);
    rc = r->write_rc;
    pthread_mutex_unlock(&r->lock);
    return rc;
}

/* ---- the reading thread ---- */

static void
progress(struct run *r, long long docs)
{
    int64_t now = hub_time_mono_ms();
    double secs = (double)(now - r->start_ms) / 1000.0;

    if (now < r->next_progress_ms)
        return;
    r->next_progress_ms = now + (int64_t)r->o->progress_seconds * 1000;
    hub_log(HUB_LOG_INFO, "readsync_progress", HUB_INT("documents", docs),
            HUB_DBL("docs_per_s", secs > 0 ? (double)docs / secs : 0.0));
}

/* Take documents until b is full; *end when the source is done. */
static int
fill_batch(struct run *r, struct readsync_batch *b, int *end, char *error, size_t elen)
{
    while (b->read < r->o->batch_size && b->copy.len < READSYNC_MAX_BATCH_BYTES &&
           stop_signal == 0) {
        const bson_t *doc;
        const char *bad;
        int rc;

        if (r->o->limit > 0 && (unsigned long long)(r->read) >= r->o->limit) {
            *end = 1;
            return 0;
        }
        rc = r->src.ops->next(&r->src, &doc, &bad);
        if (rc != 0) {
            note_error(error, elen, rc, "reading the source failed", r->src.where);
            return rc;
        }
        if (doc == NULL && bad == NULL) {
            *end = 1;
            return 0;
        }
        rc = bad != NULL ? readsync_batch_add_unreadable(b, bad) : readsync_batch_add(b, doc);
        if (rc != 0)
            return rc;
        r->read++;
        progress(r, r->read);
    }
    return 0;
}

/* Wait until b is neither being written nor marked. The rotation makes
 * that already so (b's last hand-over, three ago, was marked before the
 * previous hand-over went through); this keeps it obviously so. */
static void
wait_free(struct run *r, const struct readsync_batch *b)
{
    pthread_mutex_lock(&r->lock);
    while ((r->pending == b || r->marking == b) && r->write_rc == 0)
        pthread_cond_wait(&r->cond, &r->lock);
    pthread_mutex_unlock(&r->lock);
}

/* Read and map batches, handing each over; b rotates through the three. */
static int
read_all(struct run *r, char *error, size_t elen)
{
    int end = 0, rc = 0;

    for (unsigned i = 0; rc == 0 && !end && stop_signal == 0; i = (i + 1) % 3) {
        struct readsync_batch *b = &r->batches[i];

        wait_free(r, b);
        readsync_batch_reset(b);
        rc = fill_batch(r, b, &end, error, elen);
        if (b->read > 0) {
            int wrc = hand_over(r, b);

            rc = rc != 0 ? rc : wrc;
        }
    }
    return rc;
}

static int
sync_all(struct run *r)
{
    char read_error[256] = "";
    pthread_t writer, marker;
    int rc, wrc;

    if (pthread_create(&writer, NULL, writer_main, r) != 0)
        return hub_fail(EX_OSERR, "readsync_thread_failed");
    if (pthread_create(&marker, NULL, marker_main, r) != 0) {
        pthread_mutex_lock(&r->lock);
        r->no_more = 1;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        pthread_join(writer, NULL);
        return hub_fail(EX_OSERR, "readsync_thread_failed");
    }
    rc = read_all(r, read_error, sizeof read_error);
    wrc = wait_written(r);
    pthread_mutex_lock(&r->lock);
    r->no_more = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(writer, NULL);
    pthread_join(marker, NULL);
    /* A write failure comes first: reading may have stopped because of it. */
    if (wrc != 0)
        return wrc;
    if (rc != 0 && r->error[0] == '\0')
        memcpy(r->error, read_error, sizeof r->error);
    return rc;
}

/* ---- the run ---- */

static int
open_source(struct run *r)
{
    int rc;

    if (r->o->from != NULL)
        rc = readsync_source_file_open(&r->src, r->o->from, r->stop_pipe[0]);
    else
        rc = readsync_source_mongo_open(&r->src, r->o);
    if (rc != 0)
        note_error(r->error, sizeof r->error, rc, "opening the source failed", r->src.where);
    return rc;
}

static void
finish(struct run *r, int rc, const char *status)
{
    int64_t end_ns = hub_time_now_ns();
    double secs = (double)(hub_time_mono_ms() - r->start_ms) / 1000.0;

    if (!r->o->dry_run && r->pg.conn != NULL)
        readsync_pg_history(&r->pg, r->start_ns, end_ns, status, &r->t,
                            r->error[0] != '\0' ? r->error : NULL);
    hub_log(rc == 0 ? HUB_LOG_INFO : HUB_LOG_WARN, "readsync_done",
            HUB_STR("status", status), HUB_STR("source", r->src.ops ? r->src.ops->kind : NULL),
            HUB_BOOL("dry_run", r->o->dry_run), HUB_INT("documents", r->t.read),
            HUB_INT("inserted", r->t.inserted), HUB_INT("duplicates", r->duplicates),
            HUB_INT("processed", r->t.processed), HUB_INT("rejected", r->t.rejected),
            HUB_INT("batches", r->t.batches), HUB_DBL("seconds", secs),
            HUB_DBL("docs_per_s", secs > 0 ? (double)r->t.read / secs : 0.0),
            HUB_INT("exit", rc));
}

static const char *
interrupted(struct run *r, int *rc)
{
    if (*rc != 0)
        return "failed";
    if (stop_signal == 0)
        return "success";
    *rc = EX_TEMPFAIL;
    hub_log(HUB_LOG_WARN, "readsync_interrupted", HUB_STR("signal", strsignal(stop_signal)));
    if (snprintf(r->error, sizeof r->error, "interrupted by %s", strsignal(stop_signal)) < 0)
        r->error[0] = '\0';
    return "interrupted";
}

int
readsync_run(const struct readsync_opts *o)
{
    struct run r;
    const char *status;
    int rc = 0;

    memset(&r, 0, sizeof r);
    r.o = o;
    r.start_ns = hub_time_now_ns();
    r.start_ms = hub_time_mono_ms();
    r.next_progress_ms = r.start_ms + (int64_t)o->progress_seconds * 1000;
    memcpy(r.src.where, "?", 2);
    r.stop_pipe[0] = r.stop_pipe[1] = -1;
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cond, NULL);
    for (size_t i = 0; i < 3; i++)
        readsync_batch_init(&r.batches[i]);
    rc = install_signals(&r);
    /* PostgreSQL first: when it is down, MongoDB is not even touched. */
    if (rc == 0 && !o->dry_run)
        rc = readsync_pg_open(&r.pg);
    if (rc == 0)
        rc = open_source(&r);
    if (rc == 0)
        rc = sync_all(&r);
    status = interrupted(&r, &rc);
    finish(&r, rc, status);
    if (r.src.ops != NULL)
        r.src.ops->close(&r.src);
    readsync_pg_close(&r.pg);
    close_stop_pipe(&r);
    for (size_t i = 0; i < 3; i++)
        readsync_batch_release(&r.batches[i]);
    pthread_cond_destroy(&r.cond);
    pthread_mutex_destroy(&r.lock);
    return rc;
}
