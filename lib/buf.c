/*
 * buf.c: struct hub_buf, the one growable buffer of the hub (see buf.h).
 * Owns only the memory behind data; never logs (callers know what the
 * buffer was for and report that).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
hub_buf_init(struct hub_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
hub_buf_release(struct hub_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
hub_buf_reset(struct hub_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

char *
hub_buf_take(struct hub_buf *b)
{
    char *p = b->data;

    if (p == NULL)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

/* Fail the way buf.h promises: the buffer is freed and left empty. */
static int
fail(struct hub_buf *b, int why)
{
    hub_buf_release(b);
    return why;
}

int
hub_buf_reserve(struct hub_buf *b, size_t n)
{
    size_t need, cap;
    char *p;

    if (n > b->max || b->len > b->max - n)
        return fail(b, HUB_BUF_TOOBIG);
    need = b->len + n + 1;             /* cannot overflow: max < SIZE_MAX */
    if (need <= b->cap)
        return HUB_BUF_OK;
    cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    p = realloc(b->data, cap);
    if (p == NULL)
        return fail(b, HUB_BUF_NOMEM);
    if (b->data == NULL)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return HUB_BUF_OK;
}

int
hub_buf_append(struct hub_buf *b, const void *p, size_t n)
{
    int rc = hub_buf_reserve(b, n);

    if (rc != HUB_BUF_OK)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return HUB_BUF_OK;
}

int
hub_buf_appends(struct hub_buf *b, const char *s)
{
    return hub_buf_append(b, s, strlen(s));
}

int
hub_buf_appendc(struct hub_buf *b, char c)
{
    return hub_buf_append(b, &c, 1);
}

int
hub_buf_vappendf(struct hub_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    int n, rc;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    if (n < 0)
        return fail(b, HUB_BUF_NOMEM);
    rc = hub_buf_reserve(b, (size_t)n);
    if (rc != HUB_BUF_OK)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return HUB_BUF_OK;
}

int
hub_buf_appendf(struct hub_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = hub_buf_vappendf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int
hub_buf_append_u64(struct hub_buf *b, unsigned long long v)
{
    char digits[24];
    size_t i = sizeof digits;

    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return hub_buf_append(b, digits + i, sizeof digits - i);
}

void
hub_buf_truncate(struct hub_buf *b, size_t len)
{
    if (b->data == NULL || len >= b->len)
        return;
    b->len = len;
    b->data[len] = '\0';
}

const char *
hub_buf_str(const struct hub_buf *b)
{
    return b->data != NULL ? b->data : "";
}
