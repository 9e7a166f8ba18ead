/*
 * pgauth.c: answers to PostgreSQL's password requests (md5 and
 * SCRAM-SHA-256, RFC 5802/7677 without channel binding) and the password
 * lookup.
 *
 * The hashes come from libcrypto, loaded with dlopen() only when a server
 * asks for them: trust and peer authentication (the common Unix-socket
 * case) never pay for loading it, which costs more than a whole sample.
 * The loaded library stays for the life of the process (a daemon
 * authenticates again after a reconnect). Passwords are wiped after use.
 *
 * The password comes from libhub's secret chain without its OpenBao step
 * (hub_secret_get_local: OpenBao would load libcurl, which costs more than a
 * whole sample), then libpq's own PGPASSWORD.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fileio.h"
#include "hub.h"
#include "log.h"
#include "metrics.h"
#include "secret.h"

#define SHA256_LEN 32
#define NONCE_BYTES 18

struct crypto_api {
    __typeof__(&EVP_Digest) digest;
    __typeof__(&EVP_sha256) sha256;
    __typeof__(&EVP_md5) md5;
    __typeof__(&HMAC) hmac;
    __typeof__(&PKCS5_PBKDF2_HMAC) pbkdf2;
};

struct metrics_scram {
    struct crypto_api c;
    char *password;                    /* owned, wiped */
    struct hub_buf first_bare;         /* n=,r=CNONCE */
    struct hub_buf auth_message;
    unsigned char salted[SHA256_LEN];
    char cnonce[32];
};

/* Load libcrypto once (the handle is kept: see the file comment). */
static int
crypto_load(struct crypto_api *c)
{
    static const char *const names[] = { "libcrypto.so.3", "libcrypto.so" };
    void *h = NULL;

    for (size_t i = 0; h == NULL && i < sizeof names / sizeof names[0]; i++)
        h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return -1;
    c->digest = (__typeof__(c->digest))dlsym(h, "EVP_Digest");
    c->sha256 = (__typeof__(c->sha256))dlsym(h, "EVP_sha256");
    c->md5 = (__typeof__(c->md5))dlsym(h, "EVP_md5");
    c->hmac = (__typeof__(c->hmac))dlsym(h, "HMAC");
    c->pbkdf2 = (__typeof__(c->pbkdf2))dlsym(h, "PKCS5_PBKDF2_HMAC");
    if (c->digest == NULL || c->sha256 == NULL || c->md5 == NULL || c->hmac == NULL ||
        c->pbkdf2 == NULL)
        return -1;
    return 0;
}

static void
hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int
md5_hex(const struct crypto_api *c, const void *a, size_t alen, const void *b, size_t blen,
        char out[33])
{
    unsigned char md[16];
    unsigned int len = 0;
    unsigned char *buf = malloc(alen + blen + 1);
    int ok;

    if (buf == NULL)
        return -1;
    memcpy(buf, a, alen);
    memcpy(buf + alen, b, blen);
    ok = c->digest(buf, alen + blen, md, &len, c->md5(), NULL) == 1 && len == 16;
    explicit_bzero(buf, alen + blen);
    free(buf);
    if (!ok)
        return -1;
    hex(md, 16, out);
    return 0;
}

int
metrics_md5_password(const char *user, const char *password, const unsigned char salt[4],
                     char out[36])
{
    struct crypto_api c;
    char inner[33];

    if (crypto_load(&c) != 0)
        return -1;
    if (md5_hex(&c, password, strlen(password), user, strlen(user), inner) != 0)
        return -1;
    memcpy(out, "md5", 3);
    return md5_hex(&c, inner, 32, salt, 4, out + 3);
}

int
metrics_base64_encode(const unsigned char *in, size_t n, struct hub_buf *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        char q[4] = { tbl[v >> 18], tbl[(v >> 12) & 63],
                      i + 1 < n ? tbl[(v >> 6) & 63] : '=', i + 2 < n ? tbl[v & 63] : '=' };

        if (hub_buf_append(out, q, 4) != 0)
            return -1;
    }
    return 0;
}

static int
b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

long
metrics_base64_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;

    while (n > 0 && in[n - 1] == '=')
        n--;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(in[i]);

        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == outlen)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)o;
}

int
metrics_scram_begin(struct metrics_scram **out, const char *password, struct hub_buf *first)
{
    struct metrics_scram *s = calloc(1, sizeof *s);
    unsigned char raw[NONCE_BYTES];
    struct hub_buf nonce = HUB_BUF_INIT(64);
    int rc = -1;

    *out = s;
    if (s == NULL)
        return -1;
    hub_buf_init(&s->first_bare, 256);
    hub_buf_init(&s->auth_message, 4096);
    s->password = strdup(password);
    if (s->password == NULL || crypto_load(&s->c) != 0 ||
        getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw ||
        metrics_base64_encode(raw, sizeof raw, &nonce) != 0 || nonce.len >= sizeof s->cnonce)
        goto out;
    memcpy(s->cnonce, nonce.data, nonce.len + 1);
    /* The user name is sent empty: the server takes the startup packet's. */
    if (hub_buf_appendf(&s->first_bare, "n=,r=%s", s->cnonce) != 0 ||
        hub_buf_appendf(first, "n,,%s", hub_buf_str(&s->first_bare)) != 0)
        goto out;
    rc = 0;
out:
    hub_buf_release(&nonce);
    return rc;
}

