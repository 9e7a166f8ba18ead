/*
 * json.c: the payload writer. Payloads are built straight into a hub_buf
 * with exact integer arithmetic (bytes as integers, percentages, rates and
 * temperatures as fixed-point decimals), not through cJSON: printing a
 * double through "%1.15g" and reading it back was most of a sample's CPU
 * time, and fixed-point makes every figure exact and reproducible.
 *
 * Errors are sticky (j->err): a collector writes its fields without
 * checking each one and metrics_json_end() of the outermost object reports.
 */
#include <string.h>

#include "metrics.h"

void
metrics_json_init(struct metrics_json *j, struct hub_buf *b)
{
    memset(j, 0, sizeof *j);
    j->b = b;
    if (hub_buf_appendc(b, '{') != 0)
        j->err = 1;
}

static void
put(struct metrics_json *j, const char *s, size_t n)
{
    if (!j->err && hub_buf_append(j->b, s, n) != 0)
        j->err = 1;
}

/* Length of a valid UTF-8 sequence at s, or 0. Valid as PostgreSQL checks
 * it (RFC 3629): shortest form, no surrogates, nothing past U+10FFFF, so
 * F5..F7, E0 80, ED A0 and F4 90 are refused, not only bad continuations. */
static size_t
utf8_len(const unsigned char *s)
{
    size_t n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
             : s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : 0;
    unsigned char lo = 0x80, hi = 0xBF;      /* the second byte's range */

    if (s[0] == 0xE0)
        lo = 0xA0;
    else if (s[0] == 0xED)
        hi = 0x9F;
    else if (s[0] == 0xF0)
        lo = 0x90;
    else if (s[0] == 0xF4)
        hi = 0x8F;
    if (n == 0 || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    }
    return n;
}

/* A JSON string: quotes, backslashes and controls escaped; bytes that are
 * not UTF-8 become '?' (PostgreSQL refuses invalid UTF-8 in jsonb). */
static void
put_string(struct metrics_json *j, const char *s)
{
    static const char hexd[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;

    put(j, "\"", 1);
    while (*p != '\0') {
        size_t run = 0;

        while (p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        put(j, (const char *)p, run);
        p += run;
        if (*p == '\0')
            break;
        if (*p == '"' || *p == '\\') {
            char esc[2] = { '\\', (char)*p++ };

            put(j, esc, 2);
        } else if (*p < 0x20) {
            char esc[6] = { '\\', 'u', '0', '0', hexd[*p >> 4], hexd[*p & 15] };

            put(j, esc, 6);
            p++;
        } else {
            size_t n = utf8_len(p);

            put(j, n > 0 ? (const char *)p : "?", n > 0 ? n : 1);
            p += n > 0 ? n : 1;
        }
    }
    put(j, "\"", 1);
}

static void
key(struct metrics_json *j, const char *k)
{
    if (j->count[j->depth]++ > 0)
        put(j, ",", 1);
    put_string(j, k);
    put(j, ":", 1);
}

void
metrics_json_object(struct metrics_json *j, const char *k)
{
    key(j, k);
    put(j, "{", 1);
    if (j->depth + 1 >= METRICS_JSON_DEPTH) {
        j->err = 1;
        return;
    }
    j->count[++j->depth] = 0;
}

int
metrics_json_end(struct metrics_json *j)
{
    put(j, "}", 1);
    if (j->depth > 0)
        j->depth--;
    return j->err ? -1 : 0;
}

static void
put_u64(struct metrics_json *j, uint64_t v)
{
    if (!j->err && hub_buf_append_u64(j->b, v) != HUB_BUF_OK)
        j->err = 1;
}

void
metrics_json_u64(struct metrics_json *j, const char *k, uint64_t v)
{
    key(j, k);
    put_u64(j, v);
}

void
metrics_json_fixed(struct metrics_json *j, const char *k, int64_t v, unsigned decimals)
{
    uint64_t scale = 1, mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t frac;
    char digits[24];
    unsigned n = decimals;

    for (unsigned i = 0; i < decimals; i++)
        scale *= 10;
    key(j, k);
    if (v < 0)
        put(j, "-", 1);
    put_u64(j, mag / scale);
    frac = mag % scale;
    while (n > 0 && frac % 10 == 0 && frac > 0) {
        frac /= 10;     /* 12.50 -> 12.5, as a reader would write it */
        n--;
    }
    if (frac == 0)
        return;
    for (unsigned i = n; i > 0; i--) {
        digits[i - 1] = (char)('0' + frac % 10);
        frac /= 10;
    }
    put(j, ".", 1);
    put(j, digits, n);
}

void
metrics_json_str(struct metrics_json *j, const char *k, const char *s)
{
    key(j, k);
    put_string(j, s);
}

uint64_t
metrics_ratio2(uint64_t part, uint64_t total)
{
    long double r;

    if (total == 0)
        return 0;
    if (part <= UINT64_MAX / 10000)
        return (part * 10000 + total / 2) / total;
    /* a huge rate over a tiny interval: saturate, converting an out-of-range
     * long double is undefined */
    r = (long double)part * 10000.0L / (long double)total + 0.5L;
    return r < 18446744073709551616.0L ? (uint64_t)r : UINT64_MAX;
}
