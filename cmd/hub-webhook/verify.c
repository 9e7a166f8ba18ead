/*
 * verify.c: X-Hub-Signature-256. Owns the secrets' memory and the HMAC
 * contexts keyed with them, and wipes both; never logs a secret or a
 * computed MAC, and never looks at the body beyond hashing it.
 *
 * Rotation: the github_webhook_secret value may hold several secrets, one a
 * line. Every configured secret is tried (no early exit) and each MAC is
 * compared with CRYPTO_memcmp, so the time taken does not depend on which
 * secret matched or how much of the MAC was right.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "hex.h"
#include "hub.h"
#include "log.h"
#include "secret.h"
#include "webhook.h"

void
webhook_secrets_wipe(struct webhook_secrets *s)
{
    for (size_t i = 0; i < WEBHOOK_MAX_SECRETS; i++)
        EVP_MAC_CTX_free(s->keyed[i]);      /* OpenSSL cleanses the key state */
    if (s->raw != NULL) {
        explicit_bzero(s->raw, s->rawlen);
        free(s->raw);
    }
    *s = (struct webhook_secrets)WEBHOOK_SECRETS_INIT;
}

/* Record the line [p, end) as one secret, without its '\r'. */
static int
add_line(struct webhook_secrets *s, char *p, char *end)
{
    while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (end == p)
        return 0;
    if (s->n >= WEBHOOK_MAX_SECRETS)
        return -1;
    *end = '\0';
    s->v[s->n] = p;
    s->len[s->n] = (size_t)(end - p);
    s->n++;
    return 0;
}

/*
 * An HMAC-SHA256 context keyed once at load. Per request it is copied, not
 * rebuilt: the one-shot HMAC() fetches HMAC and SHA-256 from the provider
 * and hashes the key's pad blocks every time, about a tenth of the HMAC's
 * cost for a 7.7 KB body. NULL when OpenSSL cannot (check then falls back).
 */
static EVP_MAC_CTX *
keyed_hmac(const char *key, size_t len)
{
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;

    EVP_MAC_free(mac);                      /* the context holds its own reference */
    if (ctx != NULL && EVP_MAC_init(ctx, (const unsigned char *)key, len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

int
webhook_secrets_parse(struct webhook_secrets *s, const char *text, size_t len)
{
    char *p, *end;

    webhook_secrets_wipe(s);
    s->raw = malloc(len + 1);
    if (s->raw == NULL)
        return -1;
    memcpy(s->raw, text, len);
    s->raw[len] = '\0';
    s->rawlen = len + 1;
    for (p = s->raw, end = s->raw + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *stop = nl != NULL ? nl : end;

        if (add_line(s, p, stop) != 0) {
            webhook_secrets_wipe(s);
            return -1;
        }
        p = stop + 1;
    }
    if (s->n == 0) {
        webhook_secrets_wipe(s);
        return -1;
    }
    for (size_t i = 0; i < s->n; i++)
        s->keyed[i] = keyed_hmac(s->v[i], s->len[i]);
    return 0;
}

int
webhook_secrets_load(struct webhook_secrets *s)
{
    struct hub_buf v = HUB_BUF_INIT(HUB_MAX_SECRET);
    const char *source = NULL;
    int rc;

    rc = hub_secret_get(WEBHOOK_SECRET_NAME, &v, &source);
    if (rc != 0)
        goto out;
    if (source == NULL) {
        rc = hub_fail(EX_CONFIG, "webhook_secret_missing", HUB_STR("secret", WEBHOOK_SECRET_NAME),
                      HUB_STR("fix", "set LoadCredential=github_webhook_secret or "
                                     "HUB_GITHUB_WEBHOOK_SECRET_FILE"));
        goto out;
    }
    if (webhook_secrets_parse(s, hub_buf_str(&v), v.len) != 0) {
        rc = hub_fail(EX_CONFIG, "webhook_secret_invalid", HUB_STR("secret", WEBHOOK_SECRET_NAME),
                      HUB_STR("source", source),
                      HUB_STR("problem", "empty, or more than 8 lines (one secret a line)"));
        goto out;
    }
    hub_log(HUB_LOG_INFO, "webhook_secret_loaded", HUB_STR("source", source),
            HUB_INT("secrets", s->n));
    rc = 0;
out:
    hub_secret_wipe(&v);
    return rc;
}

int
webhook_signature_parse(const char *header, unsigned char mac[WEBHOOK_MAC_LEN])
{
    static const char prefix[] = "sha256=";

    if (header == NULL || strncmp(header, prefix, sizeof prefix - 1) != 0)
        return -1;
    header += sizeof prefix - 1;
    if (strlen(header) != 2 * WEBHOOK_MAC_LEN)
        return -1;
    return hub_hex_decode(header, WEBHOOK_MAC_LEN, mac);
}

/* HMAC-SHA256(secret i, body) into out. A copy of the keyed context, so
 * concurrent requests never share one. Returns 0 or -1. */
static int
mac_of(const struct webhook_secrets *s, size_t i, const void *body, size_t len,
       unsigned char out[WEBHOOK_MAC_LEN])
{
    EVP_MAC_CTX *c = s->keyed[i] != NULL ? EVP_MAC_CTX_dup(s->keyed[i]) : NULL;
    unsigned int got = 0;
    size_t n = 0;
    int ok;

    if (c == NULL)
        return HMAC(EVP_sha256(), s->v[i], (int)s->len[i], body, len, out, &got) != NULL &&
                       got == WEBHOOK_MAC_LEN ? 0 : -1;
    ok = EVP_MAC_update(c, body, len) == 1 && EVP_MAC_final(c, out, &n, WEBHOOK_MAC_LEN) == 1 &&
         n == WEBHOOK_MAC_LEN;
    EVP_MAC_CTX_free(c);
    return ok ? 0 : -1;
}

int
webhook_signature_check(const struct webhook_secrets *s, const void *body, size_t len,
                        const unsigned char mac[WEBHOOK_MAC_LEN])
{
    static const unsigned char empty[1];
    int matched = 0;

    if (body == NULL)
        body = empty;
    for (size_t i = 0; i < s->n; i++) {
        unsigned char got[WEBHOOK_MAC_LEN];

        if (mac_of(s, i, body, len, got) != 0)
            continue;
        matched |= CRYPTO_memcmp(got, mac, WEBHOOK_MAC_LEN) == 0;
        explicit_bzero(got, sizeof got);
    }
    return matched;
}
