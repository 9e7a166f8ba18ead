/*
 * opts.c: hub-metrics' flags, each with its HUB_* twin (the option table
 * main.c shows in --help). Values are borrowed from argv or environ.
 */
#include <stdio.h>

#include "hub.h"
#include "metrics.h"
#include "opt.h"

int
metrics_parse_args(struct metrics_opts *o, int argc, char **argv)
{
    const struct hub_opt opts[] = {
        { "exclude-disk", 0, "HUB_METRICS_EXCLUDE_DISK", HUB_OPT_STR, &o->exclude_disk, 0, 0,
          "PATTERNS", "diskio: leave out these disks (comma-separated globs)" },
        { "exclude-fs", 0, "HUB_METRICS_EXCLUDE_FS", HUB_OPT_STR, &o->exclude_fs, 0, 0,
          "TYPES", "disk: leave out these filesystem types (comma-separated globs)" },
        { "exclude-iface", 0, "HUB_METRICS_EXCLUDE_IFACE", HUB_OPT_STR, &o->exclude_iface, 0, 0,
          "PATTERNS", "network: leave out these interfaces (comma-separated globs)" },
        { "fs-root", 0, "HUB_FS_ROOT", HUB_OPT_STR, &o->fs_root, 0, 0, "DIR",
          "where the host's / is (statvfs, /etc/os-release)" },
        { "host", 0, "HUB_METRICS_HOST", HUB_OPT_STR, &o->host, 0, 0, "NAME",
          "host name for the rows (default <proc>/sys/kernel/hostname)" },
        { "interval", 'i', "HUB_METRICS_INTERVAL", HUB_OPT_UINT, &o->interval_s, 0, 86400,
          "SECONDS", "daemon mode: a sample every SECONDS (0: one sample and exit)" },
        { "no-db", 'n', "HUB_METRICS_NO_DB", HUB_OPT_FLAG, &o->no_db, 0, 0, NULL,
          "print the samples only; no database, no spool" },
        { "proc-root", 0, "HUB_PROC_ROOT", HUB_OPT_STR, &o->proc_root, 0, 0, "DIR",
          "read /proc from DIR" },
        { "spool-max", 0, "HUB_METRICS_SPOOL_MAX", HUB_OPT_UINT, &o->spool_max, 4096,
          1ull << 40, "BYTES", "bound of the spool kept while the database is away" },
        { "state-dir", 0, "HUB_STATE_DIR", HUB_OPT_STR, &o->state_dir, 0, 0, "DIR",
          "previous counters and spool (default $STATE_DIRECTORY)" },
        { "sys-root", 0, "HUB_SYS_ROOT", HUB_OPT_STR, &o->sys_root, 0, 0, "DIR",
          "read /sys from DIR" },
        { "warmup", 0, "HUB_METRICS_WARMUP_MS", HUB_OPT_UINT, &o->warmup_ms, 0, 60000, "MS",
          "first run without state: measure rates over MS (0: leave rates out)" },
    };
    const struct hub_prog prog = {
        "hub-metrics",
        "hub-metrics [-n] [-i SECONDS] [--state-dir DIR] [--proc-root DIR] [--sys-root DIR]",
        "Sample the host's CPU, memory, swap, load, filesystems, disk I/O, network,\n"
        "temperatures and uptime from /proc and /sys, print each metric type as a\n"
        "JSON line (msg \"sample\") and write one row per type into system_metrics.\n"
        "Rates are computed against the previous sample kept in the state directory,\n"
        "so a timer run never sleeps (only the very first takes --warmup). When\n"
        "PostgreSQL is away the sample goes to a bounded spool there, written first\n"
        "by the next run that reaches the database; the run then exits 75.",
        opts, sizeof opts / sizeof opts[0],
        "Environment: HUB_PG_DSN (or PGHOST, PGPORT, PGUSER, PGDATABASE), the\n"
        "password from the pg_password credential, HUB_PG_PASSWORD_FILE or\n"
        "PGPASSWORD; HUB_PG_CONNECT_TIMEOUT (seconds, default 5); HUB_LOG_LEVEL.\n"
        "Files: STATE/state (previous counters), STATE/spool, STATE/lock.\n",
    };
    int first = 0;
    int rc = hub_opt_parse(&prog, argc, argv, &first);

    if (rc != 0)
        return rc;
    if (first < argc) {
        fprintf(stderr, "hub-metrics: unexpected argument '%s'; try 'hub-metrics --help'\n",
                argv[first]);
        return EX_USAGE;
    }
    if (o->proc_root == NULL || o->proc_root[0] == '\0' || o->sys_root == NULL ||
        o->sys_root[0] == '\0' || o->fs_root == NULL || o->fs_root[0] == '\0') {
        fprintf(stderr, "hub-metrics: --proc-root, --sys-root and --fs-root must not be empty\n");
        return EX_USAGE;
    }
    return 0;
}
