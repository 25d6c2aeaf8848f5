// SPDX-License-Identifier: Apache-2.0
/*
 * TCP stream reassembly (reasm.h has the contract).
 *
 * A busy direction has one struct reasm_buf: a sorted list of held segments
 * (each one allocation, its bytes disjoint from every other's and strictly
 * after `next`) and, in the same allocation as the list's header, a linear
 * buffer of the bytes kept for the consumer, which end at `next`.  A view
 * that needs copying is built in that buffer, after the kept bytes.
 *
 * Offsets: every sequence number is taken relative to `next` (x - next,
 * unsigned 32-bit) before it is compared; held data lies in (0, window) and
 * window <= REASM_WINDOW_MAX, so sums of offsets and lengths cannot wrap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reasm.h"

#define DIR_STARTED 0x1
#define DIR_STOPPED 0x2
#define DIR_TRUNC 0x4 /* the next view carries REASM_VIEW_TRUNCATED */
#define DIR_GAP 0x8   /* the next view carries REASM_VIEW_GAP */

/* what an allocation costs beyond the bytes asked for (glibc's chunk header, rounding) */
#define ALLOC_OVERHEAD 16
/* the smallest kept buffer */
#define KEEP_MIN 256

struct reasm_seg {
	struct reasm_seg *next;
	uint32_t seq;
	uint32_t len;
	uint8_t data[];
};

struct reasm_buf {
	struct reasm_seg *head, *tail; /* held, by ascending seq */
	uint32_t held;		       /* bytes in them */
	uint16_t nsegs;
	uint16_t age;		   /* segments since next last moved */
	uint32_t kcap, koff, klen; /* kept: mem[koff, koff + klen), ending at next */
	uint8_t mem[];
};

/* One call: what every step needs. */
struct call {
	struct reasm_ctx *ctx;
	struct reasm_dir *d;
	reasm_sink_fn sink;
	void *arg;
	struct reasm_result *res;
};

static size_t seg_cost(uint32_t len)
{
	return sizeof(struct reasm_seg) + len + ALLOC_OVERHEAD;
}

static size_t buf_cost(uint32_t kcap)
{
	return sizeof(struct reasm_buf) + kcap + ALLOC_OVERHEAD;
}

/* ---- the pool ---- */

void reasm_pool_init(struct reasm_pool *pool, size_t cap_bytes)
{
	atomic_init(&pool->used, 0);
	pool->cap = cap_bytes;
}

size_t reasm_pool_used(struct reasm_pool *pool)
{
	return atomic_load_explicit(&pool->used, memory_order_relaxed);
}

/* Charge n bytes to the pool; over its cap only if force (memory about to be given back). */
static bool charge(struct reasm_ctx *ctx, size_t n, bool force)
{
	struct reasm_pool *p = ctx->pool;
	size_t cur = atomic_load_explicit(&p->used, memory_order_relaxed);

	do {
		if (!force && (n > p->cap || cur > p->cap - n)) {
			ctx->st.nomem++;
			return false;
		}
	} while (!atomic_compare_exchange_weak_explicit(
		&p->used, &cur, cur + n, memory_order_relaxed, memory_order_relaxed));
	ctx->st.mem += n;
	if (ctx->st.mem > ctx->st.mem_peak)
		ctx->st.mem_peak = ctx->st.mem;
	return true;
}

static void uncharge(struct reasm_ctx *ctx, size_t n)
{
	atomic_fetch_sub_explicit(&ctx->pool->used, n, memory_order_relaxed);
	ctx->st.mem -= n;
}

/* ---- limits, context, stats ---- */

void reasm_limits_default(struct reasm_limits *lim)
{
	lim->window = REASM_WINDOW_DEFAULT;
	lim->max_segs = REASM_SEGS_DEFAULT;
}

int reasm_ctx_init(struct reasm_ctx *ctx, struct reasm_pool *pool, const struct reasm_limits *lim)
{
	if (!lim->window || lim->window > REASM_WINDOW_MAX || !lim->max_segs ||
	    lim->max_segs > REASM_SEGS_MAX)
		return -EINVAL;
	memset(ctx, 0, sizeof(*ctx));
	ctx->pool = pool;
	ctx->lim = *lim;
	return 0;
}

void reasm_stats_add(struct reasm_stats *sum, const struct reasm_stats *st)
{
	uint64_t *s = (uint64_t *)sum;
	const uint64_t *a = (const uint64_t *)st;

	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		s[i] += a[i];
}

