/*
 * refs.c: HEAD and the remote-tracking ref read from the repository's own
 * files, without a git process: a git spawn costs as much as the rest of a
 * no-op sync's own work, and every sync asks these two questions first.
 *
 * Only git's plain "files" layout is read: CHECKOUT/.git a directory, HEAD
 * a file, each ref a loose file under refs/ or a line of packed-refs.
 * Anything else (a .git file: a linked worktree or a submodule; a reftable
 * repository; a symbolic ref other than HEAD; a line that does not parse)
 * answers "ask git", and git.c runs rev-parse instead.
 *
 * Reading races nothing that matters: git replaces a loose ref and
 * packed-refs by rename, and pack-refs writes packed-refs before it deletes
 * the loose files, so loose-then-packed never misses a ref that exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "gitops.h"

#define HEAD_FILE_MAX 512
#define PACKED_REFS_MAX (16u * 1024 * 1024)

/* The repository's .git, and packed-refs once it was needed. */
struct refs_dir {
    int fd;
    int packed_read;               /* 1 once packed-refs was read (or found missing) */
    int packed_rc;                 /* that read: 0, 1 no file, -1 unreadable */
    struct hub_buf packed;
};

/* The oid packed-refs holds for ref: 0, 1 not there, -1 ask git. */
static int
packed_lookup(struct refs_dir *d, const char *ref, char *oid)
{
    if (!d->packed_read) {
        d->packed_read = 1;
        d->packed_rc = 0;
        if (hub_file_readat(d->fd, "packed-refs", d->packed.max, &d->packed) != 0)
            d->packed_rc = errno == ENOENT ? 1 : -1;
    }
    if (d->packed_rc != 0)
        return d->packed_rc;
    /* Lines "OID SP REFNAME"; the "# pack-refs" header and "^OID" peeled
     * lines never name a ref exactly. */
    return gitops_parse_ref_line(hub_buf_str(&d->packed), ' ', ref, oid);
}

/* A small file's first line (no '\n'): 0, 1 no such file, -1 ask git. */
static int
first_line(int gitdir, const char *path, char *out, size_t outlen)
{
    struct hub_buf text = HUB_BUF_INIT(HEAD_FILE_MAX);
    size_t n;

    if (hub_file_readat(gitdir, path, text.max, &text) != 0)
        return errno == ENOENT || errno == ENOTDIR ? 1 : -1;
    n = strcspn(hub_buf_str(&text), "\n");
    if (n >= outlen) {
        hub_buf_release(&text);
        return -1;
    }
    memcpy(out, hub_buf_str(&text), n);
    out[n] = '\0';
    hub_buf_release(&text);
    return 0;
}

/* The commit ref (a branch, never symbolic) names: 0, 1 no such ref, -1 ask git. */
static int
resolve(struct refs_dir *d, const char *ref, char *oid)
{
    int rc = first_line(d->fd, ref, oid, GITOPS_OID_MAX + 1);

    if (rc == 0)
        return gitops_oid_valid(oid) ? 0 : -1;
    return rc == 1 ? packed_lookup(d, ref, oid) : -1;
}

/* HEAD: its branch (or "HEAD" when detached) and commit. */
static int
read_head(struct refs_dir *d, struct gitops_heads *out)
{
    char head[HEAD_FILE_MAX];

    if (first_line(d->fd, "HEAD", head, sizeof head) != 0)
        return -1;
    if (strncmp(head, "ref: refs/heads/", 16) != 0) {
        if (!gitops_oid_valid(head))
            return -1;
        memcpy(out->head, head, strlen(head) + 1);
        memcpy(out->head_ref, "HEAD", sizeof "HEAD");
        return 0;
    }
    if (strlen(head + 5) >= sizeof out->head_ref || strstr(head, "..") != NULL)
        return -1;
    memcpy(out->head_ref, head + 5, strlen(head + 5) + 1);
    return resolve(d, out->head_ref, out->head);
}

/* The plain layout: .git a directory, and no reftable in it. */
static int
open_gitdir(const char *checkout)
{
    char path[4096];
    struct stat st;
    int fd, n;

    n = snprintf(path, sizeof path, "%s/.git", checkout);
    if (n < 0 || (size_t)n >= sizeof path)
        return -1;
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstatat(fd, "reftable", &st, AT_SYMLINK_NOFOLLOW) == 0 ||
        fstatat(fd, "commondir", &st, AT_SYMLINK_NOFOLLOW) == 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int
gitops_refs_heads(const char *checkout, const char *tracking, struct gitops_heads *out)
{
    struct refs_dir d = { .fd = open_gitdir(checkout), .packed = HUB_BUF_INIT(PACKED_REFS_MAX) };
    int rc;

    if (d.fd < 0)
        return -1;
    rc = read_head(&d, out);
    if (rc == 0)
        rc = resolve(&d, tracking, out->remote);
    hub_buf_release(&d.packed);
    close(d.fd);
    return rc;
}
