/*
 * server.c: hub-webhook's process: configuration loaded once, the listening
 * socket (from systemd's socket activation, else --listen), the
 * libmicrohttpd daemon with every limit set before it accepts a byte,
 * signals, the idle exit and the drain on SIGTERM.
 *
 * libmicrohttpd runs one internal thread on epoll; every request callback
 * runs there, so the request path never blocks on anything but a trigger
 * file write. One thread, not a pool (MHD_OPTION_THREAD_POOL_SIZE): a
 * delivery costs about 40 us of CPU (HMAC and the JSON parse), so one core
 * serves some 25,000 a second, far past GitHub's rate; a pool would add a
 * malloc arena and a stack per worker to the RSS, and cJSON's parser
 * writes a process-wide error slot on every parse, a data race between
 * workers. The per-thread JSON arena (json_arena.c) would be safe in a
 * pool: it never outlives one callback. Signals are blocked in every thread and taken synchronously
 * by the main thread with sigtimedwait(), which also ticks the idle clock
 * and the watchdog: no handler, no global state.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "hub.h"
#include "log.h"
#include "repos.h"
#include "sd.h"
#include "timefmt.h"
#include "trace.h"
#include "webhook.h"

#define DRAIN_MAX_MS 10000            /* SIGTERM: finish requests in flight for this long */
#define TRACE_FLUSH_MS 2000
#define DB_FLUSH_MS 2000

/* ---- the listening socket ------------------------------------------------ */

/* "127.0.0.1:8085", "[::1]:8085" -> host and port strings in buf. */
static int
split_listen(const char *spec, char *buf, size_t buflen, const char **host, const char **port)
{
    char *colon;
    size_t n = strlen(spec);

    if (n == 0 || n >= buflen)
        return -1;
    memcpy(buf, spec, n + 1);
    colon = strrchr(buf, ':');
    if (colon == NULL || colon[1] == '\0')
        return -1;
    *colon = '\0';
    *port = colon + 1;
    *host = buf;
    if (buf[0] == '[') {
        if (colon[-1] != ']')
            return -1;
        colon[-1] = '\0';
        *host = buf + 1;
    }
    return 0;
}

static int
bind_listen(const char *spec, int *fd_out)
{
    struct addrinfo hints = { 0 }, *ai = NULL;
    char buf[256];
    const char *host, *port;
    int fd = -1, one = 1, gai;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    if (split_listen(spec, buf, sizeof buf, &host, &port) != 0 ||
        (gai = getaddrinfo(host, port, &hints, &ai)) != 0)
        return hub_fail(EX_CONFIG, "listen_address_invalid", HUB_STR("listen", spec),
                        HUB_STR("fix", "use ADDR:PORT with a numeric address, e.g. 127.0.0.1:8085"));
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        int err = errno;

        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return hub_fail(EX_TEMPFAIL, "listen_failed", HUB_STR("listen", spec),
                        HUB_STR("error", strerror(err)));
    }
    freeaddrinfo(ai);
    *fd_out = fd;
    return 0;
}

static int
listen_socket(const struct webhook_opts *o, int *fd, int *activated)
{
    int n = hub_sd_listen_fds();

    *activated = n > 0;
    if (n == 0)
        return bind_listen(o->listen, fd);
    if (n > 1)
        hub_log(HUB_LOG_WARN, "listen_extra_sockets_ignored", HUB_INT("passed", n),
                HUB_STR("fix", "give hub-webhook.socket one ListenStream="));
    *fd = HUB_SD_LISTEN_FDS_START;
    fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

/* ---- the daemon ------------------------------------------------------------- */

__attribute__((format(printf, 2, 0))) static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char text[512];

    vsnprintf(text, sizeof text, fmt, ap);
    text[strcspn(text, "\n")] = '\0';
    hub_log(HUB_LOG_WARN, "http_server_notice", HUB_STR("detail", text));
}