/* ---- the direction's buffer ---- */

static struct reasm_buf *buf_get(struct call *c)
{
	struct reasm_buf *b = c->d->buf;

	if (b)
		return b;
	if (!charge(c->ctx, buf_cost(0), false))
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b) {
		uncharge(c->ctx, buf_cost(0));
		c->ctx->st.nomem++;
		return NULL;
	}
	c->d->buf = b;
	return b;
}

/*
 * Move the kept bytes to a buffer of kcap bytes (>= klen).  credit: bytes
 * of the pool the caller gives back right after (held segments it copies
 * in); only growth beyond it must fit under the cap.
 */
static bool buf_resize(struct call *c, uint32_t kcap, size_t credit)
{
	struct reasm_buf *b = c->d->buf, *nb;
	uint32_t old = b->kcap;
	size_t more = kcap > old ? kcap - old : 0;
	size_t checked = more > credit ? more - credit : 0;

	if (checked && !charge(c->ctx, checked, false))
		return false;
	if (more > checked)
		charge(c->ctx, more - checked, true);
	nb = malloc(sizeof(*nb) + kcap);
	if (!nb) {
		uncharge(c->ctx, more);
		c->ctx->st.nomem++;
		return false;
	}
	*nb = *b;
	memcpy(nb->mem, b->mem + b->koff, b->klen);
	nb->koff = 0;
	nb->kcap = kcap;
	free(b);
	c->d->buf = nb;
	if (kcap < old)
		uncharge(c->ctx, old - kcap);
	return true;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = KEEP_MIN;

	while (p < n)
		p <<= 1;
	return p;
}

/*
 * Room for add bytes after the kept ones: compacting (moving the kept
 * bytes, O(kept) as the view itself) or growing to a power of two.
 */
static bool kept_reserve(struct call *c, uint32_t add, size_t credit)
{
	struct reasm_buf *b = buf_get(c);
	uint32_t need;

	if (!b)
		return false;
	need = b->klen + add;
	if (b->koff + need <= b->kcap)
		return true;
	if (need <= b->kcap) {
		memmove(b->mem, b->mem + b->koff, b->klen);
		b->koff = 0;
		return true;
	}
	return buf_resize(c, pow2_at_least(need), credit);
}

static void seg_free(struct call *c, struct reasm_seg *s)
{
	uncharge(c->ctx, seg_cost(s->len));
	free(s);
}

/* n kept bytes were released unconsumed: counted, and the next view says so. */
static void truncated(struct call *c, uint32_t n)
{
	c->ctx->st.kept_truncated++;
	c->ctx->st.bytes_truncated += n;
	c->res->flags |= REASM_TRUNCATED;
	c->d->state |= DIR_TRUNC;
}

static void release_kept(struct call *c)
{
	struct reasm_buf *b = c->d->buf;

	if (!b || !b->klen)
		return;
	truncated(c, b->klen);
	b->koff = b->klen = 0;
}

/* After a call: an empty buffer goes, an oversized one shrinks. */
static void buf_tidy(struct call *c)
{
	struct reasm_buf *b = c->d->buf;

	if (!b)
		return;
	if (!b->klen)
		b->koff = 0;
	if (!b->klen && !b->nsegs) {
		uncharge(c->ctx, buf_cost(b->kcap));
		free(b);
		c->d->buf = NULL;
	} else if (!b->klen && b->kcap) {
		buf_resize(c, 0, 0);
	} else if (b->kcap > KEEP_MIN && b->klen < b->kcap / 4) {
		buf_resize(c, pow2_at_least(b->klen * 2), 0);
	}
}

static void dir_release(struct reasm_ctx *ctx, struct reasm_dir *d)
{
	struct reasm_buf *b = d->buf;
	struct reasm_seg *s, *n;

	if (!b)
		return;
	for (s = b->head; s; s = n) {
		n = s->next;
		uncharge(ctx, seg_cost(s->len));
		free(s);
	}
	uncharge(ctx, buf_cost(b->kcap));
	free(b);
	d->buf = NULL;
}

/* ---- directions ---- */

static int dir_start(struct reasm_dir *d, uint32_t next)
{
	if (d->buf)
		return -EBUSY;
	d->next = next;
	d->state = DIR_STARTED;
	return 0;
}

int reasm_dir_syn(struct reasm_dir *d, uint32_t isn)
{
	return dir_start(d, isn + 1);
}

int reasm_dir_pickup(struct reasm_dir *d, uint32_t seq)
{
	return dir_start(d, seq);
}

