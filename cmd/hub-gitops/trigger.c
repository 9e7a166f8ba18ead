/*
 * trigger.c: the hand-over from hub-webhook.
 *
 * A trigger is one JSON line, {"repo":NAME,"ref":"refs/heads/main",
 * "after":SHA,"delivery":GUID,"event":"push","traceparent":"00-..."}, read
 * from stdin (`sync --event -`, hub-webhook's --exec mode) or from
 * DIR/NAME.json (hub-webhook's trigger-directory mode, written by rename).
 * Only "repo" is required. Every field is checked before use; NAME must be
 * a valid repository name and, in a directory, the file's own name.
 *
 * The directory is consumed without losing a trigger: NAME.json is first
 * renamed to NAME.json.taken (a name the scan for *.json never matches),
 * then synced, then the taken file is removed. A newer NAME.json renamed in
 * meanwhile stays and is picked up by the next pass; a .taken file left by
 * a crash is synced on the next run. Other files (temporaries, dot files)
 * are left alone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fileio.h"
#include "gitops.h"
#include "hub.h"
#include "log.h"

#define TAKEN_SUFFIX ".json.taken"
#define MAX_PASSES 1000               /* bounds a directory that never empties */
#define MAX_ENTRIES 4096              /* names read in one pass */

static int
bad_trigger(const char *problem, const char *detail)
{
    return hub_fail(EX_DATAERR, "gitops_trigger_invalid", HUB_STR("problem", problem),
                    HUB_STR("detail", detail));
}

/* An optional string field that must fit and pass check (NULL: any printable). */
static int
get_field(const cJSON *o, const char *key, char *out, size_t outlen, int (*check)(const char *))
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    out[0] = '\0';
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= outlen)
        return bad_trigger("field is not a string or too long", key);
    for (const char *p = v->valuestring; *p != '\0'; p++) {
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return bad_trigger("field holds a control character", key);
    }
    if (check != NULL && *v->valuestring != '\0' && !check(v->valuestring))
        return bad_trigger("field has a bad value", key);
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

static int
ref_valid(const char *s)
{
    return strncmp(s, "refs/", 5) == 0 && gitops_refname_part_valid(s + 5);
}

int
gitops_trigger_parse(const char *text, size_t len, struct gitops_trigger *t)
{
    cJSON *o = cJSON_ParseWithLength(text, len);
    int rc;

    if (o == NULL || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return bad_trigger("not a JSON object", "");
    }
    rc = get_field(o, "repo", t->repo, sizeof t->repo, hub_repo_name_valid);
    if (rc == 0 && t->repo[0] == '\0')
        rc = bad_trigger("repo is missing", "repo");
    if (rc == 0)
        rc = get_field(o, "ref", t->ref, sizeof t->ref, ref_valid);
    if (rc == 0)
        rc = get_field(o, "after", t->after, sizeof t->after, gitops_oid_valid);
    if (rc == 0)
        rc = get_field(o, "delivery", t->delivery, sizeof t->delivery, NULL);
    if (rc == 0)
        rc = get_field(o, "event", t->event, sizeof t->event, NULL);
    if (rc == 0)
        rc = get_field(o, "traceparent", t->traceparent, sizeof t->traceparent, NULL);
    cJSON_Delete(o);
    return rc;
}

int
gitops_trigger_read(const char *path, struct gitops_trigger *t)
{
    struct hub_buf text = HUB_BUF_INIT(HUB_MAX_TRIGGER);
    int rc;

    if (strcmp(path, "-") == 0)
        rc = hub_file_readat(AT_FDCWD, "/dev/stdin", HUB_MAX_TRIGGER, &text);
    else
        rc = hub_file_read(path, HUB_MAX_TRIGGER, &text);
    /* Missing, unreadable or oversized, the trigger is bad input like a
     * malformed one: 65, which the units never restart on (EX_NOINPUT, 66,
     * is outside the codes hub-gitops documents). */
    if (rc != 0) {
        rc = hub_fail(EX_DATAERR, "gitops_trigger_unreadable", HUB_STR("file", path),
                      HUB_STR("error", strerror(errno)));
        goto out;
    }
    rc = gitops_trigger_parse(hub_buf_str(&text), text.len, t);
out:
    hub_buf_release(&text);
    return rc;
}

/* "NAME.json" -> NAME, "NAME.json.taken" -> NAME (*taken = 1); 0 for other files. */
static int
entry_name(const char *entry, char *name, size_t namelen, int *taken)
{
    size_t n = strlen(entry), s;

    if (entry[0] == '.')
        return 0;
    *taken = n > strlen(TAKEN_SUFFIX) && strcmp(entry + n - strlen(TAKEN_SUFFIX), TAKEN_SUFFIX) == 0;
    s = *taken ? strlen(TAKEN_SUFFIX) : strlen(".json");
    if (n <= s || n - s >= namelen || (!*taken && strcmp(entry + n - s, ".json") != 0))
        return 0;
    memcpy(name, entry, n - s);
    name[n - s] = '\0';
    return 1;
}

