/*
 * fuzz_metrics_parse.c: libFuzzer target over hub-metrics' readers of
 * untrusted text: the /proc and /sys parsers and the collectors built on
 * them, the state file, spool lines, libpq connection strings, the
 * exclude lists and the SCRAM server-first message.
 *
 * Input layout (so the corpus can be read and written by hand): one
 * selector byte, then the text for that reader:
 *   0x00  <proc>/stat          [NUL, previous state records]
 *   0x01  <proc>/meminfo
 *   0x02  <proc>/loadavg
 *   0x03  <proc>/self/mounts
 *   0x04  <proc>/diskstats     [NUL, previous state records]
 *   0x05  <proc>/net/dev       [NUL, previous state records]
 *   0x06  <proc>/uptime
 *   0x07  statvfs figures: frsize blocks bfree bavail files ffree (decimal)
 *   0x08  /etc/os-release (also taken as <proc>/sys/kernel/osrelease)
 *   0x0a  one hwmon chip and one thermal zone, a line each:
 *         name, temp1_label, temp1_input, zone type, zone temp
 *   0x0b  a sensor label ("Core 3", "Package id 0", "Tdie")
 *   0x0f  state records ("clock N", "cpu cpu0 1 2 ..."): the magic line
 *         and the checksum are added, so the records get parsed; the text
 *         is also parsed as it is
 *   0x10  a connection string (key=value words or a postgresql:// URI)
 *   0x11  one spool line (time, host, os, type, payload, tab-separated)
 *   0x12  an exclude list, '\n', a name
 *   0x13  the server-first message ["\n" server-final]; the first 24
 *         characters of its r= value stand for the client's nonce (the
 *         seed has RFC 5802's) and are replaced by this run's random one;
 *         more than 64 iterations (i=) skip the proof, which costs only time
 *   other selectors are ignored.
 * "Previous state records" are in the 0x0f form; the run's clock is
 * NOW_CS, so a record "clock 200" makes the rates cover 9800 cs.
 *
 * Most readers take the text from memory. The collectors and os-release
 * only read files, so those are written under one temporary directory
 * made at start ($TMPDIR): the files are removed after each input, the
 * directory at exit (run.sh points $TMPDIR into its scratch directory).
 * Invariants checked (abort() when broken): every payload the JSON writer
 * finishes is a JSON object of valid UTF-8 (PostgreSQL's jsonb refuses
 * anything else); a state survives format -> parse -> format unchanged,
 * also through a file; a spool line's fields join back into the line; a
 * parsed DSN has every default filled; a plain list entry matches itself.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "hub.h"
#include "log.h"
#include "../../cmd/hub-metrics/metrics.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_CS 10000u               /* the run's clock, <proc>/uptime in cs */
#define MAX_PAYLOAD (1u << 20)
#define SCRAM_NONCE_LEN 24          /* base64 of pgauth.c's 18 random bytes */
#define SCRAM_MAX_ITER 64           /* PBKDF2 rounds cost time, not coverage */
#define CPU_STAT "cpu  1 2 3 4\ncpu0 1 2 3 4\n"

/* The files the collectors read, relative to the temporary root; and the
 * directories holding them, parents first. */
static const char *const tree_dirs[] = {
    "proc", "proc/self", "proc/net", "proc/sys", "proc/sys/kernel", "etc", "sys",
    "sys/class", "sys/class/hwmon", "sys/class/hwmon/hwmon0", "sys/class/thermal",
    "sys/class/thermal/thermal_zone0",
};
static const char *const tree_files[] = {
    "proc/stat", "proc/diskstats", "proc/net/dev", "proc/sys/kernel/osrelease",
    "etc/os-release", "sys/class/hwmon/hwmon0/name", "sys/class/hwmon/hwmon0/temp1_label",
    "sys/class/hwmon/hwmon0/temp1_input", "sys/class/thermal/thermal_zone0/type",
    "sys/class/thermal/thermal_zone0/temp",
};

/* Set once by LLVMFuzzerInitialize: the temporary root and the roots the
 * collectors are pointed at. */
static char tmp_root[256], proc_root[300], sys_root[300];

static void
tree_path(const char *rel, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/%s", tmp_root, rel);

    if (n < 0 || (size_t)n >= outlen)
        abort();
}

