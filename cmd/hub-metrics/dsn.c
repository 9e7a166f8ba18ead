/*
 * dsn.c: libpq connection strings without libpq (see metrics.h for why):
 * "key=value ..." words (values optionally single-quoted, with \' and \\)
 * and postgresql:// URIs, then PG* variables and libpq's defaults for what
 * is unset. Keys hub-metrics does not use are accepted and ignored, like
 * libpq's tuning keys; a second host in a list is ignored (first one only).
 * Owns the strings of struct metrics_dsn; never logs a password.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hex.h"
#include "buf.h"
#include "metrics.h"

#define MAX_DSN_VALUE 4096

struct dsn_key {
    const char *name;
    size_t off;
};

#define K(field) offsetof(struct metrics_dsn, field)
static const struct dsn_key dsn_keys[] = {
    { "host", K(host) }, { "hostaddr", K(hostaddr) }, { "port", K(port) },
    { "user", K(user) }, { "dbname", K(dbname) }, { "password", K(password) },
    { "sslmode", K(sslmode) }, { "connect_timeout", K(connect_timeout) },
    { "application_name", K(application_name) },
};

static int
set_key(struct metrics_dsn *d, const char *key, size_t klen, const char *val, size_t vlen)
{
    for (size_t i = 0; i < sizeof dsn_keys / sizeof dsn_keys[0]; i++) {
        char **slot = (char **)((char *)d + dsn_keys[i].off);

        if (strlen(dsn_keys[i].name) != klen || strncmp(dsn_keys[i].name, key, klen) != 0)
            continue;
        free(*slot);
        *slot = strndup(val, vlen);
        return *slot != NULL ? 0 : -1;
    }
    return 0;
}

/* One value of the key=value form into v; advances *p. */
static int
kv_value(const char **p, struct hub_buf *v)
{
    const char *s = *p;
    int quoted = *s == '\'';

    s += quoted;
    for (;;) {
        char c = *s;

        if (c == '\0' && quoted)
            return -1;
        if (c == '\0' || (!quoted && (c == ' ' || c == '\t' || c == '\n')))
            break;
        if (quoted && c == '\'') {
            s++;
            break;
        }
        if (c == '\\' && s[1] != '\0')
            c = *++s;
        if (hub_buf_appendc(v, c) != 0)
            return -1;
        s++;
    }
    *p = s;
    return 0;
}

static int
parse_kv(const char *s, struct metrics_dsn *d)
{
    struct hub_buf v = HUB_BUF_INIT(MAX_DSN_VALUE);
    int rc = -1;

    for (;;) {
        const char *key;
        size_t klen;

        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        if (*s == '\0')
            break;
        key = s;
        while (*s != '\0' && *s != '=' && *s != ' ' && *s != '\t')
            s++;
        klen = (size_t)(s - key);
        while (*s == ' ' || *s == '\t')
            s++;
        if (klen == 0 || *s++ != '=')
            goto out;
        while (*s == ' ' || *s == '\t')
            s++;
        hub_buf_reset(&v);
        if (kv_value(&s, &v) != 0 || set_key(d, key, klen, hub_buf_str(&v), v.len) != 0)
            goto out;
    }
    rc = 0;
out:
    hub_buf_release(&v);
    return rc;
}

/* Percent-decode s[0..n) and store it under key. */
static int
set_decoded(struct metrics_dsn *d, const char *key, const char *s, size_t n)
{
    struct hub_buf v = HUB_BUF_INIT(MAX_DSN_VALUE);
    int rc = -1;

    if (hub_percent_decode(s, n, 0, &v) != 0 || memchr(hub_buf_str(&v), '\0', v.len) != NULL)
        goto out;
    rc = set_key(d, key, strlen(key), hub_buf_str(&v), v.len);
out:
    hub_buf_release(&v);
    return rc;
}

/* ?key=value&key=value */
static int
uri_params(const char *s, struct metrics_dsn *d)
{
    while (*s != '\0') {
        size_t n = strcspn(s, "&");
        const char *eq = memchr(s, '=', n);
        char key[64];

        if (eq == NULL || (size_t)(eq - s) >= sizeof key)
            return -1;
        memcpy(key, s, (size_t)(eq - s));
        key[eq - s] = '\0';
        if (set_decoded(d, key, eq + 1, n - (size_t)(eq - s) - 1) != 0)
            return -1;
        s += n + (s[n] == '&');
    }
    return 0;
}

