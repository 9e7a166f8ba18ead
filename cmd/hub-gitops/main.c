/*
 * hub-gitops: keep allowlisted local git checkouts at their remote branch,
 * fast-forward only, never destroying local work; run each repository's
 * APPLY step when HEAD moved. main parses the global flags, picks the
 * subcommand from a table and returns its exit code; the subcommands parse
 * their own flags (cmd.c).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitops.h"
#include "hub.h"
#include "log.h"
#include "opt.h"

static const struct {
    const char *name;
    int (*run)(const struct gitops_opts *o, int argc, char **argv);
} commands[] = {
    { "status", gitops_cmd_status },
    { "sync", gitops_cmd_sync },
    { "trigger-dir", gitops_cmd_trigger_dir },
};

/*
 * Variables that tell git where the repository is. Inherited from a git
 * hook (a post-receive hook that runs hub-gitops, say) they would point
 * every git call at the hook's repository instead of the checkout.
 */
static const char *const git_location_vars[] = {
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE",
    "GIT_PREFIX", "GIT_QUARANTINE_PATH",
};

static const char footer[] =
    "Commands (each has --help):\n"
    "  sync [--no-wait] NAME...        fetch, then fast-forward each checkout\n"
    "  sync [--no-wait] --all          every repository in the repos directory\n"
    "  sync [--no-wait] --event FILE|- [NAME]\n"
    "                                  one trigger JSON line (hub-webhook's hand-over)\n"
    "  trigger-dir DIR                 consume DIR/NAME.json triggers, sync each\n"
    "  status [--json] [NAME...]       HEAD, remote, dirty, ahead/behind, last run\n"
    "\n"
    "Repositories: DIR/NAME.conf, KEY=value lines: CHECKOUT (required), GITHUB,\n"
    "REMOTE (origin), BRANCH (main), APPLY, APPLY_TIMEOUT (300), ON_DIVERGE\n"
    "(refuse|reset), ROLLBACK (no|yes). NAME is [A-Za-z0-9._-]+.\n"
    "Environment: HUB_PG_DSN (a gitops_runs row per run, best effort),\n"
    "HUB_OTLP_ENDPOINT (the run's span), STATE_DIRECTORY (systemd).\n"
    "Sync exit status: 0 synced or no-op, 75 skipped (dirty) or busy, 65\n"
    "diverged (refused) or a bad or unreadable trigger, 69 git or network\n"
    "failure, 70 APPLY failed, 78 bad configuration.\n";

int
main(int argc, char **argv)
{
    struct gitops_opts o = { NULL, NULL, GITOPS_GIT_TIMEOUT_DEFAULT };
    const struct hub_opt opts[] = {
        { "git-timeout", 0, "HUB_GIT_TIMEOUT", HUB_OPT_UINT, &o.git_timeout_s, 1, 86400,
          "SECONDS", "deadline of each git call; a sync's ls-remote + fetch share one "
          "(then SIGTERM, SIGKILL)" },
        { "repos-dir", 0, "HUB_REPOS_DIR", HUB_OPT_STR, &o.repos_dir, 0, 0, "DIR",
          "repository files DIR/NAME.conf (default " HUB_REPOS_DIR_DEFAULT ")" },
        { "state-dir", 0, "HUB_GITOPS_STATE_DIR", HUB_OPT_STR, &o.state_dir, 0, 0, "DIR",
          "locks and last-run files (default $STATE_DIRECTORY, else "
          GITOPS_STATE_DIR_DEFAULT ")" },
    };
    const struct hub_prog prog = {
        "hub-gitops", "hub-gitops [OPTIONS] COMMAND [ARGS...]",
        "Keep local git checkouts at their remote branch: fetch, fast-forward only,\n"
        "skip when tracked files are modified, never delete a branch; run APPLY when\n"
        "HEAD moved. One run at a time per repository.",
        opts, sizeof opts / sizeof opts[0], footer,
    };
    int first, rc;

    hub_log_init("hub-gitops");
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < sizeof git_location_vars / sizeof git_location_vars[0]; i++)
        unsetenv(git_location_vars[i]);
    rc = hub_opt_parse(&prog, argc, argv, &first);
    if (rc == HUB_OPT_DONE)
        return 0;
    if (rc != 0)
        return rc;
    if (first >= argc) {
        fprintf(stderr, "hub-gitops: a command is required (sync, status, trigger-dir); "
                        "try 'hub-gitops --help'\n");
        return EX_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[first], commands[i].name) == 0)
            return commands[i].run(&o, argc - first, argv + first);
    }
    fprintf(stderr, "hub-gitops: unknown command '%s'; try 'hub-gitops --help'\n", argv[first]);
    return EX_USAGE;
}
