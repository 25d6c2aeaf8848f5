/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_FSUTIL_H
#define PORTCULLIS_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Read all of fd into a heap buffer (free() it), at most max bytes.
 * Returns 0, -EFBIG beyond max, or -errno; records no message (the caller
 * knows what the bytes are).
 */
int fs_read_all(int fd, size_t max, char **out, size_t *len);

/* mkdir -p with mode for every directory it makes; message recorded. */
int fs_mkdir_p(const char *dir, mode_t mode);

/*
 * Replace the file at path with len bytes of data, atomically: a reader
 * sees the old file or the new one, never half of one.  The bytes go to a
 * new file beside it (mode 0600), are synced, renamed over path, and the
 * folder is synced.  Message recorded; nothing is left on failure.
 */
int fs_write_atomic(const char *path, const void *data, size_t len);

/* fsync the folder dir (after a rename or unlink in it); message recorded. */
int fs_sync_dir(const char *dir);

#endif
