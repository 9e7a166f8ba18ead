/*
 * commands.c: the commands the test server answers, one function each in a
 * { name, fn } table. Handlers build the reply document; they take the
 * server lock for the store and cursors and never do socket I/O (faults
 * that drop the connection are returned as MW_ACT_CLOSE). Unknown commands
 * get an ok:0 CommandNotFound reply, as mongod sends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mongo-wire.h"

#define MW_MAX_REPLY_DOCS_BYTES (MW_MAX_BSON - 64 * 1024)

struct cmd_ctx {
    struct mw_server *srv;
    const struct mw_request *req;
    int64_t conn_id;
    const char *name;
};

static enum mw_action
fail(bson_t *reply, int code, const char *code_name, const char *msg)
{
    bson_reinit(reply);
    BSON_APPEND_DOUBLE(reply, "ok", 0.0);
    BSON_APPEND_UTF8(reply, "errmsg", msg);
    BSON_APPEND_INT32(reply, "code", code);
    BSON_APPEND_UTF8(reply, "codeName", code_name);
    return MW_ACT_REPLY;
}

static enum mw_action
ok(bson_t *reply)
{
    BSON_APPEND_DOUBLE(reply, "ok", 1.0);
    return MW_ACT_REPLY;
}

/* The collection this command names, when it is ours; NULL otherwise. */
static const char *
our_collection(const struct cmd_ctx *c, const char *field)
{
    bson_iter_t it;
    char ns[sizeof c->srv->ns];
    int n;

    if (!bson_iter_init_find(&it, c->req->cmd, field) || !BSON_ITER_HOLDS_UTF8(&it))
        return NULL;
    n = snprintf(ns, sizeof ns, "%s.%s", c->req->db, bson_iter_utf8(&it, NULL));
    if (n < 0 || (size_t)n >= sizeof ns || strcmp(ns, c->srv->ns) != 0)
        return NULL;
    return c->srv->ns;
}

/* ---- handshake and small commands ---- */

static enum mw_action
cmd_hello(struct cmd_ctx *c, bson_t *reply)
{
    /* No topologyVersion and no logicalSessionTimeoutMinutes: the driver
     * then polls instead of streaming hellos and does not use sessions. */
    if (strcmp(c->name, "hello") == 0)
        BSON_APPEND_BOOL(reply, "isWritablePrimary", true);
    else
        BSON_APPEND_BOOL(reply, "ismaster", true);
    BSON_APPEND_BOOL(reply, "helloOk", true);
    BSON_APPEND_INT32(reply, "maxBsonObjectSize", MW_MAX_BSON);
    BSON_APPEND_INT32(reply, "maxMessageSizeBytes", MW_MAX_MESSAGE);
    BSON_APPEND_INT32(reply, "maxWriteBatchSize", 100000);
    BSON_APPEND_DATE_TIME(reply, "localTime", bson_get_monotonic_time() / 1000);
    BSON_APPEND_INT64(reply, "connectionId", c->conn_id);
    BSON_APPEND_INT32(reply, "minWireVersion", 0);
    BSON_APPEND_INT32(reply, "maxWireVersion", MW_MAX_WIRE);
    BSON_APPEND_BOOL(reply, "readOnly", false);
    return ok(reply);
}

static enum mw_action
cmd_ping(struct cmd_ctx *c, bson_t *reply)
{
    return ok(reply);
}

static enum mw_action
cmd_build_info(struct cmd_ctx *c, bson_t *reply)
{
    bson_t arr;

    BSON_APPEND_UTF8(reply, "version", "5.0.0");
    BSON_APPEND_ARRAY_BEGIN(reply, "versionArray", &arr);
    BSON_APPEND_INT32(&arr, "0", 5);
    BSON_APPEND_INT32(&arr, "1", 0);
    BSON_APPEND_INT32(&arr, "2", 0);
    BSON_APPEND_INT32(&arr, "3", 0);
    bson_append_array_end(reply, &arr);
    BSON_APPEND_UTF8(reply, "gitVersion", "mongo-wire-test-server");
    BSON_APPEND_INT32(reply, "maxBsonObjectSize", MW_MAX_BSON);
    return ok(reply);
}

