/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for TCP stream reassembly, checked against a naive
 * model: a byte array of the stream, where a byte once known (delivered or
 * held) keeps its first value.  The module's source is included, so its
 * internal state is checked too.
 *
 * Input: a header of 7 bytes
 *     isn(4, little endian) window max_segs pool
 * (window 16 + 16 * w, or the default for 255; max_segs 1 + m % 64; pool
 * 1 GiB for p < 128, else (p & 127) * 64 bytes, down to none at all)
 * then operations of 4 bytes each, op a b c:
 *     op & 7 in 0..4  a segment at the stream's next byte + offset
 *                     (a | (b & 0x3f) << 8) - 1024, c + 1 bytes long (op 4:
 *                     (c + 1) * 16), content seed (op >> 3 & 7, 4..7: 0)
 *     op & 7 == 5     skip the gap
 *     op & 7 == 6     c & 0x80: the (a + 1)-th allocation from now fails;
 *                     else the consumer from now: c & 3 = 0 consumes all, 1
 *                     leaves a | b << 8 bytes, 2 consumes nothing, 3 (with a
 *                     == 0xff) answers REASM_STOP
 *     op & 7 == 7     a segment far away: a & 1 ? behind by 2^31 - b : past
 *                     the window by b
 *
 * Checked after every operation: the sink saw each byte at most once, in
 * stream order, with the model's value; the kept part of a view is what the
 * consumer left; flags and counts (known, conflict, refused, dup, overlap,
 * beyond window) are the model's; held segments are sorted, disjoint,
 * inside the window and exactly the model's held bytes; the pool and the
 * worker hold exactly what the direction allocated.  At the end every byte
 * before `next` was delivered or declared lost, and after reasm_dir_free
 * the pool is back at zero.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* allocations of the module that fail on demand */
static unsigned fail_in; /* 0: none; n: the n-th from now fails */
static bool failed;	 /* one did, during this operation */

static void *fuzz_malloc(size_t n)
{
	if (fail_in && !--fail_in) {
		failed = true;
		return NULL;
	}
	return malloc(n);
}

static void *fuzz_calloc(size_t n, size_t size)
{
	if (fail_in && !--fail_in) {
		failed = true;
		return NULL;
	}
	return calloc(n, size);
}

#define malloc fuzz_malloc
#define calloc fuzz_calloc
#include "dp/flow/reasm.c"
#undef malloc
#undef calloc

#define MAXP (1 << 18) /* stream positions the model tracks */

/* the model's loops are no coverage to look for: only the module's are */
#define MODEL __attribute__((no_sanitize("coverage")))

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

enum consumer { C_ALL, C_LEAVE, C_NONE, C_STOP };

struct model {
	struct reasm_pool pool;
	struct reasm_ctx ctx;
	struct reasm_dir d;
	uint32_t isn; /* sequence number of stream position 0 */
	uint32_t next;
	uint32_t hi;	/* past the last position ever known */
	uint32_t nheld; /* known positions at or after next: held */
	bool stopped;
	/* the consumer */
	enum consumer mode;
	uint32_t leave;
	uint32_t dnext;	 /* where the last view ended */
	uint32_t expect; /* where the consumer stopped consuming */
	bool expect_known;
	int views;
	/* last: cleared only as far as used */
	uint8_t val[MAXP];
	uint8_t have[MAXP];	 /* known: delivered or held */
	uint8_t delivered[MAXP]; /* 1 delivered, 2 declared lost */
};

static struct model m;

MODEL static uint8_t content(uint32_t p, unsigned seed)
{
	return (uint8_t)(p * 73 + (p >> 8) * 11 + seed * 101);
}

static uint32_t pos_of(uint32_t seq)
{
	return seq - m.isn;
}

/* ---- the consumer: checks each view as it comes ---- */

