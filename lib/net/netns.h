/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_NETNS_H
#define PORTCULLIS_NETNS_H

/*
 * Network namespaces.  The calling thread never stays in another namespace:
 * netns_run() is the one place that switches (setns is per thread), and it
 * restores the original namespace before returning, aborting the process if
 * it cannot.  Everything else reaches another namespace through sockets that
 * were created inside it (a socket stays bound to the namespace it was
 * created in), see netns_socket() and nl_open_in().
 */

#include <sys/types.h>

/* Open /proc/PID/ns/net; -ESRCH when the process is gone. */
int netns_open_pid(pid_t pid);
/* Open a namespace file (e.g. /run/netns/NAME); -EINVAL if it is not one. */
int netns_open_path(const char *path);
/* Inode number identifying the namespace behind fd. */
int netns_ino(int fd, unsigned long *ino);
/*
 * Open path again only if it is still namespace ino (a pid or a name can
 * come to stand for another); -ENOENT when not, or when path is "" or gone.
 * Records no message: a namespace that went is an answer, not an error.
 */
int netns_reopen(const char *path, unsigned long ino);

/* Call fn(arg) with the calling thread inside namespace nsfd. */
int netns_run(int nsfd, int (*fn)(void *arg), void *arg);
/* socket(2) created inside namespace nsfd. */
int netns_socket(int nsfd, int domain, int type, int protocol);

/*
 * Make sure a named namespace exists at path, created as `ip netns add`
 * would (a new namespace bind-mounted on a file in a shared mount of its
 * directory).  Returns an open fd on it.  A leftover plain file from an
 * interrupted creation is replaced.  The caller serialises concurrent calls.
 */
int netns_ensure(const char *path);
/* Unmount and remove a named namespace created by netns_ensure(). */
int netns_remove(const char *path);

#endif
