/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp/threat/app/: the payload detectors of identified sessions (HTTP, TLS,
 * SSH, DNS and its tunnel tracker, entropy) over captured protocol bytes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_samples.h"
#include "threat_samples.h"
#include "threat_util.h"
#include "dp/threat/app/detect.h"

/* the hits of one request segment, as text "id:evidence|..." for easy asserts */
static size_t http(const char *req, struct threat_hit *hits, size_t max)
{
	size_t n = threat_http_request((const uint8_t *)req, strlen(req), hits, max);

	for (size_t i = 0; i < n; i++)
		assert_evidence(&hits[i]);
	return n;
}

static bool http_has(const char *req, enum threat_id id, const char *evidence)
{
	struct threat_hit hits[4];
	size_t n = http(req, hits, N(hits));

	for (size_t i = 0; i < n; i++)
		if (hits[i].id == id && (!evidence || strcmp(hits[i].evidence, evidence) == 0))
			return true;
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "hit %d: %s\n", hits[i].id, hits[i].evidence);
	return false;
}

START_TEST(test_http_smuggling)
{
	ck_assert(http_has("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
			   THREAT_HTTP_SMUGGLING, "Content-Length and Transfer-Encoding"));
	ck_assert(http_has("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: a\r\n"
			   "content-length: 4\r\n\r\n",
			   THREAT_HTTP_SMUGGLING, "Content-Length and Transfer-Encoding"));
	/* obfuscated: whitespace before the colon, odd case */
	ck_assert(
		http_has("POST / HTTP/1.1\r\nContent-Length: 4\r\nTRANSFER-encoding : chunked\r\n",
			 THREAT_HTTP_SMUGGLING, NULL));
	ck_assert(http_has("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
			   THREAT_HTTP_SMUGGLING, "Content-Length 5 and 7"));
	ck_assert(http_has("POST / HTTP/1.1\r\nContent-Length: 5, 50\r\n\r\n",
			   THREAT_HTTP_SMUGGLING, "Content-Length 5 and 50"));
}
END_TEST

START_TEST(test_http_negative_length)
{
	ck_assert(http_has("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
			   THREAT_HTTP_NEGATIVE_LENGTH, "Content-Length: -1"));
	ck_assert(http_has("POST / HTTP/1.1\r\nContent-Length:  -0 \r\n\r\n",
			   THREAT_HTTP_NEGATIVE_LENGTH, "Content-Length: -0"));
	ck_assert(http_has("POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n",
			   THREAT_HTTP_NEGATIVE_LENGTH, "Content-Length: 9223372036854775808"));
	ck_assert(http_has("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
			   THREAT_HTTP_NEGATIVE_LENGTH, NULL));
}
END_TEST

/* requests that carry nothing of the sort */
START_TEST(test_http_clean)
{
	static const char *const clean[] = {
		"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n",
		"GET /search?q=union+station&page=2&sort=price%20asc HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /people/O'Brien?name=O%27Brien&city=Coeur+d%27Alene HTTP/1.1\r\n\r\n",
		"GET /api/v1/items?ids=1,2,3&fields=a.b,c&cb=jQuery_123 HTTP/1.1\r\n\r\n",
		"POST /login HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\n"
		"Content-Length: 43\r\n\r\nuser=jo%40example.com&pass=it%27s+a+secret",
		"POST /api HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 41\r\n\r\n"
		"{\"q\":\"select a size\",\"note\":\"O'Brien\"}",
		"POST /up HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n",
		"POST /up HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello",
		"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"GET /?q=" /* cut inside the request line */,
		"PUT /x HTTP/1.1\r\nContent-Length: 10\r\nContent-Leng",
	};
	struct threat_hit hits[4];

	for (size_t i = 0; i < N(clean); i++) {
		size_t n = http(clean[i], hits, N(hits));

		ck_assert_msg(n == 0, "%s: %s", clean[i], hits[0].evidence);
	}
	ck_assert_uint_eq(threat_http_request(http_get, sizeof(http_get), hits, N(hits)), 0);
}
END_TEST

