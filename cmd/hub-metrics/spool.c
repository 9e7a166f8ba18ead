/*
 * spool.c: the samples the database did not take, kept in one file in the
 * state directory until the next successful run writes them (oldest
 * first). One row a line, five tab-separated fields:
 *
 *   time  host  os  metric_type  payload-JSON
 *
 * (JSON text from cJSON never holds a raw tab or newline, and host names
 * cannot). The file is bounded: before an append would pass the bound, the
 * oldest whole samples are cut off (rewriting the rest to a temporary file
 * renamed over it) and counted. The caller holds the state directory's
 * lock, so no other run appends while a replay or a trim is under way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fileio.h"
#include "hub.h"
#include "log.h"
#include "metrics.h"

int
metrics_spool_parse_line(char *line, struct metrics_row *row)
{
    const char **f[5] = { &row->time, &row->host, &row->os, &row->type, &row->payload };
    char *p = line;
    size_t len = strlen(line);

    if (len > 0 && line[len - 1] == '\n')
        line[len - 1] = '\0';
    for (int i = 0; i < 5; i++) {
        char *tab = strchr(p, '\t');

        if ((tab == NULL) != (i == 4))
            return -1;
        if (tab != NULL)
            *tab = '\0';
        *f[i] = p;
        p = tab != NULL ? tab + 1 : NULL;
    }
    return row->time[0] != '\0' && row->type[0] != '\0' && row->payload[0] == '{' ? 0 : -1;
}

static int
format_rows(const struct metrics_row *rows, size_t n, struct hub_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        const struct metrics_row *r = &rows[i];

        if (strpbrk(r->host, "\t\n") != NULL || strpbrk(r->os, "\t\n") != NULL ||
            strpbrk(r->payload, "\t\n") != NULL)
            return -1;
        if (hub_buf_appendf(out, "%s\t%s\t%s\t%s\t%s\n", r->time, r->host, r->os, r->type,
                            r->payload) != 0)
            return -1;
    }
    return 0;
}

/* The time field of a spool line (up to the first tab). */
static size_t
time_len(const char *line)
{
    return strcspn(line, "\t");
}

/*
 * Copy what stays after cutting at least `need` bytes of whole samples off
 * the front of in into tmp. Returns the samples cut, or -1.
 */
static long
copy_tail(FILE *in, FILE *tmp, uint64_t need)
{
    char *line = NULL, last[64] = "";
    size_t cap = 0;
    ssize_t n;
    uint64_t cut = 0;
    long samples = 0;
    int cutting = 1;

    for (;;) {
        size_t tl;

        n = getline(&line, &cap, in);
        if (n <= 0)
            break;
        tl = time_len(line);

        if (cutting && (cut < need || (strlen(last) == tl && strncmp(last, line, tl) == 0))) {
            if (strlen(last) != tl || strncmp(last, line, tl) != 0) {
                samples++;
                snprintf(last, sizeof last, "%.*s", (int)(tl < 63 ? tl : 63), line);
            }
            cut += (uint64_t)n;
            continue;
        }
        cutting = 0;
        if (fwrite(line, 1, (size_t)n, tmp) != (size_t)n) {
            samples = -1;
            break;
        }
    }
    free(line);
    return samples;
}

/* Cut the oldest samples so that at least need bytes are freed. */
static int
trim(const char *path, uint64_t need, uint64_t *dropped)
{
    struct hub_buf tmp = HUB_BUF_INIT(HUB_MAX_PATH);
    FILE *in = NULL, *out = NULL;
    long samples = -1;
    int rc = -1;

    if (hub_buf_appendf(&tmp, "%s.tmp", path) != 0)
        goto out;
    in = fopen(path, "re");
    out = fopen(tmp.data, "we");
    if (in == NULL || out == NULL)
        goto out;
    samples = copy_tail(in, out, need);
    if (samples < 0 || fflush(out) != 0 || fsync(fileno(out)) != 0)
        goto out;
    if (fclose(out) != 0) {
        out = NULL;
        goto out;
    }
    out = NULL;
    if (rename(tmp.data, path) != 0)
        goto out;
    *dropped = (uint64_t)samples;
    rc = 0;
out:
    if (in != NULL)
        fclose(in);
    if (out != NULL)
        fclose(out);
    if (rc != 0 && tmp.data != NULL)
        unlink(tmp.data);
    hub_buf_release(&tmp);
    return rc;
}

