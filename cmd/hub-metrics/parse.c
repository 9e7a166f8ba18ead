/*
 * parse.c: the few number and word readers hub-metrics needs for /proc
 * text. Each is bounded: it checks for overflow and never reads past the
 * NUL, so a truncated or garbage file is an error, never a crash.
 */
#include <fnmatch.h>
#include <stdint.h>
#include <string.h>

#include "metrics.h"

static void
skip_blanks(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

int
metrics_next_u64(const char **p, uint64_t *out)
{
    const char *s;
    uint64_t v = 0;

    skip_blanks(p);
    s = *p;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');

        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *p = s;
    *out = v;
    return 0;
}

int
metrics_next_fixed(const char **p, unsigned digits, uint64_t *out)
{
    uint64_t whole, frac = 0, scale = 1;
    unsigned used = 0;

    if (metrics_next_u64(p, &whole) != 0)
        return -1;
    for (unsigned i = 0; i < digits; i++)
        scale *= 10;
    if (**p == '.') {
        (*p)++;
        if (**p < '0' || **p > '9')
            return -1;
        for (; **p >= '0' && **p <= '9'; (*p)++) {
            if (used < digits) {
                frac = frac * 10 + (uint64_t)(**p - '0');
                used++;
            }
        }
    }
    for (; used < digits; used++)
        frac *= 10;
    if (whole > (UINT64_MAX - frac) / scale)
        return -1;
    *out = whole * scale + frac;
    return 0;
}

int
metrics_next_word(const char **p, char *out, size_t outlen)
{
    size_t n = 0;

    skip_blanks(p);
    while ((*p)[n] != '\0' && (*p)[n] != ' ' && (*p)[n] != '\t' && (*p)[n] != '\n')
        n++;
    if (n == 0 || n >= outlen)
        return -1;
    memcpy(out, *p, n);
    out[n] = '\0';
    *p += n;
    return 0;
}

int
metrics_next_line(const char **p)
{
    const char *nl = strchr(*p, '\n');

    if (nl == NULL || nl[1] == '\0') {
        *p += strlen(*p);
        return -1;
    }
    *p = nl + 1;
    return 0;
}

int
metrics_list_match(const char *list, const char *name)
{
    size_t namelen = strlen(name);
    char pat[128];

    while (list != NULL && *list != '\0') {
        const char *comma = strchr(list, ',');
        size_t n = comma != NULL ? (size_t)(comma - list) : strlen(list);
        int glob = 0;

        for (size_t i = 0; i < n; i++)
            glob |= list[i] == '*' || list[i] == '?' || list[i] == '[';
        /* most patterns are plain names: skip fnmatch for those */
        if (!glob && n > 0 && n == namelen && memcmp(list, name, n) == 0)
            return 1;
        if (glob && n < sizeof pat) {
            memcpy(pat, list, n);
            pat[n] = '\0';
            if (fnmatch(pat, name, 0) == 0)
                return 1;
        }
        list = comma != NULL ? comma + 1 : NULL;
    }
    return 0;
}
