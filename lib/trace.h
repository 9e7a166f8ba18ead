/*
 * trace.h: W3C trace context and spans exported as OTLP/HTTP JSON.
 *
 * The hub's programs are joined into one trace by the W3C `traceparent`
 * value ("00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>"):
 * hub-webhook honours the one GitHub (or a proxy) sends, opens a span for
 * the delivery and hands hub-gitops the context of that span in the
 * trigger, so hub-gitops' span becomes its child.
 *
 * Use:
 *
 *   struct hub_tracer *tr = NULL;
 *   struct hub_trace_ctx parent;
 *   struct hub_span sp;
 *
 *   hub_tracer_start("hub-gitops", NULL, &tr);         // NULL tr: tracing off
 *   hub_span_start(&sp, "gitops.sync", HUB_SPAN_CONSUMER,
 *                  hub_trace_parse(tp, &parent) == 0 ? &parent : NULL);
 *   hub_span_set_str(&sp, "hub.repo", name);
 *   ...
 *   hub_span_set_status(&sp, HUB_SPAN_ERROR, "fetch failed");
 *   hub_span_end(&sp);
 *   hub_tracer_submit(tr, &sp);                        // copies; never blocks
 *   hub_tracer_stop(tr, 2000);                         // flush, bounded
 *
 * The exporter is off the caller's path: hub_tracer_submit() copies the
 * span into a bounded queue and returns; a background thread posts batches
 * to $HUB_OTLP_ENDPOINT/v1/traces through libcurl. When the queue is full or
 * the collector does not answer 2xx, spans are dropped and counted, never
 * retried (a trace is worth less than the program's own job).
 * Every tracer function accepts a NULL tracer and then does nothing.
 *
 * A span is a plain value with fixed-size fields (no allocation): strings
 * that do not fit are cut, attributes past HUB_SPAN_MAX_ATTRS are ignored.
 */
#ifndef HUB_TRACE_H
#define HUB_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define HUB_TRACE_ID_LEN 16
#define HUB_SPAN_ID_LEN 8
#define HUB_TRACEPARENT_LEN 56        /* 55 characters and the NUL */
#define HUB_SPAN_MAX_ATTRS 16
#define HUB_SPAN_NAME_MAX 64
#define HUB_SPAN_ATTR_KEY_MAX 48
#define HUB_SPAN_ATTR_VALUE_MAX 160
#define HUB_TRACE_QUEUE_MAX 512       /* spans waiting for the exporter */
#define HUB_TRACE_BATCH_MAX 64        /* spans in one POST */

struct hub_trace_ctx {
    unsigned char trace_id[HUB_TRACE_ID_LEN];
    unsigned char span_id[HUB_SPAN_ID_LEN];
    unsigned char flags;              /* bit 0: sampled */
};

/*
 * Parse a traceparent header value (version 00; a higher version is read
 * by its first four fields, as the W3C spec asks). All-zero ids, upper-case
 * hex and version ff are refused. Returns 0, or -1 leaving *out untouched.
 */
int hub_trace_parse(const char *traceparent, struct hub_trace_ctx *out);

/* "00-<trace>-<span>-<flags>" into out (at least HUB_TRACEPARENT_LEN). Returns 0 or -1. */
int hub_trace_format(const struct hub_trace_ctx *ctx, char *out, size_t outlen);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void hub_trace_hex(const unsigned char *bytes, size_t n, char *out);

/* OTLP SpanKind values. */
enum hub_span_kind {
    HUB_SPAN_INTERNAL = 1,
    HUB_SPAN_SERVER = 2,
    HUB_SPAN_CLIENT = 3,
    HUB_SPAN_PRODUCER = 4,
    HUB_SPAN_CONSUMER = 5,
};

/* OTLP StatusCode values. */
enum hub_span_status {
    HUB_SPAN_UNSET = 0,
    HUB_SPAN_OK = 1,
    HUB_SPAN_ERROR = 2,
};

struct hub_span_attr {
    char key[HUB_SPAN_ATTR_KEY_MAX];
    int is_int;
    long long i;
    char s[HUB_SPAN_ATTR_VALUE_MAX];
};

struct hub_span {
    struct hub_trace_ctx ctx;         /* this span: its trace id and its own span id */
    unsigned char parent_id[HUB_SPAN_ID_LEN];
    int has_parent;
    char name[HUB_SPAN_NAME_MAX];
    enum hub_span_kind kind;
    int64_t start_ns, end_ns;         /* wall clock, ns since the epoch */
    enum hub_span_status status;
    char status_msg[HUB_SPAN_ATTR_VALUE_MAX];
    struct hub_span_attr attrs[HUB_SPAN_MAX_ATTRS];
    size_t nattrs;
};

/*
 * Start a span now. With a parent, the span joins the parent's trace (and
 * keeps its flags) as its child; without one it starts a new, sampled
 * trace. Ids come from getrandom(). Pass ctx (formatted) downstream so the
 * next program's span becomes this span's child.
 */
void hub_span_start(struct hub_span *sp, const char *name, enum hub_span_kind kind,
                    const struct hub_trace_ctx *parent);
void hub_span_set_str(struct hub_span *sp, const char *key, const char *value);
void hub_span_set_int(struct hub_span *sp, const char *key, long long value);
void hub_span_set_status(struct hub_span *sp, enum hub_span_status status, const char *msg);
/* Stamp the end time (idempotent: the first call wins). */
void hub_span_end(struct hub_span *sp);

/*
 * The OTLP/HTTP JSON body (ExportTraceServiceRequest) for n spans of one
 * service, appended to out. Returns 0, or -1 when out of memory or space.
 */
int hub_trace_otlp_json(const char *service, const struct hub_span *const *spans, size_t n,
                        struct hub_buf *out);

struct hub_tracer;

struct hub_tracer_counts {
    uint64_t exported;                /* accepted by the collector */
    uint64_t dropped;                 /* queue full, collector down or refusing */
};

/*
 * Start the exporter for service (borrowed for the tracer's life). endpoint
 * is the collector's base URL ("http://127.0.0.1:4318"; "/v1/traces" is
 * added unless the URL already ends with it); NULL reads $HUB_OTLP_ENDPOINT.
 * No endpoint: returns 0 with *out NULL (tracing off). Returns EX_CONFIG for
 * a URL that is not http(s), EX_OSERR when the thread cannot start; logs
 * one line either way.
 */
int hub_tracer_start(const char *service, const char *endpoint, struct hub_tracer **out);

/* Queue a copy of an ended span; drops it (counted) when the queue is full. */
void hub_tracer_submit(struct hub_tracer *t, const struct hub_span *sp);

void hub_tracer_counts(struct hub_tracer *t, struct hub_tracer_counts *out);

/*
 * Export what is queued, spending at most flush_ms on it (the rest is
 * dropped), stop the thread and free the tracer. Logs one line when spans
 * were dropped over the tracer's life.
 */
void hub_tracer_stop(struct hub_tracer *t, unsigned flush_ms);

#endif
