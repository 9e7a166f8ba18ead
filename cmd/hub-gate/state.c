/*
 * state.c: the gate's streaks across timer runs, in DIR/gate.state (DIR is
 * --state-dir or $STATE_DIRECTORY). The file is small JSON, replaced
 * atomically, so a run killed half-way leaves the old state. A state that
 * cannot be read starts over from "closed": the gate then needs a full rise
 * streak again, which is the fail-closed direction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fileio.h"
#include "gate.h"
#include "hub.h"
#include "log.h"

#define STATE_FILE "gate.state"
#define STATE_MAX 4096u

static int
state_path(const char *dir, struct hub_buf *path)
{
    return hub_buf_appendf(path, "%s/%s", dir, STATE_FILE) == HUB_BUF_OK ? 0 : -1;
}

char *
gate_state_format(const struct gate_state *st)
{
    struct hub_buf b = HUB_BUF_INIT(STATE_MAX);

    if (hub_buf_appendf(&b, "{\"healthy_streak\":%llu,\"failed_streak\":%llu,\"wanted\":\"%s\"}\n",
                        st->healthy_streak, st->failed_streak,
                        st->want_open ? "open" : "closed") != HUB_BUF_OK)
        return NULL;
    return hub_buf_take(&b);
}

/* A whole non-negative number that a double holds exactly. */
static int
count_field(const cJSON *obj, const char *key, unsigned long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != (double)(unsigned long long)v->valuedouble)
        return -1;
    *out = (unsigned long long)v->valuedouble;
    return 0;
}

int
gate_state_parse(const char *text, struct gate_state *st)
{
    struct gate_state parsed = GATE_STATE_INIT;
    cJSON *root = cJSON_Parse(text);
    const cJSON *wanted;
    int rc = -1;

    if (!cJSON_IsObject(root))
        goto out;
    if (count_field(root, "healthy_streak", &parsed.healthy_streak) != 0 ||
        count_field(root, "failed_streak", &parsed.failed_streak) != 0)
        goto out;
    wanted = cJSON_GetObjectItemCaseSensitive(root, "wanted");
    if (!cJSON_IsString(wanted))
        goto out;
    if (strcmp(wanted->valuestring, "open") == 0)
        parsed.want_open = 1;
    else if (strcmp(wanted->valuestring, "closed") != 0)
        goto out;
    *st = parsed;
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int
gate_state_load(const char *dir, struct gate_state *st)
{
    struct hub_buf path = HUB_BUF_INIT(HUB_MAX_PATH);
    struct hub_buf text = HUB_BUF_INIT(STATE_MAX);
    int rc = EX_CONFIG;

    *st = (struct gate_state)GATE_STATE_INIT;
    if (dir == NULL || dir[0] == '\0') {
        hub_log(HUB_LOG_ERROR, "state_dir_missing",
                HUB_STR("error", "no state directory: set --state-dir or HUB_GATE_STATE_DIR, "
                                 "or run under systemd with StateDirectory="));
        goto out;
    }
    if (state_path(dir, &path) != 0) {
        hub_log(HUB_LOG_ERROR, "state_path_too_long", HUB_STR("dir", dir));
        goto out;
    }
    rc = 0;
    if (hub_file_read(hub_buf_str(&path), STATE_MAX, &text) != 0) {
        if (errno != ENOENT)
            hub_log(HUB_LOG_WARN, "state_unreadable", HUB_STR("path", hub_buf_str(&path)),
                    HUB_STR("error", strerror(errno)), HUB_STR("using", "closed, no streak"));
        goto out;
    }
    if (gate_state_parse(hub_buf_str(&text), st) != 0) {
        *st = (struct gate_state)GATE_STATE_INIT;
        hub_log(HUB_LOG_WARN, "state_invalid", HUB_STR("path", hub_buf_str(&path)),
                HUB_STR("using", "closed, no streak"));
    }
out:
    hub_buf_release(&path);
    hub_buf_release(&text);
    return rc;
}

int
gate_state_save(const char *dir, const struct gate_state *st)
{
    struct hub_buf path = HUB_BUF_INIT(HUB_MAX_PATH);
    char *text = gate_state_format(st);
    int rc = EX_TEMPFAIL;

    if (text == NULL || state_path(dir, &path) != 0) {
        hub_log(HUB_LOG_ERROR, "state_save_failed", HUB_STR("dir", dir),
                HUB_STR("error", "out of memory or path too long"));
        goto out;
    }
    if (hub_file_write_atomic(hub_buf_str(&path), text, strlen(text), 0644) != 0) {
        hub_log(HUB_LOG_ERROR, "state_save_failed", HUB_STR("path", hub_buf_str(&path)),
                HUB_STR("error", strerror(errno)));
        goto out;
    }
    rc = 0;
out:
    free(text);
    hub_buf_release(&path);
    return rc;
}
