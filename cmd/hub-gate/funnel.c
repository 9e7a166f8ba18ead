/*
 * funnel.c: the Tailscale CLI, the only way hub-gate changes the world.
 *
 * Three fixed argv arrays (status, open, close) built from the configured
 * ports, run through hub_child with a deadline; never a shell string. Every
 * change is read back with `funnel status --json` before it is reported, so
 * the gate never claims a state it did not reach. Each failure is logged
 * once here, with the command's exit code and output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "child.h"
#include "gate.h"
#include "hub.h"
#include "log.h"

/* The Proxy of the root handler of site ("<node>:<port>") in Web, or NULL. */
static const char *
root_proxy(const cJSON *root, const char *site)
{
    const cJSON *web = cJSON_GetObjectItemCaseSensitive(root, "Web");
    const cJSON *handlers = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(web, site), "Handlers");
    const cJSON *proxy = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(handlers, "/"), "Proxy");

    return cJSON_IsString(proxy) ? proxy->valuestring : NULL;
}

/* True when proxy is this host's port over plain HTTP. */
static int
proxies_to(const char *proxy, unsigned long long port)
{
    static const char *const hosts[] = { "http://127.0.0.1:", "http://localhost:", "http://[::1]:" };
    char want[24];
    size_t n = (size_t)snprintf(want, sizeof want, "%llu", port);

    for (size_t i = 0; proxy != NULL && i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t hlen = strlen(hosts[i]);
        const char *rest = proxy + hlen;

        if (strncmp(proxy, hosts[i], hlen) == 0 && strncmp(rest, want, n) == 0 &&
            (rest[n] == '\0' || strcmp(rest + n, "/") == 0))
            return 1;
    }
    return 0;
}

int
gate_funnel_parse_status(const char *text, unsigned long long https_port,
                         unsigned long long target_port, enum gate_funnel_state *state)
{
    /* stdout and stderr come in one stream: skip a warning printed before the JSON. */
    const char *start = strchr(text, '{');
    const cJSON *allow, *item;
    char suffix[16];
    size_t slen;
    cJSON *root;

    if (start == NULL)
        return -1;
    root = cJSON_ParseWithOpts(start, NULL, 0);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return -1;
    }
    snprintf(suffix, sizeof suffix, ":%llu", https_port);
    slen = strlen(suffix);
    *state = GATE_FUNNEL_OFF;
    /* Keys are "<node's DNS name>:<port>"; the node's name is not ours to know. */
    allow = cJSON_GetObjectItemCaseSensitive(root, "AllowFunnel");
    if (!cJSON_IsObject(allow))
        allow = NULL;
    cJSON_ArrayForEach(item, allow) {
        size_t klen = item->string != NULL ? strlen(item->string) : 0;

        if (klen > slen && strcmp(item->string + klen - slen, suffix) == 0 &&
            cJSON_IsTrue(item) && *state != GATE_FUNNEL_ON)
            *state = proxies_to(root_proxy(root, item->string), target_port)
                         ? GATE_FUNNEL_ON : GATE_FUNNEL_MISDIRECTED;
    }
    cJSON_Delete(root);
    return 0;
}

/* Run argv; 0 when it ran (whatever its exit), else the hub_child code. */
static int
run_cli(const struct gate_opts *o, const char *const *argv, struct hub_child_result *res)
{
    const struct hub_child spec = {
        .argv = argv,
        .timeout_ms = (unsigned)o->command_timeout_ms,
        .grace_ms = 1000,
    };

    return hub_child_run(&spec, res);
}

/* One error line for a command that could not start or did not succeed. */
static int
log_failure(const char *msg, const char *const *argv, int run_rc,
            const struct hub_child_result *res)
{
    const struct hub_child spec = { .argv = argv };

    if (run_rc != 0)
        return hub_fail(EX_UNAVAILABLE, msg, HUB_STR("command", argv[0]),
                        HUB_STR("error", run_rc == EX_UNAVAILABLE ? "command not found"
                                                                   : "could not start"));
    hub_child_log(HUB_LOG_ERROR, msg, &spec, res);
    return EX_UNAVAILABLE;
}

