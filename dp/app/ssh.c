// SPDX-License-Identifier: Apache-2.0
/*
 * SSH: the identification string "SSH-protoversion-softwareversion" that
 * both sides send first (RFC 4253 4.2).  protoversion is 2.0, 1.99 or an
 * SSH-1 version "1.x", the last kept so that old servers are still named.
 */
#include "app_int.h"

#define SSH_MAX_ID 255

static bool ssh_printable(uint8_t c)
{
	return c >= 0x20 && c < 0x7f;
}

/* the digits of protoversion after "SSH-", through the dash */
static enum app_answer ssh_protoversion(const uint8_t *d, size_t len, size_t *end)
{
	static const char *const versions[] = { "2.0-", "1.99-", "1.5-", "1.3-" };

	for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
		enum app_answer a = app_prefix(d, len, versions[i]);

		if (a == APP_YES)
			*end = strlen(versions[i]);
		if (a != APP_NO)
			return a;
	}
	return APP_NO;
}

enum app_answer app_ssh_probe(const struct app_segment *seg, struct app_info *info)
{
	const uint8_t *d = seg->data;
	size_t len = seg->len, i, v;
	enum app_answer a = app_prefix(d, len, "SSH-");

	if (a != APP_YES)
		return a;
	a = ssh_protoversion(d + 4, len - 4, &v);
	if (a != APP_YES)
		return a;
	/* softwareversion: at least one printable byte, no control bytes */
	for (i = 4 + v; i < len && i < SSH_MAX_ID && ssh_printable(d[i]); i++)
		;
	if (i == 4 + v)
		return i == len ? APP_MAYBE : APP_NO;
	if (i == len)
		return APP_YES;
	return d[i] == '\r' || d[i] == '\n' || i == SSH_MAX_ID ? APP_YES : APP_NO;
}
