/* test_metrics_proc.c: hub-metrics' /proc and /sys parsers and field
 * writers, table-driven, good lines and their broken twins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../cmd/hub-metrics/metrics.h"

/* Run a writer into a fresh object and compare the text. */
#define ASSERT_JSON(want, ...) do { \
        struct hub_buf b_ = HUB_BUF_INIT(65536); \
        struct metrics_json j_; \
        metrics_json_init(&j_, &b_); \
        __VA_ARGS__; \
        assert_int_equal(metrics_json_end(&j_), 0); \
        assert_string_equal(hub_buf_str(&b_), (want)); \
        hub_buf_release(&b_); \
    } while (0)

static void
test_stat_cpu_lines(void **state)
{
    static const struct { const char *line; int rc; const char *name; uint64_t v2, v7; } cases[] = {
        { "cpu  1000 0 500 8000 100 0 0 7 0 0\n", 0, "cpu", 500, 7 },
        { "cpu12 1 2 3 4 5 6 7 8 9 10\n", 0, "cpu12", 3, 8 },
        { "cpu0 1 2 3 4\n", 0, "cpu0", 3, 0 },            /* old kernel: 4 columns */
        { "cpu0 1 2 3\n", -1, NULL, 0, 0 },               /* truncated */
        { "cpu0 1 2 x 4\n", -1, NULL, 0, 0 },
        { "cpufoo 1 2 3 4\n", -1, NULL, 0, 0 },
        { "intr 1 2 3\n", 1, NULL, 0, 0 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[16];
        uint64_t v[8];

        assert_int_equal(metrics_parse_stat_cpu_line(cases[i].line, name, sizeof name, v),
                         cases[i].rc);
        if (cases[i].rc != 0)
            continue;
        assert_string_equal(name, cases[i].name);
        assert_true(v[2] == cases[i].v2 && v[7] == cases[i].v7);
    }
}

static void
test_cpu_fields(void **state)
{
    const uint64_t a[8] = { 1000, 0, 500, 8000, 100, 0, 0, 0 };
    const uint64_t b[8] = { 1300, 0, 600, 8500, 150, 20, 10, 20 };

    ASSERT_JSON("{\"usage\":45,\"user\":30,\"nice\":0,\"system\":10,\"idle\":50,\"iowait\":5,"
                "\"irq\":2,\"softirq\":1,\"steal\":2}", metrics_cpu_fields(a, b, 1, &j_));
    ASSERT_JSON("{\"usage\":45,\"user\":30,\"system\":10,\"iowait\":5,\"steal\":2}",
                metrics_cpu_fields(a, b, 0, &j_));
    ASSERT_JSON("{}", metrics_cpu_fields(b, a, 1, &j_));     /* went back: nothing */
    ASSERT_JSON("{}", metrics_cpu_fields(a, a, 1, &j_));     /* no time passed */
}

static void
test_meminfo(void **state)
{
    struct metrics_meminfo m;

    assert_int_equal(metrics_parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\n"
                                           "MemAvailable: 600 kB\nSwapTotal: 0 kB\n"
                                           "SwapFree: 0 kB\nHugePages_Total: 0\n", &m), 0);
    assert_true(m.total == 1024000 && m.available == 614400 && m.has_swap && m.valid);
    /* no MemAvailable (kernels before 3.14): free + buffers + cached */
    assert_int_equal(metrics_parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\n"
                                           "Buffers: 10 kB\nCached: 20 kB\n", &m), 0);
    assert_true(m.available == 130 * 1024 && !m.has_swap);
    assert_int_equal(metrics_parse_meminfo("MemTotal:       16", &m), -1);   /* truncated */
    assert_int_equal(metrics_parse_meminfo("MemFree: 100 kB\n", &m), -1);    /* no total */
    assert_int_equal(metrics_parse_meminfo("MemTotal: 10 kB\nMemAvailable: 20 kB\n", &m), -1);
    assert_int_equal(metrics_parse_meminfo("garbage without colon\n", &m), -1);
}

static void
test_loadavg_uptime(void **state)
{
    uint64_t up, idle;

    ASSERT_JSON("{\"load1\":0.52,\"load5\":0.58,\"load15\":12,\"running\":2,\"procs\":345}",
                assert_int_equal(metrics_parse_loadavg("0.52 0.58 12.00 2/345 999\n", &j_), 0));
    ASSERT_JSON("{}", assert_int_equal(metrics_parse_loadavg("0.52 0.58\n", &j_), -1));
    ASSERT_JSON("{}", assert_int_equal(metrics_parse_loadavg("0.5 0.5 0.5 2-3 1\n", &j_), -1));
    assert_int_equal(metrics_parse_uptime("1010.00 1815.50\n", &up, &idle), 0);
    assert_true(up == 101000 && idle == 181550);
    assert_int_equal(metrics_parse_uptime("1010.00\n", &up, &idle), -1);
    assert_int_equal(metrics_parse_uptime("10 20 30\n", &up, &idle), -1);
}

