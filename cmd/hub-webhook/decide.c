/*
 * decide.c: what a verified delivery means, as a pure function of the
 * event name, the payload and the allowlist. It never does I/O, never logs
 * and never keeps a pointer into the payload: everything it hands back is
 * copied into fixed fields after a length check, or is a static reason.
 * The tree is parsed into a json_arena and never outlives the call.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "webhook.h"

static const char *
str_at(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
copy_str(char *dst, size_t dstlen, const char *src)
{
    size_t n;

    if (src == NULL)
        return -1;
    n = strlen(src);
    if (n >= dstlen)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/* A commit id: 40 (SHA-1) or 64 (SHA-256) lower-case hex digits. */
static int
commit_id_valid(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;

    return (n == 40 || n == 64) && strspn(s, "0123456789abcdef") == n;
}

static int
all_zeros(const char *s)
{
    return s[0] != '\0' && strspn(s, "0") == strlen(s);
}

static void
verdict(struct webhook_decision *out, enum webhook_action action, const char *reason)
{
    out->action = action;
    out->reason = reason;
}

static int
ref_is_branch(const char *ref, const char *branch)
{
    return strncmp(ref, "refs/heads/", 11) == 0 && strcmp(ref + 11, branch) == 0;
}

static void
decide_push(const cJSON *root, struct webhook_decision *out)
{
    const char *branch = out->repo->branch;
    const char *ref = str_at(root, "ref"), *after = str_at(root, "after");

    if (copy_str(out->ref, sizeof out->ref, ref) != 0)
        return verdict(out, WEBHOOK_MALFORMED, "push without a valid ref");
    if (!ref_is_branch(ref, branch))
        return verdict(out, WEBHOOK_IGNORE, "branch not tracked");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "deleted")) ||
        (after != NULL && all_zeros(after)))
        return verdict(out, WEBHOOK_IGNORE, "branch deleted");
    if (!commit_id_valid(after) || copy_str(out->after, sizeof out->after, after) != 0)
        return verdict(out, WEBHOOK_MALFORMED, "push without a valid after commit");
    verdict(out, WEBHOOK_TRIGGER, NULL);
}

static void
decide_pull_request(const cJSON *root, struct webhook_decision *out)
{
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(root, "pull_request");
    const char *action = str_at(root, "action"), *base, *merge_sha;
    int n;

    if (action == NULL || !cJSON_IsObject(pr))
        return verdict(out, WEBHOOK_MALFORMED, "pull_request without action or pull_request");
    if (strcmp(action, "closed") != 0)
        return verdict(out, WEBHOOK_IGNORE, "pull request not closed");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pr, "merged")))
        return verdict(out, WEBHOOK_IGNORE, "pull request closed without merge");
    base = str_at(cJSON_GetObjectItemCaseSensitive(pr, "base"), "ref");
    if (base == NULL)
        return verdict(out, WEBHOOK_MALFORMED, "pull_request without base.ref");
    if (strcmp(base, out->repo->branch) != 0)
        return verdict(out, WEBHOOK_IGNORE, "base branch not tracked");
    merge_sha = str_at(pr, "merge_commit_sha");
    if (!commit_id_valid(merge_sha) || copy_str(out->after, sizeof out->after, merge_sha) != 0)
        return verdict(out, WEBHOOK_MALFORMED, "merged pull request without merge_commit_sha");
    n = snprintf(out->ref, sizeof out->ref, "refs/heads/%s", base);
    if (n < 0 || (size_t)n >= sizeof out->ref)
        return verdict(out, WEBHOOK_MALFORMED, "base.ref too long");
    verdict(out, WEBHOOK_TRIGGER, NULL);
}

static void
decide_parsed(const char *event, const cJSON *root, const struct hub_repo_list *repos,
              struct webhook_decision *out)
{
    const cJSON *repo_obj = cJSON_GetObjectItemCaseSensitive(root, "repository");
    int is_push = strcmp(event, "push") == 0;

    if (!cJSON_IsObject(root))
        return verdict(out, WEBHOOK_MALFORMED, "payload is not a JSON object");
    if (strcmp(event, "ping") == 0) {
        if (copy_str(out->zen, sizeof out->zen, str_at(root, "zen")) != 0)
            out->zen[0] = '\0';
        return verdict(out, WEBHOOK_PING, NULL);
    }
    if (!is_push && strcmp(event, "pull_request") != 0)
        return verdict(out, WEBHOOK_IGNORE, "event not handled");
    if (copy_str(out->full_name, sizeof out->full_name, str_at(repo_obj, "full_name")) != 0)
        return verdict(out, WEBHOOK_MALFORMED, "payload without repository.full_name");
    out->repo = hub_repos_find_github(repos, out->full_name);
    if (out->repo == NULL)
        return verdict(out, WEBHOOK_IGNORE, "repository not allowlisted");
    if (is_push)
        decide_push(root, out);
    else
        decide_pull_request(root, out);
}

/* Strict: one JSON value and nothing after it but white space
 * ("{...}junk" is malformed). NULL when invalid. */
static cJSON *
parse_strict(const char *json, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);

    while (root != NULL && end < json + len && strchr(" \t\r\n", *end) != NULL && *end != '\0')
        end++;
    if (root != NULL && end != json + len)
        return NULL;            /* the arena takes the tree back */
    return root;
}

void
webhook_decide(const char *event, const char *json, size_t len,
               const struct hub_repo_list *repos, struct webhook_decision *out)
{
    /* The parse tree lives in an arena (json_arena.c). cJSON needs about
     * 2.8 bytes of tree a byte of GitHub's JSON, so a payload up to some
     * 23 KB (a push, a pull request) fits this first block on the stack
     * and is parsed without a malloc; a bigger one continues in a few
     * malloc'd chunks. Nothing here logs, as the arena requires, and
     * everything kept is copied out of the tree before the end. */
    alignas(max_align_t) unsigned char first[WEBHOOK_PARSE_STACK];
    struct webhook_arena arena;
    cJSON *root;

    memset(out, 0, sizeof *out);
    webhook_arena_begin(&arena, first, sizeof first);
    root = parse_strict(json, len);
    if (root == NULL)
        verdict(out, WEBHOOK_MALFORMED, "payload is not valid JSON");
    else
        decide_parsed(event != NULL ? event : "", root, repos, out);
    webhook_arena_end(&arena);      /* frees the whole tree */
}
