/*
 * source_file.c: --from FILE|-: Extended-JSON lines (what mongoexport
 * writes, relaxed or canonical), one document a line, blank lines skipped.
 * A line that is not a JSON document is not a document at all: it is handed
 * up as unreadable (counted and logged as rejected, with its line number),
 * never dropped silently. Input that yields not one document while some
 * lines were unreadable "could not be read at all": EX_DATAERR. There is
 * nothing to mark in a file. Lines of the plain shape are parsed by
 * ejson.c into one reused document; the rest by libbson, which has the
 * last word on what a line may be.
 *
 * The input is read with read(2) into our own chunk, not through stdio,
 * and every read waits in poll(2) on the input and on run.c's stop pipe
 * together: stdin may be a pipe that stays open, and a blocked read would
 * otherwise sleep through SIGTERM (fgets cannot say whether its buffer
 * still holds a line, so it cannot be polled around). A stop ends the
 * input like its end would, and run.c writes what was read and exits 75.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub.h"
#include "log.h"
#include "readsync.h"

/* What one read(2) may take: as much as fgets got at a time before. */
#define FILE_CHUNK (64u * 1024)

struct file_source {
    int fd;
    int close_fd;             /* not stdin */
    int stop_fd;              /* readable once a stop is asked; -1: none */
    char *chunk;              /* owned: FILE_CHUNK bytes read ahead */
    size_t pos, end;          /* chunk[pos..end) is not consumed yet */
    int eof;                  /* read(2) said so: never ask again */
    int read_errno;           /* of the read that failed, for the message */
    struct hub_buf line;      /* capped at READSYNC_MAX_LINE */
    long lineno;
    long docs, unreadable;
    /* Pointers, not bson_t by value: bson_t wants 128-byte alignment and
     * this struct comes from calloc. */
    bson_t *doc;              /* owned: libbson's parse of the last line, or NULL */
    bson_t *fast;             /* owned: the fast path's, reused line after line */
    char bad[READSYNC_MAX_REASON];
};

enum line_result {
    LINE_OK = 1,
    LINE_END = 0,
    LINE_TOO_LONG = -1,       /* over the cap, skipped to its end */
    LINE_FAILED = -2,         /* read(2) failed: read_errno */
    LINE_STOPPED = -3,        /* a stop was asked; a partial line is dropped */
};

static int
input_failed(struct readsync_source *s, const char *why)
{
    return hub_fail(EX_DATAERR, "readsync_input_unreadable", HUB_STR("input", s->where),
                    HUB_STR("error", why));
}

static int
at_end(struct readsync_source *s, struct file_source *fs)
{
    if (fs->docs == 0 && fs->unreadable > 0)
        return input_failed(s, "no line is an Extended-JSON document");
    return 0;
}

/* Refill the chunk. Returns LINE_OK, LINE_END, LINE_FAILED or LINE_STOPPED. */
static int
fill(struct file_source *fs)
{
    struct pollfd p[2] = {
        { .fd = fs->fd, .events = POLLIN },
        { .fd = fs->stop_fd, .events = POLLIN },   /* ignored when -1 */
    };
    ssize_t n;

    if (fs->eof)
        return LINE_END;
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            fs->read_errno = errno;
            return LINE_FAILED;
        }
        if (p[1].revents & POLLIN)
            return LINE_STOPPED;
        if (p[0].revents == 0)
            continue;
        n = read(fs->fd, fs->chunk, FILE_CHUNK);
        if (n > 0) {
            fs->pos = 0;
            fs->end = (size_t)n;
            return LINE_OK;
        }
        if (n == 0) {
            fs->eof = 1;        /* a terminal would wait for more */
            return LINE_END;
        }
        if (errno != EINTR && errno != EAGAIN) {
            fs->read_errno = errno;
            return LINE_FAILED;
        }
    }
}

