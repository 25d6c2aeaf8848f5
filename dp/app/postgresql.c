// SPDX-License-Identifier: Apache-2.0
/*
 * PostgreSQL: what a client sends first (StartupMessage of protocol 3.x,
 * SSLRequest, GSSENCRequest, CancelRequest: int32 length, int32 code), or
 * the server's first answer to a startup (an 'R' authentication request or
 * an 'E' error with its severity field).
 */
#include "app_int.h"

#define PG_PROTO_30 196608u /* 3.0 */
#define PG_PROTO_32 196610u /* 3.2 */
#define PG_CANCEL 80877102u
#define PG_SSL 80877103u
#define PG_GSSENC 80877104u
#define PG_MAX_STARTUP 10000
#define PG_MAX_CANCEL (12 + 256)
#define PG_MAX_AUTH 1024

static bool pg_key_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* the first parameter name ("user", ...) of a StartupMessage */
static enum app_answer pg_startup(const uint8_t *d, size_t len, size_t mlen)
{
	size_t i, end = len < mlen ? len : mlen;

	if (mlen < 8 + 2 || mlen > PG_MAX_STARTUP)
		return APP_NO;
	for (i = 8; i < end && pg_key_char(d[i]); i++)
		;
	if (i == end)
		return end == mlen ? APP_NO : APP_MAYBE;
	return d[i] == 0 && i > 8 ? APP_YES : APP_NO;
}

static enum app_answer pg_client(const uint8_t *d, size_t len)
{
	uint32_t mlen, code;

	if (len < 8)
		return len >= 2 && be16_at(d) != 0 ? APP_NO : APP_MAYBE;
	mlen = be32_at(d);
	code = be32_at(d + 4);
	if (code == PG_SSL || code == PG_GSSENC)
		return mlen == 8 ? APP_YES : APP_NO;
	if (code == PG_CANCEL)
		return mlen >= 16 && mlen <= PG_MAX_CANCEL ? APP_YES : APP_NO;
	if (code == PG_PROTO_30 || code == PG_PROTO_32)
		return pg_startup(d, len, mlen);
	return APP_NO;
}

/* AuthenticationOk, cleartext, MD5, GSS, SSPI, SASL: code and length agree */
static enum app_answer pg_auth(uint32_t mlen, uint32_t code)
{
	switch (code) {
	case 0: /* Ok */
	case 2: /* KerberosV5 */
	case 3: /* CleartextPassword */
	case 7: /* GSS */
	case 9: /* SSPI */
		return mlen == 8 ? APP_YES : APP_NO;
	case 5: /* MD5Password, with its salt */
		return mlen == 12 ? APP_YES : APP_NO;
	case 10: /* SASL, with its mechanism names */
		return mlen > 8 + 2 && mlen <= PG_MAX_AUTH ? APP_YES : APP_NO;
	default:
		return APP_NO;
	}
}

static enum app_answer pg_server(const uint8_t *d, size_t len)
{
	if (d[0] != 'R' && d[0] != 'E')
		return APP_NO;
	if (len < 9)
		return len >= 2 && d[1] != 0 ? APP_NO : APP_MAYBE;
	if (d[0] == 'R')
		return pg_auth(be32_at(d + 1), be32_at(d + 5));
	/* ErrorResponse: its first field is the severity */
	if (be32_at(d + 1) > PG_MAX_STARTUP || d[5] != 'S')
		return APP_NO;
	return app_prefix(d + 6, len - 6, "FATAL") != APP_NO ||
			       app_prefix(d + 6, len - 6, "ERROR") != APP_NO
		       ? APP_YES
		       : APP_NO;
}

enum app_answer app_postgresql_probe(const struct app_segment *seg, struct app_info *info)
{
	return seg->from_client ? pg_client(seg->data, seg->len) : pg_server(seg->data, seg->len);
}
