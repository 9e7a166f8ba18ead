/*
 * payload.c: the shapes of a delivery before its JSON is read: the content
 * type, the form-encoded "payload=" field GitHub sends when a hook is set to
 * application/x-www-form-urlencoded, and the GUID and event headers. Pure
 * functions over bytes; nothing here allocates except into the caller's
 * buffer.
 */
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "webhook.h"

static int
media_is(const char *ct, size_t n, const char *want)
{
    return n == strlen(want) && strncasecmp(ct, want, n) == 0;
}

enum webhook_body_type
webhook_body_type(const char *ct)
{
    size_t n;

    if (ct == NULL)
        return WEBHOOK_BODY_OTHER;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (media_is(ct, n, "application/json"))
        return WEBHOOK_BODY_JSON;
    if (media_is(ct, n, "application/x-www-form-urlencoded"))
        return WEBHOOK_BODY_FORM;
    return WEBHOOK_BODY_OTHER;
}

int
webhook_form_payload(const char *body, size_t len, struct hub_buf *out)
{
    const char *p = body, *end = body + len;
    size_t start = out->len;
    int found = 0;

    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *field_end = amp != NULL ? amp : end;

        if ((size_t)(field_end - p) >= 8 && memcmp(p, "payload=", 8) == 0) {
            /* Two payload fields are ambiguous: which one did the MAC mean? */
            if (found || hub_percent_decode(p + 8, (size_t)(field_end - (p + 8)), 1, out) != 0) {
                hub_buf_truncate(out, start);
                return -1;
            }
            found = 1;
        }
        p = field_end + 1;
    }
    return found ? 0 : -1;
}

static int
only_chars(const char *s, size_t max, const char *allowed)
{
    size_t n;

    if (s == NULL)
        return 0;
    n = strnlen(s, max);
    return n > 0 && n < max && strspn(s, allowed) == n;
}

int
webhook_guid_valid(const char *s)
{
    return only_chars(s, WEBHOOK_GUID_MAX,
                      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-");
}

int
webhook_event_valid(const char *s)
{
    return only_chars(s, WEBHOOK_EVENT_MAX, "abcdefghijklmnopqrstuvwxyz_");
}