static void
drop_files(void)
{
    char path[512];

    for (size_t i = 0; i < sizeof tree_files / sizeof tree_files[0]; i++) {
        tree_path(tree_files[i], path, sizeof path);
        (void)unlink(path);
    }
}

static void
remove_tree(void)
{
    char path[512];

    drop_files();
    for (size_t i = sizeof tree_dirs / sizeof tree_dirs[0]; i > 0; i--) {
        tree_path(tree_dirs[i - 1], path, sizeof path);
        (void)rmdir(path);
    }
    (void)rmdir(tmp_root);
}

static void
put_file(const char *rel, const char *text, size_t n)
{
    char path[512];
    int fd;

    tree_path(rel, path, sizeof path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || (n > 0 && write(fd, text, n) != (ssize_t)n) || close(fd) != 0)
        abort();                          /* the scratch tree is ours: cannot fail */
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* libpq's variables would fill the DSN: make the defaults fixed.
     * PGUSER also spares a getpwuid() per input. */
    static const char *const pgvars[] = {
        "PGHOST", "PGHOSTADDR", "PGPORT", "PGSSLMODE", "PGCONNECT_TIMEOUT", "PGDATABASE",
        "HUB_PG_CONNECT_TIMEOUT",
    };
    const char *tmp = getenv("TMPDIR");
    char path[512];
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

    /* Warnings are logged to stdout: keep the fuzzer's log readable. */
    if (null >= 0) {
        (void)dup2(null, STDOUT_FILENO);
        (void)close(null);
    }
    hub_log_init("fuzz_metrics_parse");
    for (size_t i = 0; i < sizeof pgvars / sizeof pgvars[0]; i++)
        unsetenv(pgvars[i]);
    setenv("PGUSER", "fuzz", 1);

    if (snprintf(tmp_root, sizeof tmp_root, "%s/hub-fuzz-metrics.XXXXXX",
                 tmp != NULL && *tmp != '\0' ? tmp : "/tmp") >= (int)sizeof tmp_root ||
        mkdtemp(tmp_root) == NULL)
        abort();
    for (size_t i = 0; i < sizeof tree_dirs / sizeof tree_dirs[0]; i++) {
        tree_path(tree_dirs[i], path, sizeof path);
        if (mkdir(path, 0700) != 0)
            abort();
    }
    atexit(remove_tree);
    tree_path("proc", proc_root, sizeof proc_root);
    tree_path("sys", sys_root, sizeof sys_root);
    return 0;
}

/* ---- invariants ---- */

/* RFC 3629 UTF-8, as PostgreSQL checks it: shortest form, no surrogates,
 * nothing past U+10FFFF. */
static int
utf8_strict(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                   : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        unsigned char lo = 0x80, hi = 0xBF;

        if (len == 0 || n - i < len)
            return 0;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
        else if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
        if (len > 1 && (s[i + 1] < lo || s[i + 1] > hi))
            return 0;
        for (size_t k = 2; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        }
        i += len;
    }
    return 1;
}

/* Close the outermost object; a payload that was finished must be a JSON
 * object of valid UTF-8. */
static void
check_payload(struct metrics_json *j, const struct hub_buf *b)
{
    cJSON *root;

    if (metrics_json_end(j) != 0)
        return;                           /* too large: reported, not written */
    if (!utf8_strict((const unsigned char *)hub_buf_str(b), b->len))
        abort();
    root = cJSON_ParseWithLength(hub_buf_str(b), b->len);
    if (!cJSON_IsObject(root))
        abort();
    cJSON_Delete(root);
}

static int
names_plain(const struct metrics_state *st)
{
    for (size_t i = 0; i < st->n; i++) {
        if (strpbrk(st->items[i].name, " \t\n") != NULL)
            return 0;
    }
    return 1;
}