MODEL static size_t sink(void *arg, const struct reasm_view *v)
{
	uint32_t start = pos_of(v->seq), fresh_at = start + (uint32_t)(v->len - v->fresh);
	size_t n;

	(void)arg;
	CHECK(!m.stopped && v->len > 0 && v->fresh <= v->len);
	CHECK(start + v->len <= MAXP);
	if (v->flags & REASM_VIEW_GAP)
		CHECK(fresh_at > m.dnext && v->len == v->fresh);
	else
		CHECK(fresh_at == m.dnext);
	if (!v->flags && m.expect_known)
		CHECK(start == m.expect);
	else if (m.expect_known)
		CHECK(start >= m.expect);
	for (uint32_t i = 0; i < v->len; i++) {
		uint32_t p = start + i;

		CHECK(m.have[p] && v->data[i] == m.val[p]);
		if (p < fresh_at) {
			CHECK(m.delivered[p] == 1); /* kept: seen before */
		} else {
			CHECK(!m.delivered[p]); /* never twice */
			m.delivered[p] = 1;
		}
	}
	m.dnext = start + (uint32_t)v->len;
	m.views++;
	switch (m.mode) {
	case C_STOP:
		m.stopped = true;
		return REASM_STOP;
	case C_NONE:
		n = 0;
		break;
	case C_LEAVE:
		n = v->len > m.leave ? v->len - m.leave : 0;
		break;
	default:
		n = v->len;
	}
	m.expect = start + (uint32_t)n;
	m.expect_known = true;
	return n;
}

/* ---- the module's state against the model ---- */

MODEL static void check_state(void)
{
	struct reasm_buf *b = m.d.buf;
	size_t cost = 0, held = 0;
	uint32_t prev_end = 0, nsegs = 0, win = m.ctx.lim.window;

	CHECK(reasm_pool_used(&m.pool) == m.ctx.st.mem);
	if (m.stopped) {
		CHECK(!b && reasm_pool_used(&m.pool) == 0);
		return;
	}
	CHECK(m.d.next == m.isn + m.next);
	if (!b) {
		CHECK(reasm_pool_used(&m.pool) == 0 && m.nheld == 0);
		return;
	}
	CHECK(b->klen || b->nsegs);
	CHECK(b->klen <= win && b->koff + b->klen <= b->kcap);
	for (uint32_t i = 0; i < b->klen; i++)
		CHECK(b->mem[b->koff + i] == m.val[m.next - b->klen + i]);
	cost = buf_cost(b->kcap);
	for (struct reasm_seg *s = b->head; s; s = s->next) {
		uint32_t so = s->seq - m.d.next;

		/* sorted, disjoint, after next, inside the window, the model's bytes */
		CHECK(s->len > 0 && so >= (nsegs ? prev_end : 1) && so + s->len <= win);
		for (uint32_t i = 0; i < s->len; i++)
			CHECK(m.have[m.next + so + i] && s->data[i] == m.val[m.next + so + i]);
		prev_end = so + s->len;
		nsegs++;
		held += s->len;
		cost += seg_cost(s->len);
		if (!s->next)
			CHECK(b->tail == s);
	}
	CHECK(nsegs == b->nsegs && held == b->held && cost == m.ctx.st.mem);
	/* and the model holds nothing else */
	CHECK(held == m.nheld);
}

/* ---- operations ---- */

MODEL static void advance(void)
{
	while (m.next < MAXP && m.have[m.next]) {
		m.next++;
		m.nheld--;
	}
}

/* What the model expects of a segment [s, s + len) with seed. */
struct expect {
	uint32_t known, conflict, fresh, pieces;
	bool in_order;
};

MODEL static struct expect expect_of(int64_t s, uint32_t len, unsigned seed)
{
	struct reasm_buf *b = m.d.buf;
	uint32_t klen = b ? b->klen : 0, win = m.ctx.lim.window;
	struct expect e = { 0 };
	bool in_piece = false;

	e.in_order = s <= m.next;
	for (uint32_t i = 0; i < len; i++) {
		int64_t p = s + i;

		if (p < m.next || (p < MAXP && m.have[p])) {
			e.known++;
			if (p >= 0 && p >= (int64_t)m.next - klen && m.val[p] != content(p, seed))
				e.conflict++;
			in_piece = false;
			continue;
		}
		e.fresh++;
		if (!e.in_order && p < (int64_t)m.next + win && !in_piece)
			e.pieces++;
		in_piece = true;
	}
	return e;
}

