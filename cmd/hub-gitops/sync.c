/*
 * sync.c: one repository's run, start to finish.
 *
 * The ladder, each rung able to end the run:
 *
 *   lock -> a pending APPLY a killed run left (pending.c): run it when its
 *   move happened -> ls-remote, and fetch only when the remote has
 *   something we have not fetched -> compare (on BRANCH at the remote:
 *   no-op) -> dirty (tracked files modified on any branch: skip, touch
 *   nothing, unless they are our own move cut short: finish it) -> plan
 *   the move (switch / fast-forward / diverged refuse or reset, move.c) ->
 *   record the pending APPLY -> move -> APPLY when HEAD moved -> rollback
 *   when APPLY failed and ROLLBACK=yes -> drop the pending record
 *
 * then the record: the state file, one summary line, the gitops_runs row
 * and the span. Untracked files never count as local work here (git's own
 * read-tree refuses to overwrite one, which ends the run as "blocked").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "gitops.h"
#include "hub.h"
#include "log.h"
#include "timefmt.h"

static const struct {
    const char *name;
    int exit_code;
} outcomes[GITOPS_OUTCOME_COUNT] = {
    [GITOPS_NOOP] = { "noop", 0 },
    [GITOPS_SYNCED] = { "synced", 0 },
    [GITOPS_SWITCHED] = { "switched", 0 },
    [GITOPS_RESET] = { "reset", 0 },
    [GITOPS_LOCAL_AHEAD] = { "local_ahead", 0 },
    [GITOPS_IGNORED] = { "ignored", 0 },
    [GITOPS_SKIPPED_DIRTY] = { "skipped_dirty", EX_TEMPFAIL },
    [GITOPS_BUSY] = { "busy", EX_TEMPFAIL },
    [GITOPS_BLOCKED] = { "blocked", EX_TEMPFAIL },
    [GITOPS_DIVERGED] = { "diverged", EX_DATAERR },
    [GITOPS_GIT_FAILED] = { "git_failed", EX_UNAVAILABLE },
    [GITOPS_APPLY_FAILED] = { "apply_failed", EX_SOFTWARE },
    [GITOPS_ROLLED_BACK] = { "rolled_back", EX_SOFTWARE },
    [GITOPS_CONFIG] = { "config_invalid", EX_CONFIG },
};

const char *
gitops_outcome_name(enum gitops_outcome o)
{
    return o < GITOPS_OUTCOME_COUNT ? outcomes[o].name : "unknown";
}

int
gitops_outcome_exit(enum gitops_outcome o)
{
    return o < GITOPS_OUTCOME_COUNT ? outcomes[o].exit_code : EX_SOFTWARE;
}

/* An exit code from a step that did not set an outcome itself. */
static enum gitops_outcome
outcome_of(int rc)
{
    switch (rc) {
    case EX_CONFIG:
        return GITOPS_CONFIG;
    case EX_TEMPFAIL:
        return GITOPS_BLOCKED;
    case EX_DATAERR:
        return GITOPS_DIVERGED;
    default:
        return GITOPS_GIT_FAILED;
    }
}

static int
check_repo(const struct hub_repo *r)
{
    struct stat st;

    errno = 0;
    if (!gitops_refname_part_valid(r->branch) || !gitops_refname_part_valid(r->remote))
        return hub_fail(EX_CONFIG, "repo_config_invalid", HUB_STR("file", r->conf_path),
                        HUB_STR("problem", "BRANCH or REMOTE is not a valid ref name"),
                        HUB_STR("branch", r->branch), HUB_STR("remote", r->remote));
    if (stat(r->checkout, &st) != 0 || !S_ISDIR(st.st_mode))
        return hub_fail(EX_CONFIG, "gitops_checkout_missing", HUB_STR("repo", r->name),
                        HUB_STR("checkout", r->checkout),
                        HUB_STR("error", errno != 0 ? strerror(errno) : "not a directory"),
                        HUB_STR("fix", "clone the repository there or fix CHECKOUT"));
    return 0;
}

