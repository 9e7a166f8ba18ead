/*
 * metrics.h: hub-metrics' parts and the contracts between them.
 *
 * One sample is: read the previous counters (state.c), run every collector
 * of the table in run.c over /proc and /sys into one JSON payload per
 * metric type, print each payload as a "sample" log line, then store the
 * rows (store_pg.c: spool replay first, then this sample in one
 * transaction; spool.c when the database is away) and save the counters for
 * the next run's rates.
 *
 * Cost is a design constraint (the program runs every few seconds on every
 * host): it links neither libpq nor libcurl, whose loading alone costs more
 * than a whole sample. pgwire.c speaks the PostgreSQL protocol itself and
 * pgauth.c loads libcrypto only when the server asks for a password hash.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define METRICS_SPOOL_MAX_DEFAULT (64ull * 1024 * 1024)
#define METRICS_WARMUP_MS_DEFAULT 1000ull
#define METRICS_COUNTER_VALUES 10    /* most counters one state record holds */
#define METRICS_NAME_MAX 48          /* longest cpu/disk/interface name kept */
#define METRICS_MAX_TYPES 16         /* metric types in one sample */
#define METRICS_MAX_STATE (1024u * 1024)
#define METRICS_MAX_SPOOL_LINE (1024u * 1024)

/* Pseudo filesystems (and overlay) left out of "disk" unless --exclude-fs says otherwise. */
#define METRICS_EXCLUDE_FS_DEFAULT \
    "autofs,binfmt_misc,bpf,cgroup,cgroup2,configfs,debugfs,devpts,devtmpfs," \
    "efivarfs,fuse.lxcfs,fuse.portal,fusectl,hugetlbfs,mqueue,nsfs,overlay," \
    "proc,pstore,ramfs,rpc_pipefs,securityfs,selinuxfs,squashfs,sysfs," \
    "tmpfs,tracefs,aufs,nfsd"
#define METRICS_EXCLUDE_IFACE_DEFAULT "lo,docker*,veth*,br-*,tun*,tailscale*,wg*,virbr*"
#define METRICS_EXCLUDE_DISK_DEFAULT "loop*,ram*,zram*,fd*,sr*"

struct metrics_opts {
    int no_db;
    unsigned long long interval_s;     /* 0: one sample and exit */
    unsigned long long warmup_ms;      /* first run without state: wait this long */
    unsigned long long spool_max;      /* bytes */
    const char *state_dir;             /* NULL: $STATE_DIRECTORY */
    const char *proc_root;
    const char *sys_root;
    const char *fs_root;               /* prefix for statvfs and /etc/os-release */
    const char *host;                  /* NULL: <proc>/sys/kernel/hostname */
    const char *exclude_iface;         /* comma-separated fnmatch patterns */
    const char *exclude_fs;            /* comma-separated filesystem types */
    const char *exclude_disk;          /* comma-separated fnmatch patterns */
};

#define METRICS_OPTS_INIT { 0, 0, METRICS_WARMUP_MS_DEFAULT, METRICS_SPOOL_MAX_DEFAULT, \
    NULL, "/proc", "/sys", "/", NULL, METRICS_EXCLUDE_IFACE_DEFAULT, \
    METRICS_EXCLUDE_FS_DEFAULT, METRICS_EXCLUDE_DISK_DEFAULT }

/* Parse argv and the HUB_* twins. 0, HUB_OPT_DONE (help printed) or EX_USAGE. */
int metrics_parse_args(struct metrics_opts *o, int argc, char **argv);

/* The program: one sample, or samples every interval until SIGTERM. */
int metrics_run(const struct metrics_opts *o);

/* ---- parse.c: small parsers for /proc text (no strtol: bounded, checked) */

/* Skip blanks, then read a decimal number; 0 or -1 (none, or overflow). */
int metrics_next_u64(const char **p, uint64_t *out);
/* A decimal with up to `digits` fraction digits, scaled: "12.5",2 -> 1250. */
int metrics_next_fixed(const char **p, unsigned digits, uint64_t *out);
/* Copy the next blank-separated word into out (NUL-terminated); 0 or -1. */
int metrics_next_word(const char **p, char *out, size_t outlen);
/* Advance *p past the end of the current line; 0, or -1 at the end. */
int metrics_next_line(const char **p);
/* 1 when name matches one of the comma-separated fnmatch patterns. */
int metrics_list_match(const char *list, const char *name);

/* ---- json.c: the payload writer (fixed-point numbers, see json.c) */

#define METRICS_JSON_DEPTH 8

struct metrics_json {
    struct hub_buf *b;                 /* borrowed */
    int err;                           /* sticky: an append failed */
    int depth;
    unsigned count[METRICS_JSON_DEPTH];
};

