/* test_webhook_handover.c: the trigger line, trigger files (atomic, the
 * latest wins), --exec argv and per-repo coalescing, and the /metrics
 * text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "fileio.h"
#include "repos.h"
#include "../../cmd/hub-webhook/webhook.h"

static void
one_repo(struct hub_repo_list *l, struct hub_repo *r)
{
    *r = (struct hub_repo)HUB_REPO_INIT;
    memcpy(r->name, "infra", 6);
    l->items = r;
    l->n = 1;
}

static struct webhook_trigger
trig(const char *after)
{
    struct webhook_trigger t;

    memset(&t, 0, sizeof t);
    memcpy(t.repo, "infra", 6);
    memcpy(t.ref, "refs/heads/main", 16);
    snprintf(t.after, sizeof t.after, "%s", after);
    memcpy(t.delivery, "g-1", 4);
    memcpy(t.event, "push", 5);
    memcpy(t.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 56);
    return t;
}

static void
test_trigger_json(void **state)
{
    struct webhook_trigger t = trig("abc");
    struct hub_buf out = HUB_BUF_INIT(HUB_MAX_TRIGGER);

    assert_int_equal(webhook_trigger_json(&t, &out), 0);
    assert_string_equal(hub_buf_str(&out),
        "{\"repo\":\"infra\",\"ref\":\"refs/heads/main\",\"after\":\"abc\",\"delivery\":\"g-1\","
        "\"event\":\"push\",\"traceparent\":\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"}\n");
    hub_buf_release(&out);
}

static void
test_trigger_files_latest_wins(void **state)
{
    char dir[] = "/tmp/test_handover.XXXXXX", path[128];
    struct webhook_handover h;
    struct hub_repo r;
    struct hub_repo_list l;
    struct webhook_trigger t1 = trig("first"), t2 = trig("second"), t3 = trig("x");
    struct hub_buf text = HUB_BUF_INIT(4096);

    one_repo(&l, &r);
    assert_non_null(mkdtemp(dir));
    assert_int_equal(webhook_handover_init(&h, dir, NULL, 10, &l, NULL, NULL), 0);
    assert_int_equal(webhook_handover_submit(&h, &t1), WEBHOOK_TRIG_HANDED_OVER);
    assert_int_equal(webhook_handover_submit(&h, &t2), WEBHOOK_TRIG_COALESCED);
    snprintf(path, sizeof path, "%s/infra.json", dir);
    assert_int_equal(hub_file_read(path, 4096, &text), 0);
    assert_non_null(strstr(hub_buf_str(&text), "\"after\":\"second\""));
    memcpy(t3.repo, "other", 6);                  /* file mode needs no slot */
    assert_int_equal(webhook_handover_submit(&h, &t3), WEBHOOK_TRIG_HANDED_OVER);
    assert_false(webhook_handover_busy(&h));
    webhook_handover_release(&h);
    hub_buf_release(&text);
    unlink(path);
    snprintf(path, sizeof path, "%s/other.json", dir);
    unlink(path);
    rmdir(dir);
}

struct done_log {
    int calls, fails;
};

static void
on_done(void *arg, const struct webhook_trigger *t, int ok)
{
    struct done_log *d = arg;

    d->calls++;
    d->fails += !ok;
}

