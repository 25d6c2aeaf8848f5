/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin's connection: connect, register, and the loop that reads the
 * socket, reassembles frames and messages, and hands each to the Plugin
 * service (connection 1) or to our own call (connection 2).
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nri.pb-c.h"
#include "nri_int.h"
#include "lib/core/err.h"
#include "lib/core/log.h"

/* containerd waits 5 s (plugin_registration_timeout) for RegisterPlugin */
#define NRI_REGISTER_TIMEOUT_MS 10000
/* a runtime that stops reading fails our write after this, not never */
#define NRI_SEND_TIMEOUT_MS 2000

static int plugin_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(-ENAMETOOLONG, "socket path %s", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(-errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = err_set(-errno, "connect %s", path);

		close(fd);
		return ret;
	}
	return fd;
}

static int set_send_timeout(int fd)
{
	struct timeval tv = { .tv_sec = NRI_SEND_TIMEOUT_MS / 1000,
			      .tv_usec = NRI_SEND_TIMEOUT_MS % 1000 * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return err_set(-errno, "fd %d: not a socket the runtime gave", fd);
	return 0;
}

int nri_opts_from_env(struct nri_opts *o)
{
	const char *s = getenv("NRI_PLUGIN_SOCKET"), *name, *idx;
	char *end;
	long fd;

	if (!s)
		return 0;
	errno = 0;
	fd = strtol(s, &end, 10);
	if (errno || end == s || *end || fd < 0 || fd > 65535)
		return err_set(-EINVAL, "NRI_PLUGIN_SOCKET=%s: not a file descriptor", s);
	o->fd = fd;
	if ((name = getenv("NRI_PLUGIN_NAME")) && *name)
		o->name = name;
	if ((idx = getenv("NRI_PLUGIN_IDX")) && *idx)
		o->idx = idx;
	return 1;
}

static int answer(struct nri *n, uint32_t conn, uint32_t stream, int code, const char *msg,
		  const uint8_t *payload, size_t len)
{
	uint8_t *buf;
	size_t blen;
	int ret;

	ret = ttrpc_build_response(stream, code, msg, payload, len, &buf, &blen);
	if (ret < 0)
		return ret;
	ret = mux_send(n->fd, conn, buf, blen);
	free(buf);
	return ret < 0 ? err_wrap(ret, "answer stream %u", stream) : 0;
}

int service_answer(struct nri *n, uint32_t stream, int code, const char *msg,
		   const uint8_t *payload, size_t len)
{
	return answer(n, MUX_CONN_PLUGIN, stream, code, msg, payload, len);
}

/* A message on connection 2: the answer to our call, or noise. */
static int on_runtime_msg(const struct ttrpc_msg *m, void *arg)
{
	struct nri *n = arg;
	struct ttrpc_reply r;

	if (m->type == TTRPC_REQUEST) {
		/* we serve nothing here; answer, so that the caller does not wait */
		pr_warn("connection 2: request on stream %u refused", m->stream);
		return answer(n, MUX_CONN_RUNTIME, m->stream, TTRPC_UNIMPLEMENTED,
			      "the plugin serves nothing on connection 2", NULL, 0);
	}
	if (m->type != TTRPC_RESPONSE || !n->call_id || m->stream != n->call_id) {
		pr_warn("connection 2: unexpected ttrpc message of type %u on stream %u", m->type,
			m->stream);
		return 0;
	}
	n->call_id = 0;
	n->call_done = true;
	if (ttrpc_reply_decode(m, &r) < 0) {
		n->call_code = TTRPC_UNKNOWN;
		snprintf(n->call_msg, sizeof(n->call_msg), "%s", err_msg());
		return 0;
	}
	n->call_code = r.code;
	snprintf(n->call_msg, sizeof(n->call_msg), "%s", r.message ? r.message : "");
	ttrpc_reply_free(&r);
	return 0;
}

static int on_plugin_msg(const struct ttrpc_msg *m, void *arg)
{
	return service_handle(arg, m);
}

static int on_piece(uint32_t conn, const uint8_t *data, size_t len, void *arg)
{
	struct nri *n = arg;

	return ttrpc_rx_feed(&n->rx[conn - 1], data, len,
			     conn == MUX_CONN_PLUGIN ? on_plugin_msg : on_runtime_msg, n);
}

/*
 * Wait up to timeout_ms (-1: forever) for input, then process what came.
 * Returns 0 (processed, or timed out), NRI_STOPPED, or a negative errno.
 */
static int pump(struct nri *n, int timeout_ms, int stop_fd)
{
	struct pollfd p[2] = { { .fd = n->fd, .events = POLLIN },
			       { .fd = stop_fd, .events = POLLIN } };
	uint8_t buf[65536];
	ssize_t got;
	int ret;

	ret = poll(p, stop_fd >= 0 ? 2 : 1, timeout_ms);
	if (ret < 0)
		return errno == EINTR ? 0 : err_set(-errno, "poll");
	if (stop_fd >= 0 && p[1].revents)
		return NRI_STOPPED;
	if (ret == 0)
		return 0;
	got = read(n->fd, buf, sizeof(buf));
	if (got < 0)
		return errno == EINTR || errno == EAGAIN ? 0
							 : err_set(-errno, "read from the runtime");
	if (got == 0)
		return err_set(-ECONNRESET, "the runtime closed the connection");
	return mux_rx_feed(&n->mux, buf, got, on_piece, n);
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int send_register(struct nri *n, const char *name, const char *idx)
{
	Pcnri__RegisterPluginRequest req = PCNRI__REGISTER_PLUGIN_REQUEST__INIT;
	uint8_t payload[512], *buf;
	size_t len, blen;
	int ret;

	req.plugin_name = (char *)name;
	req.plugin_idx = (char *)idx;
	len = pcnri__register_plugin_request__get_packed_size(&req);
	if (len > sizeof(payload))
		return err_set(-ENAMETOOLONG, "plugin name of %zu bytes", strlen(name));
	pcnri__register_plugin_request__pack(&req, payload);
	n->call_id = ttrpc_client_next_id(&n->client_next);
	n->call_done = false;
	ret = ttrpc_build_request(n->call_id, NRI_RUNTIME_SERVICE, "RegisterPlugin", payload, len,
				  (int64_t)NRI_REGISTER_TIMEOUT_MS * 1000000, &buf, &blen);
	if (ret < 0)
		return ret;
	ret = mux_send(n->fd, MUX_CONN_RUNTIME, buf, blen);
	free(buf);
	return ret;
}

/* Serve until the registration is answered and Configure came, or time runs out. */
static int await_registration(struct nri *n)
{
	long deadline = now_ms() + NRI_REGISTER_TIMEOUT_MS, left;
	int ret;

	while (!n->call_done || !n->configured) {
		left = deadline - now_ms();
		if (left <= 0)
			return err_set(-ETIMEDOUT, "no %s within %d ms",
				       n->call_done ? "Configure" : "answer to RegisterPlugin",
				       NRI_REGISTER_TIMEOUT_MS);
		ret = pump(n, left, -1);
		if (ret < 0)
			return ret;
		if (n->call_done && n->call_code != TTRPC_OK)
			return err_set(-ECONNREFUSED,
				       "the runtime refused the registration (%d: %s)",
				       n->call_code, n->call_msg);
	}
	return 0;
}

static int check_idx(const char *idx)
{
	if (strlen(idx) != 2 || idx[0] < '0' || idx[0] > '9' || idx[1] < '0' || idx[1] > '9')
		return err_set(-EINVAL, "plugin index \"%s\": must be two digits", idx);
	return 0;
}

/*
 * Whether the runtime at the other end of fd is in our PID namespace, so
 * that the pids it sends are ours: its pid as the kernel gives it to us (0
 * when it is not in our namespace), and that process's PID namespace.
 */
static bool same_pids(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct stat ours, theirs;
	char path[64];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)cred.pid);
	return stat("/proc/self/ns/pid", &ours) == 0 && stat(path, &theirs) == 0 &&
	       ours.st_ino == theirs.st_ino && ours.st_dev == theirs.st_dev;
}