/* Start the outermost object in b. */
void metrics_json_init(struct metrics_json *j, struct hub_buf *b);
/* "key":{ ... closed by metrics_json_end(). */
void metrics_json_object(struct metrics_json *j, const char *key);
/* Close the innermost object; -1 when anything failed so far. */
int metrics_json_end(struct metrics_json *j);
void metrics_json_u64(struct metrics_json *j, const char *key, uint64_t v);
/* v / 10^decimals, trailing zeros dropped: (1250, 2) -> 12.5, (-500, 3) -> -0.5 */
void metrics_json_fixed(struct metrics_json *j, const char *key, int64_t v, unsigned decimals);
void metrics_json_str(struct metrics_json *j, const char *key, const char *s);
/* part/total as a percentage with two decimals, scaled by 100, rounded. */
uint64_t metrics_ratio2(uint64_t part, uint64_t total);

/* ---- state.c: the counters of the previous sample, for rates */

struct metrics_counter {
    char kind[8];                      /* "cpu", "disk", "net" */
    char name[METRICS_NAME_MAX];
    unsigned n;
    uint64_t v[METRICS_COUNTER_VALUES];
};

struct metrics_state {
    int has_clock;
    uint64_t clock_cs;                 /* <proc>/uptime, centiseconds */
    struct metrics_counter *items;     /* owned */
    size_t n, cap;
};

#define METRICS_STATE_INIT { 0, 0, NULL, 0, 0 }

/* Parse a state file's text. 0, or -1 when it is not one (state left empty). */
int metrics_state_parse(const char *text, struct metrics_state *st);
/* Append the state as text. 0 or a hub_buf error. */
int metrics_state_format(const struct metrics_state *st, struct hub_buf *out);
/* Append record lines framed as a state file (magic line, records, checksum),
 * whatever they hold: for the fuzz target, which feeds the parser past the
 * checksum. 0 or a hub_buf error. */
int metrics_state_wrap(const char *records, struct hub_buf *out);
/*
 * Read the state file open on fd (from offset 0): 0, 1 when it is empty (a
 * new file), -1 when it is unreadable or corrupt (torn by a crash). *size
 * gets the file's length (SIZE_MAX when unknown), for the next write.
 */
int metrics_state_read_fd(int fd, struct metrics_state *st, size_t *size);
/* Overwrite the file in place (see state.c); *size is its length before
 * and after. 0 or -1 with errno. */
int metrics_state_write_fd(int fd, const struct metrics_state *st, size_t *size);
/* Add a record (names too long are refused: -1). */
int metrics_state_put(struct metrics_state *st, const char *kind, const char *name,
                      const uint64_t *v, unsigned n);
/* The record, or NULL. Borrowed. */
const struct metrics_counter *metrics_state_get(const struct metrics_state *st,
                                                const char *kind, const char *name);
void metrics_state_reset(struct metrics_state *st);
void metrics_state_release(struct metrics_state *st);

/* ---- the collectors (collect_*.c) */

struct metrics_meminfo {
    int valid;
    uint64_t total, free, available, buffers, cached, shmem;
    uint64_t swap_total, swap_free, swap_cached;
    int has_available, has_swap;
};

#define METRICS_MAX_CORE_TEMPS 128
#define METRICS_MAX_SENSORS 128
#define METRICS_MAX_ZONES 32
#define METRICS_LABEL_MAX 48

struct metrics_temps {
    int read;                          /* 1 once read in this sample */
    int class_dirs;                    /* class/hwmon or class/thermal opened */
    int has_package;
    int64_t package;                   /* millidegrees Celsius, like sysfs */
    size_t ncores, nsensors, nzones;
    struct { unsigned core; int64_t mdeg; } cores[METRICS_MAX_CORE_TEMPS];
    struct { char chip[METRICS_LABEL_MAX], label[METRICS_LABEL_MAX]; int64_t mdeg; }
        sensors[METRICS_MAX_SENSORS];
    struct { char type[METRICS_LABEL_MAX]; int64_t mdeg; } zones[METRICS_MAX_ZONES];
};

/* What a collector sees: where to read, the previous counters, where to put
 * this sample's counters, and scratch buffers reused by every collector. */
struct metrics_ctx {
    const struct metrics_opts *opts;
    const struct metrics_state *prev;  /* never NULL; empty on a first run */
    struct metrics_state *next;
    uint64_t elapsed_cs;               /* clock delta to prev; 0: no rates */
    int has_uptime;                    /* <proc>/uptime read for the clock: */
    uint64_t uptime_cs, idle_cs;       /* its two figures */
    struct hub_buf file;               /* scratch: one file's contents */
    struct hub_buf path;               /* scratch: one path */
    struct metrics_meminfo mem;
    struct metrics_temps temps;
    const char *why;                   /* a failed collector's reason (static) */
    const char *what;                  /* and the file it was reading (borrowed) */
};

