/*
 * routes.c: the route table and the life of one request.
 *
 * Order of work on the hook, cheapest refusal first: route and method,
 * content type (415), Content-Length against the cap (413, body never
 * read), presence and shape of X-Hub-Signature-256 (401), event and GUID
 * headers (400) -- all before a byte of body is read. Then the body is
 * buffered up to the cap (a body that grows past it is cut off), the HMAC
 * is checked over the raw bytes (401), and only then is anything parsed.
 *
 * Owns each request's state (struct req) from the first callback to
 * webhook_completed(), which logs one line, records the counters, ends the
 * span and queues the webhook_deliveries row. Never logs a body or a
 * secret; never turns request data into a path or a command.
 */
#include <arpa/inet.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "hub.h"
#include "log.h"
#include "opt.h"
#include "timefmt.h"
#include "trace.h"
#include "webhook.h"

#define MAX_OTHER_BODY (64u * 1024)   /* a GET with a body: tolerated up to this */
#define FIRST_RESERVE (1024u * 1024)  /* reserve at most this from Content-Length */

struct req;
struct route;

typedef enum MHD_Result (*route_fn)(struct webhook_ctx *ctx, struct MHD_Connection *conn,
                                    struct req *req);

struct route {
    const char *path;
    const char *method;
    const char *allow;                /* the Allow header of a 405 */
    enum webhook_route_id id;
    route_fn begin;                   /* headers only; NULL: nothing to check */
    route_fn finish;                  /* the whole request is in */
};

struct req {
    const struct route *route;
    int64_t start_mono_ns;
    int64_t start_wall_ns;
    struct hub_buf body;
    size_t body_bytes;
    size_t buffered;                  /* bytes counted into ctx->buffered */
    int responded;
    unsigned status;
    size_t resp_bytes;
    enum webhook_outcome outcome;
    const char *reason;               /* static text */
    int is_delivery;
    enum webhook_body_type body_type;
    unsigned char mac[WEBHOOK_MAC_LEN];
    char method[8];
    char path[128];
    char remote[64];
    char delivery[WEBHOOK_GUID_MAX];
    char event[WEBHOOK_EVENT_MAX];
    char repo[HUB_REPO_NAME_MAX + 1];
    char ref[WEBHOOK_REF_MAX];
    char after[WEBHOOK_SHA_MAX];
    struct hub_span span;
};

static enum MHD_Result hook_begin(struct webhook_ctx *, struct MHD_Connection *, struct req *);
static enum MHD_Result hook_finish(struct webhook_ctx *, struct MHD_Connection *, struct req *);
static enum MHD_Result health_finish(struct webhook_ctx *, struct MHD_Connection *, struct req *);
static enum MHD_Result metrics_finish(struct webhook_ctx *, struct MHD_Connection *, struct req *);

static const struct route routes[] = {
    { "/hooks/github", "POST", "POST", WEBHOOK_ROUTE_HOOK, hook_begin, hook_finish },
    /* the Go system's path, still configured in GitHub's settings */
    { "/api/webhook/gitops", "POST", "POST", WEBHOOK_ROUTE_HOOK, hook_begin, hook_finish },
    { "/health", "GET", "GET, HEAD", WEBHOOK_ROUTE_HEALTH, NULL, health_finish },
    { "/api/health", "GET", "GET, HEAD", WEBHOOK_ROUTE_HEALTH, NULL, health_finish },
    { "/metrics", "GET", "GET, HEAD", WEBHOOK_ROUTE_METRICS, NULL, metrics_finish },
};

/* ---- answering ---------------------------------------------------------- */

static void
copy_cut(char *dst, size_t dstlen, const char *src)
{
    size_t n = src != NULL ? strnlen(src, dstlen - 1) : 0;

    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static enum MHD_Result
respond(struct MHD_Connection *conn, struct req *req, unsigned status, const char *ctype,
        const char *body, size_t len)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, req->route->allow);
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    /* Queuing fails once the body is being read (a body cut off past the
     * cap): MHD_NO then closes the connection without an answer. */
    if (ret == MHD_YES) {
        req->responded = 1;
        req->status = status;
        req->resp_bytes = len;
    }
    return ret;
}

