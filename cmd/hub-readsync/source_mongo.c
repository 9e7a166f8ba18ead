/*
 * source_mongo.c: read {status: "ingested"} documents in _id order through
 * mongo-c-driver, and mark each batch afterwards: one updateMany that sets
 * status "processed" and processed_at on exactly the batch's written _ids,
 * and one bulk write that sets status "rejected", reject_reason and
 * rejected_at on its rejects.
 *
 * The URI comes from the mongo_uri credential and never reaches a message:
 * errors and driver log lines go through the redactor and name only the
 * host. Owns the driver's client, collection, cursor and log handler.
 */
#include <string.h>

#include <mongoc/mongoc.h>

#include "hub.h"
#include "log.h"
#include "readsync.h"
#include "secret.h"
#include "timefmt.h"

struct mongo_source {
    mongoc_client_t *client;  /* reads: used only by the reading thread */
    mongoc_client_t *marker;  /* marks: used only by the marking thread */
    mongoc_collection_t *coll;        /* on client */
    mongoc_collection_t *mark_coll;   /* on marker */
    mongoc_cursor_t *cursor;
    struct readsync_redactor redactor;
    int inited;               /* mongoc_init() was called */
};

/* Driver log lines, redacted, as our own WARN/DEBUG lines. */
static void
driver_log(mongoc_log_level_t level, const char *domain, const char *message, void *arg)
{
    struct hub_buf text = HUB_BUF_INIT(HUB_MAX_LOG_FIELD);
    enum hub_log_level ours = level <= MONGOC_LOG_LEVEL_WARNING ? HUB_LOG_WARN : HUB_LOG_DEBUG;

    if (!hub_log_enabled(ours) || readsync_redact(arg, message, &text) != 0)
        goto out;
    hub_log(ours, "mongoc_log", HUB_STR("domain", domain), HUB_STR("message", hub_buf_str(&text)));
out:
    hub_buf_release(&text);
}

/* What a driver error means for the operator. */
static int
error_code(const bson_error_t *err)
{
    if (err->domain == MONGOC_ERROR_CLIENT && err->code == MONGOC_ERROR_CLIENT_AUTHENTICATE)
        return EX_CONFIG;
    if (err->domain == MONGOC_ERROR_STREAM || err->domain == MONGOC_ERROR_SERVER_SELECTION ||
        err->domain == MONGOC_ERROR_PROTOCOL)
        return EX_UNAVAILABLE;
    return EX_TEMPFAIL;
}

/* Log one error line naming the host and the step, never the URI. */
static int
fail(struct readsync_source *s, const char *step, const bson_error_t *err, int code)
{
    struct mongo_source *ms = s->impl;
    struct hub_buf text = HUB_BUF_INIT(HUB_MAX_LOG_FIELD);
    const char *event = code == EX_UNAVAILABLE ? "mongodb_unreachable" : "mongodb_failed";

    if (readsync_redact(&ms->redactor, err->message, &text) != 0)
        hub_buf_release(&text);
    hub_log(HUB_LOG_ERROR, event, HUB_STR("host", s->where), HUB_STR("step", step),
            HUB_STR("error", text.len > 0 ? hub_buf_str(&text) : "(message withheld)"));
    hub_buf_release(&text);
    return code;
}

static int
mongo_next(struct readsync_source *s, const bson_t **doc, const char **bad)
{
    struct mongo_source *ms = s->impl;
    bson_error_t err;

    *bad = NULL;
    if (mongoc_cursor_next(ms->cursor, doc))
        return 0;
    *doc = NULL;
    if (mongoc_cursor_error(ms->cursor, &err))
        return fail(s, "read", &err, error_code(&err));
    return 0;
}

