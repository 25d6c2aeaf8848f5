/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_CTL_H
#define PORTCULLIS_DP_CTL_H

/*
 * The control socket of portcullis-dp (protocol: ctl_proto.h), served in
 * the service thread: the listening socket and its clients join the
 * service's poll loop, every client is non-blocking, a request line is
 * bounded, and a client that sends nothing, or reads no reply, for
 * CTL_IDLE_SECS is dropped, so no client can hold the service up.
 *
 * The socket is made with mode 0600 (its folder, when missing, with 0700);
 * a socket file already there is replaced only when nobody answers on it.
 * ctl_close removes it.
 */

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dp/svc/worker.h"
#include "lib/core/config.h"

#define CTL_MAX_CLIENTS 8
#define CTL_POLL_MAX (1 + CTL_MAX_CLIENTS)
#define CTL_IDLE_SECS 5

/* What the service lets the control socket see and do. */
struct ctl_service {
	const struct pc_config *cfg;
	struct dp_shared *sh;
	struct worker *workers;
	unsigned n_workers;
	const char *backend;
	bool heartbeat;
	uint64_t started_ns;		 /* CLOCK_MONOTONIC */
	int (*reload_policy)(void *arg); /* < 0 with err_msg() when refused */
	void (*keepalive)(void *arg);	 /* called while waiting for workers */
	void *arg;
};

struct ctl;

/* svc is read only when requests are served, so it may be filled later. */
int ctl_open(const char *path, const struct ctl_service *svc, struct ctl **out);
/* Fill pfd (room for CTL_POLL_MAX) with what to poll; how many. */
unsigned ctl_poll_fds(const struct ctl *c, struct pollfd *pfd);
/* After poll: pfd and n as ctl_poll_fds gave them, with revents. */
void ctl_on_poll(struct ctl *c, const struct pollfd *pfd, unsigned n);
/* Drop clients idle for CTL_IDLE_SECS (call now and then). */
void ctl_tick(struct ctl *c);
/* The socket file ctl_open made. */
void ctl_file(const struct ctl *c, dev_t *dev, ino_t *ino);
/*
 * The socket file is someone else's to remove from now on (the broker's,
 * for a data plane that confines itself where it cannot): ctl_close
 * leaves it.
 */
void ctl_disown(struct ctl *c);
/* Close every client and the socket, remove the socket file (unless disowned). */
void ctl_close(struct ctl *c);

/* Serve one request line (ctl_cmd.c): the reply line, heap, or NULL. */
char *ctl_serve_line(const struct ctl_service *svc, const char *line, size_t len);

#endif
