/*
 * trace.c: W3C trace context, spans and the OTLP/HTTP JSON exporter (see
 * trace.h).
 *
 * The exporter owns one thread, one curl easy handle (reused, so batches
 * share a keep-alive connection) and a fixed ring of span copies. The ring
 * is allocated once at start, so submitting never allocates: the request
 * path of a server pays a memcpy and a mutex, nothing more. It never
 * retries a failed batch: the spans are counted as dropped and the next
 * batch tries again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "hex.h"
#include "buf.h"
#include "hub.h"
#include "log.h"
#include "timefmt.h"
#include "trace.h"

#define BATCH_DELAY_MS 500       /* wait this long for a batch to fill */
#define POST_TIMEOUT_MS 2000     /* one POST, while not stopping */
#define MAX_OTLP_BODY (4u * 1024 * 1024)
#define MAX_URL 2048

/* ---- trace context -------------------------------------------------- */

/* n bytes from 2n lower-case hex characters; -1 on anything else. */
static int
unhex(const char *s, unsigned char *out, size_t n)
{
    /* upper case is invalid in a traceparent */
    if (strspn(s, "0123456789abcdef") < 2 * n)
        return -1;
    return hub_hex_decode(s, n, out);
}

static int
all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0)
            return 0;
    }
    return 1;
}

void
hub_trace_hex(const unsigned char *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

int
hub_trace_parse(const char *s, struct hub_trace_ctx *out)
{
    struct hub_trace_ctx c;
    unsigned char version;
    size_t len;

    if (s == NULL)
        return -1;
    len = strlen(s);
    /* version 00 is exactly 55 characters; a later version may append
     * "-..." fields, which we ignore (W3C trace-context, "versioning"). */
    if (len < 55 || (len > 55 && s[55] != '-'))
        return -1;
    if (s[2] != '-' || s[35] != '-' || s[52] != '-')
        return -1;
    if (unhex(s, &version, 1) != 0 || version == 0xff || (version == 0 && len != 55))
        return -1;
    if (unhex(s + 3, c.trace_id, HUB_TRACE_ID_LEN) != 0 ||
        unhex(s + 36, c.span_id, HUB_SPAN_ID_LEN) != 0 || unhex(s + 53, &c.flags, 1) != 0)
        return -1;
    if (all_zero(c.trace_id, HUB_TRACE_ID_LEN) || all_zero(c.span_id, HUB_SPAN_ID_LEN))
        return -1;
    *out = c;
    return 0;
}

int
hub_trace_format(const struct hub_trace_ctx *ctx, char *out, size_t outlen)
{
    char tid[2 * HUB_TRACE_ID_LEN + 1], sid[2 * HUB_SPAN_ID_LEN + 1];
    int n;

    hub_trace_hex(ctx->trace_id, HUB_TRACE_ID_LEN, tid);
    hub_trace_hex(ctx->span_id, HUB_SPAN_ID_LEN, sid);
    n = snprintf(out, outlen, "00-%s-%s-%02x", tid, sid, ctx->flags);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* ---- spans ------------------------------------------------------------ */

/* Random bytes; getrandom() on Linux never fails for small sizes once the
 * pool is ready, but fall back to the clock rather than emit a zero id. */
static void
random_bytes(unsigned char *out, size_t n)
{
    ssize_t got = getrandom(out, n, GRND_NONBLOCK);

    if (got != (ssize_t)n) {
        uint64_t t = (uint64_t)hub_time_now_ns() ^ (uint64_t)hub_time_mono_ns() << 17;

        for (size_t i = 0; i < n; i++)
            out[i] = (unsigned char)(t >> (8 * (i % 8))) ^ (unsigned char)i;
    }
}

/* An all-zero id is invalid in W3C trace context. */
static void
make_nonzero(unsigned char *id, size_t n)
{
    if (all_zero(id, n))
        id[n - 1] = 1;
}

static void
copy_cut(char *dst, size_t dstlen, const char *src)
{
    size_t n = src != NULL ? strnlen(src, dstlen - 1) : 0;

    /* Cut on a UTF-8 boundary so the JSON stays valid text. */
    if (src != NULL && src[n] != '\0')
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void
hub_span_start(struct hub_span *sp, const char *name, enum hub_span_kind kind,
               const struct hub_trace_ctx *parent)
{
    memset(sp, 0, sizeof *sp);
    copy_cut(sp->name, sizeof sp->name, name);
    sp->kind = kind;
    sp->start_ns = hub_time_now_ns();
    /* Both ids from one getrandom(): a system call costs more than the rest
     * of a span, and hub-webhook starts one per request. */
    unsigned char ids[HUB_TRACE_ID_LEN + HUB_SPAN_ID_LEN];

    random_bytes(ids, sizeof ids);
    if (parent != NULL) {
        memcpy(sp->ctx.trace_id, parent->trace_id, HUB_TRACE_ID_LEN);
        memcpy(sp->parent_id, parent->span_id, HUB_SPAN_ID_LEN);
        sp->ctx.flags = parent->flags;
        sp->has_parent = 1;
    } else {
        memcpy(sp->ctx.trace_id, ids, HUB_TRACE_ID_LEN);
        make_nonzero(sp->ctx.trace_id, HUB_TRACE_ID_LEN);
        sp->ctx.flags = 1;
    }
    memcpy(sp->ctx.span_id, ids + HUB_TRACE_ID_LEN, HUB_SPAN_ID_LEN);
    make_nonzero(sp->ctx.span_id, HUB_SPAN_ID_LEN);
}

static struct hub_span_attr *
attr_slot(struct hub_span *sp, const char *key)
{
    struct hub_span_attr *a;

    for (size_t i = 0; i < sp->nattrs; i++) {
        if (strcmp(sp->attrs[i].key, key) == 0)
            return &sp->attrs[i];
    }
    if (sp->nattrs >= HUB_SPAN_MAX_ATTRS)
        return NULL;
    a = &sp->attrs[sp->nattrs++];
    copy_cut(a->key, sizeof a->key, key);
    return a;
}

void
hub_span_set_str(struct hub_span *sp, const char *key, const char *value)
{
    struct hub_span_attr *a = attr_slot(sp, key);

    if (a == NULL)
        return;
    a->is_int = 0;
    copy_cut(a->s, sizeof a->s, value);
}

void
hub_span_set_int(struct hub_span *sp, const char *key, long long value)
{
    struct hub_span_attr *a = attr_slot(sp, key);

    if (a == NULL)
        return;
    a->is_int = 1;
    a->i = value;
}

void
hub_span_set_status(struct hub_span *sp, enum hub_span_status status, const char *msg)
{
    sp->status = status;
    copy_cut(sp->status_msg, sizeof sp->status_msg, msg);
}

void
hub_span_end(struct hub_span *sp)
{
    if (sp->end_ns == 0)
        sp->end_ns = hub_time_now_ns();
}

/* ---- OTLP JSON -------------------------------------------------------- */

/* {"key":key,"value":{type:value}} */
static cJSON *
kv(const char *key, const char *type, const char *value)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "value"), type, value);
    return o;
}

