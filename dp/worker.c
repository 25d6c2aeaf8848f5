// SPDX-License-Identifier: Apache-2.0
/* A data-plane worker: ring -> inspect -> back out, for fwd ports. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "log.h"
#include "worker.h"

#define POLL_MS 100
#define TICK_NS 1000000000ULL

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int worker_init(struct worker *w, unsigned index, struct dp_shared *sh, size_t max_sessions,
		int nsfd, int ifindex, const struct ring_params *rp)
{
	int ret;

	memset(w, 0, sizeof(*w));
	w->index = index;
	w->sh = sh;
	w->gen = atomic_load(&sh->gen);
	atomic_init(&w->seen_gen, w->gen);
	ret = inspector_init(&w->in, max_sessions, atomic_load(&sh->policy), atomic_load(&sh->wl),
			     sh->log);
	if (ret < 0)
		return ret;
	w->in.policy_gen = w->gen;
	w->in.wall_clock = true;
	w->in.table_full_closed = sh->table_full_closed;
	ret = ring_open(&w->ring, nsfd, ifindex, rp);
	if (ret < 0)
		inspector_fini(&w->in);
	return ret;
}

/* Take up what the service published since the last look. */
static void follow(struct worker *w)
{
	unsigned gen = atomic_load_explicit(&w->sh->gen, memory_order_acquire);
	struct policy *p;
	struct workloads *wl;

	if (gen == w->gen)
		return;
	p = atomic_load_explicit(&w->sh->policy, memory_order_acquire);
	wl = atomic_load_explicit(&w->sh->wl, memory_order_acquire);
	if (wl != w->in.wl)
		inspect_set_workloads(&w->in, wl);
	if (p != w->in.policy)
		inspect_set_policy(&w->in, p, gen);
	w->gen = gen;
	atomic_store_explicit(&w->seen_gen, gen, memory_order_release);
}

static void flush(struct worker *w)
{
	unsigned done = 0;

	while (done < w->n_out) {
		int n = sendmmsg(w->ring.fd, w->msgs + done, w->n_out - done, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* the frame at done could not go (e.g. ENOBUFS): count it, go on */
			w->st.tx_errors++;
			done++;
			continue;
		}
		w->st.tx += (unsigned)n;
		done += (unsigned)n;
	}
	w->n_out = 0;
}

static void send_back(struct worker *w, const uint8_t *start, size_t len)
{
	struct iovec *iov = &w->iov[w->n_out];
	struct mmsghdr *m = &w->msgs[w->n_out];

	iov->iov_base = (void *)start;
	iov->iov_len = len;
	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_iov = iov;
	m->msg_hdr.msg_iovlen = 1;
	if (++w->n_out == WORKER_BATCH)
		flush(w);
}

static void send_resets(struct worker *w, const struct pkt *p)
{
	for (int i = 0; i < 2; i++) {
		size_t n = rst_build(p, i == 0, w->rst[i], sizeof(w->rst[i]));

		if (n && send(w->ring.fd, w->rst[i], n, MSG_DONTWAIT) == (ssize_t)n)
			w->st.rst_sent++;
		else if (n)
			w->st.tx_errors++;
	}
}

static void on_frame(const struct ring_frame *f, void *arg)
{
	struct worker *w = arg;
	struct inspect_result r;

	inspect_frame(&w->in, f->data, f->len, f->wire_len, w->now, &r);
	if (r.reset && (!r.port || r.port->mode == MODE_FWD))
		send_resets(w, &r.pkt);
	if (r.verdict != INSPECT_PASS)
		return;
	/* tap ports' frames are copies: the kernel already forwarded them */
	if (r.port && r.port->mode != MODE_FWD) {
		w->st.not_returned++;
		w->st.snapped += f->len < f->wire_len;
		return;
	}
	if (f->len < f->wire_len) {
		/* larger than a ring block: cannot be returned whole */
		w->st.truncated++;
		return;
	}
	send_back(w, f->vnet, (size_t)(f->data - f->vnet) + f->len);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pollfd pfd = { .fd = w->ring.fd, .events = POLLIN | POLLERR };
	uint64_t next_tick = mono_ns() + TICK_NS;

	while (!atomic_load_explicit(&w->sh->stop, memory_order_relaxed)) {
		struct tpacket_block_desc *b;
		uint64_t now;

		follow(w);
		b = ring_block(&w->ring);
		if (b) {
			w->now = mono_ns();
			ring_walk(b, w->ring.block_size, sizeof(struct virtio_net_hdr), on_frame, w);
			flush(w);
			ring_release(&w->ring, b);
			w->st.blocks++;
		} else {
			poll(&pfd, 1, POLL_MS);
		}
		now = mono_ns();
		if (now >= next_tick) {
			inspect_tick(&w->in, now);
			next_tick = now + TICK_NS;
		}
	}
	return NULL;
}

int worker_start(struct worker *w)
{
	int ret = pthread_create(&w->tid, NULL, worker_main, w);

	return ret ? err_set(-ret, "worker %u: thread", w->index) : 0;
}

void worker_finish(struct worker *w)
{
	if (w->tid)
		pthread_join(w->tid, NULL);
	w->tid = 0;
	inspector_fini(&w->in);
	ring_close(&w->ring);
}
