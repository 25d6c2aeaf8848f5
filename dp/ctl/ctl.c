// SPDX-License-Identifier: Apache-2.0
/* The control socket: listening, clients, framing (see ctl.h). */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_proto.h"
#include "dp/flow/clock.h"
#include "lib/core/err.h"
#include "lib/core/fsutil.h"
#include "lib/core/log.h"

#define PC_STR_(x) #x
#define PC_STR(x) PC_STR_(x)

struct client {
	int fd;	      /* -1: free slot */
	bool closing; /* EOF or a fatal request: close once out is sent */
	time_t last;  /* CLOCK_MONOTONIC seconds of the last progress */
	size_t in_len;
	char in[CTL_REQ_MAX + 1];
	char *out; /* the reply being sent */
	size_t out_len, out_off;
};

struct ctl {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;     /* of the socket file we made: remove only that one */
	bool disowned; /* someone else removes it (ctl_disown) */
	const struct ctl_service *svc;
	struct client clients[CTL_MAX_CLIENTS];
};

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return err_set(-ENAMETOOLONG, "ctl_socket %s: longer than %zu bytes", path,
			       sizeof(sa->sun_path) - 1);
	strcpy(sa->sun_path, path);
	return 0;
}

/* A file at path: remove it if it is a socket nobody answers on. */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, ret;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : err_set(-errno, "ctl_socket %s", sa->sun_path);
	if (!S_ISSOCK(st.st_mode))
		return err_set(-EEXIST, "ctl_socket %s: exists and is not a socket", sa->sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(-errno, "ctl_socket: socket");
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (ret == 0)
		return err_set(-EADDRINUSE, "ctl_socket %s: another portcullis-dp answers there",
			       sa->sun_path);
	if (errno != ECONNREFUSED)
		return err_set(-errno, "ctl_socket %s: probe", sa->sun_path);
	pr_info("ctl_socket %s: removing a stale socket", sa->sun_path);
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return err_set(-errno, "ctl_socket %s: remove", sa->sun_path);
	return 0;
}

static int make_parent(const char *path)
{
	char *copy = strdup(path);
	int ret;

	if (!copy)
		return err_set(-ENOMEM, "ctl_socket");
	ret = fs_mkdir_p(dirname(copy), 0700);
	free(copy);
	return ret < 0 ? err_wrap(ret, "ctl_socket %s", path) : 0;
}

/* bind with mode 0600 from the start: no moment where others may connect */
static int bind_listen(struct ctl *c, const struct sockaddr_un *sa)
{
	struct stat st;
	mode_t old = umask(0177);
	int ret = bind(c->fd, (const struct sockaddr *)sa, sizeof(*sa));

	umask(old);
	if (ret < 0)
		return err_set(-errno, "ctl_socket %s: bind", sa->sun_path);
	if (stat(sa->sun_path, &st) < 0 || chmod(sa->sun_path, 0600) < 0)
		return err_set(-errno, "ctl_socket %s", sa->sun_path);
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if (listen(c->fd, CTL_MAX_CLIENTS) < 0)
		return err_set(-errno, "ctl_socket %s: listen", sa->sun_path);
	return 0;
}

static int open_socket(struct ctl *c, const char *path)
{
	struct sockaddr_un sa;
	int ret;

	ret = fill_addr(path, &sa);
	if (ret >= 0)
		ret = make_parent(path);
	if (ret >= 0)
		ret = clear_stale(&sa);
	if (ret < 0)
		return ret;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return err_set(-errno, "ctl_socket: socket");
	ret = bind_listen(c, &sa);
	if (ret < 0 && c->ino)
		unlink(path);
	return ret;
}

