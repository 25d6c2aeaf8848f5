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

#endif
