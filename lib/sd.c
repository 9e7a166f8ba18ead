/*
 * sd.c: sd_notify and socket activation (see sd.h). Opens one datagram
 * socket per notify and closes it before returning.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "opt.h"
#include "sd.h"

int
hub_sd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t plen;
    socklen_t salen;
    ssize_t sent;
    int fd, saved;

    if (path == NULL || path[0] == '\0')
        return 0;
    plen = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || plen >= sizeof sa.sun_path) {
        errno = EINVAL;
        return -1;
    }
    memcpy(sa.sun_path, path, plen);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';          /* abstract namespace */
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    saved = errno;
    close(fd);
    errno = saved;
    return sent < 0 ? -1 : 1;
}

static int
env_number(const char *name, unsigned long long max, unsigned long long *out)
{
    const char *v = getenv(name);

    return v != NULL && hub_parse_uint(v, 0, max, out) == 0 ? 0 : -1;
}

int
hub_sd_listen_fds(void)
{
    unsigned long long pid, n;
    int count = 0;

    if (env_number("LISTEN_PID", 0x7fffffff, &pid) == 0 && (pid_t)pid == getpid() &&
        env_number("LISTEN_FDS", 1024, &n) == 0)
        count = (int)n;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    for (int fd = HUB_SD_LISTEN_FDS_START; fd < HUB_SD_LISTEN_FDS_START + count; fd++) {
        int flags = fcntl(fd, F_GETFD);

        if (flags < 0)
            return 0;   /* a promised descriptor is not open: ignore them all */
        fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
    return count;
}

uint64_t
hub_sd_watchdog_usec(void)
{
    unsigned long long usec, pid;

    if (env_number("WATCHDOG_USEC", UINT64_MAX, &usec) != 0 || usec == 0)
        return 0;
    if (env_number("WATCHDOG_PID", 0x7fffffff, &pid) == 0 && (pid_t)pid != getpid())
        return 0;
    return usec;
}
