/* test_metrics_parse.c: hub-metrics' number/word readers and the payload
 * writer (fixed-point formatting, escapes, sticky errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../cmd/hub-metrics/metrics.h"

static void
test_next_u64_table(void **state)
{
    static const struct { const char *in; int rc; uint64_t v; const char *rest; } cases[] = {
        { "123 x", 0, 123, " x" },
        { "  \t42\n", 0, 42, "\n" },
        { "18446744073709551615", 0, UINT64_MAX, "" },
        { "18446744073709551616", -1, 0, NULL },      /* overflow */
        { "-1", -1, 0, NULL },
        { "", -1, 0, NULL },
        { "abc", -1, 0, NULL },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = cases[i].in;
        uint64_t v = 0;

        assert_int_equal(metrics_next_u64(&p, &v), cases[i].rc);
        if (cases[i].rc == 0) {
            assert_true(v == cases[i].v);
            assert_string_equal(p, cases[i].rest);
        } else {
            assert_ptr_equal(p, cases[i].in + strspn(cases[i].in, " \t"));
        }
    }
}

static void
test_next_fixed_table(void **state)
{
    static const struct { const char *in; unsigned digits; int rc; uint64_t v; } cases[] = {
        { "12.5", 2, 0, 1250 }, { "0.52 x", 2, 0, 52 }, { "1000.00", 2, 0, 100000 },
        { "7", 2, 0, 700 }, { "1.239", 2, 0, 123 }, { "3.", 2, -1, 0 }, { ".5", 2, -1, 0 },
        { "x", 2, -1, 0 }, { "1815.5", 2, 0, 181550 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = cases[i].in;
        uint64_t v = 0;

        assert_int_equal(metrics_next_fixed(&p, cases[i].digits, &v), cases[i].rc);
        if (cases[i].rc == 0)
            assert_true(v == cases[i].v);
    }
}

static void
test_next_word_and_line(void **state)
{
    const char *p = "  cpu0 1 2\nnext";
    char w[5];

    assert_int_equal(metrics_next_word(&p, w, sizeof w), 0);
    assert_string_equal(w, "cpu0");
    assert_int_equal(metrics_next_line(&p), 0);
    assert_string_equal(p, "next");
    assert_int_equal(metrics_next_line(&p), -1);
    p = "toolongword";
    assert_int_equal(metrics_next_word(&p, w, sizeof w), -1);
}

static void
test_list_match_table(void **state)
{
    static const struct { const char *list, *name; int want; } cases[] = {
        { METRICS_EXCLUDE_IFACE_DEFAULT, "lo", 1 },
        { METRICS_EXCLUDE_IFACE_DEFAULT, "docker0", 1 },
        { METRICS_EXCLUDE_IFACE_DEFAULT, "br-1234", 1 },
        { METRICS_EXCLUDE_IFACE_DEFAULT, "tailscale0", 1 },
        { METRICS_EXCLUDE_IFACE_DEFAULT, "eth0", 0 },
        { METRICS_EXCLUDE_IFACE_DEFAULT, "lo0", 0 },
        { METRICS_EXCLUDE_FS_DEFAULT, "overlay", 1 },
        { METRICS_EXCLUDE_FS_DEFAULT, "ext4", 0 },
        { "", "x", 0 }, { "a,,b", "b", 1 }, { "sd[ab]", "sdb", 1 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(metrics_list_match(cases[i].list, cases[i].name), cases[i].want);
}

static void
test_ratio2_table(void **state)
{
    static const struct { uint64_t part, total, want; } cases[] = {
        { 1, 3, 3333 }, { 2, 3, 6667 }, { 0, 5, 0 }, { 5, 5, 10000 }, { 1, 0, 0 },
        { 6144000000ull, 16384000000ull, 3750 },
        { UINT64_MAX / 2, UINT64_MAX, 5000 },         /* the long double path */
        /* out of range: saturated (fuzz_metrics_parse: "\a 4096 1230 400 300 1 75") */
        { UINT64_MAX, 1, UINT64_MAX }, { UINT64_MAX - 74, 1, UINT64_MAX },
        { UINT64_MAX / 10000 + 1, UINT64_MAX / 10000, 10000 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_true(metrics_ratio2(cases[i].part, cases[i].total) == cases[i].want);
}

static void
test_json_writer(void **state)
{
    struct hub_buf b = HUB_BUF_INIT(4096);
    struct metrics_json j;

    metrics_json_init(&j, &b);
    metrics_json_fixed(&j, "a", 1250, 2);
    metrics_json_fixed(&j, "b", 6000, 2);
    metrics_json_fixed(&j, "c", -500, 3);
    metrics_json_fixed(&j, "d", 38850, 3);
    metrics_json_fixed(&j, "e", 5, 2);
    metrics_json_u64(&j, "f", UINT64_MAX);
    metrics_json_object(&j, "/mnt/\"q\"");
    metrics_json_str(&j, "s", "tab\there\\ \xc3\xa9 \xff");
    metrics_json_end(&j);
    assert_int_equal(metrics_json_end(&j), 0);
    assert_string_equal(hub_buf_str(&b),
                        "{\"a\":12.5,\"b\":60,\"c\":-0.5,\"d\":38.85,\"e\":0.05,"
                        "\"f\":18446744073709551615,\"/mnt/\\\"q\\\"\":{\"s\":"
                        "\"tab\\u0009here\\\\ \xc3\xa9 ?\"}}");
    hub_buf_release(&b);
}

/* Strings are written as UTF-8 PostgreSQL's jsonb takes: anything that is
 * not (bad leads, overlong forms, surrogates, past U+10FFFF) becomes '?'
 * a byte. The last case is what fuzz_metrics_parse found in os-release. */
static void
test_json_utf8_table(void **state)
{
    static const struct { const char *in, *want; } cases[] = {
        { "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
        { "\xe0\xa0\x80\xed\x9f\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
          "\xe0\xa0\x80\xed\x9f\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf" },  /* the edges */
        { "\xc0\xaf\xc1\xbf", "????" },                       /* overlong 2-byte */
        { "\xe0\x80\xaf", "???" },                             /* overlong 3-byte */
        { "\xf0\x80\x80\xaf", "????" },                       /* overlong 4-byte */
        { "\xed\xa0\x80", "???" },                             /* a surrogate */
        { "\xf4\x90\x80\x80", "????" },                       /* past U+10FFFF */
        { "\xf5\xa9\xba", "???" },                             /* no such lead */
        { "\xf8\x88\x80\x80\x80", "?????" },
        { "\xe2\x82", "??" },                                   /* cut short */
        { "Ubunt\x8e\xdd\xf5\xa9\xba", "Ubunt?????" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_buf b = HUB_BUF_INIT(4096), want = HUB_BUF_INIT(4096);
        struct metrics_json j;

        metrics_json_init(&j, &b);
        metrics_json_str(&j, "s", cases[i].in);
        assert_int_equal(metrics_json_end(&j), 0);
        assert_int_equal(hub_buf_appendf(&want, "{\"s\":\"%s\"}", cases[i].want), HUB_BUF_OK);
        if (strcmp(hub_buf_str(&b), hub_buf_str(&want)) != 0)
            fail_msg("case %zu: got %s, want %s", i, hub_buf_str(&b), hub_buf_str(&want));
        hub_buf_release(&b);
        hub_buf_release(&want);
    }
}

static void
test_json_sticky_error(void **state)
{
    struct hub_buf b = HUB_BUF_INIT(8);
    struct metrics_json j;

    metrics_json_init(&j, &b);
    metrics_json_u64(&j, "toolong", 1);
    metrics_json_u64(&j, "x", 1);
    assert_int_equal(metrics_json_end(&j), -1);
    hub_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_u64_table),
        cmocka_unit_test(test_next_fixed_table),
        cmocka_unit_test(test_next_word_and_line),
        cmocka_unit_test(test_list_match_table),
        cmocka_unit_test(test_ratio2_table),
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_json_utf8_table),
        cmocka_unit_test(test_json_sticky_error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
