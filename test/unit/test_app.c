/* SPDX-License-Identifier: Apache-2.0 */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_samples.h"
#include "dp/app/app.h"
#include "dp/app/app_int.h"

#define T IPPROTO_TCP
#define U IPPROTO_UDP
#define N(a) (sizeof(a) / sizeof((a)[0]))

struct sample {
	const char *name;
	const uint8_t *data;
	size_t len;
	uint8_t transport;
	bool from_client;
	uint16_t cport, sport;
	enum app_proto app;
};

#define S(arr, tr, cl, cp, sp, app)                                                                \
	{                                                                                          \
#arr, arr, sizeof(arr), tr, cl, cp, sp, app                                        \
	}

static const struct sample samples[] = {
	S(http_get, T, true, 48936, 8080, APP_HTTP),
	S(http_404, T, false, 48936, 8080, APP_HTTP),
	S(h2_preface, T, true, 56996, 8082, APP_HTTP2),
	S(h2_settings, T, false, 56996, 8082, APP_HTTP2),
	S(tls13_client_hello, T, true, 48390, 8443, APP_TLS),
	S(tls13_server_hello, T, false, 48390, 8443, APP_TLS),
	S(tls12_client_hello, T, true, 48406, 8443, APP_TLS),
	S(tls_curl_client_hello, T, true, 48928, 8443, APP_TLS),
	S(ssh_client_banner, T, true, 60638, 2222, APP_SSH),
	S(dns_udp_query, U, true, 46540, 5353, APP_DNS),
	S(dns_udp_answer, U, false, 46540, 5353, APP_DNS),
	S(dns_tcp_query, T, true, 42563, 5353, APP_DNS),
	S(dns_tcp_answer, T, false, 42563, 5353, APP_DNS),
	S(redis_set, T, true, 59144, 6380, APP_REDIS),
	S(redis_ok, T, false, 59144, 6380, APP_REDIS),
	S(redis_get, T, true, 59154, 6380, APP_REDIS),
	S(redis_bulk, T, false, 59154, 6380, APP_REDIS),
	S(memcached_set, T, true, 52766, 11212, APP_MEMCACHED),
	S(memcached_stored, T, false, 52766, 11212, APP_MEMCACHED),
	S(memcached_get, T, true, 52778, 11212, APP_MEMCACHED),
	S(memcached_value, T, false, 52778, 11212, APP_MEMCACHED),
	S(memcached_bin_version, T, true, 52790, 11212, APP_MEMCACHED),
	S(memcached_bin_version_reply, T, false, 52790, 11212, APP_MEMCACHED),
	S(mysql_greeting, T, false, 42188, 3307, APP_MYSQL),
	S(mysql_login, T, true, 42188, 3307, APP_MYSQL),
	S(pg_ssl_request, T, true, 44782, 5433, APP_POSTGRESQL),
	S(pg_startup, T, true, 44782, 5433, APP_POSTGRESQL),
	S(pg_auth_sasl, T, false, 44782, 5433, APP_POSTGRESQL),
	S(pg_error, T, false, 44782, 5433, APP_POSTGRESQL),
	S(mongo_query, T, true, 60294, 27019, APP_MONGODB),
	S(mongo_reply, T, false, 60294, 27019, APP_MONGODB),
	S(mongo_msg, T, true, 60306, 27019, APP_MONGODB),
	S(mongo_msg_reply, T, false, 60306, 27019, APP_MONGODB),
	S(kafka_api_versions, T, true, 38782, 9093, APP_KAFKA),
	S(ntp_sntp_request, U, true, 38775, 123, APP_NTP),
	S(ntp_chrony_reply, U, false, 38775, 123, APP_NTP),
	S(ntp_chrony_request, U, true, 54470, 123, APP_NTP),
	S(dhcp_discover, U, true, 68, 67, APP_DHCP),
	S(dhcp_offer, U, true, 67, 68, APP_DHCP),
	S(dhcp6_solicit, U, true, 546, 547, APP_DHCP),
	S(dhcp6_advertise, U, false, 546, 547, APP_DHCP),
};

static const app_probe_fn probes[APP_MAX] = {
	[APP_HTTP] = app_http_probe,
	[APP_HTTP2] = app_http2_probe,
	[APP_TLS] = app_tls_probe,
	[APP_SSH] = app_ssh_probe,
	[APP_DNS] = app_dns_probe,
	[APP_MYSQL] = app_mysql_probe,
	[APP_POSTGRESQL] = app_postgresql_probe,
	[APP_REDIS] = app_redis_probe,
	[APP_MEMCACHED] = app_memcached_probe,
	[APP_MONGODB] = app_mongodb_probe,
	[APP_KAFKA] = app_kafka_probe,
	[APP_NTP] = app_ntp_probe,
	[APP_DHCP] = app_dhcp_probe,
};

static struct app_segment seg_of(const struct sample *s, size_t len)
{
	struct app_segment seg = {
		.data = s->data,
		.len = len,
		.transport = s->transport,
		.from_client = s->from_client,
		.client_port = s->cport,
		.server_port = s->sport,
	};
	return seg;
}

/* a fresh session fed one segment: the app, or -1 while not done */
static int identify_seg(const struct app_segment *seg, struct app_info *info)
{
	struct app_state st;
	struct app_info scratch;

	app_state_init(&st, seg->transport);
	if (!app_feed(&st, seg, info ? info : &scratch))
		return -1;
	return st.app;
}

static int identify(const struct sample *s, size_t len, struct app_info *info)
{
	struct app_segment seg = seg_of(s, len);

	return identify_seg(&seg, info);
}

static enum app_answer probe(enum app_proto app, const struct app_segment *seg)
{
	struct app_info info;

	return probes[app](seg, &info);
}

/* a literal text segment */
static struct app_segment text(const char *s, uint8_t transport, bool from_client)
{
	struct app_segment seg = {
		.data = (const uint8_t *)s,
		.len = strlen(s),
		.transport = transport,
		.from_client = from_client,
		.client_port = 40000,
		.server_port = 5000,
	};
	return seg;
}

/* the protocols named only when both sides' first bytes fit (app_list.h) */
static bool both_sides(enum app_proto app)
{
	return app == APP_REDIS || app == APP_MEMCACHED;
}

/* the sample of the same exchange from the other side */
static const struct sample *sample_partner(const struct sample *s)
{
	for (size_t i = 0; i < N(samples); i++)
		if (samples[i].cport == s->cport && samples[i].sport == s->sport &&
		    samples[i].from_client != s->from_client)
			return &samples[i];
	ck_abort_msg("no partner of %s", s->name);
	return NULL;
}

/*
 * Each sample alone names its protocol; for a two-sided protocol it does
 * not, and the other side's sample after it does.
 */