void reasm_dir_stop(struct reasm_ctx *ctx, struct reasm_dir *d)
{
	dir_release(ctx, d);
	d->state = DIR_STARTED | DIR_STOPPED;
}

void reasm_dir_free(struct reasm_ctx *ctx, struct reasm_dir *d)
{
	dir_release(ctx, d);
	memset(d, 0, sizeof(*d));
}

/* ---- delivery ---- */

/*
 * Hand [data, data + len) to the sink, its last `fresh` bytes new (they end
 * at next, which the caller advanced).  Returns what the sink consumed, or
 * REASM_STOP (the direction is then released).
 */
static size_t sink_call(struct call *c, const uint8_t *data, uint32_t len, uint32_t fresh)
{
	struct reasm_dir *d = c->d;
	struct reasm_view v = {
		.data = data,
		.len = len,
		.seq = d->next - len,
		.fresh = fresh,
		.flags = (d->state & DIR_GAP ? REASM_VIEW_GAP : 0) |
			 (d->state & DIR_TRUNC ? REASM_VIEW_TRUNCATED : 0),
	};
	size_t n;

	d->state &= ~(DIR_GAP | DIR_TRUNC);
	c->res->delivered += fresh;
	c->ctx->st.bytes_delivered += fresh;
	n = c->sink(c->arg, &v);
	if (n == REASM_STOP) {
		reasm_dir_stop(c->ctx, d);
		c->ctx->st.stopped++;
		c->res->flags |= REASM_STOPPED;
		return REASM_STOP;
	}
	return n < len ? n : len;
}

/* Kept bytes beyond the window go, oldest first. */
static void kept_bound(struct call *c)
{
	struct reasm_buf *b = c->d->buf;
	uint32_t over;

	if (!b || b->klen <= c->ctx->lim.window)
		return;
	over = b->klen - c->ctx->lim.window;
	b->koff += over;
	b->klen -= over;
	truncated(c, over);
}

/* The sink saw the buffer's kept bytes (with new ones appended) and consumed n. */
static void kept_view_done(struct call *c, size_t n)
{
	struct reasm_buf *b = c->d->buf;

	if (n == REASM_STOP)
		return;
	b->koff += n;
	b->klen -= n;
	kept_bound(c);
}

/* The sink saw [data, data + len) itself (nothing kept) and consumed n: keep the rest. */
static void zc_view_done(struct call *c, const uint8_t *data, uint32_t len, size_t n)
{
	uint32_t tail, win = c->ctx->lim.window;
	struct reasm_buf *b;

	if (n == REASM_STOP || n == len)
		return;
	tail = len - n;
	if (tail > win) {
		truncated(c, tail - win);
		tail = win;
	}
	if (!kept_reserve(c, tail, 0)) {
		truncated(c, tail);
		return;
	}
	b = c->d->buf;
	memcpy(b->mem + b->koff + b->klen, data + len - tail, tail);
	b->klen += tail;
	c->ctx->st.bytes_copied += tail;
}

/*
 * Deliver len in-order bytes at next, after whatever is kept: one view
 * (copied after the kept bytes), or the bytes themselves when nothing is
 * kept or the pool cannot take the copy (the kept bytes are then released).
 */
static size_t deliver(struct call *c, const uint8_t *data, uint32_t len)
{
	struct reasm_buf *b = c->d->buf;
	size_t n;

	if (b && b->klen && !kept_reserve(c, len, 0))
		release_kept(c);
	b = c->d->buf;
	c->d->next += len;
	if (b && b->klen) {
		memcpy(b->mem + b->koff + b->klen, data, len);
		b->klen += len;
		c->ctx->st.bytes_copied += len;
		n = sink_call(c, b->mem + b->koff, b->klen, len);
		kept_view_done(c, n);
		return n;
	}
	n = sink_call(c, data, len, len);
	zc_view_done(c, data, len, n);
	return n;
}

/* ---- comparing with what the stream has ---- */

/* Count known bytes that differ, and report them. */
static void known(struct call *c, const uint8_t *have, const uint8_t *got, uint32_t n)
{
	uint32_t diff = 0;

	c->res->known += n;
	if (!memcmp(have, got, n))
		return;
	for (uint32_t i = 0; i < n; i++)
		diff += have[i] != got[i];
	c->res->conflict += diff;
	c->res->flags |= REASM_CONFLICT;
}

