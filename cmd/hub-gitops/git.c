/*
 * git.c: every git call hub-gitops makes, each an argv array run through
 * hub_child with a deadline (its own, or what is left of one shared by the
 * calls of one remote exchange) and a process-group kill (so an ssh under a
 * hung fetch dies too), never with a terminal prompt. It owns the parsing
 * of git's output and nothing else: the decisions are in sync.c and move.c.
 *
 * Few calls is the point: a no-op sync is one ls-remote (a fetch, even with
 * nothing to fetch, runs a connectivity check that costs more), as HEAD
 * and the remote-tracking ref are read from the repository's files
 * (refs.c); a one-commit sync adds fetch, status, rev-list, read-tree and
 * update-ref (and gc --auto, when it has work).
 * Only a checkout status calls modified pays for the check that it is a
 * move cut short: rev-list --count, diff-files, write-tree, rev-list.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "child.h"
#include "gitops.h"
#include "hub.h"
#include "log.h"
#include "timefmt.h"

#define GC_LOOSE_IN_17 27          /* (gc.auto 6700 + 255) / 256 */
#define GC_PACK_LIMIT 50           /* gc.autoPackLimit */

/* LC_ALL=C keeps git's messages (which we log) in one language. */
static const char *const git_env[] = { "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", NULL };
static const char *const git_env_ro[] = { "GIT_TERMINAL_PROMPT=0", "LC_ALL=C",
                                          "GIT_OPTIONAL_LOCKS=0", NULL };

/*
 * The call's timeout: its own, cut to what is left of the shared deadline
 * (without one, ls-remote could use nearly all of HUB_GIT_TIMEOUT and the
 * fetch after it all of it again). -1 when the deadline has passed.
 */
static int
call_timeout(const struct gitops_git *g, unsigned *timeout_ms)
{
    int64_t left;

    *timeout_ms = g->timeout_ms;
    if (g->deadline_ms == 0)
        return 0;
    left = g->deadline_ms - hub_time_mono_ms();
    if (left <= 0)
        return -1;
    if (*timeout_ms == 0 || left < (int64_t)*timeout_ms)
        *timeout_ms = (unsigned)left;
    return 0;
}

/* argv ("git" + args) and spec for one call. 0, or an exit code (logged). */
static int
call_prepare(const struct gitops_git *g, const char *msg, const char *const *args,
             const char **argv, struct hub_child *spec)
{
    size_t n;

    *spec = (struct hub_child){ 0 };
    if (call_timeout(g, &spec->timeout_ms) != 0)
        return hub_fail(EX_UNAVAILABLE, msg, HUB_STR("command", "git"),
                        HUB_STR("git_command", args[0]), HUB_STR("cwd", g->cwd),
                        HUB_BOOL("timed_out", 1),
                        HUB_STR("error", "the git deadline passed before this call"));
    argv[0] = "git";
    for (n = 0; args[n] != NULL; n++) {
        if (n == GITOPS_GIT_ARGS_MAX)
            return hub_fail(EX_SOFTWARE, "gitops_git_too_many_args", HUB_STR("msg", msg));
        argv[n + 1] = args[n];
    }
    argv[n + 1] = NULL;
    spec->argv = argv;
    spec->env = g->read_only ? git_env_ro : git_env;
    spec->cwd = g->cwd;
    spec->grace_ms = GITOPS_GIT_GRACE_MS;
    return 0;
}

/* Why a git call could not start: its working directory is gone, or git is. */
static int
not_started(const struct gitops_git *g, int rc)
{
    struct stat st;

    if (g->cwd != NULL && (stat(g->cwd, &st) != 0 || !S_ISDIR(st.st_mode)))
        return hub_fail(rc, "git_not_started", HUB_STR("cwd", g->cwd),
                        HUB_STR("error", "the checkout directory is missing"),
                        HUB_STR("fix", "clone the repository there or fix CHECKOUT"));
    return hub_fail(rc, "git_not_started", HUB_STR("cwd", g->cwd),
                    HUB_STR("fix", "install git and check PATH"));
}

