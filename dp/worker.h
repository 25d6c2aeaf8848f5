/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_WORKER_H
#define PORTCULLIS_DP_WORKER_H

/*
 * A worker thread: its own ring socket in the fanout group, its own
 * inspector (sessions are never shared), and the loop that receives a
 * block, inspects each frame, sends back what fwd ports may pass and gives
 * the block back.
 *
 * What workers share is published by the service thread: the policy and
 * the workload table, each an immutable object behind an atomic pointer,
 * and a generation number.  A worker picks a new generation up between
 * blocks and says so in seen_gen; the service frees an old object only
 * once every worker has seen the generation that replaced it.
 */

#include <linux/virtio_net.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "inspect.h"
#include "ring.h"
#include "rst.h"

struct dp_shared {
	_Atomic(struct policy *) policy;
	_Atomic(struct workloads *) wl;
	atomic_uint gen;
	atomic_bool stop;
	struct slog *log;
	bool table_full_closed;
};

#define WORKER_BATCH 64

struct worker_stats {
	uint64_t blocks, tx, tx_errors, truncated, not_returned, snapped, rst_sent;
};

struct worker {
	unsigned index;
	pthread_t tid;
	struct dp_shared *sh;
	struct ring ring;
	struct inspector in;
	atomic_uint seen_gen;
	uint32_t gen;
	uint64_t now; /* CLOCK_MONOTONIC when the current block was taken */
	struct worker_stats st;
	/* the current block's frames going back out, sent together */
	struct mmsghdr msgs[WORKER_BATCH];
	struct iovec iov[WORKER_BATCH];
	unsigned n_out;
	uint8_t rst[2][RST_FRAME_MAX];
};

int worker_init(struct worker *w, unsigned index, struct dp_shared *sh, size_t max_sessions,
		int nsfd, int ifindex, const struct ring_params *rp);
int worker_start(struct worker *w);
/* After sh->stop is set: join, end every session (logged), close. */
void worker_finish(struct worker *w);

#endif
