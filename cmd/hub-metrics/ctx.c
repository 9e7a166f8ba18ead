/*
 * ctx.c: the per-sample context the collectors share: where the trees are,
 * the two counter states, scratch buffers reused by every collector (one
 * file at a time, so a sample allocates a handful of times, not per file)
 * and the rate arithmetic. Owns the scratch buffers.
 */
#include <errno.h>
#include <string.h>

#include "fileio.h"
#include "hub.h"
#include "metrics.h"

void
metrics_ctx_init(struct metrics_ctx *ctx, const struct metrics_opts *o,
                 const struct metrics_state *prev, struct metrics_state *next)
{
    /* Field by field, not memset: ctx->temps is ~17 KiB of tables that are
     * filled (and counted) as sensors are read, and clearing it all cost a
     * few stack page faults per sample for nothing. */
    ctx->opts = o;
    ctx->prev = prev;
    ctx->next = next;
    ctx->elapsed_cs = 0;
    ctx->has_uptime = 0;
    ctx->uptime_cs = ctx->idle_cs = 0;
    hub_buf_init(&ctx->file, HUB_MAX_PROC_FILE);
    hub_buf_init(&ctx->path, HUB_MAX_PATH);
    ctx->mem.valid = 0;
    ctx->temps.read = 0;
    ctx->temps.has_package = 0;
    ctx->temps.package = 0;
    ctx->temps.ncores = ctx->temps.nsensors = ctx->temps.nzones = 0;
    ctx->temps.class_dirs = 0;
    ctx->why = ctx->what = NULL;
}

void
metrics_ctx_release(struct metrics_ctx *ctx)
{
    hub_buf_release(&ctx->file);
    hub_buf_release(&ctx->path);
}

int
metrics_ctx_proc_is_own(const struct metrics_ctx *ctx)
{
    return strcmp(ctx->opts->proc_root, "/proc") == 0;
}

const char *
metrics_ctx_path(struct metrics_ctx *ctx, const char *root, const char *rel)
{
    size_t rlen = strlen(root);

    while (rlen > 1 && root[rlen - 1] == '/')
        rlen--;
    hub_buf_reset(&ctx->path);
    if (rlen == 1 && root[0] == '/')
        rlen = 0;
    if (hub_buf_append(&ctx->path, root, rlen) != 0 ||
        (rel[0] != '/' && hub_buf_appendc(&ctx->path, '/') != 0) ||
        hub_buf_appends(&ctx->path, rel) != 0)
        return NULL;
    return hub_buf_str(&ctx->path);
}

int
metrics_ctx_fail(struct metrics_ctx *ctx, const char *why)
{
    ctx->why = why;
    ctx->what = hub_buf_str(&ctx->path);
    return -1;
}

int
metrics_ctx_read(struct metrics_ctx *ctx, const char *root, const char *rel)
{
    const char *path = metrics_ctx_path(ctx, root, rel);

    hub_buf_reset(&ctx->file);
    if (path == NULL)
        return metrics_ctx_fail(ctx, "path too long");
    if (hub_file_read(path, HUB_MAX_PROC_FILE, &ctx->file) != 0)
        return metrics_ctx_fail(ctx, errno == EFBIG ? "file too large" : strerror(errno));
    return 0;
}

void
metrics_ctx_rate(const struct metrics_ctx *ctx, struct metrics_json *j, const char *key,
                 uint64_t prev, uint64_t now, uint64_t unit)
{
    uint64_t delta = now - prev;

    if (ctx->elapsed_cs == 0 || now < prev || (unit > 1 && delta > UINT64_MAX / unit))
        return;
    /* delta*unit per elapsed_cs/100 seconds, two decimals: ratio2 */
    metrics_json_fixed(j, key, (int64_t)metrics_ratio2(delta * unit, ctx->elapsed_cs), 2);
}
