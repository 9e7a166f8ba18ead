/*
 * ejson.c: --from's fast path from an Extended-JSON line to BSON, for the
 * plain shape nearly every line has (what gen.sh and mongoexport write):
 * objects, arrays, ASCII keys, strings with the short escapes, numbers,
 * true/false/null, {"$oid": "<24 hex>"}, {"$numberLong": "<int>"} and
 * {"$date": {"$numberLong": "<int>"}}. It builds exactly the BSON that
 * libbson's bson_init_from_json() builds for such a line, and for anything
 * else (other $-keys, \u escapes, non-ASCII, odd numbers, deep nesting,
 * trailing text) it gives up, so the caller asks libbson: the lines
 * accepted and refused, and why, stay libbson's. libbson's parser costs
 * about four times as much on such lines (most of it validating and
 * copying strings a character at a time).
 *
 * Pure: no I/O, no logging; the caller owns the bson_t.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "readsync.h"

/* Deeper lines go to libbson, whose own limits then apply. */
#define FAST_MAX_DEPTH 32
/* Longer escaped strings go to libbson (the scratch buffer's size). */
#define FAST_MAX_ESCAPED 4096

struct fast {
    const char *p, *end;
    char scratch[FAST_MAX_ESCAPED];
};

static void
skip_ws(struct fast *f)
{
    while (f->p < f->end && (*f->p == ' ' || *f->p == '\t'))
        f->p++;
}

static int
eat(struct fast *f, char c)
{
    skip_ws(f);
    if (f->p >= f->end || *f->p != c)
        return 0;
    f->p++;
    return 1;
}

/* A key: printable ASCII, no escapes, not empty, not starting with '$'
 * unless dollar is set. */
static int
key(struct fast *f, const char **k, int *klen, int dollar)
{
    const char *start;

    if (!eat(f, '"'))
        return 0;
    start = f->p;
    while (f->p < f->end && *f->p != '"') {
        if (*f->p < 0x20 || *f->p > 0x7e || *f->p == '\\')
            return 0;
        f->p++;
    }
    if (f->p >= f->end || f->p == start || (*start == '$') != dollar)
        return 0;
    *k = start;
    *klen = (int)(f->p - start);
    f->p++;
    return eat(f, ':');
}

/* A string value: printable ASCII and the escapes \" \\ \/ \b \f \n \r \t.
 * *s points into the line, or into scratch when it had escapes. */