static int plugin_register(struct nri *n, const struct nri_opts *o)
{
	const char *path = o->socket ? o->socket : NRI_DEFAULT_SOCKET;
	int ret;

	n->fd = o->fd >= 0 ? o->fd : plugin_connect(path);
	if (n->fd < 0)
		return n->fd;
	if (o->fd >= 0 && fcntl(n->fd, F_SETFD, FD_CLOEXEC) < 0)
		return err_set(-errno, "fd %d", o->fd);
	ret = set_send_timeout(n->fd);
	if (ret < 0)
		return ret;
	n->peer_pids = same_pids(n->fd);
	if (!n->peer_pids)
		pr_info("the runtime is in another PID namespace: its pids are not used");
	ret = send_register(n, o->name, o->idx);
	if (ret < 0)
		return ret;
	return await_registration(n);
}

int nri_open(const struct nri_opts *o, const struct nri_handlers *h, struct nri **out)
{
	struct nri *n;
	int ret;

	if (!o->name || !*o->name)
		return err_set(-EINVAL, "no plugin name");
	ret = check_idx(o->idx ? o->idx : "");
	if (ret < 0)
		return ret;
	n = calloc(1, sizeof(*n));
	if (!n)
		return err_set(-ENOMEM, "plugin state");
	n->fd = -1;
	n->h = *h;
	mux_rx_init(&n->mux);
	ttrpc_rx_init(&n->rx[0]);
	ttrpc_rx_init(&n->rx[1]);
	ret = plugin_register(n, o);
	if (ret < 0) {
		err_wrap(ret, "register as %s-%s", o->idx, o->name);
		nri_close(n);
		return ret;
	}
	*out = n;
	return 0;
}

int nri_run(struct nri *n, int stop_fd)
{
	unsigned seen = n->requests - 1; /* idle() is due at once: nri_open() may have queued */
	long due = -1, wait;		 /* when idle() asked to be called again */
	int ret;

	while (!n->shutdown) {
		if (n->h.idle && (seen != n->requests || (due >= 0 && now_ms() >= due))) {
			seen = n->requests;
			ret = n->h.idle(n->h.arg);
			due = ret < 0 ? -1 : now_ms() + ret;
		}
		wait = due < 0 ? -1 : due - now_ms();
		ret = pump(n, wait < 0 && due >= 0 ? 0 : (int)wait, stop_fd);
		if (ret != 0)
			return ret;
	}
	return NRI_SHUTDOWN;
}

void nri_close(struct nri *n)
{
	if (!n)
		return;
	if (n->fd >= 0)
		close(n->fd);
	ttrpc_rx_free(&n->rx[0]);
	ttrpc_rx_free(&n->rx[1]);
	free(n);
}
