/*
 * fuzz_gate_status.c: libFuzzer target over hub-gate's readers of text it
 * does not write itself: `tailscale funnel status --json` output (stdout
 * and stderr in one stream, so maybe a warning line before the JSON), the
 * webhook's health body, and the gate.state file (which a crash or an
 * operator may leave in any shape).
 *
 * Input layout: the whole input goes to all three parsers, since each
 * accepts only its own shape (a funnel status, {"status":...} or
 * {"healthy_streak":...}); the corpus holds one file per shape.
 *   funnel  gate_funnel_parse_status for ports 8443 (the default) and 443
 *   health  gate_health_body_ok on exactly the input's bytes (no NUL after
 *           them, so a read past the length is caught)
 *   state   gate_state_parse, then format -> parse again
 * Invariants checked (abort() when broken): the funnel is ON, OFF or
 * MISDIRECTED after a parse and untouched after a refusal, and a warning
 * line put in front changes nothing; the health verdict depends only on
 * the bytes within the length; a refused state leaves the caller's alone,
 * an accepted one survives format -> parse unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "../../cmd/hub-gate/gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WARNING "Warning: client version \"1.58.2\" != tailscaled server version \"1.60.0\"\n"

static void
check_funnel(const char *text, size_t len, unsigned long long port)
{
    struct hub_buf warned = HUB_BUF_INIT(sizeof WARNING + 65536);
    enum gate_funnel_state st = GATE_FUNNEL_UNKNOWN, again = GATE_FUNNEL_UNKNOWN;
    int rc = gate_funnel_parse_status(text, port, 8085, &st);

    if (rc == 0 && st != GATE_FUNNEL_ON && st != GATE_FUNNEL_OFF && st != GATE_FUNNEL_MISDIRECTED)
        abort();
    if (rc != 0 && (rc != -1 || st != GATE_FUNNEL_UNKNOWN))
        abort();
    /* the warning holds no '{': the same JSON object is found after it */
    if (hub_buf_appends(&warned, WARNING) == HUB_BUF_OK &&
        hub_buf_append(&warned, text, len) == HUB_BUF_OK &&
        (gate_funnel_parse_status(hub_buf_str(&warned), port, 8085, &again) != rc || again != st))
        abort();
    hub_buf_release(&warned);
}

static void
check_health(const uint8_t *data, size_t size)
{
    char *exact = malloc(size > 0 ? size : 1);
    char *longer = malloc(size + 8);
    int ok;

    if (exact == NULL || longer == NULL)
        goto out;
    if (size > 0)
        memcpy(exact, data, size);
    ok = gate_health_body_ok(exact, size);
    if (ok != 0 && ok != 1)
        abort();
    /* what follows the length must not change the verdict */
    if (size > 0)
        memcpy(longer, data, size);
    memcpy(longer + size, "garbage", 8);
    if (gate_health_body_ok(longer, size) != ok)
        abort();
out:
    free(exact);
    free(longer);
}

static void
check_state(const char *text)
{
    struct gate_state st = { 5, 6, 1 }, back = { 7, 8, 0 };
    char *formatted;

    if (gate_state_parse(text, &st) != 0) {
        if (st.healthy_streak != 5 || st.failed_streak != 6 || st.want_open != 1)
            abort();              /* a refused state leaves the caller's alone */
        return;
    }
    if (st.want_open != 0 && st.want_open != 1)
        abort();
    formatted = gate_state_format(&st);
    if (formatted == NULL)
        return;
    if (gate_state_parse(formatted, &back) != 0 || back.healthy_streak != st.healthy_streak ||
        back.failed_streak != st.failed_streak || back.want_open != st.want_open)
        abort();
    free(formatted);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_funnel(text, strlen(text), 8443);
    check_funnel(text, strlen(text), 443);
    check_health(data, size);
    check_state(text);
    free(text);
    return 0;
}
