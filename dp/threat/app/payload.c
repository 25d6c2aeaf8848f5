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
 *
 * Where TCP is reassembled, threat_stream runs the same detectors on the
 * direction's stream, whole units at a time (threat.h), and says which
 * bytes it is done with.
 */
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

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
	struct threat_sess *ts = &tp->s->threat;
	uint8_t enc = tp->from_client ? THREAT_SESS_ENC_C : THREAT_SESS_ENC_S;
	struct threat_hit h[APP_HITS];

	if ((ts->flags & enc) && !(tp->data[0] == TLS_HEARTBEAT && tls_record(tp->data, tp->len)))
		return;
	report_all(t, tp, h,
		   threat_tls_segment(tp->data, tp->len, tp->from_client, ts->flags & enc, h,
				      APP_HITS));
	if (!(ts->flags & enc) && tls_turns_encrypted(tp->data, tp->len))
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
	if (threat_ssh_segment(tp->data, tp->len, &h))
		threat_report(t, tp, &h, true);
}

static void dns(struct threat_ctx *t, struct threat_pkt *tp)
{
	struct threat_dns_query q = { 0 };
	struct threat_hit h[APP_HITS];

	report_all(t, tp, h,
		   threat_dns_message(tp->data, tp->len, tp->p->proto == IPPROTO_TCP, &q, h,
				      APP_HITS));
	if (q.valid && threat_dns_track(t->dns, &q, tp->now_ns, &h[0]))
		threat_report(t, tp, &h[0], true);
}

void threat_app(struct threat_ctx *t, struct threat_pkt *tp)
{
	struct threat_hit h[APP_HITS];

	switch (tp->s->app.app) {
	case APP_HTTP:
		if (tp->from_client)
			report_all(t, tp, h, threat_http_request(tp->data, tp->len, h, APP_HITS));
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

/* ---- on a reassembled stream ---- */

/* Case-insensitive search for the header name (with its colon) in d. */
static const uint8_t *header_at(const uint8_t *d, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i + n <= len; i++)
		if ((i == 0 || d[i - 1] == '\n') && strncasecmp((const char *)d + i, name, n) == 0)
			return d + i + n;
	return NULL;
}

/*
 * The length of the HTTP request at the front of d (header block and its
 * Content-Length body), 0 when not all of it is there yet.
 */
static size_t http_request_len(const uint8_t *d, size_t len)
{
	const uint8_t *end = memmem(d, len, "\r\n\r\n", 4), *cl;
	size_t head, body = 0;

	if (!end)
		return 0;
	head = (size_t)(end - d) + 4;
	cl = header_at(d, head, "content-length:");
	while (cl && cl < d + head && (*cl == ' ' || *cl == '\t'))
		cl++;
	for (; cl && cl < d + head && *cl >= '0' && *cl <= '9' && body <= THREAT_HTTP_KEEP; cl++)
		body = body * 10 + (size_t)(*cl - '0');
	if (body > THREAT_HTTP_KEEP)
		return head; /* a long body: read as it comes */
	return head + body <= len ? head + body : 0;
}

/*
 * Whether d may start a request line: a method (1 to 16 capitals) and a
 * space, or a piece of one.  Anything else is a body longer than is kept
 * whole, or bytes after a gap, read as they come.
 */
static bool http_request_start(const uint8_t *d, size_t len)
{
	size_t i = 0;

	while (i < len && i < 16 && d[i] >= 'A' && d[i] <= 'Z')
		i++;
	return i > 0 && (i == len || d[i] == ' ');
}

/* Requests are read whole: the complete ones at the front are done with. */
static size_t http_stream(struct threat_ctx *t, struct threat_pkt *tp)
{
	struct threat_hit h[APP_HITS];
	size_t done = 0, n;

	if (!tp->from_client)
		return THREAT_STREAM_DONE;
	report_all(t, tp, h, threat_http_request(tp->data, tp->len, h, APP_HITS));
	while (done < tp->len && (n = http_request_len(tp->data + done, tp->len - done)) > 0) {
		done += n;
		if (done < tp->len) /* a pipelined request: read from its own start */
			report_all(
				t, tp, h,
				threat_http_request(tp->data + done, tp->len - done, h, APP_HITS));
	}
	/* a request longer than is kept, or no request: read as it came, not kept */
	if (tp->len - done >= THREAT_HTTP_KEEP ||
	    !http_request_start(tp->data + done, tp->len - done))
		return tp->len;
	return done;
}

/* TLS records are read whole until the direction turns encrypted. */
static size_t tls_stream(struct threat_ctx *t, struct threat_pkt *tp)
{
	uint8_t enc = tp->from_client ? THREAT_SESS_ENC_C : THREAT_SESS_ENC_S;
	size_t done = 0, rec;

	/* an SSLv2-format CLIENT-HELLO, a 2-byte header: whole (under 32 KiB) */
	if (tp->from_client && tp->len >= 2 && (tp->data[0] & 0x80)) {
		rec = 2 + ((size_t)(tp->data[0] & 0x7f) << 8 | tp->data[1]);
		if (rec > tp->len)
			return 0;
		tp->len = rec;
		tls(t, tp);
		return rec;
	}
	while (tp->len - done >= 5) {
		rec = 5 + ((size_t)tp->data[done + 3] << 8 | tp->data[done + 4]);
		if (!tls_record(tp->data + done, tp->len - done) || rec > tp->len - done)
			break;
		done += rec;
	}
	if (!done && tp->len >= 5 && !tls_record(tp->data, tp->len))
		done = tp->len; /* not a record: read as it came */
	if (!done)
		return 0;
	tp->len = done;
	tls(t, tp);
	return (tp->s->threat.flags & enc) ? THREAT_STREAM_DONE : done;
}

/* DNS over TCP: one message at a time, with its length prefix. */
static size_t dns_stream(struct threat_ctx *t, struct threat_pkt *tp)
{
	const uint8_t *d = tp->data;
	size_t len = tp->len, done = 0, n;

	if (!tp->from_client)
		return THREAT_STREAM_DONE;
	while (len - done >= 2 && (n = 2 + ((size_t)d[done] << 8 | d[done + 1])) <= len - done) {
		tp->data = d + done;
		tp->len = n;
		dns(t, tp);
		done += n;
	}
	return done;
}

#define SSH_STREAM_MAX 1024

/* Whether d holds a whole line starting "SSH-" (the identification line). */
static bool ssh_line_whole(const uint8_t *d, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++)
		if ((i == 0 || d[i - 1] == '\n') && memcmp(d + i, "SSH-", 4) == 0)
			return memchr(d + i, '\n', len - i) != NULL;
	return false;
}

/* The identification line once it is whole, with the lines before it (at most 1 KiB). */
static size_t ssh_stream(struct threat_ctx *t, struct threat_pkt *tp)
{
	if (!ssh_line_whole(tp->data, tp->len) && tp->len < SSH_STREAM_MAX)
		return 0;
	ssh(t, tp);
	return THREAT_STREAM_DONE;
}

size_t threat_stream(struct threat_ctx *t, struct threat_pkt *tp)
{
	switch (tp->s->app.app) {
	case APP_HTTP:
		return http_stream(t, tp);
	case APP_TLS:
		return tls_stream(t, tp);
	case APP_SSH:
		return ssh_stream(t, tp);
	case APP_DNS:
		return dns_stream(t, tp);
	default:
		return THREAT_STREAM_DONE;
	}
}