static void
connection_event(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                 enum MHD_ConnectionNotificationCode code)
{
    struct webhook_ctx *ctx = cls;

    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&ctx->open_connections, 1);
    else
        atomic_fetch_sub(&ctx->open_connections, 1);
    atomic_store(&ctx->last_active_ms, hub_time_mono_ms());
}

static struct MHD_Daemon *
start_daemon(struct webhook_ctx *ctx, int fd)
{
    const struct webhook_opts *o = ctx->opts;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;

    return MHD_start_daemon(
        flags, 0, NULL, NULL, webhook_access, ctx,
        /* first, so that no message goes to stderr unformatted */
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, ctx,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)o->timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)o->max_conns,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)o->max_per_ip,
        /* The per-connection pool holds the request line, the headers and
         * the read buffer: it is the header size limit (431 past it). */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)o->max_header,
        MHD_OPTION_NOTIFY_COMPLETED, webhook_completed, ctx,
        MHD_OPTION_NOTIFY_CONNECTION, connection_event, ctx,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_END);
}

/* ---- the main loop ------------------------------------------------------------ */

static int
idle_expired(struct webhook_ctx *ctx)
{
    unsigned long long idle = ctx->opts->exit_idle_s;

    if (idle == 0 || atomic_load(&ctx->open_connections) > 0 ||
        webhook_handover_busy(&ctx->handover))
        return 0;
    return hub_time_mono_ms() - atomic_load(&ctx->last_active_ms) >= (int64_t)idle * 1000;
}

/* Wait for SIGTERM/SIGINT or the idle timeout; returns what ended it. */
static const char *
serve(struct webhook_ctx *ctx, const sigset_t *sigs)
{
    uint64_t wd = hub_sd_watchdog_usec();
    int64_t tick_ms = wd > 0 && wd / 2000 < 1000 ? (int64_t)(wd / 2000) : 1000;

    for (;;) {
        struct timespec ts = { tick_ms / 1000, (tick_ms % 1000) * 1000000L };
        int sig = sigtimedwait(sigs, NULL, &ts);

        if (sig == SIGTERM || sig == SIGINT)
            return sig == SIGTERM ? "SIGTERM" : "SIGINT";
        if (sig == SIGHUP)
            hub_log(HUB_LOG_INFO, "sighup_ignored",
                    HUB_STR("fix", "restart hub-webhook to reload repos.d and the secret"));
        if (wd > 0)
            hub_sd_notify("WATCHDOG=1");
        if (idle_expired(ctx))
            return "idle";
    }
}

/* Stop accepting, let requests in flight finish (bounded), then stop. */
static void
drain(struct webhook_ctx *ctx, struct MHD_Daemon *d)
{
    int64_t until = hub_time_mono_ms() + DRAIN_MAX_MS;

    hub_sd_notify("STOPPING=1");
    MHD_quiesce_daemon(d);
    while (atomic_load(&ctx->open_connections) > 0 && hub_time_mono_ms() < until) {
        struct timespec ts = { 0, 20 * 1000000L };

        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(d);
}

/* ---- configuration ----------------------------------------------------------- */

static const char *
state_dir(const struct webhook_opts *o, char *buf, size_t buflen)
{
    const char *env = getenv("STATE_DIRECTORY");
    size_t n;

    if (o->state_dir != NULL && *o->state_dir != '\0')
        return o->state_dir;
    if (env == NULL || *env == '\0')
        return NULL;
    n = strcspn(env, ":");          /* systemd lists several dirs with ':' */
    if (n >= buflen)
        return NULL;
    memcpy(buf, env, n);
    buf[n] = '\0';
    return buf;
}

static int
load_config(struct webhook_ctx *ctx)
{
    const struct webhook_opts *o = ctx->opts;
    char sdir[HUB_MAX_PATH];
    size_t listed = 0;
    int rc;

    rc = hub_repos_load_all(o->repos_dir, &ctx->repos);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < ctx->repos.n; i++)
        listed += ctx->repos.items[i].github != NULL;
    if (listed == 0)
        hub_log(HUB_LOG_WARN, "webhook_allowlist_empty", HUB_STR("dir", hub_repos_dir(o->repos_dir)),
                HUB_STR("effect", "every delivery is ignored"),
                HUB_STR("fix", "set GITHUB=owner/name in repos.d/NAME.conf"));
    rc = webhook_secrets_load(&ctx->secrets);
    if (rc == 0)
        rc = webhook_replay_init(&ctx->replay, o->replay_size, state_dir(o, sdir, sizeof sdir));
    if (rc == 0)
        rc = webhook_handover_init(&ctx->handover, o->trigger_dir, o->exec,
                                   (unsigned)o->exec_timeout_s, &ctx->repos,
                                   webhook_trigger_done, ctx);
    if (rc == 0)
        rc = hub_tracer_start(hub_log_service(), NULL, &ctx->tracer);
    if (rc == 0)
        rc = webhook_deliveries_start(&ctx->deliveries);
    return rc;
}