/* format -> parse -> format gives the same text; and so does a file. */
static void
check_state_round_trip(const struct metrics_state *st)
{
    struct hub_buf a = HUB_BUF_INIT(METRICS_MAX_STATE), b = HUB_BUF_INIT(METRICS_MAX_STATE);
    struct metrics_state back = METRICS_STATE_INIT, fromfile = METRICS_STATE_INIT;
    size_t size = 0;
    int fd = -1;

    if (!names_plain(st) || metrics_state_format(st, &a) != 0)
        goto out;
    if (metrics_state_parse(hub_buf_str(&a), &back) != 0 || back.n != st->n ||
        back.has_clock != st->has_clock || metrics_state_format(&back, &b) != 0 ||
        strcmp(hub_buf_str(&a), hub_buf_str(&b)) != 0)
        abort();
    fd = memfd_create("fuzz-state", MFD_CLOEXEC);
    if (fd < 0)
        goto out;
    if (metrics_state_write_fd(fd, st, &size) != 0 || size != a.len ||
        metrics_state_read_fd(fd, &fromfile, &size) != 0 || size != a.len ||
        fromfile.n != st->n)
        abort();
out:
    if (fd >= 0)
        close(fd);
    metrics_state_release(&back);
    metrics_state_release(&fromfile);
    hub_buf_release(&a);
    hub_buf_release(&b);
}

/* ---- the readers ---- */

/* The text one selector gets: NUL-terminated, with the part after a NUL
 * byte (previous state records, when the selector takes them). */
struct input {
    char *text;                       /* owned */
    size_t len;                       /* up to the first NUL */
    const char *extra;                /* after the first NUL, or "" */
};

typedef void reader_fn(const struct input *in);

/* A collector over the files in the scratch tree, the previous sample
 * parsed from prev_records. */
static void
run_collector(metrics_collect_fn *fn, const char *prev_records, int has_uptime, uint64_t up,
              uint64_t idle)
{
    struct metrics_opts o = METRICS_OPTS_INIT;
    struct metrics_state prev = METRICS_STATE_INIT, next = METRICS_STATE_INIT;
    struct hub_buf prev_text = HUB_BUF_INIT(METRICS_MAX_STATE), out = HUB_BUF_INIT(MAX_PAYLOAD);
    struct metrics_ctx ctx;
    struct metrics_json j;
    int rc;

    o.proc_root = proc_root;
    o.sys_root = sys_root;
    o.fs_root = tmp_root;
    if (prev_records[0] != '\0' && metrics_state_wrap(prev_records, &prev_text) == 0)
        (void)metrics_state_parse(hub_buf_str(&prev_text), &prev);
    next.has_clock = 1;
    next.clock_cs = NOW_CS;
    metrics_ctx_init(&ctx, &o, &prev, &next);
    if (prev.has_clock && prev.clock_cs < NOW_CS)
        ctx.elapsed_cs = NOW_CS - prev.clock_cs;
    ctx.has_uptime = has_uptime;
    ctx.uptime_cs = up;
    ctx.idle_cs = idle;
    metrics_json_init(&j, &out);
    rc = fn(&ctx, &j);
    if (rc < 0 && ctx.why == NULL)
        abort();                          /* a failure always says why */
    check_payload(&j, &out);
    check_state_round_trip(&next);
    metrics_ctx_release(&ctx);
    metrics_state_release(&prev);
    metrics_state_release(&next);
    hub_buf_release(&prev_text);
    hub_buf_release(&out);
}

/* Each line through a line parser with a small name buffer. */
typedef int line_fn(const char *line, char *name, size_t namelen, uint64_t *v);

static void
each_line(const char *text, line_fn *fn, int max_rc)
{
    char name[16];
    uint64_t v[8];

    for (const char *p = text; *p != '\0'; ) {
        int rc = fn(p, name, sizeof name, v);

        if (rc < -1 || rc > max_rc || (rc == 0 && strlen(name) >= sizeof name))
            abort();
        if (metrics_next_line(&p) != 0)
            break;
    }
}

static int
stat_line(const char *line, char *name, size_t namelen, uint64_t *v)
{
    int rc = metrics_parse_stat_cpu_line(line, name, namelen, v);

    if (rc == 0 && strncmp(name, "cpu", 3) != 0)
        abort();
    return rc;
}

static int
disk_line(const char *line, char *name, size_t namelen, uint64_t *v)
{
    return metrics_parse_diskstats_line(line, name, namelen, v);
}

static int
net_line(const char *line, char *name, size_t namelen, uint64_t *v)
{
    return metrics_parse_netdev_line(line, name, namelen, v);
}

