/*
 * map.c: one MongoDB reading event -> one row of reading_analytics, written
 * as a line of PostgreSQL's COPY text format. Pure functions: no I/O, no
 * logging, no state. A document that cannot become a row gets a reason
 * ("timestamp: ...") instead, and the caller rejects it.
 *
 *   _id         ObjectId -> 24 hex digits; string -> itself; anything else
 *               -> its canonical Extended JSON ({ "$numberInt" : "42" })
 *   timestamp   BSON date; ISO-8601 string; epoch number (seconds when
 *               |v| < 1e11, else milliseconds); missing/null -> NULL
 *   source, event_type   string; missing/null -> NULL
 *   payload, meta        relaxed Extended JSON -> jsonb (json.c: libbson's
 *               mapping, doubles in shortest round-trip form);
 *               missing/null -> NULL
 *
 * Refused: a missing _id, strings that are not UTF-8 or hold NUL (PostgreSQL
 * text cannot), JSON holding \u0000 (jsonb cannot), documents nested more
 * than 200 deep, timestamps outside the years 1..9999, fields of the wrong
 * type. PostgreSQL would refuse each of
 * them for the whole batch, so they are caught here, per document.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "readsync.h"

#define USEC_PER_SEC 1000000LL
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z */
#define MIN_USEC (-62135596800LL * USEC_PER_SEC)
#define MAX_USEC (253402300800LL * USEC_PER_SEC - 1)
/* |epoch| below this is seconds, at or above it milliseconds */
#define EPOCH_MS_THRESHOLD 1e11

/* Reasons are messages for a person: truncating one is harmless. */
__attribute__((format(printf, 3, 4)))
static void
set_reason(char *reason, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(reason, len, fmt, ap) < 0 && len > 0)
        reason[0] = '\0';
    va_end(ap);
}

static const char *
type_name(bson_type_t t)
{
    switch (t) {
    case BSON_TYPE_DOUBLE:     return "double";
    case BSON_TYPE_UTF8:       return "string";
    case BSON_TYPE_DOCUMENT:   return "document";
    case BSON_TYPE_ARRAY:      return "array";
    case BSON_TYPE_BINARY:     return "binary";
    case BSON_TYPE_UNDEFINED:  return "undefined";
    case BSON_TYPE_OID:        return "objectId";
    case BSON_TYPE_BOOL:       return "bool";
    case BSON_TYPE_DATE_TIME:  return "date";
    case BSON_TYPE_NULL:       return "null";
    case BSON_TYPE_REGEX:      return "regex";
    case BSON_TYPE_DBPOINTER:  return "dbPointer";
    case BSON_TYPE_CODE:       return "javascript";
    case BSON_TYPE_SYMBOL:     return "symbol";
    case BSON_TYPE_CODEWSCOPE: return "javascriptWithScope";
    case BSON_TYPE_INT32:      return "int32";
    case BSON_TYPE_TIMESTAMP:  return "timestamp";
    case BSON_TYPE_INT64:      return "int64";
    case BSON_TYPE_DECIMAL128: return "decimal128";
    case BSON_TYPE_MINKEY:     return "minKey";
    case BSON_TYPE_MAXKEY:     return "maxKey";
    default:                   return "unknown";
    }
}

int
readsync_copy_escape(struct hub_buf *out, const char *s, size_t n)
{
    size_t run = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        const char *esc = NULL;

        switch (s[i]) {
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: continue;
        }
        rc = hub_buf_append(out, s + run, i - run);
        if (rc == HUB_BUF_OK)
            rc = hub_buf_append(out, esc, 2);
        if (rc != HUB_BUF_OK)
            return rc;
        run = i + 1;
    }
    return hub_buf_append(out, s + run, n - run);
}

/* ---- time ---- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* Exactly n digits at *p, advancing it. */
static int
digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*p)[i];

        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* ".123456789" or ",5": up to 9 digits, truncated to microseconds. */
