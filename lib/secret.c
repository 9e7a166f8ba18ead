/*
 * secret.c: the secret lookup chain (see secret.h) over the local sources.
 * The OpenBao step is passed in as a function (bao.c passes hub_bao_get), so
 * that this file, and a program that uses only hub_secret_get_local(),
 * never links libcurl. Every buffer that held a secret is wiped before it is
 * freed; messages name the secret, never its value.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fileio.h"
#include "hub.h"
#include "log.h"
#include "secret.h"

#define MAX_NAME 64

void
hub_secret_wipe(struct hub_buf *b)
{
    if (b->data != NULL)
        explicit_bzero(b->data, b->cap);
    hub_buf_release(b);
}

/* "github_webhook_secret" -> "HUB_GITHUB_WEBHOOK_SECRET" + suffix */
static int
env_name(const char *name, const char *suffix, char *out, size_t outlen)
{
    size_t n = 0;

    if (strlen(name) + strlen(suffix) + 5 > outlen)
        return -1;
    memcpy(out, "HUB_", 4);
    n = 4;
    for (const char *p = name; *p != '\0'; p++)
        out[n++] = (char)toupper((unsigned char)*p);
    memcpy(out + n, suffix, strlen(suffix) + 1);
    return 0;
}

static int
name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > MAX_NAME)
        return 0;
    for (const char *p = name; *p != '\0'; p++) {
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
            return 0;
    }
    return 1;
}

static void
strip_newline(struct hub_buf *b, size_t start)
{
    if (b->len > start && b->data[b->len - 1] == '\n')
        hub_buf_truncate(b, b->len - 1);
    if (b->len > start && b->data[b->len - 1] == '\r')
        hub_buf_truncate(b, b->len - 1);
}

/* Read a secret file; ENOENT is "not here" only when optional. */
static int
from_file(const char *name, const char *path, int optional, struct hub_buf *out, int *found)
{
    struct hub_buf v = HUB_BUF_INIT(HUB_MAX_SECRET);

    *found = 0;
    if (hub_file_read(path, HUB_MAX_SECRET, &v) != 0) {
        int err = errno;

        hub_secret_wipe(&v);
        if (optional && err == ENOENT)
            return 0;
        return hub_fail(EX_CONFIG, "secret_unreadable", HUB_STR("secret", name),
                        HUB_STR("path", path), HUB_STR("error", strerror(err)));
    }
    strip_newline(&v, 0);
    if (v.len > 0 && hub_buf_append(out, v.data, v.len) != HUB_BUF_OK) {
        hub_secret_wipe(&v);
        return hub_fail(EX_CONFIG, "secret_too_large", HUB_STR("secret", name));
    }
    *found = v.len > 0;
    hub_secret_wipe(&v);
    return 0;
}

static int
from_credentials(const char *name, struct hub_buf *out, int *found)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    struct hub_buf path = HUB_BUF_INIT(HUB_MAX_PATH);
    int rc;

    *found = 0;
    if (dir == NULL || *dir == '\0')
        return 0;
    if (hub_buf_appendf(&path, "%s/%s", dir, name) != HUB_BUF_OK)
        return hub_fail(EX_CONFIG, "secret_path_too_long", HUB_STR("secret", name));
    rc = from_file(name, path.data, 1, out, found);
    hub_buf_release(&path);
    return rc;
}

static int
from_named_file(const char *name, struct hub_buf *out, int *found)
{
    char var[MAX_NAME + 16];
    const char *path;

    *found = 0;
    if (env_name(name, "_FILE", var, sizeof var) != 0)
        return EX_CONFIG;
    path = getenv(var);
    if (path == NULL || *path == '\0')
        return 0;
    return from_file(name, path, 0, out, found);
}

static int
from_env(const char *name, struct hub_buf *out, int *found)
{
    char var[MAX_NAME + 16];
    const char *v;

    *found = 0;
    if (env_name(name, "", var, sizeof var) != 0)
        return EX_CONFIG;
    v = getenv(var);
    if (v == NULL || *v == '\0')
        return 0;
    if (hub_buf_appends(out, v) != HUB_BUF_OK)
        return hub_fail(EX_CONFIG, "secret_too_large", HUB_STR("secret", name));
    *found = 1;
    return 0;
}

/* Shared by both entry points: remote is the OpenBao step or NULL. */
int
hub_secret_lookup(const char *name, struct hub_buf *out, const char **source,
                  int (*remote)(const char *, struct hub_buf *, int *))
{
    const char *addr = getenv("HUB_BAO_ADDR");
    int found = 0, rc;

    *source = NULL;
    if (!name_valid(name))
        return hub_fail(EX_CONFIG, "secret_name_invalid", HUB_STR("secret", name));
    rc = from_credentials(name, out, &found);
    if (rc != 0 || found) {
        *source = found ? "credential" : NULL;
        return rc;
    }
    rc = from_named_file(name, out, &found);
    if (rc != 0 || found) {
        *source = found ? "file" : NULL;
        return rc;
    }
    /* The token that unlocks OpenBao cannot itself come from OpenBao. */
    if (remote != NULL && strcmp(name, "bao_token") != 0 && addr != NULL && *addr != '\0') {
        rc = remote(name, out, &found);
        if (rc != 0 || found) {
            *source = found ? "openbao" : NULL;
            return rc;
        }
    }
    rc = from_env(name, out, &found);
    *source = found ? "env" : NULL;
    return rc;
}

int
hub_secret_get_local(const char *name, struct hub_buf *out, const char **source)
{
    return hub_secret_lookup(name, out, source, NULL);
}