MODEL static void learn(int64_t s, uint32_t len, unsigned seed, bool in_order)
{
	int64_t end = in_order ? s + len
		      : s + len < (int64_t)m.next + m.ctx.lim.window
			      ? s + len
			      : (int64_t)m.next + m.ctx.lim.window;

	for (int64_t p = s > m.next ? s : m.next; p < end; p++) {
		if (!m.have[p]) {
			m.have[p] = 1;
			m.val[p] = content((uint32_t)p, seed);
			m.nheld++;
		}
	}
	if (end > m.hi)
		m.hi = (uint32_t)end;
}

/* An allocation failed midway: learn the pieces that went in (their bytes are checked). */
MODEL static void learn_held(int64_t s, uint32_t len, unsigned seed)
{
	for (struct reasm_seg *g = m.d.buf ? m.d.buf->head : NULL; g; g = g->next) {
		int64_t from = m.next + (uint32_t)(g->seq - m.d.next), to = from + g->len;

		for (int64_t p = from > s ? from : s; p < to && p < s + len; p++) {
			if (!m.have[p]) {
				m.have[p] = 1;
				m.val[p] = content((uint32_t)p, seed);
				m.nheld++;
				if (p + 1 > m.hi)
					m.hi = (uint32_t)p + 1;
			}
		}
	}
}

static void op_segment(int64_t off, uint32_t len, unsigned seed)
{
	int64_t s = (int64_t)m.next + off;
	uint8_t data[4096];
	struct reasm_result res;
	struct expect e;
	uint32_t nsegs = m.d.buf ? m.d.buf->nsegs : 0;
	unsigned f, refusal;
	int views = m.views;

	if (s + len > MAXP)
		return;
	for (uint32_t i = 0; i < len; i++)
		data[i] = content((uint32_t)(s + i), seed);
	if (m.stopped) {
		f = reasm_segment(&m.ctx, &m.d, m.isn + (uint32_t)s, data, len, sink, NULL, &res);
		CHECK(f == REASM_STOPPED && views == m.views);
		return;
	}
	e = expect_of(s, len, seed);
	if (e.in_order && e.fresh)
		learn(s, len, seed, true); /* in order: taken whatever the limits */
	f = reasm_segment(&m.ctx, &m.d, m.isn + (uint32_t)s, data, len, sink, NULL, &res);
	CHECK(res.flags == f && res.known == e.known && res.conflict == e.conflict);
	CHECK(!!(f & REASM_CONFLICT) == !!e.conflict);
	CHECK(!!(f & REASM_DUP) == !e.fresh);
	CHECK(!!(f & REASM_OVERLAP) == (e.known && e.fresh));
	CHECK(!!(f & REASM_IN_ORDER) == (e.in_order && e.fresh));
	refusal = f & (REASM_SEGS_FULL | REASM_NOMEM);
	if (e.in_order || !e.fresh) {
		CHECK(!(f & (REASM_REFUSED | REASM_HELD)) && res.refused == 0);
	} else {
		CHECK(views == m.views); /* out of order: nobody is called */
		if (f & REASM_SEGS_FULL)
			CHECK(nsegs + e.pieces > m.ctx.lim.max_segs);
		else if (e.pieces && !(f & REASM_NOMEM))
			CHECK(nsegs + e.pieces <= m.ctx.lim.max_segs && (f & REASM_HELD));
		CHECK(!!(f & REASM_BEYOND_WINDOW) ==
		      (s + len > (int64_t)m.next + m.ctx.lim.window));
		if (!refusal)
			learn(s, len, seed, false);
		else if (f & REASM_HELD)
			learn_held(s, len, seed);
		if (f & REASM_HELD && refusal)
			CHECK(failed); /* partly held: only when an allocation failed */
		CHECK(res.held + res.refused == e.fresh);
	}
	if (m.pool.cap > (64u << 20) && !failed)
		CHECK(!(f & REASM_NOMEM));
	advance();
}

