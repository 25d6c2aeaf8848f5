/* SPDX-License-Identifier: Apache-2.0 */
/* TCP stream reassembly: order, overlaps, conflicts, limits, the consumer. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp/flow/reasm.h"

#define BIG_POOL (64u << 20)

/* ---- a recording consumer ---- */

struct rec {
	uint8_t out[1 << 17]; /* every fresh byte, in order */
	size_t n;
	int views;
	unsigned vflags;	/* all view flags seen */
	struct reasm_view last; /* the last view */
	size_t keep;		/* leave this many bytes of each view */
	bool keep_all;		/* consume nothing */
	bool stop;		/* answer REASM_STOP */
	bool started;
	uint32_t expect; /* where an unflagged view must start */
};

static size_t rec_sink(void *arg, const struct reasm_view *v)
{
	struct rec *r = arg;
	size_t n;

	ck_assert_uint_le(v->fresh, v->len);
	ck_assert_uint_gt(v->len, 0);
	if (r->started && !v->flags)
		ck_assert_uint_eq(v->seq, r->expect);
	ck_assert_uint_le(r->n + v->fresh, sizeof(r->out));
	memcpy(r->out + r->n, v->data + v->len - v->fresh, v->fresh);
	r->n += v->fresh;
	r->views++;
	r->vflags |= v->flags;
	r->last = *v;
	if (r->stop)
		return REASM_STOP;
	n = r->keep_all ? 0 : v->len > r->keep ? v->len - r->keep : 0;
	r->expect = v->seq + (uint32_t)n;
	r->started = true;
	return n;
}

/* ---- fixtures ---- */

struct fx {
	struct reasm_pool pool;
	struct reasm_ctx ctx;
	struct reasm_dir d;
	struct rec r;
	uint8_t src[1 << 16]; /* the stream: src[i] is at seq base + i */
	uint32_t base;
};

static struct fx *fx_new(uint32_t base, uint32_t window, uint16_t max_segs, size_t cap)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct reasm_limits lim = { .window = window, .max_segs = max_segs };

	ck_assert_ptr_nonnull(f);
	reasm_pool_init(&f->pool, cap);
	ck_assert_int_eq(reasm_ctx_init(&f->ctx, &f->pool, &lim), 0);
	f->base = base;
	for (size_t i = 0; i < sizeof(f->src); i++)
		f->src[i] = (uint8_t)(i * 131 + (i >> 8) * 7 + 1);
	ck_assert_int_eq(reasm_dir_pickup(&f->d, base), 0);
	return f;
}

static struct fx *fx_default(uint32_t base)
{
	return fx_new(base, REASM_WINDOW_DEFAULT, REASM_SEGS_DEFAULT, BIG_POOL);
}

/* Hand in src[off, off + len) at its place in the stream. */
static unsigned seg(struct fx *f, uint32_t off, uint32_t len, struct reasm_result *res)
{
	return reasm_segment(&f->ctx, &f->d, f->base + off, f->src + off, len, rec_sink, &f->r,
			     res);
}

/* Hand in other bytes at src's place. */
static unsigned seg_with(struct fx *f, uint32_t off, const void *data, uint32_t len,
			 struct reasm_result *res)
{
	return reasm_segment(&f->ctx, &f->d, f->base + off, data, len, rec_sink, &f->r, res);
}

/* The consumer saw exactly src[0, n). */
static void saw_src(struct fx *f, size_t n)
{
	ck_assert_uint_eq(f->r.n, n);
	ck_assert_mem_eq(f->r.out, f->src, n);
}

/* Free d: nothing may remain charged, to the pool or the worker. */
static void fx_free(struct fx *f)
{
	reasm_dir_free(&f->ctx, &f->d);
	ck_assert_ptr_null(f->d.buf);
	ck_assert_uint_eq(reasm_pool_used(&f->pool), 0);
	ck_assert_uint_eq(f->ctx.st.mem, 0);
	free(f);
}

/* ---- in order ---- */

START_TEST(test_in_order_zero_copy)
{
	struct fx *f = fx_default(1000);
	struct reasm_result res;

	ck_assert_uint_eq(sizeof(struct reasm_dir), 16);
	for (uint32_t off = 0; off < 3 * 1448; off += 1448) {
		ck_assert_uint_eq(seg(f, off, 1448, &res), REASM_IN_ORDER);
		/* the sink saw the segment's own bytes, nothing held or kept */
		ck_assert_ptr_eq(f->r.last.data, f->src + off);
		ck_assert_uint_eq(f->r.last.fresh, 1448);
		ck_assert_uint_eq(f->r.last.seq, 1000 + off);
		ck_assert_uint_eq(res.delivered, 1448);
		ck_assert_ptr_null(f->d.buf);
		ck_assert_uint_eq(reasm_pool_used(&f->pool), 0);
	}
	saw_src(f, 3 * 1448);
	ck_assert_uint_eq(f->d.next, 1000 + 3 * 1448);
	ck_assert_uint_eq(f->ctx.st.in_order, 3);
	ck_assert_uint_eq(f->ctx.st.bytes_copied, 0);
	ck_assert_uint_eq(f->ctx.st.bytes_delivered, 3 * 1448);
	fx_free(f);
}
END_TEST