/* {_id: {$in: [the batch's written rows]}} */
static void
written_ids(const struct readsync_batch *b, bson_t *selector)
{
    bson_t in, arr;
    bson_iter_t it;
    uint32_t n = 0;
    char key[16];
    const char *k;

    BSON_APPEND_DOCUMENT_BEGIN(selector, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    bson_iter_init(&it, b->ids);
    for (size_t i = 0; bson_iter_next(&it); i++) {
        if (b->row_bad[i])
            continue;
        bson_uint32_to_string(n++, &k, key, sizeof key);
        bson_append_value(&arr, k, -1, bson_iter_value(&it));
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(selector, &in);
}

static int
mark_processed(struct readsync_source *s, const struct readsync_batch *b, int64_t now_ms)
{
    struct mongo_source *ms = s->impl;
    size_t good = readsync_batch_good_rows(b);
    bson_t selector = BSON_INITIALIZER, reply;
    bson_t *update;
    bson_error_t err;
    bson_iter_t it;
    int rc = 0;

    if (good == 0)
        return 0;
    written_ids(b, &selector);
    update = BCON_NEW("$set", "{", "status", BCON_UTF8("processed"),
                      "processed_at", BCON_DATE_TIME(now_ms), "}");
    if (!mongoc_collection_update_many(ms->mark_coll, &selector, update, NULL, &reply, &err)) {
        rc = fail(s, "mark_processed", &err, error_code(&err));
    } else if (bson_iter_init_find(&it, &reply, "matchedCount") &&
               bson_iter_as_int64(&it) != (int64_t)good) {
        /* Someone else changed them meanwhile; they are in PostgreSQL. */
        hub_log(HUB_LOG_WARN, "readsync_mark_mismatch", HUB_INT("expected", good),
                HUB_INT("matched", bson_iter_as_int64(&it)));
    }
    bson_destroy(&reply);
    bson_destroy(update);
    bson_destroy(&selector);
    return rc;
}

static int
mark_rejected(struct readsync_source *s, const struct readsync_batch *b, int64_t now_ms)
{
    struct mongo_source *ms = s->impl;
    mongoc_bulk_operation_t *bulk = NULL;
    bson_error_t err;
    bson_t reply;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < b->nrejects; i++) {
        const struct readsync_reject *r = &b->rejects[i];
        bson_t selector = BSON_INITIALIZER, *update;

        if (r->id.value_type == BSON_TYPE_EOD)
            continue;
        if (bulk == NULL)
            bulk = mongoc_collection_create_bulk_operation_with_opts(ms->mark_coll, NULL);
        bson_append_value(&selector, "_id", 3, &r->id);
        update = BCON_NEW("$set", "{", "status", BCON_UTF8("rejected"), "reject_reason",
                          BCON_UTF8(r->reason), "rejected_at", BCON_DATE_TIME(now_ms), "}");
        if (!mongoc_bulk_operation_update_one_with_opts(bulk, &selector, update, NULL, &err))
            rc = fail(s, "mark_rejected", &err, EX_SOFTWARE);
        bson_destroy(update);
        bson_destroy(&selector);
    }
    if (rc == 0 && bulk != NULL) {
        /* one update command carrying one statement a reject */
        if (!mongoc_bulk_operation_execute(bulk, &reply, &err))
            rc = fail(s, "mark_rejected", &err, error_code(&err));
        bson_destroy(&reply);
    }
    mongoc_bulk_operation_destroy(bulk);
    return rc;
}

static int
mongo_mark(struct readsync_source *s, const struct readsync_batch *b)
{
    int64_t now_ms = hub_time_now_ns() / 1000000;
    int rc = mark_processed(s, b, now_ms);

    if (rc == 0)
        rc = mark_rejected(s, b, now_ms);
    return rc;
}

static void
mongo_close(struct readsync_source *s)
{
    struct mongo_source *ms = s->impl;

    if (ms == NULL)
        return;
    mongoc_cursor_destroy(ms->cursor);
    mongoc_collection_destroy(ms->coll);
    mongoc_collection_destroy(ms->mark_coll);
    mongoc_client_destroy(ms->client);
    mongoc_client_destroy(ms->marker);
    if (ms->inited) {
        mongoc_log_set_handler(NULL, NULL);
        mongoc_cleanup();
    }
    readsync_redactor_release(&ms->redactor);
    free(ms);
    s->impl = NULL;
}

static const struct readsync_source_ops mongo_ops = {
    "mongodb", mongo_next, mongo_mark, mongo_close,
};

/* s->where: "host:port[,host:port...]" or the SRV name; never userinfo. */
static void
describe_hosts(struct readsync_source *s, const mongoc_uri_t *uri)
{
    struct hub_buf where = HUB_BUF_INIT(sizeof s->where - 1);
    const char *srv = mongoc_uri_get_srv_hostname(uri);
    int rc = HUB_BUF_OK;

    if (srv != NULL)
        rc = hub_buf_appends(&where, srv);
    for (const mongoc_host_list_t *h = mongoc_uri_get_hosts(uri); srv == NULL && h != NULL;
         h = h->next) {
        if (rc == HUB_BUF_OK && where.len > 0)
            rc = hub_buf_appendc(&where, ',');
        if (rc == HUB_BUF_OK)
            rc = hub_buf_appends(&where, h->host_and_port);
    }
    memcpy(s->where, rc == HUB_BUF_OK ? hub_buf_str(&where) : "?", rc == HUB_BUF_OK ? where.len + 1 : 2);
    hub_buf_release(&where);
}

static int
open_client(struct readsync_source *s, struct mongo_source *ms, const char *uri_text)
{
    mongoc_uri_t *uri;
    bson_error_t err;

    uri = mongoc_uri_new_with_error(uri_text, &err);
    if (uri == NULL) {
        fail(s, "parse_uri", &err, EX_CONFIG);
        return hub_fail(EX_CONFIG, "readsync_mongo_uri_invalid",
                        HUB_STR("fix", "check the mongo_uri credential (mongodb://host:port/)"));
    }
    describe_hosts(s, uri);
    if (mongoc_uri_get_appname(uri) == NULL)
        mongoc_uri_set_appname(uri, "hub-readsync");
    /* Two clients: a mongoc_client_t is not thread-safe, and the reading
     * thread reads ahead while the marking thread marks. */
    ms->client = mongoc_client_new_from_uri_with_error(uri, &err);
    if (ms->client != NULL)
        ms->marker = mongoc_client_new_from_uri_with_error(uri, &err);
    mongoc_uri_destroy(uri);
    if (ms->client == NULL || ms->marker == NULL)
        return fail(s, "connect", &err, EX_CONFIG);
    mongoc_client_set_error_api(ms->client, MONGOC_ERROR_API_VERSION_2);
    mongoc_client_set_error_api(ms->marker, MONGOC_ERROR_API_VERSION_2);
    return 0;
}

/* A ping first: "unreachable" is then a clear 69 before any work. */
static int
ping(struct readsync_source *s, struct mongo_source *ms)
{
    bson_t *cmd = BCON_NEW("ping", BCON_INT32(1));
    bson_t reply;
    bson_error_t err;
    int rc = 0;

    if (!mongoc_client_command_simple(ms->client, "admin", cmd, NULL, &reply, &err))
        rc = fail(s, "connect", &err, error_code(&err));
    bson_destroy(&reply);
    bson_destroy(cmd);
    return rc;
}

static void
open_cursor(struct mongo_source *ms, const struct readsync_opts *o)
{
    bson_t *filter = BCON_NEW("status", BCON_UTF8("ingested"));
    bson_t *opts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}",
                            "batchSize", BCON_INT64((int64_t)o->batch_size));

    if (o->limit > 0)
        BSON_APPEND_INT64(opts, "limit", (int64_t)o->limit);
    ms->coll = mongoc_client_get_collection(ms->client, o->db, o->collection);
    ms->mark_coll = mongoc_client_get_collection(ms->marker, o->db, o->collection);
    ms->cursor = mongoc_collection_find_with_opts(ms->coll, filter, opts, NULL);
    bson_destroy(opts);
    bson_destroy(filter);
}