static void op_skip(void)
{
	struct reasm_result res;
	uint32_t p = m.next, lost;
	unsigned f;

	while (p < m.next + m.ctx.lim.window && p < m.hi && !m.have[p])
		p++;
	if (m.stopped || p >= m.hi || !m.have[p]) {
		int views = m.views;

		f = reasm_skip_gap(&m.ctx, &m.d, sink, NULL, &res);
		CHECK(f == 0 && views == m.views);
		return;
	}
	lost = p - m.next;
	for (uint32_t q = m.next; q < p; q++)
		m.delivered[q] = 2;
	m.next = p;
	advance();
	m.expect_known = false;
	f = reasm_skip_gap(&m.ctx, &m.d, sink, NULL, &res);
	CHECK(f & REASM_GAP_SKIPPED);
	CHECK(res.lost == lost);
}

static void op_far(bool behind, uint32_t by, uint32_t len)
{
	struct reasm_result res;
	uint32_t seq = m.isn + m.next + (behind ? 0x80000000u + by : m.ctx.lim.window + by);
	uint8_t data[256] = { 0 };
	unsigned f;

	f = reasm_segment(&m.ctx, &m.d, seq, data, len, sink, NULL, &res);
	if (m.stopped)
		CHECK(f == REASM_STOPPED);
	else if (behind)
		CHECK(f == REASM_DUP && res.known == len && !res.conflict);
	else
		CHECK(f == REASM_BEYOND_WINDOW && res.refused == len);
}

/* every byte before next was delivered or declared lost */
MODEL static void check_delivered(void)
{
	for (uint32_t p = 0; p < m.next && !m.stopped; p++)
		CHECK(m.delivered[p]);
}

static void setup(const uint8_t *h)
{
	struct reasm_limits lim = {
		.window = h[4] == 255 ? REASM_WINDOW_DEFAULT : 16 + h[4] * 16u,
		.max_segs = (uint16_t)(1 + h[5] % 64),
	};

	/* only what the last input touched needs clearing */
	memset(m.have, 0, m.hi);
	memset(m.delivered, 0, m.hi > m.next ? m.hi : m.next);
	memset(&m, 0, offsetof(struct model, val));
	reasm_pool_init(&m.pool, h[6] < 128 ? (size_t)1 << 30 : (h[6] & 127) * 64u);
	CHECK(reasm_ctx_init(&m.ctx, &m.pool, &lim) == 0);
	m.isn = h[0] | h[1] << 8 | h[2] << 16 | (uint32_t)h[3] << 24;
	CHECK(reasm_dir_syn(&m.d, m.isn - 1) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 7)
		return 0;
	setup(data);
	fail_in = 0;
	for (data += 7, size -= 7; size >= 4; data += 4, size -= 4) {
		unsigned op = data[0] & 7, seed = data[0] >> 3 & 7;

		if (op <= 4) {
			int64_t off = (int64_t)(data[1] | (data[2] & 0x3f) << 8) - 1024;
			uint32_t len = op == 4 ? (data[3] + 1u) * 16 : data[3] + 1u;

			op_segment(off, len, seed < 4 ? seed : 0);
		} else if (op == 5) {
			op_skip();
		} else if (op == 6 && data[3] & 0x80) {
			fail_in = data[1] + 1u;
		} else if (op == 6) {
			m.mode = (enum consumer)(data[3] & 3);
			if (m.mode == C_STOP && data[1] != 0xff)
				m.mode = C_ALL;
			m.leave = data[1] | data[2] << 8;
		} else {
			op_far(data[1] & 1, data[2], data[3] + 1u);
		}
		check_state();
		failed = false;
	}
	check_delivered();
	fail_in = 0;
	reasm_dir_free(&m.ctx, &m.d);
	CHECK(reasm_pool_used(&m.pool) == 0 && m.ctx.st.mem == 0);
	return 0;
}