/* APPLY, and the rollback when it failed and ROLLBACK=yes. */
static int
apply_step(const struct gitops_git *g, const struct gitops_heads *h, struct gitops_run *run,
           const struct gitops_plan *plan)
{
    const struct hub_repo *r = run->repo;
    int code;

    if (r->apply == NULL || strcmp(run->old_rev, run->new_rev) == 0)
        return 0;
    run->apply_exit = gitops_apply(r, run->old_rev, run->new_rev);
    if (run->apply_exit == 0)
        return 0;
    run->outcome = GITOPS_APPLY_FAILED;
    snprintf(run->error, sizeof run->error, "APPLY exited %d", run->apply_exit);
    if (!r->rollback)
        return EX_SOFTWARE;
    if (gitops_rollback(g, h, run, plan) != 0) {
        snprintf(run->error, sizeof run->error, "APPLY exited %d; rollback failed",
                 run->apply_exit);
        return EX_SOFTWARE;
    }
    memcpy(run->new_rev, h->head, sizeof run->new_rev);
    run->outcome = GITOPS_ROLLED_BACK;
    hub_log(HUB_LOG_WARN, "gitops_rolled_back", HUB_STR("repo", r->name),
            HUB_STR("rev", h->head), HUB_STR("failed_rev", plan->target));
    code = gitops_apply(r, plan->target, h->head);
    if (code != 0)
        snprintf(run->error, sizeof run->error,
                 "APPLY exited %d; rolled back; APPLY on the old revision exited %d",
                 run->apply_exit, code);
    return EX_SOFTWARE;
}

/*
 * A pending record's move happened (HEAD is at its new revision) and its
 * APPLY never finished: run it now, with the record's revisions, and roll
 * back as that run would have (the record keeps the refs as they were).
 */
static int
apply_resumed(const struct gitops_git *g, struct gitops_run *run, const struct gitops_pending *p)
{
    struct gitops_heads h;
    struct gitops_plan plan;

    memset(&h, 0, sizeof h);
    memset(&plan, 0, sizeof plan);
    memcpy(h.head, p->old_rev, sizeof h.head);
    memcpy(h.head_ref, p->head_ref, sizeof h.head_ref);
    memcpy(plan.branch_ref, p->branch_ref, sizeof plan.branch_ref);
    memcpy(plan.branch_old, p->branch_old, sizeof plan.branch_old);
    memcpy(plan.target, p->new_rev, sizeof plan.target);
    plan.switching = strcmp(p->head_ref, p->branch_ref) != 0;
    memcpy(run->old_rev, p->old_rev, sizeof run->old_rev);
    memcpy(run->new_rev, p->new_rev, sizeof run->new_rev);
    hub_log(HUB_LOG_WARN, "gitops_apply_resumed", HUB_STR("repo", run->repo->name),
            HUB_STR("old", p->old_rev), HUB_STR("new", p->new_rev),
            HUB_STR("reason", "a run ended between the move and the end of APPLY"));
    return apply_step(g, &h, run, &plan);
}

/* Skip a run over local changes: nothing touched, the owner told. */
static int
skip_dirty(struct gitops_run *run, const char *first)
{
    run->outcome = GITOPS_SKIPPED_DIRTY;
    snprintf(run->error, sizeof run->error, "tracked files modified: %s", first);
    hub_log(HUB_LOG_WARN, "gitops_skipped_dirty", HUB_STR("repo", run->repo->name),
            HUB_STR("checkout", run->repo->checkout), HUB_STR("first", first),
            HUB_STR("fix", "commit, stash or revert the local changes"));
    return EX_TEMPFAIL;
}

/*
 * Before a pending record's APPLY runs, the checkout must hold the new
 * revision it deploys. A rollback cut short (APPLY failed, the tree went
 * back to the old revision, the refs never followed) leaves the tree at
 * old under a HEAD at new: the tree is put forward again, so the owed
 * APPLY runs on what it deploys (and, failing again, rolls back whole).
 * Any other local change: skipped (75), the record kept for a later run.
 */
