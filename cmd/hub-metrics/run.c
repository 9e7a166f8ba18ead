/*
 * run.c: hub-metrics' one loop. The collectors sit in one table; the loop
 * times each, logs its failure as a warning for that metric only, prints
 * each payload as a "sample" line and hands the rows to the store. One-shot
 * by default (a timer run: load the previous counters, sample, save them);
 * with --interval a notify daemon that samples on a fixed cadence, keeps
 * the watchdog fed and stops cleanly on SIGTERM or SIGINT (taken with
 * sigtimedwait, so no handler and no global flag).
 *
 * Owns the sample's payloads, the counter states, the store, the lock on
 * the state directory (flock on STATE/lock: a timer run and a person's run
 * never interleave their spool or state writes) and the state file's
 * descriptor (opened once: read at the start, rewritten after each sample).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fileio.h"
#include "hub.h"
#include "log.h"
#include "metrics.h"
#include "sd.h"
#include "timefmt.h"

#define OS_NAME "linux"   /* the Go collector's runtime.GOOS; the distribution is in "uptime" */

static const struct collector {
    const char *type;
    metrics_collect_fn *fn;
} collectors[] = {
    { "cpu", metrics_collect_cpu },
    { "memory", metrics_collect_memory },
    { "swap", metrics_collect_swap },
    { "load", metrics_collect_load },
    { "disk", metrics_collect_disk },
    { "diskio", metrics_collect_diskio },
    { "network", metrics_collect_network },
    { "temperature", metrics_collect_temperature },
    { "uptime", metrics_collect_uptime },
};
#define NCOLLECTORS (sizeof collectors / sizeof collectors[0])

struct sample {
    char time[HUB_TIME_RFC3339_LEN];
    struct metrics_row rows[NCOLLECTORS];
    char *payloads[NCOLLECTORS];       /* owned */
    size_t n;
    int failed;
};

struct runner {
    const struct metrics_opts *o;
    char host[256];
    const char *state_dir;             /* NULL: no state kept (--no-db only) */
    struct hub_buf state_path, spool_path;
    struct metrics_state prev, next;
    struct metrics_store store;
    int lock_fd;
    int state_fd;                      /* STATE/state, rewritten in place */
    size_t state_size;                 /* its length, SIZE_MAX when unknown */
};

static void
sample_release(struct sample *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->payloads[i]);
    s->n = 0;
    s->failed = 0;
}

/* <proc>/uptime as the clock for rates: the kernel's boot clock, and a
 * fixture can set it. 0 when unreadable (rates are then left out). Kept in
 * ctx for the "uptime" metric. */
static uint64_t
read_clock(struct metrics_ctx *ctx)
{
    if (metrics_ctx_read(ctx, ctx->opts->proc_root, "uptime") != 0 ||
        metrics_parse_uptime(hub_buf_str(&ctx->file), &ctx->uptime_cs, &ctx->idle_cs) != 0)
        return 0;
    ctx->has_uptime = 1;
    return ctx->uptime_cs;
}

static void
set_clock(struct runner *r, struct metrics_ctx *ctx)
{
    uint64_t now = read_clock(ctx);

    r->next.has_clock = now > 0;
    r->next.clock_cs = now;
    if (now > 0 && r->prev.has_clock && now > r->prev.clock_cs)
        ctx->elapsed_cs = now - r->prev.clock_cs;
}

/* The payload goes into the log line as it is: a raw cJSON item is copied,
 * not parsed and printed again (that was most of a sample's CPU time). */
static void
log_sample_line(const struct runner *r, const struct sample *s, const char *type,
                const char *payload)
{
    cJSON *raw = cJSON_CreateRaw(payload);

    hub_log(HUB_LOG_INFO, "sample", HUB_STR("metric_type", type), HUB_STR("host", r->host),
            HUB_STR("os", OS_NAME), HUB_STR("sample_time", s->time), HUB_JSON("payload", raw));
    cJSON_Delete(raw);
}

