/*
 * pg.c: the libpq connection helper (see pg.h). Owns the connection only
 * until it is handed to the caller; wipes the password once libpq has it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "buf.h"
#include "hub.h"
#include "log.h"
#include "opt.h"
#include "pg.h"
#include "secret.h"

#define DEFAULT_CONNECT_TIMEOUT "5"

int
hub_pg_configured(void)
{
    const char *dsn = getenv("HUB_PG_DSN");

    return dsn != NULL && *dsn != '\0';
}

const char *
hub_pg_where(PGconn *conn, char *buf, size_t buflen)
{
    const char *host = PQhost(conn);
    const char *port = PQport(conn);
    int n;

    n = snprintf(buf, buflen, "%s:%s", host ? host : "?", port ? port : "?");
    if (n < 0 || (size_t)n >= buflen)
        return "?";
    return buf;
}

/* Does the DSN already carry keyword? Cheap test, both DSN forms. */
static int
dsn_has(const char *dsn, const char *keyword)
{
    PQconninfoOption *opts = PQconninfoParse(dsn, NULL);
    int has = 0;

    if (opts == NULL)
        return 0;
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (strcmp(o->keyword, keyword) == 0 && o->val != NULL && *o->val != '\0')
            has = 1;
    }
    PQconninfoFree(opts);
    return has;
}

static int
check_dsn(const char *dsn)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, &err);
    int rc = 0;

    if (opts == NULL) {
        /* err never echoes a password: libpq names only the bad syntax */
        rc = hub_fail(EX_CONFIG, "pg_dsn_invalid",
                      HUB_STR("error", err ? err : "out of memory"),
                      HUB_STR("fix", "check HUB_PG_DSN (key=value or postgresql:// URI)"));
        PQfreemem(err);
        return rc;
    }
    PQconninfoFree(opts);
    return 0;
}

int
hub_pg_connect(PGconn **out)
{
    const char *dsn = getenv("HUB_PG_DSN");
    const char *timeout = getenv("HUB_PG_CONNECT_TIMEOUT");
    struct hub_buf password = HUB_BUF_INIT(HUB_MAX_SECRET);
    const char *keys[5], *vals[5], *source = NULL;
    char where[256];
    unsigned long long t;
    int n = 0, rc;
    PGconn *conn;

    *out = NULL;
    if (dsn == NULL)
        dsn = "";
    rc = check_dsn(dsn);
    if (rc != 0)
        return rc;
    if (timeout != NULL && hub_parse_uint(timeout, 1, 3600, &t) != 0)
        return hub_fail(EX_CONFIG, "pg_connect_timeout_invalid", HUB_STR("value", timeout));
    if (!dsn_has(dsn, "password")) {
        rc = hub_secret_get("pg_password", &password, &source);
        if (rc != 0)
            return rc;
    }
    keys[n] = "dbname";           vals[n++] = dsn;   /* expanded as a DSN */
    keys[n] = "application_name"; vals[n++] = hub_log_service();
    if (!dsn_has(dsn, "connect_timeout")) {
        keys[n] = "connect_timeout";
        vals[n++] = timeout ? timeout : DEFAULT_CONNECT_TIMEOUT;
    }
    if (source != NULL) {
        keys[n] = "password";
        vals[n++] = password.data;
    }
    keys[n] = NULL;
    vals[n] = NULL;
    conn = PQconnectdbParams(keys, vals, 1);
    hub_secret_wipe(&password);
    if (conn == NULL)
        return hub_fail(EX_UNAVAILABLE, "pg_connect_failed", HUB_STR("error", "out of memory"));
    if (PQstatus(conn) != CONNECTION_OK) {
        const char *err = PQerrorMessage(conn);
        int auth = strstr(err, "authentication") != NULL || strstr(err, "password") != NULL;

        rc = hub_fail(auth ? EX_CONFIG : EX_UNAVAILABLE, "pg_connect_failed",
                      HUB_STR("where", hub_pg_where(conn, where, sizeof where)),
                      HUB_STR("error", err));
        PQfinish(conn);
        return rc;
    }
    *out = conn;
    return 0;
}

static int
classify(PGconn *conn, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    if (PQstatus(conn) != CONNECTION_OK)
        return EX_UNAVAILABLE;
    if (state != NULL && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0))
        return EX_DATAERR;
    return EX_TEMPFAIL;
}

int
hub_pg_exec(PGconn *conn, const char *what, const char *sql, int nparams,
            const char *const *params, PGresult **res_out)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN) {
        if (res_out != NULL)
            *res_out = res;
        else
            PQclear(res);
        return 0;
    }
    rc = classify(conn, res);
    hub_log(HUB_LOG_ERROR, "pg_statement_failed", HUB_STR("statement", what),
            HUB_STR("sqlstate", res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL),
            HUB_STR("error", PQerrorMessage(conn)));
    PQclear(res);
    return rc;
}
