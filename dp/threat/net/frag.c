// SPDX-License-Identifier: Apache-2.0
/*
 * Malformed fragments: ping_of_death (an ICMP datagram whose fragments
 * reach past 65535 bytes: offset + length of one fragment's data) and
 * ip_teardrop (two fragments of one datagram covering the same bytes).
 *
 * Per datagram (addresses, protocol, id) the covered byte ranges are kept,
 * merged where they touch, at most FRAG_RANGES of them: a datagram cut
 * into more holes than that is no longer checked.  Each datagram is
 * reported once.
 *
 * The table: FRAG_SETS sets of FRAG_WAYS datagrams, the set by a keyed
 * hash of the datagram's name (lib/core/khash.h, a random key per table),
 * which whoever sends fragments picks.  A datagram not seen for
 * FRAG_TTL_NS is stale; a new one takes a free or stale entry of its set,
 * else the one seen least recently.  A flood of new datagrams thus loses
 * the ranges of older ones (and a later overlap goes unseen), but nobody
 * can aim at one datagram's set.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "dp/threat/threat_ctx.h"
#include "dp/threat/threat_int.h"
#include "lib/core/khash.h"

#define FRAG_SETS 256
#define FRAG_WAYS 4
#define FRAG_RANGES 6
#define FRAG_TTL_NS (30 * NS_PER_SEC)
#define IP_DATAGRAM_MAX 65535

struct frag_range {
	uint32_t lo, hi; /* bytes [lo, hi) of the datagram's data */
};

struct frag_track {
	struct frag_key key;
	uint8_t n;
	uint8_t reported; /* bit 1 << (id - THREAT_PING_OF_DEATH) */
	uint64_t seen_ns;
	struct frag_range r[FRAG_RANGES];
};

struct frag_table {
	struct khash_key key;
	struct frag_track slot[FRAG_SETS][FRAG_WAYS];
};

struct frag_table *threat_frag_new(void)
{
	struct frag_table *ft = calloc(1, sizeof(*ft));

	if (ft && khash_key_init(&ft->key) < 0) {
		free(ft);
		return NULL;
	}
	return ft;
}

void threat_frag_free(struct frag_table *ft)
{
	free(ft);
}

static bool stale(const struct frag_track *f, uint64_t now_ns)
{
	return !f->seen_ns || f->seen_ns + FRAG_TTL_NS < now_ns;
}

/* p's datagram's entry: its own, else a free or stale one, else the least recently seen. */
static struct frag_track *frag_track(struct frag_table *ft, const struct pkt *p, uint64_t now_ns)
{
	struct frag_track *set, *f = NULL;
	struct frag_key k;

	frag_key_of(p, &k);
	set = ft->slot[khash(&ft->key, &k, sizeof(k)) % FRAG_SETS];
	for (unsigned i = 0; i < FRAG_WAYS && !f; i++)
		if (frag_key_eq(&set[i].key, &k) && !stale(&set[i], now_ns))
			f = &set[i];
	for (unsigned i = 0; i < FRAG_WAYS && !f; i++)
		if (stale(&set[i], now_ns))
			f = &set[i];
	if (!f) {
		f = &set[0];
		for (unsigned i = 1; i < FRAG_WAYS; i++)
			if (set[i].seen_ns < f->seen_ns)
				f = &set[i];
	}
	if (!frag_key_eq(&f->key, &k) || stale(f, now_ns)) {
		memset(f, 0, sizeof(*f));
		f->key = k;
	}
	f->seen_ns = now_ns ? now_ns : 1;
	return f;
}

/* The first range [lo, hi) overlaps, or NULL. */
static const struct frag_range *overlap(const struct frag_track *f, uint32_t lo, uint32_t hi)
{
	for (unsigned i = 0; i < f->n; i++)
		if (lo < f->r[i].hi && f->r[i].lo < hi)
			return &f->r[i];
	return NULL;
}

/* Add [lo, hi) (overlapping nothing), merged with the ranges it touches. */
static void cover(struct frag_track *f, uint32_t lo, uint32_t hi)
{
	unsigned i = 0;

	while (i < f->n) {
		if (f->r[i].hi == lo || f->r[i].lo == hi) {
			lo = f->r[i].lo < lo ? f->r[i].lo : lo;
			hi = f->r[i].hi > hi ? f->r[i].hi : hi;
			f->r[i] = f->r[--f->n];
			continue;
		}
		i++;
	}
	if (f->n < FRAG_RANGES)
		f->r[f->n++] = (struct frag_range){ lo, hi };
	else
		f->n = FRAG_RANGES + 1; /* too many holes: stop checking */
}

static void report(struct threat_ctx *t, struct threat_pkt *tp, struct frag_track *f,
		   const struct threat_hit *h)
{
	uint8_t bit = (uint8_t)(1u << (h->id - THREAT_PING_OF_DEATH));

	threat_report(t, tp, h, !(f->reported & bit));
	f->reported |= bit;
}

void threat_frag(struct threat_ctx *t, struct threat_pkt *tp)
{
	const struct pkt *p = tp->p;
	uint32_t lo = p->frag_offset;
	uint32_t hi = lo + (uint32_t)(p->payload + p->payload_len - (p->frame + p->l4_off));
	struct frag_track *f = frag_track(t->frags, p, tp->now_ns);
	const struct frag_range *o;
	struct threat_hit h;

	if ((p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) && hi > IP_DATAGRAM_MAX) {
		threat_hit_set(&h, THREAT_PING_OF_DEATH,
			       "ICMP fragment id %u at offset %u with %u bytes ends past 65535",
			       p->frag_id, lo, hi - lo);
		report(t, tp, f, &h);
	}
	if (f->n > FRAG_RANGES || hi == lo)
		return;
	o = overlap(f, lo, hi);
	if (!o) {
		cover(f, lo, hi);
		return;
	}
	threat_hit_set(&h, THREAT_IP_TEARDROP, "fragment id %u bytes %u-%u overlap bytes %u-%u",
		       p->frag_id, lo, hi - 1, o->lo, o->hi - 1);
	report(t, tp, f, &h);
}