START_TEST(test_samples_identified)
{
	const struct sample *s = &samples[_i], *o;
	struct app_state st;
	struct app_info info;
	struct app_segment seg = seg_of(s, s->len);
	int app = identify(s, s->len, &info);

	if (both_sides(s->app)) {
		ck_assert_msg(app == -1, "%s: named on one side", s->name);
		o = sample_partner(s);
		app_state_init(&st, s->transport);
		ck_assert(!app_feed(&st, &seg, &info));
		seg = seg_of(o, o->len);
		app = app_feed(&st, &seg, &info) ? st.app : -1;
	}
	ck_assert_msg(app == (int)s->app, "%s: identified as %s, not %s", s->name,
		      app < 0 ? "(not done)" : app_name(app), app_name(s->app));
}
END_TEST

START_TEST(test_own_probe_says_yes)
{
	const struct sample *s = &samples[_i];
	struct app_segment seg = seg_of(s, s->len);

	ck_assert_msg(probe(s->app, &seg) == APP_YES, "%s: %s probe does not say yes", s->name,
		      app_name(s->app));
}
END_TEST

/* every other parser of the transport rejects the sample outright */
START_TEST(test_others_reject)
{
	const struct sample *s = &samples[_i];
	struct app_segment seg = seg_of(s, s->len);

	for (int a = APP_HTTP; a < APP_MAX; a++) {
		if (a == (int)s->app)
			continue;
		/* "get k" is valid memcached and valid Redis; priority decides */
		if (a == APP_REDIS && strcmp(s->name, "memcached_get") == 0)
			continue;
		ck_assert_msg(probe(a, &seg) == APP_NO, "%s: %s probe does not say no", s->name,
			      app_name(a));
	}
}
END_TEST

/* a sample cut anywhere is never taken for another protocol */
START_TEST(test_truncated_never_other)
{
	const struct sample *s = &samples[_i];

	for (size_t len = 1; len < s->len; len++) {
		int app = identify(s, len, NULL);

		ck_assert_msg(app == -1 || app == APP_UNKNOWN || app == (int)s->app,
			      "%s cut to %zu: identified as %s", s->name, len, app_name(app));
	}
}
END_TEST

/*
 * UDP datagrams are whole: a cut one is not identified.  Trailing zeros
 * are left out: DHCP pads its options after END to the BOOTP minimum.
 * DHCPv6 is left out: a list of options with no overall length, cut at
 * an option boundary it is a whole message.
 */
START_TEST(test_truncated_datagrams)
{
	for (size_t i = 0; i < N(samples); i++) {
		const struct sample *s = &samples[i];
		size_t end = s->len;

		if (s->transport != U || strncmp(s->name, "dhcp6", 5) == 0)
			continue;
		if (s->app == APP_DHCP)
			while (end > 0 && s->data[end - 1] == 0)
				end--;
		for (size_t len = 1; len < end; len++)
			ck_assert_msg(identify(s, len, NULL) != (int)s->app, "%s cut to %zu",
				      s->name, len);
	}
}
END_TEST

static const struct sample *sample_named(const char *name)
{
	for (size_t i = 0; i < N(samples); i++)
		if (strcmp(samples[i].name, name) == 0)
			return &samples[i];
	ck_abort_msg("no sample %s", name);
	return NULL;
}

START_TEST(test_sni_exact)
{
	static const struct {
		const char *sample, *sni;
	} want[] = {
		{ "tls13_client_hello", "x.example" },
		{ "tls12_client_hello", "www.portcullis.test" },
		{ "tls_curl_client_hello", "localhost" },
		{ "tls13_server_hello", "" },
	};
	struct app_info info;

	for (size_t i = 0; i < N(want); i++) {
		const struct sample *s = sample_named(want[i].sample);

		memset(&info, 'x', sizeof(info));
		ck_assert_int_eq(identify(s, s->len, &info), APP_TLS);
		ck_assert_str_eq(info.sni, want[i].sni);
	}
	/* a session identified as something else carries no SNI */
	memset(&info, 'x', sizeof(info));
	ck_assert_int_eq(identify(sample_named("http_get"), sizeof(http_get), &info), APP_HTTP);
	ck_assert_str_eq(info.sni, "");
}
END_TEST

/*
 * A ClientHello cut anywhere: TLS once the record and handshake headers
 * and the version are in (11 bytes), maybe before; the SNI is exact or
 * empty, never a piece of the name.
 */
START_TEST(test_tls_cut_client_hello)
{
	const struct sample *s = sample_named("tls13_client_hello");
	struct app_info info;

	for (size_t len = 1; len <= s->len; len++) {
		struct app_segment seg = seg_of(s, len);

		memset(&info, 0, sizeof(info));
		if (len < 11) {
			ck_assert_int_eq(app_tls_probe(&seg, &info), APP_MAYBE);
			continue;
		}
		ck_assert_msg(app_tls_probe(&seg, &info) == APP_YES, "cut to %zu", len);
		ck_assert_msg(info.sni[0] == '\0' || strcmp(info.sni, "x.example") == 0,
			      "cut to %zu: sni \"%s\"", len, info.sni);
	}
	/* the SNI extension lies whole within the first 170 bytes */
	memset(&info, 0, sizeof(info));
	{
		struct app_segment seg = seg_of(s, 170);

		ck_assert_int_eq(app_tls_probe(&seg, &info), APP_YES);
		ck_assert_str_eq(info.sni, "x.example");
	}
}
END_TEST

/* a ClientHello whose declared lengths lie is not TLS, and its SNI unused */
START_TEST(test_tls_malformed)
{
	uint8_t b[sizeof(tls13_client_hello)];
	struct app_info info;
	struct app_segment seg = seg_of(sample_named("tls13_client_hello"), sizeof(b));

	seg.data = b;
	memcpy(b, tls13_client_hello, sizeof(b));
	b[43] = 33; /* session id longer than 32 */
	ck_assert_int_eq(app_tls_probe(&seg, &info), APP_NO);
	memcpy(b, tls13_client_hello, sizeof(b));
	b[0] = 23; /* application data, not a handshake */
	ck_assert_int_eq(app_tls_probe(&seg, &info), APP_NO);
	memcpy(b, tls13_client_hello, sizeof(b));
	b[5] = 2; /* a ServerHello from the client */
	ck_assert_int_eq(app_tls_probe(&seg, &info), APP_NO);
	memcpy(b, tls13_client_hello, sizeof(b));
	b[9] = 2; /* version 2.x */
	ck_assert_int_eq(app_tls_probe(&seg, &info), APP_NO);
	memcpy(b, tls13_client_hello, sizeof(b));
	b[3] = 0x50; /* record of 20 KiB and more */
	ck_assert_int_eq(app_tls_probe(&seg, &info), APP_NO);
}
END_TEST

/* a host name with a byte outside the host name alphabet is not copied */
START_TEST(test_tls_sni_hostile)
{
	const struct sample *s = sample_named("tls12_client_hello");
	uint8_t b[sizeof(tls12_client_hello)];
	struct app_segment seg = seg_of(s, sizeof(b));
	struct app_info info;
	uint8_t *name = memmem(tls12_client_hello, sizeof(b), "www.portcullis.test", 19);

	ck_assert_ptr_nonnull(name);
	memcpy(b, tls12_client_hello, sizeof(b));
	b[name - tls12_client_hello + 3] = '"';
	seg.data = b;
	ck_assert_int_eq(app_tls_probe(&seg, &info), APP_YES);
	ck_assert_str_eq(info.sni, "");
	/* a name length past its list: the extension is ignored */
	memcpy(b, tls12_client_hello, sizeof(b));
	b[name - tls12_client_hello - 1] = 0xff;
	ck_assert_int_eq(app_tls_probe(&seg, &info), APP_YES);
	ck_assert_str_eq(info.sni, "");
}
END_TEST