/*
 * The part of a segment before next, `behind` bytes before it, n of them:
 * compared with the kept bytes where they still are.
 */
static void behind_next(struct call *c, uint32_t behind, const uint8_t *data, uint32_t n)
{
	struct reasm_buf *b = c->d->buf;
	uint32_t klen = b ? b->klen : 0;
	uint32_t skip = behind > klen ? behind - klen : 0;

	/* data[i] is behind - i bytes before next: kept iff behind - i <= klen */
	if (skip >= n) {
		c->res->known += n;
		c->ctx->st.uncompared_bytes += n;
		return;
	}
	c->res->known += skip;
	c->ctx->st.uncompared_bytes += skip;
	known(c, b->mem + b->koff + klen - (behind - skip), data + skip, n - skip);
}

/* ---- in order ---- */

static uint32_t rel(const struct reasm_dir *d, uint32_t seq)
{
	return seq - d->next;
}

/*
 * The held segments an in-order segment of len bytes reaches (overlaps or
 * touches), and those contiguous after them: compare the overlaps and return
 * the run's length from next, its segments in *nsegs and their cost in *cost.
 */
static uint32_t run_scan(struct call *c, const uint8_t *data, uint32_t len, uint32_t *nsegs,
			 size_t *cost)
{
	struct reasm_seg *s = c->d->buf ? c->d->buf->head : NULL;
	uint32_t end = len;

	*nsegs = 0;
	*cost = 0;
	for (; s && rel(c->d, s->seq) <= end; s = s->next) {
		uint32_t so = rel(c->d, s->seq), se = so + s->len;

		if (so < len)
			known(c, s->data, data + so, (se < len ? se : len) - so);
		if (se > end)
			end = se;
		(*nsegs)++;
		*cost += seg_cost(s->len);
	}
	return end;
}

/* Unlink the first held segment (the caller frees it). */
static struct reasm_seg *seg_pop(struct reasm_buf *b)
{
	struct reasm_seg *s = b->head;

	b->head = s->next;
	if (!b->head)
		b->tail = NULL;
	b->nsegs--;
	b->held -= s->len;
	return s;
}

/*
 * Copy the segment's bytes and the run's held segments (which win where
 * they overlap it) after the kept bytes, then one view of all of it.
 */
static void run_gather(struct call *c, const uint8_t *data, uint32_t len, uint32_t total,
		       uint32_t nsegs)
{
	struct reasm_buf *b = c->d->buf;
	uint8_t *dst = b->mem + b->koff + b->klen;
	uint32_t pos = 0;

	while (nsegs--) {
		struct reasm_seg *s = seg_pop(b);
		uint32_t so = rel(c->d, s->seq);

		if (so > pos)
			memcpy(dst + pos, data + pos, so - pos);
		memcpy(dst + so, s->data, s->len);
		pos = so + s->len;
		seg_free(c, s);
	}
	if (pos < len)
		memcpy(dst + pos, data + pos, len - pos);
	b->klen += total;
	c->ctx->st.bytes_copied += total;
	c->d->next += total;
	kept_view_done(c, sink_call(c, b->mem + b->koff, b->klen, total));
}

/*
 * No memory for one view: the same bytes in order, one piece at a time
 * (each a segment's own bytes or a held segment's), the kept bytes released.
 */
static void run_pieces(struct call *c, const uint8_t *data, uint32_t len)
{
	uint32_t base = c->d->next;

	release_kept(c);
	for (;;) {
		struct reasm_buf *b = c->d->buf;
		uint32_t pos = c->d->next - base;
		struct reasm_seg *s = b ? b->head : NULL;
		size_t n;

		if (s && s->seq == c->d->next) {
			s = seg_pop(b);
			n = deliver(c, s->data, s->len);
			seg_free(c, s);
		} else if (pos < len) {
			uint32_t piece = len - pos;

			if (s && rel(c->d, s->seq) < piece)
				piece = rel(c->d, s->seq);
			n = deliver(c, data + pos, piece);
		} else {
			return;
		}
		if (n == REASM_STOP)
			return;
	}
}

/*
 * Deliver len new bytes at next (data, may be NULL for 0) and the held
 * bytes they make contiguous: one view when the pool allows it.  Whether
 * there were held bytes.
 */
static bool run_deliver(struct call *c, const uint8_t *data, uint32_t len)
{
	uint32_t nsegs, total;
	size_t cost;

	total = run_scan(c, data, len, &nsegs, &cost);
	if (!nsegs)
		deliver(c, data, len);
	else if (kept_reserve(c, total, cost))
		run_gather(c, data, len, total, nsegs);
	else
		run_pieces(c, data, len);
	return nsegs;
}