static int
tree_at_new(const struct gitops_git *g, struct gitops_run *run, const struct gitops_pending *p)
{
    char first[200], tree[GITOPS_OID_MAX + 1], old_tree[GITOPS_OID_MAX + 1];
    int dirty = 0, rc;

    rc = gitops_git_dirty(g, &dirty, first, sizeof first);
    if (rc != 0 || !dirty)
        return rc;
    rc = gitops_git_index_tree(g, tree);
    if (rc == 0)
        rc = gitops_git_tree_of(g, p->old_rev, old_tree);
    if (rc == 0 && strcmp(tree, old_tree) == 0) {
        hub_log(HUB_LOG_WARN, "gitops_rollback_undone", HUB_STR("repo", run->repo->name),
                HUB_STR("old", p->old_rev), HUB_STR("new", p->new_rev),
                HUB_STR("reason", "a rollback was cut short: the tree is at the old revision, "
                                  "HEAD at the new one; its APPLY is still owed"));
        return gitops_git_move_tree(g, p->old_rev, p->new_rev);
    }
    return rc == 0 || rc == 1 ? skip_dirty(run, first) : rc;
}

/*
 * Settle the pending record a run that died left, before anything else.
 * HEAD at its new revision: the move happened, APPLY runs again. At its
 * old one: the move never happened, nothing to resume (the sync below
 * moves, and records, anew). Anywhere else someone moved HEAD by hand:
 * which APPLY would be right is not ours to guess. The record goes in
 * every case but a failure to read the checkout or local changes in it
 * (the next run looks again), so a failed APPLY is reported once, like
 * any other, and not retried forever.
 * Returns 0 to go on with the sync, or the exit code that ends the run.
 */
static int
resume_step(const struct gitops_ctx *ctx, const struct gitops_git *g, struct gitops_run *run)
{
    const struct hub_repo *r = run->repo;
    struct gitops_pending p;
    char head[GITOPS_OID_MAX + 1];
    int rc;

    rc = gitops_pending_read(ctx->state_dir, r->name, &p);
    if (rc == 1)
        return 0;
    if (rc == 0 && r->apply != NULL) {
        rc = gitops_git_head_rev(g, head);
        if (rc != 0)
            return rc;
    }
    if (rc != 0) {
        rc = 0;                 /* unreadable: gitops_pending_read warned */
    } else if (r->apply == NULL) {
        hub_log(HUB_LOG_INFO, "gitops_apply_pending_dropped", HUB_STR("repo", r->name),
                HUB_STR("old", p.old_rev), HUB_STR("new", p.new_rev),
                HUB_STR("reason", "APPLY is no longer set"));
    } else if (strcmp(head, p.new_rev) == 0) {
        rc = tree_at_new(g, run, &p);
        if (rc != 0)
            return rc;          /* the record stays: APPLY is still owed */
        rc = apply_resumed(g, run, &p);
    } else if (strcmp(head, p.old_rev) == 0) {
        hub_log(HUB_LOG_INFO, "gitops_apply_pending_dropped", HUB_STR("repo", r->name),
                HUB_STR("old", p.old_rev), HUB_STR("new", p.new_rev),
                HUB_STR("reason", "HEAD is at the old revision: the move never happened"));
    } else {
        hub_log(HUB_LOG_WARN, "gitops_apply_pending_dropped", HUB_STR("repo", r->name),
                HUB_STR("old", p.old_rev), HUB_STR("new", p.new_rev), HUB_STR("head", head),
                HUB_STR("reason", "HEAD is at neither revision: moved by hand?"),
                HUB_STR("fix", "check the deployed state; run APPLY by hand if it lags"));
    }
    gitops_pending_remove(ctx->state_dir, r->name);
    return rc;
}

/*
 * Record the APPLY the planned move will owe, before anything moves; *written
 * says whether there is a record to remove once APPLY ran. A move left
 * unrecorded is one whose APPLY could be lost, so a failed write ends the run.
 */
