/*
 * store.c: the test server's one collection. Owns the documents and an
 * _id index (open addressing, never deleted from: the server has no delete
 * command). Loads Extended-JSON lines, dumps canonical Extended-JSON lines
 * atomically. Never takes the server lock itself: callers hold it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "mongo-wire.h"

#define MW_MAX_LINE (2u * MW_MAX_BSON)

void
mw_store_init(struct mw_store *s)
{
    memset(s, 0, sizeof *s);
}

void
mw_store_release(struct mw_store *s)
{
    for (size_t i = 0; i < s->n; i++) {
        bson_destroy(s->docs[i].doc);
        bson_value_destroy(&s->docs[i].id);
    }
    free(s->docs);
    free(s->slots);
    mw_store_init(s);
}

/* MongoDB's order of types: numbers compare as numbers, then by class. */
static int
type_rank(bson_type_t t)
{
    switch (t) {
    case BSON_TYPE_MINKEY:    return 0;
    case BSON_TYPE_NULL:
    case BSON_TYPE_UNDEFINED: return 1;
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_DECIMAL128: return 2;
    case BSON_TYPE_SYMBOL:
    case BSON_TYPE_UTF8:      return 3;
    case BSON_TYPE_DOCUMENT:  return 4;
    case BSON_TYPE_ARRAY:     return 5;
    case BSON_TYPE_BINARY:    return 6;
    case BSON_TYPE_OID:       return 7;
    case BSON_TYPE_BOOL:      return 8;
    case BSON_TYPE_DATE_TIME: return 9;
    case BSON_TYPE_TIMESTAMP: return 10;
    case BSON_TYPE_REGEX:     return 11;
    case BSON_TYPE_MAXKEY:    return 13;
    default:                  return 12;
    }
}

static double
as_double(const bson_value_t *v)
{
    switch (v->value_type) {
    case BSON_TYPE_INT32: return v->value.v_int32;
    case BSON_TYPE_INT64: return (double)v->value.v_int64;
    case BSON_TYPE_DOUBLE: return v->value.v_double;
    default: return NAN;   /* decimal128: not compared numerically here */
    }
}

static int
cmp_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0)
        return c < 0 ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}

/* Fallback for types we never sort on in practice: their BSON bytes. */
static int
cmp_raw(const bson_value_t *a, const bson_value_t *b)
{
    bson_t x = BSON_INITIALIZER, y = BSON_INITIALIZER;
    int c;

    bson_append_value(&x, "", 0, a);
    bson_append_value(&y, "", 0, b);
    c = cmp_bytes(bson_get_data(&x), x.len, bson_get_data(&y), y.len);
    bson_destroy(&x);
    bson_destroy(&y);
    return c;
}

int
mw_value_cmp(const bson_value_t *a, const bson_value_t *b)
{
    int ra = type_rank(a->value_type), rb = type_rank(b->value_type);
    double da, db;

    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case 1:
        return 0;
    case 2:
        da = as_double(a);
        db = as_double(b);
        if (isnan(da) || isnan(db))
            return cmp_raw(a, b);
        return da < db ? -1 : da > db;
    case 3:
        return cmp_bytes(a->value.v_utf8.str, a->value.v_utf8.len,
                         b->value.v_utf8.str, b->value.v_utf8.len);
    case 7:
        return bson_oid_compare(&a->value.v_oid, &b->value.v_oid);
    case 8:
        return (int)a->value.v_bool - (int)b->value.v_bool;
    case 9:
        return a->value.v_datetime < b->value.v_datetime ? -1
             : a->value.v_datetime > b->value.v_datetime;
    default:
        return cmp_raw(a, b);
    }
}

/* FNV-1a over what makes two _id values equal under mw_value_cmp. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211u;
    }
    return h;
}

static uint64_t
id_hash(const bson_value_t *v)
{
    uint64_t h = 14695981039346656037u;
    int rank = type_rank(v->value_type);
    double d;

    h = fnv(h, &rank, sizeof rank);
    switch (rank) {
    case 2:
        d = as_double(v);
        return isnan(d) ? h : fnv(h, &d, sizeof d);
    case 3:
        return fnv(h, v->value.v_utf8.str, v->value.v_utf8.len);
    case 7:
        return fnv(h, v->value.v_oid.bytes, sizeof v->value.v_oid.bytes);
    default:
        return h;   /* rare types share a chain; equality decides */
    }
}