static enum mw_action
cmd_end_sessions(struct cmd_ctx *c, bson_t *reply)
{
    return ok(reply);
}

/* ---- cursors ---- */

static int
cmp_by_id(const void *a, const void *b, void *store)
{
    const struct mw_store *s = store;

    return mw_value_cmp(&s->docs[*(const size_t *)a].id, &s->docs[*(const size_t *)b].id);
}

static int
cmp_by_id_desc(const void *a, const void *b, void *store)
{
    return -cmp_by_id(a, b, store);
}

/* Candidates for filter in _id order (dir 1 or -1); n set. Lock held. */
static size_t *
candidates(const struct mw_store *s, const bson_t *filter, int dir, size_t *n)
{
    size_t *idx = malloc((s->n + 1) * sizeof *idx);
    bson_t ids = BSON_INITIALIZER;
    bson_iter_t it;

    *n = 0;
    if (idx == NULL)
        goto out;
    if (mw_filter_id_list(filter, &ids)) {
        bson_iter_init(&it, &ids);
        while (bson_iter_next(&it)) {
            long i = mw_store_find_id(s, bson_iter_value(&it));

            if (i >= 0 && *n < s->n)
                idx[(*n)++] = (size_t)i;
        }
    } else {
        for (size_t i = 0; i < s->n; i++) {
            if (mw_filter_match(filter, s->docs[i].doc))
                idx[(*n)++] = i;
        }
    }
    qsort_r(idx, *n, sizeof *idx, dir < 0 ? cmp_by_id_desc : cmp_by_id, (void *)s);
out:
    bson_destroy(&ids);
    return idx;
}

/* Move up to max documents (-1: as many as fit) from cursor into arr. */
static size_t
fill_batch(struct mw_server *srv, struct mw_cursor *cur, long long max, bson_t *arr)
{
    size_t count = 0, bytes = 0;
    char key[16];
    const char *k;

    while (cur->pos < cur->n && cur->left != 0 && (max < 0 || (long long)count < max)) {
        const bson_t *doc = srv->store.docs[cur->idx[cur->pos]].doc;

        if (!mw_filter_match(cur->filter, doc)) {
            cur->pos++;
            continue;
        }
        if (count > 0 && bytes + doc->len > MW_MAX_REPLY_DOCS_BYTES)
            break;
        bson_uint32_to_string((uint32_t)count, &k, key, sizeof key);
        bson_append_document(arr, k, -1, doc);
        bytes += doc->len;
        count++;
        cur->pos++;
        if (cur->left > 0)
            cur->left--;
    }
    return count;
}

static int
cursor_done(const struct mw_cursor *cur)
{
    return cur->pos >= cur->n || cur->left == 0;
}

static void
cursor_free(struct mw_cursor *cur)
{
    if (cur == NULL)
        return;
    free(cur->idx);
    bson_destroy(cur->filter);
    free(cur);
}

/* Unlink and free the cursor with this id; 1 when it existed. Lock held. */
static int
cursor_kill(struct mw_server *srv, int64_t id)
{
    for (struct mw_cursor **pp = &srv->cursors; *pp != NULL; pp = &(*pp)->next) {
        struct mw_cursor *cur = *pp;

        if (cur->id == id) {
            *pp = cur->next;
            cursor_free(cur);
            return 1;
        }
    }
    return 0;
}

/* {cursor: {<batch_key>: [...], id, ns}} with the cursor's next batch. Lock
 * held; cur is linked. Kills the cursor when exhausted or when last. */
