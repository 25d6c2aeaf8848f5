// SPDX-License-Identifier: Apache-2.0
/* The policy file watched through its directory (polwatch.h). */
#include "polwatch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lib/core/err.h"
#include "lib/core/log.h"

/* Entries created, written, renamed or removed: what a new policy file does to its directory. */
#define POLWATCH_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB)

/* seen and have are left as they are: the policy may have been read already */
int polwatch_open(struct polwatch *w, const char *path)
{
	char dir[PATH_MAX], *slash;

	w->fd = -1;
	if ((size_t)snprintf(w->path, sizeof(w->path), "%s", path) >= sizeof(w->path))
		return err_set(-ENAMETOOLONG, "policy path %s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->fd < 0)
		return err_set(-errno, "inotify");
	if (inotify_add_watch(w->fd, dir, POLWATCH_EVENTS | IN_ONLYDIR) < 0) {
		pr_warn("policy %s: not watching %s (%s): reload it with SIGHUP", path, dir,
			strerror(errno));
		close(w->fd);
		w->fd = -1;
	}
	return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

bool polwatch_events(struct polwatch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;

	while (w->fd >= 0 && read(w->fd, buf, sizeof(buf)) > 0)
		any = true;
	return any;
}

bool polwatch_is_new(struct polwatch *w, const struct stat *st)
{
	bool is_new = !w->have || !same_file(st, &w->seen);

	w->seen = *st;
	w->have = true;
	return is_new;
}

void polwatch_close(struct polwatch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}
