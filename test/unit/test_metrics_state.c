/* test_metrics_state.c: the counter state (text round trip, corrupt or torn
 * files refused whole, rewritten in place) and the spool (append, bound,
 * replay, failure keeps it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../cmd/hub-metrics/metrics.h"
#include "hub.h"

static void
test_state_round_trip(void **state)
{
    struct metrics_state st = METRICS_STATE_INIT, back = METRICS_STATE_INIT;
    struct hub_buf text = HUB_BUF_INIT(4096), wrapped = HUB_BUF_INIT(4096);
    const uint64_t v[3] = { 1, UINT64_MAX, 0 };

    st.has_clock = 1;
    st.clock_cs = 101000;
    assert_int_equal(metrics_state_put(&st, "cpu", "cpu0", v, 3), 0);
    assert_int_equal(metrics_state_put(&st, "net", "eth0", v, 2), 0);
    assert_int_equal(metrics_state_put(&st, "toolongkind", "x", v, 1), -1);
    assert_int_equal(metrics_state_format(&st, &text), 0);
    assert_string_equal(hub_buf_str(&text), "hub-metrics-state 2\nclock 101000\n"
                        "cpu cpu0 1 18446744073709551615 0\nnet eth0 1 18446744073709551615\n"
                        "sum c3973598e9dc1a3c\n");
    assert_int_equal(metrics_state_parse(hub_buf_str(&text), &back), 0);
    assert_true(back.has_clock && back.clock_cs == 101000 && back.n == 2);
    assert_true(metrics_state_get(&back, "net", "eth0")->v[1] == UINT64_MAX);
    assert_null(metrics_state_get(&back, "net", "eth1"));
    /* The same records framed by metrics_state_wrap (the fuzz target's way in). */
    assert_int_equal(metrics_state_wrap("clock 101000\ncpu cpu0 1 18446744073709551615 0\n"
                                        "net eth0 1 18446744073709551615", &wrapped), 0);
    assert_string_equal(hub_buf_str(&wrapped), hub_buf_str(&text));
    metrics_state_release(&st);
    metrics_state_release(&back);
    hub_buf_release(&text);
    hub_buf_release(&wrapped);
    assert_null(st.items);
}

/* The sum line for text (FNV-1a 64, as state.c computes it). */
static void
with_sum(const char *text, char *out, size_t outlen)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (const char *p = text; *p != '\0'; p++) {
        h ^= (unsigned char)*p;
        h *= 0x100000001b3ull;
    }
    snprintf(out, outlen, "%ssum %016llx\n", text, (unsigned long long)h);
}

static void
test_state_corrupt_table(void **state)
{
    static const char *const bad[] = {
        "", "hub-metrics-state 2\n", "hub-metrics-state 2\ncpu cpu0 1 x\n",
        "hub-metrics-state 2\nclock\n", "hub-metrics-state 2\ncpu cpu0 1 2 3 4 5 6 7 8 9 10 11\n",
        "hub-metrics-state 2\ncpu\n", "garbage",
        /* version 1 (no checksum, replaced by rename) is not read */
        "hub-metrics-state 1\nclock 5\n",
        /* a sum that does not match: a torn or mixed file */
        "hub-metrics-state 2\nclock 5\nsum 0000000000000000\n",
        "hub-metrics-state 2\nclock 5\nsum 0123\n",
    };
    /* well summed but not a state: still refused */
    static const char *const bad_summed[] = {
        "hub-metrics-state 2\ncpu cpu0 1 x\n", "hub-metrics-state 2\nclock\n",
        "hub-metrics-state 1\nclock 5\n",
    };
    char text[256];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct metrics_state st = METRICS_STATE_INIT;

        assert_int_equal(metrics_state_parse(bad[i], &st), -1);
        assert_int_equal(st.n, 0);
        assert_int_equal(st.has_clock, 0);
        metrics_state_release(&st);
    }
    for (size_t i = 0; i < sizeof bad_summed / sizeof bad_summed[0]; i++) {
        struct metrics_state st = METRICS_STATE_INIT;

        with_sum(bad_summed[i], text, sizeof text);
        assert_int_equal(metrics_state_parse(text, &st), -1);
        assert_int_equal(st.n, 0);
        metrics_state_release(&st);
    }
}