static void
read_stat(const struct input *in)
{
    each_line(in->text, stat_line, 1);
    put_file("proc/stat", in->text, in->len);
    run_collector(metrics_collect_cpu, in->extra, 0, 0, 0);
}

static void
read_diskstats(const struct input *in)
{
    each_line(in->text, disk_line, 0);
    put_file("proc/diskstats", in->text, in->len);
    run_collector(metrics_collect_diskio, in->extra, 0, 0, 0);
}

static void
read_netdev(const struct input *in)
{
    each_line(in->text, net_line, 1);
    put_file("proc/net/dev", in->text, in->len);
    run_collector(metrics_collect_network, in->extra, 0, 0, 0);
}

static void
read_meminfo(const struct input *in)
{
    struct metrics_opts o = METRICS_OPTS_INIT;
    struct metrics_state prev = METRICS_STATE_INIT, next = METRICS_STATE_INIT;
    struct hub_buf out = HUB_BUF_INIT(MAX_PAYLOAD);
    struct metrics_meminfo m;
    struct metrics_ctx ctx;
    struct metrics_json j;

    if (metrics_parse_meminfo(in->text, &m) != 0)
        return;
    if (!m.valid || m.total == 0 || m.available > m.total || m.swap_free > m.swap_total)
        abort();
    o.proc_root = proc_root;
    metrics_ctx_init(&ctx, &o, &prev, &next);
    ctx.mem = m;                          /* read: the collectors take it as it is */
    metrics_json_init(&j, &out);
    metrics_json_object(&j, "memory");
    if (metrics_collect_memory(&ctx, &j) != 0)
        abort();
    metrics_json_end(&j);
    metrics_json_object(&j, "swap");
    (void)metrics_collect_swap(&ctx, &j);
    metrics_json_end(&j);
    check_payload(&j, &out);
    metrics_ctx_release(&ctx);
    hub_buf_release(&out);
}

static void
read_loadavg(const struct input *in)
{
    struct hub_buf out = HUB_BUF_INIT(MAX_PAYLOAD);
    struct metrics_json j;

    metrics_json_init(&j, &out);
    if (metrics_parse_loadavg(in->text, &j) != 0 && out.len != 1)
        abort();                          /* refused: nothing written */
    check_payload(&j, &out);
    hub_buf_release(&out);
}

static void
read_mounts(const struct input *in)
{
    char dev[512], dir[1024], type[16];
    struct hub_buf out = HUB_BUF_INIT(MAX_PAYLOAD);
    struct metrics_json j;

    metrics_json_init(&j, &out);
    for (const char *p = in->text; *p != '\0'; ) {
        if (metrics_parse_mount_line(p, dev, sizeof dev, dir, sizeof dir, type,
                                     sizeof type) == 0) {
            if (dir[0] != '/' || strlen(type) >= sizeof type)
                abort();
            /* what the disk collector writes of a mount it keeps */
            if (!metrics_list_match(METRICS_EXCLUDE_FS_DEFAULT, type)) {
                metrics_json_object(&j, dir);
                metrics_json_str(&j, "device", dev);
                metrics_json_str(&j, "fstype", type);
                metrics_json_end(&j);
            }
        }
        if (metrics_next_line(&p) != 0)
            break;
    }
    check_payload(&j, &out);
    hub_buf_release(&out);
}

static void
read_uptime(const struct input *in)
{
    uint64_t up = 0, idle = 0;

    if (metrics_parse_uptime(in->text, &up, &idle) != 0)
        return;
    run_collector(metrics_collect_uptime, "", 1, up, idle);
}

static void
read_fs_figures(const struct input *in)
{
    struct hub_buf out = HUB_BUF_INIT(MAX_PAYLOAD);
    struct metrics_json j;
    uint64_t v[6];
    const char *p = in->text;

    for (int i = 0; i < 6; i++) {
        if (metrics_next_u64(&p, &v[i]) != 0)
            return;
    }
    metrics_json_init(&j, &out);
    metrics_fs_fields(v[0], v[1], v[2], v[3], v[4], v[5], &j);
    check_payload(&j, &out);
    hub_buf_release(&out);
}

static void
read_os_release(const struct input *in)
{
    put_file("etc/os-release", in->text, in->len);
    put_file("proc/sys/kernel/osrelease", in->text, in->len);
    run_collector(metrics_collect_uptime, "", 1, 0, 0);
}

