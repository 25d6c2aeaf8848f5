/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_POLWATCH_H
#define PORTCULLIS_DP_POLWATCH_H

/*
 * The policy file watched, so that a new one is loaded without a SIGHUP:
 * inotify on the file's directory (a file written in place, one renamed
 * over it, and a Kubernetes ConfigMap volume, whose files are symlinks
 * through a "..data" symlink that an update swaps for one to a new
 * directory, all change that directory), and the identity of the file
 * the path leads to (device, inode, size, modification time, from fstat),
 * so that only a new file makes a reload, once.
 */

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>

struct polwatch {
	int fd; /* -1: not watching (poll skips it) */
	char path[PATH_MAX];
	struct stat seen; /* the file last loaded, or tried */
	bool have;	  /* seen is set */
};

/*
 * Watch path's directory; a directory that does not exist is no error (the
 * watch is then off, said at level warn).  Before the sandbox: it needs
 * inotify_add_watch.
 */
int polwatch_open(struct polwatch *w, const char *path);

/* Read the pending events; true when there were any (the file may be new). */
bool polwatch_events(struct polwatch *w);

/*
 * Whether st (fstat of the policy file as opened now) is another file than
 * the one seen last; it becomes the one seen (a broken file is not tried
 * again).  Works on a descriptor, so a confined data plane, whose files
 * come from its broker, can tell too.
 */
bool polwatch_is_new(struct polwatch *w, const struct stat *st);

void polwatch_close(struct polwatch *w);

#endif
