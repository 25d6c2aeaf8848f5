// SPDX-License-Identifier: Apache-2.0
/*
 * TLS: a handshake record (type 22, version 3.x) whose first message is a
 * ClientHello from the client or a ServerHello from the server.  The
 * ClientHello's server_name goes to info->sni.  The hello may be cut at the
 * segment end or continue in the next record: the session is TLS as soon as
 * the headers fit, and the SNI is taken when its bytes are in the segment.
 * A client's SSLv2-format CLIENT-HELLO is TLS too (tls_sslv2_hello).
 */
#include "app_int.h"

#define TLS_HANDSHAKE 22
#define TLS_CLIENT_HELLO 1
#define TLS_SERVER_HELLO 2
#define TLS_REC_HDR 5
#define TLS_HS_HDR 4
#define TLS_MAX_RECORD (16384 + 2048)
#define TLS_MAX_HELLO 65536
#define TLS_RANDOM 32
#define TLS_MAX_SESSION_ID 32
#define TLS_EXT_SERVER_NAME 0
#define TLS_SNI_HOST_NAME 0

/*
 * A cursor over the hello: end is where the message says it ends, avail
 * where the bytes of this segment (and of the first record) run out.
 */
struct tls_cur {
	const uint8_t *d;
	size_t off, end, avail;
};

enum { TLS_BAD = -1, TLS_CUT = 0, TLS_OK = 1 };

static int tls_need(const struct tls_cur *c, size_t n)
{
	if (c->off + n > c->end)
		return TLS_BAD;
	return c->off + n > c->avail ? TLS_CUT : TLS_OK;
}

/* skip a vector with a 1- or 2-byte length in [min, max] */
static int tls_skip_vec(struct tls_cur *c, unsigned lenlen, size_t min, size_t max)
{
	size_t n;
	int r = tls_need(c, lenlen);

	if (r != TLS_OK)
		return r;
	n = lenlen == 1 ? c->d[c->off] : be16_at(c->d + c->off);
	if (n < min || n > max)
		return TLS_BAD;
	c->off += lenlen;
	r = tls_need(c, n);
	if (r == TLS_OK)
		c->off += n;
	return r;
}

static bool tls_host_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* the first host_name of a server_name extension at d[0..n) */
static void tls_sni(const uint8_t *d, size_t n, struct app_info *info)
{
	size_t list, name;

	if (n < 5)
		return;
	list = be16_at(d);
	if (list + 2 > n || list < 3 || d[2] != TLS_SNI_HOST_NAME)
		return;
	name = be16_at(d + 3);
	if (name == 0 || name + 3 > list || name >= sizeof(info->sni))
		return;
	for (size_t i = 0; i < name; i++)
		if (!tls_host_char(d[5 + i]))
			return;
	memcpy(info->sni, d + 5, name);
	info->sni[name] = '\0';
}

/* walk the extensions; a server_name within the bytes at hand fills info */
static int tls_extensions(struct tls_cur *c, struct app_info *info)
{
	int r = tls_need(c, 2);
	size_t type, n;

	if (r != TLS_OK)
		return r;
	if (c->off + 2 + be16_at(c->d + c->off) > c->end)
		return TLS_BAD;
	c->end = c->off + 2 + be16_at(c->d + c->off);
	c->off += 2;
	while (c->off < c->end) {
		r = tls_need(c, 4);
		if (r != TLS_OK)
			return r;
		type = be16_at(c->d + c->off);
		n = be16_at(c->d + c->off + 2);
		c->off += 4;
		r = tls_need(c, n);
		if (r != TLS_OK)
			return r;
		if (type == TLS_EXT_SERVER_NAME)
			tls_sni(c->d + c->off, n, info);
		c->off += n;
	}
	return TLS_OK;
}

static int tls_client_hello(struct tls_cur *c, struct app_info *info)
{
	int r = tls_need(c, TLS_RANDOM);

	if (r != TLS_OK)
		return r;
	c->off += TLS_RANDOM;
	r = tls_skip_vec(c, 1, 0, TLS_MAX_SESSION_ID);
	if (r == TLS_OK && tls_need(c, 2) == TLS_OK && (c->d[c->off + 1] & 1))
		r = TLS_BAD; /* cipher suites are two bytes each */
	if (r == TLS_OK)
		r = tls_skip_vec(c, 2, 2, 0xfffe); /* cipher_suites */
	if (r == TLS_OK)
		r = tls_skip_vec(c, 1, 1, 0xff); /* compression_methods */
	if (r == TLS_OK && c->off < c->end)
		r = tls_extensions(c, info);
	return r;
}

