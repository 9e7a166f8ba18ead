/*
 * apply.c: the operator's APPLY step, run after HEAD moved.
 *
 * APPLY comes from the operator's own repos.d file, so it is run as
 * ["/bin/sh", "-c", APPLY]: the one shell string in the hub, and never one
 * built from request data (the revisions go in the environment, not into
 * the command). Its output is logged, cut to HUB_MAX_CHILD_LOGGED.
 */
#include <stdio.h>

#include "child.h"
#include "gitops.h"
#include "hub.h"
#include "log.h"

#define APPLY_TIMEOUT_EXIT 124       /* what timeout(1) reports */
#define ENV_ENTRY_MAX (HUB_MAX_PATH + 32)

static int
env_entry(char *out, size_t outlen, const char *key, const char *value)
{
    int n = snprintf(out, outlen, "%s=%s", key, value);

    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

/* The tail of the output, where a failing command says why; cut at a UTF-8 boundary. */
static const char *
output_tail(const struct hub_child_result *res)
{
    const char *s = hub_buf_str(&res->output);
    size_t skip = res->output.len > HUB_MAX_CHILD_LOGGED ? res->output.len - HUB_MAX_CHILD_LOGGED : 0;

    while (skip < res->output.len && ((unsigned char)s[skip] & 0xC0) == 0x80)
        skip++;
    return s + skip;
}

static void
log_result(const struct hub_repo *r, int code, const struct hub_child_result *res)
{
    hub_log(code == 0 ? HUB_LOG_INFO : HUB_LOG_ERROR,
            code == 0 ? "gitops_apply_done" : "gitops_apply_failed", HUB_STR("repo", r->name),
            HUB_INT("exit_code", code), HUB_BOOL("timed_out", res->timed_out),
            res->signal ? HUB_INT("signal", res->signal) : HUB_FIELD_NONE_,
            HUB_INT("duration_ms", res->duration_ms), HUB_STR("output", output_tail(res)),
            HUB_BOOL("output_truncated", res->output.len > HUB_MAX_CHILD_LOGGED ||
                                         res->output_dropped > 0));
}

int
gitops_apply(const struct hub_repo *r, const char *old_rev, const char *new_rev)
{
    char e_repo[ENV_ENTRY_MAX], e_old[ENV_ENTRY_MAX], e_new[ENV_ENTRY_MAX];
    char e_branch[ENV_ENTRY_MAX], e_checkout[ENV_ENTRY_MAX];
    const char *const argv[] = { "/bin/sh", "-c", r->apply, NULL };
    const char *const env[] = { e_repo, e_old, e_new, e_branch, e_checkout, NULL };
    struct hub_child spec = { 0 };
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    int code, rc;

    if (env_entry(e_repo, sizeof e_repo, "HUB_REPO", r->name) != 0 ||
        env_entry(e_old, sizeof e_old, "HUB_OLD_REV", old_rev) != 0 ||
        env_entry(e_new, sizeof e_new, "HUB_NEW_REV", new_rev) != 0 ||
        env_entry(e_branch, sizeof e_branch, "HUB_BRANCH", r->branch) != 0 ||
        env_entry(e_checkout, sizeof e_checkout, "HUB_CHECKOUT", r->checkout) != 0)
        return hub_fail(EX_SOFTWARE, "gitops_apply_env_too_long", HUB_STR("repo", r->name));
    spec.argv = argv;
    spec.env = env;
    spec.cwd = r->checkout;
    spec.timeout_ms = r->apply_timeout_s * 1000u;
    rc = hub_child_run(&spec, &res);
    if (rc != 0) {
        hub_child_result_release(&res);
        return hub_fail(rc, "gitops_apply_not_started", HUB_STR("repo", r->name));
    }
    if (res.timed_out)
        code = APPLY_TIMEOUT_EXIT;
    else if (res.exited)
        code = res.exit_code;
    else
        code = 128 + res.signal;
    log_result(r, code, &res);
    hub_child_result_release(&res);
    return code;
}
