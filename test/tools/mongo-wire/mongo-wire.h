/*
 * mongo-wire.h: a MongoDB wire-protocol test server, small enough to read.
 *
 * It speaks just enough of the protocol for the real mongo-c-driver (1.23)
 * to run hub-readsync against it: the legacy OP_QUERY isMaster handshake
 * (answered with OP_REPLY), then OP_MSG for hello/isMaster, ping, buildInfo,
 * find, getMore, killCursors, update and endSessions. It keeps ONE
 * collection in memory (loaded from Extended-JSON lines), can dump it back
 * for assertions, and can inject faults. It never talks beyond loopback.
 *
 * One concern a file:
 *   main.c      options, listening socket, signals, one thread a connection
 *   wire.c      message framing: OP_QUERY/OP_MSG in, OP_REPLY/OP_MSG out
 *   commands.c  the command table and the replies
 *   store.c     the collection: documents, _id index, load and dump
 *   filter.c    query filters and $set updates
 *   faults.c    the injected faults (close, fail, stall)
 *
 * Every piece of shared state lives in struct mw_server and is touched only
 * with mw_server.lock held.
 *
 * No struct here holds a bson_t by value: libbson declares bson_t with
 * 128-byte alignment, which malloc does not give, so documents a struct
 * keeps are bson_t * from bson_new()/bson_copy(), owned by that struct.
 */
#ifndef MONGO_WIRE_H
#define MONGO_WIRE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

/* Opcodes and OP_MSG flag bits (MongoDB wire protocol). */
#define MW_OP_REPLY 1
#define MW_OP_QUERY 2004
#define MW_OP_MSG   2013
#define MW_MSG_CHECKSUM_PRESENT 0x1u
#define MW_MSG_MORE_TO_COME     0x2u

/* Limits: what we advertise in hello and enforce on input. */
#define MW_MAX_MESSAGE   48000000
#define MW_MAX_BSON      (16 * 1024 * 1024)
#define MW_MAX_WIRE      13   /* MongoDB 5.0: OP_MSG, no streaming hello */
#define MW_DEFAULT_FIRST_BATCH 101

/* ---- store.c: the collection ---- */

struct mw_doc {
    bson_t *doc;        /* owned */
    bson_value_t id;    /* owned copy of doc's _id */
};

struct mw_store {
    struct mw_doc *docs;    /* insertion order; never shrinks */
    size_t n, cap;
    size_t *slots;          /* open-addressing _id index: doc index + 1, 0 = empty */
    size_t nslots;          /* a power of two, at least 2 * n */
};

void mw_store_init(struct mw_store *s);
void mw_store_release(struct mw_store *s);
/* Load Extended-JSON lines (blank lines skipped). Returns 0 or -1 (logged). */
int mw_store_load(struct mw_store *s, const char *path);
/* Take doc (owned, even on failure). A missing _id gets an ObjectId.
 * Returns 0, or -1 on a duplicate _id or no memory (logged). */
int mw_store_add(struct mw_store *s, bson_t *doc);
/* Index of the document with this _id, or -1. */
long mw_store_find_id(const struct mw_store *s, const bson_value_t *id);
/* Replace document i (takes doc; its _id must be unchanged). */
void mw_store_replace(struct mw_store *s, size_t i, bson_t *doc);
/* Write canonical Extended-JSON lines to path, atomically (tmp + rename). */
int mw_store_dump(const struct mw_store *s, const char *path);

/* Write "<_id>\t<status>" lines (ObjectIds as 24 hex digits, strings as
 * themselves, other _ids as canonical Extended JSON), atomically. Cheap
 * enough to rewrite after every update. */
int mw_store_dump_status(const struct mw_store *s, const char *path);

/* BSON comparison order (MongoDB's), enough for _id sorting and equality. */
int mw_value_cmp(const bson_value_t *a, const bson_value_t *b);

/* ---- filter.c: queries and updates ---- */

