/*
 * collect_load.c: the "load" metric from <proc>/loadavg: the 1, 5 and 15
 * minute load averages and the runnable/total scheduling entities.
 */
#include "metrics.h"

int
metrics_parse_loadavg(const char *text, struct metrics_json *j)
{
    static const char *const keys[] = { "load1", "load5", "load15" };
    const char *p = text;
    uint64_t v[3], running, procs;

    for (int i = 0; i < 3; i++) {
        if (metrics_next_fixed(&p, 2, &v[i]) != 0 || v[i] > INT64_MAX)
            return -1;
    }
    if (metrics_next_u64(&p, &running) != 0 || *p++ != '/' ||
        metrics_next_u64(&p, &procs) != 0)
        return -1;
    for (int i = 0; i < 3; i++)
        metrics_json_fixed(j, keys[i], (int64_t)v[i], 2);
    metrics_json_u64(j, "running", running);
    metrics_json_u64(j, "procs", procs);
    return 0;
}

int
metrics_collect_load(struct metrics_ctx *ctx, struct metrics_json *j)
{
    if (metrics_ctx_read(ctx, ctx->opts->proc_root, "loadavg") != 0)
        return -1;
    if (metrics_parse_loadavg(hub_buf_str(&ctx->file), j) != 0)
        return metrics_ctx_fail(ctx, "unexpected loadavg contents");
    return 0;
}
