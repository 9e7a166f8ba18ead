/*
 * handover.c: giving a trigger to hub-gitops, per repository at most one
 * running and one waiting.
 *
 * File mode (the systemd unit): DIR/NAME.json is replaced atomically, so a
 * trigger that arrives before hub-gitops consumed the previous one simply
 * replaces it: one waiting, always the latest. Exec mode (--exec): one
 * thread per repository at a time runs the command through hub_child with
 * the JSON line on stdin; triggers arriving meanwhile overwrite the slot's
 * single pending one, which the thread runs next. Either way a burst of
 * pushes costs at most two syncs and the last `after` is always synced.
 *
 * NAME always comes from repos.d (the slot table is built from the
 * allowlist at start), never from a request; the command is operator
 * configuration split on spaces, never a shell string.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "child.h"
#include "fileio.h"
#include "hub.h"
#include "log.h"
#include "webhook.h"

#define MAX_EXEC_WORDS 32

int
webhook_trigger_json(const struct webhook_trigger *t, struct hub_buf *out)
{
    cJSON *o = cJSON_CreateObject();
    char *text;
    int rc = -1;

    if (o == NULL)
        return -1;
    if (cJSON_AddStringToObject(o, "repo", t->repo) != NULL &&
        cJSON_AddStringToObject(o, "ref", t->ref) != NULL &&
        cJSON_AddStringToObject(o, "after", t->after) != NULL &&
        cJSON_AddStringToObject(o, "delivery", t->delivery) != NULL &&
        cJSON_AddStringToObject(o, "event", t->event) != NULL &&
        cJSON_AddStringToObject(o, "traceparent", t->traceparent) != NULL) {
        text = cJSON_PrintUnformatted(o);
        if (text != NULL && hub_buf_appends(out, text) == HUB_BUF_OK &&
            hub_buf_appendc(out, '\n') == HUB_BUF_OK)
            rc = 0;
        free(text);
    }
    cJSON_Delete(o);
    return rc;
}

static void
free_argv(char **argv)
{
    if (argv == NULL)
        return;
    for (size_t i = 0; argv[i] != NULL; i++)
        free(argv[i]);
    free(argv);
}

/* "hub-gitops sync --event -" -> { "hub-gitops", "sync", "--event", "-", NAME, NULL }
 * with the NAME slot left NULL for the run to fill. */
static int
split_exec(struct webhook_handover *h, const char *cmd)
{
    char **argv = calloc(MAX_EXEC_WORDS + 2, sizeof *argv);
    size_t n = 0;
    const char *p = cmd;

    if (argv == NULL)
        return -1;
    while (*p != '\0') {
        size_t len;

        while (*p == ' ')
            p++;
        len = strcspn(p, " ");
        if (len == 0)
            break;
        if (n == MAX_EXEC_WORDS || (argv[n] = strndup(p, len)) == NULL) {
            free_argv(argv);
            return -1;
        }
        n++;
        p += len;
    }
    if (n == 0) {
        free(argv);
        return -1;
    }
    h->exec_argv = argv;
    h->exec_argc = n;
    return 0;
}

static int
prepare_trigger_dir(const char *dir)
{
    if (hub_mkdir_p(dir, 0755) != 0 || access(dir, W_OK) != 0)
        return hub_fail(EX_CONFIG, "trigger_dir_unwritable", HUB_STR("dir", dir),
                        HUB_STR("error", strerror(errno)),
                        HUB_STR("fix", "create it writable for this user, or set "
                                       "HUB_TRIGGER_DIR (or use --exec)"));
    return 0;
}

int
webhook_handover_init(struct webhook_handover *h, const char *trigger_dir, const char *exec,
                      unsigned exec_timeout_s, const struct hub_repo_list *repos,
                      webhook_handover_done_fn done, void *done_arg)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->idle, NULL);
    h->trigger_dir = trigger_dir;
    h->exec_timeout_s = exec_timeout_s;
    h->done = done;
    h->done_arg = done_arg;
    h->slots = calloc(repos->n > 0 ? repos->n : 1, sizeof *h->slots);
    if (h->slots == NULL)
        return hub_fail(EX_OSERR, "handover_init_failed", HUB_STR("error", "out of memory"));
    for (size_t i = 0; i < repos->n; i++) {
        h->slots[i].h = h;
        memcpy(h->slots[i].repo, repos->items[i].name, sizeof h->slots[i].repo);
    }
    h->nslots = repos->n;
    if (exec != NULL && *exec != '\0')
        return split_exec(h, exec) == 0 ? 0
               : hub_fail(EX_CONFIG, "exec_invalid", HUB_STR("exec", exec),
                          HUB_STR("problem", "empty or more than 32 words"));
    return prepare_trigger_dir(trigger_dir);
}

static struct webhook_slot *
find_slot(struct webhook_handover *h, const char *repo)
{
    for (size_t i = 0; i < h->nslots; i++) {
        if (strcmp(h->slots[i].repo, repo) == 0)
            return &h->slots[i];
    }
    return NULL;
}

/* ---- file mode -------------------------------------------------------- */

