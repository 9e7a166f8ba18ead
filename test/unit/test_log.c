/* test_log.c: the JSON line logger: key order, escaping, typed fields,
 * truncation, levels, the journal priority prefix and the log fd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "hub.h"
#include "log.h"

static void
test_key_order_and_types(void **state)
{
    cJSON *j = cJSON_CreateObject();
    char *line;

    cJSON_AddNumberToObject(j, "n", 1);
    line = hub_log_format(HUB_LOG_WARN, "thing_happened",
                          HUB_FIELDS_(HUB_STR("s", "a\"b\n"), HUB_INT("i", 9007199254740993LL),
                                      HUB_DBL("d", 1.5), HUB_BOOL("b", 7), HUB_JSON("j", j),
                                      HUB_STR("null", NULL)),
                          HUB_NFIELDS_(HUB_STR("s", "a\"b\n"), HUB_INT("i", 9007199254740993LL),
                                       HUB_DBL("d", 1.5), HUB_BOOL("b", 7), HUB_JSON("j", j),
                                       HUB_STR("null", NULL)));
    assert_non_null(line);
    assert_int_equal(strncmp(line, "{\"time\":\"", 9), 0);
    assert_non_null(strstr(line, "\",\"level\":\"WARN\",\"msg\":\"thing_happened\",\"service\":\"hub-test\","
                                 "\"s\":\"a\\\"b\\n\",\"i\":9007199254740993,\"d\":1.5,\"b\":true,"
                                 "\"j\":{\"n\":1},\"null\":null}"));
    free(line);
    cJSON_Delete(j);
}

static void
test_time_format(void **state)
{
    char *line = hub_log_format(HUB_LOG_INFO, "x", NULL, 0);
    cJSON *doc = cJSON_Parse(line);
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "time"));

    assert_non_null(t);
    /* 2026-11-25T17:37:38.123Z */
    assert_int_equal(strlen(t), 24);
    assert_int_equal(t[10], 'T');
    assert_int_equal(t[19], '.');
    assert_int_equal(t[23], 'Z');
    cJSON_Delete(doc);
    free(line);
}

static void
test_long_field_is_cut(void **state)
{
    size_t n = HUB_MAX_LOG_FIELD * 2;
    char *big = malloc(n + 1);
    char *line;
    cJSON *doc;
    const char *v;

    memset(big, 'x', n);
    big[n] = '\0';
    line = hub_log_format(HUB_LOG_INFO, "x", HUB_FIELDS_(HUB_STR("big", big)), 2);
    doc = cJSON_Parse(line);
    v = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "big"));
    assert_non_null(v);
    assert_int_equal(strlen(v), HUB_MAX_LOG_FIELD + 3);   /* + "…" */
    cJSON_Delete(doc);
    free(line);
    free(big);
}

/* Capture what hub_log writes to stdout. */
static char *
capture(void (*fn)(void))
{
    char path[] = "/tmp/test_log.XXXXXX";
    int fd = mkstemp(path), saved = dup(1);
    static char out[4096];
    ssize_t n;

    fflush(stdout);
    dup2(fd, 1);
    fn();
    dup2(saved, 1);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    n = read(fd, out, sizeof out - 1);
    out[n < 0 ? 0 : n] = '\0';
    close(fd);
    unlink(path);
    return out;
}

static void
log_two_levels(void)
{
    hub_log(HUB_LOG_DEBUG, "hidden");
    hub_log(HUB_LOG_ERROR, "shown", HUB_INT("k", 1));
}

static void
test_levels_filter(void **state)
{
    char *out;

    setenv("HUB_LOG_LEVEL", "info", 1);
    unsetenv("JOURNAL_STREAM");
    hub_log_init("hub-test");
    out = capture(log_two_levels);
    assert_null(strstr(out, "hidden"));
    assert_non_null(strstr(out, "\"msg\":\"shown\""));
    assert_int_equal(out[0], '{');
    assert_int_equal(out[strlen(out) - 1], '\n');
}

