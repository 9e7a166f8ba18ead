/*
 * redact.c: keep the MongoDB URI's secrets out of every message.
 *
 * mongo-c-driver's error and log messages can quote the URI (a parse error
 * names the bad option; some messages print the whole string). We cannot
 * rely on the driver not to, so every driver message passes through
 * readsync_redact() first, which replaces the URI itself, its userinfo
 * ("user:password"), the user and the password with "***". The needles are
 * found by hand, not through the driver's parser, so even a URI the driver
 * refuses is covered. The redactor owns copies of the secrets and wipes them
 * on release.
 */
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "readsync.h"

static char *
dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* The percent-decoded copy of s (the driver keeps user and password
 * decoded), or NULL when it decodes to itself. */
static char *
percent_decoded(const char *s)
{
    size_t n = strlen(s), o = 0;
    char *out;

    if (strchr(s, '%') == NULL)
        return NULL;
    out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int hi = i + 2 < n && s[i] == '%' ? hub_hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 ? hub_hex_value(s[i + 2]) : -1;

        if (hi >= 0 && lo >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

static void
split_userinfo(struct readsync_redactor *r, const char *start, const char *at)
{
    const char *colon = memchr(start, ':', (size_t)(at - start));

    r->needles[1] = dup_n(start, (size_t)(at - start));
    if (colon == NULL) {
        r->needles[2] = dup_n(start, (size_t)(at - start));
    } else {
        r->needles[2] = dup_n(start, (size_t)(colon - start));
        r->needles[3] = dup_n(colon + 1, (size_t)(at - colon - 1));
    }
    if (r->needles[2] != NULL)
        r->needles[4] = percent_decoded(r->needles[2]);
    if (r->needles[3] != NULL)
        r->needles[5] = percent_decoded(r->needles[3]);
}

void
readsync_redactor_init(struct readsync_redactor *r, const char *uri)
{
    const char *start, *at, *end;

    memset(r, 0, sizeof *r);
    if (uri == NULL || *uri == '\0')
        return;
    r->needles[0] = dup_n(uri, strlen(uri));
    start = strstr(uri, "://");
    start = start != NULL ? start + 3 : uri;
    /* userinfo ends at the last '@' before the path ('/'), query or end */
    end = start + strcspn(start, "/?");
    at = NULL;
    for (const char *p = start; p < end; p++) {
        if (*p == '@')
            at = p;
    }
    if (at != NULL)
        split_userinfo(r, start, at);
}

void
readsync_redactor_release(struct readsync_redactor *r)
{
    for (size_t i = 0; i < sizeof r->needles / sizeof r->needles[0]; i++) {
        if (r->needles[i] != NULL) {
            explicit_bzero(r->needles[i], strlen(r->needles[i]));
            free(r->needles[i]);
            r->needles[i] = NULL;
        }
    }
}

/* The earliest, then longest, needle occurring at or after p; NULL if none. */
static const char *
next_needle(const struct readsync_redactor *r, const char *p, size_t *len)
{
    const char *best = NULL;

    for (size_t i = 0; i < sizeof r->needles / sizeof r->needles[0]; i++) {
        const char *n = r->needles[i];
        const char *hit;

        if (n == NULL || *n == '\0')
            continue;
        hit = strstr(p, n);
        if (hit != NULL && (best == NULL || hit < best || (hit == best && strlen(n) > *len))) {
            best = hit;
            *len = strlen(n);
        }
    }
    return best;
}

int
readsync_redact(const struct readsync_redactor *r, const char *msg, struct hub_buf *out)
{
    const char *p = msg, *hit;
    size_t len = 0;

    for (hit = next_needle(r, p, &len); hit != NULL; hit = next_needle(r, p, &len)) {
        if (hub_buf_append(out, p, (size_t)(hit - p)) != HUB_BUF_OK ||
            hub_buf_appends(out, "***") != HUB_BUF_OK)
            return -1;
        p = hit + len;
        len = 0;
    }
    return hub_buf_appends(out, p) == HUB_BUF_OK ? 0 : -1;
}