START_TEST(test_zero_length_and_pickup)
{
	struct fx *f = fx_default(0);
	struct reasm_dir d = { 0 };
	struct reasm_result res;

	/* a pure ACK does nothing, and does not start a direction */
	ck_assert_uint_eq(reasm_segment(&f->ctx, &d, 77, NULL, 0, rec_sink, &f->r, &res), 0);
	ck_assert_uint_eq(res.flags, 0);
	ck_assert_int_eq(f->r.views, 0);
	ck_assert_uint_eq(f->ctx.st.segments, 0);
	/* a direction nobody started picks up at its first data segment */
	ck_assert_uint_eq(reasm_segment(&f->ctx, &d, 5000, f->src, 10, rec_sink, &f->r, &res),
			  REASM_IN_ORDER);
	ck_assert_uint_eq(d.next, 5010);
	ck_assert_uint_eq(reasm_segment(&f->ctx, &d, 5010, NULL, 0, rec_sink, &f->r, NULL), 0);
	ck_assert_uint_eq(d.next, 5010);
	saw_src(f, 10);
	reasm_dir_free(&f->ctx, &d);
	fx_free(f);
}
END_TEST

START_TEST(test_syn_takes_one)
{
	struct fx *f = fx_default(0);
	struct reasm_result res;

	/* ISN 2^32 - 1: the first data byte is at 0 */
	ck_assert_int_eq(reasm_dir_syn(&f->d, 0xffffffffu), 0);
	ck_assert_uint_eq(f->d.next, 0);
	/* a 1-byte segment at the ISN itself is behind next: nothing new */
	ck_assert_uint_eq(seg_with(f, 0xffffffffu, "X", 1, &res), REASM_DUP);
	ck_assert_int_eq(f->r.views, 0);
	ck_assert_uint_eq(seg(f, 0, 20, &res), REASM_IN_ORDER);
	saw_src(f, 20);
	/* a SYN's data (TFO) is handed in at isn + 1 */
	f->base = 700;
	f->r.started = false;
	ck_assert_int_eq(reasm_dir_syn(&f->d, 699), 0);
	ck_assert_uint_eq(seg(f, 0, 5, &res), REASM_IN_ORDER);
	ck_assert_uint_eq(f->r.last.seq, 700);
	fx_free(f);
}
END_TEST

START_TEST(test_start_busy)
{
	struct fx *f = fx_default(0);

	ck_assert_uint_eq(seg(f, 10, 10, NULL), REASM_HELD);
	ck_assert_int_eq(reasm_dir_syn(&f->d, 5), -EBUSY);
	ck_assert_int_eq(reasm_dir_pickup(&f->d, 5), -EBUSY);
	ck_assert_uint_eq(f->d.next, 0);
	fx_free(f);
}
END_TEST

START_TEST(test_ctx_limits)
{
	struct reasm_pool pool;
	struct reasm_ctx ctx;
	struct reasm_limits lim;

	reasm_pool_init(&pool, 1000);
	reasm_limits_default(&lim);
	ck_assert_uint_eq(lim.window, 32u << 10);
	ck_assert_int_eq(reasm_ctx_init(&ctx, &pool, &lim), 0);
	lim.window = 0;
	ck_assert_int_eq(reasm_ctx_init(&ctx, &pool, &lim), -EINVAL);
	lim.window = REASM_WINDOW_MAX + 1;
	ck_assert_int_eq(reasm_ctx_init(&ctx, &pool, &lim), -EINVAL);
	lim.window = REASM_WINDOW_MAX;
	ck_assert_int_eq(reasm_ctx_init(&ctx, &pool, &lim), 0);
	lim.max_segs = 0;
	ck_assert_int_eq(reasm_ctx_init(&ctx, &pool, &lim), -EINVAL);
	lim.max_segs = REASM_SEGS_MAX + 1;
	ck_assert_int_eq(reasm_ctx_init(&ctx, &pool, &lim), -EINVAL);
}
END_TEST

START_TEST(test_invalid_length)
{
	struct fx *f = fx_default(0);
	struct reasm_result res;

	/* never read: refused on its length */
	ck_assert_uint_eq(seg_with(f, 0, f->src, REASM_SEG_MAX + 1, &res), REASM_INVALID);
	ck_assert_int_eq(f->r.views, 0);
	ck_assert_uint_eq(f->ctx.st.invalid, 1);
	ck_assert_uint_eq(f->d.next, 0);
	fx_free(f);
}
END_TEST

/* ---- out of order ---- */

START_TEST(test_two_reversed_one_view)
{
	struct fx *f = fx_default(50);
	struct reasm_result res;

	ck_assert_uint_eq(seg(f, 100, 100, &res), REASM_HELD);
	ck_assert_uint_eq(res.held, 100);
	ck_assert_uint_eq(res.gap_age, 1);
	ck_assert_int_eq(f->r.views, 0);
	ck_assert_uint_gt(reasm_pool_used(&f->pool), 100);
	ck_assert_uint_eq(seg(f, 0, 100, &res), REASM_IN_ORDER | REASM_FILLED);
	/* both in one view, all of it new */
	ck_assert_int_eq(f->r.views, 1);
	ck_assert_uint_eq(f->r.last.len, 200);
	ck_assert_uint_eq(f->r.last.fresh, 200);
	ck_assert_uint_eq(f->r.last.seq, 50);
	ck_assert_uint_eq(res.delivered, 200);
	ck_assert_uint_eq(res.gap_age, 0);
	saw_src(f, 200);
	ck_assert_ptr_null(f->d.buf);
	ck_assert_uint_eq(reasm_pool_used(&f->pool), 0);
	ck_assert_uint_eq(f->ctx.st.held, 1);
	ck_assert_uint_eq(f->ctx.st.gaps_filled, 1);
	fx_free(f);
}
END_TEST

