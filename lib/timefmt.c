/*
 * timefmt.c: clocks and timestamp formatting (see timefmt.h).
 */
#include <stdio.h>
#include <time.h>

#include "timefmt.h"

int64_t
hub_time_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
hub_time_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
hub_time_mono_ms(void)
{
    return hub_time_mono_ns() / 1000000;
}

/*
 * UTC calendar fields by arithmetic (days to civil date, H. Hinnant's
 * algorithm) instead of gmtime_r(): glibc's gmtime_r() loads the time zone
 * first, which costs every program an open and parse of /etc/localtime for
 * a conversion that needs no zone at all.
 */
static int
utc_fields(int64_t ns, struct tm *tm)
{
    int64_t secs = ns / 1000000000;
    int64_t days = secs / 86400, rem = secs % 86400;
    int64_t era, doe, yoe, doy, mp, year;

    days += 719468;                       /* shift the epoch to 0000-03-01 */
    era = days / 146097;
    doe = days - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    year = yoe + era * 400;
    tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm->tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);
    tm->tm_year = (int)(year + (tm->tm_mon <= 1) - 1900);
    tm->tm_hour = (int)(rem / 3600);
    tm->tm_min = (int)(rem % 3600 / 60);
    tm->tm_sec = (int)(rem % 60);
    return 0;
}

int
hub_time_rfc3339_ms(int64_t ns, char *out, size_t outlen)
{
    struct tm tm;
    int n;

    if (ns < 0 || utc_fields(ns, &tm) != 0)
        return -1;
    n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int)((ns / 1000000) % 1000));
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int
hub_time_compact(int64_t ns, char *out, size_t outlen)
{
    struct tm tm;
    int n;

    if (ns < 0 || utc_fields(ns, &tm) != 0)
        return -1;
    n = snprintf(out, outlen, "%04d%02d%02dT%02d%02d%02dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}
