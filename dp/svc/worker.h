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
 *
 * The control socket (ctl.c, in the service thread) looks at a worker in
 * two ways.  Counters: worker_counters() reads the inspector's and the
 * worker's statistics while the worker writes them, with relaxed atomic
 * loads of aligned 64-bit fields (never torn on 64-bit targets; the
 * fields of one snapshot may be a few frames apart), and the session
 * table's counters, which the worker republishes once per loop.  Sessions:
 * only the worker touches its table, so the service asks for a copy
 * (worker_dump_ask) and the worker, between blocks (at least every 100
 * ms), formats up to limit sessions as session-log lines into a heap
 * buffer and hands it over under a mutex and condition variable
 * (worker_dump_wait, with a deadline).
 */

#include <linux/virtio_net.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "dp/flow/inspect.h"
#include "dp/io/ring.h"
#include "dp/io/rst.h"

struct dp_shared {
	_Atomic(struct policy *) policy;
	_Atomic(struct workloads *) wl;
	atomic_uint gen;
	atomic_bool stop;
	struct slog *log;
	bool threats;			     /* threat detection on */
	struct threat_shared *threat_tables; /* ... its tables of every worker */
	uint32_t provisional_bytes;	     /* inspector.provisional_bytes */
	uint32_t reassembly_window;	     /* bytes per direction (inspect_stream_set) */
	struct reasm_pool reasm_pool;	     /* TCP reassembly memory of every worker */
	const struct bypass *bypass;	     /* session bypass, may be off */
};

#define WORKER_BATCH 64

struct worker_stats {
	uint64_t blocks, quick, tx, tx_errors, truncated, not_returned, snapped, rst_sent;
	uint64_t copies; /* copies received (tap ports, bypassed sessions): never returned */
};

struct worker_counters {
	struct inspect_stats in;
	struct worker_stats w;
	struct session_stats sess;
};

/* A copy of a worker's live sessions: slog_format lines, '\n' after each. */
struct worker_dump {
	char *buf; /* heap; the taker frees it */
	size_t len;
	size_t count; /* lines in buf */
	size_t live;  /* live sessions when the copy was made */
};

struct worker_dump_box {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* signalled when answered changes */
	atomic_uint asked; /* bumped by the service: a new request */
	unsigned served;   /* worker only: the last request it answered */
	/* under mu */
	size_t limit;	   /* of the newest request */
	unsigned answered; /* the request dump answers */
	struct worker_dump dump;
};

struct worker {
	unsigned index;
	pthread_t tid;
	struct dp_shared *sh;
	struct ring ring;
	struct quick quick;
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
	struct session_stats sess_pub; /* written with atomic stores, once per loop */
	struct worker_dump_box box;
};

int worker_init(struct worker *w, unsigned index, struct dp_shared *sh, size_t max_sessions,
		int nsfd, int ifindex, const struct ring_params *rp);
int worker_start(struct worker *w);
/* After sh->stop is set: join, end every session (logged), close. */
void worker_finish(struct worker *w);

/* The service thread's view of the counters (see above). */
void worker_counters(const struct worker *w, struct worker_counters *out);

/* Ask for up to limit sessions; returns the request's ticket. */
unsigned worker_dump_ask(struct worker *w, size_t limit);
/*
 * Wait until the worker answered ticket or CLOCK_MONOTONIC reaches
 * deadline_ns: 0 and the copy in out (free out->buf), or -ETIMEDOUT.
 */
int worker_dump_wait(struct worker *w, unsigned ticket, uint64_t deadline_ns,
		     struct worker_dump *out);

#endif
