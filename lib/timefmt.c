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

static int
utc_fields(int64_t ns, struct tm *tm)
{
    time_t secs = (time_t)(ns / 1000000000);

    return gmtime_r(&secs, tm) != NULL ? 0 : -1;
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
