/*
 * fuzz_readsync_ejson.c: libFuzzer target over hub-readsync's way from
 * input to a COPY row: --from's Extended-JSON lines (the fast path of
 * ejson.c and libbson's parser behind it), the mapping of a document to a
 * row (map.c), the payload/meta writer (json.c) and the batch.
 *
 * Input layout (so the corpus can be read and written by hand):
 *   first byte 0x00  the rest is one raw BSON document, as MongoDB hands
 *                    it over (any bytes: corrupt lengths, bad UTF-8, NULs)
 *   anything else    Extended-JSON lines, read as source_file.c reads
 *                    them: '\r' at the end dropped, blank lines skipped,
 *                    a line not starting with '{' is unreadable
 * Every document goes into one batch (readsync_batch_add), the way run.c
 * adds them. Invariants checked (abort() when broken):
 *   - a line the fast path takes, libbson takes too, into the same bytes
 *     (ejson.c's contract: "exactly as bson_init_from_json() would");
 *   - a mapped row is one line of six tab-separated COPY fields; a refused
 *     one leaves the buffer as it was and says why;
 *   - payload and meta agree with bson_as_relaxed_extended_json(), spaces
 *     and COPY escaping aside, when they hold no double (json.c prints
 *     doubles in shortest form on purpose): a value libbson refuses is
 *     refused, one it writes is written the same;
 *   - a double's text reads back as the same double.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hub.h"
#include "../../cmd/hub-readsync/readsync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WALK_DEPTH 250          /* past json.c's 200: refused, not walked */

/* ---- invariants ---- */

/* Check every double's text round-trips; 1 when doc holds a double. */
static int
walk_doubles(bson_iter_t *it, int depth)
{
    int found = 0;

    while (bson_iter_next(it)) {
        bson_iter_t child;

        if (BSON_ITER_HOLDS_DOUBLE(it)) {
            double v = bson_iter_double(it);
            char text[40];
            int n = readsync_json_format_double(v, text, sizeof text);

            if (n <= 0 || (size_t)n >= sizeof text || strlen(text) != (size_t)n)
                abort();
            if (!isnan(v) && strtod(text, NULL) != v)
                abort();
            found = 1;
        } else if ((BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it)) &&
                   depth < MAX_WALK_DEPTH && bson_iter_recurse(it, &child)) {
            found |= walk_doubles(&child, depth + 1);
        } else if (BSON_ITER_HOLDS_CODEWSCOPE(it)) {
            found = 1;                /* its scope is not walked: leave it be */
        }
    }
    return found;
}

/* JSON text without the spaces libbson puts outside strings. */
static void
squeeze(const char *in, char *out)
{
    int in_string = 0;

    for (const char *p = in; *p != '\0'; p++) {
        if (in_string) {
            *out++ = *p;
            if (*p == '\\' && p[1] != '\0')
                *out++ = *++p;
            else if (*p == '"')
                in_string = 0;
        } else if (*p != ' ') {
            in_string = *p == '"';
            *out++ = *p;
        }
    }
    *out = '\0';
}

/* COPY text back to JSON: every doubled backslash undone. */
static void
uncopy(const char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        *out++ = in[i];
        if (in[i] == '\\')
            i++;
    }
    *out = '\0';
}

/* What libbson writes for the value at it (a document whole, another value
 * as the inside of {"v": value}), squeezed; NULL when it refuses. */
static char *
libbson_json(const bson_iter_t *it)
{
    bson_t wrap = BSON_INITIALIZER, sub;
    const uint8_t *data;
    uint32_t len;
    size_t n = 0;
    char *json = NULL, *out = NULL;

    if (BSON_ITER_HOLDS_DOCUMENT(it)) {
        bson_iter_document(it, &len, &data);
        if (bson_init_static(&sub, data, len))
            json = bson_as_relaxed_extended_json(&sub, &n);
    } else {
        if (bson_append_value(&wrap, "v", 1, bson_iter_value((bson_iter_t *)it)))
            json = bson_as_relaxed_extended_json(&wrap, &n);
        if (json != NULL && n >= 10) {
            memmove(json, json + 8, n - 10);
            json[n - 10] = '\0';
        }
    }
    bson_destroy(&wrap);
    if (json == NULL)
        return NULL;
    out = malloc(strlen(json) + 1);
    if (out != NULL)
        squeeze(json, out);
    bson_free(json);
    return out;
}