/* What a finished call (started with rc) means: 0, 1 failed quietly, or an exit code (logged). */
static int
call_outcome(const struct gitops_git *g, const char *msg, int quiet, const struct hub_child *spec,
             int rc, const struct hub_child_result *res)
{
    if (rc != 0)
        return not_started(g, rc);
    if (hub_child_ok(res))
        return 0;
    if (quiet && !res->timed_out)
        return 1;
    hub_child_log(HUB_LOG_ERROR, msg, spec, res);
    return EX_UNAVAILABLE;
}

int
gitops_git_run(const struct gitops_git *g, const char *msg, int quiet,
               const char *const *args, struct hub_child_result *res)
{
    const char *argv[GITOPS_GIT_ARGS_MAX + 2];
    struct hub_child spec;
    int rc = call_prepare(g, msg, args, argv, &spec);

    if (rc != 0)
        return rc;
    rc = hub_child_run(&spec, res);
    return call_outcome(g, msg, quiet, &spec, rc, res);
}

int
gitops_git_fetch(const struct gitops_git *g, const char *remote, const char *branch)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    char refspec[2 * GITOPS_REF_MAX];
    int n, rc;

    n = snprintf(refspec, sizeof refspec, "+refs/heads/%s:refs/remotes/%s/%s", branch,
                 remote, branch);
    if (n < 0 || (size_t)n >= sizeof refspec)
        return hub_fail(EX_CONFIG, "gitops_refspec_too_long", HUB_STR("branch", branch));
    const char *const args[] = { "fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
                                 "--no-recurse-submodules", "--no-auto-maintenance",
                                 remote, refspec, NULL };
    rc = gitops_git_run(g, "gitops_fetch_failed", 0, args, &res);
    hub_child_result_release(&res);
    return rc;
}

int
gitops_parse_ref_line(const char *text, char sep, const char *ref, char *oid)
{
    const char stop[] = { sep, '\n', '\0' };
    size_t reflen = strlen(ref);

    /* Only an exact ref counts: ls-remote's pattern also matches longer refs
     * ending in ref ("refs/heads/x/refs/heads/main"). */
    for (const char *line = text; *line != '\0';) {
        size_t n = strcspn(line, "\n"), olen = strcspn(line, stop);

        if (olen < n && n - olen - 1 == reflen && strncmp(line + olen + 1, ref, reflen) == 0) {
            if (olen > GITOPS_OID_MAX)
                return -1;
            memcpy(oid, line, olen);
            oid[olen] = '\0';
            return gitops_oid_valid(oid) ? 0 : -1;
        }
        line += n + (line[n] == '\n');
    }
    return 1;
}

int
gitops_parse_ls_remote(const char *text, const char *ref, char *oid)
{
    return gitops_parse_ref_line(text, '\t', ref, oid) == 0 ? 0 : -1;
}

int
gitops_git_ls_remote(const struct gitops_git *g, const char *remote, const char *branch,
                     char *oid)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    char ref[GITOPS_REF_MAX];
    int n, rc;

    n = snprintf(ref, sizeof ref, "refs/heads/%s", branch);
    if (n < 0 || (size_t)n >= sizeof ref)
        return hub_fail(EX_CONFIG, "gitops_refspec_too_long", HUB_STR("branch", branch));
    const char *const args[] = { "ls-remote", "--quiet", remote, ref, NULL };
    rc = gitops_git_run(g, "gitops_remote_failed", 0, args, &res);
    if (rc == 0 && gitops_parse_ls_remote(hub_buf_str(&res.output), ref, oid) != 0)
        rc = hub_fail(EX_UNAVAILABLE, "gitops_remote_branch_missing", HUB_STR("remote", remote),
                      HUB_STR("branch", branch), HUB_STR("cwd", g->cwd),
                      HUB_STR("fix", "check REMOTE and BRANCH in the repository's file"));
    hub_child_result_release(&res);
    return rc;
}

