/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_THREAT_DETECT_H
#define PORTCULLIS_DP_THREAT_DETECT_H

/*
 * Application-level threat detectors: pure functions over a buffer (a UDP
 * message, a TCP segment, or whole units of a reassembled TCP stream as
 * threat_stream hands them; no allocation per call), plus one
 * small bounded tracker for DNS tunnels.  A hit is the threat and a short
 * piece of printable evidence; severity and action are the caller's.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dp/threat/threat_id.h"

/* One client->server HTTP/1.x segment as it arrived (may hold a request line + headers + body,
 * or only part; no reassembly). Checks: http_smuggling (Content-Length together with
 * Transfer-Encoding: chunked, or two Content-Length headers with different values),
 * http_negative_length (Content-Length with a leading '-' or a value that overflows int64),
 * sql_injection in the request target (path and query string, after URL percent/+ decoding,
 * per parameter value) and in an application/x-www-form-urlencoded body present in the same
 * segment. Returns the number of hits written to hits[0..max). */
size_t threat_http_request(const uint8_t *d, size_t len, struct threat_hit *hits, size_t max);

/* Whether the segment ends the header block of a request ("\r\n\r\n" seen) - used for slowloris. */
bool threat_http_headers_complete(const uint8_t *d, size_t len);

/* SQL injection in one already-decoded value: a tokenizing detector (strings with quote state,
 * numbers, identifiers/keywords, operators, comments, semicolons) that flags token sequences
 * typical of injection: a break-out of a quoted string followed by a boolean tautology, a
 * comparison or a comment; UNION [ALL] SELECT; stacked queries; time/blind functions.
 * evidence: the offending fragment (truncated, sanitized to printable ASCII). */
bool threat_sqli(const char *s, size_t len, struct threat_hit *hit);

/* One TLS segment (record layer) in either direction, parsed from its start (records that begin
 * in it; no reassembly). tls_old_version: a ClientHello whose highest offered version
 * (client_version, or supported_versions extension when present) is below TLS 1.2 (SSLv2-format
 * ClientHello too), or a ServerHello that negotiates below TLS 1.2 (ServerHello.version, or
 * supported_versions when present). tls_heartbleed: a heartbeat record (content type 24) whose
 * payload_length + 3 + 16 > the record length while the record is plaintext (encrypted=false,
 * and no ChangeCipherSpec earlier in the segment); an encrypted heartbeat record is only
 * flagged when its length is below 3 + 16. Returns hits count. */
size_t threat_tls_segment(const uint8_t *d, size_t len, bool from_client, bool encrypted,
			  struct threat_hit *hits, size_t max);

/* One SSH segment: ssh_v1 when an identification string "SSH-1.<n>-" with n != 99 starts a
 * line of it ("SSH-1.99-" also speaks 2.0). */
bool threat_ssh_segment(const uint8_t *d, size_t len, struct threat_hit *hit);

/* DNS: one message (UDP payload; for TCP the caller passes the segment and tcp=true so the
 * 2-byte length prefix is skipped). Fills *q with facts about the first question for the
 * caller's rate tracking, and returns hits: dns_zone_transfer (QTYPE AXFR 252 or IXFR 251, in a
 * query), dns_type_null (QTYPE NULL 10, in a query). */
struct threat_dns_query {
	bool valid; /* a query (QR=0) with a parsable first question */
	uint16_t qtype;
	char domain[64];	/* the registered-domain part: the last two labels, lowercased */
	uint8_t longest_label;	/* length of the longest label in front of domain */
	uint16_t entropy_milli; /* Shannon entropy of the front labels, bits/char x1000 */
	uint16_t front_len;	/* total length of the labels in front of domain */
};
size_t threat_dns_message(const uint8_t *d, size_t len, bool tcp, struct threat_dns_query *q,
			  struct threat_hit *hits, size_t max);

/* dns_tunneling: a bounded tracker (256 slots, a domain hashed with a keyed hash under a random
 * key per tracker, looked for in the 8 slots from there, the least recently used of those 8
 * overwritten by a new domain; no allocation per packet). Feed it every valid query with its
 * time; it fires once per domain per window when, within a sliding 10 s window, at least N
 * (default 20) queries under the same domain had a long (front_len >= 40 or a label >= 30)
 * high-entropy (>= 3.5 bits/char) front part, at least half of them distinct (a client asking
 * for its one long name again and again is no tunnel). Thread-safe: one tracker serves every
 * worker (a mutex, taken for suspect queries only), so the count is the data plane's. NULL
 * from _new with err_msg() when out of memory or without a key. */
struct threat_dns_tracker;
struct threat_dns_tracker *threat_dns_tracker_new(void);
void threat_dns_tracker_free(struct threat_dns_tracker *t);
bool threat_dns_track(struct threat_dns_tracker *t, const struct threat_dns_query *q,
		      uint64_t now_ns, struct threat_hit *hit);
/* N, clamped to 1..THREAT_DNS_MAX_THRESHOLD */
#define THREAT_DNS_MAX_THRESHOLD 32
void threat_dns_tracker_set_threshold(struct threat_dns_tracker *t, unsigned n);

/* Shannon entropy of a byte buffer, bits per byte x1000 (for icmp_tunneling too). */
uint16_t threat_entropy_milli(const uint8_t *d, size_t len);

#endif