START_TEST(test_http_lines)
{
	static const char *const yes[] = {
		"POST /submit HTTP/1.0\r\n",
		"OPTIONS * HTTP/1.1\r\n",
		"CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example\r\n\r\n",
		"GET http://a.example/ HTTP/1.1\r\n",
		"PROPFIND /dav/ HTTP/1.1\n",
		"HTTP/1.1 200 OK\r\n",
		"HTTP/1.1 204\r\n",
	};
	static const char *const no[] = {
		"GET / HTTP/2.0\r\n",	 "GET / HTTP/1.1X\r\n",	  "GETX / HTTP/1.1\r\n",
		"GET / FTP/1.1\r\n",	 "GET /a b HTTP/1.1\r\n", "get / HTTP/1.1\r\n",
		"HTTP/1.1 999 x\r\n",	 "HTTP/1.1 20x OK\r\n",	  "HTTP/3.0 200 OK\r\n",
		"GET \x01 HTTP/1.1\r\n", "GET  / HTTP/1.1\r\n",	  "BREW /pot HTCPCP/1.0\r\n",
	};
	static const char *const maybe[] = {
		"G", "GE", "GET", "GET ", "GET /index.ht", "GET / HTTP/1", "HTTP/1.1 2", "H"
	};

	for (size_t i = 0; i < N(yes); i++) {
		struct app_segment seg = text(yes[i], T, yes[i][0] != 'H');

		ck_assert_msg(probe(APP_HTTP, &seg) == APP_YES, "%s", yes[i]);
		ck_assert_int_eq(identify_seg(&seg, NULL), APP_HTTP);
	}
	for (size_t i = 0; i < N(no); i++) {
		struct app_segment seg = text(no[i], T, true);

		ck_assert_msg(probe(APP_HTTP, &seg) == APP_NO, "%s", no[i]);
	}
	for (size_t i = 0; i < N(maybe); i++) {
		struct app_segment seg = text(maybe[i], T, true);

		ck_assert_msg(probe(APP_HTTP, &seg) == APP_MAYBE, "%s", maybe[i]);
	}
}
END_TEST

/*
 * curl's request for "/?q=" and 700 x over a 600-byte MTU (offloads off):
 * the request line is cut after 548 bytes and the next segment starts in
 * the target; the two segments as captured, and the line cut elsewhere.
 */
START_TEST(test_http_long_request_line)
{
	static const size_t cuts[] = { 548, 700, 708, 709, 710, 712, 716, 717 };
	char req[1024], *p = req;
	struct app_state st;
	struct app_info info;
	struct app_segment seg;

	p += sprintf(p, "GET /?q=");
	memset(p, 'x', 700);
	p += 700;
	p += sprintf(p, " HTTP/1.1\r\nHost: 10.31.1.1\r\nUser-Agent: curl/7.88.1\r\n\r\n");
	for (size_t i = 0; i < N(cuts); i++) {
		app_state_init(&st, T);
		seg = text(req, T, true);
		seg.len = cuts[i];
		ck_assert_msg(!app_feed(&st, &seg, &info), "cut %zu: done on the first piece",
			      cuts[i]);
		seg.data += cuts[i];
		seg.len = strlen(req) - cuts[i];
		ck_assert_msg(app_feed(&st, &seg, &info), "cut %zu: not done", cuts[i]);
		ck_assert_msg(st.app == APP_HTTP, "cut %zu: app %u", cuts[i], st.app);
	}
	/* a later segment that is not the rest of a request line */
	seg = text("xxxx HTTP/2.0\r\n", T, true);
	seg.index = 1;
	ck_assert(probe(APP_HTTP, &seg) == APP_NO);
	seg = text("xx yy HTTP/1.1\r\n", T, true);
	seg.index = 1;
	ck_assert(probe(APP_HTTP, &seg) == APP_NO);
	seg = text("xx\x01x HTTP/1.1\r\n", T, true);
	seg.index = 1;
	ck_assert(probe(APP_HTTP, &seg) == APP_NO);
	seg = text("xxxx FTP", T, true);
	seg.index = 1;
	ck_assert(probe(APP_HTTP, &seg) == APP_NO);
	seg = text("xxxx HTTP/1.1\r\n", T, false);
	seg.index = 1;
	ck_assert(probe(APP_HTTP, &seg) == APP_NO);
}
END_TEST

START_TEST(test_ssh_banners)
{
	static const char *const yes[] = { "SSH-1.99-Cisco-1.25\r\n",
					   "SSH-2.0-dropbear_2022.83\r\n", "SSH-2.0-x",
					   "SSH-1.5-OpenSSH_2.1\n" };
	static const char *const no[] = { "SSH-3.0-x\r\n", "SSH-2.0-\r\n", "SSH-2.0-a\x01\r\n",
					  "SSH-2.0_x\r\n", "ssh-2.0-x\r\n" };
	static const char *const maybe[] = { "S", "SSH-", "SSH-2.", "SSH-1.9", "SSH-2.0-" };

	for (size_t i = 0; i < N(yes); i++) {
		struct app_segment seg = text(yes[i], T, false);

		ck_assert_msg(identify_seg(&seg, NULL) == APP_SSH, "%s", yes[i]);
	}
	for (size_t i = 0; i < N(no); i++) {
		struct app_segment seg = text(no[i], T, true);

		ck_assert_msg(probe(APP_SSH, &seg) == APP_NO, "%s", no[i]);
	}
	for (size_t i = 0; i < N(maybe); i++) {
		struct app_segment seg = text(maybe[i], T, true);

		ck_assert_msg(probe(APP_SSH, &seg) == APP_MAYBE, "%s", maybe[i]);
	}
	/* what follows the banner is binary packets: not a banner again */
	{
		const struct sample ks = {
			"ssh_kexinit", ssh_kexinit, sizeof(ssh_kexinit), T, true, 60638,
			2222,	       APP_SSH
		};
		struct app_segment seg = seg_of(&ks, ks.len);

		ck_assert_int_eq(probe(APP_SSH, &seg), APP_NO);
	}
}
END_TEST

