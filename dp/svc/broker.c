// SPDX-License-Identifier: Apache-2.0
/* The broker: opens for the confined data plane what it may not (broker.h). */
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "sandbox.h"
#include "lib/core/err.h"
#include "lib/core/log.h"

/* An answer not there after this long: the broker is taken for gone. */
#define BROKER_WAIT_S 5

/* A request is one of these (uint32_t). */
enum { OP_POLICY = 1, OP_STATE, OP_LOG, OP_BYE };

/*
 * Every answer: err (0 or a negative errno) and, when it opened something,
 * the descriptor (SCM_RIGHTS).  OP_STATE answers one record at a time
 * (more 1, its file name; err for a file it could not open) and ends with
 * more 0 (err for a directory it could not read).  The first answer of a
 * broker says whether it runs confined.
 */
struct answer {
	int32_t err;
	uint32_t more;
	char name[NAME_MAX + 1];
};

/* ---- the broker's side: no heap, nothing but its filter's calls */

struct server {
	const struct pc_config *cfg;
	int chan, ctl_dir, log_dir;
	const char *ctl_base, *log_base; /* in ctl_dir, log_dir */
	dev_t ctl_dev;
	ino_t ctl_ino;
};

static void answer(const struct server *sv, const struct answer *a, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { (void *)a, sizeof(*a) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *h;

	if (fd >= 0) {
		memset(&c, 0, sizeof(c));
		m.msg_control = c.buf;
		m.msg_controllen = sizeof(c.buf);
		h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &fd, sizeof(int));
	}
	/* a failure means the data plane is gone: the next read says so */
	(void)!sendmsg(sv->chan, &m, MSG_NOSIGNAL);
}

/* fd_or_err: what an open returned, as a descriptor or a negative errno. */
static void answer_open(const struct server *sv, int fd_or_err)
{
	struct answer a = { .err = fd_or_err < 0 ? fd_or_err : 0 };

	answer(sv, &a, fd_or_err);
	if (fd_or_err >= 0)
		close(fd_or_err);
}

/* What getdents64 fills in. */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* One record's answer; only names state_list_from would take. */
static void answer_record(const struct server *sv, int dir, const char *name)
{
	struct answer a = { .more = 1 };
	int fd;

	if (!state_record_ino(name))
		return;
	fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	a.err = fd < 0 ? -errno : 0;
	snprintf(a.name, sizeof(a.name), "%s", name);
	answer(sv, &a, fd);
	if (fd >= 0)
		close(fd);
}

static void answer_state(const struct server *sv)
{
	char buf[4096] __attribute__((aligned(8)));
	struct answer end = { 0 };
	int dir = open(sv->cfg->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
	long n = 0;

	if (dir < 0) {
		end.err = errno == ENOENT ? 0 : -errno; /* no directory, no record */
		answer(sv, &end, -1);
		return;
	}
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0)
		for (long off = 0; off < n;) {
			const struct linux_dirent64 *de = (const void *)(buf + off);

			off += de->d_reclen;
			answer_record(sv, dir, de->d_name);
		}
	end.err = n < 0 ? -errno : 0;
	close(dir);
	answer(sv, &end, -1);
}