int
gitops_oid_valid(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");

    return (n == 40 || n == 64) && s[n] == '\0';
}

/* Copy one line of text (up to '\n') into out; returns the next line or NULL. */
static const char *
take_line(const char *text, char *out, size_t outlen)
{
    size_t n = strcspn(text, "\n");

    if (n >= outlen)
        return NULL;
    memcpy(out, text, n);
    out[n] = '\0';
    return text[n] == '\n' ? text + n + 1 : text + n;
}

int
gitops_parse_heads(const char *text, struct gitops_heads *out)
{
    const char *p = text;

    p = take_line(p, out->head, sizeof out->head);
    if (p != NULL)
        p = take_line(p, out->remote, sizeof out->remote);
    if (p != NULL)
        p = take_line(p, out->head_ref, sizeof out->head_ref);
    if (p == NULL || !gitops_oid_valid(out->head) || !gitops_oid_valid(out->remote))
        return -1;
    if (strcmp(out->head_ref, "HEAD") != 0 && strncmp(out->head_ref, "refs/heads/", 11) != 0)
        return -1;
    return 0;
}

int
gitops_git_heads(const struct gitops_git *g, const char *remote, const char *branch, int quiet,
                 struct gitops_heads *out)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    char tracking[GITOPS_REF_MAX];
    int n, rc;

    n = snprintf(tracking, sizeof tracking, "refs/remotes/%s/%s", remote, branch);
    if (n < 0 || (size_t)n >= sizeof tracking)
        return hub_fail(EX_CONFIG, "gitops_refspec_too_long", HUB_STR("branch", branch));
    /* The repository's files first (refs.c); git when they are laid out
     * another way, and to say why when a ref the caller needs is missing. */
    rc = gitops_refs_heads(g->cwd, tracking, out);
    if (rc == 0 || (rc == 1 && quiet))
        return rc;
    /* One call: HEAD, the remote branch, and the branch HEAD is on ("HEAD": detached). */
    const char *const args[] = { "rev-parse", "HEAD", tracking, "--symbolic-full-name",
                                 "HEAD", NULL };
    rc = gitops_git_run(g, "gitops_rev_parse_failed", quiet, args, &res);
    if (rc == 0 && gitops_parse_heads(hub_buf_str(&res.output), out) != 0)
        rc = hub_fail(EX_UNAVAILABLE, "gitops_rev_parse_unexpected",
                      HUB_STR("output", hub_buf_str(&res.output)));
    hub_child_result_release(&res);
    return rc;
}

/* The commit ref names: 0 (oid filled), 1 no such ref, or an exit code. */
static int
verify_rev(const struct gitops_git *g, const char *ref, char *oid)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    const char *const args[] = { "rev-parse", "--quiet", "--verify", ref, NULL };
    int rc;

    rc = gitops_git_run(g, "gitops_rev_parse_failed", 1, args, &res);
    if (rc == 0 && (take_line(hub_buf_str(&res.output), oid, GITOPS_OID_MAX + 1) == NULL ||
                    !gitops_oid_valid(oid)))
        rc = hub_fail(EX_UNAVAILABLE, "gitops_rev_parse_unexpected",
                      HUB_STR("output", hub_buf_str(&res.output)));
    hub_child_result_release(&res);
    return rc;
}

int
gitops_git_branch_rev(const struct gitops_git *g, const char *branch, char *oid)
{
    char ref[GITOPS_REF_MAX];
    int n;

    n = snprintf(ref, sizeof ref, "refs/heads/%s", branch);
    if (n < 0 || (size_t)n >= sizeof ref)
        return hub_fail(EX_CONFIG, "gitops_refspec_too_long", HUB_STR("branch", branch));
    return verify_rev(g, ref, oid);
}

