/*
 * gitops.h: the parts of hub-gitops and the contracts between them.
 *
 *   main.c       flags, the subcommand table, exit code
 *   cmd.c        the subcommands' own flags (sync, status, trigger-dir)
 *   git.c        every git call (argv arrays through hub_child, a timeout)
 *   sync.c       one repository's sync: lock, the decision ladder, summary
 *   move.c       moving the checkout: the plan, the ref updates, rollback
 *   apply.c      the operator's APPLY command
 *   pending.c    the record of a move whose APPLY has not finished
 *   lock.c       the per-repository flock
 *   state.c      the per-repository state file (last run's outcome)
 *   trigger.c    the trigger JSON line and the trigger directory
 *   status.c     `status` and `status --json`
 *   runs_pg.c    the best-effort gitops_runs row
 *   span.c       the run's span, joined to the trigger's traceparent
 *
 * hub-gitops never builds a shell string from data: APPLY is the operator's
 * own text from the operator's own file, run as ["/bin/sh", "-c", APPLY].
 * It never deletes a branch and never moves a checkout with modified
 * tracked files (a move of its own cut short is not local work: move.c).
 */
#ifndef HUB_GITOPS_H
#define HUB_GITOPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "child.h"
#include "repos.h"

#define GITOPS_GIT_ARGS_MAX 16            /* arguments after "git" in one call */
#define GITOPS_OID_MAX 64                 /* SHA-256 hex; SHA-1 is 40 */
#define GITOPS_REF_MAX 256
#define GITOPS_STATE_DIR_DEFAULT "/var/lib/hub-gitops"
#define GITOPS_GIT_TIMEOUT_DEFAULT 120
#define GITOPS_GIT_GRACE_MS 1000          /* SIGTERM to SIGKILL for git */
#define GITOPS_STATE_FILE_MAX (4u * 1024)
#define GITOPS_PENDING_FILE_MAX (2u * 1024)

/* Global flags, set once by main. */
struct gitops_opts {
    const char *repos_dir;                /* NULL: $HUB_REPOS_DIR or the default */
    const char *state_dir;                /* NULL: $STATE_DIRECTORY or the default */
    unsigned long long git_timeout_s;
};

struct gitops_db;
struct hub_tracer;

/* What one invocation shares across its syncs. */
struct gitops_ctx {
    const struct gitops_opts *opts;
    char *state_dir;                      /* owned: resolved, created */
    int no_wait;                          /* --no-wait: busy lock -> 75 */
    struct gitops_db *db;                 /* NULL until first used */
    int db_failed;                        /* connect failed once: don't retry */
    struct hub_tracer *tracer;            /* NULL: tracing off */
};

/* Where the trigger came from and what it said (all fields may be empty). */
struct gitops_trigger {
    const char *source;                   /* "manual", "event", "trigger-dir", "all" */
    char repo[HUB_REPO_NAME_MAX + 1];
    char ref[GITOPS_REF_MAX];
    char after[GITOPS_OID_MAX + 1];
    char delivery[128];
    char event[64];
    char traceparent[128];
};

#define GITOPS_TRIGGER_INIT(src) { (src), "", "", "", "", "", "" }

/* The outcome of one run, each with its exit code (see sync.c's table). */
enum gitops_outcome {
    GITOPS_NOOP,            /* 0: already at the remote */
    GITOPS_SYNCED,          /* 0: fast-forwarded */
    GITOPS_SWITCHED,        /* 0: switched to BRANCH (and maybe forwarded) */
    GITOPS_RESET,           /* 0: diverged, ON_DIVERGE=reset, old HEAD kept */
    GITOPS_LOCAL_AHEAD,     /* 0: local commits not on the remote; left alone */
    GITOPS_IGNORED,         /* 0: trigger for another branch */
    GITOPS_SKIPPED_DIRTY,   /* 75: tracked files modified */
    GITOPS_BUSY,            /* 75: --no-wait and another run holds the lock */
    GITOPS_BLOCKED,         /* 75: git refused to move the tree (untracked file in the way) */
    GITOPS_DIVERGED,        /* 65: diverged, ON_DIVERGE=refuse */
    GITOPS_GIT_FAILED,      /* 69: fetch or another git call failed or timed out */
    GITOPS_APPLY_FAILED,    /* 70: APPLY failed or timed out */
    GITOPS_ROLLED_BACK,     /* 70: APPLY failed, checkout returned, APPLY ran again */
    GITOPS_CONFIG,          /* 78: bad configuration */
    GITOPS_OUTCOME_COUNT,
};

const char *gitops_outcome_name(enum gitops_outcome o);
int gitops_outcome_exit(enum gitops_outcome o);