START_TEST(test_three_orders)
{
	static const uint32_t orders[][3] = { { 1, 2, 0 }, { 2, 1, 0 }, { 2, 0, 1 }, { 1, 0, 2 } };

	for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
		struct fx *f = fx_default(7);

		for (int i = 0; i < 3; i++)
			seg(f, orders[o][i] * 300, 300, NULL);
		saw_src(f, 900);
		ck_assert_uint_eq(f->d.next, 7 + 900);
		ck_assert_ptr_null(f->d.buf);
		fx_free(f);
	}
}
END_TEST

START_TEST(test_many_reversed)
{
	struct fx *f = fx_default(123456);
	struct reasm_result res;

	for (int i = 19; i >= 1; i--) {
		ck_assert_uint_eq(seg(f, i * 1000, 1000, &res), REASM_HELD);
		ck_assert_uint_eq(res.gap_age, 20 - i);
	}
	ck_assert_int_eq(f->r.views, 0);
	ck_assert_uint_eq(seg(f, 0, 1000, &res), REASM_IN_ORDER | REASM_FILLED);
	ck_assert_int_eq(f->r.views, 1);
	ck_assert_uint_eq(f->r.last.len, 20000);
	ck_assert_uint_eq(res.delivered, 20000);
	saw_src(f, 20000);
	fx_free(f);
}
END_TEST

/* a fixed shuffle of n segments, some of them sent twice */
START_TEST(test_shuffled_with_dups)
{
	struct fx *f = fx_default(0xfffff000u); /* wraps on the way */
	uint32_t order[40], x = 12345;

	for (uint32_t i = 0; i < 40; i++)
		order[i] = i;
	for (uint32_t i = 39; i > 0; i--) {
		uint32_t j, t;

		x = x * 1103515245 + 12345;
		j = (x >> 8) % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t i = 0; i < 40; i++) {
		seg(f, order[i] * 500, 500, NULL);
		if (i % 3 == 0)
			ck_assert(seg(f, order[i] * 500, 500, NULL) & REASM_DUP);
	}
	saw_src(f, 20000);
	ck_assert_uint_eq(f->d.next, 0xfffff000u + 20000);
	ck_assert_uint_eq(f->ctx.st.conflict, 0);
	fx_free(f);
}
END_TEST

/* ---- retransmissions and overlaps ---- */

START_TEST(test_retransmission)
{
	struct fx *f = fx_default(0);
	struct reasm_result res;

	seg(f, 0, 100, NULL);
	/* all of it consumed and released: nothing to compare, nothing new */
	ck_assert_uint_eq(seg(f, 0, 100, &res), REASM_DUP);
	ck_assert_uint_eq(res.known, 100);
	ck_assert_int_eq(f->r.views, 1);
	ck_assert_uint_eq(f->ctx.st.dup, 1);
	ck_assert_uint_eq(f->ctx.st.uncompared_bytes, 100);
	/* a held segment sent again */
	seg(f, 200, 50, NULL);
	ck_assert_uint_eq(seg(f, 200, 50, &res), REASM_DUP);
	ck_assert_uint_eq(res.known, 50);
	ck_assert_uint_eq(res.held, 0);
	ck_assert_uint_eq(f->ctx.st.dup, 2);
	/* the start of a retransmission is old, its end new: trimmed */
	ck_assert_uint_eq(seg(f, 50, 100, &res), REASM_IN_ORDER | REASM_OVERLAP);
	ck_assert_uint_eq(res.known, 50);
	ck_assert_uint_eq(res.delivered, 50);
	/* one new byte is enough not to be a duplicate */
	ck_assert_uint_eq(seg(f, 140, 11, &res), REASM_IN_ORDER | REASM_OVERLAP);
	ck_assert_uint_eq(res.known, 10);
	saw_src(f, 151);
	fx_free(f);
}
END_TEST