/* one byte of the real query changed: the header or the name is not sane */
START_TEST(test_dns_malformed)
{
	static const struct {
		size_t off;
		uint8_t val;
	} edits[] = {
		{ 2, 0x19 },  /* opcode 3 */
		{ 3, 0x60 },  /* Z set */
		{ 3, 0x21 },  /* a query with an rcode */
		{ 5, 0 },     /* no question */
		{ 5, 9 },     /* 9 questions */
		{ 11, 200 },  /* 200 additional records in 54 bytes */
		{ 12, 64 },   /* label of 64 */
		{ 12, 0xc0 }, /* compression pointer in the first name */
		{ 14, 0x01 }, /* control byte in a label */
		{ 16, 60 },   /* label past the datagram */
		{ 30, 0x00 }, /* qclass 0 */
	};
	uint8_t b[sizeof(dns_udp_query)];
	struct app_segment seg = seg_of(sample_named("dns_udp_query"), sizeof(b));

	seg.data = b;
	for (size_t i = 0; i < N(edits); i++) {
		memcpy(b, dns_udp_query, sizeof(b));
		b[edits[i].off] = edits[i].val;
		ck_assert_msg(probe(APP_DNS, &seg) == APP_NO, "edit %zu", i);
	}
	/* and the unedited copy is fine */
	memcpy(b, dns_udp_query, sizeof(b));
	ck_assert_int_eq(probe(APP_DNS, &seg), APP_YES);
}
END_TEST

/*
 * DNS over TCP: the length prefix alone is a maybe, and the bare message
 * in the next segment completes it; a bare message as the first segment
 * is not DNS over TCP.  The caller's index is ignored by the engine.
 */
START_TEST(test_dns_tcp_split_prefix)
{
	struct app_segment seg = seg_of(sample_named("dns_tcp_query"), 2);
	struct app_state st;
	struct app_info info;

	app_state_init(&st, T);
	seg.index = 3;
	ck_assert(!app_feed(&st, &seg, &info));
	ck_assert(st.candidates & (1u << APP_DNS));
	seg.data = dns_tcp_query + 2;
	seg.len = sizeof(dns_tcp_query) - 2;
	seg.index = 0;
	ck_assert(app_feed(&st, &seg, &info));
	ck_assert_int_eq(st.app, APP_DNS);

	seg.index = 1; /* a caller's wrong index changes nothing */
	ck_assert_int_ne(identify_seg(&seg, NULL), APP_DNS);
}
END_TEST

START_TEST(test_mysql_variants)
{
	uint8_t b[sizeof(mysql_greeting)];
	struct app_segment seg = seg_of(sample_named("mysql_greeting"), sizeof(b));

	seg.data = b;
	memcpy(b, mysql_greeting, sizeof(b));
	b[3] = 1; /* greeting with sequence 1 */
	ck_assert_int_eq(probe(APP_MYSQL, &seg), APP_NO);
	memcpy(b, mysql_greeting, sizeof(b));
	b[4] = 9; /* protocol 9 */
	ck_assert_int_eq(probe(APP_MYSQL, &seg), APP_NO);
	memcpy(b, mysql_greeting, sizeof(b));
	b[10] = '\n'; /* control byte in the version */
	ck_assert_int_eq(probe(APP_MYSQL, &seg), APP_NO);
	memcpy(b, mysql_greeting, sizeof(b));
	b[50] = 1; /* filler after the scramble */
	ck_assert_int_eq(probe(APP_MYSQL, &seg), APP_NO);
	/* the greeting from the client side */
	memcpy(b, mysql_greeting, sizeof(b));
	seg.from_client = true;
	ck_assert_int_eq(probe(APP_MYSQL, &seg), APP_NO);
}
END_TEST

START_TEST(test_postgresql_requests)
{
	/* GSSENCRequest and a CancelRequest as libpq writes them */
	static const uint8_t gssenc[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30 };
	static const uint8_t cancel[] = { 0, 0, 0,    16,   0x04, 0xd2, 0x16, 0x2e,
					  0, 0, 0x1f, 0x90, 0x12, 0x34, 0x56, 0x78 };
	static const uint8_t ssl_bad_len[] = { 0, 0, 0, 9, 0x04, 0xd2, 0x16, 0x2f };
	static const uint8_t proto2[] = { 0, 0, 0, 12, 0, 2, 0, 0, 'u', 0, 0, 0 };
	const struct sample t[] = {
		{ "gssenc", gssenc, sizeof(gssenc), T, true, 1, 2, APP_POSTGRESQL },
		{ "cancel", cancel, sizeof(cancel), T, true, 1, 2, APP_POSTGRESQL },
		{ "ssl_bad_len", ssl_bad_len, sizeof(ssl_bad_len), T, true, 1, 2, APP_UNKNOWN },
		{ "proto2", proto2, sizeof(proto2), T, true, 1, 2, APP_UNKNOWN },
	};

	for (size_t i = 0; i < N(t); i++) {
		struct app_segment seg = seg_of(&t[i], t[i].len);

		ck_assert_msg(probe(APP_POSTGRESQL, &seg) ==
				      (t[i].app == APP_POSTGRESQL ? APP_YES : APP_NO),
			      "%s", t[i].name);
	}
	/* the startup cut inside "user" is a maybe, the SASL request as a client's is not */
	{
		struct app_segment seg = seg_of(sample_named("pg_startup"), 10);

		ck_assert_int_eq(probe(APP_POSTGRESQL, &seg), APP_MAYBE);
		seg = seg_of(sample_named("pg_auth_sasl"), sizeof(pg_auth_sasl));
		seg.from_client = true;
		ck_assert_int_eq(probe(APP_POSTGRESQL, &seg), APP_NO);
	}
}
END_TEST

START_TEST(test_redis_forms)
{
	static const char *const yes[] = { "PING\r\n",
					   "ping\r\n",
					   "SET k v\r\n",
					   "hgetall h\n",
					   "*1\r\n$4\r\nPING\r\n",
					   "*2\r\n$8\r\nJSON.GET\r\n" };
	static const char *const no[] = {
		"FOO bar\r\n", "GET / HTTP/1.1\r\n", "*1\r\n$3\r\nPING\r\n", "*1\r\n$4\r\nPI G\r\n",
		"*0\r\n",      "*2\r\n:1\r\n",	     "*1\r\n$-1\r\n",	     "PING\x01\r\n",
	};
	static const char *const server_yes[] = { "+OK\r\n", "-ERR unknown command\r\n", ":42\r\n",
						  "$-1\r\n", "*2\r\n$1\r\na\r\n:1\r\n" };
	static const char *const server_no[] = { "+OK POP3 server ready\r\n", "-nope\r\n",
						 "$1\r\nab\r\n", ":4x\r\n" };
	static const char *const cut[] = {
		"PING\r", "GET k\r", "+", "+PO", "+OK\r", "-", "-WRONG"
	};

	for (size_t i = 0; i < N(yes); i++) {
		struct app_segment seg = text(yes[i], T, true);

		ck_assert_msg(probe(APP_REDIS, &seg) == APP_YES, "%s", yes[i]);
	}
	for (size_t i = 0; i < N(no); i++) {
		struct app_segment seg = text(no[i], T, true);

		ck_assert_msg(probe(APP_REDIS, &seg) == APP_NO, "%s", no[i]);
	}
	for (size_t i = 0; i < N(server_yes); i++) {
		struct app_segment seg = text(server_yes[i], T, false);

		ck_assert_msg(probe(APP_REDIS, &seg) == APP_YES, "%s", server_yes[i]);
	}
	for (size_t i = 0; i < N(server_no); i++) {
		struct app_segment seg = text(server_no[i], T, false);

		ck_assert_msg(probe(APP_REDIS, &seg) == APP_NO, "%s", server_no[i]);
	}
	/* cut inside the line, or between its CR and LF: more may make it fit */
	for (size_t i = 0; i < N(cut); i++) {
		struct app_segment seg = text(cut[i], T, cut[i][0] != '+' && cut[i][0] != '-');

		ck_assert_msg(probe(APP_REDIS, &seg) == APP_MAYBE, "%s", cut[i]);
	}
}
END_TEST

