/* test_trace.c: W3C traceparent parse/format, spans joining a parent, the
 * OTLP JSON body, and an exporter that drops (and counts) when the
 * collector is down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "buf.h"
#include "hub.h"
#include "trace.h"

#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static void
test_parse_table(void **state)
{
    static const struct {
        const char *in;
        int want;
    } cases[] = {
        { TP, 0 },
        { "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", 0 },
        { "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", 0 },
        { "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", -1 },
        { "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", -1 },
        { "00-00000000000000000000000000000000-00f067aa0ba902b7-01", -1 },
        { "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", -1 },
        { "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", -1 },
        { "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0", -1 },
        { "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", -1 },
        { "", -1 },
        { NULL, -1 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_trace_ctx c;

        assert_int_equal(hub_trace_parse(cases[i].in, &c), cases[i].want);
    }
}

static void
test_roundtrip(void **state)
{
    struct hub_trace_ctx c;
    char out[HUB_TRACEPARENT_LEN];

    assert_int_equal(hub_trace_parse(TP, &c), 0);
    assert_int_equal(c.flags, 1);
    assert_int_equal(hub_trace_format(&c, out, sizeof out), 0);
    assert_string_equal(out, TP);
    assert_int_equal(hub_trace_format(&c, out, sizeof out - 1), -1);
}

static void
test_child_span(void **state)
{
    struct hub_trace_ctx parent;
    struct hub_span sp, root;
    char out[HUB_TRACEPARENT_LEN];

    assert_int_equal(hub_trace_parse(TP, &parent), 0);
    hub_span_start(&sp, "gitops.sync", HUB_SPAN_CONSUMER, &parent);
    assert_memory_equal(sp.ctx.trace_id, parent.trace_id, HUB_TRACE_ID_LEN);
    assert_memory_equal(sp.parent_id, parent.span_id, HUB_SPAN_ID_LEN);
    assert_memory_not_equal(sp.ctx.span_id, parent.span_id, HUB_SPAN_ID_LEN);
    assert_true(sp.has_parent);
    assert_int_equal(hub_trace_format(&sp.ctx, out, sizeof out), 0);
    assert_memory_equal(out, TP, 36);            /* same version and trace id */
    hub_span_start(&root, "x", HUB_SPAN_SERVER, NULL);
    assert_false(root.has_parent);
    assert_memory_not_equal(root.ctx.trace_id, parent.trace_id, HUB_TRACE_ID_LEN);
    assert_int_equal(root.ctx.flags, 1);
}

static void
test_attributes_and_limits(void **state)
{
    struct hub_span sp;
    char longv[400];

    memset(longv, 'v', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    hub_span_start(&sp, "s", HUB_SPAN_INTERNAL, NULL);
    hub_span_set_str(&sp, "a", "1");
    hub_span_set_str(&sp, "a", "2");             /* replaces */
    hub_span_set_str(&sp, "long", longv);        /* cut */
    for (int i = 0; i < 40; i++)
        hub_span_set_int(&sp, longv + 400 - 3 - (i % 3), i);   /* a few distinct keys */
    assert_string_equal(sp.attrs[0].s, "2");
    assert_int_equal(strlen(sp.attrs[1].s), HUB_SPAN_ATTR_VALUE_MAX - 1);
    assert_true(sp.nattrs <= HUB_SPAN_MAX_ATTRS);
    hub_span_end(&sp);
    assert_true(sp.end_ns >= sp.start_ns);
}

static void
test_otlp_json_shape(void **state)
{
    struct hub_trace_ctx parent;
    struct hub_span sp;
    const struct hub_span *spans[1] = { &sp };
    struct hub_buf out = HUB_BUF_INIT(1 << 20);
    cJSON *root, *s, *attr;

    assert_int_equal(hub_trace_parse(TP, &parent), 0);
    hub_span_start(&sp, "webhook.delivery", HUB_SPAN_SERVER, &parent);
    hub_span_set_str(&sp, "hub.repo", "infra");
    hub_span_set_int(&sp, "http.response.status_code", 202);
    hub_span_set_status(&sp, HUB_SPAN_ERROR, "boom");
    hub_span_end(&sp);
    assert_int_equal(hub_trace_otlp_json("hub-webhook", spans, 1, &out), 0);
    root = cJSON_Parse(hub_buf_str(&out));
    assert_non_null(root);
    s = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
            cJSON_GetArrayItem(cJSON_GetObjectItem(root, "resourceSpans"), 0), "scopeSpans"), 0),
            "spans"), 0);
    assert_non_null(s);
    assert_string_equal(cJSON_GetObjectItem(s, "traceId")->valuestring,
                        "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(cJSON_GetObjectItem(s, "parentSpanId")->valuestring, "00f067aa0ba902b7");
    assert_int_equal(cJSON_GetObjectItem(s, "kind")->valueint, 2);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(s, "startTimeUnixNano")));
    attr = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "attributes"), 1);
    assert_string_equal(cJSON_GetObjectItem(attr, "key")->valuestring, "http.response.status_code");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(attr, "value"), "intValue")->valuestring,
                        "202");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "status"), "code")->valueint, 2);
    cJSON_Delete(root);
    hub_buf_release(&out);
}

static void
test_tracer_off_and_bad_endpoint(void **state)
{
    struct hub_tracer *t = (struct hub_tracer *)1;
    struct hub_tracer_counts c;
    struct hub_span sp;

    unsetenv("HUB_OTLP_ENDPOINT");
    assert_int_equal(hub_tracer_start("t", NULL, &t), 0);
    assert_null(t);
    hub_span_start(&sp, "s", HUB_SPAN_INTERNAL, NULL);
    hub_tracer_submit(NULL, &sp);                 /* no-ops */
    hub_tracer_counts(NULL, &c);
    assert_int_equal(c.dropped, 0);
    hub_tracer_stop(NULL, 10);
    assert_int_equal(hub_tracer_start("t", "ftp://127.0.0.1:1", &t), EX_CONFIG);
    assert_null(t);
}

static void
test_collector_down_drops_and_counts(void **state)
{
    struct hub_tracer *t = NULL;
    struct hub_tracer_counts c;
    struct hub_span sp;

    /* Port 1 on loopback: connection refused at once. */
    assert_int_equal(hub_tracer_start("t", "http://127.0.0.1:1", &t), 0);
    assert_non_null(t);
    hub_span_start(&sp, "s", HUB_SPAN_INTERNAL, NULL);
    hub_span_end(&sp);
    for (int i = 0; i < HUB_TRACE_QUEUE_MAX + 10; i++)
        hub_tracer_submit(t, &sp);
    /* Every span ends up dropped: at the full queue, or after its batch
     * failed to reach the collector. The exporter drains concurrently, so
     * wait (generously) until all are accounted for, then check exactly. */
    for (int tries = 0; tries < 2000; tries++) {
        hub_tracer_counts(t, &c);
        if (c.exported + c.dropped >= (uint64_t)HUB_TRACE_QUEUE_MAX + 10)
            break;
        usleep(10 * 1000);
    }
    assert_true(c.dropped == (uint64_t)HUB_TRACE_QUEUE_MAX + 10);
    assert_true(c.exported == 0);
    hub_tracer_stop(t, 500);                       /* bounded flush, then free */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_child_span),
        cmocka_unit_test(test_attributes_and_limits),
        cmocka_unit_test(test_otlp_json_shape),
        cmocka_unit_test(test_tracer_off_and_bad_endpoint),
        cmocka_unit_test(test_collector_down_drops_and_counts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