/* payload or meta: the writer against libbson. */
static void
check_json_field(const bson_t *doc, const char *field)
{
    struct hub_buf out = HUB_BUF_INIT(READSYNC_MAX_LINE);
    bson_iter_t it, walk;
    char *want = NULL, *got = NULL;
    int rc, doubles = 0;

    if (!bson_iter_init_find(&it, doc, field))
        return;
    if (hub_buf_append(&out, "x|", 2) != HUB_BUF_OK)
        return;
    rc = readsync_json_write(&it, &out);
    if (rc > 0 && strcmp(hub_buf_str(&out), "x|") != 0)
        abort();                      /* refused: out as it was */
    if (rc == READSYNC_JSON_NOMEM || rc == READSYNC_JSON_TOO_DEEP)
        goto out;
    if (BSON_ITER_HOLDS_DOCUMENT(&it) || BSON_ITER_HOLDS_ARRAY(&it)) {
        if (bson_iter_recurse(&it, &walk))
            doubles = walk_doubles(&walk, 0);
    } else {
        doubles = BSON_ITER_HOLDS_DOUBLE(&it);
    }
    want = libbson_json(&it);
    if (rc == READSYNC_JSON_OK && want == NULL)
        abort();                      /* libbson refuses what was written */
    if (rc == READSYNC_JSON_OK && !doubles) {
        got = malloc(out.len);
        if (got == NULL)
            goto out;
        uncopy(hub_buf_str(&out) + 2, out.len - 2, got);
        if (strcmp(got, want) != 0)
            abort();
    }
out:
    free(want);
    free(got);
    hub_buf_release(&out);
}

/* The row map.c appends: six COPY fields, one line; or nothing and a reason. */
static void
check_row(const bson_t *doc)
{
    struct hub_buf out = HUB_BUF_INIT(READSYNC_MAX_LINE);
    char reason[READSYNC_MAX_REASON] = "";
    const char *row;
    size_t tabs = 0;
    int rc;

    if (hub_buf_append(&out, "before\n", 7) != HUB_BUF_OK)
        return;
    rc = readsync_map_doc(doc, &out, reason, sizeof reason);
    if (rc == -1 && (out.len != 7 || reason[0] == '\0'))
        abort();
    if (rc == 0) {
        row = hub_buf_str(&out) + 7;
        for (const char *p = row; *p != '\0'; p++)
            tabs += *p == '\t';
        if (tabs != 5 || strchr(row, '\n') != hub_buf_str(&out) + out.len - 1 ||
            strchr(row, '\r') != NULL || strlen(row) != out.len - 7)
            abort();
    }
    if (rc != 0 && rc != -1 && rc != -2)
        abort();
    hub_buf_release(&out);
    check_json_field(doc, "payload");
    check_json_field(doc, "meta");
}

static void
take_doc(struct readsync_batch *b, const bson_t *doc)
{
    size_t before = b->nrows + b->nrejects;

    check_row(doc);
    if (readsync_batch_add(b, doc) == 0 && b->nrows + b->nrejects != before + 1)
        abort();
}

/* ---- the two input forms ---- */

static void
read_bson(struct readsync_batch *b, const uint8_t *data, size_t size)
{
    bson_t doc;

    if (size > UINT32_MAX || !bson_init_static(&doc, data, size))
        return;
    take_doc(b, &doc);
}

/* One line as source_file.c's file_next takes it. */
static void
read_line(struct readsync_batch *b, bson_t *fast, const char *line, size_t len)
{
    bson_error_t err;
    bson_t *lib;
    size_t lead = 0;
    int took;

    while (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return;
    while (lead < len && (line[lead] == ' ' || line[lead] == '\t'))
        lead++;
    if (lead == len || line[lead] != '{') {
        (void)readsync_batch_add_unreadable(b, "not a JSON object");
        return;
    }
    took = readsync_ejson_fast(line, len, fast);
    lib = bson_new_from_json((const uint8_t *)line, (ssize_t)len, &err);
    if (took && (lib == NULL || lib->len != fast->len ||
                 memcmp(bson_get_data(lib), bson_get_data(fast), fast->len) != 0))
        abort();                      /* the fast path differs from libbson */
    if (took)
        take_doc(b, fast);
    else if (lib != NULL)
        take_doc(b, lib);
    else
        (void)readsync_batch_add_unreadable(b, err.message);
    bson_destroy(lib);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct readsync_batch b;
    bson_t *fast;

    readsync_batch_init(&b);
    if (size > 0 && data[0] == 0x00) {
        read_bson(&b, data + 1, size - 1);
        goto out;
    }
    fast = bson_new();
    for (size_t i = 0; i < size; ) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t n = nl != NULL ? (size_t)(nl - (data + i)) : size - i;
        /* a copy of exactly the line: a read past it is caught */
        char *line = malloc(n > 0 ? n : 1);

        if (line == NULL)
            break;
        memcpy(line, data + i, n);
        read_line(&b, fast, line, n);
        free(line);
        i += n + 1;
    }
    bson_destroy(fast);
out:
    if (readsync_batch_good_rows(&b) != b.nrows || b.nrows + b.nrejects != b.read)
        abort();
    readsync_batch_release(&b);
    return 0;
}
