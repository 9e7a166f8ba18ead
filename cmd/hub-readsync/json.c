/*
 * json.c: the payload and meta columns: a BSON value as relaxed Extended
 * JSON, written straight into the batch's COPY text. It produces what
 * libbson's bson_as_relaxed_extended_json() produces for the same value
 * (the same type mapping, the same escapes, the same refusals), minus the
 * optional whitespace, with two differences that map.c documents: doubles
 * are printed in their shortest round-trip form (0.1, not
 * 0.10000000000000000555), and nesting deeper than libbson's limit is
 * refused here instead of being written as the invalid "{ ... }".
 *
 * COPY text escaping costs nothing extra: JSON text never holds a raw tab,
 * newline or carriage return (strings escape every control character), so
 * the only COPY escape needed is doubling each backslash, and the writer
 * emits its backslashes doubled.
 *
 * Pure: no I/O, no logging, no state but the caller's buffer.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readsync.h"

/* libbson writes "{ ... }" for a document nested this deep (its
 * BSON_MAX_RECURSION): the members of the outermost document are at 0. */
#define MAX_DEPTH 200
/* Strings are escaped this many input bytes at a time, so the room
 * reserved for the worst case (7 output bytes an input byte) stays small. */
#define STRING_CHUNK 4096

struct jw {
    struct hub_buf *out;
    int nul;                  /* a string held NUL: jsonb cannot store it */
    int deep;                 /* a document nested deeper than MAX_DEPTH */
};

/* ---- output ---- */

static int
put(struct jw *w, const char *s, size_t n)
{
    return hub_buf_append(w->out, s, n) == HUB_BUF_OK ? 0 : READSYNC_JSON_NOMEM;
}

#define PUT_LIT(w, lit) put((w), (lit), sizeof(lit) - 1)

/* Room for n more bytes at the end of the buffer, or NULL (buffer failed). */
static char *
room(struct jw *w, size_t n)
{
    if (hub_buf_reserve(w->out, n) != HUB_BUF_OK)
        return NULL;
    return w->out->data + w->out->len;
}

/* The bytes written since room() end at p. */
static void
commit(struct jw *w, char *p)
{
    w->out->len = (size_t)(p - w->out->data);
    w->out->data[w->out->len] = '\0';
}

/* ---- strings ---- */

/*
 * What libbson accepts in a string: UTF-8 of at most 4 bytes a character,
 * shortest form, no surrogates, NUL allowed (written \u0000) but not as the
 * two-byte C0 80 (libbson's escaper refuses that one).
 */
static int
utf8_ok(const char *s, size_t n)
{
    return bson_utf8_validate(s, n, true) && memchr(s, 0xc0, n) == NULL;
}

static int
key_ok(const char *key, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] >= 0x80)
            return utf8_ok(key, n);
    return 1;
}

/* Each byte's JSON escape, COPY-escaped (backslashes doubled); NULL for a
 * byte written as itself. Control characters without a short escape are
 * \u00XX in lowercase hex, as libbson writes them. */
static const char *const escapes[128] = {
    ['\b'] = "\\\\b", ['\f'] = "\\\\f", ['\n'] = "\\\\n", ['\r'] = "\\\\r",
    ['\t'] = "\\\\t", ['"'] = "\\\\\"", ['\\'] = "\\\\\\\\",
};

