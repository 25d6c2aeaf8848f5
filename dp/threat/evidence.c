// SPDX-License-Identifier: Apache-2.0
/*
 * The evidence of a hit: short, printable ASCII and NUL-terminated
 * whatever bytes the packet carried, since it goes into a JSON log line.
 */
#include <stdarg.h>
#include <stdio.h>

#include "threat_int.h"

static char threat_printable(char c)
{
	return c >= ' ' && c <= '~' ? c : '.';
}

void threat_hit_set(struct threat_hit *hit, enum threat_id id, const char *fmt, ...)
{
	va_list ap;

	hit->id = id;
	va_start(ap, fmt);
	vsnprintf(hit->evidence, sizeof(hit->evidence), fmt, ap);
	va_end(ap);
	for (char *p = hit->evidence; *p; p++)
		*p = threat_printable(*p);
}

size_t threat_text(char *dst, size_t cap, const uint8_t *s, size_t n)
{
	size_t i;

	if (cap == 0)
		return 0;
	for (i = 0; i < n && i + 1 < cap; i++)
		dst[i] = threat_printable((char)s[i]);
	if (i < n && cap > 4) {
		i = cap - 4;
		dst[i++] = '.';
		dst[i++] = '.';
		dst[i++] = '.';
	}
	dst[i] = '\0';
	return i;
}

bool threat_ci_prefix(const uint8_t *d, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; lit[i]; i++)
		if (i >= len || threat_lower(d[i]) != (uint8_t)lit[i])
			return false;
	return true;
}