START_TEST(test_memcached_syntax)
{
	static const char *const yes[] = {
		"set k 0 0 5\r\nhello\r\n",
		"cas k 1 -1 2 77 noreply\r\nab\r\n",
		"gets a b c\r\n",
		"delete k noreply\r\n",
		"incr n 1\r\n",
		"touch k 60\r\n",
		"version\r\n",
		"flush_all 10\r\n",
		"stats items\r\n",
		"set big 0 0 100000\r\npartial",
	};
	static const char *const no[] = {
		"set k 0 0 5\r\nhelloX\r\n",
		"set k x 0 5\r\n",
		"set k 0 0\r\n",
		"get\r\n",
		"incr n\r\n",
		"version 1\r\n",
		"delete\r\n",
		"SET k 0 0 1\r\nx\r\n",
		"get k\x01\r\n",
		"flush_all now\r\n",
	};
	static const char *const cut[] = { "get k\r", "version\r", "STORED\r", "END\r" };

	for (size_t i = 0; i < N(yes); i++) {
		struct app_segment seg = text(yes[i], T, true);

		ck_assert_msg(probe(APP_MEMCACHED, &seg) == APP_YES, "%s", yes[i]);
	}
	for (size_t i = 0; i < N(no); i++) {
		struct app_segment seg = text(no[i], T, true);

		ck_assert_msg(probe(APP_MEMCACHED, &seg) == APP_NO, "%s", no[i]);
	}
	/* a line cut between its CR and LF, a command's or a reply's */
	for (size_t i = 0; i < N(cut); i++) {
		struct app_segment seg = text(cut[i], T, cut[i][0] >= 'a');

		ck_assert_msg(probe(APP_MEMCACHED, &seg) == APP_MAYBE, "%s", cut[i]);
	}
	/* binary: the data type must be raw and a response's status known */
	{
		uint8_t b[sizeof(memcached_bin_version_reply)];
		struct app_segment seg = seg_of(sample_named("memcached_bin_version_reply"),
						sizeof(b));

		seg.data = b;
		memcpy(b, memcached_bin_version_reply, sizeof(b));
		b[5] = 1;
		ck_assert_int_eq(probe(APP_MEMCACHED, &seg), APP_NO);
		memcpy(b, memcached_bin_version_reply, sizeof(b));
		b[7] = 0x50;
		ck_assert_int_eq(probe(APP_MEMCACHED, &seg), APP_NO);
		memcpy(b, memcached_bin_version_reply, sizeof(b));
		b[11] = 0; /* body shorter than the key */
		b[3] = 4;
		ck_assert_int_eq(probe(APP_MEMCACHED, &seg), APP_NO);
	}
}
END_TEST

START_TEST(test_mongodb_header)
{
	uint8_t b[sizeof(mongo_msg)];
	struct app_segment seg = seg_of(sample_named("mongo_msg"), sizeof(b));

	seg.data = b;
	memcpy(b, mongo_msg, sizeof(b));
	b[12] = 0xd3; /* opcode 2003, reserved */
	ck_assert_int_eq(probe(APP_MONGODB, &seg), APP_NO);
	memcpy(b, mongo_msg, sizeof(b));
	b[3] = 0x10; /* 268 MB */
	ck_assert_int_eq(probe(APP_MONGODB, &seg), APP_NO);
	memcpy(b, mongo_msg, sizeof(b));
	b[17] = 0x01; /* unknown flag bit 8 */
	ck_assert_int_eq(probe(APP_MONGODB, &seg), APP_NO);
	memcpy(b, mongo_msg, sizeof(b));
	b[20] = 2; /* section kind 2 */
	ck_assert_int_eq(probe(APP_MONGODB, &seg), APP_NO);
	memcpy(b, mongo_msg, sizeof(b));
	b[25] = 0x20; /* BSON element type 0x20 */
	ck_assert_int_eq(probe(APP_MONGODB, &seg), APP_NO);
	memcpy(b, mongo_msg, sizeof(b));
	b[8] = 1; /* a request that answers something */
	ck_assert_int_eq(probe(APP_MONGODB, &seg), APP_NO);
	/* the header and flags alone are a maybe */
	memcpy(b, mongo_msg, sizeof(b));
	seg.len = 18;
	ck_assert_int_eq(probe(APP_MONGODB, &seg), APP_MAYBE);
}
END_TEST

START_TEST(test_kafka_header)
{
	uint8_t b[sizeof(kafka_api_versions)];
	struct app_segment seg = seg_of(sample_named("kafka_api_versions"), sizeof(b));

	seg.data = b;
	memcpy(b, kafka_api_versions, sizeof(b));
	b[5] = 200; /* api_key 200 */
	ck_assert_int_eq(probe(APP_KAFKA, &seg), APP_NO);
	memcpy(b, kafka_api_versions, sizeof(b));
	b[7] = 99; /* api_version 99 */
	ck_assert_int_eq(probe(APP_KAFKA, &seg), APP_NO);
	memcpy(b, kafka_api_versions, sizeof(b));
	b[13] = 40; /* client_id longer than the request */
	ck_assert_int_eq(probe(APP_KAFKA, &seg), APP_NO);
	memcpy(b, kafka_api_versions, sizeof(b));
	b[15] = 0x07; /* control byte in the client_id */
	ck_assert_int_eq(probe(APP_KAFKA, &seg), APP_NO);
	memcpy(b, kafka_api_versions, sizeof(b));
	seg.from_client = false;
	ck_assert_int_eq(probe(APP_KAFKA, &seg), APP_NO);
}
END_TEST

START_TEST(test_ntp_direction_and_fields)
{
	uint8_t b[48];
	struct app_segment seg = seg_of(sample_named("ntp_chrony_reply"), sizeof(b));

	seg.data = b;
	memcpy(b, ntp_chrony_reply, sizeof(b));
	ck_assert_int_eq(probe(APP_NTP, &seg), APP_YES);
	seg.from_client = true; /* a server reply from the client */
	ck_assert_int_eq(probe(APP_NTP, &seg), APP_NO);
	seg.from_client = false;
	b[0] = 0x2c; /* version 5 */
	ck_assert_int_eq(probe(APP_NTP, &seg), APP_NO);
	memcpy(b, ntp_chrony_reply, sizeof(b));
	b[1] = 17; /* stratum 17 */
	ck_assert_int_eq(probe(APP_NTP, &seg), APP_NO);
	memcpy(b, ntp_chrony_reply, sizeof(b));
	b[8] = 1; /* root dispersion of 4.5 minutes */
	ck_assert_int_eq(probe(APP_NTP, &seg), APP_NO);
	/* 48 bytes and a 20-byte MAC; 48 and 10 loose bytes */
	{
		uint8_t m[68] = { 0 };
		struct app_segment ms = seg;

		memcpy(m, ntp_chrony_reply, 48);
		ms.data = m;
		ms.len = 68;
		ck_assert_int_eq(probe(APP_NTP, &ms), APP_YES);
		ms.len = 60;
		ck_assert_int_eq(probe(APP_NTP, &ms), APP_NO);
	}
	/* NTP over TCP is not NTP */
	seg = seg_of(sample_named("ntp_sntp_request"), 48);
	seg.transport = T;
	ck_assert_int_ne(identify_seg(&seg, NULL), APP_NTP);
}
END_TEST