int
gitops_git_head_rev(const struct gitops_git *g, char *oid)
{
    int rc = verify_rev(g, "HEAD", oid);

    if (rc == 1)            /* an unborn HEAD: not a checkout hub-gitops made */
        rc = hub_fail(EX_UNAVAILABLE, "gitops_rev_parse_failed", HUB_STR("rev", "HEAD"),
                      HUB_STR("cwd", g->cwd),
                      HUB_STR("error", "HEAD names no commit, or not a git repository"));
    return rc;
}

int
gitops_git_tree_of(const struct gitops_git *g, const char *commit, char *tree)
{
    char spec[GITOPS_OID_MAX + 8];
    int rc;

    snprintf(spec, sizeof spec, "%.*s^{tree}", GITOPS_OID_MAX, commit);
    rc = verify_rev(g, spec, tree);
    if (rc == 1)
        rc = hub_fail(EX_UNAVAILABLE, "gitops_rev_parse_failed", HUB_STR("rev", spec),
                      HUB_STR("cwd", g->cwd), HUB_STR("error", "no such commit"));
    return rc;
}

/* status refreshes the index's stat data (and writes it back unless
 * another git holds index.lock), so a touched-but-equal file is clean. */
static const char *const status_args[] = { "status", "--porcelain", "--untracked-files=no",
                                           "--ignore-submodules=dirty", NULL };

/* status' answer: dirty when it listed anything, the first line in first. */
static int
status_answer(int rc, struct hub_child_result *res, int *dirty, char *first, size_t firstlen)
{
    if (rc == 0) {
        *dirty = res->output.len > 0;
        if (firstlen > 0 && take_line(hub_buf_str(&res->output), first, firstlen) == NULL)
            first[0] = '\0';
    }
    hub_child_result_release(res);
    return rc;
}

int
gitops_git_dirty(const struct gitops_git *g, int *dirty, char *first, size_t firstlen)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    int rc = gitops_git_run(g, "gitops_status_failed", 0, status_args, &res);

    return status_answer(rc, &res, dirty, first, firstlen);
}

void
gitops_git_dirty_start(const struct gitops_git *g, struct gitops_dirty_check *d)
{
    d->started = 0;
    if (call_prepare(g, "gitops_status_failed", status_args, d->argv, &d->spec) != 0)
        return;                 /* finish runs it then, and reports */
    d->start_rc = hub_child_start(&d->spec, &d->proc);
    d->started = 1;
}

int
gitops_git_dirty_finish(const struct gitops_git *g, struct gitops_dirty_check *d, int *dirty,
                        char *first, size_t firstlen)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    int rc;

    if (!d->started)
        return gitops_git_dirty(g, dirty, first, firstlen);
    d->started = 0;
    if (d->start_rc == 0)
        hub_child_finish(d->proc, &res);
    rc = call_outcome(g, "gitops_status_failed", 0, &d->spec, d->start_rc, &res);
    return status_answer(rc, &res, dirty, first, firstlen);
}

void
gitops_git_dirty_discard(struct gitops_dirty_check *d)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;

    if (!d->started)
        return;
    d->started = 0;
    if (d->start_rc == 0)
        hub_child_finish(d->proc, &res);
    hub_child_result_release(&res);
}

int
gitops_git_index_tree(const struct gitops_git *g, char *tree)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    /* Runs right after status, which refreshed the index's stat data; a
     * file still stat-dirty here counts as modified (the safe answer). */
    const char *const files[] = { "diff-files", "--quiet", "--ignore-submodules=dirty", NULL };
    /* write-tree stores the index's trees as objects (what a commit would
     * do; gc prunes them) and fails on an unmerged index. */
    const char *const write[] = { "write-tree", NULL };
    int rc;

    rc = gitops_git_run(g, "gitops_diff_files_failed", 1, files, &res);
    if (rc == 0) {
        hub_child_result_release(&res);
        rc = gitops_git_run(g, "gitops_write_tree_failed", 1, write, &res);
    }
    if (rc == 0 && (take_line(hub_buf_str(&res.output), tree, GITOPS_OID_MAX + 1) == NULL ||
                    !gitops_oid_valid(tree)))
        rc = hub_fail(EX_UNAVAILABLE, "gitops_write_tree_unexpected",
                      HUB_STR("output", hub_buf_str(&res.output)));
    hub_child_result_release(&res);
    return rc;
}

