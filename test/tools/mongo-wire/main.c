/*
 * main.c: the mongo-wire test server's process: options, the loopback
 * listening socket, signals (through a signalfd polled next to the socket),
 * and one detached thread per connection. It never binds anything but
 * 127.0.0.1.
 *
 * Signals: SIGUSR1 dumps the collection (--dump, --status-file); SIGTERM
 * and SIGINT end every connection, dump it and exit 0.
 *
 * The main thread owns each connection (its struct, socket and thread) and
 * the connection thread only borrows it (it shuts the socket down when done,
 * never closes it, so main never touches a reused fd): finished threads are
 * joined and freed before each accept, the rest are shut down and joined at
 * exit, so the store and cursors are freed with no thread left to use them.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fileio.h"
#include "hub.h"
#include "log.h"
#include "opt.h"
#include "mongo-wire.h"

struct mw_options {
    unsigned long long port;
    const char *port_file;
    const char *load;
    const char *dump;
    int dump_each_write;
    const char *db;
    const char *collection;
    unsigned long long close_after_docs;
    unsigned long long close_on_update;
    unsigned long long close_after_update;
    unsigned long long fail_updates;
    unsigned long long stall_ms;
    const char *status_file;
};

struct mw_conn {
    struct mw_server *srv;
    int fd;
    int64_t id;
    pthread_t thread;
    struct mw_conn *next;     /* main thread only */
};

static int
parse_args(struct mw_options *o, int argc, char **argv)
{
    const struct hub_opt opts[] = {
        { "close-after-docs", 0, NULL, HUB_OPT_UINT, &o->close_after_docs, 1, 1000000000,
          "K", "drop the connection instead of a find/getMore reply that would take the "
               "documents returned past K (once)" },
        { "close-after-update", 0, NULL, HUB_OPT_UINT, &o->close_after_update, 1, 1000000,
          "N", "apply the Nth update, then drop the connection without replying" },
        { "close-on-update", 0, NULL, HUB_OPT_UINT, &o->close_on_update, 1, 1000000,
          "N", "drop the connection when the Nth update arrives, before applying it" },
        { "collection", 0, NULL, HUB_OPT_STR, &o->collection, 0, 0, "NAME", "collection held" },
        { "db", 0, NULL, HUB_OPT_STR, &o->db, 0, 0, "NAME", "database of the collection" },
        { "dump", 0, NULL, HUB_OPT_STR, &o->dump, 0, 0, "FILE",
          "write the collection as canonical Extended-JSON lines on SIGUSR1 and at exit" },
        { "dump-each-write", 0, NULL, HUB_OPT_FLAG, &o->dump_each_write, 0, 0, NULL,
          "also rewrite --dump after every update that changed a document" },
        { "fail-updates", 0, NULL, HUB_OPT_UINT, &o->fail_updates, 0, 1000000,
          "N", "answer the first N updates with ok:0, applying nothing" },
        { "load", 0, NULL, HUB_OPT_STR, &o->load, 0, 0, "FILE",
          "Extended-JSON lines to load into the collection" },
        { "port", 0, NULL, HUB_OPT_UINT, &o->port, 0, 65535, "PORT",
          "loopback port to listen on (0: pick a free one)" },
        { "port-file", 0, NULL, HUB_OPT_STR, &o->port_file, 0, 0, "FILE",
          "write the port here once listening" },
        { "status-file", 0, NULL, HUB_OPT_STR, &o->status_file, 0, 0, "FILE",
          "write \"<_id>\\t<status>\" lines at start and after every update that changed "
          "a document" },
        { "stall-ms", 0, NULL, HUB_OPT_UINT, &o->stall_ms, 0, 600000, "MS",
          "sleep this long before every find and getMore reply" },
    };
    const struct hub_prog prog = {
        "mongo-wire", "mongo-wire [--port PORT] [--load FILE] [--dump FILE] [fault options]",
        "A MongoDB wire-protocol test server holding one in-memory collection, for "
        "testing hub-readsync through the real mongo-c-driver.",
        opts, sizeof opts / sizeof opts[0], NULL,
    };
    int first;
    int rc = hub_opt_parse(&prog, argc, argv, &first);

    if (rc == 0 && first != argc) {
        fprintf(stderr, "mongo-wire: unexpected operand '%s'\n", argv[first]);
        rc = EX_USAGE;
    }
    return rc;
}