static cJSON *
kv_string(const char *key, const char *value)
{
    return kv(key, "stringValue", value);
}

static cJSON *
kv_int(const char *key, long long value)
{
    char num[32];

    /* OTLP JSON carries 64-bit integers as strings. */
    snprintf(num, sizeof num, "%lld", value);
    return kv(key, "intValue", num);
}

static void
add_ns(cJSON *obj, const char *key, int64_t ns)
{
    char num[32];

    snprintf(num, sizeof num, "%lld", (long long)ns);
    cJSON_AddStringToObject(obj, key, num);
}

static cJSON *
span_json(const struct hub_span *sp)
{
    char tid[2 * HUB_TRACE_ID_LEN + 1], sid[2 * HUB_SPAN_ID_LEN + 1];
    cJSON *o = cJSON_CreateObject(), *attrs, *st;

    hub_trace_hex(sp->ctx.trace_id, HUB_TRACE_ID_LEN, tid);
    hub_trace_hex(sp->ctx.span_id, HUB_SPAN_ID_LEN, sid);
    cJSON_AddStringToObject(o, "traceId", tid);
    cJSON_AddStringToObject(o, "spanId", sid);
    if (sp->has_parent) {
        hub_trace_hex(sp->parent_id, HUB_SPAN_ID_LEN, sid);
        cJSON_AddStringToObject(o, "parentSpanId", sid);
    }
    cJSON_AddStringToObject(o, "name", sp->name);
    cJSON_AddNumberToObject(o, "kind", sp->kind);
    add_ns(o, "startTimeUnixNano", sp->start_ns);
    add_ns(o, "endTimeUnixNano", sp->end_ns != 0 ? sp->end_ns : sp->start_ns);
    attrs = cJSON_AddArrayToObject(o, "attributes");
    for (size_t i = 0; i < sp->nattrs && attrs != NULL; i++) {
        const struct hub_span_attr *a = &sp->attrs[i];

        cJSON_AddItemToArray(attrs, a->is_int ? kv_int(a->key, a->i) : kv_string(a->key, a->s));
    }
    st = cJSON_AddObjectToObject(o, "status");
    cJSON_AddNumberToObject(st, "code", sp->status);
    if (sp->status_msg[0] != '\0')
        cJSON_AddStringToObject(st, "message", sp->status_msg);
    return o;
}

