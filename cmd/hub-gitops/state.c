/*
 * state.c: STATE_DIR/NAME.json, the last run's outcome for `status`, and
 * the JSON-file helpers it shares with pending.c (NAME.pending).
 *
 * Replaced atomically (fileio.h) after every run that took the lock, so a
 * reader sees the previous record or the new one. It is a convenience for
 * people: losing it loses no work, so a failed write only warns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fileio.h"
#include "gitops.h"
#include "hub.h"
#include "log.h"
#include "timefmt.h"

int
gitops_state_file(char *out, size_t outlen, const char *state_dir, const char *name,
                  const char *ext)
{
    int n = snprintf(out, outlen, "%s/%s%s", state_dir, name, ext);

    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int
gitops_json_write(const char *path, const cJSON *o, mode_t mode)
{
    char *text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
    int rc;

    if (text == NULL) {
        errno = ENOMEM;
        return -1;
    }
    rc = hub_file_write_atomic(path, text, strlen(text), mode);
    free(text);
    return rc;
}

int
gitops_json_string(const cJSON *o, const char *key, char *out, size_t outlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsString(v) || strlen(v->valuestring) >= outlen)
        return -1;
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

static cJSON *
state_json(const struct gitops_run *run)
{
    char when[HUB_TIME_RFC3339_LEN];
    cJSON *o = cJSON_CreateObject();

    if (o == NULL || hub_time_rfc3339_ms(run->started_ns, when, sizeof when) != 0) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddStringToObject(o, "repo", run->repo->name);
    cJSON_AddStringToObject(o, "time", when);
    cJSON_AddStringToObject(o, "outcome", gitops_outcome_name(run->outcome));
    cJSON_AddNumberToObject(o, "exit_code", gitops_outcome_exit(run->outcome));
    cJSON_AddStringToObject(o, "old", run->old_rev);
    cJSON_AddStringToObject(o, "new", run->new_rev);
    cJSON_AddNumberToObject(o, "commits", (double)run->commits);
    cJSON_AddNumberToObject(o, "duration_ms", (double)run->duration_ms);
    if (run->apply_exit >= 0)
        cJSON_AddNumberToObject(o, "apply_exit_code", run->apply_exit);
    if (run->backup_ref[0] != '\0')
        cJSON_AddStringToObject(o, "backup", run->backup_ref);
    if (run->error[0] != '\0')
        cJSON_AddStringToObject(o, "error", run->error);
    return o;
}

int
gitops_state_write(const char *state_dir, const struct gitops_run *run)
{
    char path[HUB_MAX_PATH];
    cJSON *o = state_json(run);
    int rc = 0;

    if (gitops_state_file(path, sizeof path, state_dir, run->repo->name, ".json") != 0) {
        hub_log(HUB_LOG_WARN, "gitops_state_write_failed", HUB_STR("repo", run->repo->name),
                HUB_STR("error", "path too long"));
        rc = -1;
    } else if (gitops_json_write(path, o, 0644) != 0) {
        hub_log(HUB_LOG_WARN, "gitops_state_write_failed", HUB_STR("file", path),
                HUB_STR("error", strerror(errno)));
        rc = -1;
    }
    cJSON_Delete(o);
    return rc;
}

void
gitops_state_read(const char *state_dir, const char *name, struct gitops_last *out)
{
    struct hub_buf text = HUB_BUF_INIT(GITOPS_STATE_FILE_MAX);
    char path[HUB_MAX_PATH];
    cJSON *o = NULL;
    const cJSON *code;

    memset(out, 0, sizeof *out);
    if (gitops_state_file(path, sizeof path, state_dir, name, ".json") != 0 ||
        hub_file_read(path, GITOPS_STATE_FILE_MAX, &text) != 0)
        goto out;
    o = cJSON_ParseWithLength(hub_buf_str(&text), text.len);
    if (o == NULL)
        goto out;
    gitops_json_string(o, "outcome", out->outcome, sizeof out->outcome);
    gitops_json_string(o, "time", out->time, sizeof out->time);
    code = cJSON_GetObjectItemCaseSensitive(o, "exit_code");
    out->exit_code = cJSON_IsNumber(code) ? code->valueint : -1;
    out->found = out->outcome[0] != '\0';
out:
    cJSON_Delete(o);
    hub_buf_release(&text);
}
