/* test_pg.c: connecting through the helper to the runner's real PostgreSQL:
 * application_name, DSN precedence, error classes (unreachable 69, malformed
 * DSN 78), statement errors classified. Needs PGHOST from test/run.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "hub.h"
#include "log.h"
#include "pg.h"

static void
test_connect_sets_application_name(void **state)
{
    PGconn *c = NULL;
    PGresult *res = NULL;

    assert_non_null(getenv("PGHOST"));     /* run me through test/run.sh */
    unsetenv("HUB_PG_DSN");
    assert_int_equal(hub_pg_connect(&c), 0);
    assert_int_equal(hub_pg_exec(c, "app name", "SELECT current_setting('application_name')",
                                 0, NULL, &res), 0);
    assert_string_equal(PQgetvalue(res, 0, 0), "hub-test");
    PQclear(res);
    PQfinish(c);
}

static void
test_dsn_wins(void **state)
{
    char dsn[512];
    PGconn *c = NULL;
    PGresult *res = NULL;

    snprintf(dsn, sizeof dsn, "host=%s dbname=hub_template", getenv("PGHOST"));
    setenv("HUB_PG_DSN", dsn, 1);
    assert_int_equal(hub_pg_connect(&c), 0);
    assert_int_equal(hub_pg_exec(c, "db", "SELECT current_database()", 0, NULL, &res), 0);
    assert_string_equal(PQgetvalue(res, 0, 0), "hub_template");
    PQclear(res);
    PQfinish(c);
    unsetenv("HUB_PG_DSN");
}

static void
test_error_classes(void **state)
{
    static const struct { const char *dsn; int rc; } cases[] = {
        { "host=/nonexistent/socket/dir dbname=x", EX_UNAVAILABLE },
        { "host=127.0.0.1 port=1 dbname=x", EX_UNAVAILABLE },
        { "this is = not a dsn '", EX_CONFIG },
        { "postgresql://[broken", EX_CONFIG },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        PGconn *c = (PGconn *)1;

        setenv("HUB_PG_DSN", cases[i].dsn, 1);
        assert_int_equal(hub_pg_connect(&c), cases[i].rc);
        assert_null(c);
    }
    unsetenv("HUB_PG_DSN");
}

static void
test_statement_errors(void **state)
{
    PGconn *c = NULL;
    const char *params[] = { "not a number" };

    assert_int_equal(hub_pg_connect(&c), 0);
    assert_int_equal(hub_pg_exec(c, "bad cast", "SELECT $1::int", 1, params, NULL), EX_DATAERR);
    assert_int_equal(hub_pg_exec(c, "bad sql", "SELEKT 1", 0, NULL, NULL), EX_TEMPFAIL);
    PQfinish(c);
}

static int
setup(void **state)
{
    hub_log_init("hub-test");
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_sets_application_name),
        cmocka_unit_test(test_dsn_wins),
        cmocka_unit_test(test_error_classes),
        cmocka_unit_test(test_statement_errors),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
