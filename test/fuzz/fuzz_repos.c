/*
 * fuzz_repos.c: libFuzzer target over lib/repos.c's reader of
 * repos.d/NAME.conf (systemd EnvironmentFile syntax: KEY=value lines,
 * comments, quotes, CRLF), the allowlist hub-webhook and hub-gitops build
 * from it.
 *
 * Input layout: the input is the file's text, as it is. repos.c reads
 * only files, so the text is written to DIR/fuzz.conf in one temporary
 * directory made at start ($TMPDIR) and removed at exit; each input
 * overwrites it. Logging goes to /dev/null (bad lines are logged).
 * Invariants checked (abort() when broken):
 *   - an accepted file gives CHECKOUT absolute, REMOTE and BRANCH set and
 *     not starting with '-', APPLY_TIMEOUT in 1..86400, ROLLBACK 0 or 1;
 *   - a refused one leaves the struct released (every string NULL);
 *   - hub_repos_load_all agrees with hub_repo_load on the same directory,
 *     and finds the repository by its GITHUB name in any case.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "repos.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz"

/* Set once by LLVMFuzzerInitialize. */
static char dir[256], conf[300];

static void
remove_dir(void)
{
    (void)unlink(conf);
    (void)rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

    if (null >= 0) {
        (void)dup2(null, STDOUT_FILENO);
        (void)close(null);
    }
    hub_log_init("fuzz_repos");
    if (snprintf(dir, sizeof dir, "%s/hub-fuzz-repos.XXXXXX",
                 tmp != NULL && *tmp != '\0' ? tmp : "/tmp") >= (int)sizeof dir ||
        mkdtemp(dir) == NULL ||
        snprintf(conf, sizeof conf, "%s/" NAME ".conf", dir) >= (int)sizeof conf)
        abort();
    atexit(remove_dir);
    return 0;
}

static int
released(const struct hub_repo *r)
{
    return r->conf_path == NULL && r->checkout == NULL && r->github == NULL &&
           r->remote == NULL && r->branch == NULL && r->apply == NULL;
}

static int
same_or_null(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
check_list(const struct hub_repo *r)
{
    struct hub_repo_list list = HUB_REPO_LIST_INIT;
    int rc = hub_repos_load_all(dir, &list);

    if ((rc == 0) != (r != NULL))
        abort();                          /* one file: the list fails with it */
    if (rc != 0) {
        if (list.n != 0 || list.items != NULL)
            abort();
        return;
    }
    if (list.n != 1 || strcmp(list.items[0].name, NAME) != 0 ||
        !same_or_null(list.items[0].checkout, r->checkout) ||
        !same_or_null(list.items[0].github, r->github) ||
        !same_or_null(list.items[0].apply, r->apply))
        abort();
    if (r->github != NULL) {
        char *upper = strdup(r->github);

        if (upper != NULL) {
            for (char *p = upper; *p != '\0'; p++)
                *p = (char)toupper((unsigned char)*p);
            if (hub_repos_find_github(&list, upper) != &list.items[0])
                abort();
            free(upper);
        }
    }
    hub_repo_list_release(&list);
    if (list.n != 0 || list.items != NULL)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hub_repo r;
    FILE *f = fopen(conf, "w");
    int rc;

    if (f == NULL)
        abort();
    if ((size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
    rc = hub_repo_load(dir, NAME, &r);
    if (rc != 0) {
        if (!released(&r))
            abort();
        check_list(NULL);
        return 0;
    }
    if (r.checkout == NULL || r.checkout[0] != '/' || r.remote == NULL ||
        r.remote[0] == '-' || r.branch == NULL || r.branch[0] == '-' ||
        r.apply_timeout_s < 1 || r.apply_timeout_s > 86400 ||
        (r.rollback != 0 && r.rollback != 1) ||
        (r.on_diverge != HUB_DIVERGE_REFUSE && r.on_diverge != HUB_DIVERGE_RESET) ||
        strcmp(r.name, NAME) != 0)
        abort();
    check_list(&r);
    hub_repo_release(&r);
    if (!released(&r))
        abort();
    return 0;
}
