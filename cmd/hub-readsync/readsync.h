/*
 * readsync.h: hub-readsync's parts and the contracts between them.
 *
 *   main.c          flags -> readsync_run -> exit code
 *   opts.c          the option table (flags and HUB_* twins)
 *   map.c           one document -> one COPY text row, or a reject reason
 *   json.c          payload/meta: relaxed Extended JSON straight into COPY text
 *   batch.c         the rows, _ids and rejects of one batch
 *   source_mongo.c  MongoDB through mongo-c-driver: read, mark processed
 *   source_file.c   Extended-JSON lines from a file or stdin
 *   ejson.c         the fast path from a plain line to BSON (else libbson)
 *   redact.c        keeping the MongoDB URI's secrets out of messages
 *   store_pg.c      COPY into staging, INSERT ... ON CONFLICT, history row
 *   run.c           the batch loop, signals, progress, summary
 *
 * Exactly once: a batch is committed to PostgreSQL before its documents are
 * marked in MongoDB, and the insert ignores _ids already present, so a kill
 * between any two steps leaves a state the next run converges from.
 */
#ifndef READSYNC_H
#define READSYNC_H

#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>
#include <libpq-fe.h>

#include "buf.h"

#define READSYNC_DEFAULT_DB         "reading-analytics"
#define READSYNC_DEFAULT_COLLECTION "articles"
#define READSYNC_DEFAULT_BATCH      1000
#define READSYNC_MAX_BATCH          100000
#define READSYNC_PROGRESS_SECONDS   10
/* A batch is cut early when its COPY text reaches this size. */
#define READSYNC_MAX_BATCH_BYTES    (64u * 1024 * 1024)
/* One input line of --from (a BSON document is at most 16 MiB; its JSON
 * can be larger). */
#define READSYNC_MAX_LINE           (64u * 1024 * 1024)
#define READSYNC_MAX_REASON         256

struct readsync_opts {
    const char *from;              /* NULL: MongoDB; "-": stdin; else a file */
    const char *db;
    const char *collection;
    unsigned long long batch_size;
    unsigned long long limit;      /* 0: no limit */
    unsigned long long progress_seconds;
    int dry_run;
};

/* ---- opts.c ---- */

/* Returns 0, HUB_OPT_DONE (help/version printed) or EX_USAGE. */
int readsync_parse_args(struct readsync_opts *o, int argc, char **argv);

/* ---- map.c: documents to rows ---- */

/*
 * Map one document to one COPY text line (mongo_id, event_timestamp, source,
 * event_type, payload, meta, then '\n') appended to out. Returns 0, or -1
 * with a reason ("timestamp: ...") in reason and out unchanged: the document
 * is rejected. Returns -2 when out could not grow (out is released).
 */
int readsync_map_doc(const bson_t *doc, struct hub_buf *out, char *reason,
                     size_t reasonlen);

/* The mongo_id text of an _id: ObjectId -> 24 hex digits, string -> itself,
 * anything else -> its canonical Extended JSON as libbson writes it
 * (int32 42 -> { "$numberInt" : "42" }), so _ids of different types never
 * share a mongo_id. Returns 0, -1 with reason set, or -2 when out could not
 * grow. */
int readsync_map_id(const bson_value_t *id, struct hub_buf *out, char *reason,
                    size_t reasonlen);

/* Parse ISO-8601 ("2024-05-01", "2024-05-01T10:00:00Z", fractions,
 * "+02:00"/"+0200"/"+02" offsets, ' ' for 'T'; no offset means UTC) into
 * microseconds since the epoch. Returns 0 or -1. */
int readsync_parse_iso8601(const char *s, int64_t *usec);

/* An epoch number as microseconds: |v| < 1e11 is seconds (up to the year
 * 5138), otherwise milliseconds (from 1973-03-03). Returns 0 or -1 (not
 * finite, or outside the years 1..9999). */
int readsync_epoch_to_usec(double v, int64_t *usec);

/* "YYYY-MM-DD HH:MM:SS.ffffff+00" for PostgreSQL. Returns 0, or -1 when the
 * year is outside 1..9999. out must hold 32 bytes. */
int readsync_format_usec(int64_t usec, char *out, size_t outlen);

/* Append s (n bytes) in COPY text escaping. Returns a hub_buf result. */
int readsync_copy_escape(struct hub_buf *out, const char *s, size_t n);

/* ---- json.c: payload and meta ---- */

enum readsync_json_result {
    READSYNC_JSON_OK = 0,
    READSYNC_JSON_NOMEM = -2,     /* out could not grow (and was released) */
    READSYNC_JSON_NOT_UTF8 = 1,   /* a string or key is not UTF-8 */
    READSYNC_JSON_NUL,            /* a string holds NUL: jsonb cannot */
    READSYNC_JSON_TOO_DEEP,       /* documents nested over 200 deep */
    READSYNC_JSON_CORRUPT,        /* the BSON itself is broken */
};

/*
 * Append the value at it as relaxed Extended JSON, already escaped for COPY
 * text (backslashes doubled; JSON never holds a raw tab or newline), to out.
 * The same mapping as libbson's bson_as_relaxed_extended_json() without the
 * optional spaces, except doubles, which get their shortest round-trip form
 * (see readsync_json_format_double). A document is written whole; another
 * value as itself ("text", [1, 2], 5). Returns READSYNC_JSON_OK, a positive
 * refusal with out unchanged, or READSYNC_JSON_NOMEM.
 */
int readsync_json_write(const bson_iter_t *it, struct hub_buf *out);

