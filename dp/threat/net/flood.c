// SPDX-License-Identifier: Apache-2.0
/*
 * syn_flood and icmp_flood: SYNs (without ACK) and ICMP echo requests per
 * destination and second, against the policy's syn_flood_pps and
 * icmp_flood_pps (FLOOD_DEFAULT_PPS when 0).  A destination is an address
 * as seen at one port: a connection between two intercepted containers
 * counts once at each.  The first frame over the limit in a second is
 * reported, every further one in that second gets the action only; the
 * count starts again each second.
 *
 * The limit holds for the data plane as a whole.  The fanout spreads
 * frames over the workers by their addresses, so a flood from many
 * (spoofed) sources reaches every worker; one table, shared by all the
 * workers, counts it.  A destination's entry is two 64-bit words changed
 * with atomic operations only, no lock: a tag (a keyed hash of the port,
 * the kind and the address; lib/core/khash.h, a random key per table) and
 * its window (second, reported, count), counted up by compare-and-swap.
 *
 * Bounds and eviction: FLOOD_SETS sets of FLOOD_WAYS entries, the set by
 * the tag.  A new destination takes the entry of its set with the fewest
 * frames this second (a free or stale one has none): a destination that
 * is being flooded keeps its entry against any number of quiet ones, and
 * nobody can aim destinations at its set.  Races between workers cost at
 * most a few frames of a count: a count may keep the frames the workers
 * added while an entry changed hands.
 */
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "dp/threat/threat_ctx.h"
#include "dp/threat/threat_int.h"
#include "lib/core/khash.h"

/*
 * 1000 a second to one workload: far above what a busy service opens
 * (connection pools reuse sessions), far below a flood tool's rate.
 */
#define FLOOD_DEFAULT_PPS 1000
#define FLOOD_SETS 1024
#define FLOOD_WAYS 4

enum flood_kind { FLOOD_SYN, FLOOD_ICMP };

/* window: the second (high 32 bits), reported (bit 31), the count (low 31 bits) */
#define WIN_REPORTED (1ULL << 31)
#define WIN_COUNT_MAX 0x7fffffffULL

struct flood_entry {
	_Atomic uint64_t tag; /* keyed hash of the destination, low bit set; 0: free */
	_Atomic uint64_t win;
};

struct flood_table {
	struct khash_key key;
	struct flood_entry e[FLOOD_SETS][FLOOD_WAYS];
};

/* What names a destination: hashed whole, padding zeroed. */
struct flood_dest {
	uint32_t port;
	uint8_t family, kind, pad[2];
	uint8_t addr[16];
};

struct flood_table *threat_flood_new(void)
{
	struct flood_table *ft = calloc(1, sizeof(*ft));

	if (ft && khash_key_init(&ft->key) < 0) {
		free(ft);
		return NULL;
	}
	return ft;
}

void threat_flood_free(struct flood_table *ft)
{
	free(ft);
}

static uint64_t dest_tag(const struct flood_table *ft, const struct threat_pkt *tp,
			 enum flood_kind kind)
{
	struct flood_dest d;

	memset(&d, 0, sizeof(d));
	d.port = tp->port ? tp->port->port_id : 0;
	d.family = tp->p->family;
	d.kind = (uint8_t)kind;
	memcpy(d.addr, tp->p->dst, sizeof(d.addr));
	return khash(&ft->key, &d, sizeof(d)) | 1;
}

static uint64_t win_count(uint64_t w, uint32_t sec)
{
	return (uint32_t)(w >> 32) == sec ? (w & WIN_COUNT_MAX) : 0;
}

/* The entry of tag: its own, else the one of its set with the fewest frames this second. */
static struct flood_entry *flood_entry(struct flood_table *ft, uint64_t tag, uint32_t sec)
{
	struct flood_entry *set = ft->e[(tag >> 1) % FLOOD_SETS], *v = &set[0];
	uint64_t old;

	for (unsigned i = 0; i < FLOOD_WAYS; i++)
		if (atomic_load_explicit(&set[i].tag, memory_order_relaxed) == tag)
			return &set[i];
	for (unsigned i = 1; i < FLOOD_WAYS; i++)
		if (win_count(atomic_load_explicit(&set[i].win, memory_order_relaxed), sec) <
		    win_count(atomic_load_explicit(&v->win, memory_order_relaxed), sec))
			v = &set[i];
	old = atomic_load_explicit(&v->tag, memory_order_relaxed);
	if (!atomic_compare_exchange_strong(&v->tag, &old, tag))
		return v; /* another worker took it this instant: counted there, a frame or so */
	atomic_store_explicit(&v->win, (uint64_t)sec << 32, memory_order_relaxed);
	return v;
}

/* Count a frame in e's window of second sec; its count, and whether it is the one to report. */
static uint64_t flood_add(struct flood_entry *e, uint32_t sec, uint64_t limit, bool *report)
{
	uint64_t w = atomic_load_explicit(&e->win, memory_order_relaxed), n, nw;

	do {
		bool reported = (uint32_t)(w >> 32) == sec && (w & WIN_REPORTED);

		n = win_count(w, sec);
		n += n < WIN_COUNT_MAX;
		*report = n > limit && !reported;
		nw = (uint64_t)sec << 32 | (reported || *report ? WIN_REPORTED : 0) | n;
	} while (!atomic_compare_exchange_weak_explicit(&e->win, &w, nw, memory_order_relaxed,
							memory_order_relaxed));
	return n;
}

static void flood_count(struct threat_ctx *t, struct threat_pkt *tp, enum flood_kind kind,
			uint32_t limit)
{
	uint32_t sec = (uint32_t)(tp->now_ns / NS_PER_SEC);
	struct flood_entry *e = flood_entry(t->floods, dest_tag(t->floods, tp, kind), sec);
	struct threat_hit h;
	bool report;

	if (flood_add(e, sec, limit, &report) <= limit)
		return;
	threat_hit_set(&h, kind == FLOOD_SYN ? THREAT_SYN_FLOOD : THREAT_ICMP_FLOOD,
		       "more than %u %s a second to this destination", limit,
		       kind == FLOOD_SYN ? "SYNs" : "echo requests");
	tp->no_reset = true;
	threat_report(t, tp, &h, report);
}

static bool echo_request(const struct pkt *p)
{
	return p->proto == IPPROTO_ICMP ? p->icmp_type == 8 : p->icmp_type == 128;
}

void threat_flood(struct threat_ctx *t, struct threat_pkt *tp)
{
	const struct pkt *p = tp->p;
	uint32_t limit;

	if (p->proto == IPPROTO_TCP) {
		if ((p->tcp_flags & (TCPF_SYN | TCPF_ACK)) != TCPF_SYN)
			return;
		limit = policy_syn_flood_pps(tp->pol);
		flood_count(t, tp, FLOOD_SYN, limit ? limit : FLOOD_DEFAULT_PPS);
	} else if (echo_request(p)) {
		limit = policy_icmp_flood_pps(tp->pol);
		flood_count(t, tp, FLOOD_ICMP, limit ? limit : FLOOD_DEFAULT_PPS);
	}
}
