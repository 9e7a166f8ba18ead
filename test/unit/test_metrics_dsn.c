/* test_metrics_dsn.c: connection strings without libpq (key=value and
 * URIs, with their malformed twins) and the SCRAM/md5 building blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../cmd/hub-metrics/metrics.h"

static void
test_dsn_table(void **state)
{
    static const struct {
        const char *dsn;
        int rc;
        const char *host, *port, *user, *dbname, *password;
    } cases[] = {
        { "host=/run/pg user=postgres dbname=hub", 0, "/run/pg", "5432", "postgres", "hub", NULL },
        { "host = db port=6543 user=u password='it''s' dbname='a b'", -1, NULL, NULL, NULL, NULL, NULL },
        { "host=db port=6543 user=u password='it\\'s' dbname='a b'", 0, "db", "6543", "u", "a b", "it's" },
        { "user=u sslmode=disable target_session_attrs=any", 0, "/var/run/postgresql", "5432", "u", "u", NULL },
        { "postgresql://u:p%40ss@db.example:5433/metrics?connect_timeout=3", 0, "db.example", "5433", "u", "metrics", "p@ss" },
        { "postgres://u@[::1]/x", 0, "::1", "5432", "u", "x", NULL },
        { "postgresql://u@%2Frun%2Fpg/x", 0, "/run/pg", "5432", "u", "x", NULL },
        { "postgresql:///x?host=/tmp/s&user=w", 0, "/tmp/s", "5432", "w", "x", NULL },
        { "postgresql://u@h1,h2:5/x", 0, "h1", "5432", "u", "x", NULL },
        { "host='unterminated", -1, NULL, NULL, NULL, NULL, NULL },
        { "novalue", -1, NULL, NULL, NULL, NULL, NULL },
        { "postgresql://u@h/x?bad", -1, NULL, NULL, NULL, NULL, NULL },
        { "postgresql://u@h/%zz", -1, NULL, NULL, NULL, NULL, NULL },
    };

    unsetenv("PGHOST");
    unsetenv("PGPORT");
    unsetenv("PGDATABASE");
    unsetenv("PGUSER");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct metrics_dsn d = METRICS_DSN_INIT;
        const char *err = NULL;

        assert_int_equal(metrics_dsn_parse(cases[i].dsn, &d, &err), cases[i].rc);
        if (cases[i].rc == 0) {
            assert_string_equal(d.host, cases[i].host);
            assert_string_equal(d.port, cases[i].port);
            assert_string_equal(d.user, cases[i].user);
            assert_string_equal(d.dbname, cases[i].dbname);
            if (cases[i].password != NULL)
                assert_string_equal(d.password, cases[i].password);
            else
                assert_null(d.password);
        } else {
            assert_non_null(err);
        }
        metrics_dsn_release(&d);
        assert_null(d.host);
    }
}

static void
test_dsn_env_fallback(void **state)
{
    struct metrics_dsn d = METRICS_DSN_INIT;
    const char *err;

    setenv("PGHOST", "/from/env", 1);
    setenv("PGUSER", "envuser", 1);
    assert_int_equal(metrics_dsn_parse("dbname=x", &d, &err), 0);
    assert_string_equal(d.host, "/from/env");
    assert_string_equal(d.user, "envuser");
    assert_string_equal(d.sslmode, "prefer");
    metrics_dsn_release(&d);
    assert_int_equal(metrics_dsn_parse("host=/dsn/wins", &d, &err), 0);
    assert_string_equal(d.host, "/dsn/wins");
    assert_string_equal(d.dbname, "envuser");
    metrics_dsn_release(&d);
    unsetenv("PGHOST");
    unsetenv("PGUSER");
}

static void
test_base64_table(void **state)
{
    static const struct { const char *raw, *b64; } cases[] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "n,,", "biws" },
        { "foobar", "Zm9vYmFy" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_buf b = HUB_BUF_INIT(64);
        unsigned char out[16];
        long n;

        assert_int_equal(metrics_base64_encode((const unsigned char *)cases[i].raw,
                                               strlen(cases[i].raw), &b), 0);
        assert_string_equal(hub_buf_str(&b), cases[i].b64);
        n = metrics_base64_decode(cases[i].b64, strlen(cases[i].b64), out, sizeof out);
        assert_int_equal(n, (long)strlen(cases[i].raw));
        assert_memory_equal(out, cases[i].raw, (size_t)n);
        hub_buf_release(&b);
    }
    assert_int_equal(metrics_base64_decode("Zm9v!", 5, (unsigned char[8]){ 0 }, 8), -1);
    assert_int_equal(metrics_base64_decode("Zm9vYmFy", 8, (unsigned char[2]){ 0 }, 2), -1);
}

static void
test_md5_password(void **state)
{
    char out[36];

    /* "md5" + md5(md5("secret" + "postgres") + "\x01\x02\x03\x04"), as psql computes it */
    assert_int_equal(metrics_md5_password("postgres", "secret",
                                          (const unsigned char *)"\x01\x02\x03\x04", out), 0);
    assert_int_equal(strlen(out), 35);
    assert_string_equal(out, "md5bb41a296aab6baccb36ff243a562abff");
}

static void
test_scram_rejects_bad_server(void **state)
{
    struct metrics_scram *s = NULL;
    struct hub_buf first = HUB_BUF_INIT(256), final = HUB_BUF_INIT(1024);
    const char *bad = "r=someoneelse,s=QSXCR+Q6sek8bf92,i=4096";

    assert_int_equal(metrics_scram_begin(&s, "pencil", &first), 0);
    assert_int_equal(strncmp(hub_buf_str(&first), "n,,n=,r=", 8), 0);
    /* the server's nonce must extend ours */
    assert_int_equal(metrics_scram_continue(s, bad, strlen(bad), &final), -1);
    assert_int_equal(metrics_scram_verify(s, "v=AAAA", 6), -1);
    metrics_scram_free(s);
    hub_buf_release(&first);
    hub_buf_release(&final);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dsn_table),
        cmocka_unit_test(test_dsn_env_fallback),
        cmocka_unit_test(test_base64_table),
        cmocka_unit_test(test_md5_password),
        cmocka_unit_test(test_scram_rejects_bad_server),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
