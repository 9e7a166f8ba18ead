/*
 * fuzz_webhook.c: libFuzzer target over hub-webhook's request decoding:
 * the X-Hub-Signature-256 parser and HMAC check, the content-type and
 * header validators, the form "payload=" decoder and the decision over the
 * decoded payload, and the traceparent parser.
 *
 * Input layout (so the corpus can be read and written by hand): up to four
 * header lines, then the body:
 *   line 1  X-GitHub-Event value
 *   line 2  Content-Type value
 *   line 3  X-Hub-Signature-256 value
 *   line 4  traceparent value
 *   rest    the raw body
 * Missing lines are empty. Nothing here may crash, leak or read out of
 * bounds, whatever the bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hub.h"
#include "repos.h"
#include "trace.h"
#include "../../cmd/hub-webhook/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Take one line (to '\n' or the end) as a NUL-terminated copy in out. */
static void
take_line(const uint8_t **p, const uint8_t *end, char *out, size_t outlen)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *stop = nl != NULL ? nl : end;
    size_t n = (size_t)(stop - *p);

    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, *p, n);
    out[n] = '\0';
    *p = nl != NULL ? nl + 1 : end;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hub_repo items[2];
    static struct hub_repo_list repos = { items, 2 };
    static char github0[] = "hub-test/infra", github1[] = "hub-test/site";
    static char branch0[] = "main", branch1[] = "release/v2";
    const uint8_t *p = data, *end = data + size;
    char event[256], ctype[256], sig[256], tp[256];
    unsigned char mac[WEBHOOK_MAC_LEN];
    struct webhook_secrets secrets = WEBHOOK_SECRETS_INIT;
    struct hub_buf form = HUB_BUF_INIT(HUB_MAX_WEBHOOK_BODY);
    struct webhook_decision d;
    struct hub_trace_ctx tc;
    const char *body;
    size_t body_len;

    memcpy(items[0].name, "infra", 6);
    items[0].github = github0;
    items[0].branch = branch0;
    memcpy(items[1].name, "site", 5);
    items[1].github = github1;
    items[1].branch = branch1;

    take_line(&p, end, event, sizeof event);
    take_line(&p, end, ctype, sizeof ctype);
    take_line(&p, end, sig, sizeof sig);
    take_line(&p, end, tp, sizeof tp);
    body = (const char *)p;
    body_len = (size_t)(end - p);

    (void)webhook_event_valid(event);
    (void)webhook_guid_valid(event);
    if (hub_trace_parse(tp, &tc) == 0) {
        char out[HUB_TRACEPARENT_LEN];

        if (hub_trace_format(&tc, out, sizeof out) != 0)
            abort();
    }
    if (webhook_signature_parse(sig, mac) == 0 &&
        webhook_secrets_parse(&secrets, "fuzz-secret\nsecond", 18) == 0)
        (void)webhook_signature_check(&secrets, body, body_len, mac);
    webhook_secrets_wipe(&secrets);

    switch (webhook_body_type(ctype)) {
    case WEBHOOK_BODY_FORM:
        if (webhook_form_payload(body, body_len, &form) == 0)
            webhook_decide(event, hub_buf_str(&form), form.len, &repos, &d);
        break;
    case WEBHOOK_BODY_JSON:
    case WEBHOOK_BODY_OTHER:
        webhook_decide(event, body, body_len, &repos, &d);
        if (d.action == WEBHOOK_TRIGGER && (d.repo == NULL || strlen(d.after) < 40))
            abort();                      /* a trigger always names a repo and a commit */
        break;
    }
    hub_buf_release(&form);
    return 0;
}