/* One run's record: what the summary line, the state file and the row say. */
struct gitops_run {
    const struct hub_repo *repo;          /* borrowed */
    const struct gitops_trigger *trigger; /* borrowed */
    char old_rev[GITOPS_OID_MAX + 1];     /* HEAD before ("" unknown) */
    char new_rev[GITOPS_OID_MAX + 1];     /* HEAD after */
    char remote_rev[GITOPS_OID_MAX + 1];  /* the fetched remote branch */
    char backup_ref[GITOPS_REF_MAX];      /* set by a diverged reset */
    long long commits;
    enum gitops_outcome outcome;
    int apply_exit;                       /* -1: APPLY did not run */
    char error[256];                      /* short reason, "" when none */
    int64_t started_ns;                   /* wall clock */
    int64_t started_ms;                   /* monotonic */
    int64_t duration_ms;
};

/* --- main.c / cmd.c: subcommands (argv[0] is the subcommand's name) --- */
int gitops_cmd_sync(const struct gitops_opts *o, int argc, char **argv);
int gitops_cmd_status(const struct gitops_opts *o, int argc, char **argv);
int gitops_cmd_trigger_dir(const struct gitops_opts *o, int argc, char **argv);

/* Resolve and create the state directory; fills ctx. 0 or EX_CONFIG. */
int gitops_ctx_init(struct gitops_ctx *ctx, const struct gitops_opts *o);
void gitops_ctx_release(struct gitops_ctx *ctx);

/* --- sync.c --- */

/*
 * Sync the repository called name: load its configuration, take its lock,
 * run the ladder, write the state file, log one summary line, write the
 * gitops_runs row and the span. Returns the outcome's exit code.
 */
int gitops_sync_name(struct gitops_ctx *ctx, const char *name, const struct gitops_trigger *t);

/* Every repository in the repos directory; the first non-zero exit code wins. */
int gitops_sync_all(struct gitops_ctx *ctx);

/* --- git.c --- */

/* How git runs for one checkout. */
struct gitops_git {
    const char *cwd;
    unsigned timeout_ms;                  /* each call's deadline */
    int read_only;                        /* GIT_OPTIONAL_LOCKS=0 (status) */
    int64_t deadline_ms;                  /* monotonic; 0: none. Calls that share one
                                           * budget stop here, even before timeout_ms */
};


/*
 * Run "git ARGS..." (args NULL-terminated), killed at timeout_ms or at
 * deadline_ms, whichever comes first. Returns 0 when git ran and exited 0;
 * otherwise logs one error line (msg, the output cut, timed_out) and returns
 * EX_UNAVAILABLE (also, without running git, when deadline_ms has passed).
 * res receives the output either way (the caller releases it); with quiet,
 * a non-zero exit is returned as 1 and not logged (for questions like "does
 * this ref exist?").
 */
int gitops_git_run(const struct gitops_git *g, const char *msg, int quiet,
                   const char *const *args, struct hub_child_result *res);

struct gitops_heads {
    char head[GITOPS_OID_MAX + 1];
    char remote[GITOPS_OID_MAX + 1];
    char head_ref[GITOPS_REF_MAX];        /* "refs/heads/X", or "HEAD" when detached */
};

int gitops_git_fetch(const struct gitops_git *g, const char *remote, const char *branch);
/* The remote's BRANCH without fetching; EX_UNAVAILABLE when unreachable or missing. */
int gitops_git_ls_remote(const struct gitops_git *g, const char *remote, const char *branch,
                         char *oid);
/* HEAD, refs/remotes/REMOTE/BRANCH and HEAD's branch; quiet: 1 (unlogged) on failure. */
int gitops_git_heads(const struct gitops_git *g, const char *remote, const char *branch, int quiet,
                     struct gitops_heads *out);
/* 0 found (oid filled), 1 no such branch, or an exit code. */
int gitops_git_branch_rev(const struct gitops_git *g, const char *branch, char *oid);
/* HEAD's commit alone (the remote-tracking ref may not exist): 0 or an exit code. */
int gitops_git_head_rev(const struct gitops_git *g, char *oid);
/* The tree a commit holds: 0 (tree filled) or an exit code. */
int gitops_git_tree_of(const struct gitops_git *g, const char *commit, char *tree);
/* *dirty set to 1 when a tracked file differs from HEAD (worktree or index). */
int gitops_git_dirty(const struct gitops_git *g, int *dirty, char *first, size_t firstlen);

/*
 * The same check started to run beside the fetch (sync.c): status reads
 * and refreshes only the index and working tree, the fetch writes only
 * objects and the remote-tracking ref, so neither waits for the other.
 * Finish gives gitops_git_dirty's answer (running the check then if it
 * was never started); discard waits for a check whose answer is not
 * needed. A started check is always finished or discarded.
 */
