/*
 * bao.c: one key of an OpenBao/Vault KV v2 secret over libcurl, the third
 * step of the secret lookup (see secret.h), and hub_secret_get(), the full
 * chain with that step in it. The token travels only in the
 * X-Vault-Token header; every buffer that held the token or the answer is
 * wiped. Plain http:// is refused except to loopback, so a token never
 * crosses a network unencrypted.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "buf.h"
#include "hub.h"
#include "log.h"
#include "secret.h"

#define BAO_TIMEOUT_MS 5000L

static size_t
collect(char *p, size_t size, size_t n, void *userdata)
{
    struct hub_buf *b = userdata;

    if (hub_buf_append(b, p, size * n) != HUB_BUF_OK)
        return 0;   /* makes curl fail with CURLE_WRITE_ERROR */
    return size * n;
}

static int
addr_allowed(const char *addr)
{
    static const char *const loopback[] = {
        "http://127.", "http://localhost:", "http://localhost/", "http://[::1]",
    };

    if (strncasecmp(addr, "https://", 8) == 0)
        return 1;
    for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++) {
        if (strncasecmp(addr, loopback[i], strlen(loopback[i])) == 0)
            return 1;
    }
    return 0;
}

static const char *
env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return (v != NULL && *v != '\0') ? v : fallback;
}

/* GET the KV v2 document into body; returns 0 or a sysexits code. */
static int
fetch(const char *url, const char *token, struct hub_buf *body, long *status)
{
    struct hub_buf header = HUB_BUF_INIT(HUB_MAX_SECRET + 32);
    struct curl_slist *headers = NULL;
    CURL *curl = NULL;
    CURLcode cc;
    int rc = EX_UNAVAILABLE;

    if (hub_buf_appendf(&header, "X-Vault-Token: %s", token) != HUB_BUF_OK)
        return hub_fail(EX_CONFIG, "bao_token_too_large");
    curl = curl_easy_init();
    headers = curl_slist_append(NULL, header.data);
    if (curl == NULL || headers == NULL) {
        rc = hub_fail(EX_UNAVAILABLE, "bao_request_failed", HUB_STR("error", "out of memory"));
        goto out;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, BAO_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        rc = hub_fail(EX_UNAVAILABLE, "bao_unreachable", HUB_STR("addr", env_or("HUB_BAO_ADDR", "")),
                      HUB_STR("error", curl_easy_strerror(cc)));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    rc = 0;
out:
    curl_slist_free_all(headers);
    if (curl != NULL)
        curl_easy_cleanup(curl);
    hub_secret_wipe(&header);
    return rc;
}

/* Pick data.data[name] out of a KV v2 answer. */
static int
pick(const char *name, const struct hub_buf *body, struct hub_buf *out, int *found)
{
    cJSON *doc = cJSON_ParseWithLength(hub_buf_str(body), body->len);
    cJSON *data = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "data"), "data");
    cJSON *v = cJSON_GetObjectItemCaseSensitive(data, name);
    int rc = 0;

    if (doc == NULL || !cJSON_IsObject(data)) {
        rc = hub_fail(EX_UNAVAILABLE, "bao_answer_invalid", HUB_STR("secret", name));
    } else if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
        if (hub_buf_appends(out, v->valuestring) != HUB_BUF_OK)
            rc = hub_fail(EX_CONFIG, "secret_too_large", HUB_STR("secret", name));
        else
            *found = 1;
        explicit_bzero(v->valuestring, strlen(v->valuestring));
    }
    cJSON_Delete(doc);
    return rc;
}

int
hub_bao_get(const char *name, struct hub_buf *out, int *found)
{
    const char *addr = env_or("HUB_BAO_ADDR", NULL);
    struct hub_buf token = HUB_BUF_INIT(HUB_MAX_SECRET);
    struct hub_buf url = HUB_BUF_INIT(HUB_MAX_PATH);
    struct hub_buf body = HUB_BUF_INIT(HUB_MAX_BAO_RESPONSE);
    const char *source = NULL;
    long status = 0;
    int rc;

    *found = 0;
    if (addr == NULL)
        return 0;
    if (!addr_allowed(addr))
        return hub_fail(EX_CONFIG, "bao_addr_insecure", HUB_STR("addr", addr),
                        HUB_STR("fix", "use https://, or http:// only to a loopback address"));
    rc = hub_secret_get("bao_token", &token, &source);
    if (rc == 0 && source == NULL)
        rc = hub_fail(EX_CONFIG, "bao_token_missing", HUB_STR("secret", name),
                      HUB_STR("fix", "set the bao_token credential, HUB_BAO_TOKEN_FILE or HUB_BAO_TOKEN"));
    if (rc == 0 && hub_buf_appendf(&url, "%s/v1/%s/data/%s", addr,
                                   env_or("HUB_BAO_MOUNT", "secret"),
                                   env_or("HUB_BAO_PATH", "hub")) != HUB_BUF_OK)
        rc = hub_fail(EX_CONFIG, "bao_url_too_long");
    if (rc == 0)
        rc = fetch(url.data, token.data, &body, &status);
    if (rc == 0 && status == 404)
        goto out;   /* no such secret path: the key is simply not there */
    if (rc == 0 && status != 200)
        rc = hub_fail(status == 403 ? EX_CONFIG : EX_UNAVAILABLE, "bao_refused",
                      HUB_STR("secret", name), HUB_INT("status", status));
    if (rc == 0)
        rc = pick(name, &body, out, found);
out:
    hub_secret_wipe(&token);
    hub_secret_wipe(&body);
    hub_buf_release(&url);
    return rc;
}

int
hub_secret_get(const char *name, struct hub_buf *out, const char **source)
{
    return hub_secret_lookup(name, out, source, hub_bao_get);
}
