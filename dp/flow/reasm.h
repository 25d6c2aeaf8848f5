/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_FLOW_REASM_H
#define PORTCULLIS_DP_FLOW_REASM_H

/*
 * TCP stream reassembly for one direction of a session: the data plane hands
 * in each segment's (seq, payload) as it sees it; a consumer (the sink)
 * receives the direction's bytes in stream order, each byte once.
 *
 * Sequence tracking.  A direction starts at the ISN + 1 of its SYN
 * (reasm_dir_syn), at a picked-up session's first data segment
 * (reasm_dir_pickup), or, if neither was called, at the first segment
 * handed in.  All sequence arithmetic is serial (RFC 1982): a segment that
 * starts up to 2^31 - 1 bytes after the next expected byte is ahead, any
 * other is behind, so the stream may wrap across 2^32 any number of times.
 *
 * Classification of a segment [seq, seq + len):
 *  - bytes before `next` were delivered already.  Those still kept for the
 *    consumer (below) are compared with the segment; older ones were
 *    released and cannot be: they count as plain retransmission.
 *  - a segment starting at `next` (after trimming what is behind) is in
 *    order: its new bytes reach the sink at once, together with every held
 *    byte that becomes contiguous, in ONE call, so the caller can give this
 *    segment the verdict of whatever the whole completes.
 *  - a segment starting after `next` is out of order: its new bytes inside
 *    the window [next, next + window) are held (copied) until the gap before
 *    them fills or is skipped; bytes past the window are not held.
 *
 * Overlap policy: first data wins.  A byte the stream already has, delivered
 * (and kept) or held, is never replaced; of a later segment only the bytes
 * nobody sent before are taken.  This is what Linux, the BSDs and Windows do
 * with data already queued (out-of-order queue or receive buffer): a
 * receiver does not rewrite what it has.  In fwd mode the data plane sees
 * each segment before the receiver does, so it has everything the receiver
 * has, in the same order, and first-wins here reproduces the receiver's
 * stream; a last-wins engine could be fed a decoy that the receiver never
 * reads.  Where the policy decides (the overlapping bytes differ) the
 * segment is flagged REASM_CONFLICT: the same bytes sent twice with other
 * content is an evasion attempt, whatever the policy.  Where it cannot
 * (bytes released after the consumer was done) the difference is not seen.
 *
 * The consumer.  The sink sees a contiguous view of the bytes it has not yet
 * consumed: the bytes it kept at its last call followed by the new ones.  It
 * returns how many bytes at the front it is done with; the rest is kept
 * (copied) for the next call, so a parser can wait for a whole request line
 * or TLS ClientHello across segments.  A direction keeps at most `window`
 * bytes: past that the oldest are released and the next view says so
 * (REASM_VIEW_TRUNCATED).  Returning REASM_STOP ends inspection of the
 * direction: everything is released and later segments cost a flag test
 * (inspection depth: identification and detectors stop costing once they
 * have what they need).
 *
 * Zero-copy: with nothing kept and nothing held, an in-order segment's own
 * bytes are the view; only what the sink does not consume is copied.
 *
 * Memory.  An idle direction is a struct reasm_dir (16 bytes) and nothing
 * else.  Held segments and kept bytes are allocated when they must be
 * stored and freed as soon as they are not; every byte of it, with its
 * bookkeeping, is charged to one reasm_pool shared by all workers.  A
 * direction holds at most `window` bytes ahead of `next` in at most
 * max_segs segments, and keeps at most `window` bytes behind it; a view
 * that completes a gap may briefly need kept + segment + held bytes.  What
 * happens at each limit, always reported in the result and counted:
 *  - a segment (partly) past the window: the part inside it is held, the
 *    rest is not (REASM_BEYOND_WINDOW);
 *  - max_segs reached, or the pool refuses: nothing of the segment is held
 *    (REASM_SEGS_FULL, REASM_NOMEM; only a failing malloc midway leaves part
 *    of it held, flagged REASM_HELD | REASM_NOMEM);
 *  - the pool refuses to keep bytes the sink left: they are released and
 *    the next view carries REASM_VIEW_TRUNCATED (REASM_TRUNCATED);
 *  - the pool refuses the buffer for a one-call view: the same bytes reach
 *    the sink in order in several calls, kept bytes released
 *    (REASM_VIEW_TRUNCATED).
 * No limit ever stops delivery: a direction keeps delivering what arrives
 * in order, and a gap is only ever crossed by reasm_skip_gap, with the
 * consumer told (REASM_VIEW_GAP).  A segment whose new bytes were not held
 * (REASM_REFUSED) leaves a gap that only a copy of those bytes can fill: in
 * fwd mode the data plane sees a segment before the receiver, so dropping
 * that frame makes the sender send it again later and no byte escapes
 * inspection; in tap mode the copy may never come, and the caller's policy
 * skips the gap.
 *
 * Cost, per segment: O(len + max_segs) for classifying, comparing, holding
 * and delivering it, plus O(kept) when the consumer keeps bytes (the view it
 * reads is that long anyway) and, when it fills a gap, a copy of the held
 * bytes it delivers (a held byte is copied in once and out once).  No
 * recursion, no walk longer than max_segs, no allocation on the zero-copy
 * path.  A spray of tiny segments is bounded by max_segs, lengths by
 * REASM_SEG_MAX, and sequence numbers by serial arithmetic on offsets from
 * `next` that stay under the window.
 *
 * Threads: a reasm_ctx and the directions it serves belong to one worker;
 * the pool is shared (one atomic counter).  The sink must not call back
 * into this module for the same direction.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Default window per direction, 32 KiB (config reassembly_kb).  What a
 * consumer must see whole fits with room to spare: a TLS ClientHello with a
 * post-quantum key share (X25519MLKEM768: 1.2 KB of key share) is 1.5-2 KB,
 * HTTP/1 header blocks are bounded by servers at 8 KB (nginx, Apache per
 * line) to 16-32 KB (Node, Go, Tomcat).  Ahead of `next` it holds more than
 * an initial congestion window (10 x 1448 bytes), which is what a loss early
 * in a connection leaves in flight, where identification and detectors
 * look.  A larger receive window (Linux starts at 64 KiB and grows to MBs)
 * matters only for bulk data past inspection depth, and in fwd mode the
 * caller can drop what does not fit.  Worst case a direction uses
 * 2 x window of pool (held + kept); a global cap still bounds the sum.
 */
