/* test_timefmt.c: RFC 3339 and compact stamps against known instants,
 * including leap days and century years, and gmtime_r() over a sweep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "timefmt.h"

static void
test_known_instants(void **state)
{
    static const struct { int64_t ns; const char *rfc, *compact; } cases[] = {
        { 0, "1970-01-01T00:00:00.000Z", "19700101T000000Z" },
        { 951782400123000000LL, "2000-02-29T00:00:00.123Z", "20000229T000000Z" },
        { 1709251199999000000LL, "2024-02-29T23:59:59.999Z", "20240229T235959Z" },
        { 4107542400000000000LL, "2100-03-01T00:00:00.000Z", "21000301T000000Z" },
        { 1795620000500000000LL, "2026-11-25T15:20:00.500Z", "20261125T152000Z" },
    };
    char out[HUB_TIME_RFC3339_LEN];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(hub_time_rfc3339_ms(cases[i].ns, out, sizeof out), 0);
        assert_string_equal(out, cases[i].rfc);
        assert_int_equal(hub_time_compact(cases[i].ns, out, sizeof out), 0);
        assert_string_equal(out, cases[i].compact);
    }
}

/* Every 7 hours and 13 minutes across 150 years agrees with gmtime_r(). */
static void
test_sweep_matches_libc(void **state)
{
    char ours[HUB_TIME_RFC3339_LEN], libc[96];

    for (time_t t = 0; t < (time_t)150 * 365 * 86400; t += 7 * 3600 + 13 * 60) {
        struct tm tm;

        gmtime_r(&t, &tm);
        snprintf(libc, sizeof libc, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        assert_int_equal(hub_time_rfc3339_ms((int64_t)t * 1000000000, ours, sizeof ours), 0);
        assert_string_equal(ours, libc);
    }
}

static void
test_rejections(void **state)
{
    char small[8];

    assert_int_equal(hub_time_rfc3339_ms(0, small, sizeof small), -1);
    assert_int_equal(hub_time_rfc3339_ms(-1, small, sizeof small), -1);
    assert_int_equal(hub_time_compact(0, small, sizeof small), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_instants),
        cmocka_unit_test(test_sweep_matches_libc),
        cmocka_unit_test(test_rejections),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
