/*
 * stats.c: hub-webhook's counters and their Prometheus text exposition
 * (version 0.0.4). Counters are relaxed atomics in fixed arrays indexed by
 * small enums: recording costs an atomic add, never a lock or an
 * allocation, and no label value ever comes from a request (an unknown
 * status or event lands in "other").
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "hub.h"
#include "timefmt.h"
#include "webhook.h"

static const char *const route_names[WEBHOOK_ROUTE_N] = {
    "/hooks/github", "/health", "/metrics", "other",
};

static const unsigned status_codes[WEBHOOK_STATUS_N] = {
    200, 202, 400, 401, 404, 405, 413, 415, 500, 503, 0, 0,
};
#define STATUS_OTHER (WEBHOOK_STATUS_N - 1)

static const char *const event_names[WEBHOOK_EV_N] = {
    "push", "pull_request", "ping", "other",
};

static const char *const outcome_names[WEBHOOK_OUT_N] = {
    "none", "triggered", "ignored", "duplicate", "pong", "unauthorized", "malformed",
    "unsupported_media_type", "too_large", "trigger_failed", "busy", "aborted",
};

static const char *const trigger_names[WEBHOOK_TRIG_N] = {
    "handed_over", "coalesced", "failed",
};

/* Upper bounds of the duration buckets, in microseconds. */
static const uint64_t bucket_us[WEBHOOK_HIST_N] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000,
};

#define ADD(counter) atomic_fetch_add_explicit(&(counter), 1, memory_order_relaxed)
#define GET(counter) atomic_load_explicit(&(counter), memory_order_relaxed)

const char *
webhook_outcome_name(enum webhook_outcome o)
{
    return o < WEBHOOK_OUT_N ? outcome_names[o] : "none";
}

void
webhook_stats_init(struct webhook_stats *s)
{
    memset(s, 0, sizeof *s);
    s->started_mono_ns = hub_time_mono_ns();
}

static size_t
status_index(unsigned status)
{
    for (size_t i = 0; i < STATUS_OTHER; i++) {
        if (status_codes[i] == status && status != 0)
            return i;
    }
    return STATUS_OTHER;
}

void
webhook_stats_request(struct webhook_stats *s, enum webhook_route_id route, unsigned status,
                      uint64_t duration_us)
{
    size_t b = 0;

    if (route >= WEBHOOK_ROUTE_N)
        route = WEBHOOK_ROUTE_NONE;
    ADD(s->requests[route][status_index(status)]);
    while (b < WEBHOOK_HIST_N && duration_us > bucket_us[b])
        b++;
    ADD(s->hist[b]);
    atomic_fetch_add_explicit(&s->duration_sum_us, duration_us, memory_order_relaxed);
    ADD(s->duration_count);
}

static enum webhook_event_id
event_index(const char *event)
{
    for (size_t i = 0; i < WEBHOOK_EV_OTHER; i++) {
        if (event != NULL && strcmp(event, event_names[i]) == 0)
            return (enum webhook_event_id)i;
    }
    return WEBHOOK_EV_OTHER;
}

void
webhook_stats_delivery(struct webhook_stats *s, const char *event, enum webhook_outcome out)
{
    if (out >= WEBHOOK_OUT_N)
        out = WEBHOOK_OUT_NONE;
    ADD(s->deliveries[event_index(event)][out]);
    if (out == WEBHOOK_OUT_UNAUTHORIZED)
        ADD(s->signature_failures);
}

void
webhook_stats_trigger(struct webhook_stats *s, enum webhook_trigger_result r)
{
    if (r < WEBHOOK_TRIG_N)
        ADD(s->triggers[r]);
}

uint64_t
webhook_stats_total(struct webhook_stats *s, enum webhook_route_id route)
{
    uint64_t n = 0;

    for (size_t i = 0; i < WEBHOOK_STATUS_N; i++)
        n += GET(s->requests[route][i]);
    return n;
}

static int
render_requests(struct webhook_stats *s, struct hub_buf *out)
{
    int rc = hub_buf_appends(out,
        "# HELP hub_webhook_requests_total HTTP requests by route and status.\n"
        "# TYPE hub_webhook_requests_total counter\n");

    for (size_t r = 0; r < WEBHOOK_ROUTE_N && rc == 0; r++) {
        for (size_t i = 0; i < WEBHOOK_STATUS_N && rc == 0; i++) {
            uint64_t v = GET(s->requests[r][i]);
            char code[16];

            if (v == 0)
                continue;
            if (i == STATUS_OTHER)
                memcpy(code, "other", sizeof "other");
            else
                snprintf(code, sizeof code, "%u", status_codes[i]);
            rc = hub_buf_appendf(out, "hub_webhook_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
                                 route_names[r], code, (unsigned long long)v);
        }
    }
    return rc;
}