/* Run one collector; on success its payload becomes a row of s. */
static void
collect_one(struct runner *r, struct metrics_ctx *ctx, const struct collector *c,
            struct sample *s, int quiet)
{
    struct hub_buf text = HUB_BUF_INIT(HUB_MAX_SQL);
    struct metrics_json j;
    int64_t t0 = hub_time_mono_ns();
    int rc;

    metrics_json_init(&j, &text);
    rc = c->fn(ctx, &j);
    if (rc == 0 && metrics_json_end(&j) != 0)
        rc = metrics_ctx_fail(ctx, "payload too large or out of memory");
    if (rc < 0 && !quiet) {
        s->failed++;
        hub_log(HUB_LOG_WARN, "metric_failed", HUB_STR("metric_type", c->type),
                HUB_STR("error", ctx->why), HUB_STR("file", ctx->what));
    }
    if (rc == 0 && !quiet) {
        s->payloads[s->n] = hub_buf_take(&text);
        s->rows[s->n] = (struct metrics_row){ s->time, r->host, OS_NAME, c->type,
                                              s->payloads[s->n] };
        log_sample_line(r, s, c->type, s->payloads[s->n]);
        s->n++;
    }
    hub_log(HUB_LOG_DEBUG, "metric_timing", HUB_STR("metric_type", c->type),
            HUB_INT("us", (hub_time_mono_ns() - t0) / 1000), HUB_INT("rc", rc));
    ctx->why = ctx->what = NULL;
    hub_buf_release(&text);
}

/* One pass over the table; quiet for the first run's priming pass. */
static void
collect(struct runner *r, struct sample *s, int quiet)
{
    struct metrics_ctx ctx;

    metrics_state_reset(&r->next);
    hub_time_rfc3339_ms(hub_time_now_ns(), s->time, sizeof s->time);
    metrics_ctx_init(&ctx, r->o, &r->prev, &r->next);
    set_clock(r, &ctx);
    for (size_t i = 0; i < NCOLLECTORS; i++)
        collect_one(r, &ctx, &collectors[i], s, quiet);
    metrics_ctx_release(&ctx);
}

static void
swap_states(struct runner *r)
{
    struct metrics_state t = r->prev;

    r->prev = r->next;
    r->next = t;
    metrics_state_reset(&r->next);
}

/*
 * Sleep until deadline (monotonic ms) or a stop signal in set (blocked by
 * the caller in daemon mode), feeding the watchdog every wd_ms. 1 when a
 * signal came.
 */
static int
wait_until(const sigset_t *set, int64_t deadline, int64_t wd_ms)
{
    for (;;) {
        int64_t left = deadline - hub_time_mono_ms();
        struct timespec ts;

        if (left <= 0)
            return 0;
        if (wd_ms > 0 && left > wd_ms)
            left = wd_ms;
        ts.tv_sec = left / 1000;
        ts.tv_nsec = (left % 1000) * 1000000;
        if (sigtimedwait(set, NULL, &ts) > 0)
            return 1;
        if (wd_ms > 0)
            hub_sd_notify("WATCHDOG=1");
    }
}

/* A first run: count once, wait the warmup, so the real pass has rates. */
static int
prime(struct runner *r, const sigset_t *stop, int64_t wd_ms)
{
    struct sample scratch = { .n = 0 };

    if (r->prev.n > 0 || r->o->warmup_ms == 0)
        return 0;
    collect(r, &scratch, 1);
    sample_release(&scratch);
    swap_states(r);
    return wait_until(stop, hub_time_mono_ms() + (int64_t)r->o->warmup_ms, wd_ms);
}

