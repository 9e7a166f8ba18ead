/*
 * lock.c: one run at a time per repository, by flock(2) on
 * STATE_DIR/NAME.lock. flock, not a pid file: the kernel drops the lock
 * when the process ends however it ends, so a killed run never leaves a
 * stale lock behind. The descriptor is close-on-exec, so git and APPLY
 * (and anything they leave running) never hold it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "gitops.h"
#include "hub.h"
#include "log.h"

int
gitops_lock(const char *state_dir, const char *name, int no_wait, int *fd)
{
    char path[HUB_MAX_PATH];
    int n, lfd, rc;

    *fd = -1;
    n = snprintf(path, sizeof path, "%s/%s.lock", state_dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return hub_fail(EX_CONFIG, "gitops_lock_path_too_long", HUB_STR("dir", state_dir));
    lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lfd < 0)
        return hub_fail(EX_CONFIG, "gitops_lock_open_failed", HUB_STR("file", path),
                        HUB_STR("error", strerror(errno)));
    do
        rc = flock(lfd, LOCK_EX | (no_wait ? LOCK_NB : 0));
    while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int err = errno;

        close(lfd);
        if (err == EWOULDBLOCK)
            return EX_TEMPFAIL;
        return hub_fail(EX_CONFIG, "gitops_lock_failed", HUB_STR("file", path),
                        HUB_STR("error", strerror(err)));
    }
    *fd = lfd;
    return 0;
}

void
gitops_unlock(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}