static int tls_server_hello(struct tls_cur *c)
{
	int r = tls_need(c, TLS_RANDOM);

	if (r != TLS_OK)
		return r;
	c->off += TLS_RANDOM;
	r = tls_skip_vec(c, 1, 0, TLS_MAX_SESSION_ID);
	if (r == TLS_OK)
		r = tls_need(c, 3); /* cipher_suite, compression_method */
	return r;
}

/* the record and handshake headers; APP_YES when they fit through the version */
static enum app_answer tls_headers(const struct app_segment *seg, struct tls_cur *c)
{
	const uint8_t *d = seg->data;
	size_t len = seg->len, rec, hs;
	uint8_t want = seg->from_client ? TLS_CLIENT_HELLO : TLS_SERVER_HELLO;

	if (d[0] != TLS_HANDSHAKE || (len > 1 && d[1] != 3) || (len > 2 && d[2] > 4))
		return APP_NO;
	if (len < TLS_REC_HDR + 1)
		return APP_MAYBE;
	rec = be16_at(d + 3);
	if (rec < TLS_HS_HDR + 2 || rec > TLS_MAX_RECORD || d[5] != want)
		return APP_NO;
	if (len < TLS_REC_HDR + TLS_HS_HDR + 2)
		return APP_MAYBE;
	hs = be24_at(d + 6);
	if (hs < 2 + TLS_RANDOM + 1 + 3 || hs > TLS_MAX_HELLO || d[9] != 3 || d[10] > 3)
		return APP_NO;
	c->d = d;
	c->off = TLS_REC_HDR + TLS_HS_HDR + 2;
	c->end = TLS_REC_HDR + TLS_HS_HDR + hs;
	c->avail = len < TLS_REC_HDR + rec ? len : TLS_REC_HDR + rec;
	return APP_YES;
}

/*
 * An SSLv2-format CLIENT-HELLO (RFC 6101 E.1), as old clients and scanners
 * still send: a 2-byte record header with the high bit set, message type 1,
 * version 2.0 or 3.x, then the cipher-spec, session-id and challenge
 * lengths, which must add up to the record (no SNI in this form).
 */
static enum app_answer tls_sslv2_hello(const uint8_t *d, size_t len)
{
	size_t rlen, cs, sid, ch;
	uint16_t v;

	if ((len > 2 && d[2] != TLS_CLIENT_HELLO) ||
	    (len > 4 && (v = be16_at(d + 3)) != 0x0002 && (v >> 8) != 3))
		return APP_NO;
	if (len < 11)
		return APP_MAYBE;
	rlen = (size_t)(d[0] & 0x7f) << 8 | d[1];
	cs = be16_at(d + 5);
	sid = be16_at(d + 7);
	ch = be16_at(d + 9);
	if (cs == 0 || cs % 3 != 0 || (sid != 0 && sid != 16) || ch < 16 || ch > 32 ||
	    rlen != 9 + cs + sid + ch)
		return APP_NO;
	return APP_YES;
}

enum app_answer app_tls_probe(const struct app_segment *seg, struct app_info *info)
{
	struct tls_cur c;
	enum app_answer a;
	int r;

	if (seg->from_client && (seg->data[0] & 0x80)) {
		info->sni[0] = '\0';
		return tls_sslv2_hello(seg->data, seg->len);
	}
	a = tls_headers(seg, &c);
	if (a != APP_YES)
		return a;
	info->sni[0] = '\0';
	if (seg->from_client)
		r = tls_client_hello(&c, info);
	else
		r = tls_server_hello(&c);
	if (r == TLS_BAD) {
		info->sni[0] = '\0';
		return APP_NO;
	}
	/* a stream cut inside its hello: wait for the rest (the SNI may be in it) */
	if (r == TLS_CUT && seg->stream && c.avail == seg->len && seg->len < APP_STREAM_BYTES)
		return APP_MAYBE;
	return APP_YES;
}