struct gitops_dirty_check {
    const char *argv[GITOPS_GIT_ARGS_MAX + 2];
    struct hub_child spec;
    struct hub_child_proc *proc;
    int start_rc;
    int started;
};
void gitops_git_dirty_start(const struct gitops_git *g, struct gitops_dirty_check *d);
int gitops_git_dirty_finish(const struct gitops_git *g, struct gitops_dirty_check *d, int *dirty,
                            char *first, size_t firstlen);
void gitops_git_dirty_discard(struct gitops_dirty_check *d);
/*
 * The tree the index holds, when the working tree's tracked files hold it
 * too: 0 (tree filled), 1 when a tracked file differs from the index or the
 * index has conflicts, or an exit code. Writes tree objects, like a commit.
 */
int gitops_git_index_tree(const struct gitops_git *g, char *tree);
/* A commit in from..to whose tree is tree: 0 (oid filled), 1 none, or an
 * exit code. Searches the newest 64 KiB of rev-list output (~700 commits). */
int gitops_git_commit_of_tree(const struct gitops_git *g, const char *from, const char *to,
                              const char *tree, char *oid);
/* Commits in a and not in b (*ahead) and in b not in a (*behind). */
int gitops_git_counts(const struct gitops_git *g, const char *a, const char *b,
                      long long *ahead, long long *behind);
/* Two-tree read-tree -u -m: refuses to overwrite local changes or untracked files. */
int gitops_git_move_tree(const struct gitops_git *g, const char *from, const char *to);
/* old NULL: no check; "": the ref must not exist. */
int gitops_git_update_ref(const struct gitops_git *g, const char *ref, const char *new_rev,
                          const char *old_rev, int quiet);
int gitops_git_set_head(const struct gitops_git *g, const char *head_ref, const char *rev);
/* git gc --auto, inline: fetch runs with --no-auto-maintenance. Failure only warns. */
void gitops_git_maintenance(const struct gitops_git *g);

/* Parsers, exposed for unit tests. Return 0 or -1. */
int gitops_parse_heads(const char *text, struct gitops_heads *out);
int gitops_parse_counts(const char *text, long long *ahead, long long *behind);
int gitops_parse_ls_remote(const char *text, const char *ref, char *oid);
/* Lines "OID<sep>REF" (ls-remote: tab; packed-refs: space): the oid of the
 * line naming exactly ref: 0, 1 no such line, -1 that line's oid is bad. */
int gitops_parse_ref_line(const char *text, char sep, const char *ref, char *oid);
/* rev-list --format=%T output: 0 (oid filled), 1 no commit has tree, -1 malformed. */
int gitops_parse_commit_of_tree(const char *text, const char *tree, char *oid);
int gitops_oid_valid(const char *s);
/* BRANCH and REMOTE: safe in a refspec (no ':', '*', '..', spaces, ...). */
int gitops_refname_part_valid(const char *s);

/* --- refs.c --- */

/*
 * HEAD, the tracking ref and HEAD's branch read from CHECKOUT/.git's files
 * (what gitops_git_heads asks git for): 0, 1 when one of the refs does not
 * exist, -1 when the repository is not in git's plain layout (ask git).
 */
int gitops_refs_heads(const char *checkout, const char *tracking, struct gitops_heads *out);

/* --- move.c --- */

struct gitops_plan {
    char branch_ref[GITOPS_REF_MAX];      /* refs/heads/BRANCH */
    char branch_old[GITOPS_OID_MAX + 1];  /* "" when the branch did not exist */
    char target[GITOPS_OID_MAX + 1];
    int switching;                        /* HEAD was not on BRANCH */
};

/*
 * Where a move cut short left the checkout, when that is all that differs
 * from HEAD (see move.c for the rule). Asked only of a checkout with
 * modified tracked files. 0: from (GITOPS_OID_MAX + 1) is the commit whose
 * tree the index and working tree hold; 1: local work; or an exit code.
 */
int gitops_resume_point(const struct gitops_git *g, const struct gitops_heads *h, char *from);

/*
 * Decide the move of a clean checkout to the remote (switch, fast-forward
 * or diverged reset; a reset keeps its backup ref here). Fills plan and
 * run->commits, outcome and backup_ref. Returns 0 or the failure's exit
 * code. Nothing the checkout holds has moved yet: plan->target is where
 * HEAD goes.
 */
int gitops_move_plan(const struct gitops_git *g, const struct gitops_heads *h,
                     struct gitops_run *run, struct gitops_plan *plan);
/*
 * Carry out the plan. from is the commit whose tree the index and working
 * tree hold: h->head, or gitops_resume_point's answer. Fills run->new_rev
 * (and outcome). Returns 0 or the failure's exit code.
 */
int gitops_move_carry_out(const struct gitops_git *g, const char *from, struct gitops_run *run,
                          const struct gitops_plan *plan);