static int
fraction(const char **p, int64_t *usec)
{
    int64_t scale = 100000;
    int n = 0;

    *usec = 0;
    if (**p != '.' && **p != ',')
        return 0;
    for ((*p)++; **p >= '0' && **p <= '9'; (*p)++, n++) {
        *usec += (**p - '0') * scale;
        scale /= 10;
    }
    return n >= 1 && n <= 9 ? 0 : -1;
}

/* "Z", "+HH:MM", "+HHMM", "+HH" (or '-'), or nothing (UTC): seconds east. */
static int
zone(const char **p, int *offset)
{
    int sign, hh, mm = 0;

    *offset = 0;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return 0;
    }
    if (**p != '+' && **p != '-')
        return 0;
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (digits(p, 2, &hh) != 0)
        return -1;
    if (**p == ':')
        (*p)++;
    if (**p >= '0' && **p <= '9' && digits(p, 2, &mm) != 0)
        return -1;
    if (hh > 23 || mm > 59)
        return -1;
    *offset = sign * (hh * 3600 + mm * 60);
    return 0;
}

int
readsync_parse_iso8601(const char *s, int64_t *usec)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, offset = 0;
    int64_t frac = 0, secs;

    if (digits(&p, 4, &y) != 0 || *p++ != '-' || digits(&p, 2, &mo) != 0 ||
        *p++ != '-' || digits(&p, 2, &d) != 0)
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) != 0 || *p++ != ':' || digits(&p, 2, &mi) != 0)
            return -1;
        if (*p == ':' && (p++, digits(&p, 2, &sec) != 0 || fraction(&p, &frac) != 0))
            return -1;
        if (zone(&p, &offset) != 0)
            return -1;
    }
    if (*p != '\0' || y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        h > 23 || mi > 59 || sec > 59)
        return -1;
    secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    *usec = secs * USEC_PER_SEC + frac;
    return *usec >= MIN_USEC && *usec <= MAX_USEC ? 0 : -1;
}

int
readsync_epoch_to_usec(double v, int64_t *usec)
{
    double us;

    if (!isfinite(v))
        return -1;
    us = fabs(v) < EPOCH_MS_THRESHOLD ? v * 1e6 : v * 1e3;
    if (us < (double)MIN_USEC || us > (double)MAX_USEC)
        return -1;
    *usec = llround(us);
    return 0;
}

/* n decimal digits of v, zero-padded, at p; returns the end. */
static char *
put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* Without gmtime_r and snprintf, which cost more than the rest of a row:
 * Howard Hinnant's civil_from_days, the inverse of days_from_civil. */