/* DHCPv6 needs its ports as support; DHCPv4 stands on its bytes */
START_TEST(test_dhcp_ports)
{
	struct app_segment seg = seg_of(sample_named("dhcp6_solicit"), sizeof(dhcp6_solicit));
	uint8_t b[sizeof(dhcp_discover)];

	seg.client_port = 40000;
	seg.server_port = 5000;
	ck_assert_int_eq(probe(APP_DHCP, &seg), APP_NO);
	seg = seg_of(sample_named("dhcp_discover"), sizeof(dhcp_discover));
	seg.client_port = 40000;
	seg.server_port = 5000;
	ck_assert_int_eq(probe(APP_DHCP, &seg), APP_YES);
	seg.data = b;
	memcpy(b, dhcp_discover, sizeof(b));
	b[236] = 0; /* no magic cookie: plain BOOTP is not taken */
	ck_assert_int_eq(probe(APP_DHCP, &seg), APP_NO);
	memcpy(b, dhcp_discover, sizeof(b));
	b[2] = 16; /* hardware address of 16 bytes */
	ck_assert_int_eq(probe(APP_DHCP, &seg), APP_NO);
	/* an option running past the datagram */
	memcpy(b, dhcp_discover, sizeof(b));
	memset(b + 240, 0, sizeof(b) - 240);
	b[sizeof(b) - 2] = 12;
	b[sizeof(b) - 1] = 20;
	ck_assert_int_eq(probe(APP_DHCP, &seg), APP_NO);
}
END_TEST

/* Two parsers accept "get k": neither is named before the answer (test_answer_decides_between). */
START_TEST(test_engine_priority)
{
	struct app_segment seg = text("get user:1\r\n", T, true);

	ck_assert_int_eq(probe(APP_MEMCACHED, &seg), APP_YES);
	ck_assert_int_eq(probe(APP_REDIS, &seg), APP_YES);
	ck_assert_int_eq(identify_seg(&seg, NULL), -1);
	/* the HTTP/2 preface is HTTP/2, never HTTP */
	seg = seg_of(sample_named("h2_preface"), 24);
	ck_assert_int_eq(identify_seg(&seg, NULL), APP_HTTP2);
	/* an HTTP request line is HTTP, though Redis knows the verb GET */
	seg = seg_of(sample_named("http_get"), sizeof(http_get));
	ck_assert_int_eq(identify_seg(&seg, NULL), APP_HTTP);
}
END_TEST

START_TEST(test_engine_no_candidates)
{
	static const uint8_t junk[64] = { 0xff, 0xfe, 0xfd, 0xfc };
	struct app_segment seg = { .data = junk, .len = sizeof(junk), .transport = T };
	struct app_state st;
	struct app_info info;

	app_state_init(&st, T);
	ck_assert(app_feed(&st, &seg, &info));
	ck_assert(st.done);
	ck_assert_int_eq(st.app, APP_UNKNOWN);
	ck_assert_uint_eq(st.candidates, 0);
	ck_assert_str_eq(info.sni, "");
	/* done stays done: a later HTTP request changes nothing */
	seg = seg_of(sample_named("http_get"), sizeof(http_get));
	ck_assert(app_feed(&st, &seg, &info));
	ck_assert_int_eq(st.app, APP_UNKNOWN);
}
END_TEST

START_TEST(test_engine_segment_limit)
{
	struct app_segment g = text("G", T, true), http = seg_of(&samples[0], sizeof(http_get));
	struct app_state st;
	struct app_info info;

	/* APP_MAX_SEGMENTS maybes from each side end in unknown */
	app_state_init(&st, T);
	for (int i = 0; i < 2 * APP_MAX_SEGMENTS; i++) {
		g.from_client = i % 2 == 0;
		ck_assert_msg(app_feed(&st, &g, &info) == (i == 2 * APP_MAX_SEGMENTS - 1), "%d", i);
	}
	ck_assert_int_eq(st.app, APP_UNKNOWN);
	ck_assert_uint_eq(st.seen[0], APP_MAX_SEGMENTS);
	ck_assert_uint_eq(st.seen[1], APP_MAX_SEGMENTS);

	/* past the limit in one direction a segment is not probed any more */
	app_state_init(&st, T);
	g.from_client = true;
	for (int i = 0; i < APP_MAX_SEGMENTS; i++)
		ck_assert(!app_feed(&st, &g, &info));
	ck_assert(!app_feed(&st, &http, &info));
	ck_assert(!st.done);
	/* a one-way flow ends after twice the limit */
	for (int i = APP_MAX_SEGMENTS + 1; i < 2 * APP_MAX_SEGMENTS - 1; i++)
		ck_assert(!app_feed(&st, &g, &info));
	ck_assert(app_feed(&st, &g, &info));
	ck_assert_int_eq(st.app, APP_UNKNOWN);

	/* within the limit, the last segment can still decide */
	app_state_init(&st, T);
	for (int i = 0; i < APP_MAX_SEGMENTS - 1; i++)
		ck_assert(!app_feed(&st, &g, &info));
	ck_assert(app_feed(&st, &http, &info));
	ck_assert_int_eq(st.app, APP_HTTP);
}
END_TEST

START_TEST(test_engine_transports)
{
	const uint16_t udp_only = 1u << APP_DNS | 1u << APP_NTP | 1u << APP_DHCP;
	struct app_state st;
	struct app_segment seg;

	app_state_init(&st, U);
	ck_assert_uint_eq(st.candidates, udp_only);
	ck_assert(!st.done);
	app_state_init(&st, T);
	ck_assert(!(st.candidates & (1u << APP_NTP | 1u << APP_DHCP)));
	ck_assert(st.candidates & (1u << APP_DNS | 1u << APP_HTTP | 1u << APP_TLS));
	ck_assert_uint_eq(__builtin_popcount(st.candidates), APP_MAX - 1 - 2);
	app_state_init(&st, IPPROTO_ICMP);
	ck_assert(st.done);
	ck_assert_int_eq(st.app, APP_UNKNOWN);

	/* the same bytes over the other transport */
	seg = seg_of(sample_named("dns_udp_query"), sizeof(dns_udp_query));
	seg.transport = T;
	ck_assert_int_ne(identify_seg(&seg, NULL), APP_DNS);
	seg = seg_of(sample_named("dns_tcp_query"), sizeof(dns_tcp_query));
	seg.transport = U;
	ck_assert_int_ne(identify_seg(&seg, NULL), APP_DNS);
	seg = seg_of(sample_named("dhcp_discover"), sizeof(dhcp_discover));
	seg.transport = T;
	ck_assert_int_ne(identify_seg(&seg, NULL), APP_DHCP);
	seg = seg_of(sample_named("redis_set"), sizeof(redis_set));
	seg.transport = U;
	ck_assert_int_eq(identify_seg(&seg, NULL), APP_UNKNOWN);
}
END_TEST

