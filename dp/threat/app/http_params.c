// SPDX-License-Identifier: Apache-2.0
/*
 * Where a request carries values for SQL: the path, each query parameter
 * value and each value of a urlencoded form body.  Each is checked as the
 * server decodes it (percent escapes; '+' as a space in the query and the
 * form), decoded on the fly by the detector's source, not copied.
 */
#include <string.h>

#include "http_int.h"
#include "dp/threat/sqli/sqli_int.h"

#define HTTP_NAME_SHOWN 24

/* "where name=fragment" as the evidence, over the fragment the detector left */
static void http_sqli_evidence(const char *where, const uint8_t *name, size_t n,
			       struct threat_hit *hit)
{
	char frag[sizeof(hit->evidence)], shown[HTTP_NAME_SHOWN];

	memcpy(frag, hit->evidence, sizeof(frag));
	threat_text(shown, sizeof(shown), name, n);
	if (n > 0)
		threat_hit_set(hit, THREAT_SQL_INJECTION, "%s %s=%s", where, shown, frag);
	else
		threat_hit_set(hit, THREAT_SQL_INJECTION, "%s: %s", where, frag);
}

/* each value of name=value pairs joined by '&' */
static bool http_pairs(const uint8_t *d, size_t len, const char *where, struct threat_hit *hit)
{
	size_t off = 0;

	while (off < len) {
		const uint8_t *amp = memchr(d + off, '&', len - off);
		size_t end = amp ? (size_t)(amp - d) : len;
		const uint8_t *eq = memchr(d + off, '=', end - off);
		size_t v = eq ? (size_t)(eq - d) + 1 : off;
		struct sqli_src src = { d + v, end - v, SQLI_FORM };

		if (sqli_detect(&src, hit)) {
			http_sqli_evidence(where, d + off, eq ? (size_t)(eq - d) - off : 0, hit);
			return true;
		}
		off = end + 1;
	}
	return false;
}

bool http_target_sqli(const uint8_t *target, size_t n, struct threat_hit *hit)
{
	const uint8_t *q = memchr(target, '?', n);
	size_t path = q ? (size_t)(q - target) : n;
	struct sqli_src src = { target, path, SQLI_URL };

	if (sqli_detect(&src, hit)) {
		http_sqli_evidence("path", NULL, 0, hit);
		return true;
	}
	return q && http_pairs(q + 1, n - path - 1, "query", hit);
}

bool http_form_sqli(const uint8_t *body, size_t n, struct threat_hit *hit)
{
	return http_pairs(body, n, "form", hit);
}