/* host[:port] of the first host, [v6] allowed. */
static int
uri_host(const char *s, size_t n, struct metrics_dsn *d)
{
    const char *colon;
    size_t comma = strcspn(s, ",");

    if (comma < n)
        n = comma;
    if (n > 0 && s[0] == '[') {
        const char *end = memchr(s, ']', n);

        if (end == NULL || set_decoded(d, "host", s + 1, (size_t)(end - s - 1)) != 0)
            return -1;
        colon = end + 1 < s + n && end[1] == ':' ? end + 1 : NULL;
    } else {
        colon = memchr(s, ':', n);
        if (set_decoded(d, "host", s, colon ? (size_t)(colon - s) : n) != 0)
            return -1;
    }
    if (colon != NULL && set_decoded(d, "port", colon + 1, (size_t)(s + n - colon - 1)) != 0)
        return -1;
    return 0;
}

static int
parse_uri(const char *s, struct metrics_dsn *d)
{
    size_t auth_end = strcspn(s, "/?");
    const char *at = memchr(s, '@', auth_end);
    const char *host = s;

    if (at != NULL) {
        const char *colon = memchr(s, ':', (size_t)(at - s));

        if (set_decoded(d, "user", s, colon ? (size_t)(colon - s) : (size_t)(at - s)) != 0 ||
            (colon != NULL && set_decoded(d, "password", colon + 1,
                                          (size_t)(at - colon - 1)) != 0))
            return -1;
        host = at + 1;
    }
    if (s + auth_end > host && uri_host(host, (size_t)(s + auth_end - host), d) != 0)
        return -1;
    s += auth_end;
    if (*s == '/') {
        size_t n = strcspn(++s, "?");

        if (n > 0 && set_decoded(d, "dbname", s, n) != 0)
            return -1;
        s += n;
    }
    return *s == '?' ? uri_params(s + 1, d) : 0;
}

static int
fill(char **slot, const char *env, const char *dflt)
{
    const char *v = env != NULL ? getenv(env) : NULL;

    if (*slot != NULL && **slot != '\0')
        return 0;
    free(*slot);
    *slot = NULL;
    if (v == NULL || *v == '\0')
        v = dflt;
    if (v == NULL)
        return 0;
    *slot = strdup(v);
    return *slot != NULL ? 0 : -1;
}

static const char *
login_name(void)
{
    struct passwd *pw = getpwuid(geteuid());

    return pw != NULL ? pw->pw_name : NULL;
}

static int
fill_defaults(struct metrics_dsn *d)
{
    const char *timeout = getenv("HUB_PG_CONNECT_TIMEOUT");

    if (fill(&d->host, "PGHOST", "/var/run/postgresql") != 0 ||
        fill(&d->hostaddr, "PGHOSTADDR", NULL) != 0 || fill(&d->port, "PGPORT", "5432") != 0 ||
        fill(&d->sslmode, "PGSSLMODE", "prefer") != 0 ||
        fill(&d->connect_timeout, "PGCONNECT_TIMEOUT", timeout ? timeout : "5") != 0)
        return -1;
    if (d->user == NULL || d->user[0] == '\0') {
        const char *u = getenv("PGUSER");

        if (fill(&d->user, NULL, u != NULL && *u != '\0' ? u : login_name()) != 0)
            return -1;
    }
    if (d->user == NULL)
        return -1;
    return fill(&d->dbname, "PGDATABASE", d->user);
}

int
metrics_dsn_parse(const char *text, struct metrics_dsn *d, const char **err)
{
    int rc;

    if (strncmp(text, "postgresql://", 13) == 0)
        rc = parse_uri(text + 13, d);
    else if (strncmp(text, "postgres://", 11) == 0)
        rc = parse_uri(text + 11, d);
    else
        rc = parse_kv(text, d);
    if (rc != 0) {
        *err = "malformed connection string (key=value words or a postgresql:// URI)";
        return -1;
    }
    if (fill_defaults(d) != 0) {
        *err = "no user name: set user= in HUB_PG_DSN or PGUSER";
        return -1;
    }
    return 0;
}

int
metrics_dsn_configured(void)
{
    static const char *const vars[] = { "HUB_PG_DSN", "PGHOST", "PGDATABASE" };

    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);

        if (v != NULL && *v != '\0')
            return 1;
    }
    return 0;
}

void
metrics_dsn_release(struct metrics_dsn *d)
{
    for (size_t i = 0; i < sizeof dsn_keys / sizeof dsn_keys[0]; i++) {
        char **slot = (char **)((char *)d + dsn_keys[i].off);

        if (*slot != NULL && slot == &d->password)
            explicit_bzero(*slot, strlen(*slot));
        free(*slot);
        *slot = NULL;
    }
}