static int
pending_begin(const struct gitops_ctx *ctx, const struct gitops_heads *h, struct gitops_run *run,
              const struct gitops_plan *plan, int *written)
{
    struct gitops_pending p;
    int rc;

    *written = 0;
    if (run->repo->apply == NULL || strcmp(plan->target, run->old_rev) == 0)
        return 0;
    memset(&p, 0, sizeof p);
    memcpy(p.old_rev, run->old_rev, sizeof p.old_rev);
    memcpy(p.new_rev, plan->target, sizeof p.new_rev);
    memcpy(p.head_ref, h->head_ref, sizeof p.head_ref);
    memcpy(p.branch_ref, plan->branch_ref, sizeof p.branch_ref);
    memcpy(p.branch_old, plan->branch_old, sizeof p.branch_old);
    rc = gitops_pending_write(ctx->state_dir, run->repo->name, &p);
    if (rc != 0) {
        run->outcome = GITOPS_CONFIG;
        snprintf(run->error, sizeof run->error, "cannot record the pending APPLY");
        return rc;
    }
    *written = 1;
    return 0;
}

/* Sets from to the commit whose tree the checkout holds: HEAD when clean. */
static int
dirty_step(const struct gitops_git *g, struct gitops_dirty_check *check,
           const struct gitops_heads *h, struct gitops_run *run, char *from)
{
    char first[200];
    int dirty = 0, rc;

    memcpy(from, h->head, GITOPS_OID_MAX + 1);
    rc = gitops_git_dirty_finish(g, check, &dirty, first, sizeof first);
    if (rc != 0 || !dirty)
        return rc;
    rc = gitops_resume_point(g, h, from);
    if (rc == 0) {
        hub_log(HUB_LOG_WARN, "gitops_move_resumed", HUB_STR("repo", run->repo->name),
                HUB_STR("head", h->head), HUB_STR("checkout_at", from),
                HUB_STR("remote", h->remote),
                HUB_STR("reason", "index and working tree already at a commit between HEAD "
                                  "and the remote: a move was cut short"));
        return 0;
    }
    memcpy(from, h->head, GITOPS_OID_MAX + 1);
    return rc == 1 ? skip_dirty(run, first) : rc;
}

/*
 * What the remote has, fetched. ls-remote first: when the remote-tracking
 * ref already holds the remote's tip (every no-op), the fetch is skipped.
 *
 * The calls share one deadline, HUB_GIT_TIMEOUT from the first: a remote
 * that answers ls-remote slowly and then hangs the fetch must not hold the
 * lock for two timeouts (the run ends within the timeout plus the kill's
 * grace, as the README promises).
 *
 * A fetch means the checkout will most likely move, so the dirty check
 * starts beside it (each waits on its own git startup, not on the other).
 */
static int
remote_step(const struct gitops_git *each, const struct hub_repo *r,
            struct gitops_dirty_check *check, struct gitops_heads *h)
{
    struct gitops_git g = *each;
    char tip[GITOPS_OID_MAX + 1];
    int rc, have_heads;

    g.deadline_ms = hub_time_mono_ms() + each->timeout_ms;
    rc = gitops_git_ls_remote(&g, r->remote, r->branch, tip);
    if (rc != 0)
        return rc;
    rc = gitops_git_heads(&g, r->remote, r->branch, 1, h);
    if (rc == 0 && strcmp(h->remote, tip) == 0)
        return 0;
    if (rc != 0 && rc != 1)
        return rc;
    have_heads = rc == 0;
    gitops_git_dirty_start(each, check);
    rc = gitops_git_fetch(&g, r->remote, r->branch);
    if (rc != 0)
        return rc;
    if (!have_heads)        /* the remote-tracking ref did not exist before */
        return gitops_git_heads(&g, r->remote, r->branch, 0, h);
    /* The fetch brought tip (or a newer tip: the next run takes that one). */
    memcpy(h->remote, tip, sizeof h->remote);
    return 0;
}

