// SPDX-License-Identifier: Apache-2.0
/*
 * http_slowloris: many connections to one server, each holding a request
 * whose headers never end.  An HTTP session still without complete request
 * headers SLOW_AFTER_S seconds after it opened counts against its
 * destination (server address and port, at one port of ours) until its
 * headers complete or it ends; at SLOW_SESSIONS such sessions at once the
 * destination is reported, again at most every SLOW_REPORT_S seconds.  With
 * the drop action every session counted at or over the mark is cut.
 *
 * Headers are complete when a client segment holds the blank line that
 * ends them; a session is looked at on each of its frames (slowloris
 * clients trickle a header line every few seconds to stay open).
 *
 * The count is the data plane's, not a worker's: the clients of one server
 * come from many addresses, which the fanout spreads over the workers.
 * One table, shared by every worker, without a lock: an entry is one
 * 64-bit word (a 40-bit tag, a keyed hash of the destination with a random
 * key per table, and a 24-bit count) changed by compare-and-swap, and the
 * time of its last report.  SLOW_SETS sets of SLOW_WAYS entries, the set
 * by the tag; an entry whose count is 0 is free.  A destination that finds
 * no entry of its own and none free in its set is not counted (the entries
 * of counted destinations are never taken), and nobody can aim
 * destinations at one set.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dp/threat/app/detect.h"
#include "dp/threat/threat_ctx.h"
#include "dp/threat/threat_int.h"
#include "lib/core/khash.h"

/*
 * Ordinary clients send their request headers in one segment, or a few
 * within milliseconds; slowloris tools trickle a line every 2 to 15 s.  A
 * session counts from its first frame 2 s after it opened, so 30 attacking
 * sessions are reported within one trickle interval of that; what keeps
 * slow ordinary clients out is the count of 20 at once to one server.
 */
#define SLOW_AFTER_S 2
#define SLOW_SESSIONS 20
#define SLOW_REPORT_S 60
#define SLOW_SETS 256
#define SLOW_WAYS 4

#define SLOW_COUNT_BITS 24
#define SLOW_COUNT_MASK ((1ULL << SLOW_COUNT_BITS) - 1)

struct slow_entry {
	_Atomic uint64_t word;	      /* tag << SLOW_COUNT_BITS | count */
	_Atomic uint64_t reported_ns; /* 0: not reported since it was taken */
};

struct slow_table {
	struct khash_key key;
	struct slow_entry e[SLOW_SETS][SLOW_WAYS];
};

/* What names a destination: hashed whole, padding zeroed. */
struct slow_dest {
	uint32_t port;
	uint8_t family, pad;
	uint16_t dport;
	uint8_t addr[16];
};

struct slow_table *threat_slow_new(void)
{
	struct slow_table *st = calloc(1, sizeof(*st));

	if (st && khash_key_init(&st->key) < 0) {
		free(st);
		return NULL;
	}
	return st;
}

void threat_slow_free(struct slow_table *st)
{
	free(st);
}

/* The tag of s's server end (its low SLOW_COUNT_BITS clear), never 0. */
static uint64_t dest_tag(const struct slow_table *st, const struct session *s)
{
	const struct flow_key *k = &s->key;
	struct slow_dest d;
	uint64_t h;

	memset(&d, 0, sizeof(d));
	d.port = k->port;
	d.family = k->family;
	d.dport = s->client_is_a ? k->port_b : k->port_a;
	memcpy(d.addr, s->client_is_a ? k->addr_b : k->addr_a, sizeof(d.addr));
	h = khash(&st->key, &d, sizeof(d)) << SLOW_COUNT_BITS;
	return h ? h : 1ULL << SLOW_COUNT_BITS;
}

static struct slow_entry *set_of(struct slow_table *st, uint64_t tag)
{
	return st->e[(tag >> SLOW_COUNT_BITS) % SLOW_SETS];
}

/* Add delta (+1 or -1) to e if it is tag's (or free, for +1); the new count, or -1. */
static long long slow_add(struct slow_entry *e, uint64_t tag, int delta)
{
	uint64_t w = atomic_load_explicit(&e->word, memory_order_relaxed), n;

	do {
		n = w & SLOW_COUNT_MASK;
		if ((n && (w & ~SLOW_COUNT_MASK) != tag) || (!n && delta < 0))
			return -1;
		if (delta > 0 && n == SLOW_COUNT_MASK)
			return (long long)n;
	} while (!atomic_compare_exchange_weak_explicit(
		&e->word, &w, tag | (n + delta), memory_order_acq_rel, memory_order_relaxed));
	if (!n)
		atomic_store_explicit(&e->reported_ns, 0, memory_order_relaxed); /* taken anew */
	return (long long)(n + delta);
}

/* One more slow session of tag: its entry and count, NULL when there is no room. */
static struct slow_entry *slow_count_up(struct slow_table *st, uint64_t tag, long long *count)
{
	struct slow_entry *set = set_of(st, tag);

	for (int pass = 0; pass < 2; pass++) /* its own entry first, then a free one */
		for (unsigned i = 0; i < SLOW_WAYS; i++) {
			uint64_t w = atomic_load_explicit(&set[i].word, memory_order_relaxed);

			if (pass == 0 && (!(w & SLOW_COUNT_MASK) || (w & ~SLOW_COUNT_MASK) != tag))
				continue;
			*count = slow_add(&set[i], tag, 1);
			if (*count > 0)
				return &set[i];
		}
	return NULL;
}

/* Whether this report is due (none yet, or the last SLOW_REPORT_S ago); claims it. */
static bool report_due(struct slow_entry *e, uint64_t now_ns)
{
	uint64_t last = atomic_load_explicit(&e->reported_ns, memory_order_relaxed);

	if (last && now_ns - last < SLOW_REPORT_S * NS_PER_SEC)
		return false;
	return atomic_compare_exchange_strong(&e->reported_ns, &last, now_ns ? now_ns : 1);
}

static void count_slow(struct threat_ctx *t, struct threat_pkt *tp)
{
	struct slow_entry *e;
	struct threat_hit h;
	long long count;

	e = slow_count_up(t->slow, dest_tag(t->slow, tp->s), &count);
	if (!e)
		return;
	tp->s->threat.flags |= THREAT_SESS_SLOW;
	if (count < SLOW_SESSIONS)
		return;
	threat_hit_set(&h, THREAT_HTTP_SLOWLORIS,
		       "%lld sessions to this server with request headers incomplete after %u s",
		       count, SLOW_AFTER_S);
	threat_report(t, tp, &h, report_due(e, tp->now_ns));
}

void threat_slow(struct threat_ctx *t, struct threat_pkt *tp)
{
	const struct pkt *p = tp->p;
	struct session *s = tp->s;

	if (tp->from_client && p->payload_len &&
	    threat_http_headers_complete(p->payload, p->payload_len)) {
		if (s->threat.flags & THREAT_SESS_SLOW)
			threat_slow_end(t, s);
		s->threat.flags &= (uint8_t)~THREAT_SESS_SLOW;
		s->threat.flags |= THREAT_SESS_HDR_DONE;
		return;
	}
	if (!(s->threat.flags & THREAT_SESS_SLOW) &&
	    tp->now_ns - s->first_ns >= SLOW_AFTER_S * NS_PER_SEC)
		count_slow(t, tp);
}

void threat_slow_end(struct threat_ctx *t, const struct session *s)
{
	uint64_t tag = dest_tag(t->slow, s);
	struct slow_entry *set = set_of(t->slow, tag);

	for (unsigned i = 0; i < SLOW_WAYS; i++)
		if (slow_add(&set[i], tag, -1) >= 0)
			return;
}