/* ---- out of order ---- */

/* What a walk of the held segments found: pieces of new bytes. */
struct walk {
	uint32_t pieces;
	uint32_t bytes;
	size_t cost;
};

/* A new held segment of [pos, pos + len) (offset from next) before *pp. */
static struct reasm_seg *seg_new(struct call *c, struct reasm_seg **pp, uint32_t pos,
				 const uint8_t *data, uint32_t len)
{
	struct reasm_buf *b = c->d->buf;
	struct reasm_seg *n = malloc(sizeof(*n) + len);

	if (!n)
		return NULL;
	n->seq = c->d->next + pos;
	n->len = len;
	memcpy(n->data, data, len);
	n->next = *pp;
	*pp = n;
	if (!n->next)
		b->tail = n;
	b->nsegs++;
	b->held += len;
	c->ctx->st.bytes_copied += len;
	return n;
}

/*
 * Walk the held segments against new bytes [a, e) (offsets from next).
 * Without apply: compare the overlaps and count the pieces of [a, e) that no
 * segment has.  With apply: insert those pieces (charged already), counting
 * the ones inserted; false if an allocation failed.
 */
static bool hold_walk(struct call *c, const uint8_t *data, uint32_t a, uint32_t e, bool apply,
		      struct walk *w)
{
	struct reasm_buf *b = c->d->buf;
	struct reasm_seg **pp = &b->head;
	uint32_t pos = a;

	memset(w, 0, sizeof(*w));
	if (b->tail && rel(c->d, b->tail->seq) + b->tail->len <= a)
		pp = &b->tail->next; /* the common case: after everything held */
	while (pos < e) {
		struct reasm_seg *s = *pp;
		uint32_t so = s ? rel(c->d, s->seq) : e, se = s ? so + s->len : e;
		uint32_t upto = so < e ? so : e;

		if (s && se <= pos) {
			pp = &s->next;
			continue;
		}
		if (upto > pos) {
			if (apply && !(s = seg_new(c, pp, pos, data + (pos - a), upto - pos)))
				return false;
			if (apply)
				pp = &s->next;
			w->pieces++;
			w->bytes += upto - pos;
			w->cost += seg_cost(upto - pos);
		}
		if (so >= e)
			break;
		s = *pp;
		if (!apply) {
			uint32_t from = so > pos ? so : pos, to = se < e ? se : e;

			known(c, s->data + (from - so), data + (from - a), to - from);
		}
		pos = se;
		pp = &s->next;
	}
	return true;
}

/* Hold the new bytes of [a, e) (offsets from next, inside the window): all or none. */
static void hold_bytes(struct call *c, const uint8_t *data, uint32_t a, uint32_t e)
{
	struct reasm_buf *b = buf_get(c);
	struct walk w, done;

	if (!b) {
		c->res->flags |= REASM_NOMEM;
		c->res->refused += e - a;
		return;
	}
	hold_walk(c, data, a, e, false, &w);
	if (!w.pieces)
		return;
	if (b->nsegs + w.pieces > c->ctx->lim.max_segs) {
		c->ctx->st.segs_full++;
		c->res->flags |= REASM_SEGS_FULL;
	} else if (!charge(c->ctx, w.cost, false)) {
		c->res->flags |= REASM_NOMEM;
	} else if (!hold_walk(c, data, a, e, true, &done)) {
		/* some pieces went in: they stay; the rest is refused */
		uncharge(c->ctx, w.cost - done.cost);
		c->ctx->st.nomem++;
		c->ctx->st.held++;
		c->res->flags |= REASM_NOMEM | REASM_HELD;
		c->res->held += done.bytes;
		c->res->refused += w.bytes - done.bytes;
		return;
	} else {
		c->ctx->st.held++;
		c->res->flags |= REASM_HELD;
		c->res->held += w.bytes;
		return;
	}
	c->res->refused += w.bytes;
}

/* A segment starting `ahead` bytes after next. */
static void out_of_order(struct call *c, const uint8_t *data, uint32_t ahead, uint32_t len)
{
	uint32_t win = c->ctx->lim.window, e;

	if (ahead >= win) {
		c->ctx->st.beyond_window++;
		c->res->flags |= REASM_BEYOND_WINDOW;
		c->res->refused += len;
		return;
	}
	e = len < win - ahead ? ahead + len : win;
	if (e - ahead < len) {
		c->ctx->st.beyond_window++;
		c->res->flags |= REASM_BEYOND_WINDOW;
		c->res->refused += len - (e - ahead);
	}
	hold_bytes(c, data, ahead, e);
}

