/*
 * collect_cpu.c: the "cpu" metric from <proc>/stat: total and per-cpu
 * usage (percent of the time since the previous sample, split into user,
 * system, iowait, steal ...) plus the package and core temperatures the
 * Go collector put here (package_temp, core_temps {core_N}). Counters go
 * to the next state; nothing is kept between samples here.
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

enum { J_USER, J_NICE, J_SYSTEM, J_IDLE, J_IOWAIT, J_IRQ, J_SOFTIRQ, J_STEAL, J_N };

int
metrics_parse_stat_cpu_line(const char *line, char *name, size_t namelen, uint64_t v[8])
{
    const char *p = line;
    unsigned n = 0;

    if (strncmp(line, "cpu", 3) != 0)
        return 1;
    if (metrics_next_word(&p, name, namelen) != 0)
        return -1;
    if (strcmp(name, "cpu") != 0 && (name[3] < '0' || name[3] > '9'))
        return -1;
    memset(v, 0, J_N * sizeof v[0]);
    /* Older kernels print fewer columns; guest time is already in user. */
    while (n < J_N && metrics_next_u64(&p, &v[n]) == 0)
        n++;
    if (n < 4 || (*p != ' ' && *p != '\n' && *p != '\0'))
        return -1;
    return 0;
}

void
metrics_cpu_fields(const uint64_t prev[8], const uint64_t now[8], int full,
                   struct metrics_json *j)
{
    static const char *const names[J_N] = {
        "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
    };
    uint64_t d[J_N], total = 0;

    for (int i = 0; i < J_N; i++) {
        if (now[i] < prev[i])
            return;             /* counters went back (cpu replugged): no figure */
        d[i] = now[i] - prev[i];
        total += d[i];
    }
    if (total == 0)
        return;
    metrics_json_fixed(j, "usage", (int64_t)metrics_ratio2(total - d[J_IDLE] - d[J_IOWAIT],
                                                           total), 2);
    for (int i = 0; i < J_N; i++) {
        if (full || i == J_USER || i == J_SYSTEM || i == J_IOWAIT || i == J_STEAL)
            metrics_json_fixed(j, names[i], (int64_t)metrics_ratio2(d[i], total), 2);
    }
}

static void
write_temps(struct metrics_ctx *ctx, struct metrics_json *j)
{
    const struct metrics_temps *t = &ctx->temps;
    char key[32];

    metrics_temps_read(ctx);
    if (t->has_package)
        metrics_json_fixed(j, "package_temp", t->package, 3);
    if (t->ncores == 0)
        return;
    metrics_json_object(j, "core_temps");
    for (size_t i = 0; i < t->ncores; i++) {
        snprintf(key, sizeof key, "core_%u", t->cores[i].core);
        metrics_json_fixed(j, key, t->cores[i].mdeg, 3);
    }
    metrics_json_end(j);
}

/* Remember every cpu line's counters in ctx->next; count the cpuN lines. */
static int
read_counters(struct metrics_ctx *ctx, int *ncpu)
{
    char name[METRICS_NAME_MAX];
    uint64_t v[J_N];
    int seen_total = 0;

    *ncpu = 0;
    for (const char *p = hub_buf_str(&ctx->file); *p != '\0'; ) {
        int rc = metrics_parse_stat_cpu_line(p, name, sizeof name, v);

        if (rc < 0)
            return metrics_ctx_fail(ctx, "unexpected cpu line");
        if (rc == 0 && metrics_state_put(ctx->next, "cpu", name, v, J_N) != 0)
            return metrics_ctx_fail(ctx, "cpu name too long or out of memory");
        if (rc == 0 && strcmp(name, "cpu") == 0)
            seen_total = 1;
        else if (rc == 0)
            (*ncpu)++;
        if (metrics_next_line(&p) != 0)
            break;
    }
    if (!seen_total || *ncpu == 0)
        return metrics_ctx_fail(ctx, "no cpu lines");
    return 0;
}

/* Has the previous sample this cpu, with the same shape? */
static const struct metrics_counter *
prev_of(const struct metrics_ctx *ctx, const char *name)
{
    const struct metrics_counter *c = metrics_state_get(ctx->prev, "cpu", name);

    return c != NULL && c->n == J_N ? c : NULL;
}

static void
write_cores(struct metrics_ctx *ctx, struct metrics_json *j)
{
    int open = 0;

    for (size_t i = 0; i < ctx->next->n; i++) {
        const struct metrics_counter *now = &ctx->next->items[i];
        const struct metrics_counter *prev;

        if (strcmp(now->kind, "cpu") != 0 || strcmp(now->name, "cpu") == 0)
            continue;
        prev = prev_of(ctx, now->name);
        if (prev == NULL)
            continue;
        if (!open)
            metrics_json_object(j, "cores");
        open = 1;
        metrics_json_object(j, now->name);
        metrics_cpu_fields(prev->v, now->v, 0, j);
        metrics_json_end(j);
    }
    if (open)
        metrics_json_end(j);
}

int
metrics_collect_cpu(struct metrics_ctx *ctx, struct metrics_json *j)
{
    const struct metrics_counter *prev, *now;
    int ncpu;

    if (metrics_ctx_read(ctx, ctx->opts->proc_root, "stat") != 0 ||
        read_counters(ctx, &ncpu) != 0)
        return -1;
    prev = prev_of(ctx, "cpu");
    now = metrics_state_get(ctx->next, "cpu", "cpu");
    if (prev != NULL && now != NULL)
        metrics_cpu_fields(prev->v, now->v, 1, j);
    metrics_json_u64(j, "count", (uint64_t)ncpu);
    write_cores(ctx, j);
    write_temps(ctx, j);
    return 0;
}
