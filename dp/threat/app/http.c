// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP/1.x requests, one client segment at a time: the request line, the
 * complete header lines that follow it in the segment, and the start of
 * the body when the header block ends in the segment.  Anything that does
 * not start with an upper-case method token and a space is left at once.
 */
#include <string.h>

#include "http_int.h"

#define HTTP_METHOD_MAX 16

struct http_req {
	const uint8_t *target;
	size_t target_len;
	size_t headers;	     /* offset of the first header line; 0 when none in the segment */
	const uint8_t *body; /* NULL when the header block does not end in the segment */
	size_t body_len;
	struct http_hdrs hdr;
};

/* the length of "METHOD " at d; 0 if the segment does not start with one */
static size_t http_method(const uint8_t *d, size_t len)
{
	for (size_t i = 0; i < len && i <= HTTP_METHOD_MAX; i++) {
		if (d[i] == ' ')
			return i >= 3 ? i + 1 : 0;
		if (d[i] < 'A' || d[i] > 'Z')
			return 0;
	}
	return 0;
}

/* "METHOD target HTTP/1.x", or the start of one cut at the segment end */
static bool http_request_line(const uint8_t *d, size_t len, struct http_req *r)
{
	size_t i = http_method(d, len), t = i, v;
	const uint8_t *nl;

	if (i == 0)
		return false;
	while (i < len && d[i] > ' ' && d[i] != 0x7f)
		i++;
	r->target = d + t;
	r->target_len = i - t;
	if (i == len)
		return i > t;
	if (d[i] != ' ' || i == t)
		return false;
	v = len - i - 1 < 7 ? len - i - 1 : 7;
	if (memcmp(d + i + 1, "HTTP/1.", v) != 0)
		return false;
	nl = memchr(d + i, '\n', len - i);
	r->headers = nl ? (size_t)(nl - d) + 1 : 0;
	return true;
}

/* the complete header lines, and where the body starts if the block ends here */
static void http_headers(const uint8_t *d, size_t len, struct http_req *r)
{
	size_t off = r->headers;

	while (off > 0 && off < len) {
		const uint8_t *nl = memchr(d + off, '\n', len - off);
		size_t end, n;

		if (!nl)
			return;
		end = (size_t)(nl - d);
		n = end - off;
		if (n > 0 && d[off + n - 1] == '\r')
			n--;
		if (n == 0) {
			r->body = nl + 1;
			r->body_len = len - end - 1;
			return;
		}
		http_header(d + off, n, &r->hdr);
		off = end + 1;
	}
}

/* the body bytes of this request in the segment: Content-Length of them when known */
static size_t http_body_len(const struct http_req *r)
{
	const struct http_hdrs *h = &r->hdr;

	if (h->cl_count > 0 && !h->cl_conflict && !h->te && (uint64_t)h->cl < r->body_len)
		return (size_t)h->cl;
	return r->body_len;
}

size_t threat_http_request(const uint8_t *d, size_t len, struct threat_hit *hits, size_t max)
{
	struct http_req r = { 0 };
	size_t n;

	if (max == 0 || !http_request_line(d, len, &r))
		return 0;
	http_headers(d, len, &r);
	n = http_length_hits(&r.hdr, hits, max);
	if (n < max && http_target_sqli(r.target, r.target_len, &hits[n]))
		return n + 1;
	if (n < max && r.body && r.hdr.form && http_form_sqli(r.body, http_body_len(&r), &hits[n]))
		return n + 1;
	return n;
}

/*
 * An empty line in the segment ends the header block.  A segment that
 * starts with the line end most likely completes a "\r\n" the previous
 * one ended with (headers sent a line at a time); it counts as the end,
 * so that a slow client is never taken for slowloris by a split CRLF.
 */
bool threat_http_headers_complete(const uint8_t *d, size_t len)
{
	if ((len >= 1 && d[0] == '\n') || (len >= 2 && d[0] == '\r' && d[1] == '\n'))
		return true;
	for (size_t i = 0; i < len; i++) {
		if (d[i] != '\n')
			continue;
		if (i + 1 < len && d[i + 1] == '\n')
			return true;
		if (i + 2 < len && d[i + 1] == '\r' && d[i + 2] == '\n')
			return true;
	}
	return false;
}