#define REASM_WINDOW_DEFAULT (32u << 10)
#define REASM_WINDOW_MAX (16u << 20)
/*
 * Default max held segments per direction: 64 full-size segments are 93
 * KB, more than the window, so only segments averaging under 512 bytes
 * reach it before the window does; it bounds a hostile spray of tiny
 * segments to 64 allocations and each walk of the list to 64 steps.
 */
#define REASM_SEGS_DEFAULT 64
#define REASM_SEGS_MAX 1024
/*
 * Default global cap, 16 MiB: 256 directions at a full window at once, or
 * ~100,000 sessions with a 160-byte consumer tail each, next to a session
 * table of ~25 MB at 100,000 sessions: together under 64 MiB.
 */
#define REASM_POOL_DEFAULT (16u << 20)
/* Longer segments are refused (REASM_INVALID): no TCP frame is that long. */
#define REASM_SEG_MAX (16u << 20)

/* The memory cap of all workers: bytes held, kept, and their bookkeeping. */
struct reasm_pool {
	atomic_size_t used;
	size_t cap;
};

void reasm_pool_init(struct reasm_pool *pool, size_t cap_bytes);
size_t reasm_pool_used(struct reasm_pool *pool);

struct reasm_limits {
	uint32_t window;   /* bytes held ahead of next, and kept behind it */
	uint16_t max_segs; /* held segments per direction */
};

void reasm_limits_default(struct reasm_limits *lim);

