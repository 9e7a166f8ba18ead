/*
 * check.c: is the webhook healthy? One HTTP GET through libcurl (no
 * redirects, no proxy, a deadline, a capped body) and, when configured,
 * `systemctl is-active UNIT`. Never fails: anything that goes wrong is an
 * unhealthy result with a reason, because the gate fails closed.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "buf.h"
#include "child.h"
#include "gate.h"
#include "hub.h"

/* A health answer is a few hundred bytes; anything past this is not one. */
#define HEALTH_BODY_MAX (64u * 1024)

int
gate_health_body_ok(const char *body, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
    int ok = cJSON_IsObject(root) && cJSON_IsString(status) &&
             strcmp(status->valuestring, "ok") == 0;

    cJSON_Delete(root);
    return ok;
}

static size_t
collect(char *p, size_t size, size_t n, void *userdata)
{
    struct hub_buf *body = userdata;

    /* Returning less than given makes curl stop with CURLE_WRITE_ERROR. */
    return hub_buf_append(body, p, n) == HUB_BUF_OK ? n : 0;
}

static void
set_result(struct gate_health *out, int healthy, const char *reason, const char *detail)
{
    out->healthy = healthy;
    out->reason = reason;
    snprintf(out->detail, sizeof out->detail, "%s", detail != NULL ? detail : "");
}

static void
check_http(const struct gate_opts *o, struct gate_health *out)
{
    struct hub_buf body = HUB_BUF_INIT(HEALTH_BODY_MAX);
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *c = curl_easy_init();
    CURLcode cc;

    if (c == NULL) {
        set_result(out, 0, "internal_error", "curl_easy_init failed");
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, o->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_PROXY, "");       /* a loopback check never goes through a proxy */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->health_timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->health_timeout_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "hub-gate/" HUB_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->http_status);
    if (cc == CURLE_WRITE_ERROR)
        set_result(out, 0, "body_too_large", NULL);
    else if (cc != CURLE_OK)
        set_result(out, 0, cc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "request_failed",
                   errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
    else if (out->http_status != 200)
        set_result(out, 0, "http_status", NULL);
    else if (!gate_health_body_ok(hub_buf_str(&body), body.len))
        set_result(out, 0, "status_not_ok", NULL);
    else
        set_result(out, 1, "ok", NULL);
out:
    if (c != NULL)
        curl_easy_cleanup(c);
    hub_buf_release(&body);
}

static void
check_unit(const struct gate_opts *o, struct gate_health *out)
{
    const char *const argv[] = { "systemctl", "is-active", "--", o->unit, NULL };
    const struct hub_child spec = { .argv = argv, .timeout_ms = (unsigned)o->command_timeout_ms };
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    size_t n;

    if (hub_child_run(&spec, &res) != 0) {
        set_result(out, 0, "unit_check_failed", "systemctl could not be run");
        goto out;
    }
    if (!hub_child_ok(&res)) {
        /* The first line of the output is the state: "inactive", "failed", ... */
        n = strcspn(hub_buf_str(&res.output), "\n");
        hub_buf_truncate(&res.output, n);
        set_result(out, 0, "unit_inactive", hub_buf_str(&res.output));
    }
out:
    hub_child_result_release(&res);
}

void
gate_health_check(const struct gate_opts *o, struct gate_health *out)
{
    memset(out, 0, sizeof *out);
    check_http(o, out);
    if (out->healthy && o->unit != NULL)
        check_unit(o, out);
}
