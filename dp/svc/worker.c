// SPDX-License-Identifier: Apache-2.0
/* A data-plane worker: ring -> inspect -> back out, for fwd ports. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "worker.h"
#include "dp/flow/clock.h"
#include "lib/core/err.h"
#include "lib/core/log.h"

#define POLL_MS 100
#define TICK_NS 1000000000ULL

static int box_init(struct worker_dump_box *b)
{
	pthread_condattr_t ca;
	int ret;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	ret = pthread_cond_init(&b->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (ret == 0 && (ret = pthread_mutex_init(&b->mu, NULL)) != 0)
		pthread_cond_destroy(&b->cv);
	atomic_init(&b->asked, 0);
	return ret ? err_set(-ret, "worker: mutex") : 0;
}

static void box_fini(struct worker_dump_box *b)
{
	free(b->dump.buf);
	b->dump.buf = NULL;
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
}

int worker_init(struct worker *w, unsigned index, struct dp_shared *sh, size_t max_sessions,
		int nsfd, int ifindex, const struct ring_params *rp)
{
	int ret;

	memset(w, 0, sizeof(*w));
	ret = box_init(&w->box);
	if (ret < 0)
		return ret;
	w->index = index;
	w->sh = sh;
	w->gen = atomic_load(&sh->gen);
	atomic_init(&w->seen_gen, w->gen);
	ret = inspector_init(&w->in, max_sessions, atomic_load(&sh->policy), atomic_load(&sh->wl),
			     sh->log);
	if (ret < 0)
		goto err_box;
	w->in.wall_clock = true;
	w->in.worker = index;
	w->in.provisional_bytes = sh->provisional_bytes;
	ret = inspect_stream_set(&w->in, &sh->reasm_pool, sh->reassembly_window);
	if (ret < 0)
		goto err_inspector;
	w->in.bypass = sh->bypass;
	/* sendmmsg only writes msg_len: each message is bound to its iovec once */
	for (unsigned i = 0; i < WORKER_BATCH; i++) {
		w->msgs[i].msg_hdr.msg_iov = &w->iov[i];
		w->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	ret = sh->threats ? inspect_threats_on(&w->in, sh->log, sh->threat_tables) : 0;
	if (ret < 0)
		goto err_inspector;
	ret = ring_open(&w->ring, nsfd, ifindex, rp);
	if (ret < 0)
		goto err_inspector;
	ret = quick_open(&w->quick, nsfd, ifindex, rp);
	if (ret < 0)
		goto err_ring;
	return 0;

err_ring:
	ring_close(&w->ring);
err_inspector:
	inspector_fini(&w->in);
err_box:
	box_fini(&w->box);
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
		inspect_set_policy(&w->in, p);
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

	iov->iov_base = (void *)start;
	iov->iov_len = len;
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
	if (r.reset && (!r.port || r.port->mode == MODE_FWD)) {
		send_resets(w, &r.pkt);
		if (r.session) /* both ends are told: it ends after the closed timeout */
			session_reset(w->in.sessions, r.session);
	}
	w->st.copies += f->copy;
	if (r.verdict != INSPECT_PASS)
		return;
	/* copies, and all of a tap port: the kernel already forwarded them */
	if (f->copy || (r.port && r.port->mode != MODE_FWD)) {
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

/* ---- the control socket's view (see worker.h) ---- */

static void copy_u64s(uint64_t *dst, const uint64_t *src, size_t n, bool store)
{
	for (size_t i = 0; i < n; i++) {
		if (store)
			__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
		else
			dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
}

#define U64S(x) (sizeof(x) / sizeof(uint64_t))

void worker_counters(const struct worker *w, struct worker_counters *out)
{
	copy_u64s((uint64_t *)&out->in, (const uint64_t *)&w->in.st, U64S(out->in), false);
	copy_u64s((uint64_t *)&out->w, (const uint64_t *)&w->st, U64S(out->w), false);
	copy_u64s((uint64_t *)&out->sess, (const uint64_t *)&w->sess_pub, U64S(out->sess), false);
}

struct dump_ctx {
	const struct inspector *in;
	struct worker_dump d;
	size_t cap, limit;
	struct slog_clock clk;
	bool failed;
};

static void dump_one(struct session *s, void *arg)
{
	struct dump_ctx *c = arg;
	char line[SLOG_LINE_MAX];
	struct session tmp;
	size_t n;

	if (c->d.count >= c->limit || c->failed)
		return;
	n = slog_format(inspect_live_view(c->in, s, &tmp), SLOG_SESSION, &c->clk, line,
			sizeof(line));
	if (c->d.len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64 * 1024;
		char *b = realloc(c->d.buf, cap);

		if (!b) {
			c->failed = true; /* what fits so far is the answer */
			return;
		}
		c->d.buf = b;
		c->cap = cap;
	}
	memcpy(c->d.buf + c->d.len, line, n + 1);
	c->d.len += n;
	c->d.count++;
}

static void dump_sessions(struct worker *w, size_t limit, struct worker_dump *out)
{
	struct dump_ctx c = { .in = &w->in, .limit = limit };
	struct session_stats ss;

	c.clk.wall_ns = clock_wall_ns();
	c.clk.session_ns = clock_mono_ns();
	session_foreach(w->in.sessions, dump_one, &c);
	session_stats(w->in.sessions, &ss);
	c.d.live = ss.live;
	*out = c.d;
}

/* Between blocks: republish the session counters, answer a dump request. */
static void serve_ctl(struct worker *w)
{
	struct worker_dump_box *b = &w->box;
	unsigned asked = atomic_load_explicit(&b->asked, memory_order_acquire);
	struct session_stats ss;
	struct worker_dump d;
	size_t limit;

	session_stats(w->in.sessions, &ss);
	copy_u64s((uint64_t *)&w->sess_pub, (const uint64_t *)&ss, U64S(ss), true);
	if (asked == b->served)
		return;
	b->served = asked;
	pthread_mutex_lock(&b->mu);
	limit = b->limit;
	pthread_mutex_unlock(&b->mu);
	dump_sessions(w, limit, &d);
	pthread_mutex_lock(&b->mu);
	free(b->dump.buf); /* an answer nobody took */
	b->dump = d;
	b->answered = asked;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

unsigned worker_dump_ask(struct worker *w, size_t limit)
{
	struct worker_dump_box *b = &w->box;
	unsigned ticket;

	pthread_mutex_lock(&b->mu);
	b->limit = limit;
	ticket = atomic_fetch_add_explicit(&b->asked, 1, memory_order_acq_rel) + 1;
	pthread_mutex_unlock(&b->mu);
	return ticket;
}

int worker_dump_wait(struct worker *w, unsigned ticket, uint64_t deadline_ns,
		     struct worker_dump *out)
{
	struct worker_dump_box *b = &w->box;
	struct timespec dl = { (time_t)(deadline_ns / 1000000000ULL),
			       (long)(deadline_ns % 1000000000ULL) };
	int ret = 0;

	pthread_mutex_lock(&b->mu);
	while (b->answered != ticket && ret == 0)
		ret = pthread_cond_timedwait(&b->cv, &b->mu, &dl);
	if (b->answered == ticket) {
		*out = b->dump;
		memset(&b->dump, 0, sizeof(b->dump));
		ret = 0;
	}
	pthread_mutex_unlock(&b->mu);
	return ret ? -ETIMEDOUT : 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pollfd pfd[2] = {
		{ .fd = w->ring.fd, .events = POLLIN | POLLERR },
		{ .fd = w->quick.fd, .events = POLLIN | POLLERR },
	};
	uint64_t next_tick = clock_mono_ns() + TICK_NS;

	while (!atomic_load_explicit(&w->sh->stop, memory_order_relaxed)) {
		struct tpacket_block_desc *b;
		unsigned quick;
		uint64_t now;

		follow(w);
		w->now = clock_mono_ns();
		quick = quick_drain(&w->quick, on_frame, w);
		w->st.quick += quick;
		flush(w); /* before the next drain reuses the buffers */
		b = ring_block(&w->ring);
		if (b) {
			w->now = clock_mono_ns();
			ring_walk(b, w->ring.block_size, sizeof(struct virtio_net_hdr), on_frame,
				  w);
			flush(w);
			ring_release(&w->ring, b);
			w->st.blocks++;
		} else if (!quick) {
			poll(pfd, 2, POLL_MS);
		}
		serve_ctl(w);
		now = clock_mono_ns();
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
	quick_close(&w->quick);
	box_fini(&w->box);
}
