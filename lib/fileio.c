/*
 * fileio.c: capped reads and atomic writes (see fileio.h). Every descriptor
 * opened here is closed before return.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fileio.h"
#include "hub.h"

static int
read_fd(int fd, size_t max, struct hub_buf *out)
{
    size_t start = out->len;
    char chunk[16384];

    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (out->len - start + (size_t)n > max) {
            hub_buf_release(out);
            errno = EFBIG;
            return -1;
        }
        if (hub_buf_append(out, chunk, (size_t)n) != HUB_BUF_OK) {
            errno = ENOMEM;
            return -1;
        }
    }
}

int
hub_file_readat(int dirfd, const char *path, size_t max, struct hub_buf *out)
{
    int fd, rc, saved;

    fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    rc = read_fd(fd, max, out);
    saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int
hub_file_read(const char *path, size_t max, struct hub_buf *out)
{
    return hub_file_readat(AT_FDCWD, path, max, out);
}

int
hub_write_all(int fd, const void *data, size_t n)
{
    const char *p = data;

    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* fsync the directory holding path, so the rename itself is durable. */
static int
sync_parent(const char *path)
{
    struct hub_buf dir = HUB_BUF_INIT(HUB_MAX_PATH);
    int fd, rc = -1;

    if (hub_buf_appends(&dir, path) != HUB_BUF_OK) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(dirname(dir.data), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    hub_buf_release(&dir);
    return rc;
}

int
hub_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    struct hub_buf tmp = HUB_BUF_INIT(HUB_MAX_PATH);
    int fd = -1, rc = -1, saved;

    if (hub_buf_appendf(&tmp, "%s.tmp.%ld", path, (long)getpid()) != HUB_BUF_OK) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        goto out;
    if (hub_write_all(fd, data, len) != 0 || fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp.data, path) != 0)
        goto out;
    rc = sync_parent(path);
out:
    saved = errno;
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp.data != NULL)
        unlink(tmp.data);
    hub_buf_release(&tmp);
    errno = saved;
    return rc;
}

int
hub_mkdir_p(const char *path, mode_t mode)
{
    struct hub_buf p = HUB_BUF_INIT(HUB_MAX_PATH);
    int rc = -1;

    if (hub_buf_appends(&p, path) != HUB_BUF_OK) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *s = p.data + 1; ; s++) {
        char c = *s;

        if (c != '/' && c != '\0')
            continue;
        *s = '\0';
        if (mkdir(p.data, mode) != 0 && errno != EEXIST)
            goto out;
        *s = c;
        if (c == '\0')
            break;
    }
    rc = 0;
out:
    hub_buf_release(&p);
    return rc;
}