static void
read_temps(const struct input *in)
{
    static const char *const files[] = {
        "sys/class/hwmon/hwmon0/name", "sys/class/hwmon/hwmon0/temp1_label",
        "sys/class/hwmon/hwmon0/temp1_input", "sys/class/thermal/thermal_zone0/type",
        "sys/class/thermal/thermal_zone0/temp",
    };
    const char *p = in->text;

    for (size_t i = 0; i < sizeof files / sizeof files[0] && *p != '\0'; i++) {
        size_t n = strcspn(p, "\n");

        put_file(files[i], p, n + (p[n] == '\n'));
        p += n + (p[n] == '\n');
    }
    run_collector(metrics_collect_temperature, "", 0, 0, 0);
    /* the cpu metric takes the package and core figures from the same read */
    put_file("proc/stat", CPU_STAT, sizeof CPU_STAT - 1);
    run_collector(metrics_collect_cpu, "", 0, 0, 0);
}

static void
read_label(const struct input *in)
{
    char key[METRICS_LABEL_MAX];
    unsigned core = 0;
    int kind = metrics_temp_label_kind(in->text, &core);

    if (kind < 0 || kind > 2 || (kind == 1 && strncmp(in->text, "Core ", 5) != 0))
        abort();
    for (size_t outlen = 1; outlen <= sizeof key; outlen += 7) {
        size_t n;

        metrics_temp_key(in->text, key, outlen);
        n = strlen(key);
        /* a JSON key of [a-z0-9_], no '_' at either end or twice */
        if (n >= outlen || strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_") != n ||
            (n > 0 && (key[0] == '_' || key[n - 1] == '_')) || strstr(key, "__") != NULL)
            abort();
    }
}

static void
read_state(const struct input *in)
{
    struct hub_buf text = HUB_BUF_INIT(METRICS_MAX_STATE);
    struct metrics_state st = METRICS_STATE_INIT;

    if (metrics_state_parse(in->text, &st) == 0)
        check_state_round_trip(&st);
    else if (st.n != 0 || st.has_clock)
        abort();                          /* refused: left empty */
    if (metrics_state_wrap(in->text, &text) == 0 &&
        metrics_state_parse(hub_buf_str(&text), &st) == 0)
        check_state_round_trip(&st);
    else if (st.n != 0 || st.has_clock)
        abort();
    metrics_state_release(&st);
    hub_buf_release(&text);
}

static void
read_dsn(const struct input *in)
{
    struct metrics_dsn d = METRICS_DSN_INIT;
    const char *err = NULL;

    if (metrics_dsn_parse(in->text, &d, &err) == 0) {
        const char *const must[] = { d.host, d.port, d.user, d.dbname, d.sslmode,
                                     d.connect_timeout };

        for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
            if (must[i] == NULL || must[i][0] == '\0')
                abort();
        }
    } else if (err == NULL) {
        abort();
    }
    metrics_dsn_release(&d);
    if (d.host != NULL || d.password != NULL)
        abort();
}

static void
read_spool_line(const struct input *in)
{
    struct hub_buf joined = HUB_BUF_INIT(METRICS_MAX_SPOOL_LINE * 2);
    struct metrics_row row;
    char *line = strdup(in->text);
    size_t len = in->len;

    if (line == NULL)
        return;
    if (len > 0 && in->text[len - 1] == '\n')
        len--;
    if (metrics_spool_parse_line(line, &row) == 0) {
        if (row.time[0] == '\0' || row.type[0] == '\0' || row.payload[0] != '{')
            abort();
        if (hub_buf_appendf(&joined, "%s\t%s\t%s\t%s\t%s", row.time, row.host, row.os,
                            row.type, row.payload) == 0 &&
            (joined.len != len || memcmp(hub_buf_str(&joined), in->text, len) != 0))
            abort();
    }
    hub_buf_release(&joined);
    free(line);
}

/* 1 when name is one of list's entries as it is, without glob characters. */
static int
plain_entry(const char *list, const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || strpbrk(name, "*?[,") != NULL)
        return 0;
    for (const char *p = list; p != NULL; ) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

        if (len == n && memcmp(p, name, n) == 0)
            return 1;
        p = comma != NULL ? comma + 1 : NULL;
    }
    return 0;
}