/* ---- segments ---- */

static void classify(struct call *c, uint32_t len)
{
	struct reasm_result *r = c->res;

	if (r->known && r->known == len)
		r->flags |= REASM_DUP;
	else if (r->known)
		r->flags |= REASM_OVERLAP;
	c->ctx->st.dup += !!(r->flags & REASM_DUP);
	c->ctx->st.overlap += !!(r->flags & REASM_OVERLAP);
	if (r->flags & REASM_CONFLICT) {
		c->ctx->st.conflict++;
		c->ctx->st.conflict_bytes += r->conflict;
	}
}

/* After a segment: how long the gap at next has been open. */
static void gap_age(struct call *c, uint32_t next_before)
{
	struct reasm_buf *b = c->d->buf;

	if (!b || !b->nsegs)
		return;
	if (c->d->next != next_before)
		b->age = 0;
	else if (b->age < UINT16_MAX)
		b->age++;
	c->res->gap_age = b->age;
}

static void segment(struct call *c, uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct reasm_dir *d = c->d;
	uint32_t ahead = rel(d, seq), next_before = d->next, total = len;

	if (ahead > INT32_MAX) {
		uint32_t behind = -ahead, n = behind < len ? behind : len;

		behind_next(c, behind, data, n);
		data += n;
		len -= n;
		ahead = 0;
	}
	if (len && !ahead) {
		c->ctx->st.in_order++;
		c->res->flags |= REASM_IN_ORDER;
		if (run_deliver(c, data, len)) {
			c->ctx->st.gaps_filled++;
			c->res->flags |= REASM_FILLED;
		}
	} else if (len) {
		out_of_order(c, data, ahead, len);
	}
	classify(c, total);
	if (!(d->state & DIR_STOPPED)) {
		gap_age(c, next_before);
		buf_tidy(c);
	}
}

unsigned reasm_segment(struct reasm_ctx *ctx, struct reasm_dir *d, uint32_t seq,
		       const uint8_t *data, size_t len, reasm_sink_fn sink, void *arg,
		       struct reasm_result *res)
{
	struct reasm_result scratch;
	struct call c = { ctx, d, sink, arg, res ? res : &scratch };

	memset(c.res, 0, sizeof(*c.res));
	if (!len)
		return 0;
	if (d->state & DIR_STOPPED)
		return c.res->flags = REASM_STOPPED;
	if (len > REASM_SEG_MAX) {
		ctx->st.invalid++;
		return c.res->flags = REASM_INVALID;
	}
	ctx->st.segments++;
	if (!(d->state & DIR_STARTED))
		dir_start(d, seq);
	if (!d->buf && seq == d->next) {
		/* the fast path: nothing kept, nothing held, in order */
		ctx->st.in_order++;
		c.res->flags = REASM_IN_ORDER;
		deliver(&c, data, (uint32_t)len);
		if (d->buf)
			buf_tidy(&c);
		return c.res->flags;
	}
	segment(&c, seq, data, (uint32_t)len);
	return c.res->flags;
}

unsigned reasm_skip_gap(struct reasm_ctx *ctx, struct reasm_dir *d, reasm_sink_fn sink, void *arg,
			struct reasm_result *res)
{
	struct reasm_result scratch;
	struct call c = { ctx, d, sink, arg, res ? res : &scratch };
	struct reasm_buf *b = d->buf;
	uint32_t lost;

	memset(c.res, 0, sizeof(*c.res));
	if ((d->state & DIR_STOPPED) || !b || !b->head)
		return 0;
	lost = rel(d, b->head->seq);
	if (b->klen) { /* the view says GAP, which includes this */
		ctx->st.kept_truncated++;
		ctx->st.bytes_truncated += b->klen;
		b->koff = b->klen = 0;
	}
	d->next = b->head->seq;
	d->state = (d->state & ~DIR_TRUNC) | DIR_GAP;
	ctx->st.gaps_skipped++;
	ctx->st.bytes_lost += lost;
	c.res->lost = lost;
	c.res->flags = REASM_GAP_SKIPPED;
	run_deliver(&c, NULL, 0);
	if (!(d->state & DIR_STOPPED))
		buf_tidy(&c);
	return c.res->flags;
}
