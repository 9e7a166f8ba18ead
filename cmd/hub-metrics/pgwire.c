/*
 * pgwire.c: the part of the PostgreSQL frontend/backend protocol (v3)
 * hub-metrics needs: connect over a Unix socket or TCP, authenticate,
 * run one parameterised INSERT through the extended query protocol, and
 * say goodbye. No TLS: sslmode require/verify-* is refused with a message
 * (prefer/allow/disable connect in the clear, as libpq does when the
 * server offers no TLS).
 *
 * When no password is configured, the only way in is an authentication
 * that asks the client for nothing (trust, peer), so the startup packet is
 * not sent alone: it goes out with the first INSERT in one sendmsg and the
 * answers to both are read after it, one round trip instead of two. The
 * server reads nothing past the startup packet until it has authenticated
 * us, then reads the INSERT as if it had come later; if it refuses us, the
 * INSERT is never read and its error is the one reported. Owns the socket and its buffers; logs one error
 * line per failure and never logs a password.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcntl.h>

#include "hub.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"

#define PG_MAX_MESSAGE (1024u * 1024)
#define PG_IO_TIMEOUT_S 30
#define PG_PROTOCOL_3 196608

enum pg_startup {
    PG_STARTUP_DONE,                   /* authenticated, ReadyForQuery seen */
    PG_STARTUP_QUEUED,                 /* the startup packet waits in hello */
    PG_STARTUP_SENT,                   /* sent; the server's answer is unread */
};

struct metrics_pg {
    int fd;
    enum pg_startup startup;
    struct hub_buf hello;              /* the startup packet, while queued */
    struct hub_buf out;                /* messages waiting to be sent */
    struct hub_buf msg;                /* body of the last message read */
    size_t rpos, rlen;
    char where[300];
    char rbuf[8192];
};

/* ---- sending */