START_TEST(test_http_sqli)
{
	ck_assert(http_has("GET /item?id=1%27%20OR%201%3D1--&x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
			   THREAT_SQL_INJECTION, "query id=1' OR 1=1--"));
	ck_assert(http_has("GET /item?id=1+UNION+SELECT+user,pass+FROM+users HTTP/1.1\r\n\r\n",
			   THREAT_SQL_INJECTION, NULL));
	ck_assert(http_has("GET /p?a=1&q='%20or%20'x'='x HTTP/1.1\r\n\r\n", THREAT_SQL_INJECTION,
			   "query q=' or 'x'='x"));
	ck_assert(http_has("GET /users/1;DROP%20TABLE%20users HTTP/1.1\r\n\r\n",
			   THREAT_SQL_INJECTION, "path: ;DROP TABLE"));
	ck_assert(http_has(
		"POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded"
		"; charset=UTF-8\r\nContent-Length: 31\r\n\r\nuser=admin%27--&pass=whatever",
		THREAT_SQL_INJECTION, "form user=admin'--"));
	/* a long query cut at the segment end still has its first parameters read */
	ck_assert(http_has("GET /s?id=1+or+1%3D1&pad=aaaaaaaa", THREAT_SQL_INJECTION, NULL));
}
END_TEST

/* an injection-looking body that is not a urlencoded form is not read as one */
START_TEST(test_http_body_not_form)
{
	struct threat_hit hits[4];

	ck_assert_uint_eq(http("POST /x HTTP/1.1\r\nContent-Type: text/plain\r\n\r\nuser=admin'--",
			       hits, N(hits)),
			  0);
	/* the form's values after Content-Length are the next request's */
	ck_assert_uint_eq(http("POST /x HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded"
			       "\r\nContent-Length: 3\r\n\r\na=1GET /?x=admin'-- HTTP/1.1\r\n",
			       hits, N(hits)),
			  0);
}
END_TEST

START_TEST(test_http_several_hits)
{
	struct threat_hit hits[4];
	const char *req = "POST /?id=1+or+1=1 HTTP/1.1\r\nContent-Length: -5\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n";

	ck_assert_uint_eq(http(req, hits, N(hits)), 3);
	ck_assert_int_eq(hits[0].id, THREAT_HTTP_SMUGGLING);
	ck_assert_int_eq(hits[1].id, THREAT_HTTP_NEGATIVE_LENGTH);
	ck_assert_int_eq(hits[2].id, THREAT_SQL_INJECTION);
	/* max is respected */
	ck_assert_uint_eq(http(req, hits, 1), 1);
	ck_assert_uint_eq(http(req, hits, 0), 0);
}
END_TEST

/* not a request: other protocols, responses, binary */
START_TEST(test_http_not_request)
{
	static const char *const other[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"SET key ' OR 1=1--\r\n",
		"get / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"MAIL FROM:<a@b> ' OR 1=1--\r\n",
		"GET /x FTP/1.0\r\nContent-Length: -1\r\n\r\n",
		"",
		"G",
	};
	struct threat_hit hits[4];

	for (size_t i = 0; i < N(other); i++)
		ck_assert_msg(http(other[i], hits, N(hits)) == 0, "%s", other[i]);
	ck_assert_uint_eq(
		threat_http_request(tls13_client_hello, sizeof(tls13_client_hello), hits, N(hits)),
		0);
}
END_TEST

START_TEST(test_http_headers_complete)
{
	static const struct {
		const char *seg;
		bool complete;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: a\r\n\r\n", true },
		{ "GET / HTTP/1.1\nHost: a\n\n", true },
		{ "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", true },
		{ "\r\n", true },
		{ "GET / HTTP/1.1\r\nHost: a\r\n", false },
		{ "X-a: b\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ", false },
		{ "", false },
	};

	for (size_t i = 0; i < N(cases); i++)
		ck_assert_msg(threat_http_headers_complete((const uint8_t *)cases[i].seg,
							   strlen(cases[i].seg)) ==
				      cases[i].complete,
			      "case %zu", i);
	ck_assert(threat_http_headers_complete(http_get, sizeof(http_get)));
}
END_TEST

static size_t tls(const uint8_t *d, size_t len, bool from_client, bool encrypted,
		  struct threat_hit *hits)
{
	size_t n = threat_tls_segment(d, len, from_client, encrypted, hits, 4);

	for (size_t i = 0; i < n; i++)
		assert_evidence(&hits[i]);
	return n;
}