/*
 * Per worker; sum workers with reasm_stats_add (it adds the members as an
 * array: every one is a uint64_t).
 */
struct reasm_stats {
	uint64_t segments;	   /* handed in with payload */
	uint64_t in_order;	   /* delivered on arrival */
	uint64_t held;		   /* held (some bytes) out of order */
	uint64_t gaps_filled;	   /* in order and completing held data */
	uint64_t dup;		   /* nothing new: retransmissions */
	uint64_t overlap;	   /* some bytes known, some new (tcp_overlap) */
	uint64_t conflict;	   /* known bytes sent again with other content */
	uint64_t conflict_bytes;   /* of those, bytes that differed */
	uint64_t uncompared_bytes; /* known bytes already released: not compared */
	uint64_t beyond_window;	   /* segments with bytes past the window (not held) */
	uint64_t segs_full;	   /* not held: max_segs reached */
	uint64_t nomem;		   /* the pool or malloc refused (held, kept or a view) */
	uint64_t gaps_skipped;	   /* reasm_skip_gap crossings */
	uint64_t bytes_lost;	   /* bytes never seen, crossed by those */
	uint64_t kept_truncated;   /* kept bytes released unconsumed: window, pool, gap */
	uint64_t bytes_truncated;  /* and bytes */
	uint64_t bytes_delivered;  /* new bytes handed to sinks */
	uint64_t bytes_copied;	   /* of all bytes, copied into a buffer */
	uint64_t stopped;	   /* directions whose sink said REASM_STOP */
	uint64_t invalid;	   /* segments longer than REASM_SEG_MAX */
	uint64_t mem;		   /* pool bytes this worker's directions hold now */
	uint64_t mem_peak;	   /* its peak (a sum of peaks is an upper bound) */
};

void reasm_stats_add(struct reasm_stats *sum, const struct reasm_stats *st);

/* What one worker's calls share. */
struct reasm_ctx {
	struct reasm_pool *pool;
	struct reasm_limits lim;
	struct reasm_stats st;
};

/*
 * 0, or -EINVAL for a window of 0 or over REASM_WINDOW_MAX, or max_segs 0 or
 * over REASM_SEGS_MAX.
 */
int reasm_ctx_init(struct reasm_ctx *ctx, struct reasm_pool *pool, const struct reasm_limits *lim);

/*
 * One direction, embedded in the session.  All zero is a valid idle
 * direction that has not started.  The fields are the module's; `next` may
 * be read (the sequence number the stream continues at).
 */
struct reasm_dir {
	struct reasm_buf *buf; /* NULL: nothing held or kept */
	uint32_t next;	       /* sequence number of the next byte to deliver */
	uint16_t state;	       /* REASM_DIR_* bits (reasm.c) */
	uint16_t spare;
};

/*
 * Start an idle direction (nothing held or kept; -EBUSY otherwise): at the
 * ISN of its SYN, which takes one sequence number (the data of a SYN,
 * TCP Fast Open, is then handed in at isn + 1), or at a picked-up session's
 * first data segment.  Either may restart a direction that was stopped.
 */
int reasm_dir_syn(struct reasm_dir *d, uint32_t isn);
int reasm_dir_pickup(struct reasm_dir *d, uint32_t seq);

/* What the sink sees. */
struct reasm_view {
	const uint8_t *data; /* valid during the call only */
	size_t len;
	uint32_t seq;	/* sequence number of data[0] */
	size_t fresh;	/* the last `fresh` bytes are new; the first len - fresh were kept */
	unsigned flags; /* REASM_VIEW_* */
};

/*
 * Bytes before data[0] were lost: reasm_skip_gap crossed a gap.  Kept bytes
 * from before the gap were released; any parser state must resynchronise.
 */
#define REASM_VIEW_GAP 0x1
/*
 * Bytes the sink left unconsumed were released (the window, or the pool):
 * data[0] is not where the sink stopped consuming.  Resynchronise.
 */
#define REASM_VIEW_TRUNCATED 0x2

