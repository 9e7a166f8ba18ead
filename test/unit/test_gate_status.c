/* test_gate_status.c: parsing `tailscale funnel status --json`, the health
 * body, and the gate's state file (table-driven, accepting and rejecting). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../cmd/hub-gate/gate.h"

static void
test_funnel_status_table(void **state)
{
    static const struct {
        const char *text;
        unsigned long long port;
        int rc;
        enum gate_funnel_state want;
    } cases[] = {
#define SITE(port, proxy) \
    "\"Web\":{\"n.ts.net:" port "\":{\"Handlers\":{\"/\":{\"Proxy\":\"" proxy "\"}}}}"
#define ALLOW(port) "\"AllowFunnel\":{\"n.ts.net:" port "\":true}"
        { "{}", 8443, 0, GATE_FUNNEL_OFF },
        { "{}\n", 8443, 0, GATE_FUNNEL_OFF },
        { "{\"TCP\":{\"8443\":{\"HTTPS\":true}}," SITE("8443", "http://127.0.0.1:8085") ","
          ALLOW("8443") "}", 8443, 0, GATE_FUNNEL_ON },
        { "{" SITE("8443", "http://localhost:8085/") "," ALLOW("8443") "}", 8443, 0, GATE_FUNNEL_ON },
        { "{" SITE("8443", "http://[::1]:8085") "," ALLOW("8443") "}", 8443, 0, GATE_FUNNEL_ON },
        /* public, but forwarding elsewhere or nowhere: re-pointed by hand */
        { "{" SITE("8443", "http://127.0.0.1:9999") "," ALLOW("8443") "}", 8443, 0,
          GATE_FUNNEL_MISDIRECTED },
        { "{" SITE("8443", "http://127.0.0.1:80851") "," ALLOW("8443") "}", 8443, 0,
          GATE_FUNNEL_MISDIRECTED },
        { "{" SITE("8443", "http://10.0.0.5:8085") "," ALLOW("8443") "}", 8443, 0,
          GATE_FUNNEL_MISDIRECTED },
        { "{" SITE("8443", "https+insecure://127.0.0.1:8085") "," ALLOW("8443") "}", 8443, 0,
          GATE_FUNNEL_MISDIRECTED },
        { "{" SITE("443", "http://127.0.0.1:8085") "," ALLOW("8443") "}", 8443, 0,
          GATE_FUNNEL_MISDIRECTED },
        { "{" ALLOW("8443") "}", 8443, 0, GATE_FUNNEL_MISDIRECTED },
        /* served on the tailnet only: not public */
        { "{\"TCP\":{\"8443\":{\"HTTPS\":true}}," SITE("8443", "http://127.0.0.1:8085") "}", 8443,
          0, GATE_FUNNEL_OFF },
        { "{\"AllowFunnel\":{\"n.ts.net:8443\":false}}", 8443, 0, GATE_FUNNEL_OFF },
        /* another port is not ours */
        { "{" SITE("443", "http://127.0.0.1:8085") "," ALLOW("443") "}", 8443, 0, GATE_FUNNEL_OFF },
        { "{" ALLOW("18443") "}", 8443, 0, GATE_FUNNEL_OFF },
        { "{" SITE("8443", "http://127.0.0.1:8085") ",\"AllowFunnel\":{\"n.ts.net:443\":true,"
          "\"n.ts.net:8443\":true}}", 8443, 0, GATE_FUNNEL_ON },
        /* the key must have a host part */
        { "{\"AllowFunnel\":{\":8443\":true}}", 8443, 0, GATE_FUNNEL_OFF },
        { "{\"AllowFunnel\":{\"8443\":true}}", 8443, 0, GATE_FUNNEL_OFF },
        /* a non-boolean is not "true" */
        { "{\"AllowFunnel\":{\"n.ts.net:8443\":\"true\"}}", 8443, 0, GATE_FUNNEL_OFF },
        { "{\"AllowFunnel\":{\"n.ts.net:8443\":1}}", 8443, 0, GATE_FUNNEL_OFF },
        { "{\"AllowFunnel\":[\"n.ts.net:8443\"]}", 8443, 0, GATE_FUNNEL_OFF },
        /* a warning line before the JSON (stderr is captured with stdout) */
        { "Warning: client version differs\n{" SITE("8443", "http://127.0.0.1:8085") ","
          ALLOW("8443") "}", 8443, 0, GATE_FUNNEL_ON },
        /* rejected: not a JSON object */
        { "", 8443, -1, GATE_FUNNEL_UNKNOWN },
        { "No serve config", 8443, -1, GATE_FUNNEL_UNKNOWN },
        { "{\"AllowFunnel\":", 8443, -1, GATE_FUNNEL_UNKNOWN },
        { "[]", 8443, -1, GATE_FUNNEL_UNKNOWN },
        { "{ not json }", 8443, -1, GATE_FUNNEL_UNKNOWN },
