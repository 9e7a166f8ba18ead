/*
 * collect_diskio.c: the "diskio" metric from <proc>/diskstats: for each
 * whole disk (one that has <sys>/block/NAME; by name when /sys is not
 * there) the operation, byte and busy-time counters and, against the
 * previous sample, their rates. Names in --exclude-disk are left out.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"

enum { D_READS, D_RSECT, D_WRITES, D_WSECT, D_BUSY, D_N };

int
metrics_parse_diskstats_line(const char *line, char *name, size_t namelen, uint64_t v[5])
{
    const char *p = line;
    uint64_t f[11];

    if (metrics_next_u64(&p, &f[0]) != 0 || metrics_next_u64(&p, &f[1]) != 0 ||
        metrics_next_word(&p, name, namelen) != 0)
        return -1;
    for (int i = 0; i < 11; i++) {
        if (metrics_next_u64(&p, &f[i]) != 0)
            return -1;
    }
    v[D_READS] = f[0];
    v[D_RSECT] = f[2];
    v[D_WRITES] = f[4];
    v[D_WSECT] = f[6];
    v[D_BUSY] = f[9];
    return 0;
}

/* Without /sys: sda1, vdb2, xvda1, nvme0n1p1 and mmcblk0p1 are partitions. */
static int
named_like_partition(const char *name)
{
    size_t n = strlen(name), i = n;

    while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
        i--;
    if (i == n || i == 0)
        return 0;
    if (name[i - 1] == 'p' && i >= 2 && name[i - 2] >= '0' && name[i - 2] <= '9')
        return 1;
    return strncmp(name, "sd", 2) == 0 || strncmp(name, "vd", 2) == 0 ||
           strncmp(name, "hd", 2) == 0 || strncmp(name, "xvd", 3) == 0;
}

static int
whole_disk(struct metrics_ctx *ctx, int have_sys_block, const char *name)
{
    struct stat st;
    const char *path;

    if (metrics_list_match(ctx->opts->exclude_disk, name))
        return 0;
    if (!have_sys_block)
        return !named_like_partition(name);
    path = metrics_ctx_path(ctx, ctx->opts->sys_root, "block");
    return path != NULL && hub_buf_appendc(&ctx->path, '/') == 0 &&
           hub_buf_appends(&ctx->path, name) == 0 && stat(hub_buf_str(&ctx->path), &st) == 0;
}

static int
one_disk(struct metrics_ctx *ctx, const char *name, const uint64_t v[D_N],
         struct metrics_json *j)
{
    const struct metrics_counter *prev = metrics_state_get(ctx->prev, "disk", name);

    if (metrics_state_put(ctx->next, "disk", name, v, D_N) != 0)
        return -1;
    metrics_json_object(j, name);
    metrics_json_u64(j, "reads", v[D_READS]);
    metrics_json_u64(j, "writes", v[D_WRITES]);
    metrics_json_u64(j, "read_bytes", v[D_RSECT] * 512);
    metrics_json_u64(j, "write_bytes", v[D_WSECT] * 512);
    metrics_json_u64(j, "busy_ms", v[D_BUSY]);
    if (prev != NULL && prev->n == D_N) {
        metrics_ctx_rate(ctx, j, "reads_per_s", prev->v[D_READS], v[D_READS], 1);
        metrics_ctx_rate(ctx, j, "writes_per_s", prev->v[D_WRITES], v[D_WRITES], 1);
        metrics_ctx_rate(ctx, j, "read_bytes_per_s", prev->v[D_RSECT], v[D_RSECT], 512);
        metrics_ctx_rate(ctx, j, "write_bytes_per_s", prev->v[D_WSECT], v[D_WSECT], 512);
    }
    /* busy ms over the elapsed ms, as a percentage; capped (rounding) at 100 */
    if (prev != NULL && prev->n == D_N && ctx->elapsed_cs > 0 && v[D_BUSY] >= prev->v[D_BUSY]) {
        uint64_t pct = metrics_ratio2(v[D_BUSY] - prev->v[D_BUSY], ctx->elapsed_cs * 10);

        metrics_json_fixed(j, "busy_percent", (int64_t)(pct > 10000 ? 10000 : pct), 2);
    }
    metrics_json_end(j);
    return 0;
}

int
metrics_collect_diskio(struct metrics_ctx *ctx, struct metrics_json *j)
{
    char name[METRICS_NAME_MAX];
    uint64_t v[D_N];
    const char *p;
    const char *block = metrics_ctx_path(ctx, ctx->opts->sys_root, "block");
    int have_sys_block = block != NULL && access(block, X_OK) == 0;

    if (metrics_ctx_read(ctx, ctx->opts->proc_root, "diskstats") != 0)
        return -1;
    for (p = hub_buf_str(&ctx->file); *p != '\0'; ) {
        if (metrics_parse_diskstats_line(p, name, sizeof name, v) != 0)
            return metrics_ctx_fail(ctx, "unexpected diskstats line");
        if (whole_disk(ctx, have_sys_block, name) && one_disk(ctx, name, v, j) != 0)
            return metrics_ctx_fail(ctx, "out of memory");
        if (metrics_next_line(&p) != 0)
            break;
    }
    return 0;
}