int
gitops_parse_commit_of_tree(const char *text, const char *tree, char *oid)
{
    char commit[GITOPS_OID_MAX + 1] = "";
    char line[GITOPS_OID_MAX + 8];

    /* "commit <oid>" then "<tree>", per commit, newest first. The last
     * line may be cut by the output cap: it never matches (an oid is
     * compared whole), so the oldest commits of a long range go unsearched. */
    for (const char *p = text; p != NULL && *p != '\0';) {
        p = take_line(p, line, sizeof line);
        if (p == NULL)
            return -1;
        if (strncmp(line, "commit ", 7) == 0) {
            commit[0] = '\0';
            if (gitops_oid_valid(line + 7))
                memcpy(commit, line + 7, strlen(line + 7) + 1);
        } else if (commit[0] != '\0' && strcmp(line, tree) == 0) {
            memcpy(oid, commit, sizeof commit);
            return 0;
        }
    }
    return 1;
}

int
gitops_git_commit_of_tree(const struct gitops_git *g, const char *from, const char *to,
                          const char *tree, char *oid)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    char range[2 * GITOPS_OID_MAX + 4];
    int n, rc;

    n = snprintf(range, sizeof range, "%s..%s", from, to);
    if (n < 0 || (size_t)n >= sizeof range)
        return hub_fail(EX_SOFTWARE, "gitops_range_too_long");
    const char *const args[] = { "rev-list", "--format=%T", range, "--", NULL };
    rc = gitops_git_run(g, "gitops_rev_list_failed", 0, args, &res);
    if (rc == 0) {
        rc = gitops_parse_commit_of_tree(hub_buf_str(&res.output), tree, oid);
        if (rc < 0)
            rc = hub_fail(EX_UNAVAILABLE, "gitops_rev_list_unexpected",
                          HUB_STR("output", hub_buf_str(&res.output)));
    }
    hub_child_result_release(&res);
    return rc;
}

int
gitops_parse_counts(const char *text, long long *ahead, long long *behind)
{
    long long a = 0, b = 0;
    const char *p = text;

    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p) && a < 1000000000; p++)
        a = a * 10 + (*p - '0');
    if (*p != '\t' || !isdigit((unsigned char)p[1]))
        return -1;
    for (p++; isdigit((unsigned char)*p) && b < 1000000000; p++)
        b = b * 10 + (*p - '0');
    if (*p != '\n' && *p != '\0')
        return -1;
    *ahead = a;
    *behind = b;
    return 0;
}

int
gitops_git_counts(const struct gitops_git *g, const char *a, const char *b,
                  long long *ahead, long long *behind)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    char range[2 * GITOPS_OID_MAX + 4];
    int n, rc;

    n = snprintf(range, sizeof range, "%s...%s", a, b);
    if (n < 0 || (size_t)n >= sizeof range)
        return hub_fail(EX_SOFTWARE, "gitops_range_too_long");
    const char *const args[] = { "rev-list", "--left-right", "--count", range, "--", NULL };
    rc = gitops_git_run(g, "gitops_rev_list_failed", 0, args, &res);
    if (rc == 0 && gitops_parse_counts(hub_buf_str(&res.output), ahead, behind) != 0)
        rc = hub_fail(EX_UNAVAILABLE, "gitops_rev_list_unexpected",
                      HUB_STR("output", hub_buf_str(&res.output)));
    hub_child_result_release(&res);
    return rc;
}

int
gitops_git_move_tree(const struct gitops_git *g, const char *from, const char *to)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    const char *const args[] = { "read-tree", "-u", "-m", from, to, NULL };
    int rc;

    rc = gitops_git_run(g, "gitops_move_refused", 0, args, &res);
    hub_child_result_release(&res);
    return rc;
}

