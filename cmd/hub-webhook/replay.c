/*
 * replay.c: the memory of delivery GUIDs that triggered (see webhook.h).
 *
 * A ring of cap fixed-size slots, oldest evicted first, indexed by a
 * chained hash so a lookup is a few string compares whatever cap is. All
 * memory is allocated at init. With a state directory every change is one
 * appended line ("+GUID" or "-GUID") in DIR/replay.log; at start the log is
 * replayed and rewritten compactly (atomic rename), and again whenever it
 * holds four times cap lines. The GUIDs come from requests but are
 * validated ([0-9A-Za-z-]) before they get here and never name a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "hub.h"
#include "log.h"
#include "webhook.h"

#define NIL UINT32_MAX
#define LOG_NAME "replay.log"

static uint32_t
bucket_of(const struct webhook_replay *r, const char *guid)
{
    uint32_t h = 2166136261u;          /* FNV-1a */

    for (const unsigned char *p = (const unsigned char *)guid; *p != '\0'; p++)
        h = (h ^ *p) * 16777619u;
    return h & (uint32_t)(r->nbuckets - 1);
}

static uint32_t
find(const struct webhook_replay *r, const char *guid)
{
    for (uint32_t i = r->buckets[bucket_of(r, guid)]; i != NIL; i = r->next[i]) {
        if (strcmp(r->guids[i], guid) == 0)
            return i;
    }
    return NIL;
}

static void
unlink_slot(struct webhook_replay *r, uint32_t slot)
{
    uint32_t *link = &r->buckets[bucket_of(r, r->guids[slot])];

    while (*link != NIL && *link != slot)
        link = &r->next[*link];
    if (*link == slot)
        *link = r->next[slot];
    r->guids[slot][0] = '\0';
    r->next[slot] = NIL;
}

/* Remember guid in the next slot, evicting the oldest when full. */
static void
insert(struct webhook_replay *r, const char *guid)
{
    uint32_t slot, b;

    if (r->n == r->cap) {
        slot = (uint32_t)r->head;
        if (r->guids[slot][0] != '\0')
            unlink_slot(r, slot);
        r->head = (r->head + 1) % r->cap;
        r->n--;
    }
    slot = (uint32_t)((r->head + r->n) % r->cap);
    memcpy(r->guids[slot], guid, strlen(guid) + 1);
    b = bucket_of(r, guid);
    r->next[slot] = r->buckets[b];
    r->buckets[b] = slot;
    r->n++;
}

static void
forget(struct webhook_replay *r, const char *guid)
{
    uint32_t slot = find(r, guid);

    if (slot != NIL)
        unlink_slot(r, slot);
}

/* One "+GUID" or "-GUID" line of the log. */
static void
apply_line(struct webhook_replay *r, char *line)
{
    if (!webhook_guid_valid(line + 1))
        return;                         /* a torn last line after a crash */
    if (line[0] == '+' && find(r, line + 1) == NIL)
        insert(r, line + 1);
    else if (line[0] == '-')
        forget(r, line + 1);
}

/* Every line to the end: a blank or garbled line (a crash, a person's
 * editor) is skipped, never the end of what is remembered. *end is the
 * buffer's NUL, so the last line needs no newline. */
static void
apply_lines(struct webhook_replay *r, char *text, char *end)
{
    char *line, *nl;

    for (line = text; line < end; line = nl) {
        nl = memchr(line, '\n', (size_t)(end - line));
        if (nl == NULL)
            nl = end;
        *nl++ = '\0';
        if (line[0] != '\0')
            apply_line(r, line);
    }
}

static void
load_log(struct webhook_replay *r)
{
    struct hub_buf text = HUB_BUF_INIT(8 * r->cap * (WEBHOOK_GUID_MAX + 2));

    if (hub_file_read(r->log_path, text.max, &text) != 0) {
        if (errno != ENOENT)
            hub_log(HUB_LOG_WARN, "replay_log_unreadable", HUB_STR("path", r->log_path),
                    HUB_STR("error", strerror(errno)));
    } else if (text.data != NULL) {     /* NULL: an empty log */
        apply_lines(r, text.data, text.data + text.len);
    }
    hub_buf_release(&text);
}

/* Rewrite the log as "+GUID" for every remembered GUID, oldest first, and
 * reopen it for appending. Locked (or before any thread). */