static char *
put_control(char *p, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";

    memcpy(p, "\\\\u00", 5);
    p[5] = hex[c >> 4];
    p[6] = hex[c & 15];
    return p + 7;
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero when one of the 8 bytes in x is below 0x20, '"' or '\\': the
 * bytes that need an escape (exact for "any", the classic zero-byte test). */
static uint64_t
needs_escape8(uint64_t x)
{
    uint64_t quote = x ^ (ONES * '"'), slash = x ^ (ONES * '\\');

    return (((x - ONES * 0x20) & ~x) | ((quote - ONES) & ~quote) |
            ((slash - ONES) & ~slash)) & HIGHS;
}

/* s[0..n) as a JSON string. Plain text is copied 8 bytes at a time. */
static int
put_string(struct jw *w, const char *s, size_t n)
{
    unsigned char high = 0;
    uint64_t high8 = 0;
    size_t i = 0;
    char *p = room(w, 1);

    if (p == NULL)
        return READSYNC_JSON_NOMEM;
    *p++ = '"';
    commit(w, p);
    while (i < n) {
        size_t end = n - i > STRING_CHUNK ? i + STRING_CHUNK : n;

        p = room(w, (end - i) * 7 + 1);
        if (p == NULL)
            return READSYNC_JSON_NOMEM;
        for (; i < end; i++) {
            unsigned char c = (unsigned char)s[i];
            uint64_t x;

            if (end - i >= 8) {
                memcpy(&x, s + i, 8);
                if (needs_escape8(x) == 0) {
                    memcpy(p, &x, 8);
                    high8 |= x;
                    p += 8;
                    i += 7;
                    continue;
                }
            }
            high |= c;
            if (c >= 0x20 && c != '"' && c != '\\') {
                *p++ = (char)c;
            } else if (c < 0x80 && escapes[c] != NULL) {
                size_t len = strlen(escapes[c]);

                memcpy(p, escapes[c], len);
                p += len;
            } else {
                w->nul |= c == 0;
                p = put_control(p, c);
            }
        }
        commit(w, p);
    }
    p = room(w, 1);
    if (p == NULL)
        return READSYNC_JSON_NOMEM;
    *p++ = '"';
    commit(w, p);
    /* ASCII is always valid; anything else is checked once, whole. */
    return ((high & 0x80) == 0 && (high8 & HIGHS) == 0) || utf8_ok(s, n) ? 0
                                                                      : READSYNC_JSON_NOT_UTF8;
}

static int
put_cstring(struct jw *w, const char *s)
{
    return put_string(w, s, strlen(s));
}

/* ---- numbers, dates, binary ---- */

static int
put_int(struct jw *w, int64_t v)
{
    char text[24], *p = text + sizeof text;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    return put(w, p, (size_t)(text + sizeof text - p));
}

/*
 * The common case without printf: v = m / 10^k for some k <= 3 and
 * |m| < 10^15. The smallest such k gives the shortest form (decimals of up
 * to 15 digits name distinct doubles, so it is the one %.15g would print),
 * and 1e-3 <= |v| < 1e14 keeps %g in fixed notation. Below 10^15 the
 * candidate m = round(|v| * 10^k) is off by less than 0.5, so it is found
 * when it exists. Returns the length, or 0 to use printf.
 */
static int
format_fixed(double v, char *out, size_t outlen)
{
    static const double scale[] = { 1, 10, 100, 1000 };
    double a = fabs(v);
    char digits[24], *p = digits + sizeof digits;
    size_t n;

    if (!(a >= 1e-3 && a < 1e14))
        return 0;
    for (int k = 0; k < 4; k++) {
        double m = nearbyint(a * scale[k]);
        uint64_t u;

        if (m >= 1e15 || m / scale[k] != a)
            continue;
        u = (uint64_t)m;
        if (k == 0) {                 /* written backwards: "m.0" */
            *--p = '0';
            *--p = '.';
        }
        for (int d = 0; u != 0 || d <= k; d++) {
            if (d == k && k > 0)
                *--p = '.';
            *--p = (char)('0' + u % 10);
            u /= 10;
        }
        if (v < 0)
            *--p = '-';
        n = (size_t)(digits + sizeof digits - p);
        if (n + 1 > outlen)
            return 0;
        memcpy(out, p, n);
        out[n] = '\0';
        return (int)n;
    }
    return 0;
}

int
readsync_json_format_double(double v, char *out, size_t outlen)
{
    int n = 0;

    if (v == 0)
        return snprintf(out, outlen, signbit(v) ? "-0.0" : "0.0");
    n = format_fixed(v, out, outlen);
    if (n > 0)
        return n;
    if (isnan(v))
        return snprintf(out, outlen, "NaN");
    if (isinf(v))
        return snprintf(out, outlen, v > 0 ? "Infinity" : "-Infinity");
    /* The fewest significant digits that read back as v: 17 always
     * suffice, and any shorter form that reads back is what %.15g prints
     * (15-digit decimals are further apart than doubles), except for
     * subnormals, which have fewer digits of precision. */
    for (int digits = v != 0 && fabs(v) < DBL_MIN ? 1 : 15; digits <= 17; digits++) {
        n = snprintf(out, outlen, "%.*g", digits, v);
        if (n < 0 || (size_t)n >= outlen || strtod(out, NULL) == v)
            break;
    }
    if (n < 0 || (size_t)n >= outlen)
        return -1;
    /* "3.0", not "3": a double stays distinguishable from an integer */
    if (strspn(out, "0123456789-") == (size_t)n) {
        if ((size_t)n + 2 >= outlen)
            return -1;
        memcpy(out + n, ".0", 3);
        n += 2;
    }
    return n;
}

static int
put_double(struct jw *w, double v)
{
    char text[40];
    int n = readsync_json_format_double(v, text, sizeof text);
    int rc;

    if (n < 0)
        return READSYNC_JSON_NOMEM;
    if (isfinite(v))
        return put(w, text, (size_t)n);
    rc = PUT_LIT(w, "{\"$numberDouble\":\"");
    if (rc == 0)
        rc = put(w, text, (size_t)n);
    return rc == 0 ? PUT_LIT(w, "\"}") : rc;
}

static char *
two_digits(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* ms >= 0 as libbson's "%Y-%m-%dT%H:%M:%S" then ".mmmZ" or "Z" (years
 * past 9999 get more digits). Howard Hinnant's civil_from_days. */
static int
put_iso_date(struct jw *w, int64_t ms)
{
    int64_t secs = ms / 1000, days = secs / 86400, rem = secs % 86400;
    int64_t z = days + 719468, era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1), m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t y = yoe + era * 400 + (m <= 2);
    int msec = (int)(ms % 1000);
    char text[48], *p;
    int rc = put_int(w, y);

    if (rc != 0)
        return rc;
    p = text;
    *p++ = '-';
    p = two_digits(p, m);
    *p++ = '-';
    p = two_digits(p, d);
    *p++ = 'T';
    p = two_digits(p, (int)(rem / 3600));
    *p++ = ':';
    p = two_digits(p, (int)(rem / 60 % 60));
    *p++ = ':';
    p = two_digits(p, (int)(rem % 60));
    if (msec != 0) {
        *p++ = '.';
        *p++ = (char)('0' + msec / 100);
        p = two_digits(p, msec % 100);
    }
    *p++ = 'Z';
    return put(w, text, (size_t)(p - text));
}