/* "r=...,s=...,i=..." fields of the server-first message. */
static int
server_first_fields(const char *msg, size_t len, const char **r, size_t *rlen,
                    unsigned char *salt, long *saltlen, uint64_t *iter)
{
    const char *p = msg, *end = msg + len, *s = NULL, *i = NULL;
    size_t slen = 0;

    *r = NULL;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);

        if (n >= 2 && p[1] == '=' && p[0] == 'r') {
            *r = p + 2;
            *rlen = n - 2;
        } else if (n >= 2 && p[1] == '=' && p[0] == 's') {
            s = p + 2;
            slen = n - 2;
        } else if (n >= 2 && p[1] == '=' && p[0] == 'i') {
            i = p + 2;
        }
        p += n + 1;
    }
    if (*r == NULL || s == NULL || i == NULL)
        return -1;
    *saltlen = metrics_base64_decode(s, slen, salt, 128);
    return *saltlen > 0 && metrics_next_u64(&i, iter) == 0 && *iter > 0 && *iter < 10000000 ?
        0 : -1;
}

static int
hmac(const struct crypto_api *c, const unsigned char *key, size_t klen, const void *data,
     size_t n, unsigned char out[SHA256_LEN])
{
    unsigned int len = 0;

    return c->hmac(c->sha256(), key, (int)klen, data, n, out, &len) != NULL &&
           len == SHA256_LEN ? 0 : -1;
}

int
metrics_scram_continue(struct metrics_scram *s, const char *server_first, size_t len,
                       struct hub_buf *final)
{
    unsigned char salt[128], client_key[SHA256_LEN], stored[SHA256_LEN], sig[SHA256_LEN];
    unsigned int dlen = 0;
    const char *r;
    size_t rlen = 0, cn = strlen(s->cnonce);
    long saltlen;
    uint64_t iter;

    if (server_first_fields(server_first, len, &r, &rlen, salt, &saltlen, &iter) != 0 ||
        rlen <= cn || strncmp(r, s->cnonce, cn) != 0)
        return -1;
    if (s->c.pbkdf2(s->password, (int)strlen(s->password), salt, (int)saltlen, (int)iter,
                    s->c.sha256(), SHA256_LEN, s->salted) != 1)
        return -1;
    explicit_bzero(s->password, strlen(s->password));
    if (hmac(&s->c, s->salted, SHA256_LEN, "Client Key", 10, client_key) != 0 ||
        s->c.digest(client_key, SHA256_LEN, stored, &dlen, s->c.sha256(), NULL) != 1)
        return -1;
    /* biws is base64("n,,"): no channel binding */
    if (hub_buf_appendf(final, "c=biws,r=%.*s", (int)rlen, r) != 0)
        return -1;
    if (hub_buf_appendf(&s->auth_message, "%s,%.*s,%s", hub_buf_str(&s->first_bare),
                        (int)len, server_first, hub_buf_str(final)) != 0 ||
        hmac(&s->c, stored, SHA256_LEN, s->auth_message.data, s->auth_message.len, sig) != 0)
        return -1;
    for (int i = 0; i < SHA256_LEN; i++)
        client_key[i] ^= sig[i];
    return hub_buf_appends(final, ",p=") == 0 &&
           metrics_base64_encode(client_key, SHA256_LEN, final) == 0 ? 0 : -1;
}

int
metrics_scram_verify(struct metrics_scram *s, const char *server_final, size_t len)
{
    unsigned char server_key[SHA256_LEN], want[SHA256_LEN], got[SHA256_LEN];

    if (len < 2 || strncmp(server_final, "v=", 2) != 0 ||
        metrics_base64_decode(server_final + 2, len - 2, got, sizeof got) != SHA256_LEN)
        return -1;
    if (hmac(&s->c, s->salted, SHA256_LEN, "Server Key", 10, server_key) != 0 ||
        hmac(&s->c, server_key, SHA256_LEN, s->auth_message.data, s->auth_message.len,
             want) != 0)
        return -1;
    return memcmp(want, got, SHA256_LEN) == 0 ? 0 : -1;
}

void
metrics_scram_free(struct metrics_scram *s)
{
    if (s == NULL)
        return;
    if (s->password != NULL)
        explicit_bzero(s->password, strlen(s->password));
    free(s->password);
    explicit_bzero(s->salted, sizeof s->salted);
    hub_buf_release(&s->first_bare);
    hub_buf_release(&s->auth_message);
    free(s);
}

int
metrics_pg_password(struct hub_buf *out, int *found)
{
    const char *source = NULL;
    const char *pgpassword = getenv("PGPASSWORD");
    int rc = hub_secret_get_local("pg_password", out, &source);

    *found = source != NULL;
    if (rc != 0 || *found)
        return rc;
    if (pgpassword != NULL && *pgpassword != '\0') {
        *found = 1;
        return hub_buf_appends(out, pgpassword) == HUB_BUF_OK ? 0 : EX_CONFIG;
    }
    return 0;
}
