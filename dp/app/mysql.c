// SPDX-License-Identifier: Apache-2.0
/*
 * MySQL and MariaDB: the server's greeting (packet 0, protocol 10, a
 * NUL-terminated version string, the connection id, 8 bytes of scramble and
 * a zero filler) or the client's handshake response or SSL request
 * (packet 1, CLIENT_PROTOCOL_41 set, 23 zero filler bytes).
 */
#include "app_int.h"

#define MYSQL_HDR 4
#define MYSQL_PROTOCOL_10 10
#define MYSQL_MAX_VERSION 64
#define MYSQL_MAX_GREETING 1024
#define MYSQL_CLIENT_PROTOCOL_41 0x200
#define MYSQL_FILLER 23
#define MYSQL_RESPONSE_MIN (4 + 4 + 1 + MYSQL_FILLER)

static uint32_t mysql_le24(const uint8_t *p)
{
	return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* payload p of plen bytes, of which avail are here */
static enum app_answer mysql_greeting(const uint8_t *p, size_t plen, size_t avail)
{
	size_t v;

	if (plen < 1 + 2 + 4 + 8 + 1 || plen > MYSQL_MAX_GREETING)
		return APP_NO;
	if (avail == 0)
		return APP_MAYBE;
	if (p[0] != MYSQL_PROTOCOL_10)
		return APP_NO;
	for (v = 1; v < avail && v <= MYSQL_MAX_VERSION && p[v] >= 0x20 && p[v] < 0x7f; v++)
		;
	if (v == avail)
		return APP_MAYBE;
	if (p[v] != 0 || v == 1 || v + 1 + 4 + 8 + 1 > plen)
		return APP_NO;
	if (v + 1 + 4 + 8 >= avail)
		return APP_MAYBE;
	return p[v + 1 + 4 + 8] == 0 ? APP_YES : APP_NO;
}

static enum app_answer mysql_response(const uint8_t *p, size_t plen, size_t avail)
{
	if (plen < MYSQL_RESPONSE_MIN)
		return APP_NO;
	if (avail < MYSQL_RESPONSE_MIN)
		return APP_MAYBE;
	if (!(le32_at(p) & MYSQL_CLIENT_PROTOCOL_41))
		return APP_NO;
	for (size_t i = 9; i < MYSQL_RESPONSE_MIN - 4; i++)
		if (p[i] != 0)
			return APP_NO;
	return APP_YES;
}

enum app_answer app_mysql_probe(const struct app_segment *seg, struct app_info *info)
{
	const uint8_t *d = seg->data;
	size_t plen, avail;

	if (seg->len < MYSQL_HDR)
		return seg->index == 0 ? APP_MAYBE : APP_NO;
	plen = mysql_le24(d);
	avail = seg->len - MYSQL_HDR < plen ? seg->len - MYSQL_HDR : plen;
	if (!seg->from_client && d[3] == 0)
		return mysql_greeting(d + MYSQL_HDR, plen, avail);
	if (seg->from_client && d[3] == 1)
		return mysql_response(d + MYSQL_HDR, plen, avail);
	return APP_NO;
}