START_TEST(test_tls_old_hellos)
{
	static const struct {
		const uint8_t *d;
		size_t len;
		bool from_client;
		const char *evidence;
	} old[] = {
		{ tls10_client_hello, sizeof(tls10_client_hello), true, "ClientHello max TLS 1.0" },
		{ tls10_server_hello, sizeof(tls10_server_hello), false,
		  "ServerHello version TLS 1.0" },
		{ tls11_client_hello, sizeof(tls11_client_hello), true, "ClientHello max TLS 1.1" },
		{ tls11_server_hello, sizeof(tls11_server_hello), false,
		  "ServerHello version TLS 1.1" },
	};
	struct threat_hit hits[4];

	for (size_t i = 0; i < N(old); i++) {
		ck_assert_uint_eq(tls(old[i].d, old[i].len, old[i].from_client, false, hits), 1);
		ck_assert_int_eq(hits[0].id, THREAT_TLS_OLD_VERSION);
		ck_assert_str_eq(hits[0].evidence, old[i].evidence);
		/* the other direction's hello type, or an encrypted one, is not read */
		ck_assert_uint_eq(tls(old[i].d, old[i].len, !old[i].from_client, false, hits), 0);
		ck_assert_uint_eq(tls(old[i].d, old[i].len, old[i].from_client, true, hits), 0);
	}
}
END_TEST

START_TEST(test_tls_current_hellos)
{
	static const struct {
		const uint8_t *d;
		size_t len;
		bool from_client;
	} ok[] = {
		{ tls12_client_hello, sizeof(tls12_client_hello), true },
		{ tls12_server_hello, sizeof(tls12_server_hello), false },
		{ tls13_client_hello, sizeof(tls13_client_hello), true },
		{ tls13_server_hello, sizeof(tls13_server_hello), false },
		{ tls_curl_client_hello, sizeof(tls_curl_client_hello), true },
		{ tls13_client_finished, sizeof(tls13_client_finished), true },
	};
	struct threat_hit hits[4];

	for (size_t i = 0; i < N(ok); i++) {
		ck_assert_msg(tls(ok[i].d, ok[i].len, ok[i].from_client, false, hits) == 0,
			      "sample %zu: %s", i, hits[0].evidence);
		/* cut anywhere, never taken for an old version */
		for (size_t len = 1; len < ok[i].len; len++)
			ck_assert_msg(tls(ok[i].d, len, ok[i].from_client, false, hits) == 0,
				      "sample %zu cut to %zu", i, len);
	}
}
END_TEST

/* a TLS 1.0 ClientHello cut after its version is still one */
START_TEST(test_tls_old_cut)
{
	struct threat_hit hits[4];

	for (size_t len = 1; len <= sizeof(tls10_client_hello); len++)
		ck_assert_uint_eq(tls(tls10_client_hello, len, true, false, hits), len >= 11);
}
END_TEST

/*
 * A hello of the given type with legacy version v and, when nsv > 0, a
 * supported_versions extension listing sv (ClientHello) or selecting sv[0]
 * (ServerHello); its record follows at buf.
 */
static size_t tls_hello(uint8_t *buf, uint8_t type, uint16_t v, const uint16_t *sv, size_t nsv)
{
	size_t o = 9, ext, hs;

	buf[o++] = (uint8_t)(v >> 8);
	buf[o++] = (uint8_t)v;
	memset(buf + o, 0x5a, 32);
	o += 32;
	buf[o++] = 0; /* session id */
	if (type == 1) {
		memcpy(buf + o, "\x00\x02\x13\x01\x01\x00", 6); /* one suite, null compression */
		o += 6;
	} else {
		memcpy(buf + o, "\x13\x01\x00", 3);
		o += 3;
	}
	ext = o;
	o += 2;
	if (nsv > 0) {
		size_t body = type == 1 ? 1 + 2 * nsv : 2;

		memcpy(buf + o, "\x00\x2b", 2);
		buf[o + 2] = (uint8_t)(body >> 8);
		buf[o + 3] = (uint8_t)body;
		o += 4;
		if (type == 1)
			buf[o++] = (uint8_t)(2 * nsv);
		for (size_t i = 0; i < (type == 1 ? nsv : 1); i++) {
			buf[o++] = (uint8_t)(sv[i] >> 8);
			buf[o++] = (uint8_t)sv[i];
		}
	}
	buf[ext] = (uint8_t)((o - ext - 2) >> 8);
	buf[ext + 1] = (uint8_t)(o - ext - 2);
	hs = o - 9;
	memcpy(buf, "\x16\x03\x01", 3);
	buf[3] = (uint8_t)((o - 5) >> 8);
	buf[4] = (uint8_t)(o - 5);
	buf[5] = type;
	buf[6] = 0;
	buf[7] = (uint8_t)(hs >> 8);
	buf[8] = (uint8_t)hs;
	return o;
}

