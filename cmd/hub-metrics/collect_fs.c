/*
 * collect_fs.c: the "disk" metric: every real filesystem mounted in
 * <proc>/self/mounts, measured with statvfs at <fs-root>/<mount point>:
 * bytes like the Go collector (total, used, free, used_percent, the way df
 * counts them) plus inodes. Filesystem types in --exclude-fs (pseudo and
 * overlay by default) and second mounts of the same device are left out.
 *
 * NEEDSWORK: statvfs on a hung network filesystem blocks; such mounts are
 * best excluded with --exclude-fs (nfs,nfs4,cifs) on hosts that have them.
 */
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "log.h"
#include "metrics.h"

#define MAX_MOUNTS 512

/* A mounts field, undoing the kernel's octal escapes (\040 for a space). */
static int
next_mount_field(const char **p, char *out, size_t outlen)
{
    const char *s = *p;
    size_t n = 0;

    while (*s == ' ')
        s++;
    for (; *s != ' ' && *s != '\n' && *s != '\0'; n++) {
        char c = *s++;

        if (c == '\\' && s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' &&
            s[2] >= '0' && s[2] <= '7') {
            c = (char)((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
            s += 3;
        }
        if (n + 1 >= outlen)
            return -1;
        out[n] = c;
    }
    if (n == 0)
        return -1;
    out[n] = '\0';
    *p = s;
    return 0;
}

int
metrics_parse_mount_line(const char *line, char *dev, size_t devlen, char *dir,
                         size_t dirlen, char *type, size_t typelen)
{
    const char *p = line;

    if (next_mount_field(&p, dev, devlen) != 0 || next_mount_field(&p, dir, dirlen) != 0 ||
        next_mount_field(&p, type, typelen) != 0 || dir[0] != '/')
        return -1;
    return 0;
}

void
metrics_fs_fields(uint64_t frsize, uint64_t blocks, uint64_t bfree, uint64_t bavail,
                  uint64_t files, uint64_t ffree, struct metrics_json *j)
{
    uint64_t used = (blocks - bfree) * frsize;
    uint64_t avail = bavail * frsize;

    metrics_json_u64(j, "total", blocks * frsize);
    metrics_json_u64(j, "used", used);
    metrics_json_u64(j, "free", avail);
    /* like df: the share of what users can have (root's reserve left out) */
    metrics_json_fixed(j, "used_percent", (int64_t)metrics_ratio2(used, used + avail), 2);
    metrics_json_u64(j, "inodes_total", files);
    metrics_json_u64(j, "inodes_used", files - ffree);
    metrics_json_u64(j, "inodes_free", ffree);
    metrics_json_fixed(j, "inodes_used_percent", (int64_t)metrics_ratio2(files - ffree, files), 2);
}

/* Devices and mount points already written, NUL-separated. */
static int
seen(const struct hub_buf *list, const char *s)
{
    for (const char *p = list->data; p != NULL && p < list->data + list->len; p += strlen(p) + 1) {
        if (strcmp(p, s) == 0)
            return 1;
    }
    return 0;
}

static int
remember(struct hub_buf *list, const char *s)
{
    return hub_buf_append(list, s, strlen(s) + 1);
}

/* 1 when written, 0 when skipped (no statvfs, no blocks). */
static int
one_mount(struct metrics_ctx *ctx, const char *dev, const char *dir, const char *type,
          struct metrics_json *j)
{
    const char *path = metrics_ctx_path(ctx, ctx->opts->fs_root, dir);
    struct statvfs sv;

    if (path == NULL || statvfs(path, &sv) != 0) {
        hub_log(HUB_LOG_DEBUG, "filesystem_skipped", HUB_STR("mount", dir),
                HUB_STR("path", path));
        return 0;
    }
    if (sv.f_blocks == 0 || sv.f_bfree > sv.f_blocks || sv.f_ffree > sv.f_files)
        return 0;
    metrics_json_object(j, dir);
    metrics_json_str(j, "device", dev);
    metrics_json_str(j, "fstype", type);
    metrics_fs_fields(sv.f_frsize, sv.f_blocks, sv.f_bfree, sv.f_bavail, sv.f_files,
                      sv.f_ffree, j);
    metrics_json_end(j);
    return 1;
}

int
metrics_collect_disk(struct metrics_ctx *ctx, struct metrics_json *j)
{
    struct hub_buf devs = HUB_BUF_INIT(1024 * 1024), dirs = HUB_BUF_INIT(1024 * 1024);
    char dev[512], dir[1024], type[64];
    const char *p;
    int kept = 0, rc = -1;

    if (metrics_ctx_read(ctx, ctx->opts->proc_root, "self/mounts") != 0)
        goto out;
    for (p = hub_buf_str(&ctx->file); *p != '\0' && kept < MAX_MOUNTS; ) {
        if (metrics_parse_mount_line(p, dev, sizeof dev, dir, sizeof dir, type,
                                     sizeof type) != 0) {
            metrics_ctx_fail(ctx, "unexpected mounts line");
            goto out;
        }
        if (!metrics_list_match(ctx->opts->exclude_fs, type) && !seen(&devs, dev) &&
            !seen(&dirs, dir) && one_mount(ctx, dev, dir, type, j)) {
            if (remember(&devs, dev) != 0 || remember(&dirs, dir) != 0) {
                metrics_ctx_fail(ctx, "out of memory");
                goto out;
            }
            kept++;
        }
        if (metrics_next_line(&p) != 0)
            break;
    }
    rc = 0;
out:
    hub_buf_release(&devs);
    hub_buf_release(&dirs);
    return rc;
}