/* Return the checkout to run->old_rev and the branch to plan->branch_old. */
int gitops_rollback(const struct gitops_git *g, const struct gitops_heads *h,
                    const struct gitops_run *run, const struct gitops_plan *plan);

/* --- apply.c --- */

/* Run APPLY from old to new; returns its exit code (128+signal, 124 timeout). */
int gitops_apply(const struct hub_repo *r, const char *old_rev, const char *new_rev);

/* --- pending.c --- */

/*
 * A move whose APPLY has not finished, as STATE_DIR/NAME.pending: written
 * before the refs move (for a repository with APPLY), removed once APPLY
 * and the rollback ran. With the revisions it keeps what the rollback of
 * a resumed APPLY needs: HEAD's ref and BRANCH as they were before.
 */
struct gitops_pending {
    char old_rev[GITOPS_OID_MAX + 1];     /* HEAD before the move */
    char new_rev[GITOPS_OID_MAX + 1];     /* where the move puts HEAD */
    char head_ref[GITOPS_REF_MAX];        /* HEAD's ref before ("HEAD": detached) */
    char branch_ref[GITOPS_REF_MAX];      /* refs/heads/BRANCH */
    char branch_old[GITOPS_OID_MAX + 1];  /* BRANCH before ("" it did not exist) */
};

/* Durably (fsynced file and directory): 0, or EX_CONFIG after logging. */
int gitops_pending_write(const char *state_dir, const char *name, const struct gitops_pending *p);
/*
 * 0 (p filled), 1 when there is none, -1 when it cannot be read or is not
 * a valid record for name (logged as a warning: the caller drops it).
 */
int gitops_pending_read(const char *state_dir, const char *name, struct gitops_pending *p);
/* Remove it (none is fine). A failure only warns: the next run runs APPLY again. */
void gitops_pending_remove(const char *state_dir, const char *name);
/* The record's JSON for repository name: 0, or -1 (p zeroed). For unit tests. */
int gitops_pending_parse(const char *text, size_t len, const char *name, struct gitops_pending *p);

/* --- lock.c --- */

/*
 * 0 with *fd holding the lock; EX_TEMPFAIL (not logged) when another run
 * holds it and no_wait; EX_CONFIG when the lock file cannot be used.
 */
int gitops_lock(const char *state_dir, const char *name, int no_wait, int *fd);
void gitops_unlock(int *fd);

/* --- state.c --- */

int gitops_state_write(const char *state_dir, const struct gitops_run *run);

/* STATE_DIR/NAME<ext> into out: 0, or -1 when it does not fit. */
int gitops_state_file(char *out, size_t outlen, const char *state_dir, const char *name,
                      const char *ext);
struct cJSON;
/* o written to path atomically (fileio.h): 0, or -1 with errno (ENOMEM: o NULL or unprintable). */
int gitops_json_write(const char *path, const struct cJSON *o, mode_t mode);
/* String member key copied into out when it is a string that fits: 0, else -1. */
int gitops_json_string(const struct cJSON *o, const char *key, char *out, size_t outlen);

struct gitops_last {
    char outcome[32];
    char time[40];
    int exit_code;
    int found;
};

/* Read the last run's outcome; found=0 when there is none. Never fails. */
void gitops_state_read(const char *state_dir, const char *name, struct gitops_last *out);

/* --- trigger.c --- */

/*
 * Parse one trigger JSON line into t (t->source is kept). Returns 0, or
 * EX_DATAERR after logging what was wrong.
 */
int gitops_trigger_parse(const char *text, size_t len, struct gitops_trigger *t);
/* Read a trigger from path ("-": stdin). 0, or EX_DATAERR (also when path
 * is missing or unreadable) after logging why. */
int gitops_trigger_read(const char *path, struct gitops_trigger *t);
/* Consume DIR/NAME.json files until none is left; see trigger.c. */
int gitops_trigger_dir(struct gitops_ctx *ctx, const char *dir);

/* --- status.c --- */

int gitops_status(struct gitops_ctx *ctx, char **names, int nnames, int json);

/* --- runs_pg.c --- */

/* Insert the run's gitops_runs row when HUB_PG_DSN is set; never fails the run. */
void gitops_runs_record(struct gitops_ctx *ctx, const struct gitops_run *run,
                        const char *trace_id);
void gitops_db_close(struct gitops_ctx *ctx);

/* --- span.c --- */

/* Start the tracer when $HUB_OTLP_ENDPOINT is set (a failure only warns). */
void gitops_trace_start(struct gitops_ctx *ctx);
void gitops_trace_stop(struct gitops_ctx *ctx);
/* Submit the run's span, child of the trigger's traceparent; trace_id (33 bytes) receives its id. */
void gitops_trace_run(struct gitops_ctx *ctx, const struct gitops_run *run, char *trace_id,
                      size_t trace_id_len);

#endif
