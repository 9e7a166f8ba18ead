/*
 * batch.c: one batch of hub-readsync: the mapped rows as COPY text, the _id
 * of each row (to mark them processed, in the same order) and the rejected
 * documents with their reasons. Owns all of it; logs nothing but running
 * out of memory.
 */
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "log.h"
#include "readsync.h"

void
readsync_batch_init(struct readsync_batch *b)
{
    memset(b, 0, sizeof *b);
    hub_buf_init(&b->copy, READSYNC_MAX_BATCH_BYTES + READSYNC_MAX_LINE);
    b->ids = bson_new();
}

static void
release_rejects(struct readsync_batch *b)
{
    for (size_t i = 0; i < b->nrejects; i++)
        bson_value_destroy(&b->rejects[i].id);
    b->nrejects = 0;
}

void
readsync_batch_reset(struct readsync_batch *b)
{
    hub_buf_reset(&b->copy);
    bson_reinit(b->ids);
    release_rejects(b);
    b->nrows = 0;
    b->read = 0;
}

void
readsync_batch_release(struct readsync_batch *b)
{
    release_rejects(b);
    hub_buf_release(&b->copy);
    bson_clear(&b->ids);
    free(b->row_end);
    free(b->row_bad);
    free(b->rejects);
    b->row_end = NULL;
    b->row_bad = NULL;
    b->rejects = NULL;
    b->cap = b->rcap = b->nrows = 0;
}

static int
no_memory(void)
{
    return hub_fail(EX_OSERR, "readsync_out_of_memory");
}

/* Add a reject; id may be NULL (no _id). */
static int
add_reject(struct readsync_batch *b, const bson_value_t *id, const char *reason)
{
    struct readsync_reject *r;
    size_t n;

    if (b->nrejects == b->rcap) {
        size_t cap = b->rcap == 0 ? 16 : b->rcap * 2;
        struct readsync_reject *p = realloc(b->rejects, cap * sizeof *p);

        if (p == NULL)
            return no_memory();
        b->rejects = p;
        b->rcap = cap;
    }
    r = &b->rejects[b->nrejects++];
    memset(&r->id, 0, sizeof r->id);
    r->id.value_type = BSON_TYPE_EOD;
    if (id != NULL)
        bson_value_copy(id, &r->id);
    n = strlen(reason);
    if (n >= sizeof r->reason)
        n = sizeof r->reason - 1;
    memcpy(r->reason, reason, n);
    r->reason[n] = '\0';
    return 0;
}

static int
add_row(struct readsync_batch *b, const bson_value_t *id)
{
    char key[16];
    const char *k;

    if (b->nrows == b->cap) {
        size_t cap = b->cap == 0 ? 1024 : b->cap * 2;
        size_t *p = realloc(b->row_end, cap * sizeof *p);
        unsigned char *bad;

        if (p == NULL)
            return no_memory();
        b->row_end = p;
        bad = realloc(b->row_bad, cap);
        if (bad == NULL)
            return no_memory();
        b->row_bad = bad;
        b->cap = cap;
    }
    b->row_bad[b->nrows] = 0;
    bson_uint32_to_string((uint32_t)b->nrows, &k, key, sizeof key);
    if (!bson_append_value(b->ids, k, -1, id))
        return no_memory();
    b->row_end[b->nrows++] = b->copy.len;
    return 0;
}

int
readsync_batch_add(struct readsync_batch *b, const bson_t *doc)
{
    char reason[READSYNC_MAX_REASON];
    bson_iter_t it;
    const bson_value_t *id = NULL;
    int rc;

    b->read++;
    if (bson_iter_init_find(&it, doc, "_id"))
        id = bson_iter_value(&it);
    rc = readsync_map_doc(doc, &b->copy, reason, sizeof reason);
    if (rc == -2)
        return no_memory();
    if (rc == -1)
        return add_reject(b, id, reason);
    return add_row(b, id);
}

int
readsync_batch_add_unreadable(struct readsync_batch *b, const char *reason)
{
    b->read++;
    return add_reject(b, NULL, reason);
}

int
readsync_batch_reject_row(struct readsync_batch *b, size_t i, const char *reason)
{
    bson_iter_t it;
    char key[16];
    const char *k;

    bson_uint32_to_string((uint32_t)i, &k, key, sizeof key);
    if (i >= b->nrows || !bson_iter_init_find(&it, b->ids, k))
        return hub_fail(EX_SOFTWARE, "readsync_no_such_row", HUB_INT("row", i));
    b->row_bad[i] = 1;
    return add_reject(b, bson_iter_value(&it), reason);
}

size_t
readsync_batch_good_rows(const struct readsync_batch *b)
{
    size_t n = 0;

    for (size_t i = 0; i < b->nrows; i++)
        n += !b->row_bad[i];
    return n;
}