/* Relaxed: an ISO string from 1970 on, the canonical $numberLong before. */
static int
put_date(struct jw *w, int64_t ms)
{
    int rc;

    if (ms < 0) {
        rc = PUT_LIT(w, "{\"$date\":{\"$numberLong\":\"");
        if (rc == 0)
            rc = put_int(w, ms);
        return rc == 0 ? PUT_LIT(w, "\"}}") : rc;
    }
    rc = PUT_LIT(w, "{\"$date\":\"");
    if (rc == 0)
        rc = put_iso_date(w, ms);
    return rc == 0 ? PUT_LIT(w, "\"}") : rc;
}

static int
put_binary(struct jw *w, bson_subtype_t subtype, const uint8_t *data, uint32_t len)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char hex[] = "0123456789abcdef";
    char *p;
    uint32_t i;
    int rc = PUT_LIT(w, "{\"$binary\":{\"base64\":\"");

    p = rc == 0 ? room(w, ((size_t)len + 2) / 3 * 4) : NULL;
    if (p == NULL)
        return READSYNC_JSON_NOMEM;
    for (i = 0; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];

        *p++ = b64[v >> 18];
        *p++ = b64[v >> 12 & 63];
        *p++ = b64[v >> 6 & 63];
        *p++ = b64[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);

        *p++ = b64[v >> 18];
        *p++ = b64[v >> 12 & 63];
        *p++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
        *p++ = '=';
    }
    commit(w, p);
    rc = PUT_LIT(w, "\",\"subType\":\"");
    if (rc == 0)
        rc = put(w, (const char[]){ hex[(subtype >> 4) & 15], hex[subtype & 15] }, 2);
    return rc == 0 ? PUT_LIT(w, "\"}}") : rc;
}

static int
put_oid(struct jw *w, const bson_oid_t *oid)
{
    char text[25];
    int rc = PUT_LIT(w, "{\"$oid\":\"");

    bson_oid_to_string(oid, text);
    if (rc == 0)
        rc = put(w, text, 24);
    return rc == 0 ? PUT_LIT(w, "\"}") : rc;
}

/* ---- the other BSON types ---- */

static int
put_regex(struct jw *w, const char *pattern, const char *options)
{
    char sorted[8];
    size_t n = 0;
    int rc;

    /* libbson keeps the known flags only, in this order */
    for (const char *c = "ilmsux"; *c != '\0'; c++)
        if (strchr(options, *c) != NULL)
            sorted[n++] = *c;
    rc = PUT_LIT(w, "{\"$regularExpression\":{\"pattern\":");
    if (rc == 0)
        rc = put_cstring(w, pattern);
    if (rc == 0)
        rc = PUT_LIT(w, ",\"options\":\"");
    if (rc == 0)
        rc = put(w, sorted, n);
    /* options are a C string libbson validates too */
    if (rc == 0 && !utf8_ok(options, strlen(options)))
        rc = READSYNC_JSON_NOT_UTF8;
    return rc == 0 ? PUT_LIT(w, "\"}}") : rc;
}