static enum mw_action
reply_batch(struct cmd_ctx *c, struct mw_cursor *cur, long long max, int last,
            const char *batch_key, bson_t *reply)
{
    bson_t sub, arr;
    size_t n;
    int64_t id;

    BSON_APPEND_DOCUMENT_BEGIN(reply, "cursor", &sub);
    BSON_APPEND_ARRAY_BEGIN(&sub, batch_key, &arr);
    n = fill_batch(c->srv, cur, max, &arr);
    bson_append_array_end(&sub, &arr);
    id = last || cursor_done(cur) ? 0 : cur->id;
    BSON_APPEND_INT64(&sub, "id", id);
    BSON_APPEND_UTF8(&sub, "ns", c->srv->ns);
    bson_append_document_end(reply, &sub);
    hub_log(HUB_LOG_DEBUG, "mw_batch", HUB_STR("cmd", c->name), HUB_INT("docs", n),
            HUB_INT("cursor", id));
    if (id == 0)
        cursor_kill(c->srv, cur->id);
    if (mw_faults_on_docs(&c->srv->faults, n) == MW_FAULT_CLOSE)
        return MW_ACT_CLOSE;
    return ok(reply);
}

static long long
get_int(const bson_t *cmd, const char *key, long long dflt)
{
    bson_iter_t it;

    if (!bson_iter_init_find(&it, cmd, key) || !BSON_ITER_HOLDS_NUMBER(&it))
        return dflt;
    return (long long)bson_iter_as_int64(&it);
}

static int
get_doc(const bson_t *cmd, const char *key, bson_t *out)
{
    bson_iter_t it;
    const uint8_t *data;
    uint32_t len;

    if (!bson_iter_init_find(&it, cmd, key)) {
        bson_init(out);
        return 0;
    }
    if (!BSON_ITER_HOLDS_DOCUMENT(&it))
        return -1;
    bson_iter_document(&it, &len, &data);
    return bson_init_static(out, data, len) ? 0 : -1;
}

/* sort must be absent, {} or {_id: 1|-1}: that is all hub-readsync needs. */
static int
sort_direction(const bson_t *cmd, int *dir)
{
    bson_t sort;
    bson_iter_t it;

    *dir = 1;
    if (get_doc(cmd, "sort", &sort) != 0)
        return -1;
    if (bson_empty(&sort))
        return 0;
    if (bson_count_keys(&sort) != 1 || !bson_iter_init_find(&it, &sort, "_id") ||
        !BSON_ITER_HOLDS_NUMBER(&it))
        return -1;
    *dir = bson_iter_as_int64(&it) < 0 ? -1 : 1;
    return 0;
}

static int
get_bool(const bson_t *cmd, const char *key)
{
    bson_iter_t it;

    return bson_iter_init_find(&it, cmd, key) && bson_iter_as_bool(&it);
}

static enum mw_action
cmd_find(struct cmd_ctx *c, bson_t *reply)
{
    const bson_t *cmd = c->req->cmd;
    long long batch = get_int(cmd, "batchSize", MW_DEFAULT_FIRST_BATCH);
    long long limit = get_int(cmd, "limit", 0);
    long long skip = get_int(cmd, "skip", 0);
    int single = limit < 0 || get_bool(cmd, "singleBatch");
    struct mw_server *srv = c->srv;
    struct mw_cursor *cur;
    char err[256];
    bson_t filter;
    int dir;
    enum mw_action act;

    if (get_doc(cmd, "filter", &filter) != 0 || mw_filter_check(&filter, err, sizeof err) != 0)
        return fail(reply, 2, "BadValue", "unsupported filter");
    if (sort_direction(cmd, &dir) != 0)
        return fail(reply, 2, "BadValue", "unsupported sort: only {_id: 1|-1}");
    if (batch < 0 || skip < 0)
        return fail(reply, 2, "BadValue", "negative batchSize or skip");
    mw_faults_stall(srv->faults.stall_ms);
    cur = calloc(1, sizeof *cur);
    if (cur == NULL)
        return fail(reply, 1, "InternalError", "out of memory");
    cur->filter = bson_copy(&filter);
    cur->left = limit == 0 ? -1 : llabs(limit);
    pthread_mutex_lock(&srv->lock);
    cur->id = srv->next_cursor_id++;
    cur->next = srv->cursors;
    srv->cursors = cur;
    if (our_collection(c, "find") != NULL)
        cur->idx = candidates(&srv->store, &filter, dir, &cur->n);
    cur->pos = (size_t)skip < cur->n ? (size_t)skip : cur->n;
    act = reply_batch(c, cur, batch, single, "firstBatch", reply);
    pthread_mutex_unlock(&srv->lock);
    return act;
}

