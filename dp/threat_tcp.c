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
 * run.  The raw window field is used, unscaled (the scale option is not
 * tracked): scaled, a raw value under 64 may mean a few KiB, which a
 * receiver avoiding silly windows advertises only briefly while its
 * buffer drains, far from ten segments in a row.
 */
#include "threat_ctx.h"

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
		threat_hitf(&h, THREAT_TCP_SYN_DATA, "SYN with %zu bytes of payload",
			    p->payload_len);
		threat_report(t, tp, &h, true);
	}
	if (plain && !tp->from_client && !tp->s->picked_up) {
		threat_hitf(&h, THREAT_TCP_SPLIT_HANDSHAKE,
			    "the server answered with a SYN without ACK");
		threat_report(t, tp, &h, true);
	}
	if (p->mss && p->mss < MSS_FLOOR) {
		threat_hitf(&h, THREAT_TCP_SMALL_MSS, "%s SYN with MSS %u (under %u)",
			    tp->from_client ? "client" : "server", p->mss, MSS_FLOOR);
		threat_report(t, tp, &h, true);
	}
}

static void window_check(struct threat_ctx *t, struct threat_pkt *tp)
{
	const struct pkt *p = tp->p;
	struct threat_sess *ts = &tp->s->threat;
	bool flow_control = p->window == 0 && (ts->flags & THREAT_SESS_SRV_DATA);
	struct threat_hit h;

	ts->flags &= (uint8_t)~THREAT_SESS_SRV_DATA;
	if (p->window >= SMALL_WINDOW || flow_control || tp->s->tcp_state < TS_ESTABLISHED) {
		ts->run = 0;
		return;
	}
	if (ts->run < SMALL_WINDOW_RUN)
		ts->run++;
	if (ts->run < SMALL_WINDOW_RUN)
		return;
	threat_hitf(&h, THREAT_TCP_SMALL_WINDOW,
		    "%u client segments in a row with a window under %u bytes (last %u)",
		    SMALL_WINDOW_RUN, SMALL_WINDOW, p->window);
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
