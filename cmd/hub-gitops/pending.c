/*
 * pending.c: STATE_DIR/NAME.pending, a move whose APPLY has not finished.
 *
 * The refs move and APPLY are two steps, and a run can die between them
 * (SIGKILL, power loss, the unit's timeout). Without a record the next run
 * finds HEAD at the remote, calls it a no-op, and the deployed state lags
 * the checkout for good. So sync.c writes this record before the refs move
 * and removes it once APPLY (and the rollback) ran; a run that finds one
 * settles it first (sync.c). That makes APPLY at least once per move.
 *
 * The write must be durable before the move (fileio.h's atomic write
 * fsyncs the file and the directory). The removal is not fsynced on
 * purpose: a removal lost to a power cut brings the record back, and the
 * next run runs APPLY once more, which at least once allows. The record
 * holds the revisions and what a rollback needs; this file only reads and
 * writes it and never decides anything.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fileio.h"
#include "gitops.h"
#include "hub.h"
#include "log.h"
#include "timefmt.h"

static int
pending_path(char *out, size_t outlen, const char *state_dir, const char *name)
{
    return gitops_state_file(out, outlen, state_dir, name, ".pending");
}

static cJSON *
pending_json(const char *name, const struct gitops_pending *p)
{
    char when[HUB_TIME_RFC3339_LEN];
    cJSON *o = cJSON_CreateObject();

    if (o == NULL || hub_time_rfc3339_ms(hub_time_now_ns(), when, sizeof when) != 0) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddStringToObject(o, "repo", name);
    cJSON_AddStringToObject(o, "time", when);
    cJSON_AddStringToObject(o, "old", p->old_rev);
    cJSON_AddStringToObject(o, "new", p->new_rev);
    cJSON_AddStringToObject(o, "head_ref", p->head_ref);
    cJSON_AddStringToObject(o, "branch_ref", p->branch_ref);
    cJSON_AddStringToObject(o, "branch_old", p->branch_old);
    return o;
}

int
gitops_pending_write(const char *state_dir, const char *name, const struct gitops_pending *p)
{
    char path[HUB_MAX_PATH];
    cJSON *o = pending_json(name, p);
    int rc = 0;

    if (pending_path(path, sizeof path, state_dir, name) != 0)
        rc = hub_fail(EX_CONFIG, "gitops_pending_write_failed", HUB_STR("repo", name),
                      HUB_STR("error", "path too long"));
    else if (gitops_json_write(path, o, 0600) != 0)
        rc = hub_fail(EX_CONFIG, "gitops_pending_write_failed", HUB_STR("file", path),
                      HUB_STR("error", strerror(errno)),
                      HUB_STR("fix", "make the state directory writable (and not full)"));
    cJSON_Delete(o);
    return rc;
}

/* "refs/heads/X" with X a valid branch name. */
static int
branch_ref_valid(const char *ref)
{
    return strncmp(ref, "refs/heads/", 11) == 0 && gitops_refname_part_valid(ref + 11);
}

int
gitops_pending_parse(const char *text, size_t len, const char *name, struct gitops_pending *p)
{
    cJSON *o = cJSON_ParseWithLength(text, len);
    char repo[HUB_REPO_NAME_MAX + 1];
    int rc = -1;

    memset(p, 0, sizeof *p);
    if (!cJSON_IsObject(o))
        goto out;
    if (gitops_json_string(o, "repo", repo, sizeof repo) != 0 || strcmp(repo, name) != 0 ||
        gitops_json_string(o, "old", p->old_rev, sizeof p->old_rev) != 0 ||
        gitops_json_string(o, "new", p->new_rev, sizeof p->new_rev) != 0 ||
        gitops_json_string(o, "head_ref", p->head_ref, sizeof p->head_ref) != 0 ||
        gitops_json_string(o, "branch_ref", p->branch_ref, sizeof p->branch_ref) != 0 ||
        gitops_json_string(o, "branch_old", p->branch_old, sizeof p->branch_old) != 0)
        goto out;
    if (!gitops_oid_valid(p->old_rev) || !gitops_oid_valid(p->new_rev) ||
        strcmp(p->old_rev, p->new_rev) == 0)
        goto out;
    if (strcmp(p->head_ref, "HEAD") != 0 && !branch_ref_valid(p->head_ref))
        goto out;
    if (!branch_ref_valid(p->branch_ref))
        goto out;
    if (p->branch_old[0] != '\0' && !gitops_oid_valid(p->branch_old))
        goto out;
    rc = 0;
out:
    if (rc != 0)
        memset(p, 0, sizeof *p);
    cJSON_Delete(o);
    return rc;
}

int
gitops_pending_read(const char *state_dir, const char *name, struct gitops_pending *p)
{
    struct hub_buf text = HUB_BUF_INIT(GITOPS_PENDING_FILE_MAX);
    char path[HUB_MAX_PATH];
    int rc = -1;

    memset(p, 0, sizeof *p);
    if (pending_path(path, sizeof path, state_dir, name) != 0) {
        hub_log(HUB_LOG_WARN, "gitops_apply_pending_invalid", HUB_STR("repo", name),
                HUB_STR("error", "path too long"));
        goto out;
    }
    if (hub_file_read(path, GITOPS_PENDING_FILE_MAX, &text) != 0) {
        if (errno == ENOENT)
            rc = 1;
        else
            hub_log(HUB_LOG_WARN, "gitops_apply_pending_invalid", HUB_STR("file", path),
                    HUB_STR("error", strerror(errno)));
        goto out;
    }
    rc = gitops_pending_parse(hub_buf_str(&text), text.len, name, p);
    if (rc != 0)
        hub_log(HUB_LOG_WARN, "gitops_apply_pending_invalid", HUB_STR("file", path),
                HUB_STR("error", "not a pending-APPLY record for this repository"),
                HUB_STR("fix", "check the deployed state; run APPLY by hand if it lags"));
out:
    hub_buf_release(&text);
    return rc;
}

void
gitops_pending_remove(const char *state_dir, const char *name)
{
    char path[HUB_MAX_PATH];

    if (pending_path(path, sizeof path, state_dir, name) != 0)
        return;                 /* then it could not have been written either */
    if (unlink(path) != 0 && errno != ENOENT)
        hub_log(HUB_LOG_WARN, "gitops_pending_remove_failed", HUB_STR("file", path),
                HUB_STR("error", strerror(errno)),
                HUB_STR("effect", "the next run runs APPLY for this move again"));
}