static int
string(struct fast *f, const char **s, size_t *len)
{
    static const char unescaped[128] = {
        ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
        ['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
    };
    const char *start = f->p;
    size_t n = 0;
    int escaped = 0;

    for (; f->p < f->end && *f->p != '"'; f->p++) {
        unsigned char c = (unsigned char)*f->p;

        if (c < 0x20 || c > 0x7e)
            return 0;
        if (c == '\\') {
            if (!escaped) {
                if ((size_t)(f->p - start) >= sizeof f->scratch)
                    return 0;
                memcpy(f->scratch, start, (size_t)(f->p - start));
                n = (size_t)(f->p - start);
                escaped = 1;
            }
            if (++f->p >= f->end || (unsigned char)*f->p >= 128 ||
                unescaped[(unsigned char)*f->p] == 0)
                return 0;
            c = (unsigned char)unescaped[(unsigned char)*f->p];
        }
        if (escaped) {
            if (n >= sizeof f->scratch)
                return 0;
            f->scratch[n++] = (char)c;
        }
    }
    if (f->p >= f->end)
        return 0;
    *s = escaped ? f->scratch : start;
    *len = escaped ? n : (size_t)(f->p - start);
    f->p++;
    return 1;
}

/* A whole integer text ("-12"): no leading zeros, no "-0", within int64. */
static int
integer(const char *s, size_t n, int64_t *v)
{
    size_t i = s[0] == '-';
    uint64_t u = 0, limit = (uint64_t)INT64_MAX + (i == 1);

    if (n == i || n - i > 19 || (s[i] == '0' && n - i > 1) || (i == 1 && s[1] == '0'))
        return 0;
    for (size_t j = i; j < n; j++) {
        if (s[j] < '0' || s[j] > '9')
            return 0;
        if (u > (limit - (uint64_t)(s[j] - '0')) / 10)
            return 0;
        u = u * 10 + (uint64_t)(s[j] - '0');
    }
    *v = i == 1 ? (int64_t)(0 - u) : (int64_t)u;
    return 1;
}

/* Strict JSON for a fraction or exponent: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
static int
strict_real(const char *q)
{
    q += *q == '-';
    if (*q == '0' ? q[1] >= '0' && q[1] <= '9' : !(*q >= '1' && *q <= '9'))
        return 0;
    while (*q >= '0' && *q <= '9')
        q++;
    if (*q == '.') {
        if (!(*++q >= '0' && *q <= '9'))
            return 0;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (*q == 'e' || *q == 'E') {
        q += q[1] == '+' || q[1] == '-';
        if (!(*++q >= '0' && *q <= '9'))
            return 0;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    return *q == '\0';
}

/* A JSON number: an int32 or int64 when whole, else a double. */
static int
number(struct fast *f, bson_t *b, const char *k, int klen)
{
    const char *start = f->p;
    size_t n;
    int64_t v;
    double d;
    char text[64], *end;

    /* not strchr alone: it finds a NUL byte too (the string's end), and a
     * line may hold one; strtod would then stop there and take "1\0\0" */
    while (f->p < f->end && *f->p != '\0' && strchr("0123456789-+.eE", *f->p) != NULL)
        f->p++;
    n = (size_t)(f->p - start);
    if (n >= sizeof text)
        return 0;
    memcpy(text, start, n);
    text[n] = '\0';
    if (strpbrk(text, ".eE") == NULL) {
        if (!integer(text, n, &v))
            return 0;
        if (v >= INT32_MIN && v <= INT32_MAX)
            return bson_append_int32(b, k, klen, (int32_t)v);
        return bson_append_int64(b, k, klen, v);
    }
    if (!strict_real(text))
        return 0;
    errno = 0;
    d = strtod(text, &end);
    if (errno != 0 || *end != '\0' || !isfinite(d))
        return 0;
    return bson_append_double(b, k, klen, d);
}

/* After '{"$numberLong"': ':' "<int>" '}' -> the integer. */
static int
number_long(struct fast *f, int64_t *v)
{
    const char *s;
    size_t n;

    return eat(f, '"') && string(f, &s, &n) && s != f->scratch && integer(s, n, v) &&
           eat(f, '}');
}

static int members(struct fast *f, bson_t *b, int depth);
static int elements(struct fast *f, bson_t *b, int depth);

/* After '{' whose first key starts with '$': the three forms we know. */
static int
dollar_object(struct fast *f, bson_t *b, const char *k, int klen)
{
    const char *dk, *s;
    int dklen;
    size_t n;
    int64_t v;
    bson_oid_t oid;

    if (!key(f, &dk, &dklen, 1))
        return 0;
    if (dklen == 4 && memcmp(dk, "$oid", 4) == 0) {
        if (!eat(f, '"') || !string(f, &s, &n) || n != 24 || s == f->scratch ||
            !bson_oid_is_valid(s, 24) || !eat(f, '}'))
            return 0;
        bson_oid_init_from_string(&oid, s);
        return bson_append_oid(b, k, klen, &oid);
    }
    if (dklen == 11 && memcmp(dk, "$numberLong", 11) == 0)
        return number_long(f, &v) && bson_append_int64(b, k, klen, v);
    if (dklen == 5 && memcmp(dk, "$date", 5) == 0) {
        if (!eat(f, '{') || !key(f, &dk, &dklen, 1) || dklen != 11 ||
            memcmp(dk, "$numberLong", 11) != 0 || !number_long(f, &v) || !eat(f, '}'))
            return 0;
        return bson_append_date_time(b, k, klen, v);
    }
    return 0;
}

static int
value(struct fast *f, bson_t *b, const char *k, int klen, int depth)
{
    bson_t child;
    const char *s, *save;
    size_t n;
    int ok;

    skip_ws(f);
    if (f->p >= f->end)
        return 0;
    switch (*f->p) {
    case '"':
        f->p++;
        return string(f, &s, &n) && bson_append_utf8(b, k, klen, s, (int)n);
    case '{':
        f->p++;
        save = f->p;
        if (eat(f, '"') && f->p < f->end && *f->p == '$') {
            f->p = save;
            return dollar_object(f, b, k, klen);
        }
        f->p = save;
        if (depth >= FAST_MAX_DEPTH || !bson_append_document_begin(b, k, klen, &child))
            return 0;
        ok = members(f, &child, depth + 1);
        return bson_append_document_end(b, &child) && ok;
    case '[':
        f->p++;
        if (depth >= FAST_MAX_DEPTH || !bson_append_array_begin(b, k, klen, &child))
            return 0;
        ok = elements(f, &child, depth + 1);
        return bson_append_array_end(b, &child) && ok;
    case 't':
        ok = f->end - f->p >= 4 && memcmp(f->p, "true", 4) == 0;
        f->p += ok ? 4 : 0;
        return ok && bson_append_bool(b, k, klen, true);
    case 'f':
        ok = f->end - f->p >= 5 && memcmp(f->p, "false", 5) == 0;
        f->p += ok ? 5 : 0;
        return ok && bson_append_bool(b, k, klen, false);
    case 'n':
        ok = f->end - f->p >= 4 && memcmp(f->p, "null", 4) == 0;
        f->p += ok ? 4 : 0;
        return ok && bson_append_null(b, k, klen);
    default:
        return (*f->p == '-' || (*f->p >= '0' && *f->p <= '9')) && number(f, b, k, klen);
    }
}

/* After '{': "key": value pairs, then '}'. */
static int
members(struct fast *f, bson_t *b, int depth)
{
    const char *k;
    int klen;

    if (eat(f, '}'))
        return 1;
    do {
        if (!key(f, &k, &klen, 0) || !value(f, b, k, klen, depth))
            return 0;
    } while (eat(f, ','));
    return eat(f, '}');
}

/* After '[': values keyed "0", "1", ..., then ']'. */
static int
elements(struct fast *f, bson_t *b, int depth)
{
    char keybuf[16];
    const char *k;
    uint32_t i = 0;

    if (eat(f, ']'))
        return 1;
    do {
        size_t klen = bson_uint32_to_string(i++, &k, keybuf, sizeof keybuf);

        if (!value(f, b, k, (int)klen, depth))
            return 0;
    } while (eat(f, ','));
    return eat(f, ']');
}

int
readsync_ejson_fast(const char *line, size_t len, bson_t *doc)
{
    struct fast f;
    int ok;

    f.p = line;
    f.end = line + len;
    bson_reinit(doc);
    ok = eat(&f, '{') && members(&f, doc, 0);
    skip_ws(&f);
    return ok && f.p == f.end;
}
