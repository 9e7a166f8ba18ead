/* test_webhook_decide.c: the pure decision (event + payload + allowlist),
 * content types, form decoding and header validation, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "repos.h"
#include "../../cmd/hub-webhook/webhook.h"

#define SHA "8f2d6c4b1a0e9f7d3c5b2a1e8d7c6b5a4f3e2d1c"
#define REPO "\"repository\":{\"full_name\":\"Hub-Test/Infra\"}"

static void
list_init(struct hub_repo_list *l, struct hub_repo *items)
{
    items[0] = (struct hub_repo)HUB_REPO_INIT;
    items[1] = (struct hub_repo)HUB_REPO_INIT;
    memcpy(items[0].name, "infra", 6);
    items[0].github = (char *)"hub-test/infra";
    items[0].branch = (char *)"main";
    memcpy(items[1].name, "site", 5);
    items[1].github = (char *)"hub-test/site";
    items[1].branch = (char *)"release/v2";
    l->items = items;
    l->n = 2;
}

static void
test_decide_table(void **state)
{
    static const struct {
        const char *event;
        const char *json;
        enum webhook_action want;
        const char *reason;
        const char *repo;
        const char *after;
    } cases[] = {
        { "push", "{\"ref\":\"refs/heads/main\",\"after\":\"" SHA "\"," REPO "}",
          WEBHOOK_TRIGGER, NULL, "infra", SHA },
        { "push", "{\"ref\":\"refs/heads/release/v2\",\"after\":\"" SHA "\",\"repository\":{\"full_name\":\"hub-test/site\"}}",
          WEBHOOK_TRIGGER, NULL, "site", SHA },
        { "push", "{\"ref\":\"refs/heads/dev\",\"after\":\"" SHA "\"," REPO "}",
          WEBHOOK_IGNORE, "branch not tracked", "infra", "" },
        { "push", "{\"ref\":\"refs/tags/main\",\"after\":\"" SHA "\"," REPO "}",
          WEBHOOK_IGNORE, "branch not tracked", "infra", "" },
        { "push", "{\"ref\":\"refs/heads/main\",\"after\":\"0000000000000000000000000000000000000000\",\"deleted\":true," REPO "}",
          WEBHOOK_IGNORE, "branch deleted", "infra", "" },
        { "push", "{\"ref\":\"refs/heads/main\",\"after\":\"0000000000000000000000000000000000000000\"," REPO "}",
          WEBHOOK_IGNORE, "branch deleted", "infra", "" },
        { "push", "{\"ref\":\"refs/heads/main\",\"after\":\"" SHA "\",\"repository\":{\"full_name\":\"x/y\"}}",
          WEBHOOK_IGNORE, "repository not allowlisted", NULL, "" },
        { "push", "{\"ref\":\"refs/heads/main\",\"after\":\"../../etc\"," REPO "}",
          WEBHOOK_MALFORMED, "push without a valid after commit", "infra", "" },
        { "push", "{\"ref\":\"refs/heads/main\",\"after\":\"8F2D6C4B1A0E9F7D3C5B2A1E8D7C6B5A4F3E2D1C\"," REPO "}",
          WEBHOOK_MALFORMED, "push without a valid after commit", "infra", "" },
        { "push", "{\"ref\":7," REPO "}", WEBHOOK_MALFORMED, "push without a valid ref", "infra", "" },
        { "push", "{\"ref\":\"refs/heads/main\"}", WEBHOOK_MALFORMED,
          "payload without repository.full_name", NULL, "" },
        { "push", "[1,2]", WEBHOOK_MALFORMED, "payload is not a JSON object", NULL, "" },
        { "push", "{\"ref\":", WEBHOOK_MALFORMED, "payload is not valid JSON", NULL, "" },
        { "push", "{} x", WEBHOOK_MALFORMED, "payload is not valid JSON", NULL, "" },
        { "push", "", WEBHOOK_MALFORMED, "payload is not valid JSON", NULL, "" },
        { "pull_request", "{\"action\":\"closed\",\"pull_request\":{\"merged\":true,\"merge_commit_sha\":\"" SHA "\",\"base\":{\"ref\":\"main\"}}," REPO "}",
          WEBHOOK_TRIGGER, NULL, "infra", SHA },
        { "pull_request", "{\"action\":\"closed\",\"pull_request\":{\"merged\":false,\"merge_commit_sha\":\"" SHA "\",\"base\":{\"ref\":\"main\"}}," REPO "}",
          WEBHOOK_IGNORE, "pull request closed without merge", "infra", "" },
        { "pull_request", "{\"action\":\"opened\",\"pull_request\":{\"merged\":false,\"base\":{\"ref\":\"main\"}}," REPO "}",
          WEBHOOK_IGNORE, "pull request not closed", "infra", "" },
        { "pull_request", "{\"action\":\"closed\",\"pull_request\":{\"merged\":true,\"merge_commit_sha\":\"" SHA "\",\"base\":{\"ref\":\"dev\"}}," REPO "}",
          WEBHOOK_IGNORE, "base branch not tracked", "infra", "" },
        { "pull_request", "{\"action\":\"closed\",\"pull_request\":{\"merged\":true,\"base\":{\"ref\":\"main\"}}," REPO "}",
          WEBHOOK_MALFORMED, "merged pull request without merge_commit_sha", "infra", "" },
        { "ping", "{\"zen\":\"Design for failure.\"}", WEBHOOK_PING, NULL, NULL, "" },
        { "ping", "{}", WEBHOOK_PING, NULL, NULL, "" },
        { "issues", "{\"action\":\"opened\"}", WEBHOOK_IGNORE, "event not handled", NULL, "" },
    };
    struct hub_repo items[2];
    struct hub_repo_list l;

    list_init(&l, items);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct webhook_decision d;

        webhook_decide(cases[i].event, cases[i].json, strlen(cases[i].json), &l, &d);
        assert_int_equal(d.action, cases[i].want);
        if (cases[i].reason == NULL)
            assert_null(d.reason);
        else
            assert_string_equal(d.reason, cases[i].reason);
        if (cases[i].repo == NULL)
            assert_null(d.repo);
        else
            assert_string_equal(d.repo->name, cases[i].repo);
        assert_string_equal(d.after, cases[i].after);
        if (d.action == WEBHOOK_TRIGGER)
            assert_memory_equal(d.ref, "refs/heads/", 11);
    }
}

static void
test_decide_not_nul_terminated(void **state)
{
    char buf[] = "{\"zen\":\"a\"}XXXX";
    struct hub_repo items[2];
    struct hub_repo_list l;
    struct webhook_decision d;

    list_init(&l, items);
    webhook_decide("ping", buf, 11, &l, &d);
    assert_int_equal(d.action, WEBHOOK_PING);
    assert_string_equal(d.zen, "a");
}

static void
test_body_type_table(void **state)
{
    static const struct {
        const char *ct;
        enum webhook_body_type want;
    } cases[] = {
        { "application/json", WEBHOOK_BODY_JSON },
        { "Application/JSON; charset=utf-8", WEBHOOK_BODY_JSON },
        { " application/json ;x", WEBHOOK_BODY_JSON },
        { "application/x-www-form-urlencoded", WEBHOOK_BODY_FORM },
        { "application/jsonx", WEBHOOK_BODY_OTHER },
        { "text/plain", WEBHOOK_BODY_OTHER },
        { "", WEBHOOK_BODY_OTHER },
        { NULL, WEBHOOK_BODY_OTHER },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(webhook_body_type(cases[i].ct), cases[i].want);
}

static void
test_form_payload_table(void **state)
{
    static const struct {
        const char *body;
        int want_rc;
        const char *want;
    } cases[] = {
        { "payload=%7B%22a%22%3A1%7D", 0, "{\"a\":1}" },
        { "x=1&payload=a+b%20c&y=2", 0, "a b c" },
        { "payload=", 0, "" },
        { "payloads=1", -1, "" },
        { "x=1", -1, "" },
        { "", -1, "" },
        { "payload=%7", -1, "" },
        { "payload=%zz", -1, "" },
        { "payload=1&payload=2", -1, "" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_buf out = HUB_BUF_INIT(1024);

        assert_int_equal(webhook_form_payload(cases[i].body, strlen(cases[i].body), &out),
                         cases[i].want_rc);
        assert_string_equal(hub_buf_str(&out), cases[i].want);
        hub_buf_release(&out);
    }
}

static void
test_headers_table(void **state)
{
    assert_true(webhook_guid_valid("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
    assert_false(webhook_guid_valid(""));
    assert_false(webhook_guid_valid(NULL));
    assert_false(webhook_guid_valid("../x"));
    assert_false(webhook_guid_valid("a b"));
    assert_false(webhook_guid_valid("0123456789012345678901234567890123456789012345678901234567890123"));
    assert_true(webhook_event_valid("pull_request"));
    assert_false(webhook_event_valid("Push"));
    assert_false(webhook_event_valid(""));
    assert_false(webhook_event_valid("push\n"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_table),
        cmocka_unit_test(test_decide_not_nul_terminated),
        cmocka_unit_test(test_body_type_table),
        cmocka_unit_test(test_form_payload_table),
        cmocka_unit_test(test_headers_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
