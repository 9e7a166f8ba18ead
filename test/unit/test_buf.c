/* test_buf.c: struct hub_buf: growth, limits, failure frees, take/release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
test_empty_is_valid_string(void **state)
{
    struct hub_buf b = HUB_BUF_INIT(16);

    assert_string_equal(hub_buf_str(&b), "");
    hub_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void
test_append_table(void **state)
{
    static const struct {
        size_t max;
        const char *parts[4];
        int want_rc;
        const char *want;
    } cases[] = {
        { 16, { "ab", "cd", NULL }, HUB_BUF_OK, "abcd" },
        { 4, { "ab", "cd", NULL }, HUB_BUF_OK, "abcd" },
        { 3, { "ab", "cd", NULL }, HUB_BUF_TOOBIG, "" },
        { 0, { "", NULL }, HUB_BUF_OK, "" },
        { 1000, { "x", "yz", "", NULL }, HUB_BUF_OK, "xyz" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_buf b = HUB_BUF_INIT(cases[i].max);
        int rc = HUB_BUF_OK;

        for (size_t j = 0; cases[i].parts[j] != NULL && rc == HUB_BUF_OK; j++)
            rc = hub_buf_appends(&b, cases[i].parts[j]);
        assert_int_equal(rc, cases[i].want_rc);
        assert_string_equal(hub_buf_str(&b), cases[i].want);
        hub_buf_release(&b);
    }
}

static void
test_toobig_frees_and_is_reusable(void **state)
{
    struct hub_buf b = HUB_BUF_INIT(8);

    assert_int_equal(hub_buf_appends(&b, "12345"), HUB_BUF_OK);
    assert_int_equal(hub_buf_appends(&b, "6789"), HUB_BUF_TOOBIG);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 8);
    assert_int_equal(hub_buf_appends(&b, "again"), HUB_BUF_OK);
    assert_string_equal(hub_buf_str(&b), "again");
    hub_buf_release(&b);
}

static void
test_overflow_arithmetic(void **state)
{
    struct hub_buf b = HUB_BUF_INIT(SIZE_MAX - 1);

    assert_int_equal(hub_buf_appends(&b, "abc"), HUB_BUF_OK);
    assert_int_equal(hub_buf_reserve(&b, SIZE_MAX - 2), HUB_BUF_TOOBIG);
    assert_null(b.data);
    hub_buf_release(&b);
}

static void
test_appendf_and_grow(void **state)
{
    struct hub_buf b = HUB_BUF_INIT(1 << 20);

    for (int i = 0; i < 1000; i++)
        assert_int_equal(hub_buf_appendf(&b, "%d,", i), HUB_BUF_OK);
    assert_true(b.len > 1000);
    assert_int_equal(strncmp(b.data, "0,1,2,", 6), 0);
    assert_int_equal(b.data[b.len], '\0');
    hub_buf_truncate(&b, 2);
    assert_string_equal(hub_buf_str(&b), "0,");
    hub_buf_reset(&b);
    assert_string_equal(hub_buf_str(&b), "");
    hub_buf_release(&b);
}

static void
test_take_hands_over(void **state)
{
    struct hub_buf b = HUB_BUF_INIT(64);
    char *s;

    s = hub_buf_take(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(hub_buf_appends(&b, "mine"), HUB_BUF_OK);
    s = hub_buf_take(&b);
    assert_string_equal(s, "mine");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
}

static void
test_binary_append(void **state)
{
    struct hub_buf b = HUB_BUF_INIT(64);

    assert_int_equal(hub_buf_append(&b, "a\0b", 3), HUB_BUF_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 3);
    assert_int_equal(hub_buf_appendc(&b, 'c'), HUB_BUF_OK);
    assert_int_equal(b.len, 4);
    hub_buf_release(&b);
}

static void
test_append_u64_table(void **state)
{
    static const struct { unsigned long long v; const char *want; } cases[] = {
        { 0, "0" }, { 9, "9" }, { 10, "10" }, { 1234567890, "1234567890" },
        { 18446744073709551615ULL, "18446744073709551615" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_buf b = HUB_BUF_INIT(64);

        assert_int_equal(hub_buf_appends(&b, "n="), HUB_BUF_OK);
        assert_int_equal(hub_buf_append_u64(&b, cases[i].v), HUB_BUF_OK);
        assert_string_equal(hub_buf_str(&b) + 2, cases[i].want);
        hub_buf_release(&b);
    }
    {
        struct hub_buf small = HUB_BUF_INIT(3);

        assert_int_equal(hub_buf_append_u64(&small, 1234), HUB_BUF_TOOBIG);
        assert_null(small.data);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_is_valid_string),
        cmocka_unit_test(test_append_table),
        cmocka_unit_test(test_toobig_frees_and_is_reusable),
        cmocka_unit_test(test_overflow_arithmetic),
        cmocka_unit_test(test_appendf_and_grow),
        cmocka_unit_test(test_take_hands_over),
        cmocka_unit_test(test_binary_append),
        cmocka_unit_test(test_append_u64_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
