// SPDX-License-Identifier: Apache-2.0
/*
 * NTP over UDP: a 48-byte header (version 1 to 4, a mode that fits the
 * direction: symmetric active, client or broadcast from the side that
 * opened the flow, symmetric passive or server from the other), sane
 * stratum, poll and precision, root delay and dispersion under 256 s, and
 * after it nothing, a MAC, or well-formed NTPv4 extension fields.
 */
#include "app_int.h"

#define NTP_HDR 48
#define NTP_MAX 1024
#define NTP_MAC_MD5 20 /* key id and digest */
#define NTP_MAC_SHA1 24
#define NTP_EXT_MIN 16
#define NTP_MAX_STRATUM 16
#define NTP_MAX_POLL 17
#define NTP_MIN_PRECISION (-32)

enum { NTP_SYM_ACTIVE = 1, NTP_SYM_PASSIVE, NTP_CLIENT, NTP_SERVER, NTP_BROADCAST };

static bool ntp_mode_ok(unsigned mode, bool from_client)
{
	if (from_client)
		return mode == NTP_SYM_ACTIVE || mode == NTP_CLIENT || mode == NTP_BROADCAST;
	return mode == NTP_SYM_PASSIVE || mode == NTP_SERVER;
}

/* what follows the header: extension fields, then nothing or a MAC */
static bool ntp_trailer(const uint8_t *d, size_t len)
{
	size_t off = NTP_HDR, n;

	for (;;) {
		n = len - off;
		if (n == 0 || n == NTP_MAC_MD5 || n == NTP_MAC_SHA1)
			return true;
		if (n < NTP_EXT_MIN)
			return false;
		n = be16_at(d + off + 2);
		if (n < NTP_EXT_MIN || n % 4 || n > len - off)
			return false;
		off += n;
	}
}

enum app_answer app_ntp_probe(const struct app_segment *seg, struct app_info *info)
{
	const uint8_t *d = seg->data;
	unsigned version, mode;

	if (seg->len < NTP_HDR || seg->len > NTP_MAX || seg->len % 4)
		return APP_NO;
	version = d[0] >> 3 & 7;
	mode = d[0] & 7;
	if (version < 1 || version > 4 || !ntp_mode_ok(mode, seg->from_client))
		return APP_NO;
	if (d[1] > NTP_MAX_STRATUM || (int8_t)d[2] < 0 || (int8_t)d[2] > NTP_MAX_POLL ||
	    (int8_t)d[3] < NTP_MIN_PRECISION || (int8_t)d[3] > -NTP_MIN_PRECISION)
		return APP_NO;
	if (d[4] != 0 || d[8] != 0)
		return APP_NO; /* root delay or dispersion of 256 s or more */
	return ntp_trailer(d, seg->len) ? APP_YES : APP_NO;
}
