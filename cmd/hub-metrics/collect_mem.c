/*
 * collect_mem.c: the "memory" and "swap" metrics from <proc>/meminfo, read
 * once per sample (ctx->mem) for both. Bytes, like the Go collector; used is
 * total - available (what free(1) calls used).
 */
#include <string.h>

#include "metrics.h"

struct meminfo_key {
    const char *name;
    size_t off;
    size_t flag;      /* offset of an int set when the key is present, or 0 */
};

#define M(field) offsetof(struct metrics_meminfo, field)

static const struct meminfo_key meminfo_keys[] = {
    { "MemTotal", M(total), 0 },
    { "MemFree", M(free), 0 },
    { "MemAvailable", M(available), M(has_available) },
    { "Buffers", M(buffers), 0 },
    { "Cached", M(cached), 0 },
    { "Shmem", M(shmem), 0 },
    { "SwapTotal", M(swap_total), M(has_swap) },
    { "SwapFree", M(swap_free), 0 },
    { "SwapCached", M(swap_cached), 0 },
};

static int
meminfo_line(const char *p, struct metrics_meminfo *m)
{
    const char *colon = strchr(p, ':');
    const char *nl = strchr(p, '\n');
    uint64_t kb;

    if (colon == NULL || (nl != NULL && colon > nl))
        return -1;
    for (size_t i = 0; i < sizeof meminfo_keys / sizeof meminfo_keys[0]; i++) {
        const struct meminfo_key *k = &meminfo_keys[i];

        if (strlen(k->name) != (size_t)(colon - p) || strncmp(p, k->name, (size_t)(colon - p)) != 0)
            continue;
        p = colon + 1;
        /* a line cut short ("MemTotal:  16") has no unit: not a number to trust */
        if (metrics_next_u64(&p, &kb) != 0 || kb > UINT64_MAX / 1024 || strncmp(p, " kB", 3) != 0)
            return -1;
        *(uint64_t *)((char *)m + k->off) = kb * 1024;
        if (k->flag != 0)
            *(int *)((char *)m + k->flag) = 1;
        return 0;
    }
    return 0;
}

int
metrics_parse_meminfo(const char *text, struct metrics_meminfo *m)
{
    const char *p = text;

    memset(m, 0, sizeof *m);
    while (*p != '\0') {
        if (meminfo_line(p, m) != 0)
            return -1;
        if (metrics_next_line(&p) != 0)
            break;
    }
    if (m->total == 0)
        return -1;
    if (!m->has_available)      /* kernels before 3.14 */
        m->available = m->free + m->buffers + m->cached;
    if (m->available > m->total || m->swap_free > m->swap_total)
        return -1;
    m->valid = 1;
    return 0;
}

static int
read_meminfo(struct metrics_ctx *ctx)
{
    if (ctx->mem.valid)
        return 0;
    if (metrics_ctx_read(ctx, ctx->opts->proc_root, "meminfo") != 0)
        return -1;
    if (metrics_parse_meminfo(hub_buf_str(&ctx->file), &ctx->mem) != 0)
        return metrics_ctx_fail(ctx, "unexpected meminfo contents");
    return 0;
}


int
metrics_collect_memory(struct metrics_ctx *ctx, struct metrics_json *j)
{
    const struct metrics_meminfo *m = &ctx->mem;

    if (read_meminfo(ctx) != 0)
        return -1;
    metrics_json_u64(j, "total", m->total);
    metrics_json_u64(j, "available", m->available);
    metrics_json_u64(j, "used", m->total - m->available);
    metrics_json_fixed(j, "used_percent",
                       (int64_t)metrics_ratio2(m->total - m->available, m->total), 2);
    metrics_json_u64(j, "free", m->free);
    metrics_json_u64(j, "buffers", m->buffers);
    metrics_json_u64(j, "cached", m->cached);
    metrics_json_u64(j, "shared", m->shmem);
    return 0;
}

int
metrics_collect_swap(struct metrics_ctx *ctx, struct metrics_json *j)
{
    const struct metrics_meminfo *m = &ctx->mem;

    if (read_meminfo(ctx) != 0)
        return -1;
    if (!m->has_swap)
        return metrics_ctx_fail(ctx, "no SwapTotal in meminfo");
    metrics_json_u64(j, "total", m->swap_total);
    metrics_json_u64(j, "free", m->swap_free);
    metrics_json_u64(j, "used", m->swap_total - m->swap_free);
    metrics_json_fixed(j, "used_percent",
                       (int64_t)metrics_ratio2(m->swap_total - m->swap_free, m->swap_total), 2);
    metrics_json_u64(j, "cached", m->swap_cached);
    return 0;
}