/* One "key": "string" member of a reply body; a NULL value is left out. */
struct member {
    const char *key;
    const char *value;
};

/*
 * A JSON object of string members as the body. cJSON still does the
 * escaping (a zen comes from the payload), but the tree lives in an arena
 * on the stack and is printed into a stack buffer: no malloc per member.
 * The largest body is a ping's: a 255-byte zen escaped at worst 6 bytes a
 * byte, plus the GUID, well under REPLY_MAX.
 */
#define REPLY_ARENA 4096
#define REPLY_MAX 4096

static enum MHD_Result
respond_object(struct MHD_Connection *conn, struct req *req, unsigned status,
               const struct member *m, size_t n)
{
    alignas(max_align_t) unsigned char first[REPLY_ARENA];
    char text[REPLY_MAX];
    struct webhook_arena arena;
    cJSON *o;
    int ok;

    webhook_arena_begin(&arena, first, sizeof first);
    o = cJSON_CreateObject();
    ok = o != NULL;
    for (size_t i = 0; i < n && ok; i++)
        ok = m[i].value == NULL || cJSON_AddStringToObject(o, m[i].key, m[i].value) != NULL;
    ok = ok && cJSON_PrintPreallocated(o, text, (int)sizeof text, 0);
    webhook_arena_end(&arena);
    if (!ok)
        return MHD_NO;
    return respond(conn, req, status, "application/json", text, strlen(text));
}

static const char *
unless_empty(const char *s)
{
    return s[0] != '\0' ? s : NULL;
}

/* {"status":word[,"reason"][,"repo"][,"after"][,"delivery"]} */
static enum MHD_Result
reply(struct MHD_Connection *conn, struct req *req, unsigned status, enum webhook_outcome outcome,
      const char *word, const char *reason)
{
    const struct member m[] = {
        { "status", word },
        { "reason", reason },
        { "repo", unless_empty(req->repo) },
        { "after", unless_empty(req->after) },
        { "delivery", unless_empty(req->delivery) },
    };

    req->outcome = outcome;
    req->reason = reason;
    return respond_object(conn, req, status, m, sizeof m / sizeof m[0]);
}

/* ---- the hook -------------------------------------------------------------- */

static const char *
header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result
hook_begin(struct webhook_ctx *ctx, struct MHD_Connection *conn, struct req *req)
{
    const char *cl = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *event = header(conn, "X-GitHub-Event"), *guid = header(conn, "X-GitHub-Delivery");
    unsigned long long len = 0;
    struct hub_trace_ctx parent;
    int has_parent = hub_trace_parse(header(conn, "traceparent"), &parent) == 0;

    req->is_delivery = 1;
    hub_span_start(&req->span, "webhook.delivery", HUB_SPAN_SERVER, has_parent ? &parent : NULL);
    if (webhook_event_valid(event))
        copy_cut(req->event, sizeof req->event, event);
    if (webhook_guid_valid(guid))
        copy_cut(req->delivery, sizeof req->delivery, guid);
    req->body_type = webhook_body_type(header(conn, MHD_HTTP_HEADER_CONTENT_TYPE));
    if (req->body_type == WEBHOOK_BODY_OTHER)
        return reply(conn, req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, WEBHOOK_OUT_UNSUPPORTED,
                     "unsupported", "content type must be application/json or "
                     "application/x-www-form-urlencoded");
    if (cl != NULL && (hub_parse_uint(cl, 0, ctx->opts->max_body, &len) != 0))
        return reply(conn, req, MHD_HTTP_CONTENT_TOO_LARGE, WEBHOOK_OUT_TOO_LARGE, "too_large",
                     "body larger than the cap");
    if (webhook_signature_parse(header(conn, "X-Hub-Signature-256"), req->mac) != 0)
        return reply(conn, req, MHD_HTTP_UNAUTHORIZED, WEBHOOK_OUT_UNAUTHORIZED, "unauthorized",
                     "X-Hub-Signature-256 missing or malformed");
    if (req->event[0] == '\0' || req->delivery[0] == '\0')
        return reply(conn, req, MHD_HTTP_BAD_REQUEST, WEBHOOK_OUT_MALFORMED, "bad_request",
                     "X-GitHub-Event or X-GitHub-Delivery missing or malformed");
    if (len > 0 && hub_buf_reserve(&req->body, len < FIRST_RESERVE ? len : FIRST_RESERVE) != 0)
        return reply(conn, req, MHD_HTTP_SERVICE_UNAVAILABLE, WEBHOOK_OUT_BUSY, "busy",
                     "out of memory");
    return MHD_YES;
}

