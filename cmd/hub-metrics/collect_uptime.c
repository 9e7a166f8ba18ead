/*
 * collect_uptime.c: the "uptime" metric: <proc>/uptime, plus what says which
 * host this is: the kernel release (<proc>/sys/kernel/osrelease) and the
 * distribution from <fs-root>/etc/os-release (ID, VERSION_ID, PRETTY_NAME).
 * Missing host details are left out; only a bad uptime fails the metric.
 * With the host's own /proc, uname(2) gives the same release in one system
 * call instead of a file's open, read and close; and the uptime the run
 * already read for its clock (ctx->uptime_*) is not read twice.
 */
#include <string.h>
#include <sys/utsname.h>

#include "metrics.h"

int
metrics_parse_uptime(const char *text, uint64_t *up_cs, uint64_t *idle_cs)
{
    const char *p = text;

    if (metrics_next_fixed(&p, 2, up_cs) != 0 || metrics_next_fixed(&p, 2, idle_cs) != 0)
        return -1;
    return *p == '\n' || *p == '\0' ? 0 : -1;
}

/* The first line of a small file, without its newline. */
static void
add_first_line(struct metrics_ctx *ctx, const char *root, const char *rel, const char *key,
               struct metrics_json *j)
{
    char *nl;

    if (metrics_ctx_read(ctx, root, rel) != 0 || ctx->file.len == 0)
        return;
    nl = strchr(ctx->file.data, '\n');
    if (nl != NULL)
        *nl = '\0';
    if (ctx->file.data[0] != '\0')
        metrics_json_str(j, key, ctx->file.data);
}

/* KEY=value or KEY="value" from os-release (no escapes beyond the quotes). */
static void
add_os_release_value(const char *text, const char *name, const char *key, struct metrics_json *j)
{
    size_t nlen = strlen(name);
    char val[256];

    for (const char *p = text; p != NULL && *p != '\0'; ) {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

        if (len > nlen + 1 && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = len - nlen - 1;

            if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
                v++;
                vlen -= 2;
            }
            if (vlen > 0 && vlen < sizeof val) {
                memcpy(val, v, vlen);
                val[vlen] = '\0';
                metrics_json_str(j, key, val);
            }
            return;
        }
        p = nl != NULL ? nl + 1 : NULL;
    }
}

static void
add_os_release(struct metrics_ctx *ctx, struct metrics_json *j)
{
    const char *fs = ctx->opts->fs_root;

    if (metrics_ctx_read(ctx, fs, "etc/os-release") != 0 &&
        metrics_ctx_read(ctx, fs, "usr/lib/os-release") != 0)
        return;
    add_os_release_value(hub_buf_str(&ctx->file), "ID", "os_id", j);
    add_os_release_value(hub_buf_str(&ctx->file), "VERSION_ID", "os_version", j);
    add_os_release_value(hub_buf_str(&ctx->file), "PRETTY_NAME", "os_name", j);
}

static void
add_kernel(struct metrics_ctx *ctx, struct metrics_json *j)
{
    struct utsname u;

    if (metrics_ctx_proc_is_own(ctx) && uname(&u) == 0 && u.release[0] != '\0')
        metrics_json_str(j, "kernel", u.release);
    else
        add_first_line(ctx, ctx->opts->proc_root, "sys/kernel/osrelease", "kernel", j);
}

int
metrics_collect_uptime(struct metrics_ctx *ctx, struct metrics_json *j)
{
    uint64_t up = ctx->uptime_cs, idle = ctx->idle_cs;

    if (!ctx->has_uptime && metrics_ctx_read(ctx, ctx->opts->proc_root, "uptime") != 0)
        return -1;
    if (!ctx->has_uptime && metrics_parse_uptime(hub_buf_str(&ctx->file), &up, &idle) != 0)
        return metrics_ctx_fail(ctx, "unexpected uptime contents");
    if (up > INT64_MAX || idle > INT64_MAX)
        return metrics_ctx_fail(ctx, "unexpected uptime contents");
    metrics_json_fixed(j, "seconds", (int64_t)up, 2);
    metrics_json_fixed(j, "idle_seconds", (int64_t)idle, 2);
    add_kernel(ctx, j);
    add_os_release(ctx, j);
    return 0;
}