START_TEST(test_overlap_each_side)
{
	struct fx *f = fx_default(0);
	struct reasm_result res;

	ck_assert_uint_eq(seg(f, 100, 100, &res), REASM_HELD);
	/* reaching into the held segment from the left */
	ck_assert_uint_eq(seg(f, 60, 60, &res), REASM_HELD | REASM_OVERLAP);
	ck_assert_uint_eq(res.known, 20);
	ck_assert_uint_eq(res.held, 40);
	/* and from the right */
	ck_assert_uint_eq(seg(f, 180, 60, &res), REASM_HELD | REASM_OVERLAP);
	ck_assert_uint_eq(res.known, 20);
	ck_assert_uint_eq(res.held, 40);
	/* covering it all and more on both sides */
	ck_assert_uint_eq(seg(f, 30, 250, &res), REASM_HELD | REASM_OVERLAP);
	ck_assert_uint_eq(res.known, 180);
	ck_assert_uint_eq(res.held, 70);
	/* inside: nothing new */
	ck_assert_uint_eq(seg(f, 150, 10, &res), REASM_DUP);
	ck_assert_uint_eq(f->ctx.st.overlap, 3);
	ck_assert_uint_eq(f->ctx.st.conflict, 0);
	ck_assert_uint_eq(seg(f, 0, 40, &res), REASM_IN_ORDER | REASM_FILLED | REASM_OVERLAP);
	ck_assert_uint_eq(res.delivered, 280);
	saw_src(f, 280);
	fx_free(f);
}
END_TEST

/* first data wins: held bytes are delivered, not the later copy */
START_TEST(test_first_wins_held)
{
	struct fx *f = fx_default(0);
	struct reasm_result res;
	uint8_t other[300];

	memset(other, 'Z', sizeof(other));
	seg(f, 100, 50, NULL);
	ck_assert_uint_eq(seg_with(f, 0, other, 300, &res),
			  REASM_IN_ORDER | REASM_FILLED | REASM_OVERLAP | REASM_CONFLICT);
	ck_assert_uint_eq(res.known, 50);
	ck_assert_uint_eq(res.conflict, 50);
	ck_assert_uint_eq(f->r.n, 300);
	ck_assert_mem_eq(f->r.out, other, 100);
	ck_assert_mem_eq(f->r.out + 100, f->src + 100, 50);
	ck_assert_mem_eq(f->r.out + 150, other + 150, 150);
	ck_assert_uint_eq(f->ctx.st.conflict, 1);
	ck_assert_uint_eq(f->ctx.st.conflict_bytes, 50);
	fx_free(f);
}
END_TEST

START_TEST(test_conflict_held)
{
	struct fx *f = fx_default(0);
	struct reasm_result res;
	uint8_t other[20];

	seg(f, 100, 20, NULL);
	memcpy(other, f->src + 100, 20);
	other[3] ^= 1;
	other[17] ^= 0x80;
	ck_assert_uint_eq(seg_with(f, 100, other, 20, &res), REASM_DUP | REASM_CONFLICT);
	ck_assert_uint_eq(res.conflict, 2);
	/* a partial overlap that differs */
	ck_assert_uint_eq(seg_with(f, 110, other + 10, 10, &res), REASM_DUP | REASM_CONFLICT);
	ck_assert_uint_eq(res.conflict, 1);
	ck_assert_uint_eq(seg_with(f, 90, f->src + 90, 20, &res), REASM_HELD | REASM_OVERLAP);
	seg(f, 0, 90, NULL);
	saw_src(f, 120); /* the first copy */
	ck_assert_uint_eq(f->ctx.st.conflict, 2);
	ck_assert_uint_eq(f->ctx.st.conflict_bytes, 3);
	fx_free(f);
}
END_TEST

START_TEST(test_conflict_kept_not_released)
{
	struct fx *f = fx_default(0);
	struct reasm_result res;
	uint8_t other[100];

	/* the consumer keeps the last 30 bytes of what it sees */
	f->r.keep = 30;
	seg(f, 0, 100, NULL);
	memset(other, '#', sizeof(other));
	/* 70 released bytes cannot be compared; the 30 kept ones can */
	ck_assert_uint_eq(seg_with(f, 0, other, 100, &res), REASM_DUP | REASM_CONFLICT);
	ck_assert_uint_eq(res.known, 100);
	ck_assert_uint_eq(res.conflict, 30);
	ck_assert_uint_eq(f->ctx.st.uncompared_bytes, 70);
	/* the released part alone: a plain retransmission */
	ck_assert_uint_eq(seg_with(f, 0, other, 70, &res), REASM_DUP);
	ck_assert_uint_eq(res.conflict, 0);
	/* the same kept bytes, same content: no conflict */
	ck_assert_uint_eq(seg(f, 80, 20, &res), REASM_DUP);
	/* straddling kept and new bytes */
	ck_assert_uint_eq(seg_with(f, 90, other, 20, &res),
			  REASM_IN_ORDER | REASM_OVERLAP | REASM_CONFLICT);
	ck_assert_uint_eq(res.conflict, 10);
	ck_assert_uint_eq(f->r.n, 110);
	ck_assert_mem_eq(f->r.out, f->src, 100);
	ck_assert_mem_eq(f->r.out + 100, other + 10, 10);
	fx_free(f);
}
END_TEST

/* ---- wrap-around ---- */