static void
serve_connection(struct mw_conn *c)
{
    int32_t next_id = 1;

    for (;;) {
        struct mw_request req;
        bson_t reply;
        enum mw_action act;
        int wants_reply;

        if (mw_wire_read(c->fd, &req) != 0)
            return;
        act = mw_command_run(c->srv, c->id, &req, &reply);
        wants_reply = !(req.opcode == MW_OP_MSG && (req.flags & MW_MSG_MORE_TO_COME));
        if (act == MW_ACT_REPLY && wants_reply &&
            mw_wire_reply(c->fd, &req, &reply, &next_id) != 0)
            act = MW_ACT_CLOSE;
        bson_destroy(req.cmd);
        bson_destroy(&reply);
        if (act == MW_ACT_CLOSE)
            return;
    }
}

static void *
connection_thread(void *arg)
{
    struct mw_conn *c = arg;

    serve_connection(c);
    /* The client sees the drop now; the fd is closed when main reaps us. */
    shutdown(c->fd, SHUT_RDWR);
    hub_log(HUB_LOG_DEBUG, "mw_disconnect", HUB_INT("conn", c->id));
    return NULL;
}

static void
conn_free(struct mw_conn *c)
{
    close(c->fd);
    free(c);
}

/* Join and free the connections whose threads have returned. */
static void
reap_finished(struct mw_conn **conns)
{
    struct mw_conn **pp = conns;

    while (*pp != NULL) {
        struct mw_conn *c = *pp;

        if (pthread_tryjoin_np(c->thread, NULL) != 0) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        conn_free(c);
    }
}

/* End every connection: shutdown() wakes a thread blocked on its socket. */
static void
stop_all(struct mw_conn **conns)
{
    for (struct mw_conn *c = *conns; c != NULL; c = c->next)
        shutdown(c->fd, SHUT_RDWR);
    while (*conns != NULL) {
        struct mw_conn *c = *conns;

        pthread_join(c->thread, NULL);
        *conns = c->next;
        conn_free(c);
    }
}

static int
listen_loopback(unsigned long long port, unsigned long long *bound)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof sa;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