static int
render_deliveries(struct webhook_stats *s, struct hub_buf *out)
{
    int rc = hub_buf_appends(out,
        "# HELP hub_webhook_deliveries_total GitHub deliveries by event and outcome.\n"
        "# TYPE hub_webhook_deliveries_total counter\n");

    for (size_t e = 0; e < WEBHOOK_EV_N && rc == 0; e++) {
        for (size_t o = 1; o < WEBHOOK_OUT_N && rc == 0; o++) {
            uint64_t v = GET(s->deliveries[e][o]);

            if (v != 0)
                rc = hub_buf_appendf(out,
                                     "hub_webhook_deliveries_total{event=\"%s\",outcome=\"%s\"} %llu\n",
                                     event_names[e], outcome_names[o], (unsigned long long)v);
        }
    }
    return rc;
}

static int
render_histogram(struct webhook_stats *s, struct hub_buf *out)
{
    uint64_t cumulative = 0;
    int rc = hub_buf_appends(out,
        "# HELP hub_webhook_request_duration_seconds Time from the request's headers "
        "to the response sent.\n"
        "# TYPE hub_webhook_request_duration_seconds histogram\n");

    for (size_t b = 0; b < WEBHOOK_HIST_N && rc == 0; b++) {
        cumulative += GET(s->hist[b]);
        rc = hub_buf_appendf(out, "hub_webhook_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                             (double)bucket_us[b] / 1e6, (unsigned long long)cumulative);
    }
    cumulative += GET(s->hist[WEBHOOK_HIST_N]);
    if (rc == 0)
        rc = hub_buf_appendf(out,
                             "hub_webhook_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                             "hub_webhook_request_duration_seconds_sum %.6f\n"
                             "hub_webhook_request_duration_seconds_count %llu\n",
                             (unsigned long long)cumulative,
                             (double)GET(s->duration_sum_us) / 1e6,
                             (unsigned long long)GET(s->duration_count));
    return rc;
}

static int
render_counter(struct hub_buf *out, const char *name, const char *help, uint64_t v)
{
    return hub_buf_appendf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name,
                           name, (unsigned long long)v);
}

static int
render_triggers(struct webhook_stats *s, struct hub_buf *out)
{
    int rc = hub_buf_appends(out,
        "# HELP hub_webhook_triggers_total Hand-overs to hub-gitops by result.\n"
        "# TYPE hub_webhook_triggers_total counter\n");

    for (size_t i = 0; i < WEBHOOK_TRIG_N && rc == 0; i++)
        rc = hub_buf_appendf(out, "hub_webhook_triggers_total{result=\"%s\"} %llu\n",
                             trigger_names[i], (unsigned long long)GET(s->triggers[i]));
    return rc;
}

static int
render_extra(struct webhook_stats *s, const struct webhook_stats_extra *x, struct hub_buf *out)
{
    double up = (double)(hub_time_mono_ns() - s->started_mono_ns) / 1e9;

    if (render_counter(out, "hub_webhook_signature_failures_total",
                       "Deliveries refused for a missing or wrong X-Hub-Signature-256.",
                       GET(s->signature_failures)) != 0 ||
        render_counter(out, "hub_webhook_spans_exported_total", "Trace spans the collector accepted.",
                       x->spans_exported) != 0 ||
        render_counter(out, "hub_webhook_spans_dropped_total",
                       "Trace spans dropped (queue full or collector down).", x->spans_dropped) != 0 ||
        render_counter(out, "hub_webhook_db_rows_written_total", "webhook_deliveries rows written.",
                       x->db_written) != 0 ||
        render_counter(out, "hub_webhook_db_rows_dropped_total",
                       "webhook_deliveries rows dropped (database down or queue full).",
                       x->db_dropped) != 0)
        return -1;
    return hub_buf_appendf(out,
        "# HELP hub_webhook_replay_guids Delivery GUIDs remembered for replay protection.\n"
        "# TYPE hub_webhook_replay_guids gauge\nhub_webhook_replay_guids %llu\n"
        "# HELP hub_webhook_open_connections Client connections open now.\n"
        "# TYPE hub_webhook_open_connections gauge\nhub_webhook_open_connections %d\n"
        "# HELP hub_webhook_uptime_seconds Seconds since the process started.\n"
        "# TYPE hub_webhook_uptime_seconds gauge\nhub_webhook_uptime_seconds %.3f\n"
        "# HELP hub_webhook_build_info The running version.\n"
        "# TYPE hub_webhook_build_info gauge\nhub_webhook_build_info{version=\"%s\"} 1\n",
        (unsigned long long)x->replay_size, x->open_connections, up, HUB_VERSION);
}

int
webhook_stats_render(struct webhook_stats *s, const struct webhook_stats_extra *x,
                     struct hub_buf *out)
{
    if (render_requests(s, out) != 0 || render_deliveries(s, out) != 0 ||
        render_triggers(s, out) != 0 || render_histogram(s, out) != 0 ||
        render_extra(s, x, out) != 0)
        return -1;
    return 0;
}
