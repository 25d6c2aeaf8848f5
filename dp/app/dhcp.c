// SPDX-License-Identifier: Apache-2.0
/*
 * DHCP over UDP.  DHCPv4: a BOOTP message (op 1 or 2, Ethernet htype and
 * hlen, a hop count that fits a relay chain) with the DHCP magic cookie
 * and well-formed options after it.  DHCPv6: a known message type whose
 * options fill the datagram exactly and include the one every message of
 * that type carries; v6 is considered only on its ports 546/547, which
 * back the payload check up and are never taken alone.
 */
#include "app_int.h"

#define BOOTP_MIN 240 /* fixed fields and the cookie */
#define BOOTP_COOKIE_OFF 236
#define DHCP_MAGIC 0x63825363u
#define BOOTP_MAX_HOPS 16
#define DHCP_OPT_PAD 0
#define DHCP_OPT_END 255

#define DHCP6_CLIENT_PORT 546
#define DHCP6_SERVER_PORT 547
#define DHCP6_HDR 4
#define DHCP6_RELAY_HDR 34
#define DHCP6_RELAY_FORW 12
#define DHCP6_RELAY_REPL 13
#define DHCP6_OPT_CLIENTID 1
#define DHCP6_OPT_RELAY_MSG 9

/* the v4 options: code, length, value, up to END or the datagram's end */
static bool dhcp4_options(const uint8_t *d, size_t len)
{
	size_t off = BOOTP_MIN;

	while (off < len) {
		if (d[off] == DHCP_OPT_END)
			return true;
		if (d[off] == DHCP_OPT_PAD) {
			off++;
			continue;
		}
		if (off + 2 > len || off + 2 + d[off + 1] > len)
			return false;
		off += 2 + d[off + 1];
	}
	return false; /* no END */
}

static enum app_answer dhcp4(const uint8_t *d, size_t len)
{
	if (len < BOOTP_MIN || (d[0] != 1 && d[0] != 2) || d[1] != 1 || d[2] != 6 ||
	    d[3] > BOOTP_MAX_HOPS)
		return APP_NO;
	if (be32_at(d + BOOTP_COOKIE_OFF) != DHCP_MAGIC)
		return APP_NO;
	return dhcp4_options(d, len) ? APP_YES : APP_NO;
}

/* v6 options from off to the end, exactly; is option want among them? */
static bool dhcp6_options(const uint8_t *d, size_t len, size_t off, unsigned want)
{
	bool seen = false;
	size_t n;

	while (off < len) {
		if (off + 4 > len)
			return false;
		n = be16_at(d + off + 2);
		if (off + 4 + n > len)
			return false;
		seen |= be16_at(d + off) == want;
		off += 4 + n;
	}
	return seen;
}

static enum app_answer dhcp6(const struct app_segment *seg)
{
	const uint8_t *d = seg->data;
	size_t len = seg->len;

	if (seg->client_port != DHCP6_CLIENT_PORT && seg->client_port != DHCP6_SERVER_PORT &&
	    seg->server_port != DHCP6_CLIENT_PORT && seg->server_port != DHCP6_SERVER_PORT)
		return APP_NO;
	if (d[0] == DHCP6_RELAY_FORW || d[0] == DHCP6_RELAY_REPL)
		return len > DHCP6_RELAY_HDR &&
				       dhcp6_options(d, len, DHCP6_RELAY_HDR, DHCP6_OPT_RELAY_MSG)
			       ? APP_YES
			       : APP_NO;
	/* Solicit .. Information-request, and the v6 "Reconfigure" from a server */
	if (d[0] < 1 || d[0] > 11 || len <= DHCP6_HDR)
		return APP_NO;
	return dhcp6_options(d, len, DHCP6_HDR, DHCP6_OPT_CLIENTID) ? APP_YES : APP_NO;
}

enum app_answer app_dhcp_probe(const struct app_segment *seg, struct app_info *info)
{
	if (seg->len >= BOOTP_MIN)
		return dhcp4(seg->data, seg->len) == APP_YES ? APP_YES : dhcp6(seg);
	return dhcp6(seg);
}