int
gitops_git_update_ref(const struct gitops_git *g, const char *ref, const char *new_rev,
                      const char *old_rev, int quiet)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    const char *const args[] = { "update-ref", "-m", "hub-gitops", ref, new_rev, old_rev, NULL };
    int rc;

    rc = gitops_git_run(g, "gitops_update_ref_failed", quiet, args, &res);
    hub_child_result_release(&res);
    return rc;
}

int
gitops_git_set_head(const struct gitops_git *g, const char *head_ref, const char *rev)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    const char *const symref[] = { "symbolic-ref", "-m", "hub-gitops", "HEAD", head_ref, NULL };
    const char *const detach[] = { "update-ref", "--no-deref", "-m", "hub-gitops", "HEAD",
                                   rev, NULL };
    int rc;

    rc = gitops_git_run(g, "gitops_set_head_failed", 0,
                        strcmp(head_ref, "HEAD") == 0 ? detach : symref, &res);
    hub_child_result_release(&res);
    return rc;
}

/* Entries in dir whose names end with suffix ("" for all), up to limit + 1. */
static int
count_entries(const char *dir, const char *suffix, int limit)
{
    DIR *d = opendir(dir);
    size_t slen = strlen(suffix);
    int n = 0;

    if (d == NULL)
        return -1;
    for (struct dirent *e = readdir(d); e != NULL && n <= limit; e = readdir(d)) {
        size_t len = strlen(e->d_name);

        if (e->d_name[0] != '.' && len >= slen && strcmp(e->d_name + len - slen, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/*
 * Would `gc --auto` have work? git's own test, done here to save a process
 * on nearly every move: more loose objects in objects/17 than gc.auto's
 * default share (6700 / 256), or more packs than gc.autoPackLimit's default.
 * Anything unusual (a .git file, an unreadable directory) says yes, and git
 * decides with the repository's real settings.
 */
static int
gc_may_have_work(const char *cwd)
{
    char loose[HUB_MAX_PATH], packs[HUB_MAX_PATH];
    int n1 = snprintf(loose, sizeof loose, "%s/.git/objects/17", cwd);
    int n2 = snprintf(packs, sizeof packs, "%s/.git/objects/pack", cwd);
    int nloose, npacks;

    if (n1 < 0 || (size_t)n1 >= sizeof loose || n2 < 0 || (size_t)n2 >= sizeof packs)
        return 1;
    nloose = count_entries(loose, "", GC_LOOSE_IN_17);
    npacks = count_entries(packs, ".pack", GC_PACK_LIMIT);
    if (npacks < 0)
        return 1;
    return nloose > GC_LOOSE_IN_17 || npacks > GC_PACK_LIMIT;
}

void
gitops_git_maintenance(const struct gitops_git *g)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    /* Inline, not detached: a detached gc would outlive the unit's run. */
    const char *const args[] = { "-c", "gc.autoDetach=false", "gc", "--auto", "--quiet", NULL };

    if (!gc_may_have_work(g->cwd))
        return;
    if (gitops_git_run(g, "gitops_gc_failed", 1, args, &res) != 0)
        hub_log(HUB_LOG_WARN, "gitops_gc_failed", HUB_STR("cwd", g->cwd),
                HUB_STR("output", hub_buf_str(&res.output)));
    hub_child_result_release(&res);
}

int
gitops_refname_part_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 200 || s[0] == '-' || s[0] == '.' || s[0] == '/' || s[n - 1] == '/' ||
        s[n - 1] == '.')
        return 0;
    if (strstr(s, "..") != NULL || strstr(s, "//") != NULL || strstr(s, "@{") != NULL ||
        strstr(s, ".lock") != NULL)
        return 0;
    for (const char *p = s; *p != '\0'; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr(":*?[\\^~", *p) != NULL)
            return 0;
    }
    return 1;
}