int
metrics_spool_append(const char *path, const struct metrics_row *rows, size_t n,
                     uint64_t max, uint64_t *dropped)
{
    struct hub_buf text = HUB_BUF_INIT(HUB_MAX_SQL);
    struct stat st;
    int fd = -1, rc = EX_TEMPFAIL;

    *dropped = 0;
    if (format_rows(rows, n, &text) != 0 || text.len > max) {
        rc = hub_fail(EX_TEMPFAIL, "spool_write_failed", HUB_STR("file", path),
                      HUB_STR("error", "sample too large for the spool"));
        goto out;
    }
    if (stat(path, &st) == 0 && (uint64_t)st.st_size + text.len > max &&
        trim(path, (uint64_t)st.st_size + text.len - max, dropped) != 0) {
        rc = hub_fail(EX_TEMPFAIL, "spool_write_failed", HUB_STR("file", path),
                      HUB_STR("error", strerror(errno)));
        goto out;
    }
    if (*dropped > 0)
        hub_log(HUB_LOG_WARN, "spool_dropped", HUB_STR("file", path),
                HUB_INT("samples", *dropped), HUB_INT("max_bytes", max));
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || hub_write_all(fd, text.data, text.len) != 0 || fsync(fd) != 0) {
        rc = hub_fail(EX_TEMPFAIL, "spool_write_failed", HUB_STR("file", path),
                      HUB_STR("error", strerror(errno)));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    hub_buf_release(&text);
    return rc;
}

struct batch {
    char **lines;
    struct metrics_row *rows;
    size_t n, max;
};

static void
batch_clear(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->lines[i]);
    b->n = 0;
}

static int
replay_lines(FILE *in, struct batch *b, metrics_flush_fn *flush, void *arg, uint64_t *rows)
{
    size_t cap = 0;
    uint64_t bad = 0;
    int rc = 0;

    while (rc == 0) {
        char *line = NULL;
        ssize_t n = getline(&line, &cap, in);

        cap = 0;
        if (n > 0 && metrics_spool_parse_line(line, &b->rows[b->n]) == 0) {
            b->lines[b->n++] = line;
        } else {
            free(line);
            bad += n > 0;
        }
        if (b->n > 0 && (b->n == b->max || n <= 0)) {
            rc = flush(arg, b->rows, b->n);
            *rows += rc == 0 ? b->n : 0;
            batch_clear(b);
        }
        if (n <= 0)
            break;
    }
    if (bad > 0)
        hub_log(HUB_LOG_WARN, "spool_lines_skipped", HUB_INT("lines", bad),
                HUB_STR("error", "not a spool line"));
    return rc;
}

int
metrics_spool_replay(const char *path, size_t batch, metrics_flush_fn *flush, void *arg,
                     uint64_t *rows_out)
{
    struct batch b = { NULL, NULL, 0, batch };
    FILE *in = fopen(path, "re");
    int rc = 0;

    *rows_out = 0;
    if (in == NULL) {
        if (errno != ENOENT)
            rc = hub_fail(EX_TEMPFAIL, "spool_read_failed", HUB_STR("file", path),
                          HUB_STR("error", strerror(errno)));
        goto out;
    }
    /* Only now: the spool is usually absent, and the batch is ~24 KiB. */
    b.lines = calloc(batch, sizeof(char *));
    b.rows = calloc(batch, sizeof(struct metrics_row));
    if (b.lines == NULL || b.rows == NULL) {
        rc = hub_fail(EX_TEMPFAIL, "spool_read_failed", HUB_STR("error", "out of memory"));
        goto out;
    }
    rc = replay_lines(in, &b, flush, arg, rows_out);
    if (rc == 0 && unlink(path) != 0)
        rc = hub_fail(EX_TEMPFAIL, "spool_remove_failed", HUB_STR("file", path),
                      HUB_STR("error", strerror(errno)));
out:
    if (in != NULL)
        fclose(in);
    batch_clear(&b);
    free(b.lines);
    free(b.rows);
    return rc;
}