/* The control socket file, if it is still the one the data plane made. */
static void remove_ctl(const struct server *sv)
{
	struct stat st;

	if (fstatat(sv->ctl_dir, sv->ctl_base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_dev == sv->ctl_dev && st.st_ino == sv->ctl_ino)
		unlinkat(sv->ctl_dir, sv->ctl_base, 0);
}

static void __attribute__((noreturn)) serve(const struct server *sv)
{
	struct answer done = { 0 };
	uint32_t op;
	ssize_t n;
	int fd;

	while ((n = read(sv->chan, &op, sizeof(op))) > 0) {
		if (n != sizeof(op))
			op = 0;
		switch (op) {
		case OP_POLICY:
			fd = open(sv->cfg->policy, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
			answer_open(sv, fd < 0 ? -errno : fd);
			break;
		case OP_LOG:
			if (sv->log_dir < 0) {
				answer_open(sv, -EINVAL); /* the log is stdout */
				break;
			}
			fd = openat(sv->log_dir, sv->log_base, SANDBOX_LOG_FLAGS, 0640);
			answer_open(sv, fd < 0 ? -errno : fd);
			break;
		case OP_STATE:
			answer_state(sv);
			break;
		case OP_BYE:
			remove_ctl(sv);
			answer(sv, &done, -1);
			_exit(0);
		default:
			answer_open(sv, -EINVAL);
		}
	}
	/* the data plane ended without a goodbye (it crashed, or was killed) */
	remove_ctl(sv);
	_exit(0);
}

/* path's directory, opened for lookups, and where its last name starts. */
static int open_dir_of(const char *path, const char **base)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	*base = slash ? slash + 1 : path;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	fd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? err_set(-errno, "%s", dir[0] ? dir : "/") : fd;
}

/*
 * None of the data plane's descriptors but stdio: not the enforcer's
 * sockets, the control socket (a broker holding it would keep it
 * listening after the data plane is gone), the session log or the
 * start-up pipe (whose end tells a daemon's parent that start-up failed).
 */
static void close_others(int keep)
{
	long max;

	if ((keep <= 3 || close_range(3, (unsigned)keep - 1, 0) == 0) &&
	    close_range((unsigned)keep + 1, ~0U, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX); /* a kernel before 5.9 */
	for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		if (fd != keep)
			close(fd);
}

static int confine(struct server *sv)
{
	static const int quiet[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2 };
	int ret;

	/* a stop is the data plane's to handle; the broker ends after it */
	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++)
		signal(quiet[i], SIG_IGN);
	prctl(PR_SET_NAME, "pc-dp-broker", 0, 0, 0);
	close_others(sv->chan);
	sv->ctl_dir = open_dir_of(sv->cfg->ctl_socket, &sv->ctl_base);
	if (sv->ctl_dir < 0)
		return err_wrap(sv->ctl_dir, "ctl_socket");
	if (strcmp(sv->cfg->session_log, "-") != 0) {
		sv->log_dir = open_dir_of(sv->cfg->session_log, &sv->log_base);
		if (sv->log_dir < 0)
			return err_wrap(sv->log_dir, "session log");
	}
	ret = sandbox_drop(NULL, -1);
	return ret < 0 ? ret : sandbox_broker_filter(sv->chan, sv->ctl_dir, sv->log_dir);
}

static void __attribute__((noreturn))
broker_main(const struct pc_config *cfg, int chan, dev_t ctl_dev, ino_t ctl_ino)
{
	struct server sv = { .cfg = cfg,
			     .chan = chan,
			     .ctl_dir = -1,
			     .log_dir = -1,
			     .ctl_dev = ctl_dev,
			     .ctl_ino = ctl_ino };
	struct answer ready = { 0 };

	ready.err = confine(&sv);
	if (ready.err < 0)
		pr_err("broker: %s", err_msg());
	answer(&sv, &ready, -1);
	if (ready.err < 0)
		_exit(1);
	serve(&sv);
}

/* ---- the data plane's side */

void broker_init(struct broker *b, const struct pc_config *cfg)
{
	*b = (struct broker){ .fd = -1, .cfg = cfg };
}

/* The broker does not answer as it should: no more requests. */
static int gone(struct broker *b, int err, const char *why)
{
	close(b->fd);
	b->fd = -1;
	b->listing = false;
	return err_set(err, "broker (pid %d): %s", (int)b->pid, why);
}

/* The next answer into a, its descriptor into *fd (-1 without; closed when fd is NULL). */
static int receive(struct broker *b, struct answer *a, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { a, sizeof(*a) };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf) };
	int got = -1;
	ssize_t n;

	if (b->fd < 0)
		return err_set(-EPIPE, "broker: gone");
	do
		n = recvmsg(b->fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *h = n > 0 ? CMSG_FIRSTHDR(&m) : NULL; h; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
		    h->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&got, CMSG_DATA(h), sizeof(int));
	if (n != sizeof(*a) || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (got >= 0)
			close(got);
		if (n < 0 && errno == EAGAIN)
			return gone(b, -ETIMEDOUT, "no answer in time");
		return gone(b, n < 0 ? -errno : -EPIPE, n < 0 ? strerror(errno) : "ended");
	}
	a->name[sizeof(a->name) - 1] = '\0';
	if (fd)
		*fd = got;
	else if (got >= 0)
		close(got);
	return 0;
}

