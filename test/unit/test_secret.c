/* test_secret.c: the secret lookup order (credential, NAME_FILE, OpenBao KV
 * v2, env), newline stripping, broken sources, and OpenBao over real HTTP on
 * loopback (a libmicrohttpd stand-in that checks the token and the path). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <microhttpd.h>

#include "hub.h"
#include "secret.h"

static char dir[64];
static struct MHD_Daemon *bao;
static char bao_addr[64];

static const char kv_answer[] =
    "{\"data\":{\"data\":{\"mongo_uri\":\"mongodb://from-bao\",\"pg_password\":\"pw-bao\"},"
    "\"metadata\":{\"version\":3}}}";

static enum MHD_Result
bao_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
            const char *version, const char *data, size_t *size, void **ctx)
{
    const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Vault-Token");
    struct MHD_Response *r;
    unsigned status = 200;
    const char *body = kv_answer;
    enum MHD_Result ret;

    if (token == NULL || strcmp(token, "s.test-token") != 0) {
        status = 403;
        body = "{\"errors\":[\"permission denied\"]}";
    } else if (strcmp(url, "/v1/kv/data/hub") != 0) {
        status = 404;
        body = "{\"errors\":[]}";
    }
    r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void
write_file(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
clear_env(void)
{
    static const char *const vars[] = {
        "CREDENTIALS_DIRECTORY", "HUB_MONGO_URI_FILE", "HUB_MONGO_URI", "HUB_BAO_ADDR",
        "HUB_BAO_MOUNT", "HUB_BAO_PATH", "HUB_BAO_TOKEN", "HUB_BAO_TOKEN_FILE",
    };

    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

static void
expect(const char *name, int want_rc, const char *want_source, const char *want_value)
{
    struct hub_buf v = HUB_BUF_INIT(HUB_MAX_SECRET);
    const char *source = "unset";
    int rc = hub_secret_get(name, &v, &source);

    assert_int_equal(rc, want_rc);
    if (want_source == NULL)
        assert_null(source);
    else
        assert_string_equal(source, want_source);
    assert_string_equal(hub_buf_str(&v), want_value);
    hub_secret_wipe(&v);
    assert_null(v.data);
}

/* Each step wins over the ones after it. */
static void
test_lookup_order(void **state)
{
    char path[256];

    clear_env();
    expect("mongo_uri", 0, NULL, "");
    setenv("HUB_MONGO_URI", "from-env", 1);
    expect("mongo_uri", 0, "env", "from-env");
    setenv("HUB_BAO_ADDR", bao_addr, 1);
    setenv("HUB_BAO_MOUNT", "kv", 1);
    setenv("HUB_BAO_TOKEN", "s.test-token", 1);
    expect("mongo_uri", 0, "openbao", "mongodb://from-bao");
    write_file("uri-file", "from-file\n");
    snprintf(path, sizeof path, "%s/uri-file", dir);
    setenv("HUB_MONGO_URI_FILE", path, 1);
    expect("mongo_uri", 0, "file", "from-file");
    write_file("mongo_uri", "from-credential\r\n");
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    expect("mongo_uri", 0, "credential", "from-credential");
    clear_env();
}

static void
test_broken_sources(void **state)
{
    clear_env();
    setenv("HUB_MONGO_URI_FILE", "/nonexistent/secret", 1);
    expect("mongo_uri", EX_CONFIG, NULL, "");
    clear_env();
    expect("Bad-Name", EX_CONFIG, NULL, "");
    expect("../etc/passwd", EX_CONFIG, NULL, "");
}

static void
test_bao_answers(void **state)
{
    clear_env();
    setenv("HUB_BAO_ADDR", bao_addr, 1);
    setenv("HUB_BAO_MOUNT", "kv", 1);
    /* no token anywhere */
    expect("pg_password", EX_CONFIG, NULL, "");
    /* wrong token: 403 */
    setenv("HUB_BAO_TOKEN", "s.wrong", 1);
    expect("pg_password", EX_CONFIG, NULL, "");
    /* right token, key not in the secret: falls through to env */
    setenv("HUB_BAO_TOKEN", "s.test-token", 1);
    setenv("HUB_GITHUB_WEBHOOK_SECRET", "env-secret", 1);
    expect("github_webhook_secret", 0, "env", "env-secret");
    unsetenv("HUB_GITHUB_WEBHOOK_SECRET");
    /* secret path missing: 404 is "not there" */
    setenv("HUB_BAO_PATH", "other", 1);
    expect("pg_password", 0, NULL, "");
    unsetenv("HUB_BAO_PATH");
    /* plain http to a non-loopback host is refused before any request */
    setenv("HUB_BAO_ADDR", "http://bao.example.com:8200", 1);
    expect("pg_password", EX_CONFIG, NULL, "");
    /* nothing listening */
    setenv("HUB_BAO_ADDR", "http://127.0.0.1:1", 1);
    expect("pg_password", EX_UNAVAILABLE, NULL, "");
    clear_env();
}

static int
setup(void **state)
{
    const union MHD_DaemonInfo *info;

    snprintf(dir, sizeof dir, "/tmp/test_secret.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    bao = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                           bao_handler, NULL, MHD_OPTION_END);
    if (bao == NULL)
        return -1;
    info = MHD_get_daemon_info(bao, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(bao_addr, sizeof bao_addr, "http://127.0.0.1:%u", (unsigned)info->port);
    return 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    MHD_stop_daemon(bao);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_order),
        cmocka_unit_test(test_broken_sources),
        cmocka_unit_test(test_bao_answers),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