#undef SITE
#undef ALLOW
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum gate_funnel_state got = GATE_FUNNEL_UNKNOWN;
        int rc = gate_funnel_parse_status(cases[i].text, cases[i].port, 8085, &got);

        if (rc != cases[i].rc || got != cases[i].want)
            fail_msg("case %zu (%s): rc %d state %d, want rc %d state %d", i, cases[i].text,
                     rc, (int)got, cases[i].rc, (int)cases[i].want);
    }
}

static void
test_health_body_table(void **state)
{
    static const struct {
        const char *body;
        int ok;
    } cases[] = {
        { "{\"status\":\"ok\"}", 1 },
        { "{\"status\":\"ok\",\"service\":\"hub-webhook\",\"uptime_s\":3}", 1 },
        { "{\"status\":\"degraded\"}", 0 },
        { "{\"status\":\"OK\"}", 0 },
        { "{\"status\":true}", 0 },
        { "{\"state\":\"ok\"}", 0 },
        { "[\"status\",\"ok\"]", 0 },
        { "\"ok\"", 0 },
        { "ok", 0 },
        { "", 0 },
        { "{\"status\":\"ok\"", 0 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (gate_health_body_ok(cases[i].body, strlen(cases[i].body)) != cases[i].ok)
            fail_msg("case %zu (%s): want %d", i, cases[i].body, cases[i].ok);
    }
    /* the length bounds the parse: a valid prefix of a longer buffer */
    assert_int_equal(gate_health_body_ok("{\"status\":\"ok\"}garbage", 15), 1);
}

static void
test_state_round_trip(void **state)
{
    const struct gate_state cases[] = {
        { 0, 0, 0 }, { 2, 0, 1 }, { 0, 7, 0 }, { 123456789, 0, 1 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gate_state back = { 99, 99, 99 };
        char *text = gate_state_format(&cases[i]);

        assert_non_null(text);
        assert_int_equal(gate_state_parse(text, &back), 0);
        assert_true(back.healthy_streak == cases[i].healthy_streak);
        assert_true(back.failed_streak == cases[i].failed_streak);
        assert_int_equal(back.want_open, cases[i].want_open);
        free(text);
    }
}

static void
test_state_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{\"healthy_streak\":1,\"failed_streak\":0}",
        "{\"healthy_streak\":1,\"failed_streak\":0,\"wanted\":\"maybe\"}",
        "{\"healthy_streak\":-1,\"failed_streak\":0,\"wanted\":\"open\"}",
        "{\"healthy_streak\":1.5,\"failed_streak\":0,\"wanted\":\"open\"}",
        "{\"healthy_streak\":\"1\",\"failed_streak\":0,\"wanted\":\"open\"}",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct gate_state st = { 5, 6, 1 };

        if (gate_state_parse(bad[i], &st) != -1)
            fail_msg("accepted bad state %zu: %s", i, bad[i]);
        /* a rejected parse leaves the caller's state alone */
        assert_int_equal(st.healthy_streak, 5);
        assert_int_equal(st.want_open, 1);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_funnel_status_table),
        cmocka_unit_test(test_health_body_table),
        cmocka_unit_test(test_state_round_trip),
        cmocka_unit_test(test_state_rejects),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
