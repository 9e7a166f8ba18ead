/*
 * cmd.c: the subcommands' own flags, parsed by a second hub_opt_parse()
 * on the argv that starts at the subcommand's name, then one call each.
 * Owns the gitops_ctx of the invocation, and decides where its log lines go
 * (stderr for status, whose stdout is data).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gitops.h"
#include "hub.h"
#include "log.h"
#include "opt.h"

static const char sync_footer[] =
    "A trigger is one JSON line: {\"repo\":NAME,\"ref\":\"refs/heads/main\",\n"
    "\"after\":SHA,\"delivery\":ID,\"event\":\"push\",\"traceparent\":\"00-...\"};\n"
    "only repo is required, and it must equal NAME when both are given.\n";

/* --event: the trigger names the repository; NAME, when given, must agree. */
static int
sync_event(struct gitops_ctx *ctx, const char *path, char **names, int nnames)
{
    struct gitops_trigger t = GITOPS_TRIGGER_INIT("event");
    int rc;

    if (nnames > 1) {
        fprintf(stderr, "hub-gitops sync: --event takes at most one NAME\n");
        return EX_USAGE;
    }
    rc = gitops_trigger_read(path, &t);
    if (rc != 0)
        return rc;
    if (nnames == 1 && strcmp(names[0], t.repo) != 0) {
        if (!hub_repo_name_valid(names[0]))
            return gitops_sync_name(ctx, names[0], &t);   /* refused there, exit 78 */
        return hub_fail(EX_DATAERR, "gitops_trigger_invalid",
                        HUB_STR("problem", "the trigger names another repository"),
                        HUB_STR("name", names[0]), HUB_STR("trigger_repo", t.repo));
    }
    return gitops_sync_name(ctx, t.repo, &t);
}

static int
sync_names(struct gitops_ctx *ctx, char **names, int nnames)
{
    struct gitops_trigger t = GITOPS_TRIGGER_INIT("manual");
    int rc, first = 0;

    for (int i = 0; i < nnames; i++) {
        rc = gitops_sync_name(ctx, names[i], &t);
        if (rc != 0 && first == 0)
            first = rc;
    }
    return first;
}

int
gitops_cmd_sync(const struct gitops_opts *o, int argc, char **argv)
{
    struct gitops_ctx ctx;
    const char *event = NULL;
    int all = 0, no_wait = 0, first, rc;
    const struct hub_opt opts[] = {
        { "all", 'a', NULL, HUB_OPT_FLAG, &all, 0, 0, NULL, "every repository" },
        { "event", 'e', NULL, HUB_OPT_STR, &event, 0, 0, "FILE",
          "read one trigger JSON line from FILE ('-': stdin)" },
        { "no-wait", 'n', NULL, HUB_OPT_FLAG, &no_wait, 0, 0, NULL,
          "exit 75 at once when another run holds the repository's lock" },
    };
    const struct hub_prog prog = {
        "hub-gitops sync",
        "hub-gitops [OPTIONS] sync [--no-wait] (NAME... | --all | --event FILE|- [NAME])",
        "Fetch each repository's REMOTE/BRANCH and bring the checkout to it.",
        opts, sizeof opts / sizeof opts[0], sync_footer,
    };

    rc = hub_opt_parse(&prog, argc, argv, &first);
    if (rc != 0)
        return rc == HUB_OPT_DONE ? 0 : rc;
    if ((all != 0) + (event != NULL) > 1 || (all && first < argc) ||
        (!all && event == NULL && first >= argc)) {
        fprintf(stderr, "hub-gitops sync: give NAME..., --all or --event; try --help\n");
        return EX_USAGE;
    }
    rc = gitops_ctx_init(&ctx, o);
    ctx.no_wait = no_wait;
    if (rc == 0 && all)
        rc = gitops_sync_all(&ctx);
    else if (rc == 0 && event != NULL)
        rc = sync_event(&ctx, event, argv + first, argc - first);
    else if (rc == 0)
        rc = sync_names(&ctx, argv + first, argc - first);
    gitops_ctx_release(&ctx);
    return rc;
}

int
gitops_cmd_status(const struct gitops_opts *o, int argc, char **argv)
{
    struct gitops_ctx ctx;
    int json = 0, first, rc;
    const struct hub_opt opts[] = {
        { "json", 'j', NULL, HUB_OPT_FLAG, &json, 0, 0, NULL, "one JSON array on stdout" },
    };
    const struct hub_prog prog = {
        "hub-gitops status", "hub-gitops [OPTIONS] status [--json] [NAME...]",
        "Show each checkout: HEAD and branch, the remote branch as last fetched (no\n"
        "fetch), dirty or clean, ahead/behind, the last run's outcome and time.",
        opts, sizeof opts / sizeof opts[0], NULL,
    };

    /* stdout is the report (and with --json, one array for jq): a warning
     * about a repository file or an unreadable checkout goes to stderr. */
    hub_log_set_fd(STDERR_FILENO);
    rc = hub_opt_parse(&prog, argc, argv, &first);
    if (rc != 0)
        return rc == HUB_OPT_DONE ? 0 : rc;
    rc = gitops_ctx_init(&ctx, o);
    if (rc == 0)
        rc = gitops_status(&ctx, argv + first, argc - first, json);
    gitops_ctx_release(&ctx);
    return rc;
}

int
gitops_cmd_trigger_dir(const struct gitops_opts *o, int argc, char **argv)
{
    struct gitops_ctx ctx;
    int first, rc;
    const struct hub_prog prog = {
        "hub-gitops trigger-dir", "hub-gitops [OPTIONS] trigger-dir DIR",
        "Consume every DIR/NAME.json trigger (hub-webhook's trigger-directory mode,\n"
        "run by hub-gitops.path): sync NAME, then remove the file. Files that land\n"
        "meanwhile are handled before exit; temporary and dot files are left alone.",
        NULL, 0, NULL,
    };

    rc = hub_opt_parse(&prog, argc, argv, &first);
    if (rc != 0)
        return rc == HUB_OPT_DONE ? 0 : rc;
    if (argc - first != 1) {
        fprintf(stderr, "hub-gitops trigger-dir: exactly one DIR; try --help\n");
        return EX_USAGE;
    }
    rc = gitops_ctx_init(&ctx, o);
    if (rc == 0)
        rc = gitops_trigger_dir(&ctx, argv[first]);
    gitops_ctx_release(&ctx);
    return rc;
}
