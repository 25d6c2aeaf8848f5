// SPDX-License-Identifier: Apache-2.0
/*
 * The versions in hello messages: a ClientHello's client_version or the
 * highest of its supported_versions (RFC 8446 4.2.1, GREASE values left
 * out), a ServerHello's version or its selected supported_version, and
 * the SSLv2-format ClientHello (RFC 6101 E.1) that only old clients send.
 */
#include <stdio.h>

#include "tls_int.h"
#include "lib/core/util.h"

#define TLS_RANDOM 32
#define TLS_EXT_SUPPORTED_VERSIONS 43
#define TLS_HELLO_FIXED (4 + 2 + TLS_RANDOM) /* header, version, random */

/* a reader over a message: end is where the bytes at hand or the message end */
struct tls_rd {
	const uint8_t *d;
	size_t off, end;
};

static bool tls_skip_vec(struct tls_rd *r, unsigned lenlen)
{
	size_t n;

	if (r->off + lenlen > r->end)
		return false;
	n = lenlen == 1 ? r->d[r->off] : be16_at(r->d + r->off);
	r->off += lenlen;
	if (n > r->end - r->off)
		return false;
	r->off += n;
	return true;
}

/* the body of the extension of the given type in the block at r->off */
static bool tls_find_ext(struct tls_rd *r, uint16_t type, const uint8_t **ext, size_t *n)
{
	size_t end, len;

	if (r->off + 2 > r->end)
		return false;
	end = r->off + 2 + be16_at(r->d + r->off);
	if (end > r->end)
		end = r->end;
	for (r->off += 2; r->off + 4 <= end; r->off += len) {
		uint16_t t = be16_at(r->d + r->off);

		len = be16_at(r->d + r->off + 2);
		r->off += 4;
		if (len > end - r->off)
			return false;
		if (t == type) {
			*ext = r->d + r->off;
			*n = len;
			return true;
		}
	}
	return false;
}

static bool tls_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static struct tls_rd tls_hello_rd(const uint8_t *body, size_t avail)
{
	size_t msg = 4 + (size_t)be24_at(body + 1);
	struct tls_rd r = { body, TLS_HELLO_FIXED, avail < msg ? avail : msg };

	return r;
}

uint16_t tls_client_hello_max(const uint8_t *body, size_t avail)
{
	struct tls_rd r = tls_hello_rd(body, avail);
	uint16_t v = be16_at(body + 4), best = 0;
	const uint8_t *e;
	size_t n;

	if (!tls_skip_vec(&r, 1) || !tls_skip_vec(&r, 2) || !tls_skip_vec(&r, 1))
		return v;
	if (!tls_find_ext(&r, TLS_EXT_SUPPORTED_VERSIONS, &e, &n) || n < 1)
		return v;
	for (size_t i = 1; i + 1 < n && i + 1 <= e[0]; i += 2) {
		uint16_t sv = be16_at(e + i);

		if (!tls_grease(sv) && sv > best)
			best = sv;
	}
	return best ? best : v;
}

uint16_t tls_server_hello_version(const uint8_t *body, size_t avail)
{
	struct tls_rd r = tls_hello_rd(body, avail);
	uint16_t v = be16_at(body + 4);
	const uint8_t *e;
	size_t n;

	if (!tls_skip_vec(&r, 1) || r.off + 3 > r.end)
		return v;
	r.off += 3; /* cipher_suite, compression_method */
	if (!tls_find_ext(&r, TLS_EXT_SUPPORTED_VERSIONS, &e, &n) || n < 2)
		return v;
	return be16_at(e);
}

const char *tls_version_name(uint16_t v, char buf[16])
{
	if (v == 0x0002)
		return "SSL 2.0";
	if (v == 0x0300)
		return "SSL 3.0";
	if (v > 0x0300 && v <= 0x0304)
		snprintf(buf, 16, "TLS 1.%u", (unsigned)(v - 0x0301));
	else
		snprintf(buf, 16, "0x%04x", (unsigned)v);
	return buf;
}

/*
 * Two-byte record header with the high bit set, CLIENT-HELLO, version,
 * then the cipher-spec, session-id and challenge lengths, which must add
 * up to the record: a strict shape, so that stray bytes do not match.
 */
bool tls_sslv2_hello(const uint8_t *d, size_t len, struct threat_hit *hit)
{
	size_t rlen, cs, sid, ch;
	uint16_t v;
	char name[16];

	if (len < 11 || !(d[0] & 0x80) || d[2] != 1)
		return false;
	rlen = (size_t)(d[0] & 0x7f) << 8 | d[1];
	v = be16_at(d + 3);
	cs = be16_at(d + 5);
	sid = be16_at(d + 7);
	ch = be16_at(d + 9);
	if (v != 0x0002 && (v >> 8) != 3)
		return false;
	if (cs == 0 || cs % 3 != 0 || (sid != 0 && sid != 16) || ch < 16 || ch > 32)
		return false;
	if (rlen != 9 + cs + sid + ch)
		return false;
	threat_hit_set(hit, THREAT_TLS_OLD_VERSION, "SSLv2-format ClientHello max %s",
		       tls_version_name(v, name));
	return true;
}