static enum MHD_Result
ignored(struct MHD_Connection *conn, struct req *req, const char *reason)
{
    return reply(conn, req, MHD_HTTP_ACCEPTED, WEBHOOK_OUT_IGNORED, "ignored", reason);
}

static enum MHD_Result
ping(struct MHD_Connection *conn, struct req *req, const char *zen)
{
    const struct member m[] = {
        { "status", "pong" },
        { "zen", zen },
        { "delivery", req->delivery },
    };

    req->outcome = WEBHOOK_OUT_PONG;
    return respond_object(conn, req, MHD_HTTP_OK, m, sizeof m / sizeof m[0]);
}

static enum MHD_Result
trigger(struct webhook_ctx *ctx, struct MHD_Connection *conn, struct req *req,
        const struct webhook_decision *d)
{
    struct webhook_trigger t;
    enum webhook_trigger_result r;

    memset(&t, 0, sizeof t);
    memcpy(req->repo, d->repo->name, sizeof req->repo);
    memcpy(req->ref, d->ref, sizeof req->ref);
    memcpy(req->after, d->after, sizeof req->after);
    if (webhook_replay_claim(&ctx->replay, req->delivery))
        return reply(conn, req, MHD_HTTP_OK, WEBHOOK_OUT_DUPLICATE, "duplicate",
                     "delivery already triggered");
    memcpy(t.repo, req->repo, sizeof t.repo);
    memcpy(t.ref, req->ref, sizeof t.ref);
    memcpy(t.after, req->after, sizeof t.after);
    memcpy(t.delivery, req->delivery, sizeof t.delivery);
    memcpy(t.event, req->event, sizeof t.event);
    /* Our span's context: hub-gitops' span becomes its child. */
    hub_trace_format(&req->span.ctx, t.traceparent, sizeof t.traceparent);
    r = webhook_handover_submit(&ctx->handover, &t);
    webhook_stats_trigger(&ctx->stats, r);
    if (r == WEBHOOK_TRIG_FAILED) {
        /* Forgotten, so GitHub's redelivery of this GUID may trigger again. */
        webhook_replay_forget(&ctx->replay, req->delivery);
        return reply(conn, req, MHD_HTTP_SERVICE_UNAVAILABLE, WEBHOOK_OUT_TRIGGER_FAILED, "error",
                     "hand-over failed; redeliver later");
    }
    return reply(conn, req, MHD_HTTP_ACCEPTED, WEBHOOK_OUT_TRIGGERED, "triggered",
                 r == WEBHOOK_TRIG_COALESCED ? "queued behind a waiting sync" : NULL);
}

static enum MHD_Result
decide_and_answer(struct webhook_ctx *ctx, struct MHD_Connection *conn, struct req *req,
                  const char *payload, size_t len)
{
    struct webhook_decision d;

    webhook_decide(req->event, payload, len, &ctx->repos, &d);
    if (d.repo != NULL)
        memcpy(req->repo, d.repo->name, sizeof req->repo);
    switch (d.action) {
    case WEBHOOK_PING:
        return ping(conn, req, d.zen);
    case WEBHOOK_IGNORE:
        return ignored(conn, req, d.reason);
    case WEBHOOK_MALFORMED:
        return reply(conn, req, MHD_HTTP_BAD_REQUEST, WEBHOOK_OUT_MALFORMED, "bad_request", d.reason);
    case WEBHOOK_TRIGGER:
        break;
    }
    return trigger(ctx, conn, req, &d);
}

