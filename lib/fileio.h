/*
 * fileio.h: whole-file reads with a cap and atomic replacement, the two file
 * operations every program needs. These are low-level: they return -1 with
 * errno and log nothing, so the caller reports what the file was for.
 */
#ifndef HUB_FILEIO_H
#define HUB_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/*
 * Append the whole of path to out, reading at most max bytes. Returns 0, or
 * -1 with errno (EFBIG when the file holds more than max; out is then
 * released).
 */
int hub_file_read(const char *path, size_t max, struct hub_buf *out);

/* Same, relative to a directory descriptor (openat). */
int hub_file_readat(int dirfd, const char *path, size_t max, struct hub_buf *out);

/*
 * Replace path with data atomically: write a temporary file in the same
 * directory, fsync it, rename it over path, fsync the directory. A reader
 * sees the old contents or the new, never a mix. Returns 0 or -1 with errno.
 */
int hub_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* write(2) until all n bytes are out, retrying on EINTR. Returns 0 or -1. */
int hub_write_all(int fd, const void *p, size_t n);

/* mkdir -p with mode for the directories it creates. Returns 0 or -1. */
int hub_mkdir_p(const char *path, mode_t mode);

#endif
