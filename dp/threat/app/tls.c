// SPDX-License-Identifier: Apache-2.0
/*
 * TLS: the records that begin in one segment, walked from its start.  A
 * hello's version is read from the bytes at hand (of the first record it
 * is in); a supported_versions extension outside them is not seen, which
 * can only hide an old version behind a 1.2 legacy_version, never invent
 * one.  A heartbeat record is judged on its first three bytes.
 */
#include "tls_int.h"
#include "dp/threat/threat_int.h"

#define TLS_REC_HDR 5
#define TLS_MAX_RECORD (16384 + 2048)
#define TLS_CCS 20
#define TLS_HANDSHAKE 22
#define TLS_HEARTBEAT 24
#define TLS_HB_MIN (3 + 16) /* type, payload_length, at least 16 bytes of padding */

/*
 * A heartbeat record of rlen bytes of which avail are at body.  In the
 * clear its payload_length is checked against the record; encrypted, only
 * a record too short for any heartbeat is known to be one.
 */
static bool tls_heartbeat(const uint8_t *body, size_t avail, size_t rlen, bool encrypted,
			  struct threat_hit *hit)
{
	size_t plen;

	if (!encrypted && avail >= 3 && (rlen < TLS_HB_MIN || body[0] == 1 || body[0] == 2)) {
		plen = be16_at(body + 1);
		if (plen + TLS_HB_MIN <= rlen)
			return false;
		threat_hit_set(hit, THREAT_TLS_HEARTBLEED,
			       "heartbeat payload_length %zu > record %zu", plen, rlen);
		return true;
	}
	if (rlen >= TLS_HB_MIN)
		return false;
	threat_hit_set(hit, THREAT_TLS_HEARTBLEED, "heartbeat record %zu bytes%s", rlen,
		       encrypted ? " (encrypted)" : "");
	return true;
}

/* the first handshake message of a plaintext record */
static bool tls_handshake(const uint8_t *body, size_t avail, bool from_client,
			  struct threat_hit *hit)
{
	uint16_t v;
	char name[16];

	if (avail < 6 || body[4] != 3)
		return false;
	if (from_client && body[0] == TLS_CLIENT_HELLO)
		v = tls_client_hello_max(body, avail);
	else if (!from_client && body[0] == TLS_SERVER_HELLO)
		v = tls_server_hello_version(body, avail);
	else
		return false;
	if (v >= TLS_V12)
		return false;
	threat_hit_set(hit, THREAT_TLS_OLD_VERSION, "%s %s %s",
		       from_client ? "ClientHello" : "ServerHello", from_client ? "max" : "version",
		       tls_version_name(v, name));
	return true;
}

static bool tls_record_hdr(const uint8_t *r)
{
	return r[0] >= TLS_CCS && r[0] <= TLS_HEARTBEAT && r[1] == 3 && r[2] <= 4 &&
	       be16_at(r + 3) <= TLS_MAX_RECORD;
}

size_t threat_tls_segment(const uint8_t *d, size_t len, bool from_client, bool encrypted,
			  struct threat_hit *hits, size_t max)
{
	size_t n = 0, off = 0;
	bool old = false, bled = false;

	if (max > 0 && from_client && !encrypted && tls_sslv2_hello(d, len, &hits[0]))
		return 1;
	while (n < max && off + TLS_REC_HDR <= len && tls_record_hdr(d + off)) {
		const uint8_t *body = d + off + TLS_REC_HDR;
		size_t rlen = be16_at(d + off + 3), left = len - off - TLS_REC_HDR;
		size_t avail = rlen < left ? rlen : left;

		if (d[off] == TLS_CCS) {
			encrypted = true;
		} else if (d[off] == TLS_HANDSHAKE && !encrypted && !old) {
			old = tls_handshake(body, avail, from_client, &hits[n]);
			n += old;
		} else if (d[off] == TLS_HEARTBEAT && !bled) {
			bled = tls_heartbeat(body, avail, rlen, encrypted, &hits[n]);
			n += bled;
		}
		off += TLS_REC_HDR + rlen;
	}
	return n;
}
