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
 *
 * The steps are not one transaction, so a run killed between them (or an
 * update-ref refused) leaves the tree ahead of the refs; the next run finds
 * that state and finishes the move (gitops_resume_point). Planning and
 * carrying out are two calls so that sync.c can record a pending APPLY
 * (pending.c) once the target is known and before anything moves.
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

/* The tree (from where it is), then the branch, then HEAD; each step guarded by the one before. */
static int
carry_out(const struct gitops_git *g, const char *from, struct gitops_run *run,
          const struct gitops_plan *plan)
{
    int rc;

    if (strcmp(from, plan->target) != 0) {
        rc = gitops_git_move_tree(g, from, plan->target);
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

/*
 * A move cut short after its read-tree leaves the index and working tree at
 * the target with the branch and HEAD behind (and a switch cut short after
 * its update-ref, the branch at the target with HEAD behind): every later
 * run sees modified tracked files. No marker file says so; the state does.
 * It is a cut move, and finishing it loses nothing, when
 *
 *   - the remote tip fast-forwards HEAD (HEAD is its ancestor), and
 *   - the working tree's tracked files match the index, which has no
 *     conflicts, and
 *   - the index's tree is the tree of a commit in HEAD..remote: the remote
 *     tip, an older tip when the remote moved on since the cut, or the
 *     branch's tip when a switch moved the branch but not HEAD.
 *
 * Then every local change is one a commit on the way from HEAD to the
 * remote already holds, and the move to the remote starts from that commit
 * instead of HEAD. Anything else (one more modified or staged file, a HEAD
 * the remote does not contain, as in a reset cut short) is local work.
 * The extra calls run only for a checkout status called modified.
 */
int
gitops_resume_point(const struct gitops_git *g, const struct gitops_heads *h, char *from)
{
    char tree[GITOPS_OID_MAX + 1];
    long long ahead = 0, behind = 0;
    int rc;

    if (strcmp(h->head, h->remote) == 0)
        return 1;
    rc = gitops_git_counts(g, h->head, h->remote, &ahead, &behind);
    if (rc != 0)
        return rc;
    if (ahead != 0)
        return 1;
    rc = gitops_git_index_tree(g, tree);
    if (rc != 0)
        return rc;
    return gitops_git_commit_of_tree(g, h->head, h->remote, tree, from);
}

int
gitops_move_plan(const struct gitops_git *g, const struct gitops_heads *h,
                 struct gitops_run *run, struct gitops_plan *plan)
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
    return 0;
}

int
gitops_move_carry_out(const struct gitops_git *g, const char *from, struct gitops_run *run,
                      const struct gitops_plan *plan)
{
    int rc;

    rc = carry_out(g, from, run, plan);
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
