/* test_metrics_state.c: the counter state (text round trip, corrupt files
 * refused whole) and the spool (append, bound, replay, failure keeps it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../cmd/hub-metrics/metrics.h"
#include "hub.h"

static void
test_state_round_trip(void **state)
{
    struct metrics_state st = METRICS_STATE_INIT, back = METRICS_STATE_INIT;
    struct hub_buf text = HUB_BUF_INIT(4096);
    const uint64_t v[3] = { 1, UINT64_MAX, 0 };

    st.has_clock = 1;
    st.clock_cs = 101000;
    assert_int_equal(metrics_state_put(&st, "cpu", "cpu0", v, 3), 0);
    assert_int_equal(metrics_state_put(&st, "net", "eth0", v, 2), 0);
    assert_int_equal(metrics_state_put(&st, "toolongkind", "x", v, 1), -1);
    assert_int_equal(metrics_state_format(&st, &text), 0);
    assert_string_equal(hub_buf_str(&text), "hub-metrics-state 1\nclock 101000\n"
                        "cpu cpu0 1 18446744073709551615 0\nnet eth0 1 18446744073709551615\n");
    assert_int_equal(metrics_state_parse(hub_buf_str(&text), &back), 0);
    assert_true(back.has_clock && back.clock_cs == 101000 && back.n == 2);
    assert_true(metrics_state_get(&back, "net", "eth0")->v[1] == UINT64_MAX);
    assert_null(metrics_state_get(&back, "net", "eth1"));
    metrics_state_release(&st);
    metrics_state_release(&back);
    hub_buf_release(&text);
    assert_null(st.items);
}

static void
test_state_corrupt_table(void **state)
{
    static const char *const bad[] = {
        "", "hub-metrics-state 2\n", "hub-metrics-state 1\ncpu cpu0 1 x\n",
        "hub-metrics-state 1\nclock\n", "hub-metrics-state 1\ncpu cpu0 1 2 3 4 5 6 7 8 9 10 11\n",
        "hub-metrics-state 1\ncpu\n", "garbage",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct metrics_state st = METRICS_STATE_INIT;

        assert_int_equal(metrics_state_parse(bad[i], &st), -1);
        assert_int_equal(st.n, 0);
        assert_int_equal(st.has_clock, 0);
        metrics_state_release(&st);
    }
}

static char dir[64];
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
        cmocka_unit_test_setup_teardown(test_spool_append_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_bound_drops_whole_samples, setup, teardown),
        cmocka_unit_test(test_spool_line_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
