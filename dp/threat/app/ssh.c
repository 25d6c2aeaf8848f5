// SPDX-License-Identifier: Apache-2.0
/*
 * ssh_v1: an identification string "SSH-1.<n>-..." (RFC 4253 4.2) with
 * n other than 99; "SSH-1.99-" announces 2.0 as well (RFC 4253 5.1).  A
 * server may send other text lines before its identification, so every
 * line start of a text segment is looked at, up to a bound; a segment of
 * binary packets stops the walk at its first non-text byte.
 */
#include <string.h>

#include "dp/threat/threat_int.h"

#define SSH_SCAN_MAX 2048 /* bytes of text lines looked through */
#define SSH_ID_SHOWN 48

static bool ssh_text(uint8_t c)
{
	return (c >= ' ' && c < 0x7f) || c == '\r' || c == '\t';
}

/* whether d starts with "SSH-1.<digits>-" naming SSH-1 only (not 1.99) */
static bool ssh_v1_id(const uint8_t *d, size_t len)
{
	size_t i = 6;
	unsigned v = 0;

	if (len < 8 || memcmp(d, "SSH-1.", 6) != 0)
		return false;
	while (i < len && i < 10 && d[i] >= '0' && d[i] <= '9')
		v = v * 10 + (d[i++] - '0');
	if (i == 6 || i == len || d[i] != '-')
		return false;
	return !(v == 99 && i == 8);
}

bool threat_ssh_segment(const uint8_t *d, size_t len, struct threat_hit *hit)
{
	size_t end = len < SSH_SCAN_MAX ? len : SSH_SCAN_MAX, line = 0;

	for (size_t i = 0; i < end; i++) {
		if (i == line && ssh_v1_id(d + i, len - i)) {
			const uint8_t *nl = memchr(d + i, '\n', len - i);
			size_t n = nl ? (size_t)(nl - d) - i : len - i;
			char id[SSH_ID_SHOWN];

			if (n > 0 && d[i + n - 1] == '\r')
				n--;
			threat_text(id, sizeof(id), d + i, n);
			threat_hit_set(hit, THREAT_SSH_V1, "%s", id);
			return true;
		}
		if (d[i] == '\n')
			line = i + 1;
		else if (!ssh_text(d[i]))
			return false;
	}
	return false;
}