START_TEST(test_tls_supported_versions)
{
	static const uint16_t grease_13[] = { 0x7a7a, 0x0304, 0x0303 };
	static const uint16_t only_old[] = { 0x0302, 0x0301, 0x1a1a };
	static const uint16_t tls11[] = { 0x0302 };
	static const uint16_t tls13[] = { 0x0304 };
	uint8_t b[256];
	struct threat_hit hits[4];

	ck_assert_uint_eq(tls(b, tls_hello(b, 1, 0x0303, grease_13, 3), true, false, hits), 0);
	ck_assert_uint_eq(tls(b, tls_hello(b, 1, 0x0303, only_old, 3), true, false, hits), 1);
	ck_assert_str_eq(hits[0].evidence, "ClientHello max TLS 1.1");
	/* an old legacy_version raised by supported_versions is fine */
	ck_assert_uint_eq(tls(b, tls_hello(b, 1, 0x0301, tls13, 1), true, false, hits), 0);
	ck_assert_uint_eq(tls(b, tls_hello(b, 1, 0x0300, NULL, 0), true, false, hits), 1);
	ck_assert_str_eq(hits[0].evidence, "ClientHello max SSL 3.0");
	ck_assert_uint_eq(tls(b, tls_hello(b, 2, 0x0303, tls11, 1), false, false, hits), 1);
	ck_assert_str_eq(hits[0].evidence, "ServerHello version TLS 1.1");
	ck_assert_uint_eq(tls(b, tls_hello(b, 2, 0x0303, tls13, 1), false, false, hits), 0);
	ck_assert_uint_eq(tls(b, tls_hello(b, 2, 0x0300, NULL, 0), false, false, hits), 1);
	ck_assert_str_eq(hits[0].evidence, "ServerHello version SSL 3.0");
}
END_TEST

START_TEST(test_tls_sslv2_hello)
{
	/* RFC 6101 E.1: header, CLIENT-HELLO, version, 21 bytes of cipher specs, no session id, 16
	 * of challenge */
	uint8_t b[2 + 9 + 21 + 16] = { 0x80, 0x2e, 0x01, 0x00, 0x02, 0x00,
				       0x15, 0x00, 0x00, 0x00, 0x10 };
	struct threat_hit hits[4];

	memset(b + 11, 0x01, sizeof(b) - 11);
	ck_assert_uint_eq(tls(b, sizeof(b), true, false, hits), 1);
	ck_assert_int_eq(hits[0].id, THREAT_TLS_OLD_VERSION);
	ck_assert_str_eq(hits[0].evidence, "SSLv2-format ClientHello max SSL 2.0");
	b[3] = 0x03;
	b[4] = 0x01;
	ck_assert_uint_eq(tls(b, sizeof(b), true, false, hits), 1);
	ck_assert_str_eq(hits[0].evidence, "SSLv2-format ClientHello max TLS 1.0");
	ck_assert_uint_eq(tls(b, sizeof(b), false, false, hits), 0);
	b[1] = 0x2f; /* lengths that do not add up */
	ck_assert_uint_eq(tls(b, sizeof(b), true, false, hits), 0);
}
END_TEST

START_TEST(test_tls_heartbleed)
{
	static const uint8_t bleed[] = { 0x18, 0x03, 0x02, 0x00, 0x03, 0x01, 0x40, 0x00 };
	uint8_t ok[5 + 3 + 16 + 16] = { 0x18, 0x03, 0x03, 0x00, 3 + 16 + 16, 0x01, 0x00, 0x10 };
	uint8_t seg[64];
	struct threat_hit hits[4];

	ck_assert_uint_eq(tls(bleed, sizeof(bleed), true, false, hits), 1);
	ck_assert_int_eq(hits[0].id, THREAT_TLS_HEARTBLEED);
	ck_assert_str_eq(hits[0].evidence, "heartbeat payload_length 16384 > record 3");
	ck_assert_uint_eq(tls(bleed, sizeof(bleed), false, false, hits), 1);
	/* encrypted, a 3-byte heartbeat record is still the exploit's */
	ck_assert_uint_eq(tls(bleed, sizeof(bleed), true, true, hits), 1);
	ck_assert_str_eq(hits[0].evidence, "heartbeat record 3 bytes (encrypted)");
	/* a heartbeat of 16 bytes with its padding is fine, in the clear or not */
	ck_assert_uint_eq(tls(ok, sizeof(ok), true, false, hits), 0);
	ck_assert_uint_eq(tls(ok, sizeof(ok), true, true, hits), 0);
	ok[6] = 0x00;
	ok[7] = 0x11; /* one byte more than the record holds */
	ck_assert_uint_eq(tls(ok, sizeof(ok), true, false, hits), 1);
	ck_assert_str_eq(hits[0].evidence, "heartbeat payload_length 17 > record 35");
	/* after a ChangeCipherSpec in the same segment the record is encrypted */
	memcpy(seg, "\x14\x03\x03\x00\x01\x01", 6);
	memcpy(seg + 6, ok, sizeof(ok));
	ck_assert_uint_eq(tls(seg, 6 + sizeof(ok), true, false, hits), 0);
}
END_TEST

