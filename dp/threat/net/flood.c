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
 * The table is direct-mapped and bounded: a destination hashing onto a
 * slot another one holds takes it over, losing that one's count.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "dp/threat/threat_ctx.h"
#include "dp/threat/threat_int.h"

/*
 * 1000 a second to one workload: far above what a busy service opens
 * (connection pools reuse sessions), far below a flood tool's rate.
 */
#define FLOOD_DEFAULT_PPS 1000
#define FLOOD_SLOTS 1024

enum flood_kind { FLOOD_SYN, FLOOD_ICMP };

struct flood_slot {
	uint32_t port;
	uint8_t family, kind;
	bool reported;
	uint8_t addr[16];
	uint64_t sec;
	uint32_t count;
};

struct flood_table {
	struct flood_slot slot[FLOOD_SLOTS];
};

struct flood_table *threat_flood_new(void)
{
	return calloc(1, sizeof(struct flood_table));
}

void threat_flood_free(struct flood_table *ft)
{
	free(ft);
}

static struct flood_slot *flood_slot(struct flood_table *ft, const struct threat_pkt *tp,
				     enum flood_kind kind)
{
	const struct pkt *p = tp->p;
	uint32_t port = tp->port ? tp->port->port_id : 0;
	uint32_t h = fnv32(fnv32(FNV32_INIT, &port, sizeof(port)), &kind, sizeof(kind));
	struct flood_slot *f;

	f = &ft->slot[fnv32(h, p->dst, sizeof(p->dst)) % FLOOD_SLOTS];
	if (f->port != port || f->family != p->family || f->kind != kind ||
	    memcmp(f->addr, p->dst, 16) != 0) {
		memset(f, 0, sizeof(*f));
		f->port = port;
		f->family = p->family;
		f->kind = (uint8_t)kind;
		memcpy(f->addr, p->dst, 16);
	}
	return f;
}

static void flood_count(struct threat_ctx *t, struct threat_pkt *tp, enum flood_kind kind,
			uint32_t limit)
{
	struct flood_slot *f = flood_slot(t->floods, tp, kind);
	uint64_t sec = tp->now_ns / NS_PER_SEC;
	struct threat_hit h;

	if (f->sec != sec) {
		f->sec = sec;
		f->count = 0;
		f->reported = false;
	}
	if (++f->count <= limit)
		return;
	threat_hit_set(&h, kind == FLOOD_SYN ? THREAT_SYN_FLOOD : THREAT_ICMP_FLOOD,
		       "more than %u %s a second to this destination", limit,
		       kind == FLOOD_SYN ? "SYNs" : "echo requests");
	tp->no_reset = true;
	threat_report(t, tp, &h, !f->reported);
	f->reported = true;
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