static int
put_dbpointer(struct jw *w, const bson_iter_t *it)
{
    const char *coll;
    const bson_oid_t *oid;
    uint32_t len;
    int rc;

    bson_iter_dbpointer(it, &len, &coll, &oid);
    rc = PUT_LIT(w, "{\"$dbPointer\":{\"$ref\":");
    if (rc == 0)
        rc = put_cstring(w, coll);   /* libbson stops at a NUL here */
    if (rc == 0)
        rc = PUT_LIT(w, ",\"$id\":");
    if (rc == 0)
        rc = put_oid(w, oid);
    return rc == 0 ? PUT_LIT(w, "}}") : rc;
}

/* "prefix" string "}" for $code and $symbol. */
static int
put_wrapped_string(struct jw *w, const char *prefix, size_t plen, const char *s, uint32_t len)
{
    int rc = put(w, prefix, plen);

    if (rc == 0)
        rc = put_string(w, s, len);
    return rc == 0 ? PUT_LIT(w, "}") : rc;
}

static int put_members(struct jw *w, bson_iter_t *child, int depth, int array);

/*
 * bson_iter_recurse into the document or array at it. bson_iter_next only
 * checks that an embedded document's length fits its parent, so one whose
 * header is broken (shorter than 5 bytes, no closing NUL) would read as
 * empty and be written "{}"; libbson's own writer refuses it, so do we.
 */
static int
recurse(const bson_iter_t *it, bson_iter_t *child)
{
    const uint8_t *data = NULL;
    uint32_t len = 0;
    bson_t sub;

    if (BSON_ITER_HOLDS_ARRAY(it))
        bson_iter_array(it, &len, &data);
    else
        bson_iter_document(it, &len, &data);
    return data != NULL && bson_init_static(&sub, data, len) && bson_iter_recurse(it, child);
}

static int
put_codewscope(struct jw *w, const bson_iter_t *it)
{
    const uint8_t *scope_data;
    uint32_t len, scope_len;
    const char *code = bson_iter_codewscope(it, &len, &scope_len, &scope_data);
    bson_t scope;
    bson_iter_t child;
    int rc;

    if (!bson_init_static(&scope, scope_data, scope_len) || !bson_iter_init(&child, &scope))
        return READSYNC_JSON_CORRUPT;
    rc = PUT_LIT(w, "{\"$code\":");
    if (rc == 0)
        rc = put_string(w, code, len);
    if (rc == 0)
        rc = PUT_LIT(w, ",\"$scope\":");
    if (rc == 0)
        rc = put_members(w, &child, 0, 0);   /* libbson starts the scope afresh */
    return rc == 0 ? PUT_LIT(w, "}") : rc;
}

static int
put_timestamp(struct jw *w, const bson_iter_t *it)
{
    uint32_t t, i;
    int rc;

    bson_iter_timestamp(it, &t, &i);
    rc = PUT_LIT(w, "{\"$timestamp\":{\"t\":");
    if (rc == 0)
        rc = put_int(w, t);
    if (rc == 0)
        rc = PUT_LIT(w, ",\"i\":");
    if (rc == 0)
        rc = put_int(w, i);
    return rc == 0 ? PUT_LIT(w, "}}") : rc;
}

static int
put_decimal128(struct jw *w, const bson_iter_t *it)
{
    char text[BSON_DECIMAL128_STRING];
    bson_decimal128_t d;
    int rc = PUT_LIT(w, "{\"$numberDecimal\":\"");

    bson_iter_decimal128(it, &d);
    bson_decimal128_to_string(&d, text);
    if (rc == 0)
        rc = put(w, text, strlen(text));
    return rc == 0 ? PUT_LIT(w, "\"}") : rc;
}

/* ---- values and containers ---- */