static void
test_netdev_lines(void **state)
{
    char name[16];
    uint64_t v[8];

    assert_int_equal(metrics_parse_netdev_line("  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
                                               name, sizeof name, v), 0);
    assert_string_equal(name, "eth0");
    assert_true(v[0] == 1 && v[3] == 4 && v[4] == 9 && v[7] == 12);
    assert_int_equal(metrics_parse_netdev_line("docker0:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
                                               name, sizeof name, v), 0);
    assert_string_equal(name, "docker0");
    assert_int_equal(metrics_parse_netdev_line("Inter-|   Receive |  Transmit\n", name,
                                               sizeof name, v), 1);
    assert_int_equal(metrics_parse_netdev_line("  eth0: 1 2 3\n", name, sizeof name, v), -1);
    assert_int_equal(metrics_parse_netdev_line("no colon here\n", name, sizeof name, v), -1);
    assert_int_equal(metrics_parse_netdev_line(": 1 2\n", name, sizeof name, v), -1);
}

static void
test_diskstats_lines(void **state)
{
    char name[16];
    uint64_t v[5];

    assert_int_equal(metrics_parse_diskstats_line("   8  0 sda 1000 0 20000 500 2000 0 40000 800 "
                                                  "0 1500 1300 0 0 0 0\n", name, sizeof name, v), 0);
    assert_string_equal(name, "sda");
    assert_true(v[0] == 1000 && v[1] == 20000 && v[2] == 2000 && v[3] == 40000 && v[4] == 1500);
    assert_int_equal(metrics_parse_diskstats_line("8 0 sda 1 2 3\n", name, sizeof name, v), -1);
    assert_int_equal(metrics_parse_diskstats_line("sda 1 2 3\n", name, sizeof name, v), -1);
}

static void
test_mount_lines(void **state)
{
    char dev[64], dir[64], type[16];

    assert_int_equal(metrics_parse_mount_line("/dev/sdb1 /mnt/my\\040disk ext4 rw 0 0\n", dev,
                                              sizeof dev, dir, sizeof dir, type, sizeof type), 0);
    assert_string_equal(dev, "/dev/sdb1");
    assert_string_equal(dir, "/mnt/my disk");
    assert_string_equal(type, "ext4");
    assert_int_equal(metrics_parse_mount_line("/dev/sda1 relative ext4 rw 0 0\n", dev,
                                              sizeof dev, dir, sizeof dir, type, sizeof type), -1);
    assert_int_equal(metrics_parse_mount_line("/dev/sda1 /\n", dev, sizeof dev, dir, sizeof dir,
                                              type, sizeof type), -1);
}

static void
test_fs_fields(void **state)
{
    /* 4 KiB blocks: 1000 total, 400 free, 300 available to users; 100 inodes, 75 free */
    ASSERT_JSON("{\"total\":4096000,\"used\":2457600,\"free\":1228800,\"used_percent\":66.67,"
                "\"inodes_total\":100,\"inodes_used\":25,\"inodes_free\":75,"
                "\"inodes_used_percent\":25}",
                metrics_fs_fields(4096, 1000, 400, 300, 100, 75, &j_));
    ASSERT_JSON("{\"total\":4096,\"used\":0,\"free\":4096,\"used_percent\":0,\"inodes_total\":0,"
                "\"inodes_used\":0,\"inodes_free\":0,\"inodes_used_percent\":0}",
                metrics_fs_fields(4096, 1, 1, 1, 0, 0, &j_));
}

static void
test_temp_labels(void **state)
{
    static const struct { const char *label; int kind; unsigned core; const char *key; } cases[] = {
        { "Core 3", 1, 3, "core_3" }, { "Package id 0", 2, 0, "package_id_0" },
        { "Tdie", 2, 0, "tdie" }, { "Tctl", 2, 0, "tctl" }, { "Composite", 0, 0, "composite" },
        { "Core x", 0, 0, "core_x" }, { "  Sensor--2  ", 0, 0, "sensor_2" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned core = 0;
        char key[32];

        assert_int_equal(metrics_temp_label_kind(cases[i].label, &core), cases[i].kind);
        if (cases[i].kind == 1)
            assert_int_equal(core, cases[i].core);
        metrics_temp_key(cases[i].label, key, sizeof key);
        assert_string_equal(key, cases[i].key);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stat_cpu_lines),
        cmocka_unit_test(test_cpu_fields),
        cmocka_unit_test(test_meminfo),
        cmocka_unit_test(test_loadavg_uptime),
        cmocka_unit_test(test_netdev_lines),
        cmocka_unit_test(test_diskstats_lines),
        cmocka_unit_test(test_mount_lines),
        cmocka_unit_test(test_fs_fields),
        cmocka_unit_test(test_temp_labels),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