static enum webhook_trigger_result
write_trigger_file(struct webhook_handover *h, const struct webhook_trigger *t)
{
    struct hub_buf path = HUB_BUF_INIT(HUB_MAX_PATH);
    struct hub_buf line = HUB_BUF_INIT(HUB_MAX_TRIGGER);
    enum webhook_trigger_result r = WEBHOOK_TRIG_FAILED;
    struct stat st;

    if (hub_buf_appendf(&path, "%s/%s.json", h->trigger_dir, t->repo) != HUB_BUF_OK ||
        webhook_trigger_json(t, &line) != 0) {
        hub_log(HUB_LOG_ERROR, "trigger_failed", HUB_STR("repo", t->repo),
                HUB_STR("error", "trigger path or line too long"));
        goto out;
    }
    /* The lock orders concurrent writers, so the file left in place is the
     * latest trigger received. */
    pthread_mutex_lock(&h->mu);
    r = stat(path.data, &st) == 0 ? WEBHOOK_TRIG_COALESCED : WEBHOOK_TRIG_HANDED_OVER;
    if (hub_file_write_atomic(path.data, line.data, line.len, 0644) != 0) {
        hub_log(HUB_LOG_ERROR, "trigger_failed", HUB_STR("repo", t->repo),
                HUB_STR("path", path.data), HUB_STR("error", strerror(errno)));
        r = WEBHOOK_TRIG_FAILED;
    }
    pthread_mutex_unlock(&h->mu);
out:
    hub_buf_release(&path);
    hub_buf_release(&line);
    return r;
}

/* ---- exec mode ------------------------------------------------------------ */

static int
run_exec(struct webhook_handover *h, const struct webhook_trigger *t)
{
    struct hub_buf line = HUB_BUF_INIT(HUB_MAX_TRIGGER);
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    const char *argv[MAX_EXEC_WORDS + 2];
    struct hub_child spec = { 0 };
    int ok = 0;

    for (size_t i = 0; i < h->exec_argc; i++)
        argv[i] = h->exec_argv[i];
    argv[h->exec_argc] = t->repo;
    argv[h->exec_argc + 1] = NULL;
    spec.argv = argv;
    spec.timeout_ms = h->exec_timeout_s * 1000u;
    if (webhook_trigger_json(t, &line) != 0)
        goto out;
    spec.input = line.data;
    spec.input_len = line.len;
    if (hub_child_run(&spec, &res) != 0) {
        hub_log(HUB_LOG_ERROR, "trigger_exec_failed", HUB_STR("repo", t->repo),
                HUB_STR("command", argv[0]), HUB_STR("error", "could not start"));
        goto out;
    }
    ok = hub_child_ok(&res);
    hub_child_log(ok ? HUB_LOG_INFO : HUB_LOG_ERROR, ok ? "trigger_exec_done" : "trigger_exec_failed",
                  &spec, &res);
out:
    hub_child_result_release(&res);
    hub_buf_release(&line);
    return ok;
}

static void *
slot_main(void *arg)
{
    struct webhook_slot *slot = arg;
    struct webhook_handover *h = slot->h;

    pthread_mutex_lock(&h->mu);
    while (slot->has_pending) {
        struct webhook_trigger cur = slot->pending;
        int ok;

        slot->has_pending = 0;
        pthread_mutex_unlock(&h->mu);
        ok = run_exec(h, &cur);
        if (h->done != NULL)
            h->done(h->done_arg, &cur, ok);
        pthread_mutex_lock(&h->mu);
    }
    slot->running = 0;
    pthread_cond_broadcast(&h->idle);
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static enum webhook_trigger_result
queue_exec(struct webhook_handover *h, const struct webhook_trigger *t)
{
    enum webhook_trigger_result r = WEBHOOK_TRIG_HANDED_OVER;
    struct webhook_slot *slot;
    int err = 0;

    pthread_mutex_lock(&h->mu);
    slot = find_slot(h, t->repo);
    if (slot == NULL) {
        pthread_mutex_unlock(&h->mu);
        hub_log(HUB_LOG_ERROR, "trigger_failed", HUB_STR("repo", t->repo),
                HUB_STR("error", "repository not in the allowlist loaded at start"));
        return WEBHOOK_TRIG_FAILED;
    }
    if (slot->has_pending)
        r = WEBHOOK_TRIG_COALESCED;
    slot->pending = *t;
    slot->has_pending = 1;
    if (!slot->running) {
        /* The previous thread set running = 0 as its last locked act, so
         * joining it here cannot wait for more than its return. */
        if (slot->joinable)
            pthread_join(slot->thread, NULL);
        slot->joinable = 0;
        err = pthread_create(&slot->thread, NULL, slot_main, slot);
        if (err == 0) {
            slot->running = 1;
            slot->joinable = 1;
        } else {
            slot->has_pending = 0;
            r = WEBHOOK_TRIG_FAILED;
        }
    }
    pthread_mutex_unlock(&h->mu);
    if (err != 0)
        hub_log(HUB_LOG_ERROR, "trigger_failed", HUB_STR("repo", t->repo),
                HUB_STR("error", strerror(err)));
    return r;
}

enum webhook_trigger_result
webhook_handover_submit(struct webhook_handover *h, const struct webhook_trigger *t)
{
    if (h->exec_argv != NULL)
        return queue_exec(h, t);
    return write_trigger_file(h, t);
}

int
webhook_handover_busy(struct webhook_handover *h)
{
    int busy = 0;

    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->nslots && !busy; i++)
        busy = h->slots[i].running || h->slots[i].has_pending;
    pthread_mutex_unlock(&h->mu);
    return busy;
}

void
webhook_handover_release(struct webhook_handover *h)
{
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->nslots; i++) {
        while (h->slots[i].running)
            pthread_cond_wait(&h->idle, &h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    for (size_t i = 0; i < h->nslots; i++) {
        if (h->slots[i].joinable)
            pthread_join(h->slots[i].thread, NULL);
    }
    free(h->slots);
    free_argv(h->exec_argv);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->idle);
    memset(h, 0, sizeof *h);
}