/* The value at it, an element of a container whose members are at depth. */
static int
put_value(struct jw *w, const bson_iter_t *it, int depth)
{
    bson_iter_t child;
    const uint8_t *data;
    bson_subtype_t subtype;
    const char *s, *options;
    uint32_t len;

    switch (bson_iter_type(it)) {
    case BSON_TYPE_DOUBLE:
        return put_double(w, bson_iter_double(it));
    case BSON_TYPE_UTF8:
        s = bson_iter_utf8(it, &len);
        return put_string(w, s, len);
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY:
        if (depth >= MAX_DEPTH) {
            /* libbson writes "{ ... }" without looking inside */
            w->deep = 1;
            return 0;
        }
        if (!recurse(it, &child))
            return READSYNC_JSON_CORRUPT;
        return put_members(w, &child, depth + 1, BSON_ITER_HOLDS_ARRAY(it));
    case BSON_TYPE_BINARY:
        bson_iter_binary(it, &subtype, &len, &data);
        return put_binary(w, subtype, data, len);
    case BSON_TYPE_UNDEFINED:
        return PUT_LIT(w, "{\"$undefined\":true}");
    case BSON_TYPE_OID:
        return put_oid(w, bson_iter_oid(it));
    case BSON_TYPE_BOOL:
        return bson_iter_bool(it) ? PUT_LIT(w, "true") : PUT_LIT(w, "false");
    case BSON_TYPE_DATE_TIME:
        return put_date(w, bson_iter_date_time(it));
    case BSON_TYPE_NULL:
        return PUT_LIT(w, "null");
    case BSON_TYPE_REGEX:
        s = bson_iter_regex(it, &options);
        return put_regex(w, s, options);
    case BSON_TYPE_DBPOINTER:
        return put_dbpointer(w, it);
    case BSON_TYPE_CODE:
        s = bson_iter_code(it, &len);
        return put_wrapped_string(w, "{\"$code\":", 9, s, len);
    case BSON_TYPE_SYMBOL:
        s = bson_iter_symbol(it, &len);
        return put_wrapped_string(w, "{\"$symbol\":", 11, s, len);
    case BSON_TYPE_CODEWSCOPE:
        return put_codewscope(w, it);
    case BSON_TYPE_INT32:
        return put_int(w, bson_iter_int32(it));
    case BSON_TYPE_TIMESTAMP:
        return put_timestamp(w, it);
    case BSON_TYPE_INT64:
        return put_int(w, bson_iter_int64(it));
    case BSON_TYPE_DECIMAL128:
        return put_decimal128(w, it);
    case BSON_TYPE_MAXKEY:
        return PUT_LIT(w, "{\"$maxKey\":1}");
    case BSON_TYPE_MINKEY:
        return PUT_LIT(w, "{\"$minKey\":1}");
    default:
        return READSYNC_JSON_CORRUPT;
    }
}

/* The members of a document or array (child: not yet advanced), at depth. */
static int
put_members(struct jw *w, bson_iter_t *child, int depth, int array)
{
    int rc = put(w, array ? "[" : "{", 1);
    int first = 1;

    while (rc == 0 && bson_iter_next(child)) {
        if (!first)
            rc = PUT_LIT(w, ",");
        first = 0;
        if (rc == 0 && !array)
            rc = put_string(w, bson_iter_key(child), bson_iter_key_len(child));
        /* unwritten, but libbson refuses a bad array key all the same */
        if (rc == 0 && array && !key_ok(bson_iter_key(child), bson_iter_key_len(child)))
            rc = READSYNC_JSON_NOT_UTF8;
        if (rc == 0 && !array)
            rc = PUT_LIT(w, ":");
        if (rc == 0)
            rc = put_value(w, child, depth);
    }
    /* bson_iter_next stops early, with err_off set, on corrupt BSON */
    if (rc == 0 && child->err_off != 0)
        rc = READSYNC_JSON_CORRUPT;
    return rc == 0 ? put(w, array ? "]" : "}", 1) : rc;
}

int
readsync_json_write(const bson_iter_t *it, struct hub_buf *out)
{
    struct jw w = { out, 0, 0 };
    size_t start = out->len;
    bson_iter_t child;
    int rc;

    /* A document is written as the outermost one (its members at depth 0);
     * any other value as libbson writes it inside {"v": value}. */
    if (BSON_ITER_HOLDS_DOCUMENT(it))
        rc = recurse(it, &child) ? put_members(&w, &child, 0, 0) : READSYNC_JSON_CORRUPT;
    else
        rc = put_value(&w, it, 0);
    if (rc == 0 && w.nul)
        rc = READSYNC_JSON_NUL;
    else if (rc == 0 && w.deep)
        rc = READSYNC_JSON_TOO_DEEP;
    if (rc > 0)
        hub_buf_truncate(out, start);
    return rc;
}