/* Any one byte changed (a torn write) makes the state absent, never wrong. */
static void
test_state_torn_refused(void **state)
{
    struct metrics_state st = METRICS_STATE_INIT;
    char text[256];
    size_t len;

    with_sum("hub-metrics-state 2\nclock 101000\ncpu cpu0 17 42\n", text, sizeof text);
    assert_int_equal(metrics_state_parse(text, &st), 0);
    assert_true(st.has_clock && st.n == 1 && metrics_state_get(&st, "cpu", "cpu0")->v[1] == 42);
    len = strlen(text);
    for (size_t i = 0; i < len - 1; i++) {
        char copy[256];

        memcpy(copy, text, len + 1);
        copy[i] = copy[i] == '7' ? '8' : '7';
        assert_int_equal(metrics_state_parse(copy, &st), -1);
        assert_int_equal(st.n, 0);
        assert_int_equal(st.has_clock, 0);
    }
    /* an old, longer state's tail after the sum line (a crash before the
     * truncate) is ignored */
    snprintf(text + len, sizeof text - len, "cpu cpu1 1 2\n");
    assert_int_equal(metrics_state_parse(text, &st), 0);
    assert_true(st.n == 1);
    metrics_state_release(&st);
}

static char dir[64];

/* Written in place through one descriptor: read back, shrunk, regrown. */
static void
test_state_file_in_place(void **state)
{
    struct metrics_state st = METRICS_STATE_INIT, back = METRICS_STATE_INIT;
    const uint64_t v[3] = { 1, 2, 3 };
    char path[128];
    size_t size = 0, size2 = 0;
    struct stat sb;
    int fd;

    snprintf(path, sizeof path, "%s/state", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(metrics_state_read_fd(fd, &back, &size), 1);     /* new: empty */
    assert_true(size == 0);
    st.has_clock = 1;
    st.clock_cs = 5;
    for (int i = 0; i < 20; i++)
        assert_int_equal(metrics_state_put(&st, "cpu", i % 2 ? "cpu1" : "cpu0", v, 3), 0);
    assert_int_equal(metrics_state_write_fd(fd, &st, &size), 0);
    assert_int_equal(fstat(fd, &sb), 0);
    assert_true(size > 0 && (size_t)sb.st_size == size);
    assert_int_equal(metrics_state_read_fd(fd, &back, &size2), 0);
    assert_true(size2 == size && back.n == 20 && back.clock_cs == 5);
    st.n = 1;                                   /* shorter: the file is cut */
    assert_int_equal(metrics_state_write_fd(fd, &st, &size), 0);
    assert_int_equal(fstat(fd, &sb), 0);
    assert_true((size_t)sb.st_size == size && size < size2);
    assert_int_equal(metrics_state_read_fd(fd, &back, &size2), 0);
    assert_true(back.n == 1);
    /* an unknown old length (SIZE_MAX) is cut too */
    assert_true(pwrite(fd, "junk junk junk", 14, (off_t)size) == 14);
    size2 = SIZE_MAX;
    assert_int_equal(metrics_state_write_fd(fd, &st, &size2), 0);
    assert_int_equal(fstat(fd, &sb), 0);
    assert_true((size_t)sb.st_size == size);
    /* garbage in the file: refused, and the length is known for the next write */
    assert_true(pwrite(fd, "x", 1, 3) == 1);
    assert_int_equal(metrics_state_read_fd(fd, &back, &size2), -1);
    assert_true(back.n == 0 && size2 == size);
    close(fd);
    metrics_state_release(&st);
    metrics_state_release(&back);
}

static const struct metrics_row rows[2] = {
    { "2026-01-01T00:00:00.000Z", "h", "linux", "cpu", "{\"usage\":1}" },
    { "2026-01-01T00:00:00.000Z", "h", "linux", "load", "{\"load1\":0.5}" },
};

static int
setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/test_metrics_state.XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

struct seen {
    size_t calls, rows;
    int fail;
    char last_type[16];
};

static int
record(void *arg, const struct metrics_row *r, size_t n)
{
    struct seen *s = arg;

    s->calls++;
    s->rows += n;
    snprintf(s->last_type, sizeof s->last_type, "%s", r[n - 1].type);
    return s->fail;
}

static void
test_spool_append_replay(void **state)
{
    char path[128];
    uint64_t dropped = 9, n = 0;
    struct seen s = { 0 };

    snprintf(path, sizeof path, "%s/spool", dir);
    assert_int_equal(metrics_spool_append(path, rows, 2, 1 << 20, &dropped), 0);
    assert_true(dropped == 0);
    assert_int_equal(metrics_spool_append(path, rows, 2, 1 << 20, &dropped), 0);
    s.fail = EX_TEMPFAIL;                       /* the database fails: spool stays */
    assert_int_equal(metrics_spool_replay(path, 3, record, &s, &n), EX_TEMPFAIL);
    assert_int_equal(access(path, F_OK), 0);
    s = (struct seen){ 0 };
    assert_int_equal(metrics_spool_replay(path, 3, record, &s, &n), 0);
    assert_true(n == 4 && s.rows == 4 && s.calls == 2);
    assert_string_equal(s.last_type, "load");
    assert_int_equal(access(path, F_OK), -1);   /* removed */
    assert_int_equal(metrics_spool_replay(path, 3, record, &s, &n), 0);   /* none: fine */
    assert_true(n == 0);
}

static void
test_spool_bound_drops_whole_samples(void **state)
{
    struct metrics_row mid[2] = { rows[0], rows[1] }, later[2] = { rows[0], rows[1] };
    char path[128];
    uint64_t dropped = 0;
    FILE *f;
    char line[256];
    int n = 0;

    snprintf(path, sizeof path, "%s/spool2", dir);
    mid[0].time = mid[1].time = "2026-01-01T00:00:05.000Z";
    later[0].time = later[1].time = "2026-01-01T00:00:10.000Z";
    /* one sample is 2 lines of ~60 bytes: room for two samples in 250 */
    assert_int_equal(metrics_spool_append(path, rows, 2, 250, &dropped), 0);
    assert_int_equal(metrics_spool_append(path, mid, 2, 250, &dropped), 0);
    assert_true(dropped == 0);
    assert_int_equal(metrics_spool_append(path, later, 2, 250, &dropped), 0);
    assert_true(dropped == 1);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL)
        n += strncmp(line, "2026-01-01T00:00:00", 19) != 0;   /* the oldest went */
    fclose(f);
    assert_int_equal(n, 4);
    assert_int_equal(metrics_spool_append(path, rows, 2, 10, &dropped), EX_TEMPFAIL);
}

static void
test_spool_line_table(void **state)
{
    static const struct { const char *line; int rc; } cases[] = {
        { "t\th\tlinux\tcpu\t{\"a\":1}\n", 0 },
        { "t\th\tlinux\tcpu\t{}", 0 },
        { "t\th\tlinux\tcpu\n", -1 },
        { "t\th\tlinux\tcpu\t{}\textra\n", -1 },
        { "\th\tlinux\tcpu\t{}\n", -1 },
        { "t\th\tlinux\tcpu\tnot json\n", -1 },
        { "", -1 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *copy = strdup(cases[i].line);
        struct metrics_row r;

        assert_int_equal(metrics_spool_parse_line(copy, &r), cases[i].rc);
        if (cases[i].rc == 0)
            assert_string_equal(r.type, "cpu");
        free(copy);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_round_trip),
        cmocka_unit_test(test_state_corrupt_table),
        cmocka_unit_test(test_state_torn_refused),
        cmocka_unit_test_setup_teardown(test_state_file_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_append_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_bound_drops_whole_samples, setup, teardown),
        cmocka_unit_test(test_spool_line_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