/* records walked: an old ServerHello followed by more records, both hits in one segment */
START_TEST(test_tls_record_walk)
{
	static const uint8_t bleed[] = { 0x18, 0x03, 0x01, 0x00, 0x03, 0x01, 0xff, 0xff };
	uint8_t seg[256];
	struct threat_hit hits[4];
	size_t n = sizeof(tls10_server_hello);

	memcpy(seg, tls10_server_hello, n);
	memcpy(seg + n, bleed, sizeof(bleed));
	ck_assert_uint_eq(tls(seg, n + sizeof(bleed), false, false, hits), 2);
	ck_assert_int_eq(hits[0].id, THREAT_TLS_OLD_VERSION);
	ck_assert_int_eq(hits[1].id, THREAT_TLS_HEARTBLEED);
	ck_assert_uint_eq(threat_tls_segment(seg, n + sizeof(bleed), false, false, hits, 1), 1);
	/* application data first: nothing to see */
	ck_assert_uint_eq(tls(http_get, sizeof(http_get), true, false, hits), 0);
}
END_TEST

static bool ssh(const char *s, struct threat_hit *hit)
{
	bool r = threat_ssh_segment((const uint8_t *)s, strlen(s), hit);

	if (r) {
		ck_assert_int_eq(hit->id, THREAT_SSH_V1);
		assert_evidence(hit);
	}
	return r;
}

START_TEST(test_ssh_versions)
{
	static const char *const clean[] = {
		"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u1\r\n",
		"SSH-1.99-OpenSSH_3.9p1\r\n",
		"SSH-1.99-Cisco-1.25\n",
		"SSH-1.",
		"SSH-1.5",
		"SSH-1.-x\r\n",
		"xSSH-1.5-old\r\n",
		"",
	};
	struct threat_hit hit;

	ck_assert(ssh("SSH-1.5-OpenSSH_1.2.3\r\n", &hit));
	ck_assert_str_eq(hit.evidence, "SSH-1.5-OpenSSH_1.2.3");
	ck_assert(ssh("SSH-1.3-x", &hit));
	ck_assert(ssh("SSH-1.5-", &hit));
	ck_assert_str_eq(hit.evidence, "SSH-1.5-");
	ck_assert(ssh("SSH-1.990-x\r\n", &hit));
	/* a server may send text lines before its identification */
	ck_assert(ssh("Welcome to the old box\r\nSSH-1.5-1.2.27\r\n", &hit));
	ck_assert_str_eq(hit.evidence, "SSH-1.5-1.2.27");
	for (size_t i = 0; i < N(clean); i++)
		ck_assert_msg(!ssh(clean[i], &hit), "%s", clean[i]);
	/* binary packet bytes end the look for text lines */
	{
		static const uint8_t bin[] = "\x00\x00\x01\x14\x08\x14\nSSH-1.5-x\r\n";

		ck_assert(!threat_ssh_segment(bin, sizeof(bin) - 1, &hit));
	}
	ck_assert(!threat_ssh_segment(ssh_client_banner, sizeof(ssh_client_banner), &hit));
	ck_assert(!threat_ssh_segment(ssh_kexinit, sizeof(ssh_kexinit), &hit));
}
END_TEST

/* a DNS query for name (dotted) and qtype, as a stub resolver sends it */
static size_t dns_query(uint8_t *buf, const char *name, uint16_t qtype)
{
	size_t o = 12;

	memcpy(buf, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		buf[o++] = (uint8_t)n;
		memcpy(buf + o, name, n);
		o += n;
		name += n + (dot ? 1 : 0);
	}
	buf[o++] = 0;
	buf[o++] = (uint8_t)(qtype >> 8);
	buf[o++] = (uint8_t)qtype;
	buf[o++] = 0;
	buf[o++] = 1;
	return o;
}