START_TEST(test_wraparound)
{
	struct fx *f = fx_default(0xffffff00u);
	struct reasm_result res;

	/* held across 2^32, then behind and ahead of next on both sides of it */
	ck_assert_uint_eq(seg(f, 0x200, 0x100, &res), REASM_HELD);
	ck_assert_uint_eq(seg(f, 0xf0, 0x20, &res), REASM_HELD);
	ck_assert_uint_eq(seg(f, 0x0, 0x80, &res), REASM_IN_ORDER);
	ck_assert_uint_eq(f->d.next, 0xffffff80u);
	/* reaches the segment held at 2^32 - 0x10 and past it, across 2^32 */
	ck_assert_uint_eq(seg(f, 0x40, 0xb0, &res), REASM_IN_ORDER | REASM_OVERLAP | REASM_FILLED);
	ck_assert_uint_eq(res.delivered, 0x90);
	ck_assert_uint_eq(f->d.next, 0x10);
	ck_assert_uint_eq(seg(f, 0x110, 0xf0, &res), REASM_IN_ORDER | REASM_FILLED);
	ck_assert_uint_eq(res.delivered, 0xf0 + 0x100);
	ck_assert_uint_eq(f->d.next, 0x200);
	saw_src(f, 0x300);
	/* half the sequence space away is behind, not ahead */
	ck_assert_uint_eq(seg(f, 0x300 + 0x80000000u, 10, &res), REASM_DUP);
	ck_assert_uint_eq(seg(f, 0x300 + 0x7fffffffu, 10, &res), REASM_BEYOND_WINDOW);
	ck_assert_uint_eq(res.refused, 10);
	fx_free(f);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_window)
{
	struct fx *f = fx_new(0, 1000, 64, BIG_POOL);
	struct reasm_result res;

	ck_assert_uint_eq(seg(f, 1000, 10, &res), REASM_BEYOND_WINDOW);
	ck_assert_uint_eq(res.refused, 10);
	ck_assert_ptr_null(f->d.buf);
	ck_assert_uint_eq(seg(f, 990, 30, &res), REASM_HELD | REASM_BEYOND_WINDOW);
	ck_assert_uint_eq(res.held, 10);
	ck_assert_uint_eq(res.refused, 20);
	ck_assert_uint_eq(f->ctx.st.beyond_window, 2);
	/* in order, a segment longer than the window is delivered whole */
	ck_assert_uint_eq(seg(f, 0, 5000, &res), REASM_IN_ORDER | REASM_FILLED | REASM_OVERLAP);
	saw_src(f, 5000);
	fx_free(f);
}
END_TEST

START_TEST(test_max_segs)
{
	struct fx *f = fx_new(0, 4096, 4, BIG_POOL);
	struct reasm_result res;

	for (uint32_t i = 1; i <= 4; i++)
		ck_assert_uint_eq(seg(f, i * 10, 1, &res), REASM_HELD);
	/* a hostile spray of 1-byte segments stops at max_segs */
	ck_assert_uint_eq(seg(f, 50, 1, &res), REASM_SEGS_FULL);
	ck_assert_uint_eq(res.refused, 1);
	/* known bytes still are, and compared */
	ck_assert_uint_eq(seg(f, 20, 1, &res), REASM_DUP);
	/* all or nothing: 2 new pieces do not fit */
	ck_assert_uint_eq(seg(f, 15, 10, &res), REASM_SEGS_FULL | REASM_OVERLAP);
	ck_assert_uint_eq(res.refused, 9);
	ck_assert_uint_eq(f->ctx.st.segs_full, 2);
	/* in order, everything is delivered regardless */
	ck_assert_uint_eq(seg(f, 0, 60, &res), REASM_IN_ORDER | REASM_FILLED | REASM_OVERLAP);
	saw_src(f, 60);
	fx_free(f);
}
END_TEST

/* two directions under one tiny pool */
START_TEST(test_pool_cap_shared)
{
	struct fx *f = fx_new(0, 1 << 20, 64, 4096);
	struct reasm_dir other = { 0 };
	struct reasm_result res;
	struct rec r2 = { 0 };
	size_t used;

	ck_assert_int_eq(reasm_dir_pickup(&other, 0), 0);
	ck_assert_uint_eq(seg(f, 100, 3000, &res), REASM_HELD);
	used = reasm_pool_used(&f->pool);
	ck_assert_uint_gt(used, 3000);
	ck_assert_uint_le(used, 4096);
	ck_assert_uint_eq(f->ctx.st.mem, used);
	/* the other direction cannot hold as much */
	ck_assert_uint_eq(reasm_segment(&f->ctx, &other, 100, f->src, 2000, rec_sink, &r2, &res),
			  REASM_NOMEM);
	ck_assert_uint_eq(res.refused, 2000);
	ck_assert_uint_eq(reasm_pool_used(&f->pool), used);
	ck_assert_uint_ge(f->ctx.st.nomem, 1);
	/* but can deliver in order, zero-copy */
	ck_assert_uint_eq(reasm_segment(&f->ctx, &other, 0, f->src, 2000, rec_sink, &r2, &res),
			  REASM_IN_ORDER);
	ck_assert_uint_eq(r2.n, 2000);
	/* the first direction gone, the other can hold */
	reasm_dir_free(&f->ctx, &f->d);
	ck_assert_uint_eq(reasm_pool_used(&f->pool), 0);
	ck_assert_uint_eq(reasm_segment(&f->ctx, &other, 2100, f->src, 2000, rec_sink, &r2, &res),
			  REASM_HELD);
	reasm_dir_free(&f->ctx, &other);
	ck_assert_uint_ge(f->ctx.st.mem_peak, used);
	ck_assert_uint_le(f->ctx.st.mem_peak, 4096);
	fx_free(f);
}
END_TEST