/*
 * Return how many bytes at the front of the view the sink is done with (at
 * most len; more counts as len); the rest is offered again at the next call,
 * followed by newer bytes.  REASM_STOP: no more bytes of this direction.
 */
typedef size_t (*reasm_sink_fn)(void *arg, const struct reasm_view *v);
#define REASM_STOP ((size_t)-1)

/* What one call did (all zero when nothing happened, e.g. len 0). */
struct reasm_result {
	unsigned flags;	    /* REASM_* */
	uint32_t delivered; /* new bytes handed to the sink (this segment's and held ones) */
	uint32_t held;	    /* bytes of this segment held for later */
	uint32_t known;	    /* bytes of this segment the stream had already */
	uint32_t conflict;  /* of those, bytes that differed */
	uint32_t refused;   /* new bytes of this segment not held (the limits) */
	uint32_t lost;	    /* reasm_skip_gap: bytes crossed */
	uint32_t gap_age;   /* segments handed in since `next` last moved, while
			     * a gap is open (0: no gap); for "skip a gap older
			     * than N segments" */
};

#define REASM_IN_ORDER 0x0001	   /* new bytes delivered at once */
#define REASM_HELD 0x0002	   /* new bytes held out of order */
#define REASM_FILLED 0x0004	   /* and held bytes delivered with them */
#define REASM_DUP 0x0008	   /* no new byte: a retransmission */
#define REASM_OVERLAP 0x0010	   /* some bytes known, some new */
#define REASM_CONFLICT 0x0020	   /* known bytes differed: evasion attempt */
#define REASM_BEYOND_WINDOW 0x0040 /* bytes past next + window not held */
#define REASM_SEGS_FULL 0x0080	   /* not held: max_segs */
#define REASM_NOMEM 0x0100	   /* not held: the pool */
#define REASM_TRUNCATED 0x0200	   /* kept bytes released unconsumed */
#define REASM_GAP_SKIPPED 0x0400   /* reasm_skip_gap crossed a gap */
#define REASM_STOPPED 0x0800	   /* the direction is stopped (now or before) */
#define REASM_INVALID 0x1000	   /* len over REASM_SEG_MAX: ignored */
/* some new bytes of the segment were not held (fwd: drop the frame) */
#define REASM_REFUSED (REASM_BEYOND_WINDOW | REASM_SEGS_FULL | REASM_NOMEM)

/*
 * Hand in one segment of d: seq is the sequence number of data[0] (a SYN's
 * own number excluded), len its payload length.  The sink is called zero or
 * more times (once, unless the pool is short) before this returns; data is
 * not used after.  res (may be NULL) is filled; the flags are returned.
 * len 0 does nothing and returns 0; a stopped direction returns
 * REASM_STOPPED at once.
 */
unsigned reasm_segment(struct reasm_ctx *ctx, struct reasm_dir *d, uint32_t seq,
		       const uint8_t *data, size_t len, reasm_sink_fn sink, void *arg,
		       struct reasm_result *res);

/*
 * Declare the bytes between `next` and the first held byte lost, release
 * the kept bytes, and deliver the held bytes that follow the gap in one view
 * flagged REASM_VIEW_GAP.  For the caller's policies: tap mode (a lost copy
 * never comes back, e.g. on REASM_REFUSED), a gap older than N segments
 * (gap_age), session end (call until it returns 0).  Returns the flags
 * (REASM_GAP_SKIPPED, or 0 when nothing is held).
 */
unsigned reasm_skip_gap(struct reasm_ctx *ctx, struct reasm_dir *d, reasm_sink_fn sink, void *arg,
			struct reasm_result *res);

/* Release everything and ignore the rest of the direction, as REASM_STOP does. */
void reasm_dir_stop(struct reasm_ctx *ctx, struct reasm_dir *d);

/* Release everything: d is idle and not started (all zero), e.g. to recycle. */
void reasm_dir_free(struct reasm_ctx *ctx, struct reasm_dir *d);

#endif