int
hub_trace_otlp_json(const char *service, const struct hub_span *const *spans, size_t n,
                    struct hub_buf *out)
{
    cJSON *root = cJSON_CreateObject(), *rs, *res, *ss, *scope, *arr;
    char *text = NULL;
    int rc = -1;

    rs = cJSON_AddArrayToObject(root, "resourceSpans");
    res = cJSON_CreateObject();
    cJSON_AddItemToArray(rs, res);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(res, "resource"),
                                                "attributes"),
                         kv_string("service.name", service));
    ss = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(res, "scopeSpans"), ss);
    scope = cJSON_AddObjectToObject(ss, "scope");
    cJSON_AddStringToObject(scope, "name", "hub");
    cJSON_AddStringToObject(scope, "version", HUB_VERSION);
    arr = cJSON_AddArrayToObject(ss, "spans");
    for (size_t i = 0; i < n && arr != NULL; i++)
        cJSON_AddItemToArray(arr, span_json(spans[i]));
    /* cJSON's Add* functions return NULL on allocation failure and the
     * item is then missing; printing the tree is the one check that sees
     * every failure, since a missing array fails the body's shape test in
     * the unit tests and the collector refuses it. */
    text = cJSON_PrintUnformatted(root);
    if (text != NULL && arr != NULL && hub_buf_appends(out, text) == HUB_BUF_OK)
        rc = 0;
    free(text);
    cJSON_Delete(root);
    return rc;
}

/* ---- exporter --------------------------------------------------------- */

struct hub_tracer {
    const char *service;
    char url[MAX_URL];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    struct hub_span *ring;            /* HUB_TRACE_QUEUE_MAX slots */
    size_t head, n;                   /* oldest slot, spans queued */
    int stopping;
    int64_t stop_deadline_ms;         /* monotonic; set with stopping */
    uint64_t exported, dropped;
    int collector_down;               /* log only on transitions */
    CURL *curl;
};

static size_t
discard_body(char *p, size_t size, size_t nmemb, void *userdata)
{
    return size * nmemb;
}

/* POST one body; 0 when the collector answered 2xx. Called unlocked. */
static int
post_batch(struct hub_tracer *t, const struct hub_buf *body, long timeout_ms)
{
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    long code = 0;
    CURLcode cc;

    curl_easy_setopt(t->curl, CURLOPT_URL, t->url);
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, hub_buf_str(body));
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, discard_body);
    cc = curl_easy_perform(t->curl);
    if (cc == CURLE_OK)
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdrs);
    if (code >= 200 && code < 300)
        return 0;
    if (!t->collector_down)
        hub_log(HUB_LOG_WARN, "trace_export_failed", HUB_STR("url", t->url),
                HUB_STR("error", cc != CURLE_OK ? curl_easy_strerror(cc) : "collector refused"),
                HUB_INT("http_status", code));
    return -1;
}

/* Time left for a POST: the normal timeout, or what remains of the flush. */
static long
post_budget(const struct hub_tracer *t)
{
    int64_t left;

    if (!t->stopping)
        return POST_TIMEOUT_MS;
    left = t->stop_deadline_ms - hub_time_mono_ms();
    return left > POST_TIMEOUT_MS ? POST_TIMEOUT_MS : (long)left;
}

/* Move up to HUB_TRACE_BATCH_MAX spans from the ring into body. Locked. */
static size_t
take_batch(struct hub_tracer *t, struct hub_buf *body)
{
    const struct hub_span *batch[HUB_TRACE_BATCH_MAX];
    size_t k = t->n < HUB_TRACE_BATCH_MAX ? t->n : HUB_TRACE_BATCH_MAX;

    for (size_t i = 0; i < k; i++)
        batch[i] = &t->ring[(t->head + i) % HUB_TRACE_QUEUE_MAX];
    if (hub_trace_otlp_json(t->service, batch, k, body) != 0)
        hub_buf_release(body);      /* counted as dropped below */
    t->head = (t->head + k) % HUB_TRACE_QUEUE_MAX;
    t->n -= k;
    return k;
}

