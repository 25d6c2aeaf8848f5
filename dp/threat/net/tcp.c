// SPDX-License-Identifier: Apache-2.0
/*
 * TCP abuse, from flags, the window and the MSS option only (no payload
 * is read, so a bulk transfer costs a few tests a segment):
 *
 *   tcp_syn_data         a SYN (no ACK) carrying payload
 *   tcp_split_handshake  the server answers with a SYN without ACK (the
 *                        split handshake / simultaneous open trick)
 *   tcp_small_window     SMALL_WINDOW_RUN client segments in a row, after
 *                        the handshake, advertising under SMALL_WINDOW
 *                        bytes: a client pinning the server's send buffer
 *   tcp_small_mss        an MSS option under MSS_FLOOR
 *
 * A client's zero window right after the server sent it data is flow
 * control (its buffer is full), not counted; any larger window ends the
 * run.  The window is scaled by the shift the client's SYN offered when
 * the server's SYN+ACK agreed (RFC 7323): Linux scales by 2^7 or more, so
 * its raw window of an ordinary connection is well under 64.  A session
 * picked up mid-stream has no known scale and is not judged.
 */
#include <netinet/in.h>

#include "dp/threat/threat_ctx.h"
#include "dp/threat/threat_int.h"

#define SMALL_WINDOW 64
#define SMALL_WINDOW_RUN 10

/*
 * The smallest MSS a conforming path needs is 536 (576-byte datagrams,
 * RFC 879/1122); tunnels and IP options take some off that.  Under 500 is
 * what the tiny-MSS resource attacks (SACK panic, CVE-2019-11477) use:
 * Linux itself accepts down to 88 (and 48 before that fix).
 */
#define MSS_FLOOR 500

static void syn_checks(struct threat_ctx *t, struct threat_pkt *tp)
{
	const struct pkt *p = tp->p;
	bool plain = !(p->tcp_flags & TCPF_ACK);
	struct threat_hit h;

	if (plain && p->payload_len) {
		threat_hit_set(&h, THREAT_TCP_SYN_DATA, "SYN with %zu bytes of payload",
			       p->payload_len);
		threat_report(t, tp, &h, true);
	}
	if (plain && !tp->from_client && !tp->s->picked_up) {
		threat_hit_set(&h, THREAT_TCP_SPLIT_HANDSHAKE,
			       "the server answered with a SYN without ACK");
		threat_report(t, tp, &h, true);
	}
	/* the client's scale holds once the server's SYN+ACK carries one too */
	if (plain && tp->from_client)
		tp->s->threat.win_s = p->wscale;
	else if (!plain && !tp->from_client && !p->wscale)
		tp->s->threat.win_s = 0;
	if (p->mss && p->mss < MSS_FLOOR) {
		threat_hit_set(&h, THREAT_TCP_SMALL_MSS, "%s SYN with MSS %u (under %u)",
			       tp->from_client ? "client" : "server", p->mss, MSS_FLOOR);
		threat_report(t, tp, &h, true);
	}
}

uint16_t threat_small_window_raw(const struct session *s)
{
	unsigned shift = s->threat.win_s ? s->threat.win_s - 1u : 0u;

	if (s->key.proto != IPPROTO_TCP || s->picked_up)
		return 0;
	/* raw << shift < SMALL_WINDOW */
	return (uint16_t)((SMALL_WINDOW + (1u << shift) - 1) >> shift);
}

static void window_check(struct threat_ctx *t, struct threat_pkt *tp)
{
	const struct pkt *p = tp->p;
	struct threat_sess *ts = &tp->s->threat;
	bool flow_control = p->window == 0 && (ts->flags & THREAT_SESS_SRV_DATA);
	uint32_t window = (uint32_t)p->window << (ts->win_s ? ts->win_s - 1 : 0);
	struct threat_hit h;

	ts->flags &= (uint8_t)~THREAT_SESS_SRV_DATA;
	if (window >= SMALL_WINDOW || flow_control || tp->s->picked_up ||
	    tp->s->tcp_state < TS_ESTABLISHED) {
		ts->run = 0;
		return;
	}
	if (ts->run < SMALL_WINDOW_RUN)
		ts->run++;
	if (ts->run < SMALL_WINDOW_RUN)
		return;
	threat_hit_set(&h, THREAT_TCP_SMALL_WINDOW,
		       "%u client segments in a row with a window under %u bytes (last %u)",
		       SMALL_WINDOW_RUN, SMALL_WINDOW, window);
	threat_report(t, tp, &h, true);
}

void threat_tcp(struct threat_ctx *t, struct threat_pkt *tp)
{
	const struct pkt *p = tp->p;

	if (p->tcp_flags & TCPF_SYN) {
		syn_checks(t, tp);
		return;
	}
	if (p->tcp_flags & TCPF_RST)
		return;
	if (tp->from_client)
		window_check(t, tp);
	else if (p->payload_len && !(tp->s->threat.flags & THREAT_SESS_SRV_DATA))
		tp->s->threat.flags |= THREAT_SESS_SRV_DATA;
}