/* Accept one connection onto conns, with its thread started. */
static void
accept_one(struct mw_server *srv, int lfd, struct mw_conn **conns)
{
    int one = 1;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    struct mw_conn *c;

    if (fd < 0)
        return;
    /* Replies are single writes; without NODELAY, delayed ACKs cost 40 ms. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        return;
    }
    c->srv = srv;
    c->fd = fd;
    pthread_mutex_lock(&srv->lock);
    c->id = ++srv->next_conn_id;
    pthread_mutex_unlock(&srv->lock);
    if (pthread_create(&c->thread, NULL, connection_thread, c) != 0) {
        conn_free(c);
        return;
    }
    c->next = *conns;
    *conns = c;
}

static void
dump(struct mw_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    if (srv->dump_path != NULL)
        mw_store_dump(&srv->store, srv->dump_path);
    if (srv->status_path != NULL)
        mw_store_dump_status(&srv->store, srv->status_path);
    pthread_mutex_unlock(&srv->lock);
}

/* Accept and handle signals until SIGTERM/SIGINT (0), connections on conns. */
static int
serve(struct mw_server *srv, int lfd, int sfd, struct mw_conn **conns)
{
    struct pollfd pfd[2] = { { lfd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
    struct signalfd_siginfo si;

    for (;;) {
        if (poll(pfd, 2, -1) < 0 && errno != EINTR)
            return EX_OSERR;
        if (pfd[0].revents & POLLIN) {
            reap_finished(conns);
            accept_one(srv, lfd, conns);
        }
        if (!(pfd[1].revents & POLLIN) || read(sfd, &si, sizeof si) != sizeof si)
            continue;
        if (si.ssi_signo != SIGUSR1)
            return 0;
        dump(srv);
    }
}

static int
write_port_file(const char *path, unsigned long long port)
{
    char text[32];
    int n = snprintf(text, sizeof text, "%llu\n", port);

    if (n < 0 || (size_t)n >= sizeof text)
        return -1;
    return hub_file_write_atomic(path, text, (size_t)n, 0644);
}

static int
start(struct mw_server *srv, const struct mw_options *o, int *lfd, int *sfd)
{
    unsigned long long port;
    sigset_t set;
    int n;

    n = snprintf(srv->ns, sizeof srv->ns, "%s.%s", o->db, o->collection);
    if (n < 0 || (size_t)n >= sizeof srv->ns)
        return hub_fail(EX_USAGE, "mw_namespace_too_long");
    if (o->load != NULL && mw_store_load(&srv->store, o->load) != 0)
        return EX_DATAERR;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    /* Blocked before any thread starts, so only the signalfd sees them. */
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return EX_OSERR;
    signal(SIGPIPE, SIG_IGN);
    *sfd = signalfd(-1, &set, SFD_CLOEXEC);
    *lfd = listen_loopback(o->port, &port);
    if (*sfd < 0 || *lfd < 0)
        return hub_fail(EX_OSERR, "mw_listen_failed", HUB_INT("port", o->port),
                        HUB_STR("error", strerror(errno)));
    if (o->status_file != NULL && mw_store_dump_status(&srv->store, o->status_file) != 0)
        return EX_CANTCREAT;
    if (o->port_file != NULL && write_port_file(o->port_file, port) != 0)
        return hub_fail(EX_CANTCREAT, "mw_port_file_failed", HUB_STR("file", o->port_file));
    hub_log(HUB_LOG_INFO, "mw_listening", HUB_INT("port", port), HUB_STR("ns", srv->ns),
            HUB_INT("documents", srv->store.n));
    return 0;
}

int
main(int argc, char **argv)
{
    struct mw_options o = { .db = "reading-analytics", .collection = "articles" };
    struct mw_server srv = { .lock = PTHREAD_MUTEX_INITIALIZER, .next_cursor_id = 1000 };
    struct mw_conn *conns = NULL;
    int lfd = -1, sfd = -1;
    int rc;

    hub_log_init("mongo-wire");
    rc = parse_args(&o, argc, argv);
    if (rc != 0)
        return rc == HUB_OPT_DONE ? 0 : rc;
    mw_store_init(&srv.store);
    mw_faults_init(&srv.faults);
    srv.faults.close_after_docs = o.close_after_docs > 0 ? (long long)o.close_after_docs : -1;
    srv.faults.close_on_update = o.close_on_update > 0 ? (long long)o.close_on_update : -1;
    srv.faults.close_after_update = o.close_after_update > 0 ? (long long)o.close_after_update : -1;
    srv.faults.fail_updates = (long long)o.fail_updates;
    srv.faults.stall_ms = (long long)o.stall_ms;
    srv.dump_path = o.dump;
    srv.dump_each_write = o.dump_each_write;
    srv.status_path = o.status_file;
    rc = start(&srv, &o, &lfd, &sfd);
    if (rc == 0)
        rc = serve(&srv, lfd, sfd, &conns);
    stop_all(&conns);
    /* After the joins: the dump holds every update a client saw answered. */
    if (rc == 0)
        dump(&srv);
    mw_cursors_release(&srv);
    mw_store_release(&srv.store);
    if (lfd >= 0)
        close(lfd);
    if (sfd >= 0)
        close(sfd);
    return rc;
}