static int
open_state_file(struct runner *r)
{
    if (r->state_fd < 0) {
        r->state_fd = open(hub_buf_str(&r->state_path),
                           O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        r->state_size = SIZE_MAX;
    }
    return r->state_fd >= 0 ? 0 : -1;
}

static void
save_state(struct runner *r)
{
    if (r->state_dir == NULL)
        return;
    if (open_state_file(r) != 0 ||
        metrics_state_write_fd(r->state_fd, &r->next, &r->state_size) != 0)
        hub_log(HUB_LOG_WARN, "state_save_failed", HUB_STR("file", hub_buf_str(&r->state_path)),
                HUB_STR("error", strerror(errno)));
}

/* Collect, print, store, remember. Returns the store's code. */
static int
sample_once(struct runner *r)
{
    struct sample s = { .n = 0 };
    int64_t t0 = hub_time_mono_ns();
    int rc = 0;

    collect(r, &s, 0);
    if (!r->o->no_db)
        rc = metrics_store_sample(&r->store, s.rows, s.n);
    save_state(r);
    swap_states(r);
    hub_log(HUB_LOG_INFO, "metrics_collected", HUB_STR("host", r->host),
            HUB_STR("sample_time", s.time), HUB_INT("rows", s.n), HUB_INT("failed", s.failed),
            HUB_STR("stored", r->o->no_db ? "no" : rc == 0 ? "database" : "spool"),
            HUB_INT("duration_us", (hub_time_mono_ns() - t0) / 1000));
    sample_release(&s);
    return rc;
}

/* <proc>/sys/kernel/hostname into r->host ("" when unreadable). */
static void
host_name_from_proc(struct runner *r)
{
    struct hub_buf path = HUB_BUF_INIT(HUB_MAX_PATH), text = HUB_BUF_INIT(sizeof r->host);
    size_t n;

    if (hub_buf_appendf(&path, "%s/sys/kernel/hostname", r->o->proc_root) == 0 &&
        hub_file_read(path.data, sizeof r->host - 1, &text) == 0) {
        n = strcspn(hub_buf_str(&text), "\t\n");
        memcpy(r->host, hub_buf_str(&text), n);
        r->host[n] = '\0';
    }
    hub_buf_release(&path);
    hub_buf_release(&text);
}

/*
 * --host, else <proc>/sys/kernel/hostname, else gethostname(). With the
 * system's own /proc the file says what gethostname() (uname(2)) says, so
 * the file is not read.
 */
static void
host_name(struct runner *r)
{
    r->host[0] = '\0';
    if (r->o->host != NULL)
        snprintf(r->host, sizeof r->host, "%s", r->o->host);
    else if (strcmp(r->o->proc_root, "/proc") != 0)
        host_name_from_proc(r);
    if (r->host[0] == '\0' && gethostname(r->host, sizeof r->host) != 0)
        snprintf(r->host, sizeof r->host, "unknown");
    r->host[sizeof r->host - 1] = '\0';
    r->host[strcspn(r->host, "\t\n")] = '\0';
}

/* The state directory: --state-dir, else the first of $STATE_DIRECTORY. */
static int
state_paths(struct runner *r)
{
    const char *dir = r->o->state_dir;
    const char *env = getenv("STATE_DIRECTORY");
    size_t n;

    if ((dir == NULL || *dir == '\0') && env != NULL && *env != '\0')
        dir = env;
    if (dir == NULL || *dir == '\0') {
        if (r->o->no_db)
            return 0;
        return hub_fail(EX_CONFIG, "no_state_directory",
                        HUB_STR("fix", "set --state-dir (HUB_STATE_DIR) or run under systemd "
                                       "with StateDirectory="));
    }
    n = dir == env ? strcspn(env, ":") : strlen(dir);
    if (hub_buf_append(&r->state_path, dir, n) != 0 ||
        hub_buf_append(&r->spool_path, dir, n) != 0 ||
        hub_buf_appends(&r->state_path, "/state") != 0 ||
        hub_buf_appends(&r->spool_path, "/spool") != 0)
        return hub_fail(EX_CONFIG, "state_directory_invalid", HUB_STR("error", "path too long"));
    r->state_dir = r->state_path.data;
    return 0;
}

/* Create the directory, take its lock, read the previous counters. */
static int
open_state(struct runner *r)
{
    struct hub_buf lock = HUB_BUF_INIT(HUB_MAX_PATH);
    size_t dirlen = r->state_path.len - strlen("/state");
    int rc = EX_CONFIG, loaded;

    if (r->state_dir == NULL)
        return 0;
    if (hub_buf_append(&lock, r->state_path.data, dirlen) != 0 ||
        hub_buf_appends(&lock, "/lock") != 0)
        goto out;
    /* The directory is created only when missing (its every parent is
     * tried otherwise, a system call each, every run). */
    r->lock_fd = open(lock.data, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (r->lock_fd < 0 && errno == ENOENT) {
        lock.data[dirlen] = '\0';
        if (hub_mkdir_p(lock.data, 0750) != 0) {
            rc = hub_fail(EX_CONFIG, "state_directory_unusable", HUB_STR("dir", lock.data),
                          HUB_STR("error", strerror(errno)));
            goto out;
        }
        lock.data[dirlen] = '/';
        r->lock_fd = open(lock.data, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    }
    if (r->lock_fd < 0) {
        rc = hub_fail(EX_CONFIG, "state_directory_unusable", HUB_STR("file", lock.data),
                      HUB_STR("error", strerror(errno)));
        goto out;
    }
    /* A daemon holds the lock for its life: a second run says so and stops. */
    if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = hub_fail(EX_TEMPFAIL, "state_directory_busy", HUB_STR("file", lock.data),
                      HUB_STR("error", "another hub-metrics uses this state directory"));
        goto out;
    }
    loaded = open_state_file(r) == 0
                 ? metrics_state_read_fd(r->state_fd, &r->prev, &r->state_size) : -1;
    if (loaded < 0)
        hub_log(HUB_LOG_WARN, "state_unreadable", HUB_STR("file", hub_buf_str(&r->state_path)),
                HUB_STR("error", errno == EBADMSG ? "not a whole state file" : strerror(errno)),
                HUB_STR("effect", "this run starts the rates afresh"));
    rc = 0;
out:
    hub_buf_release(&lock);
    return rc;
}

static int
daemon_loop(struct runner *r, const sigset_t *stop, int64_t wd_ms)
{
    int64_t next = hub_time_mono_ms();
    int ready = 0;

    for (;;) {
        int rc = sample_once(r);

        if (!ready) {
            hub_sd_notify("READY=1");
            ready = 1;
        }
        hub_sd_notify(rc == 0 ? "STATUS=sampling" : "STATUS=database unavailable, spooling");
        if (wd_ms > 0)
            hub_sd_notify("WATCHDOG=1");
        next += (int64_t)r->o->interval_s * 1000;
        if (next < hub_time_mono_ms())
            next = hub_time_mono_ms();   /* a slow sample: no burst of catch-ups */
        if (wait_until(stop, next, wd_ms))
            return 0;
    }
}

int
metrics_run(const struct metrics_opts *o)
{
    struct runner r = { .o = o, .lock_fd = -1, .state_fd = -1, .prev = METRICS_STATE_INIT,
                        .next = METRICS_STATE_INIT };
    uint64_t wd_usec = o->interval_s > 0 ? hub_sd_watchdog_usec() : 0;
    int64_t wd_ms = (int64_t)(wd_usec / 2000);
    sigset_t stop;
    int rc;

    hub_buf_init(&r.state_path, HUB_MAX_PATH);
    hub_buf_init(&r.spool_path, HUB_MAX_PATH);
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (o->interval_s > 0)
        sigprocmask(SIG_BLOCK, &stop, NULL);
    host_name(&r);
    rc = state_paths(&r);
    if (rc == 0)
        rc = open_state(&r);
    if (rc != 0)
        goto out;
    r.store = (struct metrics_store){ NULL, hub_buf_str(&r.spool_path), o->spool_max };
    if (prime(&r, &stop, wd_ms))
        goto out;
    rc = o->interval_s > 0 ? daemon_loop(&r, &stop, wd_ms) : sample_once(&r);
    if (o->interval_s > 0) {
        hub_sd_notify("STOPPING=1");
        hub_log(HUB_LOG_INFO, "stopping", HUB_STR("reason", "signal"));
    }
out:
    metrics_store_release(&r.store);
    metrics_state_release(&r.prev);
    metrics_state_release(&r.next);
    if (r.state_fd >= 0)
        close(r.state_fd);
    if (r.lock_fd >= 0)
        close(r.lock_fd);
    hub_buf_release(&r.state_path);
    hub_buf_release(&r.spool_path);
    return rc;
}