static void
test_exec_coalesces(void **state)
{
    char dir[] = "/tmp/test_handover.XXXXXX", script[128], cmd[256], runs[128];
    struct webhook_handover h;
    struct hub_repo r;
    struct hub_repo_list l;
    struct done_log d = { 0, 0 };
    struct hub_buf text = HUB_BUF_INIT(1 << 16);
    struct webhook_trigger t;
    FILE *f;

    one_repo(&l, &r);
    assert_non_null(mkdtemp(dir));
    snprintf(script, sizeof script, "%s/rec.sh", dir);
    snprintf(runs, sizeof runs, "%s/runs", dir);
    f = fopen(script, "w");
    assert_non_null(f);
    /* Holds 300 ms so the other submissions arrive while it runs. */
    fprintf(f, "#!/bin/sh\necho \"$*\" $(cat) >> %s\nsleep 0.3\n", runs);
    fclose(f);
    chmod(script, 0755);
    snprintf(cmd, sizeof cmd, "%s  sync --event -", script);
    assert_int_equal(webhook_handover_init(&h, dir, cmd, 10, &l, on_done, &d), 0);
    assert_int_equal(h.exec_argc, 4);
    t = trig("a1");
    assert_int_equal(webhook_handover_submit(&h, &t), WEBHOOK_TRIG_HANDED_OVER);
    usleep(100 * 1000);
    for (int i = 2; i <= 20; i++) {
        char after[8];

        snprintf(after, sizeof after, "a%d", i);
        t = trig(after);
        assert_int_not_equal(webhook_handover_submit(&h, &t), WEBHOOK_TRIG_FAILED);
    }
    assert_true(webhook_handover_busy(&h));
    memcpy(t.repo, "unknown", 8);
    assert_int_equal(webhook_handover_submit(&h, &t), WEBHOOK_TRIG_FAILED);
    webhook_handover_release(&h);                 /* waits for both runs */
    assert_int_equal(d.calls, 2);
    assert_int_equal(d.fails, 0);
    assert_int_equal(hub_file_read(runs, 1 << 16, &text), 0);
    assert_non_null(strstr(hub_buf_str(&text), "sync --event - infra {"));
    assert_non_null(strstr(hub_buf_str(&text), "\"after\":\"a20\""));
    assert_null(strstr(hub_buf_str(&text), "\"after\":\"a19\""));
    hub_buf_release(&text);
    unlink(runs);
    unlink(script);
    rmdir(dir);
}

static void
test_stats_render(void **state)
{
    struct webhook_stats s;
    struct webhook_stats_extra x = { 1, 2, 3, 4, 5, 6 };
    struct hub_buf out = HUB_BUF_INIT(1 << 20);

    webhook_stats_init(&s);
    webhook_stats_request(&s, WEBHOOK_ROUTE_HOOK, 202, 300);
    webhook_stats_request(&s, WEBHOOK_ROUTE_HOOK, 418, 5000000);
    webhook_stats_delivery(&s, "push", WEBHOOK_OUT_TRIGGERED);
    webhook_stats_delivery(&s, "weird\"event", WEBHOOK_OUT_UNAUTHORIZED);
    webhook_stats_trigger(&s, WEBHOOK_TRIG_COALESCED);
    assert_int_equal(webhook_stats_render(&s, &x, &out), 0);
    assert_non_null(strstr(out.data, "hub_webhook_requests_total{route=\"/hooks/github\",code=\"202\"} 1\n"));
    assert_non_null(strstr(out.data, "hub_webhook_requests_total{route=\"/hooks/github\",code=\"other\"} 1\n"));
    assert_non_null(strstr(out.data, "hub_webhook_deliveries_total{event=\"push\",outcome=\"triggered\"} 1\n"));
    assert_non_null(strstr(out.data, "hub_webhook_deliveries_total{event=\"other\",outcome=\"unauthorized\"} 1\n"));
    assert_non_null(strstr(out.data, "hub_webhook_signature_failures_total 1\n"));
    assert_non_null(strstr(out.data, "hub_webhook_triggers_total{result=\"coalesced\"} 1\n"));
    assert_non_null(strstr(out.data, "hub_webhook_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(out.data, "hub_webhook_request_duration_seconds_bucket{le=\"1\"} 1\n"));
    assert_non_null(strstr(out.data, "hub_webhook_request_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(out.data, "hub_webhook_request_duration_seconds_count 2\n"));
    assert_non_null(strstr(out.data, "hub_webhook_spans_dropped_total 2\n"));
    assert_non_null(strstr(out.data, "hub_webhook_open_connections 6\n"));
    assert_int_equal(webhook_stats_total(&s, WEBHOOK_ROUTE_HOOK), 2);
    hub_buf_release(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trigger_json),
        cmocka_unit_test(test_trigger_files_latest_wins),
        cmocka_unit_test(test_exec_coalesces),
        cmocka_unit_test(test_stats_render),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
