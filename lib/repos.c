/*
 * repos.c: reading repos.d/NAME.conf files (see repos.h). Owns the strings
 * of each struct hub_repo it fills. Builds paths only from validated names.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "fileio.h"
#include "hub.h"
#include "log.h"
#include "opt.h"
#include "repos.h"

int
hub_repo_name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > HUB_REPO_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 0;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789._-") == n;
}

const char *
hub_repos_dir(const char *dir)
{
    const char *env = getenv("HUB_REPOS_DIR");

    if (dir != NULL && *dir != '\0')
        return dir;
    if (env != NULL && *env != '\0')
        return env;
    return HUB_REPOS_DIR_DEFAULT;
}

void
hub_repo_release(struct hub_repo *r)
{
    free(r->conf_path);
    free(r->checkout);
    free(r->github);
    free(r->remote);
    free(r->branch);
    free(r->apply);
    *r = (struct hub_repo)HUB_REPO_INIT;
}

void
hub_repo_list_release(struct hub_repo_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        hub_repo_release(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

static int
bad(const struct hub_repo *r, const char *problem, const char *detail)
{
    return hub_fail(EX_CONFIG, "repo_config_invalid", HUB_STR("file", r->conf_path),
                    HUB_STR("problem", problem), HUB_STR("detail", detail));
}

static int
set_string(char **slot, const char *value)
{
    char *copy = strdup(value);

    if (copy == NULL)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

static int
set_key(struct hub_repo *r, const char *key, const char *value)
{
    static const char *const string_keys[] = { "CHECKOUT", "GITHUB", "REMOTE", "BRANCH", "APPLY" };
    char **const slots[] = { &r->checkout, &r->github, &r->remote, &r->branch, &r->apply };
    unsigned long long secs;

    for (size_t i = 0; i < sizeof string_keys / sizeof string_keys[0]; i++) {
        if (strcmp(key, string_keys[i]) == 0)
            return set_string(slots[i], value) == 0 ? 0 : bad(r, "out of memory", key);
    }
    if (strcmp(key, "APPLY_TIMEOUT") == 0) {
        if (hub_parse_uint(value, 1, 86400, &secs) != 0)
            return bad(r, "APPLY_TIMEOUT must be seconds from 1 to 86400", value);
        r->apply_timeout_s = (unsigned)secs;
        return 0;
    }
    if (strcmp(key, "ON_DIVERGE") == 0) {
        if (strcmp(value, "refuse") != 0 && strcmp(value, "reset") != 0)
            return bad(r, "ON_DIVERGE must be refuse or reset", value);
        r->on_diverge = strcmp(value, "reset") == 0 ? HUB_DIVERGE_RESET : HUB_DIVERGE_REFUSE;
        return 0;
    }
    if (strcmp(key, "ROLLBACK") == 0) {
        if (hub_parse_bool(value, &r->rollback) != 0)
            return bad(r, "ROLLBACK must be yes or no", value);
        return 0;
    }
    hub_log(HUB_LOG_WARN, "repo_config_unknown_key", HUB_STR("file", r->conf_path),
            HUB_STR("key", key));
    return 0;
}

static char *
trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* One KEY=value line, modified in place. */
static int
parse_line(struct hub_repo *r, char *line)
{
    char *eq, *key, *value;
    size_t vlen;

    line = trim(line);
    if (*line == '\0' || *line == '#' || *line == ';')
        return 0;
    eq = strchr(line, '=');
    if (eq == NULL)
        return bad(r, "line is not KEY=value", line);
    *eq = '\0';
    key = trim(line);
    value = trim(eq + 1);
    vlen = strlen(value);
    if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') && value[vlen - 1] == value[0]) {
        value[vlen - 1] = '\0';
        value++;
    }
    return set_key(r, key, value);
}

static int
parse_text(struct hub_repo *r, char *text)
{
    char *line = text;

    while (line != NULL && *line != '\0') {
        char *next = strchr(line, '\n');
        int rc;

        if (next != NULL)
            *next++ = '\0';
        rc = parse_line(r, line);
        if (rc != 0)
            return rc;
        line = next;
    }
    return 0;
}

