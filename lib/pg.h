/*
 * pg.h: connecting to PostgreSQL the same way in every program.
 *
 * The connection string is $HUB_PG_DSN, or libpq's own PG* variables when it
 * is unset. application_name is the program's name (hub_log_service()),
 * connect_timeout is $HUB_PG_CONNECT_TIMEOUT seconds (default 5) unless the
 * DSN sets one, and the password comes from the pg_password secret (see
 * secret.h) when one is found and the DSN carries none.
 */
#ifndef HUB_PG_H
#define HUB_PG_H

#include <libpq-fe.h>

/*
 * Returns 0 with *out connected, EX_UNAVAILABLE when the server cannot be
 * reached (the message names host and port, never the password), EX_CONFIG
 * when the connection string is malformed or refused for authentication.
 * Logs one error line on failure.
 */
int hub_pg_connect(PGconn **out);

/*
 * True when $HUB_PG_DSN is set. Programs whose database writes are optional
 * (hub-webhook's deliveries, hub-gitops' runs) write only then, so that a
 * PGHOST left in a shell or a test harness does not switch them on.
 */
int hub_pg_configured(void);

/*
 * Run one statement with text parameters. Returns 0 when it completed
 * (COMMAND_OK, TUPLES_OK or COPY_IN for "COPY ... FROM STDIN"); otherwise
 * logs one error line with what (a short name of the statement) and returns
 * EX_UNAVAILABLE when the connection is gone, EX_DATAERR for a data error
 * (SQLSTATE class 22 or 23), EX_TEMPFAIL otherwise. *res_out, when not NULL,
 * receives the result on success (caller PQclear()s it).
 */
int hub_pg_exec(PGconn *conn, const char *what, const char *sql, int nparams,
                const char *const *params, PGresult **res_out);

/* "host:port" or "socket dir:port" for messages; borrowed from conn. */
const char *hub_pg_where(PGconn *conn, char *buf, size_t buflen);

#endif