/*
 * Each collector writes its fields into j (an open object) and returns 0;
 * 1 when the host has nothing to report (no sensors: no row, no warning);
 * -1 with ctx->why (and ctx->what) set, and run.c logs the warning.
 */
typedef int metrics_collect_fn(struct metrics_ctx *ctx, struct metrics_json *j);

metrics_collect_fn metrics_collect_cpu;
metrics_collect_fn metrics_collect_memory;
metrics_collect_fn metrics_collect_swap;
metrics_collect_fn metrics_collect_load;
metrics_collect_fn metrics_collect_disk;
metrics_collect_fn metrics_collect_diskio;
metrics_collect_fn metrics_collect_network;
metrics_collect_fn metrics_collect_temperature;
metrics_collect_fn metrics_collect_uptime;

/* ctx.c: reading files under the roots into ctx->file. */
void metrics_ctx_init(struct metrics_ctx *ctx, const struct metrics_opts *o,
                      const struct metrics_state *prev, struct metrics_state *next);
void metrics_ctx_release(struct metrics_ctx *ctx);
/* Read root/rel into ctx->file. 0, or -1 with ctx->why/what set. */
int metrics_ctx_read(struct metrics_ctx *ctx, const char *root, const char *rel);
/* Set ctx->why and ctx->what (ctx->path's text) and return -1. */
int metrics_ctx_fail(struct metrics_ctx *ctx, const char *why);
/* 1 when --proc-root is this system's own /proc (uname(2) then says the same). */
int metrics_ctx_proc_is_own(const struct metrics_ctx *ctx);
/* Build root/rel in ctx->path; its text, or NULL when too long. */
const char *metrics_ctx_path(struct metrics_ctx *ctx, const char *root, const char *rel);
/* Write key: the per-second rate of a counter (times unit), two decimals;
 * nothing when unknown (no clock, or the counter went back). */
void metrics_ctx_rate(const struct metrics_ctx *ctx, struct metrics_json *j, const char *key,
                      uint64_t prev, uint64_t now, uint64_t unit);

/* Parsers and field writers the collectors use, exposed for the unit tests. */
int metrics_parse_meminfo(const char *text, struct metrics_meminfo *m);
int metrics_parse_loadavg(const char *text, struct metrics_json *j);
int metrics_parse_uptime(const char *text, uint64_t *up_cs, uint64_t *idle_cs);
/* One /proc/net/dev line into name and counters (rx bytes, packets, errs,
 * drop, tx bytes, packets, errs, drop). 0, 1 for a header line, -1 garbage. */
int metrics_parse_netdev_line(const char *line, char *name, size_t namelen, uint64_t v[8]);
/* One /proc/diskstats line: name and (reads, read sectors, writes, write
 * sectors, busy ms). 0 or -1. */
int metrics_parse_diskstats_line(const char *line, char *name, size_t namelen, uint64_t v[5]);
/* One /proc/stat "cpu" line: name and 8 jiffy counters (user nice system
 * idle iowait irq softirq steal). 0, 1 when not a cpu line, -1 garbage. */
int metrics_parse_stat_cpu_line(const char *line, char *name, size_t namelen, uint64_t v[8]);
/* The CPU fields for one cpu from two jiffy vectors (full: every share;
 * else usage, user, system, iowait, steal). Nothing when counters went back. */
void metrics_cpu_fields(const uint64_t prev[8], const uint64_t now[8], int full,
                        struct metrics_json *j);
/* One /proc/self/mounts line: device, mount point (octal escapes undone), type. */
int metrics_parse_mount_line(const char *line, char *dev, size_t devlen, char *dir,
                             size_t dirlen, char *type, size_t typelen);
/* The disk fields of one filesystem from statvfs numbers. */
void metrics_fs_fields(uint64_t frsize, uint64_t blocks, uint64_t bfree, uint64_t bavail,
                       uint64_t files, uint64_t ffree, struct metrics_json *j);
/* "Core 3" -> 1 (*core 3); "Package id 0", "Tdie", "Tctl" -> 2; else 0. */
int metrics_temp_label_kind(const char *label, unsigned *core);
/* A JSON key from a sensor label: "Package id 0" -> "package_id_0". */
void metrics_temp_key(const char *label, char *out, size_t outlen);
/* Read the temperatures once per sample into ctx->temps. */
void metrics_temps_read(struct metrics_ctx *ctx);

/* ---- rows, spool, store */

struct metrics_row {
    const char *time;                  /* RFC 3339 */
    const char *host;
    const char *os;
    const char *type;
    const char *payload;               /* JSON text */
};

/* Called with rows in order; 0 to go on, else the code to stop with. */
typedef int metrics_flush_fn(void *arg, const struct metrics_row *rows, size_t n);