static void
release_all(struct webhook_ctx *ctx)
{
    webhook_handover_release(&ctx->handover);
    webhook_deliveries_stop(ctx->deliveries, DB_FLUSH_MS);
    hub_tracer_stop(ctx->tracer, TRACE_FLUSH_MS);
    webhook_replay_release(&ctx->replay);
    webhook_secrets_wipe(&ctx->secrets);
    hub_repo_list_release(&ctx->repos);
}

static void
log_started(const struct webhook_ctx *ctx, int activated)
{
    const struct webhook_opts *o = ctx->opts;

    hub_log(HUB_LOG_INFO, "webhook_started", HUB_STR("version", HUB_VERSION),
            HUB_STR("listen", activated ? "socket activation" : o->listen),
            HUB_STR("handover", ctx->handover.exec_argv != NULL ? "exec" : "trigger_dir"),
            ctx->handover.exec_argv != NULL ? HUB_STR("exec", o->exec)
                                            : HUB_STR("trigger_dir", o->trigger_dir),
            HUB_INT("repos", ctx->repos.n), HUB_INT("secrets", ctx->secrets.n),
            HUB_INT("max_body", o->max_body), HUB_INT("timeout_s", o->timeout_s),
            HUB_INT("body_timeout_s", o->body_timeout_s),
            HUB_INT("exit_idle_s", o->exit_idle_s), HUB_BOOL("tracing", ctx->tracer != NULL),
            HUB_BOOL("database", ctx->deliveries != NULL));
}

int
webhook_run(const struct webhook_opts *o)
{
    struct webhook_ctx ctx;
    struct MHD_Daemon *d = NULL;
    const char *why;
    sigset_t sigs;
    int fd = -1, activated = 0, rc;

    memset(&ctx, 0, sizeof ctx);
    ctx.opts = o;
    webhook_stats_init(&ctx.stats);
    atomic_store(&ctx.last_active_ms, hub_time_mono_ms());
    signal(SIGPIPE, SIG_IGN);
    /* Blocked before any thread starts, so every thread inherits it and
     * only sigtimedwait() in serve() ever takes these. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    /* cJSON's allocation hooks are process-wide: set them while this is
     * the only thread, before the tracer, the database writer or
     * libmicrohttpd start one that might use cJSON meanwhile. */
    webhook_arena_init();

    rc = load_config(&ctx);
    if (rc == 0)
        rc = listen_socket(o, &fd, &activated);
    if (rc != 0)
        goto out;
    d = start_daemon(&ctx, fd);
    if (d == NULL) {
        rc = hub_fail(EX_OSERR, "http_server_start_failed", HUB_STR("listen", o->listen));
        goto out;
    }
    log_started(&ctx, activated);
    hub_sd_notify("READY=1\nSTATUS=serving GitHub webhooks");
    why = serve(&ctx, &sigs);
    hub_log(HUB_LOG_INFO, "webhook_stopping", HUB_STR("reason", why),
            HUB_INT("requests", webhook_stats_total(&ctx.stats, WEBHOOK_ROUTE_HOOK)));
    drain(&ctx, d);
    rc = 0;
out:
    if (fd >= 0 && !activated)
        close(fd);
    release_all(&ctx);
    return rc;
}