/* no memory for one view: the same bytes, in order, in pieces */
START_TEST(test_pool_short_for_view)
{
	struct fx *f = fx_new(0, 8192, 64, 400);
	struct reasm_result res;

	/* ending one byte into the held segment */
	ck_assert_uint_eq(seg(f, 1000, 100, &res), REASM_HELD);
	ck_assert_uint_eq(seg(f, 0, 1001, &res), REASM_IN_ORDER | REASM_FILLED | REASM_OVERLAP);
	ck_assert_int_eq(f->r.views, 2);
	ck_assert_uint_eq(f->r.last.len, 100);
	saw_src(f, 1100);
	ck_assert_ptr_null(f->d.buf);
	reasm_dir_free(&f->ctx, &f->d);
	reasm_dir_pickup(&f->d, 0);
	f->r.started = false;
	f->r.n = 0;
	f->r.views = 0;

	ck_assert_uint_eq(seg(f, 1000, 100, &res), REASM_HELD);
	ck_assert_uint_eq(seg(f, 0, 1050, &res), REASM_IN_ORDER | REASM_FILLED | REASM_OVERLAP);
	ck_assert_int_eq(f->r.views, 2);
	ck_assert_uint_eq(res.delivered, 1100);
	saw_src(f, 1100);
	ck_assert_ptr_null(f->d.buf);
	ck_assert_uint_eq(reasm_pool_used(&f->pool), 0);
	fx_free(f);
}
END_TEST

/* no memory to keep what the consumer left: released, and the next view says so */
START_TEST(test_pool_short_for_kept)
{
	struct fx *f = fx_new(0, 8192, 64, 1000);
	struct reasm_result res;

	f->r.keep_all = true;
	ck_assert_uint_eq(seg(f, 0, 500, &res), REASM_IN_ORDER);
	ck_assert_uint_eq(seg(f, 500, 500, &res), REASM_IN_ORDER | REASM_TRUNCATED);
	ck_assert_uint_eq(f->r.last.len, 500);
	ck_assert_ptr_eq(f->r.last.data, f->src + 500);
	ck_assert_uint_eq(f->r.last.flags, REASM_VIEW_TRUNCATED);
	ck_assert_uint_ge(f->ctx.st.nomem, 1);
	ck_assert_uint_eq(f->ctx.st.kept_truncated, 1);
	ck_assert_uint_eq(f->ctx.st.bytes_truncated, 500);
	saw_src(f, 1000);
	fx_free(f);
}
END_TEST

/* ---- the consumer ---- */

static const char request[] = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n"
			      "User-Agent: test\r\nAccept: */*\r\n\r\n";

struct waiter {
	int whole; /* times the whole request was seen in one view */
	int views;
};

/* Waits for a whole request, as an HTTP parser does. */
static size_t wait_request(void *arg, const struct reasm_view *v)
{
	struct waiter *w = arg;
	size_t n = sizeof(request) - 1;

	w->views++;
	if (v->len < n) {
		ck_assert_mem_eq(v->data, request, v->len);
		return 0;
	}
	ck_assert_uint_eq(v->len, n);
	ck_assert_mem_eq(v->data, request, n);
	w->whole++;
	return n;
}

START_TEST(test_message_cut_everywhere)
{
	size_t n = sizeof(request) - 1;

	for (size_t cut = 1; cut < n; cut++) {
		for (int reversed = 0; reversed < 2; reversed++) {
			struct fx *f = fx_default(4000);
			struct waiter w = { 0 };
			const uint8_t *q = (const uint8_t *)request;

			if (reversed)
				reasm_segment(&f->ctx, &f->d, 4000 + cut, q + cut, n - cut,
					      wait_request, &w, NULL);
			reasm_segment(&f->ctx, &f->d, 4000, q, cut, wait_request, &w, NULL);
			if (!reversed)
				reasm_segment(&f->ctx, &f->d, 4000 + cut, q + cut, n - cut,
					      wait_request, &w, NULL);
			ck_assert_int_eq(w.whole, 1);
			ck_assert_int_eq(w.views, reversed ? 1 : 2);
			ck_assert_ptr_null(f->d.buf);
			fx_free(f);
		}
	}
}
END_TEST

START_TEST(test_keep_across_calls)
{
	struct fx *f = fx_default(0);
	struct reasm_result res;

	f->r.keep = 7;
	seg(f, 0, 10, NULL);
	ck_assert_ptr_nonnull(f->d.buf);
	seg(f, 10, 10, &res);
	/* 7 kept bytes, then 10 new ones, one view */
	ck_assert_uint_eq(f->r.last.len, 17);
	ck_assert_uint_eq(f->r.last.fresh, 10);
	ck_assert_uint_eq(f->r.last.seq, 3);
	ck_assert_mem_eq(f->r.last.data, f->src + 3, 17);
	/* a segment that fills a gap comes after the kept bytes too */
	seg(f, 30, 10, NULL);
	seg(f, 20, 10, &res);
	ck_assert_uint_eq(f->r.last.len, 27);
	ck_assert_uint_eq(f->r.last.fresh, 20);
	ck_assert_mem_eq(f->r.last.data, f->src + 13, 27);
	f->r.keep = 0;
	seg(f, 40, 5, NULL);
	ck_assert_ptr_null(f->d.buf);
	saw_src(f, 45);
	fx_free(f);
}
END_TEST