/* a whole exchange, segment by segment, as the data plane feeds it */
START_TEST(test_engine_conversation)
{
	static const char *const order[] = { "mysql_greeting", "mysql_login" };
	struct app_state st;
	struct app_info info;
	struct app_segment seg;

	app_state_init(&st, T);
	for (size_t i = 0; i < N(order); i++) {
		seg = seg_of(sample_named(order[i]), sample_named(order[i])->len);
		if (app_feed(&st, &seg, &info))
			break;
	}
	ck_assert(st.done);
	ck_assert_int_eq(st.app, APP_MYSQL);
	ck_assert_uint_eq(st.seen[1], 1);
	ck_assert_uint_eq(st.seen[0], 0);
}
END_TEST

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* a client's first bytes, then the server's answer: the app, or -1 while not done */
static int converse(const struct app_segment *client, const struct app_segment *server)
{
	struct app_state st;
	struct app_info info;

	app_state_init(&st, client->transport);
	if (app_feed(&st, client, &info))
		return st.app;
	if (!app_feed(&st, server, &info))
		return -1;
	return st.app;
}

/* text exchanges of the protocols whose server's answer decides */
static const struct {
	const char *client, *server;
	enum app_proto app;
} answered[] = {
	{ "PING\r\n", "+PONG\r\n", APP_REDIS },
	{ "ping\r\n", "-NOAUTH Authentication required.\r\n", APP_REDIS },
	{ "GET x\r\n", "$-1\r\n", APP_REDIS },
	{ "hello\r\n", "-NOPROTO unsupported protocol version\r\n", APP_REDIS },
	{ "*1\r\n$4\r\nPING\r\n", "+PONG\r\n", APP_REDIS },
	{ "*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n", "*1\r\n$1\r\nk\r\n", APP_REDIS },
	{ "get k\r\n", "END\r\n", APP_MEMCACHED },
	{ "set k 0 0 5\r\nhello\r\n", "STORED\r\n", APP_MEMCACHED },
	{ "version\r\n", "VERSION 1.6.21\r\n", APP_MEMCACHED },
	{ "stats\r\n", "STAT pid 1\r\nSTAT uptime 9\r\nEND\r\n", APP_MEMCACHED },
};

/* The client's bytes alone name nothing; a real answer names the protocol. */
START_TEST(test_answer_confirms)
{
	struct app_segment c = text(answered[_i].client, T, true);
	struct app_segment s = text(answered[_i].server, T, false);

	ck_assert_msg(identify_seg(&c, NULL) == -1, "%s: named without an answer",
		      answered[_i].client);
	ck_assert_msg(converse(&c, &s) == (int)answered[_i].app, "%s / %s: %d", answered[_i].client,
		      answered[_i].server, converse(&c, &s));
}
END_TEST

/* The same client bytes answered by something else are not that protocol. */
START_TEST(test_answer_refutes)
{
	static const char *const wrong[] = { "hello back\r\n", "+OK POP3 server ready\r\n",
					     "220 mail.example ESMTP\r\n",
					     "HTTP/1.1 400 Bad Request\r\n\r\n" };
	struct app_segment c = text(answered[_i].client, T, true);

	for (size_t i = 0; i < N(wrong); i++) {
		struct app_segment s = text(wrong[i], T, false);
		int app = converse(&c, &s);

		ck_assert_msg(app == -1 || app == APP_UNKNOWN || app == APP_HTTP, "%s / %s: %s",
			      answered[_i].client, wrong[i], app_name(app));
		ck_assert_msg(app != (int)answered[_i].app, "%s / %s", answered[_i].client,
			      wrong[i]);
	}
}
END_TEST

/* The recorded memcached and Redis exchanges, binary included: named on the answer. */
START_TEST(test_answer_samples)
{
	static const char *const pairs[][2] = {
		{ "redis_set", "redis_ok" },
		{ "redis_get", "redis_bulk" },
		{ "memcached_set", "memcached_stored" },
		{ "memcached_get", "memcached_value" },
		{ "memcached_bin_version", "memcached_bin_version_reply" },
	};

	for (size_t i = 0; i < N(pairs); i++) {
		const struct sample *c = sample_named(pairs[i][0]), *s = sample_named(pairs[i][1]);
		struct app_segment cs = seg_of(c, c->len), ss = seg_of(s, s->len);

		ck_assert_msg(identify_seg(&cs, NULL) == -1, "%s alone", c->name);
		ck_assert_msg(identify_seg(&ss, NULL) == -1, "%s alone", s->name);
		ck_assert_msg(converse(&cs, &ss) == (int)c->app, "%s", c->name);
	}
}
END_TEST

/*
 * The negative controls: a text "hello" answered by "hello back"
 * on a high port, random bytes both ways to TCP 80 and 443, random
 * datagrams to UDP 53: unknown.
 */
START_TEST(test_answer_negative_controls)
{
	static const uint16_t tcp_ports[] = { 80, 443 };
	static uint8_t buf[2][512];
	struct app_segment c = text("hello\r\n", T, true), s = text("hello back\r\n", T, false);
	struct app_state st;
	struct app_info info;

	c.server_port = s.server_port = 40001;
	ck_assert_int_eq(converse(&c, &s), APP_UNKNOWN);
	rng_state = 0x2545f4914f6cdd1dull;
	for (int n = 0; n < 3000; n++) {
		uint8_t tr = n % 3 == 2 ? U : T;

		for (int d = 0; d < 2; d++)
			for (size_t i = 0; i < sizeof(buf[d]); i++)
				buf[d][i] = (uint8_t)rng();
		c = (struct app_segment){ .data = buf[0],
					  .len = 1 + rng() % sizeof(buf[0]),
					  .transport = tr,
					  .from_client = true,
					  .client_port = (uint16_t)(32768 + rng() % 28000),
					  .server_port = tr == U ? 53 : tcp_ports[n % 2] };
		s = c;
		s.data = buf[1];
		s.len = 1 + rng() % sizeof(buf[1]);
		s.from_client = false;
		app_state_init(&st, tr);
		for (int k = 0; k < APP_MAX_SEGMENTS && !st.done; k++) {
			app_feed(&st, &c, &info);
			app_feed(&st, &s, &info);
		}
		ck_assert_msg(st.app == APP_UNKNOWN, "random flow %d to %s/%u: %s", n,
			      tr == U ? "udp" : "tcp", c.server_port, app_name(st.app));
	}
}
END_TEST