int
readsync_format_usec(int64_t usec, char *out, size_t outlen)
{
    int64_t secs, frac, days, rem, z, era, doe, yoe, doy, mp, y;
    int m, d;
    char *p = out;

    if (usec < MIN_USEC || usec > MAX_USEC || outlen < 30)
        return -1;
    secs = usec / USEC_PER_SEC;
    frac = usec % USEC_PER_SEC;
    if (frac < 0) {
        frac += USEC_PER_SEC;
        secs--;
    }
    days = secs / 86400;
    rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = (int)(doy - (153 * mp + 2) / 5 + 1);
    m = (int)(mp < 10 ? mp + 3 : mp - 9);
    y = yoe + era * 400 + (m <= 2);
    p = put_digits(p, y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = ' ';
    p = put_digits(p, rem / 3600, 2);
    *p++ = ':';
    p = put_digits(p, rem / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, rem % 60, 2);
    *p++ = '.';
    p = put_digits(p, frac, 6);
    memcpy(p, "+00", 4);
    return 0;
}

/* ---- fields ---- */

static int
append_null(struct hub_buf *out)
{
    return hub_buf_append(out, "\\N", 2);
}

static int
utf8_text_ok(const char *s, uint32_t len)
{
    return bson_utf8_validate(s, len, false);   /* false: NUL is refused */
}

/* Returns 0 (appended), -1 (rejected, reason set) or -2 (buffer). */
static int
map_timestamp(bson_iter_t *it, struct hub_buf *out, char *reason, size_t rlen)
{
    char text[32];
    int64_t usec = 0;
    const char *s;
    uint32_t len;
    int bad = 0;

    switch (bson_iter_type(it)) {
    case BSON_TYPE_NULL:
        return append_null(out) == HUB_BUF_OK ? 0 : -2;
    case BSON_TYPE_DATE_TIME:
        /* milliseconds; bounded before scaling so it cannot overflow */
        bad = bson_iter_date_time(it) < MIN_USEC / 1000 ||
              bson_iter_date_time(it) > MAX_USEC / 1000;
        usec = bad ? 0 : bson_iter_date_time(it) * 1000;
        break;
    case BSON_TYPE_UTF8:
        s = bson_iter_utf8(it, &len);
        if (strlen(s) != len || readsync_parse_iso8601(s, &usec) != 0) {
            set_reason(reason, rlen, "timestamp: not an ISO-8601 date and time: \"%.40s\"", s);
            return -1;
        }
        break;
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE:
        bad = readsync_epoch_to_usec(bson_iter_as_double(it), &usec) != 0;
        break;
    default:
        set_reason(reason, rlen, "timestamp: unsupported type %s", type_name(bson_iter_type(it)));
        return -1;
    }
    if (bad || readsync_format_usec(usec, text, sizeof text) != 0) {
        set_reason(reason, rlen, "timestamp: outside the years 1 to 9999");
        return -1;
    }
    return hub_buf_appends(out, text) == HUB_BUF_OK ? 0 : -2;
}

static int
map_text(bson_iter_t *it, const char *field, struct hub_buf *out, char *reason, size_t rlen)
{
    const char *s;
    uint32_t len;

    if (bson_iter_type(it) == BSON_TYPE_NULL)
        return append_null(out) == HUB_BUF_OK ? 0 : -2;
    if (bson_iter_type(it) != BSON_TYPE_UTF8) {
        set_reason(reason, rlen, "%s: expected a string, got %s", field,
                   type_name(bson_iter_type(it)));
        return -1;
    }
    s = bson_iter_utf8(it, &len);
    if (!utf8_text_ok(s, len)) {
        set_reason(reason, rlen, "%s: not UTF-8, or holds a NUL character", field);
        return -1;
    }
    return readsync_copy_escape(out, s, len) == HUB_BUF_OK ? 0 : -2;
}

static int
map_json(bson_iter_t *it, const char *field, struct hub_buf *out, char *reason, size_t rlen)
{
    if (bson_iter_type(it) == BSON_TYPE_NULL)
        return append_null(out) == HUB_BUF_OK ? 0 : -2;
    switch (readsync_json_write(it, out)) {
    case READSYNC_JSON_OK:
        return 0;
    case READSYNC_JSON_NOT_UTF8:
        set_reason(reason, rlen, "%s: cannot be written as JSON (a string is not UTF-8)", field);
        return -1;
    case READSYNC_JSON_NUL:
        set_reason(reason, rlen, "%s: holds a NUL character, which jsonb cannot store", field);
        return -1;
    case READSYNC_JSON_TOO_DEEP:
        set_reason(reason, rlen, "%s: nested more than 200 levels deep", field);
        return -1;
    case READSYNC_JSON_CORRUPT:
        set_reason(reason, rlen, "%s: cannot be written as JSON (corrupt BSON)", field);
        return -1;
    default:
        return -2;
    }
}

/*
 * mongo_id is the primary key the upsert skips duplicates by, so two
 * distinct _ids must never share a text. Plain decimal for numbers did:
 * "42", 42 and NumberLong(42) all became 42, and the later ones were taken
 * for duplicates, marked processed and lost. Canonical Extended JSON keeps
 * the type ({ "$numberInt" : "42" }, { "$numberLong" : "42" }). One
 * collision is left on purpose: a string of 24 hex digits equals an
 * ObjectId's text, because ObjectIds keep the old Go system's form and its
 * rows must keep matching.
 */
int
readsync_map_id(const bson_value_t *id, struct hub_buf *out, char *reason, size_t rlen)
{
    char oid[25];
    bson_t wrap = BSON_INITIALIZER;
    size_t len = 0;
    char *json;
    int rc;

    switch (id->value_type) {
    case BSON_TYPE_OID:
        bson_oid_to_string(&id->value.v_oid, oid);
        return hub_buf_append(out, oid, 24) == HUB_BUF_OK ? 0 : -2;
    case BSON_TYPE_UTF8:
        if (!utf8_text_ok(id->value.v_utf8.str, id->value.v_utf8.len)) {
            set_reason(reason, rlen, "_id: not UTF-8, or holds a NUL character");
            return -1;
        }
        return hub_buf_append(out, id->value.v_utf8.str, id->value.v_utf8.len) == HUB_BUF_OK ? 0 : -2;
    default:
        break;
    }
    /* libbson writes a value only inside a document: { "v" : <value> } */
    bson_append_value(&wrap, "v", 1, id);
    json = bson_as_canonical_extended_json(&wrap, &len);
    bson_destroy(&wrap);
    if (json == NULL || len < 10) {
        bson_free(json);
        set_reason(reason, rlen, "_id: cannot be written as JSON");
        return -1;
    }
    rc = hub_buf_append(out, json + 8, len - 10) == HUB_BUF_OK ? 0 : -2;
    bson_free(json);
    return rc;
}

/* The mongo_id column: the _id's text, COPY-escaped. */
static int
map_id_field(const bson_t *doc, struct hub_buf *out, char *reason, size_t rlen)
{
    struct hub_buf text = HUB_BUF_INIT(READSYNC_MAX_LINE);
    bson_iter_t it;
    int rc;

    if (!bson_iter_init_find(&it, doc, "_id")) {
        set_reason(reason, rlen, "_id: missing");
        return -1;
    }
    /* The common case needs no escaping and no scratch buffer. */
    if (BSON_ITER_HOLDS_OID(&it))
        return readsync_map_id(bson_iter_value(&it), out, reason, rlen);
    rc = readsync_map_id(bson_iter_value(&it), &text, reason, rlen);
    if (rc == 0 && readsync_copy_escape(out, hub_buf_str(&text), text.len) != HUB_BUF_OK)
        rc = -2;
    hub_buf_release(&text);
    return rc;
}

enum field_kind { FIELD_TIME, FIELD_TEXT, FIELD_JSON };

static const struct {
    const char *name;
    enum field_kind kind;
} columns[] = {
    { "timestamp",  FIELD_TIME },
    { "source",     FIELD_TEXT },
    { "event_type", FIELD_TEXT },
    { "payload",    FIELD_JSON },
    { "meta",       FIELD_JSON },
};

static int
map_column(const bson_t *doc, size_t c, struct hub_buf *out, char *reason, size_t rlen)
{
    bson_iter_t it;

    if (!bson_iter_init_find(&it, doc, columns[c].name))
        return append_null(out) == HUB_BUF_OK ? 0 : -2;
    switch (columns[c].kind) {
    case FIELD_TIME:
        return map_timestamp(&it, out, reason, rlen);
    case FIELD_TEXT:
        return map_text(&it, columns[c].name, out, reason, rlen);
    default:
        return map_json(&it, columns[c].name, out, reason, rlen);
    }
}

int
readsync_map_doc(const bson_t *doc, struct hub_buf *out, char *reason, size_t rlen)
{
    size_t start = out->len;
    int rc;

    rc = map_id_field(doc, out, reason, rlen);
    for (size_t c = 0; rc == 0 && c < sizeof columns / sizeof columns[0]; c++) {
        rc = hub_buf_appendc(out, '\t') == HUB_BUF_OK ? 0 : -2;
        if (rc == 0)
            rc = map_column(doc, c, out, reason, rlen);
    }
    if (rc == 0)
        rc = hub_buf_appendc(out, '\n') == HUB_BUF_OK ? 0 : -2;
    if (rc == -1)
        hub_buf_truncate(out, start);
    return rc;
}
