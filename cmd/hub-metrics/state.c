/*
 * state.c: the previous sample's counters, kept in the state directory so a
 * timer-driven run computes rates and CPU percentages without sleeping.
 *
 * The file is text, one record a line, ended by a checksum of everything
 * before it:
 *
 *   hub-metrics-state 2
 *   clock 123456            <proc>/uptime in centiseconds
 *   cpu cpu0 1 2 3 ...      kind, name, counters
 *   sum 0123456789abcdef    FNV-1a 64 of the lines above
 *
 * It is overwritten in place through one descriptor the run keeps (see
 * metrics_state_write_fd for why, and why that is crash-safe). Owns the
 * record array; never trusts the file: anything it cannot parse, or whose
 * checksum does not match, makes the whole state "absent" (a first run),
 * never a crash and never a wrong rate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "hub.h"
#include "metrics.h"

#define STATE_MAGIC "hub-metrics-state 2"
#define STATE_SUM "sum "
#define STATE_SUM_HEX 16

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

/* FNV-1a, 64 bits: enough to tell a torn or mixed file from a whole one. */
static uint64_t
fnv1a64(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The "sum" line that ends the records, or NULL. */
static const char *
sum_line(const char *text)
{
    const char *p = text;

    for (;;) {
        if (strncmp(p, STATE_SUM, sizeof STATE_SUM - 1) == 0)
            return p;
        if (metrics_next_line(&p) != 0)
            return NULL;
    }
}

/* 0 when the sum line at end holds the checksum of text up to end. */
static int
check_sum(const char *text, const char *end)
{
    const char *hex = end + sizeof STATE_SUM - 1;
    uint64_t want = 0, got = fnv1a64(text, (size_t)(end - text));

    for (int i = 0; i < STATE_SUM_HEX; i++) {
        char c = hex[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;

        if (d == 16)
            return -1;
        want = want << 4 | d;
    }
    return want == got && hex[STATE_SUM_HEX] == '\n' ? 0 : -1;
}

/*
 * Whatever follows the sum line is ignored: a crash between the in-place
 * write and the truncate leaves the old state's tail there.
 */
int
metrics_state_parse(const char *text, struct metrics_state *st)
{
    const char *p = text, *end;

    metrics_state_reset(st);
    if (strncmp(p, STATE_MAGIC "\n", sizeof STATE_MAGIC) != 0)
        return -1;
    end = sum_line(p);
    if (end == NULL || check_sum(text, end) != 0)
        return -1;
    p += sizeof STATE_MAGIC;
    while (p < end) {
        if (parse_record(st, p) != 0) {
            metrics_state_reset(st);
            return -1;
        }
        if (metrics_next_line(&p) != 0)
            break;
    }
    return 0;
}

/* " 123" */
static int
append_u64(struct hub_buf *out, uint64_t v)
{
    if (hub_buf_appendc(out, ' ') != HUB_BUF_OK)
        return HUB_BUF_NOMEM;
    return hub_buf_append_u64(out, v);
}

static int
append_sum(struct hub_buf *out, size_t from)
{
    static const char hexd[] = "0123456789abcdef";
    uint64_t h = fnv1a64(out->data + from, out->len - from);
    char line[sizeof STATE_SUM - 1 + STATE_SUM_HEX + 1];

    memcpy(line, STATE_SUM, sizeof STATE_SUM - 1);
    for (int i = 0; i < STATE_SUM_HEX; i++)
        line[sizeof STATE_SUM - 1 + i] = hexd[(h >> (4 * (STATE_SUM_HEX - 1 - i))) & 15];
    line[sizeof line - 1] = '\n';
    return hub_buf_append(out, line, sizeof line);
}

int
metrics_state_wrap(const char *records, struct hub_buf *out)
{
    size_t from = out->len, n = strlen(records);

    if (hub_buf_appends(out, STATE_MAGIC "\n") != 0 || hub_buf_append(out, records, n) != 0 ||
        (n > 0 && records[n - 1] != '\n' && hub_buf_appendc(out, '\n') != 0))
        return -1;
    return append_sum(out, from);
}

int
metrics_state_format(const struct metrics_state *st, struct hub_buf *out)
{
    size_t from = out->len;

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
    return append_sum(out, from);
}

int
metrics_state_read_fd(int fd, struct metrics_state *st, size_t *size)
{
    struct hub_buf text = HUB_BUF_INIT(METRICS_MAX_STATE + 1);
    int rc = -1, saved;

    *size = SIZE_MAX;     /* unknown until read whole: the next write truncates */
    for (;;) {
        ssize_t n;

        if (hub_buf_reserve(&text, 4096) != 0) {
            errno = EFBIG;
            goto out;
        }
        n = pread(fd, text.data + text.len, text.cap - text.len - 1, (off_t)text.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        text.len += (size_t)n;
        text.data[text.len] = '\0';
    }
    *size = text.len;
    if (text.len == 0) {
        rc = 1;
        goto out;
    }
    rc = metrics_state_parse(hub_buf_str(&text), st);
    if (rc != 0)
        errno = EBADMSG;
out:
    saved = errno;
    hub_buf_release(&text);
    errno = saved;
    return rc;
}

/*
 * Overwrite the file in place: pwrite at offset 0, then cut what is left of
 * a longer old state. This used to be a temporary file renamed over the
 * state, which on ext4 costs an inode allocation, a journalled rename and
 * the old inode's block freeing (a synchronous discard on a `discard`
 * mount): more than the rest of the sample together. In place, a run
 * rewrites one cached page.
 *
 * Still crash-safe: a crash mid-write (or a torn page after a power loss,
 * there is no fsync: syncing every few seconds would cost more than the
 * whole sample) leaves a file whose checksum does not match, which the next
 * run treats as no state: one run without rates, never a wrong rate. Only
 * this process writes the file, under the state directory's lock.
 */
int
metrics_state_write_fd(int fd, const struct metrics_state *st, size_t *size)
{
    struct hub_buf text = HUB_BUF_INIT(METRICS_MAX_STATE);
    size_t done = 0;
    int rc = -1, saved;

    if (metrics_state_format(st, &text) != 0) {
        errno = EFBIG;
        goto out;
    }
    while (done < text.len) {
        ssize_t n = pwrite(fd, text.data + done, text.len - done, (off_t)done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto out;
        done += (size_t)n;
    }
    if (text.len < *size && ftruncate(fd, (off_t)text.len) != 0)
        goto out;
    *size = text.len;
    rc = 0;
out:
    saved = errno;
    hub_buf_release(&text);
    errno = saved;
    return rc;
}