static int
put_int(struct hub_buf *b, uint32_t v, int bytes)
{
    unsigned char x[4];

    for (int i = 0; i < bytes; i++)
        x[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    return hub_buf_append(b, x, (size_t)bytes);
}

static int
put_str(struct hub_buf *b, const char *s)
{
    return hub_buf_append(b, s, strlen(s) + 1);
}

/* Start a message of type t (0: the untyped startup packet); returns its offset. */
static size_t
msg_begin(struct metrics_pg *pg, char t)
{
    size_t at = pg->out.len;

    if (t != 0 && hub_buf_appendc(&pg->out, t) != 0)
        return (size_t)-1;
    return put_int(&pg->out, 0, 4) == 0 ? at : (size_t)-1;
}

/* Patch the length of the message begun at off. */
static int
msg_end(struct metrics_pg *pg, size_t off, int typed)
{
    size_t lenpos = off + (typed ? 1 : 0);
    size_t len = pg->out.len - lenpos;
    unsigned char *p;

    if (off == (size_t)-1 || pg->out.data == NULL || len > 0x7fffffff)
        return -1;
    p = (unsigned char *)pg->out.data + lenpos;
    p[0] = (unsigned char)(len >> 24);
    p[1] = (unsigned char)(len >> 16);
    p[2] = (unsigned char)(len >> 8);
    p[3] = (unsigned char)len;
    return 0;
}

/* Send a queued startup packet and pg->out, in one sendmsg when it can. */
static int
flush_out(struct metrics_pg *pg)
{
    struct iovec iov[2] = {
        { pg->hello.data, pg->hello.len },
        { pg->out.data, pg->out.len },
    };
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

    while (iov[0].iov_len + iov[1].iov_len > 0) {
        ssize_t w = sendmsg(pg->fd, &m, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        for (int i = 0; i < 2 && w > 0; i++) {
            size_t k = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;

            if (k == 0)
                continue;           /* an empty part: its base may be NULL */
            iov[i].iov_base = (char *)iov[i].iov_base + k;
            iov[i].iov_len -= k;
            w -= (ssize_t)k;
        }
    }
    if (pg->startup == PG_STARTUP_QUEUED)
        pg->startup = PG_STARTUP_SENT;
    hub_buf_release(&pg->hello);
    hub_buf_reset(&pg->out);
    return 0;
}

/* ---- receiving */

static int
read_bytes(struct metrics_pg *pg, void *dst, size_t n)
{
    char *d = dst;

    while (n > 0) {
        size_t take;

        if (pg->rpos == pg->rlen) {
            ssize_t r = recv(pg->fd, pg->rbuf, sizeof pg->rbuf, 0);

            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                if (r == 0)
                    errno = ECONNRESET;
                return -1;
            }
            pg->rpos = 0;
            pg->rlen = (size_t)r;
        }
        take = pg->rlen - pg->rpos < n ? pg->rlen - pg->rpos : n;
        if (d != NULL) {
            memcpy(d, pg->rbuf + pg->rpos, take);
            d += take;
        } else if (hub_buf_append(&pg->msg, pg->rbuf + pg->rpos, take) != 0) {
            return -1;
        }
        pg->rpos += take;
        n -= take;
    }
    return 0;
}

/* Read one message: its type, body in pg->msg. */
static int
read_msg(struct metrics_pg *pg, char *type)
{
    unsigned char head[5];
    uint32_t len;

    hub_buf_reset(&pg->msg);
    if (read_bytes(pg, head, 5) != 0)
        return -1;
    len = (uint32_t)head[1] << 24 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 8 | head[4];
    if (len < 4 || len - 4 > PG_MAX_MESSAGE) {
        errno = EPROTO;
        return -1;
    }
    *type = (char)head[0];
    return len > 4 ? read_bytes(pg, NULL, len - 4) : 0;
}

static uint32_t
body_int(const struct metrics_pg *pg, size_t off)
{
    const unsigned char *p = (const unsigned char *)pg->msg.data + off;

    if (pg->msg.len < off + 4)
        return 0xffffffffu;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A field (S, C, M ...) of an ErrorResponse body, or NULL. */
static const char *
error_field(const struct metrics_pg *pg, char field)
{
    const char *p = pg->msg.data, *end = p + pg->msg.len;

    while (p != NULL && p < end && *p != '\0') {
        const char *nul = memchr(p + 1, '\0', (size_t)(end - p - 1));

        if (nul == NULL)
            return NULL;
        if (*p == field)
            return p + 1;
        p = nul + 1;
    }
    return NULL;
}

/* Classify and log a server error (pg->msg holds it). */
static int
server_error(struct metrics_pg *pg, const char *what)
{
    const char *state = error_field(pg, 'C');
    const char *text = error_field(pg, 'M');
    int rc = EX_TEMPFAIL;
    const char *fix = NULL;

    if (state == NULL)
        state = "";
    if (strncmp(state, "28", 2) == 0 || strcmp(state, "3D000") == 0) {
        rc = EX_CONFIG;
        fix = "check HUB_PG_DSN (user, dbname) and the password";
    } else if (strcmp(state, "42P01") == 0) {
        rc = EX_CONFIG;
        fix = "apply the migrations: scripts/migrate.sh";
    } else if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0) {
        rc = EX_DATAERR;
    }
    hub_log(HUB_LOG_ERROR, "pg_statement_failed", HUB_STR("statement", what),
            HUB_STR("where", pg->where), HUB_STR("sqlstate", state), HUB_STR("error", text),
            fix != NULL ? HUB_STR("fix", fix) : HUB_FIELD_NONE_);
    return rc;
}

static int
io_error(struct metrics_pg *pg, const char *what)
{
    return hub_fail(EX_TEMPFAIL, "pg_connection_lost", HUB_STR("statement", what),
                    HUB_STR("where", pg->where), HUB_STR("error", strerror(errno)));
}

/* ---- connecting */

static void
set_timeouts(int fd, unsigned long long seconds)
{
    struct timeval tv = { .tv_sec = (time_t)seconds };

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* connect() bounded by timeout_s; the socket stays blocking afterwards. */
static int
connect_bounded(int fd, const struct sockaddr *sa, socklen_t salen, unsigned long long timeout_s)
{
    int flags = fcntl(fd, F_GETFL), err = 0;
    socklen_t elen = sizeof err;
    struct pollfd pfd = { .fd = fd, .events = POLLOUT };

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        return -1;
    if (connect(fd, sa, salen) != 0) {
        if (errno != EINPROGRESS)
            return -1;
        if (poll(&pfd, 1, (int)(timeout_s * 1000)) != 1) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
            errno = err != 0 ? err : EIO;
            return -1;
        }
    }
    return fcntl(fd, F_SETFL, flags);
}

static int
connect_unix(struct metrics_pg *pg, const struct metrics_dsn *d, unsigned long long t)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/.s.PGSQL.%s", d->host, d->port);

    snprintf(pg->where, sizeof pg->where, "%s/.s.PGSQL.%s", d->host, d->port);
    if (n < 0 || (size_t)n >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    pg->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (pg->fd < 0)
        return -1;
    return connect_bounded(pg->fd, (struct sockaddr *)&sa, sizeof sa, t);
}

static int
connect_tcp(struct metrics_pg *pg, const struct metrics_dsn *d, unsigned long long t)
{
    const char *name = d->hostaddr != NULL ? d->hostaddr : d->host;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
    struct addrinfo *res = NULL;
    int rc = -1, gai;

    snprintf(pg->where, sizeof pg->where, "%s:%s", name, d->port);
    gai = getaddrinfo(name, d->port, &hints, &res);
    if (gai != 0) {
        errno = gai == EAI_SYSTEM ? errno : EHOSTUNREACH;
        return -1;
    }
    for (struct addrinfo *a = res; a != NULL && rc != 0; a = a->ai_next) {
        if (pg->fd >= 0)
            close(pg->fd);
        pg->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (pg->fd >= 0)
            rc = connect_bounded(pg->fd, a->ai_addr, a->ai_addrlen, t);
    }
    freeaddrinfo(res);
    return rc;
}

/* Queue the startup packet in pg->hello (flush_out sends it first). */
static int
queue_startup(struct metrics_pg *pg, const struct metrics_dsn *d)
{
    size_t off = msg_begin(pg, 0);
    const char *app = d->application_name != NULL ? d->application_name : hub_log_service();

    if (put_int(&pg->out, PG_PROTOCOL_3, 4) != 0 ||
        put_str(&pg->out, "user") != 0 || put_str(&pg->out, d->user) != 0 ||
        put_str(&pg->out, "database") != 0 || put_str(&pg->out, d->dbname) != 0 ||
        put_str(&pg->out, "application_name") != 0 || put_str(&pg->out, app) != 0 ||
        put_str(&pg->out, "client_encoding") != 0 || put_str(&pg->out, "UTF8") != 0 ||
        hub_buf_appendc(&pg->out, '\0') != 0 || msg_end(pg, off, 0) != 0)
        return -1;
    pg->hello = pg->out;
    hub_buf_init(&pg->out, pg->hello.max);
    return 0;
}

/* 'p' message with raw bytes (password, SASL response). */
static int
send_password_msg(struct metrics_pg *pg, const void *data, size_t n, int nul)
{
    size_t off = msg_begin(pg, 'p');
    int rc = -1;

    if (hub_buf_append(&pg->out, data, n) == 0 &&
        (!nul || hub_buf_appendc(&pg->out, '\0') == 0) && msg_end(pg, off, 1) == 0)
        rc = flush_out(pg);
    if (pg->out.data != NULL)
        explicit_bzero(pg->out.data, pg->out.cap);
    hub_buf_reset(&pg->out);
    return rc;
}

static int
sasl_initial(struct metrics_pg *pg, const struct hub_buf *first)
{
    size_t off = msg_begin(pg, 'p');

    if (put_str(&pg->out, "SCRAM-SHA-256") != 0 || put_int(&pg->out, (uint32_t)first->len, 4) != 0 ||
        hub_buf_append(&pg->out, first->data, first->len) != 0 || msg_end(pg, off, 1) != 0)
        return -1;
    return flush_out(pg);
}

/*
 * What authentication needs: the password, looked up before connecting
 * (its absence is what allows the pipelined startup), or the lookup's
 * failure, reported only if the server asks for a password. d is NULL for
 * a pipelined startup (then there is no password to use it with).
 */
struct auth {
    struct metrics_pg *pg;
    const struct metrics_dsn *d;
    struct hub_buf password;
    int have_password;
    int lookup_rc;
    struct metrics_scram *scram;
};

#define AUTH_INIT(pg, d) { (pg), (d), HUB_BUF_INIT(HUB_MAX_SECRET), 0, 0, NULL }

/* The DSN's password, else the credential / file / environment one. */
static void
find_password(struct auth *a)
{
    if (a->d->password != NULL) {
        a->have_password = 1;
        a->lookup_rc = hub_buf_appends(&a->password, a->d->password) == 0 ? 0 : EX_CONFIG;
        return;
    }
    a->lookup_rc = metrics_pg_password(&a->password, &a->have_password);
}

static void
auth_release(struct auth *a)
{
    metrics_scram_free(a->scram);
    a->scram = NULL;
    if (a->password.data != NULL)
        explicit_bzero(a->password.data, a->password.len);
    hub_buf_release(&a->password);
}

static int
need_password(struct auth *a)
{
    if (a->lookup_rc != 0)
        return a->lookup_rc;
    if (!a->have_password || a->d == NULL)
        return hub_fail(EX_CONFIG, "pg_auth_failed", HUB_STR("where", a->pg->where),
                        HUB_STR("error", "the server asks for a password and none is set"),
                        HUB_STR("fix", "set the pg_password credential, HUB_PG_PASSWORD_FILE "
                                       "or password= in HUB_PG_DSN"));
    return 0;
}

static int
auth_fail(struct auth *a, const char *why)
{
    return hub_fail(EX_CONFIG, "pg_auth_failed", HUB_STR("where", a->pg->where),
                    HUB_STR("error", why));
}

/* One AuthenticationXXX request; 0 to keep reading. */
static int
auth_step(struct auth *a)
{
    struct metrics_pg *pg = a->pg;
    uint32_t code = body_int(pg, 0);
    struct hub_buf reply = HUB_BUF_INIT(4096);
    char md5[36];
    int rc = 0;

    if (code == 0)
        return 0;
    if (code != 3 && code != 5 && code != 10 && code != 11 && code != 12)
        return auth_fail(a, "unsupported authentication method (use trust, peer, password, "
                            "md5 or scram-sha-256)");
    if (code != 12)
        rc = need_password(a);
    if (rc != 0)
        return rc;
    if (code == 3) {
        rc = send_password_msg(pg, a->password.data, a->password.len, 1);
    } else if (code == 5) {
        if (pg->msg.len < 8 || metrics_md5_password(a->d->user, hub_buf_str(&a->password),
                                                    (const unsigned char *)pg->msg.data + 4, md5) != 0)
            return auth_fail(a, "md5 authentication failed (libcrypto.so.3 needed)");
        rc = send_password_msg(pg, md5, 35, 1);
    } else if (code == 10) {
        if (memmem(pg->msg.data + 4, pg->msg.len - 4, "SCRAM-SHA-256\0", 14) == NULL)
            return auth_fail(a, "server offers no SCRAM-SHA-256");
        if (metrics_scram_begin(&a->scram, hub_buf_str(&a->password), &reply) != 0)
            rc = auth_fail(a, "SCRAM start failed (libcrypto.so.3 needed)");
        else
            rc = sasl_initial(pg, &reply);
    } else if (code == 11) {
        if (a->scram == NULL ||
            metrics_scram_continue(a->scram, pg->msg.data + 4, pg->msg.len - 4, &reply) != 0)
            rc = auth_fail(a, "bad SCRAM challenge from the server");
        else
            rc = send_password_msg(pg, reply.data, reply.len, 0);
    } else {
        if (a->scram == NULL || metrics_scram_verify(a->scram, pg->msg.data + 4, pg->msg.len - 4) != 0)
            rc = auth_fail(a, "the server's SCRAM signature does not match");
    }
    hub_buf_release(&reply);
    if (rc < 0)
        rc = io_error(pg, "authenticate");
    return rc;
}

/* After the startup packet: authenticate, then wait for ReadyForQuery. */
static int
handshake(struct metrics_pg *pg, struct auth *a)
{
    int rc = 0;
    char t;

    while (rc == 0) {
        if (read_msg(pg, &t) != 0) {
            rc = io_error(pg, "connect");
            break;
        }
        if (t == 'Z')
            break;
        if (t == 'E')
            rc = server_error(pg, "connect");
        else if (t == 'R')
            rc = auth_step(a);
    }
    if (rc == 0) {
        pg->startup = PG_STARTUP_DONE;
        set_timeouts(pg->fd, PG_IO_TIMEOUT_S);
    }
    return rc;
}

/* Send what is queued (a pipelined startup with it) and finish the startup. */
static int
send_and_start(struct metrics_pg *pg, const char *what)
{
    struct auth a = AUTH_INIT(pg, NULL);

    if (flush_out(pg) != 0)
        return io_error(pg, what);
    return pg->startup == PG_STARTUP_SENT ? handshake(pg, &a) : 0;
}

static int
open_socket(struct metrics_pg *pg, const struct metrics_dsn *d, unsigned long long t)
{
    if (d->hostaddr == NULL && (d->host[0] == '/' || d->host[0] == '@'))
        return connect_unix(pg, d, t);
    return connect_tcp(pg, d, t);
}

static int
check_settings(const struct metrics_dsn *d, unsigned long long *timeout)
{
    static const char *const clear_modes[] = { "disable", "allow", "prefer" };
    int ok = 0;

    for (size_t i = 0; i < sizeof clear_modes / sizeof clear_modes[0]; i++)
        ok |= strcmp(d->sslmode, clear_modes[i]) == 0;
    if (!ok)
        return hub_fail(EX_CONFIG, "pg_dsn_unsupported", HUB_STR("sslmode", d->sslmode),
                        HUB_STR("error", "hub-metrics does not speak TLS to PostgreSQL"),
                        HUB_STR("fix", "connect over the Unix socket or loopback (sslmode=prefer)"));
    if (hub_parse_uint(d->connect_timeout, 1, 3600, timeout) != 0)
        return hub_fail(EX_CONFIG, "pg_connect_timeout_invalid",
                        HUB_STR("value", d->connect_timeout));
    return 0;
}

int
metrics_pg_connect(struct metrics_pg **out)
{
    const char *text = getenv("HUB_PG_DSN");
    struct metrics_dsn d = METRICS_DSN_INIT;
    struct metrics_pg *pg = NULL;
    struct auth a = AUTH_INIT(NULL, &d);
    unsigned long long timeout = 5;
    const char *err = NULL;
    int rc = EX_CONFIG;

    *out = NULL;
    if (metrics_dsn_parse(text != NULL ? text : "", &d, &err) != 0) {
        rc = hub_fail(EX_CONFIG, "pg_dsn_invalid", HUB_STR("error", err),
                      HUB_STR("fix", "check HUB_PG_DSN"));
        goto out;
    }
    rc = check_settings(&d, &timeout);
    if (rc != 0)
        goto out;
    rc = EX_TEMPFAIL;
    pg = malloc(sizeof *pg);
    if (pg == NULL)
        goto out;
    pg->fd = -1;
    pg->startup = PG_STARTUP_QUEUED;
    pg->rpos = pg->rlen = 0;
    pg->where[0] = '\0';
    hub_buf_init(&pg->hello, HUB_MAX_SQL + 1024 * 1024);
    hub_buf_init(&pg->out, HUB_MAX_SQL + 1024 * 1024);
    hub_buf_init(&pg->msg, PG_MAX_MESSAGE);
    a.pg = pg;
    find_password(&a);
    if (open_socket(pg, &d, timeout) != 0) {
        rc = hub_fail(EX_TEMPFAIL, "pg_connect_failed", HUB_STR("where", pg->where),
                      HUB_STR("error", strerror(errno)));
        goto out;
    }
    set_timeouts(pg->fd, timeout);
    if (queue_startup(pg, &d) != 0) {
        rc = io_error(pg, "connect");
        goto out;
    }
    /* A password (or a failed lookup) may be needed: no pipelining then. */
    if (a.have_password || a.lookup_rc != 0) {
        if (flush_out(pg) != 0) {
            rc = io_error(pg, "connect");
            goto out;
        }
        rc = handshake(pg, &a);
        if (rc != 0)
            goto out;
    }
    rc = 0;
    *out = pg;
    pg = NULL;
out:
    auth_release(&a);
    metrics_pg_close(pg);
    metrics_dsn_release(&d);
    return rc;
}

/* ---- the INSERT */

/* "$N" */
static int
put_param(struct hub_buf *b, size_t v)
{
    if (hub_buf_appendc(b, '$') != HUB_BUF_OK)
        return HUB_BUF_NOMEM;
    return hub_buf_append_u64(b, v);
}

/* "($1::timestamptz,$2,$3,$4,$5::jsonb)" for the row whose first parameter is first. */
static int
put_row_params(struct metrics_pg *pg, size_t first)
{
    static const char *const after[5] = { "::timestamptz,", ",", ",", ",", "::jsonb)" };

    if (hub_buf_appendc(&pg->out, '(') != 0)
        return -1;
    for (size_t k = 0; k < 5; k++) {
        if (put_param(&pg->out, first + k) != 0 || hub_buf_appends(&pg->out, after[k]) != 0)
            return -1;
    }
    return 0;
}

/* Append Parse, Bind, Execute, Sync for the rows to pg->out. */
static int
build_insert(struct metrics_pg *pg, const struct metrics_row *rows, size_t n)
{
    size_t off = msg_begin(pg, 'P');

    if (put_str(&pg->out, "") != 0 ||
        hub_buf_appends(&pg->out, "INSERT INTO system_metrics (time, host, os, metric_type, "
                                  "payload) VALUES ") != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if ((i > 0 && hub_buf_appendc(&pg->out, ',') != 0) || put_row_params(pg, i * 5 + 1) != 0)
            return -1;
    }
    if (put_str(&pg->out, " ON CONFLICT DO NOTHING") != 0 || put_int(&pg->out, 0, 2) != 0 ||
        msg_end(pg, off, 1) != 0)
        return -1;
    off = msg_begin(pg, 'B');
    if (put_str(&pg->out, "") != 0 || put_str(&pg->out, "") != 0 ||
        put_int(&pg->out, 0, 2) != 0 || put_int(&pg->out, (uint32_t)(n * 5), 2) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *v[5] = { rows[i].time, rows[i].host, rows[i].os, rows[i].type,
                             rows[i].payload };

        for (int j = 0; j < 5; j++) {
            if (put_int(&pg->out, (uint32_t)strlen(v[j]), 4) != 0 ||
                hub_buf_appends(&pg->out, v[j]) != 0)
                return -1;
        }
    }
    if (put_int(&pg->out, 0, 2) != 0 || msg_end(pg, off, 1) != 0)
        return -1;
    off = msg_begin(pg, 'E');
    if (put_str(&pg->out, "") != 0 || put_int(&pg->out, 0, 4) != 0 || msg_end(pg, off, 1) != 0)
        return -1;
    off = msg_begin(pg, 'S');
    return msg_end(pg, off, 1);
}

/* "INSERT 0 N" -> N */
static void
command_rows(const struct metrics_pg *pg, uint64_t *inserted)
{
    const char *p = hub_buf_str(&pg->msg);
    const char *last = strrchr(p, ' ');
    uint64_t v;

    if (last == NULL)
        return;
    last++;
    if (metrics_next_u64(&last, &v) == 0)
        *inserted += v;
}

int
metrics_pg_insert(struct metrics_pg *pg, const struct metrics_row *rows, size_t n,
                  uint64_t *inserted)
{
    int rc = 0;
    char t;

    if (n == 0)
        return send_and_start(pg, "connect");
    if (n > 65535 / 5 || build_insert(pg, rows, n) != 0) {
        hub_buf_reset(&pg->out);
        return hub_fail(EX_DATAERR, "pg_statement_failed", HUB_STR("statement", "insert"),
                        HUB_STR("error", "too many or too large rows"));
    }
    rc = send_and_start(pg, "insert");
    if (rc != 0)
        return rc;
    for (;;) {
        if (read_msg(pg, &t) != 0)
            return io_error(pg, "insert");
        if (t == 'Z')
            return rc;
        if (t == 'E' && rc == 0)
            rc = server_error(pg, "insert");
        else if (t == 'C')
            command_rows(pg, inserted);
    }
}

void
metrics_pg_close(struct metrics_pg *pg)
{
    if (pg == NULL)
        return;
    if (pg->fd >= 0) {
        static const char terminate[] = { 'X', 0, 0, 0, 4 };

        /* Not before the startup packet: the server would take it for one. */
        if (pg->startup != PG_STARTUP_QUEUED)
            send(pg->fd, terminate, sizeof terminate, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(pg->fd);
    }
    hub_buf_release(&pg->hello);
    hub_buf_release(&pg->out);
    hub_buf_release(&pg->msg);
    free(pg);
}