/* Read one line without its end into fs->line: an enum line_result. */
static int
read_line(struct file_source *fs)
{
    int too_long = 0, got = 0;

    hub_buf_reset(&fs->line);
    for (;;) {
        const char *start, *nl;
        size_t n;

        if (fs->pos == fs->end) {
            int rc = fill(fs);

            if (rc == LINE_END && got)
                break;                  /* a last line without '\n' */
            if (rc != LINE_OK)
                return rc;
        }
        start = fs->chunk + fs->pos;
        nl = memchr(start, '\n', fs->end - fs->pos);
        n = nl != NULL ? (size_t)(nl - start) : fs->end - fs->pos;
        got = 1;
        if (!too_long && hub_buf_append(&fs->line, start, n) != HUB_BUF_OK)
            too_long = 1;
        fs->pos += n + (nl != NULL);
        if (nl != NULL)
            break;
    }
    fs->lineno++;
    return too_long ? LINE_TOO_LONG : LINE_OK;
}

static int
file_next(struct readsync_source *s, const bson_t **doc, const char **bad)
{
    struct file_source *fs = s->impl;
    bson_error_t err;
    size_t len;
    int got;

    *doc = NULL;
    *bad = NULL;
    bson_clear(&fs->doc);
    for (;;) {
        got = read_line(fs);
        if (got == LINE_END)
            return at_end(s, fs);
        if (got == LINE_STOPPED)
            return 0;           /* the end of what this run reads */
        if (got == LINE_FAILED)
            return input_failed(s, strerror(fs->read_errno));
        len = fs->line.len;
        while (got == LINE_OK && len > 0 && fs->line.data[len - 1] == '\r')
            len--;
        if (got == LINE_TOO_LONG || len > 0)
            break;
    }
    if (got == LINE_TOO_LONG) {
        snprintf(fs->bad, sizeof fs->bad, "line %ld: longer than %u bytes", fs->lineno,
                 READSYNC_MAX_LINE);
    } else if (fs->line.data[strspn(fs->line.data, " \t")] != '{') {
        /* libbson would take "[1,2]" as the document {"0": 1, "1": 2} */
        snprintf(fs->bad, sizeof fs->bad, "line %ld: not a JSON object", fs->lineno);
    } else if (readsync_ejson_fast(fs->line.data, len, fs->fast)) {
        fs->docs++;
        *doc = fs->fast;
        return 0;
    } else {
        fs->doc = bson_new_from_json((const uint8_t *)fs->line.data, (ssize_t)len, &err);
        if (fs->doc != NULL) {
            fs->docs++;
            *doc = fs->doc;
            return 0;
        }
        snprintf(fs->bad, sizeof fs->bad, "line %ld: not an Extended-JSON document: %.150s",
                 fs->lineno, err.message);
    }
    fs->unreadable++;
    *bad = fs->bad;
    return 0;
}

static int
file_mark(struct readsync_source *s, const struct readsync_batch *b)
{
    return 0;
}

static void
file_close(struct readsync_source *s)
{
    struct file_source *fs = s->impl;

    if (fs == NULL)
        return;
    bson_destroy(fs->doc);
    bson_destroy(fs->fast);
    if (fs->close_fd)
        close(fs->fd);
    free(fs->chunk);
    hub_buf_release(&fs->line);
    free(fs);
    s->impl = NULL;
}

static const struct readsync_source_ops file_ops = {
    "file", file_next, file_mark, file_close,
};

int
readsync_source_file_open(struct readsync_source *s, const char *path, int stop_fd)
{
    struct file_source *fs = calloc(1, sizeof *fs);
    int n;

    memset(s, 0, sizeof *s);
    s->ops = &file_ops;
    n = snprintf(s->where, sizeof s->where, "%s", strcmp(path, "-") == 0 ? "stdin" : path);
    if (n < 0 || (size_t)n >= sizeof s->where)
        memcpy(s->where + sizeof s->where - 4, "...", 4);
    if (fs == NULL)
        return hub_fail(EX_OSERR, "readsync_out_of_memory");
    s->impl = fs;
    hub_buf_init(&fs->line, READSYNC_MAX_LINE);
    fs->stop_fd = stop_fd;
    fs->fast = bson_new();
    fs->chunk = malloc(FILE_CHUNK);
    if (fs->chunk == NULL)
        return hub_fail(EX_OSERR, "readsync_out_of_memory");
    if (strcmp(path, "-") == 0) {
        fs->fd = STDIN_FILENO;
        return 0;
    }
    fs->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fs->fd < 0)
        return input_failed(s, strerror(errno));
    fs->close_fd = 1;
    return 0;
}