static int
compact(struct webhook_replay *r)
{
    struct hub_buf text = HUB_BUF_INIT(r->cap * (WEBHOOK_GUID_MAX + 2) + 1);
    int rc = -1;

    for (size_t k = 0; k < r->n; k++) {
        const char *g = r->guids[(r->head + k) % r->cap];

        if (g[0] != '\0' && hub_buf_appendf(&text, "+%s\n", g) != HUB_BUF_OK)
            goto out;
    }
    if (r->log_fd >= 0)
        close(r->log_fd);
    r->log_fd = -1;
    if (hub_file_write_atomic(r->log_path, hub_buf_str(&text), text.len, 0600) != 0)
        goto out;
    r->log_fd = open(r->log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (r->log_fd < 0)
        goto out;
    r->log_lines = r->n;
    rc = 0;
out:
    if (rc != 0)
        hub_log(HUB_LOG_WARN, "replay_log_unwritable", HUB_STR("path", r->log_path),
                HUB_STR("error", strerror(errno)),
                HUB_STR("effect", "delivery GUIDs are remembered in memory only"));
    hub_buf_release(&text);
    return rc;
}

static void
log_change(struct webhook_replay *r, char op, const char *guid)
{
    char line[WEBHOOK_GUID_MAX + 2];
    size_t n = strlen(guid);
    ssize_t w;

    if (r->log_fd < 0)
        return;
    line[0] = op;
    memcpy(line + 1, guid, n);
    line[n + 1] = '\n';
    /* O_APPEND and one write: a line is whole or, after a crash, torn at
     * the end where load_log() skips it. */
    w = write(r->log_fd, line, n + 2);
    if (w != (ssize_t)(n + 2))
        hub_log(HUB_LOG_WARN, "replay_log_write_failed", HUB_STR("path", r->log_path),
                HUB_STR("error", w < 0 ? strerror(errno) : "short write"));
    if (++r->log_lines > 4 * r->cap)
        compact(r);
}

static size_t
power_of_two_above(size_t n)
{
    size_t p = 1;

    while (p < n)
        p <<= 1;
    return p;
}

int
webhook_replay_init(struct webhook_replay *r, size_t cap, const char *state_dir)
{
    struct hub_buf path = HUB_BUF_INIT(HUB_MAX_PATH);

    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->log_fd = -1;
    r->cap = cap < 1 ? 1 : cap;
    r->nbuckets = power_of_two_above(r->cap * 2);
    r->guids = calloc(r->cap, sizeof *r->guids);
    r->next = malloc(r->cap * sizeof *r->next);
    r->buckets = malloc(r->nbuckets * sizeof *r->buckets);
    if (r->guids == NULL || r->next == NULL || r->buckets == NULL)
        return hub_fail(EX_OSERR, "replay_init_failed", HUB_STR("error", "out of memory"));
    memset(r->next, 0xff, r->cap * sizeof *r->next);
    memset(r->buckets, 0xff, r->nbuckets * sizeof *r->buckets);
    if (state_dir == NULL || *state_dir == '\0')
        return 0;
    if (hub_buf_appendf(&path, "%s/%s", state_dir, LOG_NAME) != HUB_BUF_OK)
        return hub_fail(EX_CONFIG, "replay_path_too_long", HUB_STR("dir", state_dir));
    r->log_path = hub_buf_take(&path);
    load_log(r);
    compact(r);
    hub_log(HUB_LOG_INFO, "replay_loaded", HUB_STR("path", r->log_path), HUB_INT("guids", r->n));
    return 0;
}

int
webhook_replay_claim(struct webhook_replay *r, const char *guid)
{
    int seen;

    pthread_mutex_lock(&r->mu);
    seen = find(r, guid) != NIL;
    if (!seen) {
        insert(r, guid);
        log_change(r, '+', guid);
    }
    pthread_mutex_unlock(&r->mu);
    return seen;
}

void
webhook_replay_forget(struct webhook_replay *r, const char *guid)
{
    pthread_mutex_lock(&r->mu);
    if (find(r, guid) != NIL) {
        forget(r, guid);
        log_change(r, '-', guid);
    }
    pthread_mutex_unlock(&r->mu);
}

size_t
webhook_replay_count(struct webhook_replay *r)
{
    size_t live = 0;

    pthread_mutex_lock(&r->mu);
    for (size_t k = 0; k < r->n; k++)
        live += r->guids[(r->head + k) % r->cap][0] != '\0';
    pthread_mutex_unlock(&r->mu);
    return live;
}

void
webhook_replay_release(struct webhook_replay *r)
{
    if (r->log_fd >= 0)
        close(r->log_fd);
    free(r->guids);
    free(r->next);
    free(r->buckets);
    free(r->log_path);
    pthread_mutex_destroy(&r->mu);
    memset(r, 0, sizeof *r);
    r->log_fd = -1;
}