static int
index_insert(struct mw_store *s, size_t i)
{
    size_t mask = s->nslots - 1;
    size_t k = (size_t)id_hash(&s->docs[i].id) & mask;

    while (s->slots[k] != 0) {
        if (mw_value_cmp(&s->docs[s->slots[k] - 1].id, &s->docs[i].id) == 0)
            return -1;
        k = (k + 1) & mask;
    }
    s->slots[k] = i + 1;
    return 0;
}

static int
index_grow(struct mw_store *s)
{
    size_t want = s->nslots == 0 ? 1024 : s->nslots * 2;
    size_t *slots = calloc(want, sizeof *slots);

    if (slots == NULL)
        return -1;
    free(s->slots);
    s->slots = slots;
    s->nslots = want;
    for (size_t i = 0; i < s->n; i++) {
        if (index_insert(s, i) != 0)
            return -1;
    }
    return 0;
}

long
mw_store_find_id(const struct mw_store *s, const bson_value_t *id)
{
    size_t mask, k;

    if (s->nslots == 0)
        return -1;
    mask = s->nslots - 1;
    k = (size_t)id_hash(id) & mask;
    while (s->slots[k] != 0) {
        size_t i = s->slots[k] - 1;

        if (mw_value_cmp(&s->docs[i].id, id) == 0 &&
            type_rank(s->docs[i].id.value_type) == type_rank(id->value_type))
            return (long)i;
        k = (k + 1) & mask;
    }
    return -1;
}

/* Put _id first, generating an ObjectId when there is none (as mongod). */
static bson_t *
with_id(bson_t *doc)
{
    bson_t *out;
    bson_oid_t oid;

    if (bson_has_field(doc, "_id"))
        return doc;
    out = bson_new();
    bson_oid_init(&oid, NULL);
    BSON_APPEND_OID(out, "_id", &oid);
    bson_concat(out, doc);
    bson_destroy(doc);
    return out;
}

int
mw_store_add(struct mw_store *s, bson_t *doc)
{
    struct mw_doc *d;
    bson_iter_t it;

    doc = with_id(doc);
    if (s->n == s->cap) {
        size_t cap = s->cap == 0 ? 256 : s->cap * 2;
        struct mw_doc *docs = realloc(s->docs, cap * sizeof *docs);

        if (docs == NULL) {
            bson_destroy(doc);
            return hub_fail(-1, "mw_out_of_memory");
        }
        s->docs = docs;
        s->cap = cap;
    }
    if ((s->n + 1) * 2 > s->nslots && index_grow(s) != 0) {
        bson_destroy(doc);
        return hub_fail(-1, "mw_out_of_memory");
    }
    d = &s->docs[s->n];
    d->doc = doc;
    bson_iter_init_find(&it, doc, "_id");
    bson_value_copy(bson_iter_value(&it), &d->id);
    if (index_insert(s, s->n) != 0) {
        bson_destroy(doc);
        bson_value_destroy(&d->id);
        return hub_fail(-1, "mw_duplicate_id");
    }
    s->n++;
    return 0;
}

void
mw_store_replace(struct mw_store *s, size_t i, bson_t *doc)
{
    bson_destroy(s->docs[i].doc);
    s->docs[i].doc = doc;
}

static int
load_line(struct mw_store *s, const char *line, size_t len, long lineno,
          const char *path)
{
    bson_error_t err;
    bson_t *doc;

    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len == 0)
        return 0;
    doc = bson_new_from_json((const uint8_t *)line, (ssize_t)len, &err);
    if (doc == NULL)
        return hub_fail(-1, "mw_load_bad_line", HUB_STR("file", path),
                        HUB_INT("line", lineno), HUB_STR("error", err.message));
    if (mw_store_add(s, doc) != 0)
        return hub_fail(-1, "mw_load_failed", HUB_STR("file", path),
                        HUB_INT("line", lineno));
    return 0;
}