/* "get k" fits memcached and Redis: the answer tells which. */
START_TEST(test_answer_decides_between)
{
	struct app_segment c = text("get user:1\r\n", T, true);
	struct app_segment end = text("END\r\n", T, false), nil = text("$-1\r\n", T, false);

	ck_assert_int_eq(converse(&c, &end), APP_MEMCACHED);
	ck_assert_int_eq(converse(&c, &nil), APP_REDIS);
}
END_TEST

/* A server that speaks first with a Redis-like line is not Redis on that alone. */
START_TEST(test_answer_server_first)
{
	struct app_segment s = text("+OK\r\n", T, false), c = text("PING\r\n", T, true);
	struct app_state st;
	struct app_info info;

	app_state_init(&st, T);
	ck_assert(!app_feed(&st, &s, &info));
	ck_assert(app_feed(&st, &c, &info));
	ck_assert_int_eq(st.app, APP_REDIS);
	s = text("STORED\r\n", T, false);
	ck_assert_int_eq(identify_seg(&s, NULL), -1);
}
END_TEST

/*
 * A client whose server never answers ends unknown within the limits: a
 * stream at APP_STREAM_BYTES, segments after APP_MAX_SEGMENTS each way.
 * A stream cut anywhere, answer cut anywhere, still reads as Redis.
 */
START_TEST(test_answer_bounded)
{
	static char big[APP_STREAM_BYTES + 16];
	struct app_segment c = text("PING\r\n", T, true), s;
	struct app_state st;
	struct app_info info;
	size_t n = 0;

	while (n + 6 <= sizeof(big))
		memcpy(big + n, "PING\r\n", 6), n += 6;
	app_state_init(&st, T);
	c.stream = true;
	ck_assert(!app_feed(&st, &c, &info));
	c.data = (const uint8_t *)big;
	c.len = APP_STREAM_BYTES - 2;
	ck_assert(!app_feed(&st, &c, &info));
	c.len = APP_STREAM_BYTES;
	ck_assert(app_feed(&st, &c, &info));
	ck_assert_int_eq(st.app, APP_UNKNOWN);

	app_state_init(&st, T);
	c = text("PING\r\n", T, true);
	for (int i = 0; i < 2 * APP_MAX_SEGMENTS - 1; i++)
		ck_assert_msg(!app_feed(&st, &c, &info), "%d", i);
	ck_assert(app_feed(&st, &c, &info));
	ck_assert_int_eq(st.app, APP_UNKNOWN);

	for (size_t cut = 1; cut < 6; cut++) {
		app_state_init(&st, T);
		c = text("PING\r\n", T, true);
		c.stream = true;
		c.len = cut;
		ck_assert(!app_feed(&st, &c, &info));
		c.len = 6;
		ck_assert(!app_feed(&st, &c, &info));
		s = text("+PONG\r\n", T, false);
		s.stream = true;
		s.len = cut;
		ck_assert(!app_feed(&st, &s, &info));
		s.len = 7;
		ck_assert(app_feed(&st, &s, &info));
		ck_assert_int_eq(st.app, APP_REDIS);
	}
}
END_TEST

/*
 * Random payloads (fixed seed), up to APP_MAX_SEGMENTS each way, on the
 * standard ports of every protocol: never identified.  Half of them are
 * printable text, which the text protocols see most.
 */
START_TEST(test_random_not_identified)
{
	static const uint16_t ports[] = { 80,	 443,	22,   53,  3306, 5432, 6379,
					  11211, 27017, 9092, 123, 67,	 546,  547 };
	static uint8_t buf[1500];

	rng_state = 0x9e3779b97f4a7c15ull;
	for (int n = 0; n < 20000; n++) {
		struct app_state st;
		struct app_info info;
		uint8_t tr = n % 2 ? T : U;
		bool printable = n % 4 >= 2;
		struct app_segment seg = { .data = buf,
					   .transport = tr,
					   .client_port = (uint16_t)(32768 + rng() % 28000),
					   .server_port = ports[rng() % N(ports)] };

		app_state_init(&st, tr);
		for (int s = 0; s < 2 * APP_MAX_SEGMENTS && !st.done; s++) {
			seg.len = 1 + rng() % (rng() % 4 ? 64 : sizeof(buf));
			for (size_t i = 0; i < seg.len; i++)
				buf[i] = printable ? (uint8_t)(0x20 + rng() % 95) : (uint8_t)rng();
			seg.from_client = s % 2 == 0;
			app_feed(&st, &seg, &info);
		}
		ck_assert_msg(!st.done || st.app == APP_UNKNOWN, "random flow %d identified as %s",
			      n, app_name(st.app));
	}
}
END_TEST

static Suite *app_suite(void)
{
	Suite *s = suite_create("app");
	TCase *tc = tcase_create("samples");
	TCase *pa = tcase_create("parsers");
	TCase *en = tcase_create("engine");

	tcase_add_loop_test(tc, test_samples_identified, 0, N(samples));
	tcase_add_loop_test(tc, test_own_probe_says_yes, 0, N(samples));
	tcase_add_loop_test(tc, test_others_reject, 0, N(samples));
	tcase_add_loop_test(tc, test_truncated_never_other, 0, N(samples));
	tcase_add_test(tc, test_truncated_datagrams);
	suite_add_tcase(s, tc);

	tcase_add_test(pa, test_sni_exact);
	tcase_add_test(pa, test_tls_cut_client_hello);
	tcase_add_test(pa, test_tls_malformed);
	tcase_add_test(pa, test_tls_sni_hostile);
	tcase_add_test(pa, test_http_lines);
	tcase_add_test(pa, test_http_long_request_line);
	tcase_add_test(pa, test_ssh_banners);
	tcase_add_test(pa, test_dns_malformed);
	tcase_add_test(pa, test_dns_tcp_split_prefix);
	tcase_add_test(pa, test_mysql_variants);
	tcase_add_test(pa, test_postgresql_requests);
	tcase_add_test(pa, test_redis_forms);
	tcase_add_test(pa, test_memcached_syntax);
	tcase_add_test(pa, test_mongodb_header);
	tcase_add_test(pa, test_kafka_header);
	tcase_add_test(pa, test_ntp_direction_and_fields);
	tcase_add_test(pa, test_dhcp_ports);
	suite_add_tcase(s, pa);

	tcase_set_timeout(en, 60);
	tcase_add_test(en, test_engine_priority);
	tcase_add_test(en, test_engine_no_candidates);
	tcase_add_test(en, test_engine_segment_limit);
	tcase_add_test(en, test_engine_transports);
	tcase_add_test(en, test_engine_conversation);
	tcase_add_test(en, test_random_not_identified);
	tcase_add_loop_test(en, test_answer_confirms, 0, N(answered));
	tcase_add_loop_test(en, test_answer_refutes, 0, N(answered));
	tcase_add_test(en, test_answer_samples);
	tcase_add_test(en, test_answer_negative_controls);
	tcase_add_test(en, test_answer_decides_between);
	tcase_add_test(en, test_answer_server_first);
	tcase_add_test(en, test_answer_bounded);
	suite_add_tcase(s, en);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(app_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