static struct mw_cursor *
cursor_find(struct mw_server *srv, int64_t id)
{
    for (struct mw_cursor *cur = srv->cursors; cur != NULL; cur = cur->next) {
        if (cur->id == id)
            return cur;
    }
    return NULL;
}

static enum mw_action
cmd_get_more(struct cmd_ctx *c, bson_t *reply)
{
    const bson_t *cmd = c->req->cmd;
    long long batch = get_int(cmd, "batchSize", 0);
    int64_t id = get_int(cmd, "getMore", 0);
    struct mw_cursor *cur;
    enum mw_action act;

    mw_faults_stall(c->srv->faults.stall_ms);
    pthread_mutex_lock(&c->srv->lock);
    cur = cursor_find(c->srv, id);
    if (cur == NULL)
        act = fail(reply, 43, "CursorNotFound", "cursor id not found");
    else
        act = reply_batch(c, cur, batch > 0 ? batch : -1, 0, "nextBatch", reply);
    pthread_mutex_unlock(&c->srv->lock);
    return act;
}

static void
append_id(bson_t *arr, uint32_t *n, int64_t id)
{
    char key[16];
    const char *k;

    bson_uint32_to_string((*n)++, &k, key, sizeof key);
    bson_append_int64(arr, k, -1, id);
}

static enum mw_action
cmd_kill_cursors(struct cmd_ctx *c, bson_t *reply)
{
    bson_t killed = BSON_INITIALIZER, missing = BSON_INITIALIZER;
    uint32_t nkilled = 0, nmissing = 0;
    bson_iter_t it, arr;

    pthread_mutex_lock(&c->srv->lock);
    if (bson_iter_init_find(&it, c->req->cmd, "cursors") && BSON_ITER_HOLDS_ARRAY(&it) &&
        bson_iter_recurse(&it, &arr)) {
        while (bson_iter_next(&arr)) {
            int64_t id = bson_iter_as_int64(&arr);

            if (cursor_kill(c->srv, id))
                append_id(&killed, &nkilled, id);
            else
                append_id(&missing, &nmissing, id);
        }
    }
    pthread_mutex_unlock(&c->srv->lock);
    BSON_APPEND_ARRAY(reply, "cursorsKilled", &killed);
    BSON_APPEND_ARRAY(reply, "cursorsNotFound", &missing);
    bson_destroy(&killed);
    bson_destroy(&missing);
    return ok(reply);
}

/* ---- writes ---- */

/* Apply one {q, u, multi} statement; counts added to n and modified. Lock
 * held. Returns 0, or -1 with err set for what we do not support. */
static int
apply_statement(struct mw_server *srv, const bson_t *stmt, int ours,
                long long *n, long long *modified, char *err, size_t errlen)
{
    bson_t q, u;
    size_t *idx, count;

    if (get_doc(stmt, "q", &q) != 0 || get_doc(stmt, "u", &u) != 0 ||
        mw_filter_check(&q, err, errlen) != 0 || mw_update_check(&u, err, errlen) != 0)
        return -1;
    if (get_bool(stmt, "upsert")) {
        snprintf(err, errlen, "upsert is not supported");
        return -1;
    }
    if (!ours)
        return 0;
    idx = candidates(&srv->store, &q, 1, &count);
    if (idx == NULL)
        return -1;
    if (!get_bool(stmt, "multi") && count > 1)
        count = 1;
    for (size_t i = 0; i < count; i++) {
        const bson_t *old = srv->store.docs[idx[i]].doc;
        bson_t *doc = mw_update_apply(old, &u);

        (*n)++;
        if (bson_equal(old, doc)) {
            bson_destroy(doc);
            continue;
        }
        mw_store_replace(&srv->store, idx[i], doc);
        (*modified)++;
    }
    free(idx);
    return 0;
}

