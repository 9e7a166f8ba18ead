/*
 * store_pg.c: hub-readsync's PostgreSQL side. Each batch is one
 * transaction: COPY the rows into a session-local staging table, move them
 * with INSERT ... SELECT ... ON CONFLICT (mongo_id) DO NOTHING, COMMIT. The
 * staging table is a temporary table emptied at every commit, so nothing of
 * a failed or killed batch survives and a rerun may send the same rows
 * again. Also writes the run's reading_sync_history row. Owns the
 * connection.
 *
 * The fast way first: a batch of new documents (the usual case) is COPYed
 * straight into reading_analytics, which costs PostgreSQL what psql's \copy
 * costs, about 20% less than staging and moving. If any of its rows is
 * already there (a rerun after a crash, a concurrent run) or a value is
 * refused, that COPY fails as a whole, nothing of it is committed, and the
 * batch goes the staging way above; so do the following batches until one
 * meets no duplicate again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "log.h"
#include "opt.h"
#include "pg.h"
#include "readsync.h"
#include "timefmt.h"

#define COPY_CHUNK (1024u * 1024)

static const char stage_sql[] =
    "CREATE TEMP TABLE readsync_stage ("
    "mongo_id text, event_timestamp timestamptz, source text, event_type text, "
    "payload text, meta text) ON COMMIT DELETE ROWS";

static const char direct_sql[] =
    "COPY reading_analytics "
    "(mongo_id, event_timestamp, source, event_type, payload, meta) FROM STDIN";

static const char move_sql[] =
    "INSERT INTO reading_analytics "
    "(mongo_id, event_timestamp, source, event_type, payload, meta) "
    "SELECT mongo_id, event_timestamp, source, event_type, payload::jsonb, meta::jsonb "
    "FROM readsync_stage ON CONFLICT (mongo_id) DO NOTHING";

int
readsync_pg_open(struct readsync_pg *pg)
{
    int rc = hub_pg_connect(&pg->conn);

    pg->direct = 1;
    if (rc == 0)
        rc = hub_pg_exec(pg->conn, "create_staging", stage_sql, 0, NULL, NULL);
    return rc;
}

void
readsync_pg_close(struct readsync_pg *pg)
{
    if (pg->conn != NULL)
        PQfinish(pg->conn);
    pg->conn = NULL;
}

static int
exec(struct readsync_pg *pg, const char *what, const char *sql)
{
    return hub_pg_exec(pg->conn, what, sql, 0, NULL, NULL);
}

/*
 * What a failed result means: EX_UNAVAILABLE (connection gone), EX_DATAERR
 * (PostgreSQL refused a value: SQLSTATE class 22 or 23) or EX_TEMPFAIL.
 * reason gets PostgreSQL's words; a data error is not logged here (the
 * caller turns it into rejects), the others are.
 */
static int
result_code(struct readsync_pg *pg, const PGresult *res, const char *what, char *reason,
            size_t rlen)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    int rc;

    if (PQstatus(pg->conn) != CONNECTION_OK)
        rc = EX_UNAVAILABLE;
    else if (state != NULL && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0))
        rc = EX_DATAERR;
    else
        rc = EX_TEMPFAIL;
    if (snprintf(reason, rlen, "postgresql: %.200s",
                 res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(pg->conn)) < 0)
        reason[0] = '\0';
    reason[strcspn(reason, "\n")] = '\0';
    if (rc != EX_DATAERR)
        hub_log(HUB_LOG_ERROR, "pg_statement_failed", HUB_STR("statement", what),
                HUB_STR("sqlstate", state), HUB_STR("error", reason));
    return rc;
}

/* The COPY's end result (*rows: the rows it took), then drained: libpq
 * wants NULL before the next. */
static int
copy_result(struct readsync_pg *pg, const char *what, long long *rows, char *reason, size_t rlen)
{
    PGresult *res = PQgetResult(pg->conn);
    unsigned long long n = 0;
    int rc = 0;

    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = result_code(pg, res, what, reason, rlen);
    else if (hub_parse_uint(PQcmdTuples(res), 0, ~0ULL >> 1, &n) == 0)
        *rows = (long long)n;
    PQclear(res);
    for (res = PQgetResult(pg->conn); res != NULL; res = PQgetResult(pg->conn))
        PQclear(res);
    return rc;
}

/* COPY rows [data, data+len) with sql ("COPY ... FROM STDIN"). */
static int
copy_rows(struct readsync_pg *pg, const char *what, const char *sql, const char *data,
          size_t len, long long *rows, char *reason, size_t rlen)
{
    int rc = exec(pg, what, sql);

    if (rc != 0)
        return rc;
    for (size_t off = 0; off < len; off += COPY_CHUNK) {
        size_t n = len - off < COPY_CHUNK ? len - off : COPY_CHUNK;

        if (PQputCopyData(pg->conn, data + off, (int)n) != 1)
            break;
    }
    PQputCopyEnd(pg->conn, NULL);
    return copy_result(pg, what, rows, reason, rlen);
}