static int request(struct broker *b, uint32_t op)
{
	struct answer a;

	/* the rest of a listing its reader stopped short of */
	while (b->listing && receive(b, &a, NULL) == 0)
		b->listing = a.more != 0;
	if (b->fd < 0)
		return err_set(-EPIPE, "broker: gone");
	if (send(b->fd, &op, sizeof(op), MSG_NOSIGNAL) != sizeof(op))
		return gone(b, -errno, strerror(errno));
	return 0;
}

/* A descriptor the broker opens for op; what names the file in messages. */
static int open_one(struct broker *b, uint32_t op, const char *what)
{
	struct answer a;
	int fd, ret;

	ret = request(b, op);
	if (ret == 0)
		ret = receive(b, &a, &fd);
	if (ret < 0)
		return ret;
	if (a.err < 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		return err_set(a.err < 0 ? a.err : -EPROTO, "%s", what);
	}
	return fd;
}

int broker_open_policy(struct broker *b)
{
	return open_one(b, OP_POLICY, b->cfg->policy);
}

int broker_open_log(struct broker *b)
{
	int fd = open_one(b, OP_LOG, b->cfg->session_log);

	return fd < 0 ? err_wrap(fd, "session log") : fd;
}

static int state_next(void *arg, char *name, size_t len, int *fd)
{
	struct broker *b = arg;
	struct answer a;
	int ret;

	if (!b->listing) {
		ret = request(b, OP_STATE);
		if (ret < 0)
			return ret;
		b->listing = true;
	}
	ret = receive(b, &a, fd);
	if (ret < 0)
		return ret;
	if (!a.more) {
		b->listing = false;
		return a.err < 0 ? err_set(a.err, "open %s", b->cfg->state_dir) : 0;
	}
	snprintf(name, len, "%s", a.name);
	if (a.err < 0)
		*fd = a.err;
	return 1;
}

void broker_state_source(struct broker *b, struct state_source *src)
{
	*src = (struct state_source){ state_next, b };
}

int broker_start(struct broker *b, dev_t ctl_dev, ino_t ctl_ino)
{
	struct timeval wait = { .tv_sec = BROKER_WAIT_S };
	struct answer ready;
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(-errno, "broker: socketpair");
	b->pid = fork();
	if (b->pid == 0) {
		close(sv[0]);
		broker_main(b->cfg, sv[1], ctl_dev, ctl_ino);
	}
	ret = b->pid < 0 ? err_set(-errno, "broker: fork") : 0;
	close(sv[1]);
	if (ret < 0) {
		close(sv[0]);
		b->pid = 0;
		return ret;
	}
	b->fd = sv[0];
	if (setsockopt(b->fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait)) < 0)
		ret = gone(b, -errno, "SO_RCVTIMEO");
	if (ret == 0)
		ret = receive(b, &ready, NULL);
	if (ret == 0 && ready.err < 0)
		ret = gone(b, ready.err, "could not confine itself");
	if (ret < 0) {
		waitpid(b->pid, NULL, 0);
		b->pid = 0;
	}
	return ret;
}

void broker_stop(struct broker *b)
{
	struct answer a;

	if (b->fd < 0)
		return;
	/* it answers once the control socket is gone, and ends */
	if (request(b, OP_BYE) == 0 && receive(b, &a, NULL) == 0)
		waitpid(b->pid, NULL, 0);
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}
