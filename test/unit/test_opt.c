/* test_opt.c: flags with HUB_* twins: env read first, flag wins, bounded
 * numbers with errors naming the option, --help/--version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub.h"
#include "opt.h"

struct vals {
    int verbose;
    const char *name;
    unsigned long long n;
};

static int
parse(struct vals *v, int argc, char **argv, int *first)
{
    const struct hub_opt opts[] = {
        { "name", 'N', "HUB_T_NAME", HUB_OPT_STR, &v->name, 0, 0, "NAME", "a name" },
        { "count", 'c', "HUB_T_COUNT", HUB_OPT_UINT, &v->n, 1, 100, "N", "a count" },
        { "verbose", 'v', "HUB_T_VERBOSE", HUB_OPT_FLAG, &v->verbose, 0, 0, NULL, "say more" },
    };
    const struct hub_prog prog = { "hub-t", "hub-t [-v] [-c N] [--name NAME] ARG...",
                                   "A test program.", opts, 3, NULL };

    return hub_opt_parse(&prog, argc, argv, first);
}

static void
test_parse_uint_table(void **state)
{
    static const struct {
        const char *s;
        unsigned long long min, max;
        int rc;
        unsigned long long want;
    } cases[] = {
        { "0", 0, 10, 0, 0 },   { "10", 0, 10, 0, 10 },  { "11", 0, 10, -1, 0 },
        { "", 0, 10, -1, 0 },   { "-1", 0, 10, -1, 0 },  { "1x", 0, 10, -1, 0 },
        { " 1", 0, 10, -1, 0 }, { "+1", 0, 10, -1, 0 },  { "5", 6, 10, -1, 0 },
        { "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
        { "18446744073709551616", 0, UINT64_MAX, -1, 0 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned long long out = 0;
        int rc = hub_parse_uint(cases[i].s, cases[i].min, cases[i].max, &out);

        assert_int_equal(rc, cases[i].rc);
        if (rc == 0)
            assert_true(out == cases[i].want);
    }
}

static void
test_env_then_flag_wins(void **state)
{
    struct vals v = { 0, "default", 5 };
    char *argv[] = { "hub-t", "--count", "7", "operand", NULL };
    int first = 0;

    setenv("HUB_T_COUNT", "3", 1);
    setenv("HUB_T_NAME", "fromenv", 1);
    setenv("HUB_T_VERBOSE", "yes", 1);
    assert_int_equal(parse(&v, 4, argv, &first), 0);
    assert_true(v.n == 7);
    assert_string_equal(v.name, "fromenv");
    assert_int_equal(v.verbose, 1);
    assert_int_equal(first, 3);
    assert_string_equal(argv[first], "operand");
    unsetenv("HUB_T_COUNT");
    unsetenv("HUB_T_NAME");
    unsetenv("HUB_T_VERBOSE");
}

static void
test_rejections(void **state)
{
    static const char *const bad[][3] = {
        { "--count", "0", NULL },       /* below min */
        { "--count", "101", NULL },     /* above max */
        { "--count", "x", NULL },
        { "--nosuch", NULL, NULL },
        { "-c", NULL, NULL },           /* missing value */
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct vals v = { 0, NULL, 5 };
        char *argv[4] = { "hub-t" };
        int argc = 1, first;

        for (size_t j = 0; j < 2 && bad[i][j] != NULL; j++)
            argv[argc++] = (char *)bad[i][j];
        argv[argc] = NULL;
        assert_int_equal(parse(&v, argc, argv, &first), EX_USAGE);
    }
}

static void
test_bad_env_is_usage_error(void **state)
{
    struct vals v = { 0, NULL, 5 };
    char *argv[] = { "hub-t", NULL };
    int first;

    setenv("HUB_T_VERBOSE", "perhaps", 1);
    assert_int_equal(parse(&v, 1, argv, &first), EX_USAGE);
    unsetenv("HUB_T_VERBOSE");
}

static void
test_help_and_version(void **state)
{
    struct vals v = { 0, NULL, 5 };
    char *help[] = { "hub-t", "--help", NULL };
    char *version[] = { "hub-t", "-V", NULL };
    int first;

    assert_int_equal(parse(&v, 2, help, &first), HUB_OPT_DONE);
    assert_int_equal(parse(&v, 2, version, &first), HUB_OPT_DONE);
}

static void
test_stops_at_first_operand(void **state)
{
    struct vals v = { 0, NULL, 5 };
    char *argv[] = { "hub-t", "-v", "sync", "--count", "9", NULL };
    int first;

    assert_int_equal(parse(&v, 5, argv, &first), 0);
    assert_int_equal(first, 2);
    assert_true(v.n == 5);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_uint_table),
        cmocka_unit_test(test_env_then_flag_wins),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_bad_env_is_usage_error),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_stops_at_first_operand),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
