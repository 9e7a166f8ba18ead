/*
 * repos.h: the per-repository configuration shared by hub-gitops (which
 * syncs the checkouts) and hub-webhook (whose allowlist it is).
 *
 * One file per repository, DIR/NAME.conf (DIR from --repos-dir or
 * $HUB_REPOS_DIR, default /etc/hub/repos.d), in systemd EnvironmentFile
 * syntax: KEY=value lines, '#' or ';' comments, optional single or double
 * quotes around the value. Keys:
 *
 *   CHECKOUT       the working tree's path (required, absolute)
 *   GITHUB         owner/name on GitHub, for hub-webhook's allowlist
 *   REMOTE         default origin
 *   BRANCH         default main
 *   APPLY          command run by /bin/sh -c after HEAD moved (optional)
 *   APPLY_TIMEOUT  seconds, default 300
 *   ON_DIVERGE     refuse (default) or reset
 *   ROLLBACK       no (default) or yes
 *
 * NAME is [A-Za-z0-9._-]+ and not "." or ".."; anything else is refused
 * before a path is built from it.
 */
#ifndef HUB_REPOS_H
#define HUB_REPOS_H

#include <stddef.h>

#define HUB_REPOS_DIR_DEFAULT "/etc/hub/repos.d"
#define HUB_REPO_NAME_MAX 100

enum hub_diverge {
    HUB_DIVERGE_REFUSE,
    HUB_DIVERGE_RESET,
};

struct hub_repo {
    char name[HUB_REPO_NAME_MAX + 1];
    char *conf_path;       /* owned, like every string below */
    char *checkout;
    char *github;          /* NULL when not set */
    char *remote;
    char *branch;
    char *apply;           /* NULL when not set */
    unsigned apply_timeout_s;
    enum hub_diverge on_diverge;
    int rollback;
};

#define HUB_REPO_INIT { "", NULL, NULL, NULL, NULL, NULL, NULL, 300, HUB_DIVERGE_REFUSE, 0 }

struct hub_repo_list {
    struct hub_repo *items;
    size_t n;
};

#define HUB_REPO_LIST_INIT { NULL, 0 }

/* 1 when name is a valid repository name. */
int hub_repo_name_valid(const char *name);

/* The repos directory: dir if not NULL, else $HUB_REPOS_DIR, else the default. */
const char *hub_repos_dir(const char *dir);

/*
 * Load DIR/NAME.conf. Returns 0, or EX_CONFIG after logging one error line
 * naming the file and the problem (invalid name, no such file, bad key or
 * value, CHECKOUT missing).
 */
int hub_repo_load(const char *dir, const char *name, struct hub_repo *out);

/*
 * Load every *.conf in dir, sorted by name. A file that fails to load makes
 * the whole call fail with EX_CONFIG (an allowlist with a hole is worse than
 * none). An empty or missing directory is an empty list.
 */
int hub_repos_load_all(const char *dir, struct hub_repo_list *out);

/* The repository whose GITHUB matches full_name (case-insensitive), or NULL. */
const struct hub_repo *hub_repos_find_github(const struct hub_repo_list *list,
                                             const char *full_name);

void hub_repo_release(struct hub_repo *r);
void hub_repo_list_release(struct hub_repo_list *list);

#endif
