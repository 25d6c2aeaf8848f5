// SPDX-License-Identifier: Apache-2.0
/* Threat detection: the context, the dispatch per frame, reporting and actions. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threat_ctx.h"
#include "dp/flow/clock.h"
#include "dp/threat/app/detect.h"

_Static_assert(THREAT_MAX <= 8 * sizeof(((struct threat_sess *)0)->fired),
	       "one fired bit per threat");

/* clang-format off */
static const char *const severity[THREAT_MAX] = {
	[THREAT_SYN_FLOOD] = "medium",		[THREAT_ICMP_FLOOD] = "medium",
	[THREAT_PING_OF_DEATH] = "high",	[THREAT_IP_TEARDROP] = "high",
	[THREAT_TCP_SYN_DATA] = "low",		[THREAT_TCP_SPLIT_HANDSHAKE] = "medium",
	[THREAT_TCP_SMALL_WINDOW] = "medium",	[THREAT_TCP_SMALL_MSS] = "medium",
	[THREAT_SSH_V1] = "medium",		[THREAT_TLS_OLD_VERSION] = "low",
	[THREAT_TLS_HEARTBLEED] = "high",	[THREAT_HTTP_SMUGGLING] = "high",
	[THREAT_HTTP_NEGATIVE_LENGTH] = "medium", [THREAT_HTTP_SLOWLORIS] = "medium",
	[THREAT_SQL_INJECTION] = "high",	[THREAT_DNS_TUNNELING] = "high",
	[THREAT_DNS_ZONE_TRANSFER] = "medium",	[THREAT_DNS_TYPE_NULL] = "low",
	[THREAT_ICMP_TUNNELING] = "medium",	[THREAT_TCP_OVERLAP_CONFLICT] = "medium",
};
/* clang-format on */

const char *threat_name(enum threat_id id)
{
	return policy_threat_name(id);
}

const char *threat_severity(enum threat_id id)
{
	return (unsigned)id < THREAT_MAX ? severity[id] : "?";
}

struct threat_shared *threat_shared_new(void)
{
	struct threat_shared *sh = calloc(1, sizeof(*sh));

	if (!sh)
		return NULL;
	sh->floods = threat_flood_new();
	sh->slow = threat_slow_new();
	sh->dns = threat_dns_tracker_new();
	if (!sh->floods || !sh->slow || !sh->dns) {
		threat_shared_free(sh);
		return NULL;
	}
	return sh;
}

void threat_shared_free(struct threat_shared *sh)
{
	if (!sh)
		return;
	threat_flood_free(sh->floods);
	threat_slow_free(sh->slow);
	threat_dns_tracker_free(sh->dns);
	free(sh);
}

struct threat_ctx *threat_new(struct slog *log, bool wall_clock, uint64_t *counts,
			      struct threat_shared *shared)
{
	struct threat_ctx *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->log = log;
	t->wall_clock = wall_clock;
	t->counts = counts;
	if (!shared)
		shared = t->own = threat_shared_new();
	t->frags = threat_frag_new();
	if (!shared || !t->frags) {
		threat_free(t);
		return NULL;
	}
	t->floods = shared->floods;
	t->slow = shared->slow;
	t->dns = shared->dns;
	return t;
}

void threat_free(struct threat_ctx *t)
{
	if (!t)
		return;
	threat_frag_free(t->frags);
	threat_shared_free(t->own);
	free(t);
}

enum threat_act { ACT_ALERT, ACT_DROP, ACT_VIOLATION };

static enum threat_act action_of(const struct threat_pkt *tp, enum threat_id id)
{
	if (policy_threat_action(tp->pol, threat_name(id)) != POLICY_THREAT_DROP)
		return ACT_ALERT;
	/* frames of a fwd port, and of a capture, come back only if we say so */
	return !tp->port || tp->port->mode == MODE_FWD ? ACT_DROP : ACT_VIOLATION;
}

/* Set s's bit for id; whether it was clear. */
static bool first_for_session(struct session *s, enum threat_id id)
{
	uint8_t *b = &s->threat.fired[id / 8], bit = (uint8_t)(1u << (id % 8));

	if (*b & bit)
		return false;
	*b |= bit;
	return true;
}

/* THREAT_LOG_PER_SEC lines per threat and second. */
static bool log_budget(struct threat_ctx *t, enum threat_id id, uint64_t now_ns)
{
	uint64_t sec = now_ns / NS_PER_SEC;

	if (t->log_sec[id] != sec) {
		t->log_sec[id] = sec;
		t->log_used[id] = 0;
	}
	return t->log_used[id]++ < THREAT_LOG_PER_SEC;
}

static void log_hit(struct threat_ctx *t, const struct threat_pkt *tp, const struct threat_hit *h,
		    enum threat_act a)
{
	static const char *const act_name[] = { "alert", "drop", "violation" };
	struct slog_threat line = {
		.threat = threat_name(h->id),
		.severity = threat_severity(h->id),
		.action = act_name[a],
		.evidence = h->evidence,
		.s = tp->s,
		.p = tp->p,
		.ctr = tp->s	  ? tp->s->ctr
		       : tp->port ? tp->port->ctr
				  : NULL,
	};
	struct slog_clock c;

	if (t->wall_clock) {
		c.wall_ns = clock_wall_ns();
		c.session_ns = clock_mono_ns();
	}
	slog_write_threat(t->log, &line, t->wall_clock ? &c : NULL);
}

void threat_report(struct threat_ctx *t, struct threat_pkt *tp, const struct threat_hit *h,
		   bool log)
{
	enum threat_act a = action_of(tp, h->id);

	if (a == ACT_DROP)
		tp->drop = true;
	if (!log || (tp->s && !first_for_session(tp->s, h->id)))
		return;
	t->counts[h->id]++;
	if (t->log && log_budget(t, h->id, tp->now_ns))
		log_hit(t, tp, h, a);
}

static bool is_icmp(uint8_t proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

void threat_frame(struct threat_ctx *t, struct threat_pkt *tp)
{
	const struct pkt *p = tp->p;
	struct session *s = tp->s;

	if (p->fragment)
		threat_frag(t, tp);
	if (!s) {
		/* no session for it (the table is full): floods are counted all the same */
		if (!p->fragment || p->first_fragment)
			threat_flood(t, tp);
		return;
	}
	if (p->proto == IPPROTO_TCP) {
		if (p->tcp_flags & TCPF_SYN)
			threat_flood(t, tp);
		threat_tcp(t, tp);
		if (s->app.app == APP_HTTP && !(s->threat.flags & THREAT_SESS_HDR_DONE))
			threat_slow(t, tp);
	} else if (is_icmp(p->proto)) {
		threat_flood(t, tp);
		threat_icmp(t, tp);
	}
	if (p->payload_len && s->app.app != APP_UNKNOWN && !tp->streamed) {
		tp->data = p->payload;
		tp->len = p->payload_len;
		threat_app(t, tp);
	}
}

void threat_tcp_conflict(struct threat_ctx *t, struct threat_pkt *tp, uint32_t bytes)
{
	struct threat_hit h = { .id = THREAT_TCP_OVERLAP_CONFLICT };

	snprintf(h.evidence, sizeof(h.evidence), "%u bytes resent with other content", bytes);
	threat_report(t, tp, &h, true);
}

void threat_session_end(struct threat_ctx *t, const struct session *s)
{
	if (s->threat.flags & THREAT_SESS_SLOW)
		threat_slow_end(t, s);
}