START_TEST(test_kept_truncated)
{
	struct fx *f = fx_new(0, 64, 8, BIG_POOL);
	struct reasm_result res;

	f->r.keep_all = true;
	for (uint32_t off = 0; off < 60; off += 10)
		ck_assert_uint_eq(seg(f, off, 10, &res), REASM_IN_ORDER);
	/* 70 bytes kept: over the window, the oldest 6 go */
	ck_assert_uint_eq(seg(f, 60, 10, &res), REASM_IN_ORDER | REASM_TRUNCATED);
	ck_assert_uint_eq(f->r.last.len, 70);
	ck_assert_uint_eq(f->ctx.st.kept_truncated, 1);
	ck_assert_uint_eq(f->ctx.st.bytes_truncated, 6);
	/* the next view starts where the kept bytes now do, and says so */
	ck_assert_uint_eq(seg(f, 70, 10, &res), REASM_IN_ORDER | REASM_TRUNCATED);
	ck_assert_uint_eq(f->r.last.flags, REASM_VIEW_TRUNCATED);
	ck_assert_uint_eq(f->r.last.seq, 6);
	ck_assert_uint_eq(f->r.last.len, 74);
	ck_assert_mem_eq(f->r.last.data, f->src + 6, 74);
	/* a segment of window + 1 bytes, nothing consumed, nothing kept before: 1 byte goes */
	f->r.keep_all = false;
	f->r.keep = 1000;
	reasm_dir_free(&f->ctx, &f->d);
	reasm_dir_pickup(&f->d, 1000);
	f->r.started = false;
	f->r.n = 0;
	ck_assert_uint_eq(seg(f, 1000, 65, &res), REASM_IN_ORDER | REASM_TRUNCATED);
	ck_assert_uint_eq(f->ctx.st.bytes_truncated, 6 + 10 + 1);
	ck_assert_uint_eq(seg(f, 1065, 1, &res), REASM_IN_ORDER | REASM_TRUNCATED);
	ck_assert_uint_eq(f->r.last.seq, 1001);
	ck_assert_uint_eq(f->r.last.len, 65);
	ck_assert_uint_eq(f->r.last.flags, REASM_VIEW_TRUNCATED);
	reasm_dir_free(&f->ctx, &f->d);
	reasm_dir_pickup(&f->d, 0);
	f->r.started = false;
	f->r.n = 0;
	seg(f, 0, 80, &res);
	/* a segment longer than the window, nothing consumed: its last 64 bytes stay */
	f->r.keep_all = false;
	f->r.keep = 1000;
	ck_assert_uint_eq(seg(f, 80, 200, &res), REASM_IN_ORDER | REASM_TRUNCATED);
	ck_assert_uint_eq(seg(f, 280, 1, &res), REASM_IN_ORDER | REASM_TRUNCATED);
	ck_assert_uint_eq(f->r.last.seq, 280 - 64);
	ck_assert_uint_eq(f->r.last.flags, REASM_VIEW_TRUNCATED);
	ck_assert_mem_eq(f->r.last.data, f->src + 280 - 64, 65);
	saw_src(f, 281);
	fx_free(f);
}
END_TEST

START_TEST(test_stop)
{
	struct fx *f = fx_default(0);
	struct reasm_result res;
	int views;

	seg(f, 500, 100, NULL);
	f->r.stop = true;
	/* the held segment goes with the rest */
	ck_assert_uint_eq(seg(f, 0, 100, &res), REASM_IN_ORDER | REASM_STOPPED);
	ck_assert_ptr_null(f->d.buf);
	ck_assert_uint_eq(reasm_pool_used(&f->pool), 0);
	views = f->r.views;
	ck_assert_uint_eq(seg(f, 100, 100, &res), REASM_STOPPED);
	ck_assert_uint_eq(reasm_skip_gap(&f->ctx, &f->d, rec_sink, &f->r, &res), 0);
	ck_assert_int_eq(f->r.views, views);
	ck_assert_uint_eq(f->ctx.st.stopped, 1);
	/* a stopped direction may start again */
	f->r.stop = false;
	f->r.started = false;
	ck_assert_int_eq(reasm_dir_pickup(&f->d, 5), 0);
	ck_assert_uint_eq(reasm_segment(&f->ctx, &f->d, 5, f->src, 3, rec_sink, &f->r, &res),
			  REASM_IN_ORDER);
	/* the caller stops it too */
	seg(f, 3000, 10, NULL);
	reasm_dir_stop(&f->ctx, &f->d);
	ck_assert_uint_eq(reasm_pool_used(&f->pool), 0);
	ck_assert_uint_eq(seg(f, 8, 1, &res), REASM_STOPPED);
	fx_free(f);
}
END_TEST

/* ---- gaps ---- */

