// SPDX-License-Identifier: Apache-2.0
/*
 * The application-level detectors (threat/detect.h) on the payload of
 * identified sessions, only where they can find something:
 *
 *   http  every client segment (request lines, headers, form bodies)
 *   tls   every segment of a direction until it turns encrypted (a
 *         ChangeCipherSpec or application-data record starts in one of its
 *         segments), after that only segments starting a heartbeat record
 *   ssh   the first segment of each direction (the identification line)
 *   dns   every query (client to server), and its name to the tunnel tracker
 *
 * A bulk transfer in an identified session costs a test or two a segment
 * (HTTP responses and encrypted TLS are not read).
 */
#include <netinet/in.h>

#include "detect.h"
#include "dp/threat/threat_ctx.h"

#define APP_HITS 4

#define TLS_CHANGE_CIPHER_SPEC 20
#define TLS_HEARTBEAT 24
#define TLS_APPLICATION_DATA 23

static void report_all(struct threat_ctx *t, struct threat_pkt *tp, const struct threat_hit *h,
		       size_t n)
{
	for (size_t i = 0; i < n; i++)
		threat_report(t, tp, &h[i], true);
}

/* A TLS record header at d: a content type of 20-24, version 3.x. */
static bool tls_record(const uint8_t *d, size_t len)
{
	return len >= 5 && d[0] >= TLS_CHANGE_CIPHER_SPEC && d[0] <= TLS_HEARTBEAT && d[1] == 3;
}

/* Whether a record starting in the segment says its sender encrypts from now. */
static bool tls_turns_encrypted(const uint8_t *d, size_t len)
{
	size_t off = 0;

	while (tls_record(d + off, len - off)) {
		if (d[off] == TLS_CHANGE_CIPHER_SPEC || d[off] == TLS_APPLICATION_DATA)
			return true;
		off += 5 + ((size_t)d[off + 3] << 8 | d[off + 4]);
		if (off >= len)
			break;
	}
	return false;
}

static void tls(struct threat_ctx *t, struct threat_pkt *tp)
{
	const struct pkt *p = tp->p;
	struct threat_sess *ts = &tp->s->threat;
	uint8_t enc = tp->from_client ? THREAT_SESS_ENC_C : THREAT_SESS_ENC_S;
	struct threat_hit h[APP_HITS];

	if ((ts->flags & enc) &&
	    !(p->payload[0] == TLS_HEARTBEAT && tls_record(p->payload, p->payload_len)))
		return;
	report_all(t, tp, h,
		   threat_tls_segment(p->payload, p->payload_len, tp->from_client, ts->flags & enc,
				      h, APP_HITS));
	if (!(ts->flags & enc) && tls_turns_encrypted(p->payload, p->payload_len))
		ts->flags |= enc;
}

static void ssh(struct threat_ctx *t, struct threat_pkt *tp)
{
	struct threat_sess *ts = &tp->s->threat;
	uint8_t seen = tp->from_client ? THREAT_SESS_DIR_C : THREAT_SESS_DIR_S;
	struct threat_hit h;

	if (ts->flags & seen)
		return;
	ts->flags |= seen;
	if (threat_ssh_segment(tp->p->payload, tp->p->payload_len, &h))
		threat_report(t, tp, &h, true);
}

static void dns(struct threat_ctx *t, struct threat_pkt *tp)
{
	const struct pkt *p = tp->p;
	struct threat_dns_query q = { 0 };
	struct threat_hit h[APP_HITS];

	report_all(t, tp, h,
		   threat_dns_message(p->payload, p->payload_len, p->proto == IPPROTO_TCP, &q, h,
				      APP_HITS));
	if (q.valid && threat_dns_track(t->dns, &q, tp->now_ns, &h[0]))
		threat_report(t, tp, &h[0], true);
}

void threat_app(struct threat_ctx *t, struct threat_pkt *tp)
{
	const struct pkt *p = tp->p;
	struct threat_hit h[APP_HITS];

	switch (tp->s->app.app) {
	case APP_HTTP:
		if (tp->from_client)
			report_all(t, tp, h,
				   threat_http_request(p->payload, p->payload_len, h, APP_HITS));
		break;
	case APP_TLS:
		tls(t, tp);
		break;
	case APP_SSH:
		ssh(t, tp);
		break;
	case APP_DNS:
		if (tp->from_client)
			dns(t, tp);
		break;
	default:
		break;
	}
}

bool threat_payload_done(const struct session *s, bool from_client)
{
	switch (s->app.app) {
	case APP_HTTP: /* every request; responses are not read */
	case APP_DNS:  /* every query; answers are not read */
		return !from_client;
	case APP_TLS: /* heartbeat records, at any time, either way */
		return false;
	case APP_SSH: /* the identification line of each side */
		return s->threat.flags & (from_client ? THREAT_SESS_DIR_C : THREAT_SESS_DIR_S);
	default:
		return true;
	}
}
