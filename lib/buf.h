/*
 * buf.h: a growable, always NUL-terminated byte buffer with a maximum size.
 *
 * Every text the hub builds (SQL, JSON, HTTP bodies, paths, captured child
 * output) goes into a struct hub_buf. The rules, after curl's dynbuf and
 * git's strbuf:
 *
 *  - A buffer is created with HUB_BUF_INIT(max) and owns data; data is NULL
 *    until the first append. hub_buf_str() is always a valid C string.
 *  - Growing past max is HUB_BUF_TOOBIG, apart from HUB_BUF_NOMEM; both
 *    free the buffer (it is left empty and reusable), so a caller that
 *    checks the result never sees half an append.
 *  - hub_buf_release() frees the contents and leaves an empty buffer with
 *    the same max; it accepts an empty buffer, so exit paths need no flags.
 *  - hub_buf_take() hands data to the caller (free() it) and empties the
 *    buffer.
 */
#ifndef HUB_BUF_H
#define HUB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct hub_buf {
    char  *data;   /* owned; NULL while empty */
    size_t len;    /* bytes used, not counting the NUL */
    size_t cap;    /* bytes allocated */
    size_t max;    /* largest len allowed */
};

#define HUB_BUF_INIT(maxlen) { NULL, 0, 0, (maxlen) }

enum hub_buf_result {
    HUB_BUF_OK = 0,
    HUB_BUF_NOMEM = -1,   /* malloc failed */
    HUB_BUF_TOOBIG = -2,  /* the result would exceed max */
};

void hub_buf_init(struct hub_buf *b, size_t max);
void hub_buf_release(struct hub_buf *b);
/* Forget the contents but keep the memory for reuse. */
void hub_buf_reset(struct hub_buf *b);
/* Give data to the caller (never NULL on success: "" for an empty buffer). */
char *hub_buf_take(struct hub_buf *b);

__attribute__((warn_unused_result))
int hub_buf_append(struct hub_buf *b, const void *p, size_t n);
__attribute__((warn_unused_result))
int hub_buf_appends(struct hub_buf *b, const char *s);
__attribute__((warn_unused_result))
int hub_buf_appendc(struct hub_buf *b, char c);
__attribute__((warn_unused_result, format(printf, 2, 3)))
int hub_buf_appendf(struct hub_buf *b, const char *fmt, ...);
__attribute__((warn_unused_result, format(printf, 2, 0)))
int hub_buf_vappendf(struct hub_buf *b, const char *fmt, va_list ap);
/* Append v in decimal, without printf (for hot paths that print many numbers). */
__attribute__((warn_unused_result))
int hub_buf_append_u64(struct hub_buf *b, unsigned long long v);
/* Make room for n more bytes without changing len. */
__attribute__((warn_unused_result))
int hub_buf_reserve(struct hub_buf *b, size_t n);
/* Shorten to len (len <= b->len). */
void hub_buf_truncate(struct hub_buf *b, size_t len);

/* The contents as a C string; "" when empty. Borrowed. */
const char *hub_buf_str(const struct hub_buf *b);

#endif
