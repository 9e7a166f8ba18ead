/*
 * pq_lazy.c: the libpq functions the hub calls, loaded on the first call
 * (see lazylib.h for why). Each has libpq-fe.h's own prototype, so the
 * compiler checks it against the real one; each forwards to libpq, or
 * answers like a failed call when libpq.so.5 cannot be loaded.
 *
 * The table is written once, under lazylib's mutex, before any forwarder
 * reads it: threads (hub-webhook's delivery writer) are safe.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "lazylib.h"

#define PQ_SONAME "libpq.so.5"
#define PQ_UNAVAILABLE "libpq.so.5 could not be loaded (see the library_unavailable line)\n"

#define PQ_FUNCTIONS(X)                                                                 \
    X(PQconnectdbParams) X(PQstatus) X(PQerrorMessage) X(PQfinish) X(PQhost) X(PQport)  \
    X(PQconninfoParse) X(PQconninfoFree) X(PQfreemem) X(PQexec) X(PQexecParams)         \
    X(PQgetResult) X(PQresultStatus) X(PQresultErrorMessage) X(PQresultErrorField)      \
    X(PQcmdTuples) X(PQntuples) X(PQgetvalue) X(PQclear) X(PQputCopyData)              \
    X(PQputCopyEnd)

static struct {
    PQ_FUNCTIONS(HUB_LAZY_FIELD)
} pq;
static int pq_resolve(void *handle);
static struct hub_lazylib libpq = HUB_LAZYLIB_INIT(PQ_SONAME, "apt-get install libpq5", pq_resolve);

static int
pq_resolve(void *handle)
{
    int missing = 0;

#define RESOLVE(name) missing += HUB_LAZY_RESOLVE(pq, libpq, handle, name);
    PQ_FUNCTIONS(RESOLVE)
#undef RESOLVE
    return missing == 0 ? 0 : -1;
}

#define FORWARD(type, name, params, args, failed) \
    HUB_LAZY_FORWARD(libpq, pq, type, name, params, args, failed)
#define FORWARD_VOID(name, params, args) HUB_LAZY_FORWARD_VOID(libpq, pq, name, params, args)

FORWARD(PGconn *, PQconnectdbParams,
        (const char *const *keywords, const char *const *values, int expand_dbname),
        (keywords, values, expand_dbname), NULL)
FORWARD(ConnStatusType, PQstatus, (const PGconn *conn), (conn), CONNECTION_BAD)
FORWARD(char *, PQerrorMessage, (const PGconn *conn), (conn), (char *)PQ_UNAVAILABLE)
FORWARD_VOID(PQfinish, (PGconn *conn), (conn))
FORWARD(char *, PQhost, (const PGconn *conn), (conn), NULL)
FORWARD(char *, PQport, (const PGconn *conn), (conn), NULL)
FORWARD_VOID(PQconninfoFree, (PQconninfoOption *options), (options))
FORWARD(PGresult *, PQexec, (PGconn *conn, const char *query), (conn, query), NULL)
FORWARD(PGresult *, PQexecParams,
        (PGconn *conn, const char *command, int nparams, const Oid *types,
         const char *const *values, const int *lengths, const int *formats, int result_format),
        (conn, command, nparams, types, values, lengths, formats, result_format), NULL)
FORWARD(PGresult *, PQgetResult, (PGconn *conn), (conn), NULL)
FORWARD(ExecStatusType, PQresultStatus, (const PGresult *res), (res), PGRES_FATAL_ERROR)
FORWARD(char *, PQresultErrorMessage, (const PGresult *res), (res), (char *)PQ_UNAVAILABLE)
FORWARD(char *, PQresultErrorField, (const PGresult *res, int field), (res, field), NULL)
FORWARD(char *, PQcmdTuples, (PGresult *res), (res), (char *)"")
FORWARD(int, PQntuples, (const PGresult *res), (res), 0)
FORWARD(char *, PQgetvalue, (const PGresult *res, int row, int col), (res, row, col), NULL)
FORWARD_VOID(PQclear, (PGresult *res), (res))
FORWARD(int, PQputCopyData, (PGconn *conn, const char *buffer, int nbytes),
        (conn, buffer, nbytes), -1)
FORWARD(int, PQputCopyEnd, (PGconn *conn, const char *errormsg), (conn, errormsg), -1)

/* Both hand back what libpq allocated with malloc; freeing it needs no libpq. */
PQconninfoOption *
PQconninfoParse(const char *conninfo, char **errmsg)
{
    if (hub_lazylib_ready(&libpq))
        return pq.PQconninfoParse(conninfo, errmsg);
    if (errmsg != NULL)
        *errmsg = strdup(PQ_UNAVAILABLE);
    return NULL;
}

void
PQfreemem(void *ptr)
{
    if (hub_lazylib_ready(&libpq))
        pq.PQfreemem(ptr);
    else
        free(ptr);
}