START_TEST(test_dns_ordinary_queries)
{
	static const struct {
		const uint8_t *d;
		size_t len;
		bool tcp;
		uint16_t qtype;
		const char *domain;
		unsigned front_len, longest;
	} q[] = {
		{ dns_udp_query, sizeof(dns_udp_query), false, 1, "x.example", 3, 3 },
		{ dns_tcp_query, sizeof(dns_tcp_query), true, 28, "x.example", 4, 4 },
		{ dns_mx_query, sizeof(dns_mx_query), false, 15, "example.com", 0, 0 },
		{ dns_srv_ldap_query, sizeof(dns_srv_ldap_query), false, 33, "corp.example", 17,
		  6 },
	};
	struct threat_dns_query dq;
	struct threat_hit hits[2];

	for (size_t i = 0; i < N(q); i++) {
		ck_assert_uint_eq(threat_dns_message(q[i].d, q[i].len, q[i].tcp, &dq, hits, 2), 0);
		ck_assert(dq.valid);
		ck_assert_uint_eq(dq.qtype, q[i].qtype);
		ck_assert_str_eq(dq.domain, q[i].domain);
		ck_assert_uint_eq(dq.front_len, q[i].front_len);
		ck_assert_uint_eq(dq.longest_label, q[i].longest);
	}
	/* answers are not queries */
	threat_dns_message(dns_udp_answer, sizeof(dns_udp_answer), false, &dq, hits, 2);
	ck_assert(!dq.valid);
	threat_dns_message(dns_tcp_answer, sizeof(dns_tcp_answer), true, &dq, hits, 2);
	ck_assert(!dq.valid);
}
END_TEST

START_TEST(test_dns_types)
{
	struct threat_dns_query dq;
	struct threat_hit hits[2];
	uint8_t b[300];

	ck_assert_uint_eq(
		threat_dns_message(dns_axfr_query, sizeof(dns_axfr_query), true, &dq, hits, 2), 1);
	ck_assert_int_eq(hits[0].id, THREAT_DNS_ZONE_TRANSFER);
	ck_assert_str_eq(hits[0].evidence, "AXFR example.com");
	ck_assert_uint_eq(
		threat_dns_message(dns_ixfr_query, sizeof(dns_ixfr_query), false, &dq, hits, 2), 1);
	ck_assert_str_eq(hits[0].evidence, "IXFR example.com");
	ck_assert_uint_eq(
		threat_dns_message(dns_null_query, sizeof(dns_null_query), false, &dq, hits, 2), 1);
	ck_assert_int_eq(hits[0].id, THREAT_DNS_TYPE_NULL);
	ck_assert_str_eq(hits[0].evidence, "NULL t.example");
	ck_assert_uint_eq(dq.qtype, 10);
	/* the zone of a transfer is shown whole, lowercased */
	ck_assert_uint_eq(
		threat_dns_message(b, dns_query(b, "Corp.Example.NET", 252), false, &dq, hits, 2),
		1);
	ck_assert_str_eq(hits[0].evidence, "AXFR corp.example.net");
	ck_assert_str_eq(dq.domain, "example.net");
	/* a response to a zone transfer is not one more hit */
	memcpy(b, dns_axfr_query + 2, sizeof(dns_axfr_query) - 2);
	b[2] |= 0x80;
	ck_assert_uint_eq(threat_dns_message(b, sizeof(dns_axfr_query) - 2, false, &dq, hits, 2),
			  0);
	ck_assert_uint_eq(
		threat_dns_message(dns_null_query, sizeof(dns_null_query), false, &dq, hits, 0), 0);
}
END_TEST

START_TEST(test_dns_malformed)
{
	struct threat_dns_query dq;
	struct threat_hit hits[2];
	uint8_t b[300];
	size_t n = dns_query(b, "www.example.com", 1);

	for (size_t len = 0; len < n - 3; len++) {
		threat_dns_message(b, len, false, &dq, hits, 2);
		ck_assert_msg(!dq.valid, "cut to %zu", len);
	}
	b[12] = 0xc0; /* a compression pointer where the first name starts */
	threat_dns_message(b, n, false, &dq, hits, 2);
	ck_assert(!dq.valid);
	/* the TCP length prefix bounds the message */
	b[0] = 0;
	b[1] = 5;
	memcpy(b + 2, dns_udp_query, sizeof(dns_udp_query));
	threat_dns_message(b, 2 + sizeof(dns_udp_query), true, &dq, hits, 2);
	ck_assert(!dq.valid);
}
END_TEST

/* deterministic random labels from an alphabet */
static void random_label(char *out, size_t n, const char *alphabet, uint32_t *seed)
{
	size_t k = strlen(alphabet);

	for (size_t i = 0; i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		out[i] = alphabet[(*seed >> 16) % k];
	}
	out[n] = '\0';
}

