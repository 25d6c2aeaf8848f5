/* SPDX-License-Identifier: Apache-2.0 */
#include "devconf.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns.h"
#include "lib/core/err.h"
#include "lib/core/log.h"

struct devconf_job {
	const char *ifname;
	struct devconf_snapshot *snap;	     /* get: filled in */
	const struct devconf_snapshot *want; /* apply: to write */
	int refused;
};

static void conf_dir(char *out, size_t len, char family, const char *ifname)
{
	snprintf(out, len, "/proc/sys/net/ipv%c/conf/%s", family, ifname);
}

static int read_value(int dirfd, const char *name, char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_value(int dirfd, const char *name, const char *value)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void get_family(struct devconf_job *job, char family)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	conf_dir(path, sizeof(path), family, job->ifname);
	d = opendir(path);
	if (!d)
		return; /* that family is disabled in this namespace */
	while ((de = readdir(d)) && job->snap->n < DEVCONF_MAX) {
		struct devconf_entry *e = &job->snap->e[job->snap->n];

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(e->name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !(st.st_mode & S_IWUSR))
			continue;
		/* unreadable entries (stable_secret when unset) carry nothing to copy */
		if (read_value(dirfd(d), de->d_name, e->value, sizeof(e->value)) < 0)
			continue;
		e->family = family;
		strcpy(e->name, de->d_name);
		job->snap->n++;
	}
	closedir(d);
}

static int get_in_ns(void *arg)
{
	struct devconf_job *job = arg;

	job->snap->n = 0;
	get_family(job, '4');
	get_family(job, '6');
	return 0;
}

int devconf_get(int nsfd, const char *ifname, struct devconf_snapshot *snap)
{
	struct devconf_job job = { .ifname = ifname, .snap = snap };

	return netns_run(nsfd, get_in_ns, &job);
}

static void apply_one(struct devconf_job *job, int dirfd, const struct devconf_entry *e)
{
	char now[sizeof(e->value)];
	int ret;

	if (read_value(dirfd, e->name, now, sizeof(now)) == 0 && strcmp(now, e->value) == 0)
		return;
	ret = write_value(dirfd, e->name, e->value);
	if (ret < 0) {
		pr_warn("net.ipv%c.conf.%s.%s = %s: %s", e->family, job->ifname, e->name, e->value,
			strerror(-ret));
		job->refused++;
	}
}

static int apply_in_ns(void *arg)
{
	struct devconf_job *job = arg;
	char path[PATH_MAX];
	int dirs[2] = { -1, -1 };

	for (int i = 0; i < 2; i++) {
		conf_dir(path, sizeof(path), i ? '6' : '4', job->ifname);
		dirs[i] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	for (size_t i = 0; i < job->want->n; i++) {
		const struct devconf_entry *e = &job->want->e[i];
		int d = dirs[e->family == '6'];

		if (d >= 0)
			apply_one(job, d, e);
	}
	for (int i = 0; i < 2; i++)
		if (dirs[i] >= 0)
			close(dirs[i]);
	return job->refused;
}

int devconf_apply(int nsfd, const char *ifname, const struct devconf_snapshot *snap)
{
	struct devconf_job job = { .ifname = ifname, .want = snap };

	return netns_run(nsfd, apply_in_ns, &job);
}

int devconf_set(int nsfd, const char *ifname, char family, const char *name, const char *value)
{
	struct devconf_snapshot one = { .n = 1 };
	int ret;

	one.e[0].family = family;
	snprintf(one.e[0].name, sizeof(one.e[0].name), "%s", name);
	snprintf(one.e[0].value, sizeof(one.e[0].value), "%s", value);
	ret = devconf_apply(nsfd, ifname, &one);
	if (ret > 0)
		return err_set(-EPERM, "set net.ipv%c.conf.%s.%s", family, ifname, name);
	return ret;
}

struct read_job {
	const char *ifname, *name;
	char family;
	char *buf;
	size_t len;
};

static int read_in_ns(void *arg)
{
	struct read_job *j = arg;
	char path[PATH_MAX];
	int dirfd, ret;

	conf_dir(path, sizeof(path), j->family, j->ifname);
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	ret = read_value(dirfd, j->name, j->buf, j->len);
	close(dirfd);
	return ret;
}

int devconf_read(int nsfd, const char *ifname, char family, const char *name, char *buf, size_t len)
{
	struct read_job j = { ifname, name, family, buf, len };
	int ret = netns_run(nsfd, read_in_ns, &j);

	if (ret < 0)
		return err_set(ret, "read net.ipv%c.conf.%s.%s", family, ifname, name);
	return 0;
}

const char *devconf_find(const struct devconf_snapshot *snap, char family, const char *name)
{
	for (size_t i = 0; i < snap->n; i++)
		if (snap->e[i].family == family && strcmp(snap->e[i].name, name) == 0)
			return snap->e[i].value;
	return NULL;
}
