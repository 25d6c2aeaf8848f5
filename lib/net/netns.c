/* SPDX-License-Identifier: Apache-2.0 */
#include "netns.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/core/err.h"
#include "lib/core/log.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

static int is_nsfs(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && sfs.f_type == NSFS_MAGIC;
}

int netns_open_pid(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(errno == ENOENT ? -ESRCH : -errno, "open %s", path);
	return fd;
}

int netns_reopen(const char *path, unsigned long ino)
{
	unsigned long now;
	int fd;

	if (!path[0])
		return -ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (netns_ino(fd, &now) < 0 || now != ino) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

int netns_open_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(-errno, "open %s", path);
	if (!is_nsfs(fd)) {
		close(fd);
		return err_set(-EINVAL, "%s is not a network namespace", path);
	}
	return fd;
}

int netns_ino(int fd, unsigned long *ino)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_set(-errno, "stat netns");
	*ino = (unsigned long)st.st_ino;
	return 0;
}

static int self_open(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(-errno, "open /proc/thread-self/ns/net");
	return fd;
}

static void restore_or_die(int selffd)
{
	if (setns(selffd, CLONE_NEWNET) < 0) {
		/* Running on in the wrong namespace would corrupt the host. */
		pr_err("cannot return to the original network namespace: %s", strerror(errno));
		abort();
	}
	close(selffd);
}

/* Call fn in namespace nsfd (or in whatever fn itself switches to, for -1). */
static int run_and_return(int nsfd, int (*fn)(void *arg), void *arg)
{
	int selffd, ret;

	selffd = self_open();
	if (selffd < 0)
		return selffd;
	if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0) {
		ret = -errno;
		close(selffd);
		return err_set(ret, "enter network namespace");
	}
	ret = fn(arg);
	restore_or_die(selffd);
	return ret;
}

int netns_run(int nsfd, int (*fn)(void *arg), void *arg)
{
	if (nsfd < 0)
		return err_set(-EBADF, "enter network namespace");
	return run_and_return(nsfd, fn, arg);
}

struct socket_args {
	int domain, type, protocol;
};

static int socket_in(void *arg)
{
	struct socket_args *a = arg;
	int fd = socket(a->domain, a->type | SOCK_CLOEXEC, a->protocol);

	return fd < 0 ? err_set(-errno, "socket") : fd;
}

int netns_socket(int nsfd, int domain, int type, int protocol)
{
	struct socket_args a = { domain, type, protocol };

	return netns_run(nsfd, socket_in, &a);
}

/* The directory of named namespaces must be a shared mount, as iproute2 makes it. */
static int share_dir(const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return err_set(-errno, "mkdir %s", dir);
	if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return err_set(-errno, "make %s a shared mount", dir);
	/* not a mount point yet: bind it onto itself, then share it */
	if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0)
		return err_set(-errno, "bind mount %s", dir);
	if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) < 0)
		return err_set(-errno, "make %s a shared mount", dir);
	return 0;
}

static int unshare_and_bind(void *arg)
{
	const char *path = arg;

	if (unshare(CLONE_NEWNET) < 0)
		return err_set(-errno, "unshare network namespace");
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		return err_set(-errno, "bind mount namespace on %s", path);
	return 0;
}

static int create_at(const char *path)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return err_set(-errno, "create %s", path);
	close(fd);
	ret = run_and_return(-1, unshare_and_bind, (void *)path);
	if (ret < 0)
		unlink(path);
	return ret;
}

int netns_ensure(const char *path)
{
	char dirbuf[PATH_MAX];
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && is_nsfs(fd))
		return fd;
	if (fd >= 0) {
		/* a file left by an interrupted creation: no namespace on it */
		close(fd);
		pr_warn("replacing %s: not a mounted network namespace", path);
		if (unlink(path) < 0)
			return err_set(-errno, "remove stale %s", path);
	} else if (errno != ENOENT) {
		return err_set(-errno, "open %s", path);
	}
	if (strlen(path) >= sizeof(dirbuf))
		return err_set(-ENAMETOOLONG, "%s", path);
	strcpy(dirbuf, path);
	ret = share_dir(dirname(dirbuf));
	if (ret < 0)
		return ret;
	ret = create_at(path);
	if (ret < 0)
		return ret;
	pr_info("created enforcer network namespace %s", path);
	return netns_open_path(path);
}

int netns_remove(const char *path)
{
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return err_set(-errno, "unmount %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(-errno, "remove %s", path);
	return 0;
}