/* A double's JSON text into out: the fewest significant digits (15 to 17)
 * that read back as v, ".0" added when that looks like an integer ("3.0",
 * "-0.0"), "NaN"/"Infinity"/"-Infinity" for the rest (the caller wraps those
 * in $numberDouble). Returns the length, or -1 when outlen is too small. */
int readsync_json_format_double(double v, char *out, size_t outlen);

/* ---- ejson.c: --from's fast path ---- */

/*
 * Parse one Extended-JSON line of the plain shape (see ejson.c) into doc
 * (an initialized bson_t, reinitialized here and reusable). Returns 1 with
 * doc set exactly as bson_init_from_json() would set it, or 0 when the line
 * is not of that shape (not necessarily bad): then ask libbson.
 */
int readsync_ejson_fast(const char *line, size_t len, bson_t *doc);

/* ---- batch.c ---- */

struct readsync_reject {
    bson_value_t id;          /* owned; BSON_TYPE_EOD when there was none */
    char reason[READSYNC_MAX_REASON];
};

struct readsync_batch {
    struct hub_buf copy;      /* the mapped rows in COPY text */
    size_t *row_end;          /* offset in copy just past row i */
    unsigned char *row_bad;   /* row i was refused by PostgreSQL */
    bson_t *ids;              /* owned array: _id of row i under key "i" (a
                                 pointer: bson_t wants 128-byte alignment) */
    size_t nrows, cap;
    struct readsync_reject *rejects;
    size_t nrejects, rcap;
    size_t read;              /* documents (and unreadable lines) taken */
};

void readsync_batch_init(struct readsync_batch *b);
void readsync_batch_reset(struct readsync_batch *b);
void readsync_batch_release(struct readsync_batch *b);
/* Map doc into the batch: a row, or a reject. Returns 0, or EX_OSERR when
 * out of memory (logged). */
int readsync_batch_add(struct readsync_batch *b, const bson_t *doc);
/* Record an input that was no document at all (an unreadable line). */
int readsync_batch_add_unreadable(struct readsync_batch *b, const char *reason);
/* Move row i to the rejects with reason (used when PostgreSQL refuses it):
 * it stays in copy and ids but row_bad[i] is set. */
int readsync_batch_reject_row(struct readsync_batch *b, size_t i, const char *reason);
/* The rows written: nrows minus those refused. */
size_t readsync_batch_good_rows(const struct readsync_batch *b);

/* ---- redact.c ---- */

struct readsync_redactor {
    char *needles[6];         /* owned: uri, userinfo, user, password, and
                                 the last two percent-decoded */
};

void readsync_redactor_init(struct readsync_redactor *r, const char *uri);
void readsync_redactor_release(struct readsync_redactor *r);
/* Copy msg into out with every secret replaced by "***". */
int readsync_redact(const struct readsync_redactor *r, const char *msg,
                    struct hub_buf *out);

/* ---- sources ---- */

struct readsync_source;

struct readsync_source_ops {
    const char *kind;         /* "mongodb" or "file" */
    /* 0 with *doc set (borrowed until the next call), 0 with *doc NULL at
     * the end (for the file source also when a stop was asked while it
     * waited for input), 0 with *doc NULL and *bad set for an unreadable
     * input item, or an exit code (logged). */
    int (*next)(struct readsync_source *s, const bson_t **doc, const char **bad);
    /* Mark the batch's rows processed and its rejects rejected. Called
     * from the marking thread while next() runs on the reading thread. */
    int (*mark)(struct readsync_source *s, const struct readsync_batch *b);
    void (*close)(struct readsync_source *s);
};

struct readsync_source {
    const struct readsync_source_ops *ops;
    void *impl;
    char where[256];          /* "host:port" or a file name, for messages */
};

/* Open MongoDB (URI from the mongo_uri credential). 0 or an exit code. */
int readsync_source_mongo_open(struct readsync_source *s, const struct readsync_opts *o);
/* Open --from FILE or "-". While it waits for input it also waits for
 * stop_fd (borrowed; -1 for none) to become readable, and then ends the
 * input early. 0, EX_DATAERR or EX_OSERR (logged). */
int readsync_source_file_open(struct readsync_source *s, const char *path, int stop_fd);

/* ---- store_pg.c ---- */

struct readsync_pg {
    PGconn *conn;
    int direct;               /* try COPY straight into the table first */
};

/* Connect and create the session's staging table. 0 or an exit code. */
int readsync_pg_open(struct readsync_pg *pg);
void readsync_pg_close(struct readsync_pg *pg);
/*
 * One transaction: COPY the batch's rows into staging, INSERT ... SELECT ...
 * ON CONFLICT (mongo_id) DO NOTHING, COMMIT; or, while batches hold only
 * new documents, one COPY straight into the table, falling back to the
 * former when it fails on a data error. *inserted gets the new rows.
 * A row PostgreSQL refuses (a data error) is moved to the batch's rejects
 * and the rest are written row by row, so one bad row never blocks a batch.
 * Returns 0 or an exit code (logged); nothing is committed on failure.
 */
int readsync_pg_write(struct readsync_pg *pg, struct readsync_batch *b, long long *inserted);

struct readsync_totals {
    long long read, inserted, processed, rejected, batches;
};

/* The run's history row. Returns 0 or an exit code (logged). */
int readsync_pg_history(struct readsync_pg *pg, int64_t start_ns, int64_t end_ns,
                        const char *status, const struct readsync_totals *t,
                        const char *error);

/* ---- run.c ---- */

int readsync_run(const struct readsync_opts *o);

#endif