START_TEST(test_skip_gap)
{
	struct fx *f = fx_default(0);
	struct reasm_result res;

	f->r.keep = 5;
	seg(f, 0, 10, NULL);
	seg(f, 20, 10, NULL);
	seg(f, 30, 5, NULL);
	seg(f, 50, 10, NULL);
	ck_assert_uint_eq(reasm_skip_gap(&f->ctx, &f->d, rec_sink, &f->r, &res), REASM_GAP_SKIPPED);
	ck_assert_uint_eq(res.lost, 10);
	ck_assert_uint_eq(res.delivered, 15);
	/* the held run after the gap in one view, the kept bytes gone */
	ck_assert_uint_eq(f->r.last.flags, REASM_VIEW_GAP);
	ck_assert_uint_eq(f->r.last.seq, 20);
	ck_assert_uint_eq(f->r.last.len, 15);
	ck_assert_mem_eq(f->r.last.data, f->src + 20, 15);
	ck_assert_uint_eq(f->d.next, 35);
	ck_assert_uint_eq(reasm_skip_gap(&f->ctx, &f->d, rec_sink, &f->r, &res), REASM_GAP_SKIPPED);
	ck_assert_uint_eq(res.lost, 15);
	ck_assert_uint_eq(f->r.last.seq, 50);
	ck_assert_uint_eq(f->r.last.len, 10);
	/* nothing held: nothing to skip */
	ck_assert_uint_eq(reasm_skip_gap(&f->ctx, &f->d, rec_sink, &f->r, &res), 0);
	ck_assert_uint_eq(res.flags, 0);
	ck_assert_uint_eq(f->ctx.st.gaps_skipped, 2);
	ck_assert_uint_eq(f->ctx.st.bytes_lost, 25);
	ck_assert_uint_eq(f->r.n, 10 + 15 + 10);
	ck_assert_mem_eq(f->r.out + 10, f->src + 20, 15);
	/* a late copy of lost bytes is behind next: nothing new */
	ck_assert_uint_eq(seg(f, 10, 10, &res), REASM_DUP);
	fx_free(f);
}
END_TEST

START_TEST(test_gap_age)
{
	struct fx *f = fx_default(0);
	struct reasm_result res;

	seg(f, 100, 10, &res);
	ck_assert_uint_eq(res.gap_age, 1);
	seg(f, 120, 10, &res);
	seg(f, 120, 10, &res);
	ck_assert_uint_eq(res.gap_age, 3);
	/* next moves (the gap shrinks): the age starts again */
	seg(f, 0, 50, &res);
	ck_assert_uint_eq(res.gap_age, 0);
	seg(f, 140, 10, &res);
	ck_assert_uint_eq(res.gap_age, 1);
	seg(f, 50, 50, &res);
	/* [100, 110) delivered; [120, 130) and [140, 150) still wait */
	ck_assert_uint_eq(res.gap_age, 0);
	ck_assert_uint_eq(f->d.next, 110);
	fx_free(f);
}
END_TEST

START_TEST(test_free_with_data)
{
	struct fx *f = fx_default(0);

	f->r.keep = 100;
	seg(f, 0, 1000, NULL);
	for (uint32_t i = 0; i < 30; i++)
		seg(f, 2000 + i * 100, 50, NULL);
	ck_assert_uint_gt(reasm_pool_used(&f->pool), 30 * 50 + 100);
	ck_assert_uint_eq(f->ctx.st.mem, reasm_pool_used(&f->pool));
	fx_free(f); /* asserts the pool is back at zero */
}
END_TEST

START_TEST(test_stats_add)
{
	struct reasm_stats a = { .segments = 2, .mem_peak = 5, .invalid = 1 },
			   sum = { .segments = 1 };

	reasm_stats_add(&sum, &a);
	ck_assert_uint_eq(sum.segments, 3);
	ck_assert_uint_eq(sum.mem_peak, 5);
	ck_assert_uint_eq(sum.invalid, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reasm");
	TCase *tc = tcase_create("reasm");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_in_order_zero_copy);
	tcase_add_test(tc, test_zero_length_and_pickup);
	tcase_add_test(tc, test_syn_takes_one);
	tcase_add_test(tc, test_start_busy);
	tcase_add_test(tc, test_ctx_limits);
	tcase_add_test(tc, test_invalid_length);
	tcase_add_test(tc, test_two_reversed_one_view);
	tcase_add_test(tc, test_three_orders);
	tcase_add_test(tc, test_many_reversed);
	tcase_add_test(tc, test_shuffled_with_dups);
	tcase_add_test(tc, test_retransmission);
	tcase_add_test(tc, test_overlap_each_side);
	tcase_add_test(tc, test_first_wins_held);
	tcase_add_test(tc, test_conflict_held);
	tcase_add_test(tc, test_conflict_kept_not_released);
	tcase_add_test(tc, test_wraparound);
	tcase_add_test(tc, test_window);
	tcase_add_test(tc, test_max_segs);
	tcase_add_test(tc, test_pool_cap_shared);
	tcase_add_test(tc, test_pool_short_for_view);
	tcase_add_test(tc, test_pool_short_for_kept);
	tcase_add_test(tc, test_message_cut_everywhere);
	tcase_add_test(tc, test_keep_across_calls);
	tcase_add_test(tc, test_kept_truncated);
	tcase_add_test(tc, test_stop);
	tcase_add_test(tc, test_skip_gap);
	tcase_add_test(tc, test_gap_age);
	tcase_add_test(tc, test_free_with_data);
	tcase_add_test(tc, test_stats_add);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
