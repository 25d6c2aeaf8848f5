// SPDX-License-Identifier: Apache-2.0
/*
 * Request framing (RFC 9112 6): a Transfer-Encoding next to a
 * Content-Length, or Content-Length values that disagree, let a front end
 * and a back end cut the stream into different requests (smuggling).  A
 * negative length, or one past int64, breaks parsers that trust it.
 */
#include <inttypes.h>
#include <string.h>

#include "http_int.h"

#define HTTP_SHOWN 40

static bool http_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* n bytes of name (trailing whitespace allowed: itself a smuggling trick) equal to lower */
static bool http_name_is(const uint8_t *name, size_t n, const char *lower)
{
	while (n > 0 && http_ows(name[n - 1]))
		n--;
	return n == strlen(lower) && threat_ci_prefix(name, n, lower);
}

static void http_trim(const uint8_t **v, size_t *n)
{
	while (*n > 0 && http_ows(**v)) {
		(*v)++;
		(*n)--;
	}
	while (*n > 0 && http_ows((*v)[*n - 1]))
		(*n)--;
}

/* the first bad value is the one shown */
static void http_bad_length(const uint8_t *v, size_t n, struct http_hdrs *h)
{
	if (h->bad)
		return;
	h->bad = v;
	h->bad_len = n;
}

/* one element of a Content-Length value */
static void http_cl_value(const uint8_t *v, size_t n, struct http_hdrs *h)
{
	int64_t val = 0;

	http_trim(&v, &n);
	if (n == 0)
		return;
	if (v[0] == '-') {
		http_bad_length(v, n, h);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return; /* not a number: not a length this check knows */
		if (val > (INT64_MAX - (v[i] - '0')) / 10) {
			http_bad_length(v, n, h);
			return;
		}
		val = val * 10 + (v[i] - '0');
	}
	if (h->cl_count++ == 0) {
		h->cl = val;
	} else if (val != h->cl && !h->cl_conflict) {
		h->cl_conflict = true;
		h->cl_other = val;
	}
}

static void http_content_length(const uint8_t *v, size_t n, struct http_hdrs *h)
{
	const uint8_t *comma;

	while ((comma = memchr(v, ',', n)) != NULL) {
		http_cl_value(v, (size_t)(comma - v), h);
		n -= (size_t)(comma - v) + 1;
		v = comma + 1;
	}
	http_cl_value(v, n, h);
}

void http_header(const uint8_t *line, size_t n, struct http_hdrs *h)
{
	const uint8_t *colon = memchr(line, ':', n), *v;
	size_t name, vn;

	if (!colon)
		return;
	name = (size_t)(colon - line);
	v = colon + 1;
	vn = n - name - 1;
	if (http_name_is(line, name, "content-length")) {
		http_content_length(v, vn, h);
	} else if (http_name_is(line, name, "transfer-encoding")) {
		h->te = true;
	} else if (http_name_is(line, name, "content-type")) {
		http_trim(&v, &vn);
		h->form = threat_ci_prefix(v, vn, "application/x-www-form-urlencoded");
	}
}

size_t http_length_hits(const struct http_hdrs *h, struct threat_hit *hits, size_t max)
{
	size_t n = 0;
	char v[HTTP_SHOWN];

	if (n < max && h->te && (h->cl_count > 0 || h->bad)) {
		threat_hit_set(&hits[n++], THREAT_HTTP_SMUGGLING,
			       "Content-Length and Transfer-Encoding");
	} else if (n < max && h->cl_conflict) {
		threat_hit_set(&hits[n++], THREAT_HTTP_SMUGGLING,
			       "Content-Length %" PRId64 " and %" PRId64, h->cl, h->cl_other);
	}
	if (n < max && h->bad) {
		threat_text(v, sizeof(v), h->bad, h->bad_len);
		threat_hit_set(&hits[n++], THREAT_HTTP_NEGATIVE_LENGTH, "Content-Length: %s", v);
	}
	return n;
}
