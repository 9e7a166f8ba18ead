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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "log.h"
#include "readsync.h"

struct file_source {
    FILE *f;
    int close_f;              /* not stdin */
    struct hub_buf line;      /* capped at READSYNC_MAX_LINE */
    long lineno;
    long docs, unreadable;
    /* Pointers, not bson_t by value: bson_t wants 128-byte alignment and
     * this struct comes from calloc. */
    bson_t *doc;              /* owned: libbson's parse of the last line, or NULL */
    bson_t *fast;             /* owned: the fast path's, reused line after line */
    char bad[READSYNC_MAX_REASON];
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
    if (ferror(fs->f))
        return input_failed(s, strerror(errno));
    if (fs->docs == 0 && fs->unreadable > 0)
        return input_failed(s, "no line is an Extended-JSON document");
    return 0;
}

/*
 * Read one line without its end into fs->line. Returns 1 with a line, 0 at
 * the end of input, -1 for a line over the cap (skipped to its end).
 * fgets in chunks keeps the cap without reading a byte at a time.
 */
static int
read_line(struct file_source *fs)
{
    char chunk[64 * 1024];
    int too_long = 0, got = 0;

    hub_buf_reset(&fs->line);
    while (fgets(chunk, sizeof chunk, fs->f) != NULL) {
        size_t n = strlen(chunk);
        int eol = n > 0 && chunk[n - 1] == '\n';

        got = 1;
        if (!too_long && hub_buf_append(&fs->line, chunk, n - (size_t)eol) != HUB_BUF_OK)
            too_long = 1;
        if (eol)
            break;
    }
    if (!got)
        return 0;
    fs->lineno++;
    return too_long ? -1 : 1;
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
        errno = 0;
        got = read_line(fs);
        if (got == 0)
            return at_end(s, fs);
        len = fs->line.len;
        while (got > 0 && len > 0 && fs->line.data[len - 1] == '\r')
            len--;
        if (got < 0 || len > 0)
            break;
    }
    if (got < 0) {
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
    if (fs->close_f)
        fclose(fs->f);
    hub_buf_release(&fs->line);
    free(fs);
    s->impl = NULL;
}

static const struct readsync_source_ops file_ops = {
    "file", file_next, file_mark, file_close,
};

int
readsync_source_file_open(struct readsync_source *s, const char *path)
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
    fs->fast = bson_new();
    if (strcmp(path, "-") == 0) {
        fs->f = stdin;
        return 0;
    }
    fs->f = fopen(path, "r");
    if (fs->f == NULL)
        return input_failed(s, strerror(errno));
    fs->close_f = 1;
    return 0;
}
