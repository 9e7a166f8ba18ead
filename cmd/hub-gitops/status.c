/*
 * status.c: `hub-gitops status [--json] [NAME...]`, what each checkout
 * looks like now: HEAD and its branch, the remote branch as last fetched
 * (status never fetches), dirty or clean, ahead/behind, and the last run's
 * outcome and time from the state file.
 *
 * Read-only: no lock is taken and git runs with GIT_OPTIONAL_LOCKS=0, so a
 * status never waits for a sync nor disturbs one. A checkout that cannot
 * be read is reported in its entry ("error"), not as a failed command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "child.h"
#include "gitops.h"
#include "hub.h"
#include "log.h"

struct repo_status {
    char head[GITOPS_OID_MAX + 1];
    char head_ref[GITOPS_REF_MAX];
    char remote[GITOPS_OID_MAX + 1];      /* "" when never fetched */
    int dirty;
    long long ahead, behind;
    int have_counts;
    const char *error;                    /* static text, NULL when fine */
    struct gitops_last last;
};

static int
read_remote(const struct gitops_git *g, const struct hub_repo *r, struct repo_status *st)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    char ref[GITOPS_REF_MAX];
    int n, rc;

    n = snprintf(ref, sizeof ref, "refs/remotes/%s/%s", r->remote, r->branch);
    if (n < 0 || (size_t)n >= sizeof ref)
        return -1;
    const char *const args[] = { "rev-parse", "--quiet", "--verify", ref, NULL };
    rc = gitops_git_run(g, "gitops_rev_parse_failed", 1, args, &res);
    if (rc == 0 && res.output.len > 0 && res.output.len <= GITOPS_OID_MAX + 1) {
        memcpy(st->remote, res.output.data, res.output.len - 1);
        st->remote[res.output.len - 1] = '\0';
        if (!gitops_oid_valid(st->remote))
            st->remote[0] = '\0';
    }
    hub_child_result_release(&res);
    return 0;
}

static int
read_head(const struct gitops_git *g, struct repo_status *st)
{
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    const char *const args[] = { "rev-parse", "HEAD", "--symbolic-full-name", "HEAD", NULL };
    const char *out, *line2;
    size_t n1, n2;
    int rc;

    rc = gitops_git_run(g, "gitops_rev_parse_failed", 0, args, &res);
    out = hub_buf_str(&res.output);
    n1 = strcspn(out, "\n");
    line2 = out[n1] == '\n' ? out + n1 + 1 : "";
    n2 = strcspn(line2, "\n");
    if (rc == 0 && n1 <= GITOPS_OID_MAX && n2 < sizeof st->head_ref) {
        memcpy(st->head, out, n1);
        st->head[n1] = '\0';
        memcpy(st->head_ref, line2, n2);
        st->head_ref[n2] = '\0';
    }
    if (rc == 0 && !gitops_oid_valid(st->head))
        rc = -1;
    hub_child_result_release(&res);
    return rc;
}

static void
inspect(const struct gitops_ctx *ctx, const struct hub_repo *r, struct repo_status *st)
{
    struct gitops_git g = { .cwd = r->checkout,
                            .timeout_ms = (unsigned)ctx->opts->git_timeout_s * 1000u,
                            .read_only = 1 };

    memset(st, 0, sizeof *st);
    gitops_state_read(ctx->state_dir, r->name, &st->last);
    if (read_head(&g, st) != 0) {
        st->error = "checkout missing or not a git repository";
        return;
    }
    read_remote(&g, r, st);
    if (gitops_git_dirty(&g, &st->dirty, NULL, 0) != 0)
        st->error = "git status failed";
    if (st->remote[0] != '\0' &&
        gitops_git_counts(&g, st->head, st->remote, &st->ahead, &st->behind) == 0)
        st->have_counts = 1;
}

static const char *
branch_of(const struct repo_status *st)
{
    if (strncmp(st->head_ref, "refs/heads/", 11) == 0)
        return st->head_ref + 11;
    return st->head[0] != '\0' ? "(detached)" : "";
}

static cJSON *
entry_json(const struct hub_repo *r, const struct repo_status *st)
{
    cJSON *o = cJSON_CreateObject();

    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "repo", r->name);
    cJSON_AddStringToObject(o, "checkout", r->checkout);
    cJSON_AddStringToObject(o, "branch", r->branch);
    cJSON_AddStringToObject(o, "current_branch", branch_of(st));
    cJSON_AddStringToObject(o, "head", st->head);
    cJSON_AddStringToObject(o, "remote_head", st->remote);
    cJSON_AddBoolToObject(o, "dirty", st->dirty);
    if (st->have_counts) {
        cJSON_AddNumberToObject(o, "ahead", (double)st->ahead);
        cJSON_AddNumberToObject(o, "behind", (double)st->behind);
    }
    if (st->last.found) {
        cJSON_AddStringToObject(o, "last_outcome", st->last.outcome);
        cJSON_AddStringToObject(o, "last_time", st->last.time);
        cJSON_AddNumberToObject(o, "last_exit_code", st->last.exit_code);
    }
    if (st->error != NULL)
        cJSON_AddStringToObject(o, "error", st->error);
    return o;
}

static void
print_line(const struct hub_repo *r, const struct repo_status *st)
{
    if (st->error != NULL && st->head[0] == '\0') {
        printf("%-20s error: %s (%s)\n", r->name, st->error, r->checkout);
        return;
    }
    printf("%-20s %s@%.12s remote %.12s %s", r->name, branch_of(st), st->head,
           st->remote[0] ? st->remote : "(never fetched)", st->dirty ? "dirty" : "clean");
    if (st->have_counts)
        printf(" ahead %lld behind %lld", st->ahead, st->behind);
    if (st->last.found)
        printf(" last %s at %s", st->last.outcome, st->last.time);
    printf("\n");
}

static int
load_repos(const struct gitops_ctx *ctx, char **names, int nnames, struct hub_repo_list *list)
{
    int rc;

    if (nnames == 0)
        return hub_repos_load_all(ctx->opts->repos_dir, list);
    list->n = 0;
    list->items = calloc((size_t)nnames, sizeof *list->items);
    if (list->items == NULL)
        return hub_fail(EX_OSERR, "out_of_memory");
    for (int i = 0; i < nnames; i++) {
        rc = hub_repo_load(ctx->opts->repos_dir, names[i], &list->items[list->n]);
        if (rc != 0) {
            hub_repo_list_release(list);
            return rc;
        }
        list->n++;
    }
    return 0;
}

int
gitops_status(struct gitops_ctx *ctx, char **names, int nnames, int json)
{
    struct hub_repo_list list = HUB_REPO_LIST_INIT;
    cJSON *arr = NULL;
    char *text = NULL;
    int rc;

    rc = load_repos(ctx, names, nnames, &list);
    if (rc != 0)
        return rc;
    arr = cJSON_CreateArray();
    for (size_t i = 0; i < list.n && arr != NULL; i++) {
        struct repo_status st;

        inspect(ctx, &list.items[i], &st);
        if (json)
            cJSON_AddItemToArray(arr, entry_json(&list.items[i], &st));
        else
            print_line(&list.items[i], &st);
    }
    if (json) {
        text = arr != NULL ? cJSON_PrintUnformatted(arr) : NULL;
        if (text == NULL)
            rc = hub_fail(EX_OSERR, "out_of_memory");
        else
            printf("%s\n", text);
    }
    free(text);
    cJSON_Delete(arr);
    hub_repo_list_release(&list);
    return fflush(stdout) == 0 ? rc : EX_IOERR;
}
