/* test_hex.c: hex digits, hex decoding and percent-decoding, accepting and
 * rejecting cases side by side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"

static void
test_hex_decode_table(void **state)
{
    static const struct { const char *s; size_t n; int rc; const char *want; } cases[] = {
        { "00ff7F", 3, 0, "\x00\xff\x7f" },
        { "4142", 2, 0, "AB" },
        { "", 0, 0, "" },
        { "4g", 1, -1, NULL },
        { "g4", 1, -1, NULL },
        { "41 2", 2, -1, NULL },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char out[8];

        assert_int_equal(hub_hex_decode(cases[i].s, cases[i].n, out), cases[i].rc);
        if (cases[i].rc == 0)
            assert_memory_equal(out, cases[i].want, cases[i].n);
    }
    assert_int_equal(hub_hex_value('F'), 15);
    assert_int_equal(hub_hex_value('G'), -1);
}

static void
test_percent_decode_table(void **state)
{
    static const struct { const char *s; int plus; int rc; const char *want; } cases[] = {
        { "a%20b", 0, 0, "a b" },
        { "a+b", 0, 0, "a+b" },
        { "a+b", 1, 0, "a b" },
        { "%7B%22k%22%3A1%7D", 1, 0, "{\"k\":1}" },
        { "%e2%82%ac", 0, 0, "\xe2\x82\xac" },
        { "100%", 0, -1, NULL },
        { "%4", 0, -1, NULL },
        { "%zz", 0, -1, NULL },
        { "", 0, 0, "" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_buf b = HUB_BUF_INIT(64);

        assert_int_equal(hub_percent_decode(cases[i].s, strlen(cases[i].s), cases[i].plus, &b),
                         cases[i].rc);
        if (cases[i].rc == 0)
            assert_string_equal(hub_buf_str(&b), cases[i].want);
        hub_buf_release(&b);
    }
}

/* A '%' at the very end of a counted range must not read past it. */
static void
test_percent_decode_respects_length(void **state)
{
    struct hub_buf b = HUB_BUF_INIT(64);

    assert_int_equal(hub_percent_decode("ab%41", 3, 0, &b), -1);
    hub_buf_release(&b);
    assert_int_equal(hub_percent_decode("ab%41", 5, 0, &b), 0);
    assert_string_equal(hub_buf_str(&b), "abA");
    hub_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_decode_table),
        cmocka_unit_test(test_percent_decode_table),
        cmocka_unit_test(test_percent_decode_respects_length),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