static void
wait_for_batch(struct hub_tracer *t)
{
    struct timespec until;
    int64_t first = 0;

    while (!t->stopping && t->n < HUB_TRACE_BATCH_MAX) {
        if (t->n > 0 && first == 0)
            first = hub_time_mono_ms();
        if (first != 0 && hub_time_mono_ms() - first >= BATCH_DELAY_MS)
            return;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)BATCH_DELAY_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&t->wake, &t->mu, &until);
    }
}

static void *
exporter_main(void *arg)
{
    struct hub_tracer *t = arg;
    struct hub_buf body = HUB_BUF_INIT(MAX_OTLP_BODY);

    pthread_mutex_lock(&t->mu);
    for (;;) {
        size_t k;
        long budget;
        int ok;

        wait_for_batch(t);
        if (t->n == 0 && t->stopping)
            break;
        if (t->n == 0)
            continue;
        hub_buf_reset(&body);
        k = take_batch(t, &body);
        budget = post_budget(t);
        pthread_mutex_unlock(&t->mu);
        ok = body.len > 0 && budget > 0 && post_batch(t, &body, budget) == 0;
        pthread_mutex_lock(&t->mu);
        if (ok)
            t->exported += k;
        else
            t->dropped += k;
        t->collector_down = !ok;
    }
    pthread_mutex_unlock(&t->mu);
    hub_buf_release(&body);
    return NULL;
}

static int
build_url(struct hub_tracer *t, const char *endpoint)
{
    size_t n = strlen(endpoint);
    const char *suffix = "/v1/traces";
    int w;

    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    if (n >= strlen(suffix) && strncmp(endpoint + n - strlen(suffix), suffix, strlen(suffix)) == 0)
        suffix = "";
    w = snprintf(t->url, sizeof t->url, "%.*s%s", (int)n, endpoint, suffix);
    return w < 0 || (size_t)w >= sizeof t->url ? -1 : 0;
}

static void
tracer_free(struct hub_tracer *t)
{
    if (t->curl != NULL)
        curl_easy_cleanup(t->curl);
    free(t->ring);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->wake);
    free(t);
}

int
hub_tracer_start(const char *service, const char *endpoint, struct hub_tracer **out)
{
    struct hub_tracer *t;
    int err;

    *out = NULL;
    if (endpoint == NULL)
        endpoint = getenv("HUB_OTLP_ENDPOINT");
    if (endpoint == NULL || *endpoint == '\0')
        return 0;
    if (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0)
        return hub_fail(EX_CONFIG, "trace_endpoint_invalid", HUB_STR("endpoint", endpoint),
                        HUB_STR("fix", "set HUB_OTLP_ENDPOINT to http://HOST:4318"));
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return hub_fail(EX_OSERR, "trace_start_failed", HUB_STR("error", "out of memory"));
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->wake, NULL);
    t->service = service;
    t->ring = calloc(HUB_TRACE_QUEUE_MAX, sizeof *t->ring);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    t->curl = curl_easy_init();
    if (t->ring == NULL || t->curl == NULL || build_url(t, endpoint) != 0) {
        tracer_free(t);
        return hub_fail(EX_OSERR, "trace_start_failed", HUB_STR("endpoint", endpoint),
                        HUB_STR("error", "out of memory or URL too long"));
    }
    curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    err = pthread_create(&t->thread, NULL, exporter_main, t);
    if (err != 0) {
        tracer_free(t);
        return hub_fail(EX_OSERR, "trace_start_failed", HUB_STR("error", strerror(err)));
    }
    *out = t;
    return 0;
}

void
hub_tracer_submit(struct hub_tracer *t, const struct hub_span *sp)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    if (t->n < HUB_TRACE_QUEUE_MAX && !t->stopping) {
        t->ring[(t->head + t->n) % HUB_TRACE_QUEUE_MAX] = *sp;
        t->n++;
        if (t->n >= HUB_TRACE_BATCH_MAX)
            pthread_cond_signal(&t->wake);
    } else {
        t->dropped++;
    }
    pthread_mutex_unlock(&t->mu);
}

void
hub_tracer_counts(struct hub_tracer *t, struct hub_tracer_counts *out)
{
    memset(out, 0, sizeof *out);
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    out->exported = t->exported;
    out->dropped = t->dropped;
    pthread_mutex_unlock(&t->mu);
}

void
hub_tracer_stop(struct hub_tracer *t, unsigned flush_ms)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    t->stopping = 1;
    t->stop_deadline_ms = hub_time_mono_ms() + flush_ms;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    if (t->dropped > 0)
        hub_log(HUB_LOG_WARN, "trace_spans_dropped", HUB_INT("dropped", t->dropped),
                HUB_INT("exported", t->exported), HUB_STR("url", t->url));
    tracer_free(t);
}