static int
apply_defaults(struct hub_repo *r)
{
    if (r->checkout == NULL || r->checkout[0] != '/')
        return bad(r, "CHECKOUT must be set to an absolute path", r->checkout ? r->checkout : "");
    if (r->remote == NULL && set_string(&r->remote, "origin") != 0)
        return bad(r, "out of memory", "REMOTE");
    if (r->branch == NULL && set_string(&r->branch, "main") != 0)
        return bad(r, "out of memory", "BRANCH");
    if (r->branch[0] == '-' || r->remote[0] == '-')
        return bad(r, "BRANCH and REMOTE must not start with '-'", r->branch);
    return 0;
}

int
hub_repo_load(const char *dir, const char *name, struct hub_repo *out)
{
    struct hub_buf path = HUB_BUF_INIT(HUB_MAX_PATH);
    struct hub_buf text = HUB_BUF_INIT(HUB_MAX_CONFIG_FILE);
    int rc = EX_CONFIG;

    *out = (struct hub_repo)HUB_REPO_INIT;
    dir = hub_repos_dir(dir);
    if (!hub_repo_name_valid(name))
        return hub_fail(EX_CONFIG, "repo_name_invalid", HUB_STR("name", name),
                        HUB_STR("fix", "names are [A-Za-z0-9._-]+, the file DIR/NAME.conf"));
    if (hub_buf_appendf(&path, "%s/%s.conf", dir, name) != HUB_BUF_OK)
        return hub_fail(EX_CONFIG, "repo_path_too_long", HUB_STR("name", name));
    memcpy(out->name, name, strlen(name) + 1);
    out->conf_path = hub_buf_take(&path);
    if (hub_file_read(out->conf_path, HUB_MAX_CONFIG_FILE, &text) != 0) {
        rc = hub_fail(EX_CONFIG, errno == ENOENT ? "repo_unknown" : "repo_config_unreadable",
                      HUB_STR("name", name), HUB_STR("file", out->conf_path),
                      HUB_STR("error", strerror(errno)));
        goto out;
    }
    rc = parse_text(out, text.data != NULL ? text.data : (char *)"");
    if (rc == 0)
        rc = apply_defaults(out);
out:
    hub_buf_release(&text);
    if (rc != 0)
        hub_repo_release(out);
    return rc;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct hub_repo *)a)->name, ((const struct hub_repo *)b)->name);
}

/* "NAME.conf" -> NAME in out; 0 when the entry is not a .conf file. */
static int
conf_name(const char *entry, char *out, size_t outlen)
{
    size_t n = strlen(entry);

    if (n <= 5 || strcmp(entry + n - 5, ".conf") != 0 || n - 5 >= outlen)
        return 0;
    memcpy(out, entry, n - 5);
    out[n - 5] = '\0';
    return 1;
}

int
hub_repos_load_all(const char *dir, struct hub_repo_list *out)
{
    DIR *d;
    struct dirent *e;
    int rc = 0;

    *out = (struct hub_repo_list)HUB_REPO_LIST_INIT;
    dir = hub_repos_dir(dir);
    d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : hub_fail(EX_CONFIG, "repos_dir_unreadable",
                                              HUB_STR("dir", dir), HUB_STR("error", strerror(errno)));
    for (e = readdir(d); e != NULL && rc == 0; e = readdir(d)) {
        char name[HUB_REPO_NAME_MAX + 8];
        struct hub_repo *grown;

        if (e->d_name[0] == '.' || !conf_name(e->d_name, name, sizeof name))
            continue;
        grown = realloc(out->items, (out->n + 1) * sizeof *grown);
        if (grown == NULL) {
            rc = hub_fail(EX_OSERR, "out_of_memory");
            break;
        }
        out->items = grown;
        rc = hub_repo_load(dir, name, &out->items[out->n]);
        if (rc == 0)
            out->n++;
    }
    closedir(d);
    if (rc != 0)
        hub_repo_list_release(out);
    else if (out->n > 1)
        qsort(out->items, out->n, sizeof out->items[0], by_name);
    return rc;
}

const struct hub_repo *
hub_repos_find_github(const struct hub_repo_list *list, const char *full_name)
{
    for (size_t i = 0; i < list->n; i++) {
        if (list->items[i].github != NULL && strcasecmp(list->items[i].github, full_name) == 0)
            return &list->items[i];
    }
    return NULL;
}
