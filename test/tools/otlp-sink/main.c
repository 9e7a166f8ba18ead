/*
 * otlp-sink: a loopback OTLP/HTTP receiver for tests. Accepts POST
 * /v1/traces (any body up to 4 MiB) and appends each body as one line to
 * FILE, answering 200 "{}"; every other request gets 404. It records, it
 * never interprets: the tests read FILE with jq.
 *
 * usage: otlp-sink PORT FILE
 * Listens on 127.0.0.1:PORT only; runs until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "opt.h"

#define MAX_BODY (4u * 1024 * 1024)

struct sink {
    int fd;
};

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned status, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void
record(struct sink *s, struct hub_buf *b)
{
    ssize_t w;

    if (hub_buf_appendc(b, '\n') != HUB_BUF_OK)
        return;
    w = write(s->fd, b->data, b->len);     /* O_APPEND: one line, one write */
    (void)w;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
       const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
    struct sink *s = cls;
    struct hub_buf *b = *req_cls;

    if (b == NULL) {
        if (strcmp(method, "POST") != 0 || strcmp(url, "/v1/traces") != 0)
            return answer(conn, MHD_HTTP_NOT_FOUND, "{}");
        b = calloc(1, sizeof *b);
        if (b == NULL)
            return MHD_NO;
        hub_buf_init(b, MAX_BODY);
        *req_cls = b;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        int rc = hub_buf_append(b, upload, *upload_size);

        *upload_size = 0;
        return rc == HUB_BUF_OK ? MHD_YES : MHD_NO;
    }
    record(s, b);
    return answer(conn, MHD_HTTP_OK, "{}");
}

static void
done(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe)
{
    struct hub_buf *b = *req_cls;

    if (b != NULL) {
        hub_buf_release(b);
        free(b);
        *req_cls = NULL;
    }
}

int
main(int argc, char **argv)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    unsigned long long port;
    struct MHD_Daemon *d;
    struct sink s;
    sigset_t sigs;
    int sig;

    if (argc != 3 || hub_parse_uint(argv[1], 1, 65535, &port) != 0) {
        fprintf(stderr, "usage: otlp-sink PORT FILE\n");
        return 64;
    }
    s.fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s.fd < 0) {
        perror(argv[2]);
        return 73;
    }
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, handle, &s,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "otlp-sink: cannot listen on 127.0.0.1:%llu\n", port);
        return 69;
    }
    fprintf(stderr, "otlp-sink: listening on 127.0.0.1:%llu, recording to %s\n", port, argv[2]);
    sigwait(&sigs, &sig);
    MHD_stop_daemon(d);
    close(s.fd);
    return 0;
}