int
gate_funnel_status(const struct gate_opts *o, enum gate_funnel_state *state)
{
    const char *const argv[] = { o->tailscale, "funnel", "status", "--json", NULL };
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    int rc, run_rc;

    *state = GATE_FUNNEL_UNKNOWN;
    run_rc = run_cli(o, argv, &res);
    if (run_rc != 0 || !hub_child_ok(&res)) {
        rc = log_failure("funnel_status_failed", argv, run_rc, &res);
        goto out;
    }
    if (gate_funnel_parse_status(hub_buf_str(&res.output), o->https_port, o->target_port, state) != 0) {
        const struct hub_child spec = { .argv = argv };

        hub_child_log(HUB_LOG_ERROR, "funnel_status_unreadable", &spec, &res);
        rc = EX_DATAERR;
        goto out;
    }
    rc = 0;
out:
    hub_child_result_release(&res);
    return rc;
}

/*
 * The open or close command. argv points into the struct's own buffers, so
 * the struct is filled in place and never copied. Ports are at most 65535
 * (gate_parse_args), so the numbers always fit.
 */
struct change_cmd {
    char https[32];
    char target[16];
    const char *argv[6];
};

static void
change_cmd_init(struct change_cmd *c, const struct gate_opts *o, int open)
{
    const char *const open_argv[] = { o->tailscale, "funnel", "--bg", c->https, c->target, NULL };
    const char *const close_argv[] = { o->tailscale, "funnel", c->https, "off", NULL };

    _Static_assert(sizeof open_argv <= sizeof c->argv && sizeof close_argv <= sizeof c->argv,
                   "change_cmd.argv holds either command");
    snprintf(c->https, sizeof c->https, "--https=%llu", o->https_port);
    snprintf(c->target, sizeof c->target, "%llu", o->target_port);
    if (open)
        memcpy(c->argv, open_argv, sizeof open_argv);
    else
        memcpy(c->argv, close_argv, sizeof close_argv);
}

/*
 * Run open or close. For close, a non-zero exit is set aside in *deferred
 * (logged later only if the read-back shows the funnel still on), since
 * `funnel --https=N off` fails when nothing is configured.
 */
static int
run_change(const struct gate_opts *o, const struct change_cmd *cmd, int open,
           struct hub_child_result *res, int *deferred)
{
    int run_rc;

    *deferred = 0;
    run_rc = run_cli(o, cmd->argv, res);
    if (run_rc == 0 && hub_child_ok(res))
        return 0;
    if (!open && run_rc == 0 && res->exited && !res->timed_out) {
        *deferred = 1;
        return 0;
    }
    return log_failure(open ? "funnel_open_failed" : "funnel_close_failed", cmd->argv, run_rc,
                       res);
}

int
gate_funnel_set(const struct gate_opts *o, int open, enum gate_funnel_state *reached)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    enum gate_funnel_state want = open ? GATE_FUNNEL_ON : GATE_FUNNEL_OFF;
    struct change_cmd cmd;
    int rc, status_rc, deferred = 0;

    *reached = GATE_FUNNEL_UNKNOWN;
    change_cmd_init(&cmd, o, open);
    rc = run_change(o, &cmd, open, &res, &deferred);
    /* Read back even after a failure, so the check line reports the truth. */
    status_rc = gate_funnel_status(o, reached);
    if (rc != 0)
        goto out;
    if (deferred && *reached == GATE_FUNNEL_OFF) {
        hub_log(HUB_LOG_INFO, "funnel_already_off", HUB_INT("exit_code", res.exit_code),
                HUB_STR("output", hub_buf_str(&res.output)));
    } else if (deferred) {
        /* Still on, or unknown because the read-back failed too. */
        rc = log_failure("funnel_close_failed", cmd.argv, 0, &res);
        goto out;
    }
    if (status_rc != 0) {
        rc = status_rc;
        goto out;
    }
    if (*reached != want) {
        rc = hub_fail(EX_UNAVAILABLE, "funnel_state_mismatch",
                      HUB_STR("wanted", gate_funnel_state_name(want)),
                      HUB_STR("actual", gate_funnel_state_name(*reached)),
                      HUB_STR("error", "the command succeeded but the funnel did not change"));
    }
out:
    hub_child_result_release(&res);
    return rc;
}