static void
read_exclude(const struct input *in)
{
    static const char *const defaults[] = {
        METRICS_EXCLUDE_IFACE_DEFAULT, METRICS_EXCLUDE_FS_DEFAULT, METRICS_EXCLUDE_DISK_DEFAULT,
    };
    char *nl = strchr(in->text, '\n');
    const char *name = "";

    if (nl != NULL) {
        *nl = '\0';
        name = nl + 1;
        nl = strchr(nl + 1, '\n');
        if (nl != NULL)
            *nl = '\0';
    }
    if (metrics_list_match(in->text, name) != 1 && plain_entry(in->text, name))
        abort();
    (void)metrics_list_match(in->text, in->text);
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        (void)metrics_list_match(defaults[i], name);
}

/* The iteration count the server asks for (the last i=, like pgauth.c), or 0. */
static uint64_t
scram_iterations(const char *msg, size_t len)
{
    uint64_t iter = 0;

    for (const char *p = msg; p < msg + len; ) {
        const char *comma = memchr(p, ',', (size_t)(msg + len - p));
        const char *q = p + 2;

        if (msg + len - p >= 2 && p[0] == 'i' && p[1] == '=' && metrics_next_u64(&q, &iter) != 0)
            iter = 0;
        p = comma != NULL ? comma + 1 : msg + len;
    }
    return iter;
}

static void
read_scram(const struct input *in)
{
    struct hub_buf first = HUB_BUF_INIT(256), final = HUB_BUF_INIT(4096);
    struct metrics_scram *s = NULL;
    char *msg = in->text, *nl = strchr(in->text, '\n');
    const char *server_final = "";
    size_t len;

    if (nl != NULL) {
        *nl = '\0';
        server_final = nl + 1;
    }
    len = strlen(msg);
    if (metrics_scram_begin(&s, "pencil", &first) != 0)
        goto out;                         /* no libcrypto here */
    if (first.len != 8 + SCRAM_NONCE_LEN || strncmp(hub_buf_str(&first), "n,,n=,r=", 8) != 0)
        abort();
    if (len >= 2 + SCRAM_NONCE_LEN && strncmp(msg, "r=", 2) == 0 &&
        strcspn(msg + 2, ",") >= SCRAM_NONCE_LEN)
        memcpy(msg + 2, hub_buf_str(&first) + 8, SCRAM_NONCE_LEN);
    if (scram_iterations(msg, len) <= SCRAM_MAX_ITER &&
        metrics_scram_continue(s, msg, len, &final) == 0 &&
        (strncmp(hub_buf_str(&final), "c=biws,r=", 9) != 0 ||
         strstr(hub_buf_str(&final), ",p=") == NULL))
        abort();
    /* nobody here knows the server key: a proof can only be refused */
    if (metrics_scram_verify(s, server_final, strlen(server_final)) != -1)
        abort();
out:
    metrics_scram_free(s);
    hub_buf_release(&first);
    hub_buf_release(&final);
}

static reader_fn *const readers[] = {
    [0x00] = read_stat,
    [0x01] = read_meminfo,
    [0x02] = read_loadavg,
    [0x03] = read_mounts,
    [0x04] = read_diskstats,
    [0x05] = read_netdev,
    [0x06] = read_uptime,
    [0x07] = read_fs_figures,
    [0x08] = read_os_release,
    [0x0a] = read_temps,
    [0x0b] = read_label,
    [0x0f] = read_state,
    [0x10] = read_dsn,
    [0x11] = read_spool_line,
    [0x12] = read_exclude,
    [0x13] = read_scram,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in;
    reader_fn *fn;
    const char *nul;

    if (size == 0 || data[0] >= sizeof readers / sizeof readers[0] || readers[data[0]] == NULL)
        return 0;
    fn = readers[data[0]];
    in.text = malloc(size);
    if (in.text == NULL)
        return 0;
    memcpy(in.text, data + 1, size - 1);
    in.text[size - 1] = '\0';
    nul = memchr(in.text, '\0', size);
    in.len = (size_t)(nul - in.text);
    in.extra = nul + 1 < in.text + size ? nul + 1 : "";
    fn(&in);
    drop_files();
    free(in.text);
    return 0;
}