static const char base32[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char hex[] = "0123456789abcdef";

/* one query for name fed to the tracker at t_ms */
static bool track(struct threat_dns_tracker *t, const char *name, uint64_t t_ms,
		  struct threat_hit *hit)
{
	uint8_t b[300];
	struct threat_dns_query dq;
	struct threat_hit hits[2];

	threat_dns_message(b, dns_query(b, name, 16), false, &dq, hits, 2);
	ck_assert(dq.valid);
	return threat_dns_track(t, &dq, t_ms * 1000000ull + 1, hit);
}

START_TEST(test_dns_tunnel_fires)
{
	struct threat_dns_tracker *t = threat_dns_tracker_new();
	struct threat_hit hit;
	char label[64], name[256];
	uint32_t seed = 7;
	unsigned fired = 0, first = 0;

	ck_assert_ptr_nonnull(t);
	/* 5 queries a second for 30 s, like a dnscat-style session */
	for (unsigned i = 0; i < 150; i++) {
		random_label(label, 50, base32, &seed);
		snprintf(name, sizeof(name), "%s.t.example", label);
		if (track(t, name, i * 200, &hit)) {
			assert_evidence(&hit);
			ck_assert_int_eq(hit.id, THREAT_DNS_TUNNELING);
			ck_assert_ptr_nonnull(strstr(hit.evidence, "label 50 chars, entropy 4."));
			ck_assert_ptr_nonnull(strstr(hit.evidence, "under t.example"));
			first = fired++ ? first : i;
		}
	}
	ck_assert_uint_eq(first, 19); /* the 20th query */
	ck_assert_uint_eq(fired, 3);  /* once per 10 s window */
	threat_dns_tracker_free(t);
}
END_TEST

/* hex in several shorter labels (front >= 40) counts too */
START_TEST(test_dns_tunnel_hex_labels)
{
	struct threat_dns_tracker *t = threat_dns_tracker_new();
	struct threat_hit hit;
	char a[32], b[32], c[32], name[256];
	uint32_t seed = 99;
	bool fired = false;

	for (unsigned i = 0; i < 20; i++) {
		random_label(a, 20, hex, &seed);
		random_label(b, 20, hex, &seed);
		random_label(c, 10, hex, &seed);
		snprintf(name, sizeof(name), "%s.%s.%s.tun.example.org", a, b, c);
		fired = track(t, name, i * 100, &hit);
	}
	ck_assert(fired);
	ck_assert_ptr_nonnull(strstr(hit.evidence, "under example.org"));
	threat_dns_tracker_free(t);
}
END_TEST

START_TEST(test_dns_ordinary_never_fires)
{
	static const char *const names[] = {
		"www.example.com",
		"_ldap._tcp.dc._msdcs.corp.example",
		"mail.example.com",
		"api.eu-west-1.amazonaws.com",
		"d3k81ch9hvuctc.cloudfront.net",
		"fonts.gstatic.com",
		"1.0.0.127.in-addr.arpa",
		"b.4.3.2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
		"this-is-a-rather-long-but-plain-hostname-for-a-service.internal.example",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com",
	};
	struct threat_dns_tracker *t = threat_dns_tracker_new();
	struct threat_hit hit;
	char label[64], name[256];
	uint32_t seed = 3;

	/* a busy resolver client: 100 queries a second for 20 s */
	for (unsigned i = 0; i < 2000; i++)
		ck_assert_msg(!track(t, names[i % N(names)], i * 10, &hit), "%s",
			      names[i % N(names)]);
	/* an uncached client asking for a few long service names over and over */
	for (unsigned i = 0; i < 500; i++) {
		snprintf(name, sizeof(name),
			 "payments-gateway-backend-v%u.prod-namespace.svc.cluster.local", i % 6);
		ck_assert_msg(!track(t, name, 25000 + i * 5, &hit), "%s", name);
	}
	/* a CDN name with a long hash, once, and even 19 of them in 10 s */
	for (unsigned i = 0; i < 19; i++) {
		random_label(label, 32, hex, &seed);
		snprintf(name, sizeof(name), "%s.cdn.example.net", label);
		ck_assert(!track(t, name, 30000 + i * 500, &hit));
	}
	threat_dns_tracker_free(t);
}
END_TEST

/* 20 long random names, but spread over more than 10 s: not within one window */
START_TEST(test_dns_tunnel_slow)
{
	struct threat_dns_tracker *t = threat_dns_tracker_new();
	struct threat_hit hit;
	char label[64], name[256];
	uint32_t seed = 5;

	for (unsigned i = 0; i < 60; i++) {
		random_label(label, 40, base32, &seed);
		snprintf(name, sizeof(name), "%s.slow.example", label);
		ck_assert(!track(t, name, i * 600, &hit));
	}
	threat_dns_tracker_set_threshold(t, 5);
	ck_assert(!track(t, "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm.slow.example", 60 * 600,
			 &hit));
	for (unsigned i = 0; i < 5; i++) {
		random_label(label, 40, base32, &seed);
		snprintf(name, sizeof(name), "%s.slow.example", label);
		if (track(t, name, 40000 + i * 100, &hit))
			break;
		ck_assert_uint_lt(i, 4);
	}
	threat_dns_tracker_free(t);
}
END_TEST

/* many domains overflow the table without breaking it; the tunnel is still seen */
START_TEST(test_dns_tracker_bounded)
{
	struct threat_dns_tracker *t = threat_dns_tracker_new();
	struct threat_hit hit;
	char label[64], name[256];
	uint32_t seed = 11;
	bool fired = false;

	for (unsigned i = 0; i < 5000; i++) {
		random_label(label, 45, base32, &seed);
		snprintf(name, sizeof(name), "%s.d%u.example", label, i);
		ck_assert(!track(t, name, i, &hit));
	}
	for (unsigned i = 0; i < 20; i++) {
		random_label(label, 45, base32, &seed);
		snprintf(name, sizeof(name), "%s.t.example", label);
		fired = track(t, name, 6000 + i * 10, &hit);
	}
	ck_assert(fired);
	/* a query that is not valid is ignored */
	{
		struct threat_dns_query dq = { 0 };

		ck_assert(!threat_dns_track(t, &dq, 1, &hit));
	}
	threat_dns_tracker_free(t);
}
END_TEST

START_TEST(test_entropy)
{
	uint8_t all[256], big[4096];

	for (unsigned i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i % 16);
	ck_assert_uint_eq(threat_entropy_milli(NULL, 0), 0);
	ck_assert_uint_eq(threat_entropy_milli((const uint8_t *)"a", 1), 0);
	ck_assert_uint_eq(threat_entropy_milli((const uint8_t *)"aaaaaaaa", 8), 0);
	ck_assert_uint_eq(threat_entropy_milli((const uint8_t *)"ab", 2), 1000);
	ck_assert_uint_eq(threat_entropy_milli((const uint8_t *)"aabb", 4), 1000);
	ck_assert_uint_eq(threat_entropy_milli((const uint8_t *)"abcd", 4), 2000);
	ck_assert_uint_eq(threat_entropy_milli(all, sizeof(all)), 8000);
	ck_assert_uint_eq(threat_entropy_milli(big, sizeof(big)), 4000);
	/* one 'b' in three: -(1/3 log2 1/3 + 2/3 log2 2/3) = 0.918 */
	ck_assert_uint_eq(threat_entropy_milli((const uint8_t *)"aab", 3), 918);
}
END_TEST

static Suite *threat_app_suite(void)
{
	Suite *s = suite_create("threat_app");
	TCase *tc = tcase_create("http");

	tcase_add_test(tc, test_http_smuggling);
	tcase_add_test(tc, test_http_negative_length);
	tcase_add_test(tc, test_http_clean);
	tcase_add_test(tc, test_http_sqli);
	tcase_add_test(tc, test_http_body_not_form);
	tcase_add_test(tc, test_http_several_hits);
	tcase_add_test(tc, test_http_not_request);
	tcase_add_test(tc, test_http_headers_complete);
	suite_add_tcase(s, tc);
	tc = tcase_create("tls_ssh");
	tcase_add_test(tc, test_tls_old_hellos);
	tcase_add_test(tc, test_tls_current_hellos);
	tcase_add_test(tc, test_tls_old_cut);
	tcase_add_test(tc, test_tls_supported_versions);
	tcase_add_test(tc, test_tls_sslv2_hello);
	tcase_add_test(tc, test_tls_heartbleed);
	tcase_add_test(tc, test_tls_record_walk);
	tcase_add_test(tc, test_ssh_versions);
	suite_add_tcase(s, tc);
	tc = tcase_create("dns");
	tcase_add_test(tc, test_dns_ordinary_queries);
	tcase_add_test(tc, test_dns_types);
	tcase_add_test(tc, test_dns_malformed);
	tcase_add_test(tc, test_dns_tunnel_fires);
	tcase_add_test(tc, test_dns_tunnel_hex_labels);
	tcase_add_test(tc, test_dns_ordinary_never_fires);
	tcase_add_test(tc, test_dns_tunnel_slow);
	tcase_add_test(tc, test_dns_tracker_bounded);
	tcase_add_test(tc, test_entropy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(threat_app_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
