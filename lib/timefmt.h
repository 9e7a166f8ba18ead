/*
 * timefmt.h: clocks and RFC 3339 timestamps, in one place so every program
 * prints time the same way (UTC, milliseconds, "Z").
 */
#ifndef HUB_TIMEFMT_H
#define HUB_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-25T17:37:38.123Z" plus NUL */
#define HUB_TIME_RFC3339_LEN 32

/* Wall clock (CLOCK_REALTIME) in nanoseconds since the epoch. */
int64_t hub_time_now_ns(void);
/* Monotonic clock in nanoseconds, for durations and deadlines. */
int64_t hub_time_mono_ns(void);
/* Monotonic clock in milliseconds. */
int64_t hub_time_mono_ms(void);

/* Format ns since the epoch as RFC 3339 UTC with milliseconds. Returns 0, or
 * -1 when out does not fit. */
int hub_time_rfc3339_ms(int64_t ns, char *out, size_t outlen);

/* Compact UTC stamp for names: "20261125T173738Z". Returns 0 or -1. */
int hub_time_compact(int64_t ns, char *out, size_t outlen);

#endif