int
mw_store_load(struct mw_store *s, const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = -1;

    if (f == NULL)
        return hub_fail(-1, "mw_load_open_failed", HUB_STR("file", path),
                        HUB_STR("error", strerror(errno)));
    for (;;) {
        len = getline(&line, &cap, f);
        if (len < 0)
            break;
        lineno++;
        if ((size_t)len > MW_MAX_LINE || load_line(s, line, (size_t)len, lineno, path) != 0)
            goto out;
    }
    rc = ferror(f) ? -1 : 0;
out:
    free(line);
    fclose(f);
    return rc;
}

int
mw_store_dump(const struct mw_store *s, const char *path)
{
    struct hub_buf tmp = HUB_BUF_INIT(4096);
    FILE *f = NULL;
    int rc = -1;

    if (hub_buf_appendf(&tmp, "%s.tmp", path) != 0)
        goto out;
    f = fopen(hub_buf_str(&tmp), "w");
    if (f == NULL)
        goto out;
    for (size_t i = 0; i < s->n; i++) {
        char *json = bson_as_canonical_extended_json(s->docs[i].doc, NULL);

        if (json == NULL)
            goto out;
        fputs(json, f);
        fputc('\n', f);
        bson_free(json);
    }
    if (fclose(f) != 0) {
        f = NULL;
        goto out;
    }
    f = NULL;
    if (rename(hub_buf_str(&tmp), path) != 0)
        goto out;
    rc = 0;
out:
    if (f != NULL)
        fclose(f);
    if (rc != 0)
        hub_log(HUB_LOG_ERROR, "mw_dump_failed", HUB_STR("file", path),
                HUB_STR("error", strerror(errno)));
    hub_buf_release(&tmp);
    return rc;
}

/* The _id as the status file shows it: 24 hex digits for an ObjectId, the
 * string itself, else canonical Extended JSON. Returns 0 or -1. */
static int
id_text(const bson_value_t *id, FILE *f)
{
    bson_t wrap = BSON_INITIALIZER;
    char oid[25];
    char *json;
    size_t len;
    int rc;

    if (id->value_type == BSON_TYPE_OID) {
        bson_oid_to_string(&id->value.v_oid, oid);
        return fputs(oid, f) < 0 ? -1 : 0;
    }
    if (id->value_type == BSON_TYPE_UTF8)
        return fwrite(id->value.v_utf8.str, 1, id->value.v_utf8.len, f) == id->value.v_utf8.len
                   ? 0 : -1;
    bson_append_value(&wrap, "v", 1, id);
    json = bson_as_canonical_extended_json(&wrap, &len);
    bson_destroy(&wrap);
    rc = json != NULL && len >= 10 && fwrite(json + 8, 1, len - 10, f) == len - 10 ? 0 : -1;
    bson_free(json);
    return rc;
}

int
mw_store_dump_status(const struct mw_store *s, const char *path)
{
    struct hub_buf tmp = HUB_BUF_INIT(4096);
    FILE *f = NULL;
    int rc = -1;

    if (hub_buf_appendf(&tmp, "%s.tmp", path) != 0)
        goto out;
    f = fopen(hub_buf_str(&tmp), "w");
    if (f == NULL)
        goto out;
    for (size_t i = 0; i < s->n; i++) {
        bson_iter_t it;
        const char *status = "-";

        if (bson_iter_init_find(&it, s->docs[i].doc, "status") && BSON_ITER_HOLDS_UTF8(&it))
            status = bson_iter_utf8(&it, NULL);
        if (id_text(&s->docs[i].id, f) != 0 || fprintf(f, "\t%s\n", status) < 0)
            goto out;
    }
    rc = fclose(f);
    f = NULL;
    if (rc == 0)
        rc = rename(hub_buf_str(&tmp), path);
out:
    if (f != NULL)
        fclose(f);
    if (rc != 0)
        hub_log(HUB_LOG_ERROR, "mw_dump_failed", HUB_STR("file", path));
    hub_buf_release(&tmp);
    return rc;
}
