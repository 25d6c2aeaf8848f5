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
 * Destinations live in a bounded direct-mapped table: one that hashes onto
 * a slot in use by another with sessions counted is not counted.
 */
#include <stdlib.h>
#include <string.h>

#include "dp/threat/app/detect.h"
#include "dp/threat/threat_ctx.h"
#include "dp/threat/threat_int.h"

#define SLOW_AFTER_S 10
#define SLOW_SESSIONS 20
#define SLOW_REPORT_S 60
#define SLOW_SLOTS 256

struct slow_dest {
	uint32_t port;
	uint8_t family;
	bool reported;
	uint16_t dport;
	uint8_t addr[16];
	uint32_t count;
	uint64_t reported_ns;
};

struct slow_table {
	struct slow_dest slot[SLOW_SLOTS];
};

struct slow_table *threat_slow_new(void)
{
	return calloc(1, sizeof(struct slow_table));
}

void threat_slow_free(struct slow_table *st)
{
	free(st);
}

/* The server's end of s, its slot, and whether the slot is s's. */
static struct slow_dest *slow_dest(struct slow_table *st, const struct session *s, bool *mine)
{
	const struct flow_key *k = &s->key;
	const uint8_t *addr = s->client_is_a ? k->addr_b : k->addr_a;
	uint16_t dport = s->client_is_a ? k->port_b : k->port_a;
	uint32_t h = fnv32(fnv32(FNV32_INIT, &k->port, sizeof(k->port)), &dport, sizeof(dport));
	struct slow_dest *d;

	d = &st->slot[fnv32(h, addr, 16) % SLOW_SLOTS];
	*mine = d->port == k->port && d->family == k->family && d->dport == dport &&
		memcmp(d->addr, addr, 16) == 0;
	if (!*mine && d->count == 0) {
		memset(d, 0, sizeof(*d));
		d->port = k->port;
		d->family = k->family;
		d->dport = dport;
		memcpy(d->addr, addr, 16);
		*mine = true;
	}
	return d;
}

static void count_slow(struct threat_ctx *t, struct threat_pkt *tp)
{
	bool mine;
	struct slow_dest *d = slow_dest(t->slow, tp->s, &mine);
	bool again;
	struct threat_hit h;

	if (!mine)
		return;
	d->count++;
	tp->s->threat.flags |= THREAT_SESS_SLOW;
	if (d->count < SLOW_SESSIONS)
		return;
	again = !d->reported || tp->now_ns - d->reported_ns >= SLOW_REPORT_S * NS_PER_SEC;
	threat_hit_set(&h, THREAT_HTTP_SLOWLORIS,
		       "%u sessions to this server with request headers incomplete after %u s",
		       d->count, SLOW_AFTER_S);
	threat_report(t, tp, &h, again);
	if (again) {
		d->reported = true;
		d->reported_ns = tp->now_ns;
	}
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
	bool mine;
	struct slow_dest *d = slow_dest(t->slow, s, &mine);

	if (mine && d->count)
		d->count--;
}