/* The ladder's rungs; see ladder(). */
static int
rungs(const struct gitops_ctx *ctx, struct gitops_run *run, struct gitops_dirty_check *check)
{
    const struct hub_repo *r = run->repo;
    struct gitops_git g = { .cwd = r->checkout,
                            .timeout_ms = (unsigned)ctx->opts->git_timeout_s * 1000u };
    struct gitops_heads h;
    struct gitops_plan plan;
    char from[GITOPS_OID_MAX + 1];
    int rc, pending = 0;

    rc = check_repo(r);
    if (rc == 0)
        rc = resume_step(ctx, &g, run);
    if (rc == 0)
        rc = remote_step(&g, r, check, &h);
    if (rc != 0) {
        if (gitops_outcome_exit(run->outcome) != rc)
            run->outcome = outcome_of(rc);
        return rc;
    }
    memcpy(run->old_rev, h.head, sizeof run->old_rev);
    memcpy(run->new_rev, h.head, sizeof run->new_rev);
    memcpy(run->remote_rev, h.remote, sizeof run->remote_rev);
    if (strncmp(h.head_ref, "refs/heads/", 11) == 0 && strcmp(h.head_ref + 11, r->branch) == 0 &&
        strcmp(h.head, h.remote) == 0) {
        run->outcome = GITOPS_NOOP;
        return 0;
    }
    rc = dirty_step(&g, check, &h, run, from);
    if (rc == 0)
        rc = gitops_move_plan(&g, &h, run, &plan);
    if (rc == 0)
        rc = pending_begin(ctx, &h, run, &plan, &pending);
    if (rc == 0)
        rc = gitops_move_carry_out(&g, from, run, &plan);
    if (rc != 0) {
        /* A record of a failed move stays: the next run sees where HEAD is. */
        if (gitops_outcome_exit(run->outcome) != rc)
            run->outcome = outcome_of(rc);
        return rc;
    }
    if (strcmp(run->old_rev, run->new_rev) != 0)
        gitops_git_maintenance(&g);
    rc = apply_step(&g, &h, run, &plan);
    if (pending)
        gitops_pending_remove(ctx->state_dir, r->name);
    return rc;
}

/*
 * The ladder under the lock. Sets run->outcome; returns its exit code. A
 * dirty check started beside the fetch and not used (a no-op after all, a
 * failed fetch) is waited for here, whichever rung ended the run.
 */
static int
ladder(const struct gitops_ctx *ctx, struct gitops_run *run)
{
    struct gitops_dirty_check check = { .started = 0 };
    int rc = rungs(ctx, run, &check);

    gitops_git_dirty_discard(&check);
    return rc;
}

static void
log_summary(const struct gitops_run *run)
{
    const struct gitops_trigger *t = run->trigger;
    int code = gitops_outcome_exit(run->outcome);

    hub_log(code == 0 ? HUB_LOG_INFO : HUB_LOG_WARN, "gitops_sync", HUB_STR("repo", run->repo->name),
            HUB_STR("old", run->old_rev), HUB_STR("new", run->new_rev),
            HUB_INT("commits", run->commits), HUB_INT("duration_ms", run->duration_ms),
            HUB_STR("outcome", gitops_outcome_name(run->outcome)), HUB_INT("exit_code", code),
            run->apply_exit >= 0 ? HUB_INT("apply_exit_code", run->apply_exit) : HUB_FIELD_NONE_,
            run->backup_ref[0] ? HUB_STR("backup", run->backup_ref) : HUB_FIELD_NONE_,
            run->error[0] ? HUB_STR("error", run->error) : HUB_FIELD_NONE_,
            HUB_STR("trigger", t->source),
            t->delivery[0] ? HUB_STR("delivery", t->delivery) : HUB_FIELD_NONE_,
            t->after[0] ? HUB_STR("after", t->after) : HUB_FIELD_NONE_);
}

/* Summary line, row, span: every run that got as far as a repository. */
static void
record(struct gitops_ctx *ctx, struct gitops_run *run)
{
    char trace_id[40] = "";

    run->duration_ms = hub_time_mono_ms() - run->started_ms;
    log_summary(run);
    gitops_trace_run(ctx, run, trace_id, sizeof trace_id);
    gitops_runs_record(ctx, run, trace_id);
}

/* A trigger for another branch than the configured one: nothing to do. */
static int
other_branch(const struct hub_repo *r, const struct gitops_trigger *t)
{
    return t->ref[0] != '\0' && (strncmp(t->ref, "refs/heads/", 11) != 0 ||
                                 strcmp(t->ref + 11, r->branch) != 0);
}

