/*
 * filter.c: the small query language of the test server (equality, $eq,
 * $ne, $in, $nin, $exists, ANDed over fields) and {$set: ...} updates.
 * Anything else is refused by mw_filter_check / mw_update_check, so a test
 * never passes because the server silently ignored part of a query.
 */
#include <stdio.h>
#include <string.h>

#include "mongo-wire.h"

static int
is_operator_doc(const bson_iter_t *it)
{
    bson_iter_t sub;

    if (!BSON_ITER_HOLDS_DOCUMENT(it) || !bson_iter_recurse(it, &sub))
        return 0;
    return bson_iter_next(&sub) && bson_iter_key(&sub)[0] == '$';
}

static int
check_operator(const char *field, const bson_iter_t *op, char *err, size_t errlen)
{
    const char *name = bson_iter_key(op);

    if (strcmp(name, "$eq") == 0 || strcmp(name, "$ne") == 0 ||
        strcmp(name, "$exists") == 0)
        return 0;
    if ((strcmp(name, "$in") == 0 || strcmp(name, "$nin") == 0) &&
        BSON_ITER_HOLDS_ARRAY(op))
        return 0;
    snprintf(err, errlen, "unsupported operator %s on field %s", name, field);
    return -1;
}

int
mw_filter_check(const bson_t *filter, char *err, size_t errlen)
{
    bson_iter_t it, op;

    if (!bson_iter_init(&it, filter))
        return -1;
    while (bson_iter_next(&it)) {
        const char *field = bson_iter_key(&it);

        if (field[0] == '$') {
            snprintf(err, errlen, "unsupported top-level operator %s", field);
            return -1;
        }
        if (!is_operator_doc(&it))
            continue;
        bson_iter_recurse(&it, &op);
        while (bson_iter_next(&op)) {
            if (check_operator(field, &op, err, errlen) != 0)
                return -1;
        }
    }
    return 0;
}

static int
values_equal(const bson_value_t *a, const bson_value_t *b)
{
    return mw_value_cmp(a, b) == 0;
}

static int
in_array(const bson_value_t *v, const bson_iter_t *arr_it)
{
    bson_iter_t arr;

    bson_iter_recurse(arr_it, &arr);
    while (bson_iter_next(&arr)) {
        if (v != NULL && values_equal(v, bson_iter_value(&arr)))
            return 1;
    }
    return 0;
}

/* v is the document's value for the field, NULL when missing. */
static int
match_operator(const bson_value_t *v, const bson_iter_t *op)
{
    const char *name = bson_iter_key(op);

    if (strcmp(name, "$eq") == 0)
        return v != NULL && values_equal(v, bson_iter_value((bson_iter_t *)op));
    if (strcmp(name, "$ne") == 0)
        return v == NULL || !values_equal(v, bson_iter_value((bson_iter_t *)op));
    if (strcmp(name, "$exists") == 0)
        return (v != NULL) == bson_iter_as_bool(op);
    if (strcmp(name, "$in") == 0)
        return in_array(v, op);
    return !in_array(v, op);   /* $nin */
}

static int
match_field(const bson_t *doc, const bson_iter_t *cond)
{
    const char *field = bson_iter_key(cond);
    bson_iter_t it, found, op;
    const bson_value_t *v = NULL;

    if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, field, &found))
        v = bson_iter_value(&found);
    if (!is_operator_doc(cond))
        return v != NULL && values_equal(v, bson_iter_value((bson_iter_t *)cond));
    bson_iter_recurse(cond, &op);
    while (bson_iter_next(&op)) {
        if (!match_operator(v, &op))
            return 0;
    }
    return 1;
}

int
mw_filter_match(const bson_t *filter, const bson_t *doc)
{
    bson_iter_t it;

    if (!bson_iter_init(&it, filter))
        return 0;
    while (bson_iter_next(&it)) {
        if (!match_field(doc, &it))
            return 0;
    }
    return 1;
}

/* Copy an array's values into ids under keys "0", "1", ... */
static void
append_values(bson_t *ids, const bson_iter_t *arr_it)
{
    bson_iter_t arr;
    uint32_t i = 0;
    char key[16];
    const char *k;

    bson_iter_recurse(arr_it, &arr);
    while (bson_iter_next(&arr)) {
        bson_uint32_to_string(i++, &k, key, sizeof key);
        bson_append_value(ids, k, -1, bson_iter_value(&arr));
    }
}

int
mw_filter_id_list(const bson_t *filter, bson_t *ids)
{
    bson_iter_t it, op;

    if (bson_count_keys(filter) != 1 || !bson_iter_init_find(&it, filter, "_id"))
        return 0;
    if (!is_operator_doc(&it)) {
        bson_append_value(ids, "0", 1, bson_iter_value(&it));
        return 1;
    }
    bson_iter_recurse(&it, &op);
    bson_iter_next(&op);
    if (strcmp(bson_iter_key(&op), "$in") != 0 || !BSON_ITER_HOLDS_ARRAY(&op))
        return 0;
    append_values(ids, &op);
    return !bson_iter_next(&op);   /* {$in: [...], more}: the slow path */
}

int
mw_update_check(const bson_t *update, char *err, size_t errlen)
{
    bson_iter_t it, set;

    if (!bson_iter_init(&it, update) || bson_count_keys(update) != 1 ||
        !bson_iter_next(&it) || strcmp(bson_iter_key(&it), "$set") != 0 ||
        !BSON_ITER_HOLDS_DOCUMENT(&it)) {
        snprintf(err, errlen, "only {$set: {...}} updates are supported");
        return -1;
    }
    bson_iter_recurse(&it, &set);
    while (bson_iter_next(&set)) {
        const char *k = bson_iter_key(&set);

        if (strcmp(k, "_id") == 0 || strchr(k, '.') != NULL || k[0] == '$') {
            snprintf(err, errlen, "unsupported $set key %s", k);
            return -1;
        }
    }
    return 0;
}

bson_t *
mw_update_apply(const bson_t *doc, const bson_t *update)
{
    bson_t *out = bson_new();
    bson_iter_t it, set, found;
    const uint8_t *data;
    uint32_t len;
    bson_t setdoc;

    bson_iter_init_find(&it, update, "$set");
    bson_iter_document(&it, &len, &data);
    bson_init_static(&setdoc, data, len);
    /* Keep field order: replace in place, then append new fields. */
    bson_iter_init(&it, doc);
    while (bson_iter_next(&it)) {
        const char *k = bson_iter_key(&it);

        if (bson_iter_init_find(&found, &setdoc, k))
            bson_append_value(out, k, -1, bson_iter_value(&found));
        else
            bson_append_value(out, k, -1, bson_iter_value(&it));
    }
    bson_iter_init(&set, &setdoc);
    while (bson_iter_next(&set)) {
        if (!bson_has_field(doc, bson_iter_key(&set)))
            bson_append_value(out, bson_iter_key(&set), -1, bson_iter_value(&set));
    }
    return out;
}
