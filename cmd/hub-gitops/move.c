/*
 * move.c: moving a clean checkout to its remote branch, and back.
 *
 * The moves are plumbing, not porcelain: `read-tree -u -m FROM TO` updates
 * the index and working tree (it refuses to overwrite an untracked file or
 * a local change), then `update-ref` moves the branch with its old value as
 * a guard, then `symbolic-ref` puts HEAD on the branch when we switched.
 * One mechanism serves the fast-forward, the branch switch, the diverged
 * reset and the rollback, and it never deletes a branch or a commit: the
 * reset first keeps the old tip under refs/hub/backup/<UTC stamp>.
 */
#include <stdio.h>
#include <string.h>

#include "gitops.h"
#include "hub.h"
#include "log.h"
#include "timefmt.h"

#define BACKUP_TRIES 10

/* refs/hub/backup/<stamp>, or <stamp>-N when a reset in the same second took it. */
static int
keep_backup(const struct gitops_git *g, const char *rev, struct gitops_run *run)
{
    char stamp[32];
    int n, rc;

    if (hub_time_compact(hub_time_now_ns(), stamp, sizeof stamp) != 0)
        return hub_fail(EX_SOFTWARE, "gitops_clock_failed");
    for (int i = 0; i < BACKUP_TRIES; i++) {
        if (i == 0)
            n = snprintf(run->backup_ref, sizeof run->backup_ref, "refs/hub/backup/%s", stamp);
        else
            n = snprintf(run->backup_ref, sizeof run->backup_ref, "refs/hub/backup/%s-%d",
                         stamp, i + 1);
        if (n < 0 || (size_t)n >= sizeof run->backup_ref)
            return hub_fail(EX_SOFTWARE, "gitops_backup_ref_too_long");
        rc = gitops_git_update_ref(g, run->backup_ref, rev, "", 1);
        if (rc != 1)
            return rc;
    }
    run->backup_ref[0] = '\0';
    return hub_fail(EX_UNAVAILABLE, "gitops_backup_ref_failed", HUB_STR("rev", rev));
}

/* Where BRANCH should go, from its tip (ours) and the remote's. */
static int
plan_target(const struct gitops_git *g, struct gitops_run *run, struct gitops_plan *plan)
{
    long long ahead = 0, behind = 0;
    int rc;

    if (plan->branch_old[0] == '\0' || strcmp(plan->branch_old, run->remote_rev) == 0) {
        memcpy(plan->target, run->remote_rev, sizeof plan->target);
        return 0;
    }
    rc = gitops_git_counts(g, plan->branch_old, run->remote_rev, &ahead, &behind);
    if (rc != 0)
        return rc;
    run->commits = behind;
    if (ahead == 0) {                                  /* fast-forward */
        memcpy(plan->target, run->remote_rev, sizeof plan->target);
        return 0;
    }
    memcpy(plan->target, plan->branch_old, sizeof plan->target);
    if (behind == 0) {                                 /* only local commits: keep them */
        run->outcome = GITOPS_LOCAL_AHEAD;
        run->commits = 0;
        hub_log(HUB_LOG_WARN, "gitops_local_ahead", HUB_STR("repo", run->repo->name),
                HUB_STR("local", plan->branch_old), HUB_STR("remote", run->remote_rev),
                HUB_INT("ahead", ahead));
        return 0;
    }
    if (run->repo->on_diverge != HUB_DIVERGE_RESET) {
        run->outcome = GITOPS_DIVERGED;
        snprintf(run->error, sizeof run->error, "local %s and remote %s diverged",
                 plan->branch_old, run->remote_rev);
        return hub_fail(EX_DATAERR, "gitops_diverged", HUB_STR("repo", run->repo->name),
                        HUB_STR("local", plan->branch_old), HUB_STR("remote", run->remote_rev),
                        HUB_INT("ahead", ahead), HUB_INT("behind", behind),
                        HUB_STR("fix", "merge or push by hand, or set ON_DIVERGE=reset"));
    }
    rc = keep_backup(g, plan->branch_old, run);
    if (rc != 0)
        return rc;
    hub_log(HUB_LOG_WARN, "gitops_diverged_reset", HUB_STR("repo", run->repo->name),
            HUB_STR("local", plan->branch_old), HUB_STR("remote", run->remote_rev),
            HUB_STR("backup", run->backup_ref));
    run->outcome = GITOPS_RESET;
    memcpy(plan->target, run->remote_rev, sizeof plan->target);
    return 0;
}

/* The tree, then the branch, then HEAD; each step guarded by the one before. */
static int
carry_out(const struct gitops_git *g, const struct gitops_heads *h, struct gitops_run *run,
          const struct gitops_plan *plan)
{
    int rc;

    if (strcmp(h->head, plan->target) != 0) {
        rc = gitops_git_move_tree(g, h->head, plan->target);
        if (rc != 0) {
            run->outcome = GITOPS_BLOCKED;
            snprintf(run->error, sizeof run->error, "git refused to update the working tree");
            return EX_TEMPFAIL;
        }
    }
    if (strcmp(plan->branch_old, plan->target) != 0) {
        rc = gitops_git_update_ref(g, plan->branch_ref, plan->target, plan->branch_old, 0);
        if (rc != 0)
            return rc;
    }
    if (plan->switching) {
        rc = gitops_git_set_head(g, plan->branch_ref, plan->target);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int
gitops_move(const struct gitops_git *g, const struct gitops_heads *h, struct gitops_run *run,
            struct gitops_plan *plan)
{
    const char *branch = run->repo->branch;
    int n, rc;

    n = snprintf(plan->branch_ref, sizeof plan->branch_ref, "refs/heads/%s", branch);
    if (n < 0 || (size_t)n >= sizeof plan->branch_ref)
        return hub_fail(EX_CONFIG, "gitops_refspec_too_long", HUB_STR("branch", branch));
    plan->switching = strcmp(h->head_ref, plan->branch_ref) != 0;
    if (!plan->switching) {
        memcpy(plan->branch_old, h->head, sizeof plan->branch_old);
    } else {
        rc = gitops_git_branch_rev(g, branch, plan->branch_old);
        if (rc == 1)
            plan->branch_old[0] = '\0';
        else if (rc != 0)
            return rc;
    }
    run->outcome = GITOPS_SYNCED;
    rc = plan_target(g, run, plan);
    if (rc != 0)
        return rc;
    if (plan->switching && run->outcome == GITOPS_SYNCED)
        run->outcome = GITOPS_SWITCHED;
    rc = carry_out(g, h, run, plan);
    if (rc != 0)
        return rc;
    memcpy(run->new_rev, plan->target, sizeof run->new_rev);
    if (run->outcome == GITOPS_SYNCED && strcmp(run->new_rev, run->old_rev) == 0)
        run->outcome = GITOPS_NOOP;
    return 0;
}

int
gitops_rollback(const struct gitops_git *g, const struct gitops_heads *h,
                const struct gitops_run *run, const struct gitops_plan *plan)
{
    int rc;

    rc = gitops_git_move_tree(g, run->new_rev, h->head);
    if (rc != 0)
        return rc;
    /* A branch we created stays (no branch is ever deleted); one we moved goes back. */
    if (plan->branch_old[0] != '\0' && strcmp(plan->branch_old, plan->target) != 0) {
        rc = gitops_git_update_ref(g, plan->branch_ref, plan->branch_old, plan->target, 0);
        if (rc != 0)
            return rc;
    }
    if (plan->switching)
        return gitops_git_set_head(g, h->head_ref, h->head);
    return 0;
}
