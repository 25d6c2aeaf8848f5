// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP/1.x: a request line "METHOD SP target SP HTTP/1.x" or a status line
 * "HTTP/1.x NNN".  A line cut at the segment end is a maybe as long as what
 * is there fits.  A request line longer than a segment (a long URL) goes on
 * in the client's next segment, which starts inside the target: it is read
 * as the rest of the line.
 */
#include "app_int.h"

/* RFC 9110 and WebDAV methods, each with its space */
static const char *const http_methods[] = {
	"GET ",	  "HEAD ",   "POST ",	  "PUT ",	"DELETE ",     "CONNECT ", "OPTIONS ",
	"TRACE ", "PATCH ",  "PROPFIND ", "PROPPATCH ", "MKCOL ",      "COPY ",	   "MOVE ",
	"LOCK ",  "UNLOCK ", "REPORT ",	  "SEARCH ",	"MKCALENDAR ",
};

#define HTTP_VERSION_LEN 8 /* "HTTP/1.x" */

/* "HTTP/1.0" or "HTTP/1.1", or a piece of it at the segment end */
static enum app_answer http_version(const uint8_t *d, size_t len)
{
	enum app_answer a = app_prefix(d, len, "HTTP/1.");

	if (a != APP_YES)
		return a;
	if (len < HTTP_VERSION_LEN)
		return APP_MAYBE;
	return d[7] == '0' || d[7] == '1' ? APP_YES : APP_NO;
}

/* the length of the method and its space; 0 if none, -1 if cut inside one */
static long http_method(const uint8_t *d, size_t len)
{
	bool cut = false;

	for (size_t i = 0; i < ARRAY_SIZE(http_methods); i++) {
		enum app_answer a = app_prefix(d, len, http_methods[i]);

		if (a == APP_YES)
			return (long)strlen(http_methods[i]);
		cut |= a == APP_MAYBE;
	}
	return cut ? -1 : 0;
}

static bool http_target_start(uint8_t c)
{
	/* origin-form, asterisk-form, absolute-form or authority-form */
	return c == '/' || c == '*' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '[';
}

static enum app_answer http_request(const uint8_t *d, size_t len)
{
	long m = http_method(d, len);
	size_t i, start;
	enum app_answer a;

	if (m <= 0)
		return m < 0 ? APP_MAYBE : APP_NO;
	i = start = (size_t)m;
	if (i == len)
		return APP_MAYBE;
	if (!http_target_start(d[i]))
		return APP_NO;
	while (i < len && d[i] > ' ' && d[i] < 0x7f)
		i++;
	if (i == len)
		return APP_MAYBE;
	if (d[i] != ' ' || i == start)
		return APP_NO;
	i++;
	a = http_version(d + i, len - i);
	if (a != APP_YES)
		return a;
	i += HTTP_VERSION_LEN;
	if (i == len)
		return APP_MAYBE;
	if (d[i] == '\n')
		return APP_YES;
	if (d[i] != '\r')
		return APP_NO;
	return i + 1 == len || d[i + 1] == '\n' ? APP_YES : APP_NO;
}

static bool http_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static enum app_answer http_response(const uint8_t *d, size_t len)
{
	enum app_answer a = http_version(d, len);
	const uint8_t *s = d + HTTP_VERSION_LEN;

	if (a != APP_YES)
		return a;
	if (len < HTTP_VERSION_LEN + 5)
		return APP_MAYBE; /* cut inside " NNN " */
	if (s[0] != ' ' || !http_digit(s[1]) || !http_digit(s[2]) || !http_digit(s[3]))
		return APP_NO;
	if (s[1] < '1' || s[1] > '5')
		return APP_NO;
	return s[4] == ' ' || s[4] == '\r' || s[4] == '\n' ? APP_YES : APP_NO;
}

/*
 * A later client segment that goes on with a request line cut at the end of
 * the one before (which was a maybe): target bytes without a space up to
 * the line end, which closes with " HTTP/1.x" or the rest of it.
 */
static enum app_answer http_request_rest(const uint8_t *d, size_t len)
{
	static const char *const tails[] = { " HTTP/1.1", " HTTP/1.0" };
	long line = app_line_len(d, len);
	size_t n = line < 0 ? len : (size_t)line, t = strlen(tails[0]), body;

	for (size_t i = 0; i < n; i++)
		if (d[i] < ' ' || d[i] >= 0x7f)
			return APP_NO;
	if (line < 0) {
		const uint8_t *sp = memchr(d, ' ', n);

		/* still in the target, or into the version */
		if (!sp)
			return APP_MAYBE;
		return http_version(sp + 1, n - (size_t)(sp + 1 - d)) == APP_NO ? APP_NO
										: APP_MAYBE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tails); i++) {
		if (n < t ? memcmp(d, tails[i] + t - n, n) != 0
			  : memcmp(d + n - t, tails[i], t) != 0)
			continue;
		body = n < t ? 0 : n - t;
		return memchr(d, ' ', body) ? APP_NO : APP_YES;
	}
	return APP_NO;
}

enum app_answer app_http_probe(const struct app_segment *seg, struct app_info *info)
{
	enum app_answer a;

	if (app_prefix(seg->data, seg->len, "HTTP/") == APP_MAYBE)
		return APP_MAYBE; /* also a piece of "HEAD " */
	if (app_prefix(seg->data, seg->len, "HTTP/") == APP_YES)
		a = http_response(seg->data, seg->len);
	else
		a = http_request(seg->data, seg->len);
	if (a == APP_NO && seg->from_client && seg->index > 0)
		return http_request_rest(seg->data, seg->len);
	return a;
}