int ctl_open(const char *path, const struct ctl_service *svc, struct ctl **out)
{
	struct ctl *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return err_set(-ENOMEM, "ctl_socket");
	c->fd = -1;
	c->svc = svc;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	snprintf(c->path, sizeof(c->path), "%s", path);
	ret = open_socket(c, path);
	if (ret < 0) {
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

static void client_drop(struct client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	free(cl->out);
	cl->out = NULL;
	cl->fd = -1;
}

/* A refused client gets its one line, if its socket takes it at once. */
static void refuse(int fd, const char *why)
{
	char *line = ctl_reply_err(why);

	if (line && send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		pr_debug("ctl: refused client: %s", strerror(errno));
	free(line);
	close(fd);
}

static void on_accept(struct ctl *c)
{
	int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct client *cl = &c->clients[i];

		if (cl->fd >= 0)
			continue;
		memset(cl, 0, sizeof(*cl));
		cl->fd = fd;
		cl->last = clock_mono_s();
		return;
	}
	refuse(fd, "too many control clients; try again");
}

/* The next complete request of cl, if no reply is pending: serve it. */
static void client_process(struct ctl *c, struct client *cl)
{
	long n;

	while (!cl->out && cl->fd >= 0) {
		n = ctl_line_find(cl->in, cl->in_len, CTL_REQ_MAX);
		if (n == 0) {
			if (cl->closing)
				client_drop(cl); /* EOF and nothing to answer */
			return;
		}
		if (n < 0) {
			cl->out = ctl_reply_err(
				"request: longer than " PC_STR(CTL_REQ_MAX) " bytes");
			cl->closing = true;
			cl->in_len = 0;
		} else {
			if (n > 1)
				cl->out = ctl_serve_line(c->svc, cl->in, (size_t)n - 1);
			ctl_line_consume(cl->in, &cl->in_len, (size_t)n);
		}
		cl->out_len = cl->out ? strlen(cl->out) : 0;
		cl->out_off = 0;
	}
}

static void client_read(struct client *cl)
{
	ssize_t n;

	if (cl->in_len >= CTL_REQ_MAX)
		return; /* a full buffer waits for its reply to go */
	n = recv(cl->fd, cl->in + cl->in_len, CTL_REQ_MAX - cl->in_len, MSG_DONTWAIT);
	if (n > 0) {
		cl->in_len += (size_t)n;
		cl->last = clock_mono_s();
	} else if (n == 0) {
		/* a last request without its newline still counts */
		if (cl->in_len && !memchr(cl->in, '\n', cl->in_len))
			cl->in[cl->in_len++] = '\n';
		cl->closing = true;
	} else if (errno != EAGAIN && errno != EINTR) {
		client_drop(cl);
	}
}

static void client_write(struct client *cl)
{
	ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			client_drop(cl);
		return;
	}
	cl->out_off += (size_t)n;
	cl->last = clock_mono_s();
	if (cl->out_off < cl->out_len)
		return;
	free(cl->out);
	cl->out = NULL;
	if (cl->closing && cl->in_len == 0)
		client_drop(cl);
}

unsigned ctl_poll_fds(const struct ctl *c, struct pollfd *pfd)
{
	unsigned n = 0;

	pfd[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		const struct client *cl = &c->clients[i];

		if (cl->fd < 0)
			continue;
		pfd[n++] = (struct pollfd){ .fd = cl->fd,
					    .events = cl->out ? POLLOUT
							      : (cl->closing ? 0 : POLLIN) };
	}
	return n;
}

static struct client *client_of(struct ctl *c, int fd)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->clients[i].fd == fd)
			return &c->clients[i];
	return NULL;
}

void ctl_on_poll(struct ctl *c, const struct pollfd *pfd, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct client *cl = client_of(c, pfd[i].fd);

		if (!cl || !pfd[i].revents)
			continue;
		if (pfd[i].revents & (POLLERR | POLLNVAL)) {
			client_drop(cl);
			continue;
		}
		if (pfd[i].revents & POLLOUT)
			client_write(cl);
		else if (pfd[i].revents & (POLLIN | POLLHUP))
			client_read(cl);
		if (cl->fd >= 0)
			client_process(c, cl);
	}
	if (n && (pfd[0].revents & POLLIN))
		on_accept(c);
}

void ctl_tick(struct ctl *c)
{
	time_t now = clock_mono_s();

	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct client *cl = &c->clients[i];

		if (cl->fd >= 0 && now - cl->last >= CTL_IDLE_SECS) {
			pr_debug("ctl: dropping a client idle for %d s", CTL_IDLE_SECS);
			client_drop(cl);
		}
	}
}

void ctl_file(const struct ctl *c, dev_t *dev, ino_t *ino)
{
	*dev = c->dev;
	*ino = c->ino;
}

void ctl_disown(struct ctl *c)
{
	c->disowned = true;
}

void ctl_close(struct ctl *c)
{
	struct stat st;

	if (!c)
		return;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		client_drop(&c->clients[i]);
	if (c->fd >= 0)
		close(c->fd);
	/* only our own socket: a newer data plane may have taken the path */
	if (!c->disowned && lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	free(c);
}