static enum MHD_Result
hook_finish(struct webhook_ctx *ctx, struct MHD_Connection *conn, struct req *req)
{
    struct hub_buf form = HUB_BUF_INIT(ctx->opts->max_body);
    enum MHD_Result ret;

    if (!webhook_signature_check(&ctx->secrets, req->body.data, req->body.len, req->mac))
        return reply(conn, req, MHD_HTTP_UNAUTHORIZED, WEBHOOK_OUT_UNAUTHORIZED, "unauthorized",
                     "signature does not match");
    if (req->body_type == WEBHOOK_BODY_JSON)
        return decide_and_answer(ctx, conn, req, hub_buf_str(&req->body), req->body.len);
    if (webhook_form_payload(hub_buf_str(&req->body), req->body.len, &form) != 0)
        ret = reply(conn, req, MHD_HTTP_BAD_REQUEST, WEBHOOK_OUT_MALFORMED, "bad_request",
                    "form body without a well-formed payload field");
    else
        ret = decide_and_answer(ctx, conn, req, hub_buf_str(&form), form.len);
    hub_buf_release(&form);
    return ret;
}

/* ---- health and metrics ------------------------------------------------------ */

static enum MHD_Result
health_finish(struct webhook_ctx *ctx, struct MHD_Connection *conn, struct req *req)
{
    char body[160];
    int n = snprintf(body, sizeof body, "{\"status\":\"ok\",\"version\":\"%s\",\"uptime_s\":%lld}",
                     HUB_VERSION,
                     (long long)((hub_time_mono_ns() - ctx->stats.started_mono_ns) / 1000000000));

    if (n < 0 || (size_t)n >= sizeof body)
        return MHD_NO;
    return respond(conn, req, MHD_HTTP_OK, "application/json", body, (size_t)n);
}

static enum MHD_Result
metrics_finish(struct webhook_ctx *ctx, struct MHD_Connection *conn, struct req *req)
{
    struct hub_buf text = HUB_BUF_INIT(1024u * 1024);
    struct webhook_stats_extra x = { 0 };
    struct hub_tracer_counts tc;
    enum MHD_Result ret;

    hub_tracer_counts(ctx->tracer, &tc);
    x.spans_exported = tc.exported;
    x.spans_dropped = tc.dropped;
    webhook_deliveries_counts(ctx->deliveries, &x.db_written, &x.db_dropped);
    x.replay_size = webhook_replay_count(&ctx->replay);
    x.open_connections = atomic_load(&ctx->open_connections);
    if (webhook_stats_render(&ctx->stats, &x, &text) != 0)
        ret = respond(conn, req, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "", 0);
    else
        ret = respond(conn, req, MHD_HTTP_OK, "text/plain; version=0.0.4", hub_buf_str(&text),
                      text.len);
    hub_buf_release(&text);
    return ret;
}

/* ---- the request life cycle ------------------------------------------------------ */

static const struct route *
find_route(const char *url)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(url, routes[i].path) == 0)
            return &routes[i];
    }
    return NULL;
}

static void
remote_address(struct MHD_Connection *conn, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

    out[0] = '\0';
    if (sa != NULL && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)outlen);
    else if (sa != NULL && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)outlen);
}

static enum MHD_Result
begin(struct webhook_ctx *ctx, struct MHD_Connection *conn, struct req *req, const char *url,
      const char *method)
{
    static const struct route not_found = { "", "", "", WEBHOOK_ROUTE_NONE, NULL, NULL };

    req->route = find_route(url);
    if (req->route == NULL) {
        req->route = &not_found;
        return reply(conn, req, MHD_HTTP_NOT_FOUND, WEBHOOK_OUT_NONE, "not_found", NULL);
    }
    if (strcmp(method, req->route->method) != 0 &&
        !(strcmp(method, "HEAD") == 0 && strcmp(req->route->method, "GET") == 0))
        return reply(conn, req, MHD_HTTP_METHOD_NOT_ALLOWED, WEBHOOK_OUT_NONE,
                     "method_not_allowed", NULL);
    if (req->route->begin != NULL)
        return req->route->begin(ctx, conn, req);
    return MHD_YES;
}