static void
log_one(void)
{
    hub_log(HUB_LOG_WARN, "to_journal");
}

/* When JOURNAL_STREAM names stdout, the line starts with <4> for WARN. */
static void
test_journal_prefix(void **state)
{
    char path[] = "/tmp/test_log_j.XXXXXX";
    int fd = mkstemp(path), saved = dup(1);
    struct stat st;
    char js[64], out[512];
    ssize_t n;

    fstat(fd, &st);
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    fflush(stdout);
    dup2(fd, 1);
    hub_log_init("hub-test");
    log_one();
    dup2(saved, 1);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    n = read(fd, out, sizeof out - 1);
    out[n < 0 ? 0 : n] = '\0';
    close(fd);
    unlink(path);
    unsetenv("JOURNAL_STREAM");
    hub_log_init("hub-test");
    assert_int_equal(strncmp(out, "<4>{\"time\"", 10), 0);
}

/* A fresh temp file, unlinked; its "dev:ino" in js. */
static int
temp_fd(char *js, size_t jslen)
{
    char path[] = "/tmp/test_log_fd.XXXXXX";
    int fd = mkstemp(path);
    struct stat st;

    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(fstat(fd, &st), 0);
    snprintf(js, jslen, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    return fd;
}

static void
read_back(int fd, char *out, size_t outlen)
{
    ssize_t n;

    lseek(fd, 0, SEEK_SET);
    n = read(fd, out, outlen - 1);
    out[n < 0 ? 0 : n] = '\0';
}

/*
 * hub_log_set_fd: lines go to that fd and nowhere else, and the journal
 * prefix follows the fd written to, not stdout: a program whose stdout is
 * its data (a pipe) and whose stderr is the journal still gets "<N>", and
 * one whose stdout is the journal but logs to a file does not.
 */
static void
test_set_fd(void **state)
{
    static const struct {
        const char *journal;        /* which file $JOURNAL_STREAM names */
        const char *want_prefix;    /* the log fd's line starts with this */
    } cases[] = {
        { "logfd", "<4>{\"time\"" },
        { "stdout", "{\"time\"" },
        { NULL, "{\"time\"" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char js_out[64], js_log[64], out[512], logged[512];
        int out_fd = temp_fd(js_out, sizeof js_out);
        int log_fd = temp_fd(js_log, sizeof js_log);
        int saved = dup(1);

        if (cases[i].journal == NULL)
            unsetenv("JOURNAL_STREAM");
        else
            setenv("JOURNAL_STREAM", strcmp(cases[i].journal, "logfd") == 0 ? js_log : js_out, 1);
        fflush(stdout);
        dup2(out_fd, 1);
        hub_log_init("hub-test");
        hub_log_set_fd(log_fd);
        log_one();
        hub_log_init("hub-test");       /* back to stdout */
        dup2(saved, 1);
        close(saved);
        read_back(out_fd, out, sizeof out);
        read_back(log_fd, logged, sizeof logged);
        close(out_fd);
        close(log_fd);
        unsetenv("JOURNAL_STREAM");
        hub_log_init("hub-test");

        assert_string_equal(out, "");
        assert_int_equal(strncmp(logged, cases[i].want_prefix, strlen(cases[i].want_prefix)), 0);
        assert_non_null(strstr(logged, "\"msg\":\"to_journal\""));
        assert_int_equal(logged[strlen(logged) - 1], '\n');
    }
}

static void
test_fail_returns_code(void **state)
{
    int rc;

    (void)capture(log_one);     /* keep stdout clean below */
    rc = hub_fail(EX_CONFIG, "bad_config", HUB_STR("file", "x"));
    assert_int_equal(rc, EX_CONFIG);
}

static int
setup(void **state)
{
    unsetenv("JOURNAL_STREAM");
    hub_log_init("hub-test");
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_order_and_types),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_long_field_is_cut),
        cmocka_unit_test(test_levels_filter),
        cmocka_unit_test(test_journal_prefix),
        cmocka_unit_test(test_set_fd),
        cmocka_unit_test(test_fail_returns_code),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
