/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_THREAT_HTTP_INT_H
#define PORTCULLIS_DP_THREAT_HTTP_INT_H

/* What the HTTP request checks share (http.c, http_len.c, http_params.c). */

#include "dp/threat/threat_int.h"

/* the framing and type facts of a request's header lines */
struct http_hdrs {
	bool te;	   /* a Transfer-Encoding header */
	bool form;	   /* Content-Type: application/x-www-form-urlencoded */
	unsigned cl_count; /* Content-Length values (a comma list counts each) */
	int64_t cl;	   /* the first of them */
	bool cl_conflict;  /* one of the others differs from it: */
	int64_t cl_other;
	const uint8_t *bad; /* a Content-Length value negative or beyond int64 */
	size_t bad_len;
};

/* one complete header line (without its line end) */
void http_header(const uint8_t *line, size_t n, struct http_hdrs *h);

/* http_smuggling and http_negative_length hits from the facts */
size_t http_length_hits(const struct http_hdrs *h, struct threat_hit *hits, size_t max);

/* SQL injection in the path and each query parameter value of a request target */
bool http_target_sqli(const uint8_t *target, size_t n, struct threat_hit *hit);

/* SQL injection in each value of an application/x-www-form-urlencoded body */
bool http_form_sqli(const uint8_t *body, size_t n, struct threat_hit *hit);

#endif
