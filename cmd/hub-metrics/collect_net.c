/*
 * collect_net.c: the "network" metric from <proc>/net/dev: per interface
 * byte, packet, error and drop counters and, against the previous sample,
 * byte and packet rates. Interfaces matching --exclude-iface (loopback,
 * container, VPN and bridge devices by default) are left out.
 */
#include <string.h>

#include "metrics.h"

enum { N_RXB, N_RXP, N_RXE, N_RXD, N_TXB, N_TXP, N_TXE, N_TXD, N_N };

int
metrics_parse_netdev_line(const char *line, char *name, size_t namelen, uint64_t v[8])
{
    const char *p = line, *colon, *nl = strchr(line, '\n');
    uint64_t f[16];
    size_t n;

    colon = strchr(line, ':');
    if (colon == NULL || (nl != NULL && colon > nl))
        return strchr(line, '|') != NULL ? 1 : -1;   /* the two header lines */
    while (*p == ' ')
        p++;
    n = (size_t)(colon - p);
    if (n == 0 || n >= namelen)
        return -1;
    memcpy(name, p, n);
    name[n] = '\0';
    p = colon + 1;
    for (int i = 0; i < 16; i++) {
        if (metrics_next_u64(&p, &f[i]) != 0)
            return -1;
    }
    v[N_RXB] = f[0];
    v[N_RXP] = f[1];
    v[N_RXE] = f[2];
    v[N_RXD] = f[3];
    v[N_TXB] = f[8];
    v[N_TXP] = f[9];
    v[N_TXE] = f[10];
    v[N_TXD] = f[11];
    return 0;
}

static int
one_iface(struct metrics_ctx *ctx, const char *name, const uint64_t v[N_N],
          struct metrics_json *j)
{
    static const char *const keys[N_N] = {
        "rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
        "tx_bytes", "tx_packets", "tx_errors", "tx_dropped",
    };
    static const struct { const char *key; int idx; } rates[] = {
        { "rx_bytes_per_s", N_RXB }, { "tx_bytes_per_s", N_TXB },
        { "rx_packets_per_s", N_RXP }, { "tx_packets_per_s", N_TXP },
    };
    const struct metrics_counter *prev = metrics_state_get(ctx->prev, "net", name);

    if (metrics_state_put(ctx->next, "net", name, v, N_N) != 0)
        return -1;
    metrics_json_object(j, name);
    for (int i = 0; i < N_N; i++)
        metrics_json_u64(j, keys[i], v[i]);
    for (size_t i = 0; prev != NULL && prev->n == N_N && i < sizeof rates / sizeof rates[0]; i++)
        metrics_ctx_rate(ctx, j, rates[i].key, prev->v[rates[i].idx], v[rates[i].idx], 1);
    metrics_json_end(j);
    return 0;
}

int
metrics_collect_network(struct metrics_ctx *ctx, struct metrics_json *j)
{
    char name[METRICS_NAME_MAX];
    uint64_t v[N_N];
    const char *p;
    int rc;

    if (metrics_ctx_read(ctx, ctx->opts->proc_root, "net/dev") != 0)
        return -1;
    for (p = hub_buf_str(&ctx->file); *p != '\0'; ) {
        rc = metrics_parse_netdev_line(p, name, sizeof name, v);
        if (rc < 0)
            return metrics_ctx_fail(ctx, "unexpected net/dev line");
        if (rc == 0 && !metrics_list_match(ctx->opts->exclude_iface, name) &&
            one_iface(ctx, name, v, j) != 0)
            return metrics_ctx_fail(ctx, "out of memory");
        if (metrics_next_line(&p) != 0)
            break;
    }
    return 0;
}