static int
sync_repo(struct gitops_ctx *ctx, const struct hub_repo *r, const struct gitops_trigger *t)
{
    struct gitops_run run = { .repo = r, .trigger = t, .apply_exit = -1,
                              .outcome = GITOPS_GIT_FAILED };
    int lock_fd = -1, rc;

    run.started_ns = hub_time_now_ns();
    run.started_ms = hub_time_mono_ms();
    if (other_branch(r, t)) {
        run.outcome = GITOPS_IGNORED;
        snprintf(run.error, sizeof run.error, "trigger for %.200s, not BRANCH", t->ref);
        record(ctx, &run);
        return 0;
    }
    rc = gitops_lock(ctx->state_dir, r->name, ctx->no_wait, &lock_fd);
    if (rc != 0) {
        run.outcome = rc == EX_TEMPFAIL ? GITOPS_BUSY : GITOPS_CONFIG;
        if (rc == EX_TEMPFAIL)
            snprintf(run.error, sizeof run.error, "another run holds the lock");
        record(ctx, &run);
        return rc;
    }
    ladder(ctx, &run);
    /* Written under the lock, so the file always tells the latest run. */
    run.duration_ms = hub_time_mono_ms() - run.started_ms;
    gitops_state_write(ctx->state_dir, &run);
    gitops_unlock(&lock_fd);
    record(ctx, &run);
    return gitops_outcome_exit(run.outcome);
}

int
gitops_sync_name(struct gitops_ctx *ctx, const char *name, const struct gitops_trigger *t)
{
    struct hub_repo r;
    int rc;

    rc = hub_repo_load(ctx->opts->repos_dir, name, &r);
    if (rc != 0)
        return rc;
    rc = sync_repo(ctx, &r, t);
    hub_repo_release(&r);
    return rc;
}

int
gitops_sync_all(struct gitops_ctx *ctx)
{
    struct gitops_trigger t = GITOPS_TRIGGER_INIT("all");
    struct hub_repo_list list;
    int rc, first = 0;

    rc = hub_repos_load_all(ctx->opts->repos_dir, &list);
    if (rc != 0)
        return rc;
    if (list.n == 0)
        hub_log(HUB_LOG_WARN, "gitops_no_repositories",
                HUB_STR("dir", hub_repos_dir(ctx->opts->repos_dir)));
    for (size_t i = 0; i < list.n; i++) {
        rc = sync_repo(ctx, &list.items[i], &t);
        if (rc != 0 && first == 0)
            first = rc;
    }
    hub_repo_list_release(&list);
    return first;
}

int
gitops_ctx_init(struct gitops_ctx *ctx, const struct gitops_opts *o)
{
    const char *dir = o->state_dir;
    char first[HUB_MAX_PATH];

    memset(ctx, 0, sizeof *ctx);
    ctx->opts = o;
    if (dir == NULL || *dir == '\0') {
        const char *sd = getenv("STATE_DIRECTORY");   /* systemd: a ':'-separated list */
        size_t n = sd != NULL ? strcspn(sd, ":") : 0;

        dir = GITOPS_STATE_DIR_DEFAULT;
        if (n > 0 && n < sizeof first) {
            memcpy(first, sd, n);
            first[n] = '\0';
            dir = first;
        }
    }
    ctx->state_dir = strdup(dir);
    if (ctx->state_dir == NULL)
        return hub_fail(EX_OSERR, "out_of_memory");
    if (hub_mkdir_p(ctx->state_dir, 0750) != 0)
        return hub_fail(EX_CONFIG, "gitops_state_dir_unusable", HUB_STR("dir", ctx->state_dir),
                        HUB_STR("error", strerror(errno)),
                        HUB_STR("fix", "set --state-dir or HUB_GITOPS_STATE_DIR to a writable directory"));
    gitops_trace_start(ctx);
    return 0;
}

void
gitops_ctx_release(struct gitops_ctx *ctx)
{
    gitops_trace_stop(ctx);
    gitops_db_close(ctx);
    free(ctx->state_dir);
    ctx->state_dir = NULL;
}