/*
 * Append rows (one sample) to the spool file, dropping the oldest samples
 * when the file would exceed max bytes (the count is logged). Returns 0 or
 * EX_TEMPFAIL/EX_CANTCREAT after logging. *dropped gets the samples dropped.
 */
int metrics_spool_append(const char *path, const struct metrics_row *rows, size_t n,
                         uint64_t max, uint64_t *dropped);
/*
 * Hand every spooled row to flush in batches of at most batch rows, oldest
 * first, then remove the file. A missing file is 0 with *rows_out 0. When
 * flush fails the file stays (a later replay repeats it: the store is
 * idempotent) and its code is returned.
 */
int metrics_spool_replay(const char *path, size_t batch, metrics_flush_fn *flush,
                         void *arg, uint64_t *rows_out);
/* Parse one spool line in place (tabs become NULs). 0 or -1. */
int metrics_spool_parse_line(char *line, struct metrics_row *row);

/* ---- pgwire.c / pgauth.c / dsn.c: the lean PostgreSQL client */

struct metrics_dsn {
    char *host, *hostaddr, *port, *user, *dbname, *password, *sslmode;
    char *connect_timeout, *application_name;
};

#define METRICS_DSN_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

/*
 * Parse a libpq connection string (key=value words or a postgresql:// URI),
 * then fill what is unset from PG* variables and libpq's defaults. Returns
 * 0, or -1 with *err a static reason.
 */
int metrics_dsn_parse(const char *text, struct metrics_dsn *d, const char **err);
/* True when a database is configured: HUB_PG_DSN, PGHOST, PGDATABASE or PGSERVICE. */
int metrics_dsn_configured(void);
void metrics_dsn_release(struct metrics_dsn *d);

struct metrics_pg;

/*
 * Connect and authenticate (trust, password, md5, SCRAM-SHA-256) using
 * $HUB_PG_DSN or the PG* variables. Returns 0, EX_TEMPFAIL when the server
 * cannot be reached or is not ready, EX_CONFIG when the settings are wrong
 * (syntax, TLS demanded, authentication refused, no such database); logs
 * one error line on failure. Without a password the startup is pipelined
 * with the first metrics_pg_insert, which then returns those errors.
 */
int metrics_pg_connect(struct metrics_pg **out);
/*
 * INSERT the rows into system_metrics in one statement (one transaction),
 * ON CONFLICT DO NOTHING. *inserted gets the rows new to the table. Returns
 * 0, EX_TEMPFAIL (connection lost: reconnect), EX_CONFIG (no table) or
 * EX_DATAERR after logging one line.
 */
int metrics_pg_insert(struct metrics_pg *pg, const struct metrics_row *rows, size_t n,
                      uint64_t *inserted);
/* Close (sends Terminate); accepts NULL. */
void metrics_pg_close(struct metrics_pg *pg);

/* pgauth.c: answers to the server's authentication requests. */
struct metrics_scram;
int metrics_md5_password(const char *user, const char *password, const unsigned char salt[4],
                         char out[36]);
/* SCRAM-SHA-256 client: first message, final message, server check. */
int metrics_scram_begin(struct metrics_scram **s, const char *password, struct hub_buf *first);
int metrics_scram_continue(struct metrics_scram *s, const char *server_first, size_t len,
                           struct hub_buf *final);
int metrics_scram_verify(struct metrics_scram *s, const char *server_final, size_t len);
void metrics_scram_free(struct metrics_scram *s);
/* base64 (RFC 4648), for SCRAM. decode returns the length or -1. */
int metrics_base64_encode(const unsigned char *in, size_t n, struct hub_buf *out);
long metrics_base64_decode(const char *in, size_t n, unsigned char *out, size_t outlen);
/*
 * The database password when the DSN has none: $CREDENTIALS_DIRECTORY/pg_password,
 * the file $HUB_PG_PASSWORD_FILE, $PGPASSWORD, $HUB_PG_PASSWORD. 0 with
 * *found, or EX_CONFIG when a named file is unreadable.
 */
int metrics_pg_password(struct hub_buf *out, int *found);

/* ---- store_pg.c: the sample's way into the database */

struct metrics_store {
    struct metrics_pg *pg;             /* kept open in daemon mode */
    const char *spool_path;            /* owned by the caller */
    uint64_t spool_max;
};

/*
 * Replay the spool, then write rows; on a database failure append rows to
 * the spool instead. Returns 0 (stored), EX_TEMPFAIL (spooled), EX_CONFIG
 * (spooled, but the settings need a fix), or the spool's own failure.
 */
int metrics_store_sample(struct metrics_store *st, const struct metrics_row *rows, size_t n);
void metrics_store_release(struct metrics_store *st);

#endif