/* Sync what DIR/NAME.json.taken asks for, then remove it. */
static int
consume(struct gitops_ctx *ctx, int dfd, const char *dir, const char *name, const char *taken)
{
    struct gitops_trigger t = GITOPS_TRIGGER_INIT("trigger-dir");
    struct hub_buf text = HUB_BUF_INIT(HUB_MAX_TRIGGER);
    int rc;

    if (!hub_repo_name_valid(name)) {
        rc = bad_trigger("file name is not a repository name", taken);
    } else if (hub_file_readat(dfd, taken, HUB_MAX_TRIGGER, &text) != 0) {
        if (errno == ENOENT)
            return 0;               /* another consumer had it */
        rc = hub_fail(EX_DATAERR, "gitops_trigger_unreadable", HUB_STR("dir", dir),
                      HUB_STR("file", taken), HUB_STR("error", strerror(errno)));
    } else {
        rc = gitops_trigger_parse(hub_buf_str(&text), text.len, &t);
        if (rc == 0 && strcmp(t.repo, name) != 0)
            rc = bad_trigger("repo differs from the file's name", t.repo);
        if (rc == 0)
            rc = gitops_sync_name(ctx, name, &t);
    }
    /* Removed whatever the outcome: the sync ran (or the file can never be
     * good); a failed sync is retried by the next trigger or the timer. */
    if (unlinkat(dfd, taken, 0) != 0 && errno != ENOENT)
        hub_log(HUB_LOG_WARN, "gitops_trigger_unlink_failed", HUB_STR("dir", dir),
                HUB_STR("file", taken), HUB_STR("error", strerror(errno)));
    hub_buf_release(&text);
    return rc;
}

/* One entry: take it (rename) unless it is already taken, then consume it. */
static int
take_entry(struct gitops_ctx *ctx, int dfd, const char *dir, const char *entry, int *found)
{
    char name[HUB_REPO_NAME_MAX + 2], taken[HUB_REPO_NAME_MAX + 32];
    int is_taken = 0, n;

    if (!entry_name(entry, name, sizeof name, &is_taken))
        return 0;
    n = snprintf(taken, sizeof taken, "%s%s", name, TAKEN_SUFFIX);
    if (n < 0 || (size_t)n >= sizeof taken)
        return 0;
    if (!is_taken && renameat(dfd, entry, dfd, taken) != 0) {
        if (errno == ENOENT)
            return 0;               /* another consumer took it */
        return hub_fail(EX_CONFIG, "gitops_trigger_take_failed", HUB_STR("dir", dir),
                        HUB_STR("file", entry), HUB_STR("error", strerror(errno)));
    }
    *found = 1;
    return consume(ctx, dfd, dir, name, taken);
}

struct entries {
    char **names;
    size_t n;
};

static void
entries_release(struct entries *es)
{
    for (size_t i = 0; i < es->n; i++)
        free(es->names[i]);
    free(es->names);
    es->names = NULL;
    es->n = 0;
}

/* The directory's names, read before any is renamed (a rename during
 * readdir may show the new name in the same pass). */
static int
list_dir(int dfd, const char *dir, struct entries *es)
{
    int dup_fd = dup(dfd), rc = 0;
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;

    if (d == NULL) {
        if (dup_fd >= 0)
            close(dup_fd);
        return hub_fail(EX_CONFIG, "gitops_trigger_dir_unreadable", HUB_STR("dir", dir),
                        HUB_STR("error", strerror(errno)));
    }
    rewinddir(d);
    for (struct dirent *e = readdir(d); e != NULL && rc == 0 && es->n < MAX_ENTRIES;
         e = readdir(d)) {
        char **grown, *copy;

        if (e->d_name[0] == '.')
            continue;
        grown = realloc(es->names, (es->n + 1) * sizeof *grown);
        if (grown != NULL)
            es->names = grown;
        copy = grown != NULL ? strdup(e->d_name) : NULL;
        if (copy == NULL) {
            rc = hub_fail(EX_OSERR, "out_of_memory");
            break;
        }
        es->names[es->n++] = copy;
    }
    closedir(d);
    return rc;
}

/* One pass over the directory; *found set when a trigger was consumed. */
static int
one_pass(struct gitops_ctx *ctx, int dfd, const char *dir, int *found)
{
    struct entries es = { NULL, 0 };
    int rc, r;

    rc = list_dir(dfd, dir, &es);
    for (size_t i = 0; i < es.n; i++) {
        r = take_entry(ctx, dfd, dir, es.names[i], found);
        if (r != 0 && rc == 0)
            rc = r;
    }
    entries_release(&es);
    return rc;
}

int
gitops_trigger_dir(struct gitops_ctx *ctx, const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0, r, found = 1;

    if (dfd < 0)
        return hub_fail(EX_CONFIG, "gitops_trigger_dir_unreadable", HUB_STR("dir", dir),
                        HUB_STR("error", strerror(errno)));
    /* Again until a pass finds nothing: triggers that land during a sync
     * (a burst of pushes) are handled before we exit. */
    for (int pass = 0; found && pass < MAX_PASSES; pass++) {
        found = 0;
        r = one_pass(ctx, dfd, dir, &found);
        if (r != 0 && rc == 0)
            rc = r;
    }
    close(dfd);
    return rc;
}