/* libmicrohttpd's connection timeout is an idle timeout: a client that
 * trickles a byte every few seconds would hold its connection, and its
 * share of the body budget, for as long as it likes. So the body as a
 * whole has a deadline too, checked whenever a piece of it arrives. */
static int
body_overdue(const struct webhook_ctx *ctx, const struct req *req)
{
    int64_t limit_ns = (int64_t)ctx->opts->body_timeout_s * 1000000000;

    return hub_time_mono_ns() - req->start_mono_ns > limit_ns;
}

/* Buffer a piece of body, cutting off at the cap and at the process-wide
 * budget (WEBHOOK_MAX_BUFFERED) so memory stays bounded whatever the
 * clients do. */
static enum MHD_Result
take_body(struct webhook_ctx *ctx, struct MHD_Connection *conn, struct req *req,
          const char *data, size_t n)
{
    size_t cap = req->is_delivery ? ctx->opts->max_body : MAX_OTHER_BODY;
    uint64_t before;

    req->body_bytes += n;
    if (body_overdue(ctx, req)) {
        hub_buf_release(&req->body);
        req->reason = "body not complete within --body-timeout";
        return MHD_NO;                  /* close the connection, no answer */
    }
    if (req->responded)
        return MHD_YES;                 /* answered already: discard */
    if (req->body_bytes > cap) {
        hub_buf_release(&req->body);
        return reply(conn, req, MHD_HTTP_CONTENT_TOO_LARGE, WEBHOOK_OUT_TOO_LARGE, "too_large",
                     "body larger than the cap");
    }
    if (!req->is_delivery)
        return MHD_YES;                 /* a GET's body: counted, not kept */
    before = atomic_fetch_add(&ctx->buffered, n);
    req->buffered += n;
    if (before + n > WEBHOOK_MAX_BUFFERED || hub_buf_append(&req->body, data, n) != HUB_BUF_OK) {
        hub_buf_release(&req->body);
        return reply(conn, req, MHD_HTTP_SERVICE_UNAVAILABLE, WEBHOOK_OUT_BUSY, "busy",
                     "too many bodies in memory; retry later");
    }
    return MHD_YES;
}

enum MHD_Result
webhook_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
               const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
    struct webhook_ctx *ctx = cls;
    struct req *req = *req_cls;
    size_t n;

    if (req == NULL) {
        req = calloc(1, sizeof *req);
        if (req == NULL)
            return MHD_NO;
        hub_buf_init(&req->body, ctx->opts->max_body);
        req->start_mono_ns = hub_time_mono_ns();
        req->start_wall_ns = hub_time_now_ns();
        copy_cut(req->method, sizeof req->method, method);
        copy_cut(req->path, sizeof req->path, url);
        remote_address(conn, req->remote, sizeof req->remote);
        *req_cls = req;
        return begin(ctx, conn, req, url, method);
    }
    if (*upload_size > 0) {
        n = *upload_size;
        *upload_size = 0;
        return take_body(ctx, conn, req, upload, n);
    }
    if (req->responded)
        return MHD_YES;
    return req->route->finish(ctx, conn, req);
}

/* ---- after the response ----------------------------------------------------------- */

