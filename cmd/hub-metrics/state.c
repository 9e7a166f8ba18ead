/*
 * state.c: the previous sample's counters, kept in the state directory so a
 * timer-driven run computes rates and CPU percentages without sleeping.
 *
 * The file is text, one record a line, replaced atomically each sample:
 *
 *   hub-metrics-state 1
 *   clock 123456            <proc>/uptime in centiseconds
 *   cpu cpu0 1 2 3 ...      kind, name, counters
 *
 * Owns the record array; never trusts the file: anything it cannot parse
 * makes the whole state "absent" (a first run), never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "hub.h"
#include "metrics.h"

#define STATE_MAGIC "hub-metrics-state 1"

int
metrics_state_put(struct metrics_state *st, const char *kind, const char *name,
                  const uint64_t *v, unsigned n)
{
    struct metrics_counter *c;

    if (strlen(kind) >= sizeof c->kind || strlen(name) >= sizeof c->name ||
        n > METRICS_COUNTER_VALUES)
        return -1;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        struct metrics_counter *items = reallocarray(st->items, cap, sizeof *items);

        if (items == NULL)
            return -1;
        st->items = items;
        st->cap = cap;
    }
    c = &st->items[st->n++];
    memset(c, 0, sizeof *c);
    memcpy(c->kind, kind, strlen(kind) + 1);
    memcpy(c->name, name, strlen(name) + 1);
    c->n = n;
    memcpy(c->v, v, n * sizeof v[0]);
    return 0;
}

const struct metrics_counter *
metrics_state_get(const struct metrics_state *st, const char *kind, const char *name)
{
    for (size_t i = 0; i < st->n; i++) {
        if (strcmp(st->items[i].kind, kind) == 0 && strcmp(st->items[i].name, name) == 0)
            return &st->items[i];
    }
    return NULL;
}

void
metrics_state_reset(struct metrics_state *st)
{
    st->n = 0;
    st->has_clock = 0;
    st->clock_cs = 0;
}

void
metrics_state_release(struct metrics_state *st)
{
    free(st->items);
    st->items = NULL;
    st->n = st->cap = 0;
    st->has_clock = 0;
    st->clock_cs = 0;
}

static int
parse_record(struct metrics_state *st, const char *line)
{
    char kind[8], name[METRICS_NAME_MAX];
    uint64_t v[METRICS_COUNTER_VALUES];
    unsigned n = 0;
    const char *p = line;

    if (metrics_next_word(&p, kind, sizeof kind) != 0)
        return -1;
    if (strcmp(kind, "clock") == 0) {
        if (metrics_next_u64(&p, &st->clock_cs) != 0)
            return -1;
        st->has_clock = 1;
        return *p == '\n' || *p == '\0' ? 0 : -1;
    }
    if (metrics_next_word(&p, name, sizeof name) != 0)
        return -1;
    while (*p != '\n' && *p != '\0') {
        if (n == METRICS_COUNTER_VALUES || metrics_next_u64(&p, &v[n]) != 0)
            return -1;
        n++;
    }
    return metrics_state_put(st, kind, name, v, n);
}

int
metrics_state_parse(const char *text, struct metrics_state *st)
{
    const char *p = text;

    metrics_state_reset(st);
    if (strncmp(p, STATE_MAGIC "\n", sizeof STATE_MAGIC) != 0)
        return -1;
    p += sizeof STATE_MAGIC;
    while (*p != '\0') {
        if (parse_record(st, p) != 0) {
            metrics_state_reset(st);
            return -1;
        }
        if (metrics_next_line(&p) != 0)
            break;
    }
    return 0;
}

/* " 123": a number without printf (this runs for every counter, every sample). */
static int
append_u64(struct hub_buf *out, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    tmp[--i] = ' ';
    return hub_buf_append(out, tmp + i, sizeof tmp - i);
}

int
metrics_state_format(const struct metrics_state *st, struct hub_buf *out)
{
    if (hub_buf_appends(out, STATE_MAGIC "\n") != 0)
        return -1;
    if (st->has_clock && (hub_buf_appends(out, "clock") != 0 ||
                          append_u64(out, st->clock_cs) != 0 || hub_buf_appendc(out, '\n') != 0))
        return -1;
    for (size_t i = 0; i < st->n; i++) {
        const struct metrics_counter *c = &st->items[i];

        if (hub_buf_appends(out, c->kind) != 0 || hub_buf_appendc(out, ' ') != 0 ||
            hub_buf_appends(out, c->name) != 0)
            return -1;
        for (unsigned k = 0; k < c->n; k++) {
            if (append_u64(out, c->v[k]) != 0)
                return -1;
        }
        if (hub_buf_appendc(out, '\n') != 0)
            return -1;
    }
    return 0;
}

int
metrics_state_load(const char *path, struct metrics_state *st)
{
    struct hub_buf text = HUB_BUF_INIT(METRICS_MAX_STATE);
    int rc = -1;

    if (hub_file_read(path, METRICS_MAX_STATE, &text) != 0) {
        rc = errno == ENOENT ? 1 : -1;
        goto out;
    }
    rc = metrics_state_parse(hub_buf_str(&text), st);
out:
    hub_buf_release(&text);
    return rc;
}

/*
 * Write a temporary file and rename it over the state: a reader sees the old
 * state or the new. No fsync: after a crash a lost or empty state only means
 * one run without rates, and syncing every few seconds costs more than the
 * whole sample.
 */
int
metrics_state_save(const char *path, const struct metrics_state *st)
{
    struct hub_buf text = HUB_BUF_INIT(METRICS_MAX_STATE);
    struct hub_buf tmp = HUB_BUF_INIT(HUB_MAX_PATH);
    int fd = -1, rc = -1, saved;

    if (metrics_state_format(st, &text) != 0 || hub_buf_appendf(&tmp, "%s.tmp", path) != 0) {
        errno = EFBIG;
        goto out;
    }
    fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || write(fd, text.data, text.len) != (ssize_t)text.len)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    rc = rename(tmp.data, path);
out:
    saved = errno;
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp.data != NULL)
        unlink(tmp.data);
    hub_buf_release(&text);
    hub_buf_release(&tmp);
    errno = saved;
    return rc;
}
