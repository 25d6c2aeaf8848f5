/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the application-level threat detectors.  The
 * input is one flags byte and a payload; the payload goes, in a buffer of
 * its own size so that reads past it are caught, to every detector: as an
 * HTTP request segment, as a query value and a form body inside a request
 * (so that the URL decoding is reached), as a SQL value, as a TLS segment
 * in both directions, as an SSH segment and as a DNS message over UDP and
 * TCP, whose facts feed one long-lived tunnel tracker.  Every hit must
 * carry a known id and printable, NUL-terminated evidence.
 */
#include <stdlib.h>
#include <string.h>

#include "dp/threat/app/detect.h"

#define MAX_HITS 4

static void check_hits(const struct threat_hit *hits, size_t n, size_t max)
{
	if (n > max)
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		size_t len = strnlen(hits[i].evidence, sizeof(hits[i].evidence));

		if ((unsigned)hits[i].id >= THREAT_MAX || len == sizeof(hits[i].evidence))
			__builtin_trap();
		for (size_t j = 0; j < len; j++)
			if (hits[i].evidence[j] < ' ' || hits[i].evidence[j] > '~')
				__builtin_trap();
	}
}

static void check_query(const struct threat_dns_query *q)
{
	if (!q->valid)
		return;
	if (strnlen(q->domain, sizeof(q->domain)) == sizeof(q->domain) || q->longest_label > 63 ||
	    q->entropy_milli > 8000 || q->front_len > 255)
		__builtin_trap();
}

/* prefix + payload + suffix in an exact-size buffer, to threat_http_request */
static void http_wrapped(const char *prefix, const uint8_t *d, size_t len, const char *suffix)
{
	size_t p = strlen(prefix), s = strlen(suffix), n;
	struct threat_hit hits[MAX_HITS];
	uint8_t *buf = malloc(p + len + s);

	if (!buf)
		return;
	memcpy(buf, prefix, p);
	memcpy(buf + p, d, len);
	memcpy(buf + p + len, suffix, s);
	n = threat_http_request(buf, p + len + s, hits, MAX_HITS);
	check_hits(hits, n, MAX_HITS);
	free(buf);
}

static void dns(const uint8_t *d, size_t len, bool tcp)
{
	static struct threat_dns_tracker *tracker;
	static uint64_t now;
	struct threat_dns_query q;
	struct threat_hit hits[MAX_HITS], hit;
	size_t n = threat_dns_message(d, len, tcp, &q, hits, MAX_HITS);

	check_hits(hits, n, MAX_HITS);
	check_query(&q);
	if (!tracker)
		tracker = threat_dns_tracker_new();
	now += 100000000; /* 100 ms between messages */
	if (tracker && threat_dns_track(tracker, &q, now, &hit))
		check_hits(&hit, 1, 1);
}

static void all(const uint8_t *d, size_t len, uint8_t flags)
{
	struct threat_hit hits[MAX_HITS];
	size_t n;

	n = threat_http_request(d, len, hits, flags & 1 ? 1 : MAX_HITS);
	check_hits(hits, n, MAX_HITS);
	threat_http_headers_complete(d, len);
	if (threat_sqli((const char *)d, len, hits))
		check_hits(hits, 1, 1);
	for (unsigned v = 0; v < 4; v++) {
		n = threat_tls_segment(d, len, v & 1, v & 2, hits, MAX_HITS);
		check_hits(hits, n, MAX_HITS);
	}
	if (threat_ssh_segment(d, len, hits))
		check_hits(hits, 1, 1);
	dns(d, len, false);
	dns(d, len, true);
	if (threat_entropy_milli(d, len) > 8000)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;

	if (size < 1)
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	all(buf, size - 1, data[0]);
	free(buf);
	if (data[0] & 2)
		http_wrapped("GET /p?a=1&q=", data + 1, size - 1, " HTTP/1.1\r\nHost: a\r\n\r\n");
	if (data[0] & 4)
		http_wrapped(
			"POST /f HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
			"\r\n",
			data + 1, size - 1, "");
	return 0;
}