static void
record_delivery(struct webhook_ctx *ctx, struct req *req, int64_t duration_us)
{
    struct webhook_delivery_row row;

    webhook_stats_delivery(&ctx->stats, req->event, req->outcome);
    hub_span_set_str(&req->span, "http.request.method", req->method);
    hub_span_set_str(&req->span, "url.path", req->path);
    hub_span_set_int(&req->span, "http.response.status_code", req->status);
    hub_span_set_str(&req->span, "client.address", req->remote);
    hub_span_set_str(&req->span, "github.event", req->event);
    hub_span_set_str(&req->span, "github.delivery", req->delivery);
    hub_span_set_str(&req->span, "hub.repo", req->repo);
    hub_span_set_str(&req->span, "hub.outcome", webhook_outcome_name(req->outcome));
    if (req->after[0] != '\0')
        hub_span_set_str(&req->span, "vcs.ref.head.revision", req->after);
    if (req->status >= 500 || req->status == 0)
        hub_span_set_status(&req->span, HUB_SPAN_ERROR, req->reason);
    hub_span_end(&req->span);
    hub_tracer_submit(ctx->tracer, &req->span);
    if (ctx->deliveries == NULL)
        return;
    memset(&row, 0, sizeof row);
    row.received_ns = req->start_wall_ns;
    memcpy(row.delivery, req->delivery, sizeof row.delivery);
    memcpy(row.event, req->event, sizeof row.event);
    memcpy(row.repo, req->repo, sizeof row.repo);
    memcpy(row.ref, req->ref, sizeof row.ref);
    memcpy(row.after, req->after, sizeof row.after);
    copy_cut(row.outcome, sizeof row.outcome, webhook_outcome_name(req->outcome));
    copy_cut(row.reason, sizeof row.reason, req->reason);
    memcpy(row.remote, req->remote, sizeof row.remote);
    hub_trace_hex(req->span.ctx.trace_id, HUB_TRACE_ID_LEN, row.trace_id);
    row.status = req->status;
    row.duration_us = duration_us;
    webhook_deliveries_add(ctx->deliveries, &row);
}

static void
log_request(const struct req *req, int64_t duration_us)
{
    char trace_id[2 * HUB_TRACE_ID_LEN + 1] = "";
    int level = req->status >= 500 || req->status == 0 ? HUB_LOG_WARN : HUB_LOG_INFO;

    if (req->is_delivery)
        hub_trace_hex(req->span.ctx.trace_id, HUB_TRACE_ID_LEN, trace_id);
    hub_log(level, "http_request", HUB_STR("method", req->method), HUB_STR("path", req->path),
            HUB_INT("status", req->status), HUB_INT("bytes", req->resp_bytes),
            HUB_INT("bytes_in", req->body_bytes), HUB_INT("duration_us", duration_us),
            HUB_STR("remote", req->remote),
            req->delivery[0] != '\0' ? HUB_STR("delivery", req->delivery) : HUB_FIELD_NONE_,
            req->event[0] != '\0' ? HUB_STR("event", req->event) : HUB_FIELD_NONE_,
            req->repo[0] != '\0' ? HUB_STR("repo", req->repo) : HUB_FIELD_NONE_,
            req->is_delivery ? HUB_STR("outcome", webhook_outcome_name(req->outcome))
                             : HUB_FIELD_NONE_,
            req->reason != NULL ? HUB_STR("reason", req->reason) : HUB_FIELD_NONE_,
            req->is_delivery ? HUB_STR("trace_id", trace_id) : HUB_FIELD_NONE_);
}

void
webhook_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                  enum MHD_RequestTerminationCode toe)
{
    struct webhook_ctx *ctx = cls;
    struct req *req = *req_cls;
    int64_t duration_us;

    if (req == NULL)
        return;
    *req_cls = NULL;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && req->outcome == WEBHOOK_OUT_NONE &&
        req->is_delivery)
        req->outcome = WEBHOOK_OUT_ABORTED;
    if (!req->responded && req->reason == NULL)
        req->reason = "connection closed before an answer";
    duration_us = (hub_time_mono_ns() - req->start_mono_ns) / 1000;
    webhook_stats_request(&ctx->stats, req->route != NULL ? req->route->id : WEBHOOK_ROUTE_NONE,
                          req->responded ? req->status : 0, (uint64_t)duration_us);
    if (req->is_delivery)
        record_delivery(ctx, req, duration_us);
    log_request(req, duration_us);
    atomic_fetch_sub(&ctx->buffered, req->buffered);
    hub_buf_release(&req->body);
    free(req);
}

void
webhook_trigger_done(void *arg, const struct webhook_trigger *t, int ok)
{
    struct webhook_ctx *ctx = arg;

    if (ok)
        return;
    webhook_stats_trigger(&ctx->stats, WEBHOOK_TRIG_FAILED);
    webhook_replay_forget(&ctx->replay, t->delivery);
}
