/* test_lazylib.c: libraries opened on first use: a missing library or
 * symbol is logged once with its fix and the library is not used; libpq's and
 * libcurl's forwarders reach the real functions, the variadic
 * curl_easy_setopt with each argument type it forwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <libpq-fe.h>

#include "lazylib.h"
#include "log.h"

/* Run fn with the log going to a temporary file; the lines in out. */
static void
logged(void (*fn)(void), char *out, size_t outlen)
{
    char path[] = "/tmp/test_lazylib.XXXXXX";
    int fd = mkstemp(path);
    ssize_t n;

    assert_true(fd >= 0);
    unlink(path);
    hub_log_set_fd(fd);
    fn();
    hub_log_init("hub-test");
    lseek(fd, 0, SEEK_SET);
    n = read(fd, out, outlen - 1);
    out[n < 0 ? 0 : n] = '\0';
    close(fd);
}

static int
resolve_strlen(void *handle)
{
    return hub_lazylib_sym(handle, "libc.so.6", "strlen") != NULL ? 0 : -1;
}

static int
resolve_missing(void *handle)
{
    return hub_lazylib_sym(handle, "libc.so.6", "hub_no_such_symbol") != NULL ? 0 : -1;
}

static struct hub_lazylib missing_lib =
    HUB_LAZYLIB_INIT("libhub-no-such-library.so.9", "apt-get install nothing-here", resolve_strlen);
static struct hub_lazylib missing_sym = HUB_LAZYLIB_INIT("libc.so.6", "none", resolve_missing);
static struct hub_lazylib present = HUB_LAZYLIB_INIT("libc.so.6", "none", resolve_strlen);

/* Each library is tried once: the second call answers from the first. */
static void
try_each_twice(void)
{
    for (int i = 0; i < 2; i++) {
        assert_false(hub_lazylib_ready(&missing_lib));
        assert_false(hub_lazylib_ready(&missing_sym));
        assert_true(hub_lazylib_ready(&present));
    }
}

static void
test_failures_logged_once(void **state)
{
    char out[2048];
    const char *first;

    logged(try_each_twice, out, sizeof out);
    first = strstr(out, "\"msg\":\"library_unavailable\"");
    assert_non_null(first);
    assert_null(strstr(first + 1, "\"msg\":\"library_unavailable\""));
    assert_non_null(strstr(out, "\"library\":\"libhub-no-such-library.so.9\""));
    assert_non_null(strstr(out, "\"fix\":\"apt-get install nothing-here\""));
    first = strstr(out, "\"msg\":\"library_symbol_missing\"");
    assert_non_null(first);
    assert_null(strstr(first + 1, "\"msg\":\"library_symbol_missing\""));
    assert_non_null(strstr(out, "\"symbol\":\"hub_no_such_symbol\""));
}

static void
test_libpq_forwarders(void **state)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse("host=/tmp port=5999 dbname=hub", &err);
    int port_seen = 0;

    assert_non_null(opts);
    assert_null(err);
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (strcmp(o->keyword, "port") == 0 && o->val != NULL && strcmp(o->val, "5999") == 0)
            port_seen = 1;
    assert_true(port_seen);
    PQconninfoFree(opts);

    assert_null(PQconninfoParse("host='unterminated", &err));
    assert_non_null(err);
    PQfreemem(err);
}

static size_t
discard(char *data, size_t size, size_t n, void *user)
{
    return size * n;
}

static void
test_libcurl_forwarders(void **state)
{
    CURL *curl;
    long code = -1;
    struct curl_slist *headers = curl_slist_append(NULL, "X-Test: 1");

    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    curl = curl_easy_init();
    assert_non_null(curl);
    assert_non_null(headers);
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 1000L), CURLE_OK);          /* long */
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_URL, "http://127.0.0.1:9/"), CURLE_OK); /* string */
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers), CURLE_OK);       /* list */
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard), CURLE_OK);    /* callback */
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0), CURLE_OK);
    /* An option libcurl rejects by value proves the value arrived. */
    assert_int_equal(curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "no-such-protocol"),
                     CURLE_UNSUPPORTED_PROTOCOL);
    assert_int_equal(curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
    assert_int_equal(code, 0);
    assert_string_equal(curl_easy_strerror(CURLE_OK), "No error");
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failures_logged_once),
        cmocka_unit_test(test_libpq_forwarders),
        cmocka_unit_test(test_libcurl_forwarders),
    };

    hub_log_init("hub-test");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