int
readsync_source_mongo_open(struct readsync_source *s, const struct readsync_opts *o)
{
    struct hub_buf uri = HUB_BUF_INIT(HUB_MAX_SECRET);
    struct mongo_source *ms;
    const char *from = NULL;
    int rc;

    memset(s, 0, sizeof *s);
    s->ops = &mongo_ops;
    memcpy(s->where, "?", 2);
    rc = hub_secret_get("mongo_uri", &uri, &from);
    if (rc != 0)
        return rc;
    if (from == NULL)
        return hub_fail(EX_CONFIG, "readsync_no_mongo_uri",
                        HUB_STR("fix", "set the mongo_uri credential (LoadCredential=mongo_uri, "
                                       "HUB_MONGO_URI_FILE or HUB_MONGO_URI), or use --from"));
    ms = calloc(1, sizeof *ms);
    if (ms == NULL) {
        hub_secret_wipe(&uri);
        return hub_fail(EX_OSERR, "readsync_out_of_memory");
    }
    s->impl = ms;
    readsync_redactor_init(&ms->redactor, hub_buf_str(&uri));
    mongoc_init();
    ms->inited = 1;
    mongoc_log_set_handler(driver_log, &ms->redactor);
    rc = open_client(s, ms, hub_buf_str(&uri));
    hub_secret_wipe(&uri);
    if (rc == 0)
        rc = ping(s, ms);
    if (rc == 0)
        open_cursor(ms, o);
    return rc;
}