/* 0 when the filter uses only what mw_filter_match understands, else -1
 * with a reason in err. Supported: {field: value}, {field: {$eq|$ne|$in|
 * $nin|$exists: ...}}, top-level or dotted fields, ANDed. */
int mw_filter_check(const bson_t *filter, char *err, size_t errlen);
/* 1 when doc matches (filter already checked), else 0. */
int mw_filter_match(const bson_t *filter, const bson_t *doc);
/* When the filter is exactly {_id: V} or {_id: {$in: [...]}}, fill ids (an
 * array-like document of values) and return 1; else 0. */
int mw_filter_id_list(const bson_t *filter, bson_t *ids);
/* 0 when update is {$set: {...}} with plain, non-_id keys; else -1. */
int mw_update_check(const bson_t *update, char *err, size_t errlen);
/* New document: doc with update's $set applied (caller owns it). */
bson_t *mw_update_apply(const bson_t *doc, const bson_t *update);

/* ---- faults.c ---- */

struct mw_faults {
    long long close_after_docs;   /* -1 off; close instead of a reply passing it */
    long long docs_returned;
    long long close_on_update;    /* -1 off; Nth update: close before applying */
    long long close_after_update; /* -1 off; Nth update: apply, then close */
    long long fail_updates;       /* the first N updates answer ok:0 */
    long long updates_seen;
    long long stall_ms;           /* sleep before each find/getMore reply */
};

enum mw_fault_action {
    MW_FAULT_NONE,
    MW_FAULT_CLOSE,
    MW_FAULT_FAIL,
    MW_FAULT_CLOSE_AFTER,
};

void mw_faults_init(struct mw_faults *f);
/* Lock held. A reply with n more documents is about to go out. */
enum mw_fault_action mw_faults_on_docs(struct mw_faults *f, size_t n);
/* Lock held. An update command arrived. */
enum mw_fault_action mw_faults_on_update(struct mw_faults *f);
/* Lock NOT held: sleeps. */
void mw_faults_stall(long long ms);

/* ---- the server ---- */

struct mw_cursor {
    int64_t id;
    size_t *idx;            /* candidate documents, in sort order */
    size_t n, pos;
    long long left;         /* documents the limit still allows; -1 none */
    bson_t *filter;         /* owned; re-checked on getMore, as mongod does */
    struct mw_cursor *next;
};

struct mw_server {
    pthread_mutex_t lock;
    struct mw_store store;
    struct mw_cursor *cursors;
    struct mw_faults faults;
    char ns[256];           /* "db.collection" we hold; others are empty */
    const char *dump_path;  /* NULL: no dump */
    int dump_each_write;
    const char *status_path;  /* NULL: none; else rewritten after each write */
    int64_t next_cursor_id;
    int64_t next_conn_id;
};

/* ---- wire.c: framing ---- */

struct mw_request {
    int32_t request_id;
    int32_t opcode;         /* MW_OP_QUERY or MW_OP_MSG */
    uint32_t flags;         /* OP_MSG flag bits */
    bson_t *cmd;            /* owned: kind-0 body with kind-1 sequences as arrays */
    char db[128];           /* $db, or the OP_QUERY namespace's database */
};

/* Read one request. Returns 0, 1 on clean EOF, -1 on a broken or
 * unsupported message (logged). req->cmd is set only on 0, and the caller
 * destroys it. */
int mw_wire_read(int fd, struct mw_request *req);
/* Send reply as OP_REPLY (to an OP_QUERY) or OP_MSG. Returns 0 or -1. */
int mw_wire_reply(int fd, const struct mw_request *req, const bson_t *reply,
                  int32_t *next_id);

/* ---- commands.c ---- */

enum mw_action {
    MW_ACT_REPLY,       /* send the reply */
    MW_ACT_CLOSE,       /* drop the connection without a reply */
};

/* Run one command; reply is initialised by the callee. */
enum mw_action mw_command_run(struct mw_server *srv, int64_t conn_id,
                              const struct mw_request *req, bson_t *reply);
/* Free every open cursor (at exit, no connection left). */
void mw_cursors_release(struct mw_server *srv);

#endif