static int
move_rows(struct readsync_pg *pg, long long *inserted, char *reason, size_t rlen)
{
    PGresult *res = PQexec(pg->conn, move_sql);
    unsigned long long n = 0;
    int rc = 0;

    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = result_code(pg, res, "insert_reading_analytics", reason, rlen);
    else if (hub_parse_uint(PQcmdTuples(res), 0, ~0ULL >> 1, &n) == 0)
        *inserted += (long long)n;
    PQclear(res);
    return rc;
}

/* One transaction over rows [data, data+len), through staging (direct: 0)
 * or straight into the table. Nothing committed unless 0. */
static int
write_rows(struct readsync_pg *pg, int direct, const char *data, size_t len,
           long long *inserted, char *reason, size_t rlen)
{
    long long n = 0, staged = 0;
    int rc = exec(pg, "begin", "BEGIN");

    if (rc == 0 && direct)
        rc = copy_rows(pg, "copy_reading_analytics", direct_sql, data, len, &n, reason, rlen);
    if (rc == 0 && !direct)
        rc = copy_rows(pg, "copy_staging", "COPY readsync_stage FROM STDIN", data, len,
                       &staged, reason, rlen);
    if (rc == 0 && !direct)
        rc = move_rows(pg, &n, reason, rlen);
    if (rc == 0)
        rc = exec(pg, "commit", "COMMIT");
    if (rc != 0) {
        if (PQstatus(pg->conn) == CONNECTION_OK)
            PQclear(PQexec(pg->conn, "ROLLBACK"));
        return rc;
    }
    *inserted += n;
    return 0;
}

/* A row PostgreSQL refused sank the batch: write the rows one by one and
 * reject only the ones it refuses. Rare (map.c catches what it can), so
 * slow is fine. */
static int
write_each_row(struct readsync_pg *pg, struct readsync_batch *b, long long *inserted)
{
    char reason[READSYNC_MAX_REASON];
    int rc;

    hub_log(HUB_LOG_WARN, "readsync_batch_refused", HUB_INT("rows", b->nrows),
            HUB_STR("next", "writing the batch row by row"));
    for (size_t i = 0; i < b->nrows; i++) {
        size_t start = i == 0 ? 0 : b->row_end[i - 1];

        rc = write_rows(pg, 0, b->copy.data + start, b->row_end[i] - start, inserted, reason,
                        sizeof reason);
        if (rc == EX_DATAERR)
            rc = readsync_batch_reject_row(b, i, reason);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int
readsync_pg_write(struct readsync_pg *pg, struct readsync_batch *b, long long *inserted)
{
    char reason[READSYNC_MAX_REASON];
    long long before = *inserted;
    int rc;

    if (b->nrows == 0)
        return 0;
    if (pg->direct) {
        rc = write_rows(pg, 1, b->copy.data, b->copy.len, inserted, reason, sizeof reason);
        if (rc != EX_DATAERR)
            return rc;
        pg->direct = 0;       /* a row is there already, or refused */
    }
    rc = write_rows(pg, 0, b->copy.data, b->copy.len, inserted, reason, sizeof reason);
    if (rc == EX_DATAERR)
        rc = write_each_row(pg, b, inserted);
    if (rc == 0 && *inserted - before == (long long)b->nrows)
        pg->direct = 1;       /* no duplicate: the next batch may be new too */
    return rc;
}

int
readsync_pg_history(struct readsync_pg *pg, int64_t start_ns, int64_t end_ns,
                    const char *status, const struct readsync_totals *t, const char *error)
{
    static const char sql[] =
        "INSERT INTO reading_sync_history "
        "(start_time, end_time, status, processed_count, rejected_count, error_message) "
        "VALUES ($1, $2, $3, $4, $5, $6)";
    char start[HUB_TIME_RFC3339_LEN], end[HUB_TIME_RFC3339_LEN], processed[24], rejected[24];
    const char *params[6] = { start, end, status, processed, rejected, error };

    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK)
        return hub_fail(EX_UNAVAILABLE, "readsync_history_not_written",
                        HUB_STR("error", "no PostgreSQL connection"));
    if (hub_time_rfc3339_ms(start_ns, start, sizeof start) != 0 ||
        hub_time_rfc3339_ms(end_ns, end, sizeof end) != 0 ||
        snprintf(processed, sizeof processed, "%lld", t->processed) >= (int)sizeof processed ||
        snprintf(rejected, sizeof rejected, "%lld", t->rejected) >= (int)sizeof rejected)
        return hub_fail(EX_SOFTWARE, "readsync_history_not_written");
    return hub_pg_exec(pg->conn, "insert_reading_sync_history", sql, 6, params, NULL);
}