static int
apply_updates(struct cmd_ctx *c, long long *n, long long *modified, char *err,
              size_t errlen)
{
    bson_iter_t it, arr;
    int ours = our_collection(c, "update") != NULL;

    if (!bson_iter_init_find(&it, c->req->cmd, "updates") || !BSON_ITER_HOLDS_ARRAY(&it)) {
        snprintf(err, errlen, "update without updates");
        return -1;
    }
    bson_iter_recurse(&it, &arr);
    while (bson_iter_next(&arr)) {
        const uint8_t *data;
        uint32_t len;
        bson_t stmt;

        if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
            return -1;
        bson_iter_document(&arr, &len, &data);
        if (!bson_init_static(&stmt, data, len) ||
            apply_statement(c->srv, &stmt, ours, n, modified, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static enum mw_action
cmd_update(struct cmd_ctx *c, bson_t *reply)
{
    struct mw_server *srv = c->srv;
    long long n = 0, modified = 0;
    enum mw_fault_action fault;
    char err[256] = "bad update";
    int rc;

    pthread_mutex_lock(&srv->lock);
    fault = mw_faults_on_update(&srv->faults);
    if (fault == MW_FAULT_CLOSE || fault == MW_FAULT_FAIL) {
        pthread_mutex_unlock(&srv->lock);
        if (fault == MW_FAULT_CLOSE)
            return MW_ACT_CLOSE;
        return fail(reply, 1, "InternalError", "injected update failure");
    }
    rc = apply_updates(c, &n, &modified, err, sizeof err);
    if (srv->dump_path != NULL && srv->dump_each_write && modified > 0)
        mw_store_dump(&srv->store, srv->dump_path);
    if (srv->status_path != NULL && modified > 0)
        mw_store_dump_status(&srv->store, srv->status_path);
    pthread_mutex_unlock(&srv->lock);
    hub_log(HUB_LOG_INFO, "mw_update", HUB_INT("n", n), HUB_INT("modified", modified),
            HUB_INT("conn", c->conn_id));
    if (rc != 0)
        return fail(reply, 9, "FailedToParse", err);
    if (fault == MW_FAULT_CLOSE_AFTER)
        return MW_ACT_CLOSE;
    BSON_APPEND_INT32(reply, "n", (int32_t)n);
    BSON_APPEND_INT32(reply, "nModified", (int32_t)modified);
    return ok(reply);
}

/* ---- dispatch ---- */

static const struct {
    const char *name;
    enum mw_action (*fn)(struct cmd_ctx *, bson_t *);
} commands[] = {
    { "buildInfo",   cmd_build_info },
    { "buildinfo",   cmd_build_info },
    { "endSessions", cmd_end_sessions },
    { "find",        cmd_find },
    { "getMore",     cmd_get_more },
    { "hello",       cmd_hello },
    { "isMaster",    cmd_hello },
    { "ismaster",    cmd_hello },
    { "killCursors", cmd_kill_cursors },
    { "ping",        cmd_ping },
    { "update",      cmd_update },
};

enum mw_action
mw_command_run(struct mw_server *srv, int64_t conn_id, const struct mw_request *req,
               bson_t *reply)
{
    struct cmd_ctx c = { srv, req, conn_id, "" };
    bson_iter_t it;
    char msg[256];

    bson_init(reply);
    if (bson_iter_init(&it, req->cmd) && bson_iter_next(&it))
        c.name = bson_iter_key(&it);
    hub_log(HUB_LOG_DEBUG, "mw_command", HUB_STR("cmd", c.name), HUB_STR("db", req->db),
            HUB_INT("conn", conn_id));
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, c.name) == 0)
            return commands[i].fn(&c, reply);
    }
    snprintf(msg, sizeof msg, "no such command: '%.100s'", c.name);
    return fail(reply, 59, "CommandNotFound", msg);
}

void
mw_cursors_release(struct mw_server *srv)
{
    while (srv->cursors != NULL)
        cursor_kill(srv, srv->cursors->id);
}
