// SPDX-License-Identifier: Apache-2.0
/*
 * dp/flow/inspect.c with TCP streams: identification and the detectors
 * read a direction's bytes in order, however the sender cut them.  A TLS
 * ClientHello cut before its server_name, an HTTP method cut in two, SQL
 * injection cut inside UNION SELECT, segments out of order and sent
 * again, overlaps that agree and one that does not, an SSH-1 line cut in
 * three, an SSLv2-format hello, and what a fwd and a tap port do past
 * the window.
 */
#include <check.h>
#include <string.h>

#include "inspect_env.h"
#include "dp/threat/threat.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-const-variable"
#include "app_samples.h"
#pragma GCC diagnostic pop

static const char *const SQLI_DROP =
	"{\"default\": \"allow\", \"threats\": {\"actions\": {\"sql_injection\": \"drop\"}}}";

/* Data from a to b: at seq when at, else where the direction goes on. */
static enum inspect_verdict data_to(const struct ep *a, const struct ep *b, const void *d,
				    size_t len, bool at, uint32_t seq)
{
	send_tcp(a, b,
		 &(struct seg){ .flags = TCPF_ACK | TCPF_PSH,
				.win = 502,
				.data = d,
				.len = len,
				.at = at,
				.seq = seq },
		 2 * SEC);
	return last.verdict;
}

static enum inspect_verdict data(const struct ep *a, const struct ep *b, const char *s)
{
	return data_to(a, b, s, strlen(s), false, 0);
}

/* The ClientHello in two segments, cut anywhere: TLS with its SNI, found once whole. */
START_TEST(test_tls_sni_cut)
{
	static const size_t cuts[] = { 3, 20, 100, 146, 150, 170, sizeof(tls13_client_hello) - 1 };
	const struct ep srv = { SRV.ip, 443, MAC_FWD };

	env_up(ALLOW, false);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		const struct ep c = { CLI.ip, (uint16_t)(41000 + i), MAC_EXT };

		handshake(&c, &srv, SEC);
		data_to(&c, &srv, tls13_client_hello, cuts[i], false, 0);
		ck_assert_msg(!last.session->app.done, "cut at %zu: identified too soon", cuts[i]);
		data_to(&c, &srv, tls13_client_hello + cuts[i],
			sizeof(tls13_client_hello) - cuts[i], false, 0);
		ck_assert_int_eq(last.session->app.app, APP_TLS);
		ck_assert_ptr_nonnull(last.session->sni);
		ck_assert_str_eq(last.session->sni, "x.example");
	}
	env_down();
}
END_TEST

/* "GE" + "T / HTTP/1.1...": http, at a fwd and at a tap port. */
START_TEST(test_http_method_cut)
{
	const struct ep *srvs[] = { &SRV, &TAP_SRV };

	env_up(ALLOW, false);
	for (size_t i = 0; i < 2; i++) {
		const struct ep c = { CLI.ip, (uint16_t)(42000 + i), MAC_EXT };

		handshake(&c, srvs[i], SEC);
		data(&c, srvs[i], "GE");
		ck_assert(!last.session->app.done);
		data(&c, srvs[i], "T / HTTP/1.1\r\nHost: a\r\n\r\n");
		ck_assert_int_eq(last.session->app.app, APP_HTTP);
	}
	ck_assert_uint_eq(in.st.app_found[APP_HTTP], 2);
	env_down();
}
END_TEST

/*
 * SQL injection cut inside UNION SELECT, in the query and in a form body:
 * found, and in fwd the segment that completes it is the one dropped.
 */
START_TEST(test_sqli_cut_in_union)
{
	const struct ep c = { CLI.ip, 43000, MAC_EXT }, c2 = { CLI.ip, 43001, MAC_EXT };
	char line[4096];

	env_up(SQLI_DROP, true);
	handshake(&c, &SRV, SEC);
	ck_assert_int_eq(data(&c, &SRV, "GET /item?id=1+UNI"), INSPECT_PASS);
	ck_assert_int_eq(threat_lines("sql_injection", line, sizeof(line)), 0);
	ck_assert_int_eq(
		data(&c, &SRV, "ON+SELECT+password+FROM+users HTTP/1.1\r\nHost: a\r\n\r\n"),
		INSPECT_DROP);
	ck_assert(last.reset);
	ck_assert_int_eq(threat_lines("sql_injection", line, sizeof(line)), 1);
	/* identified at once, the injection cut in the body */
	handshake(&c2, &SRV, SEC);
	ck_assert_int_eq(data(&c2, &SRV,
			      "POST /login HTTP/1.1\r\nHost: a\r\n"
			      "Content-Type: application/x-www-form-urlencoded\r\n"
			      "Content-Length: 42\r\n\r\nuser=1+UNI"),
			 INSPECT_PASS);
	ck_assert_int_eq(last.session->app.app, APP_HTTP);
	ck_assert_int_eq(data(&c2, &SRV, "ON+SELECT+password+FROM+users--"), INSPECT_DROP);
	ck_assert_int_eq(threat_lines("sql_injection", line, sizeof(line)), 2);
	ck_assert_uint_eq(in.st.threats[THREAT_SQL_INJECTION], 2);
	env_down();
}
END_TEST

/*
 * Out of order: the third piece is held, the second fills the gap and the
 * whole is read in order (the injection found on the filling segment); a
 * retransmission is not read again.
 */
START_TEST(test_out_of_order)
{
	static const char a[] = "GET /item?id=1+UNI", b[] = "ON+SELECT+password",
			  z[] = "+FROM+users HTTP/1.1\r\nHost: a\r\n\r\n";
	const struct ep c = { CLI.ip, 44000, MAC_EXT };
	uint32_t base;
	char line[4096];

	env_up(SQLI_DROP, true);
	handshake(&c, &SRV, SEC);
	base = seq_next(&c, &SRV);
	ck_assert_int_eq(data_to(&c, &SRV, a, strlen(a), true, base), INSPECT_PASS);
	ck_assert_int_eq(data_to(&c, &SRV, z, strlen(z), true, base + strlen(a) + strlen(b)),
			 INSPECT_PASS);
	ck_assert_uint_eq(in.st.stream_held, 1);
	ck_assert(!last.session->app.done);
	/* the first piece again: nothing new */
	ck_assert_int_eq(data_to(&c, &SRV, a, strlen(a), true, base), INSPECT_PASS);
	ck_assert_uint_eq(in.st.stream_dup, 1);
	ck_assert_int_eq(threat_lines("sql_injection", line, sizeof(line)), 0);
	ck_assert_int_eq(data_to(&c, &SRV, b, strlen(b), true, base + strlen(a)), INSPECT_DROP);
	ck_assert_int_eq(last.session->app.app, APP_HTTP);
	ck_assert_int_eq(threat_lines("sql_injection", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "UNION"));
	env_down();
}
END_TEST

/*
 * Overlaps: resent bytes that agree, with new ones after them, are only
 * counted (tcp_overlap); resent bytes with other content are
 * tcp_overlap_conflict, the first data stays what is read, and at a fwd
 * port the segment is dropped (a tap copy is only reported).
 */
START_TEST(test_overlap_conflict)
{
	static const char first[] = "GET /index.html HTTP/1.1\r\n";
	static const char agree[] = "html HTTP/1.1\r\nHost: a\r\n";
	static const char other[] = "GET /admin.html HTTP/1.1\r\n";
	const struct ep *srvs[] = { &SRV, &TAP_SRV };
	char line[4096];

	env_up(ALLOW, true);
	for (size_t i = 0; i < 2; i++) {
		const struct ep c = { CLI.ip, (uint16_t)(45000 + i), MAC_EXT };
		uint32_t base;

		handshake(&c, srvs[i], SEC);
		base = seq_next(&c, srvs[i]);
		data_to(&c, srvs[i], first, strlen(first), true, base);
		ck_assert_int_eq(last.session->app.app, APP_HTTP);
		ck_assert_int_eq(data_to(&c, srvs[i], agree, strlen(agree), true, base + 11),
				 INSPECT_PASS);
		ck_assert_uint_eq(in.st.tcp_overlap, i + 1);
		ck_assert_int_eq(threat_lines("tcp_overlap_conflict", line, sizeof(line)), (int)i);
		ck_assert_int_eq(data_to(&c, srvs[i], other, strlen(other), true, base),
				 i == 0 ? INSPECT_DROP : INSPECT_PASS);
		ck_assert_int_eq(threat_lines("tcp_overlap_conflict", line, sizeof(line)),
				 (int)i + 1);
		ck_assert_ptr_nonnull(strstr(line, "\"severity\":\"medium\""));
	}
	ck_assert_uint_eq(in.st.threats[THREAT_TCP_OVERLAP_CONFLICT], 2);
	ck_assert_uint_eq(in.st.stream_conflict_dropped, 1);
	env_down();
}
END_TEST

/*
 * What Linux does with out-of-order data: a later segment from the same
 * start that covers a queued one replaces it.  At a fwd port the later
 * one, with other bytes, never reaches the receiver; the session goes on
 * with the bytes that were read.
 */
START_TEST(test_overlap_conflict_held)
{
	static const char head[] = "GET /";
	static const char held[] = "index.html HTTP/1.1\r\n";
	static const char cover[] = "admin.html HTTP/1.1\r\nX: yy\r\n";
	static const char gap[] = "abc";
	const struct ep c = { CLI.ip, 45100, MAC_EXT };
	uint32_t base;

	env_up(ALLOW, true);
	handshake(&c, &SRV, SEC);
	base = seq_next(&c, &SRV);
	data_to(&c, &SRV, head, strlen(head), true, base);
	/* held after a gap of three bytes, then covered from its start */
	ck_assert_int_eq(data_to(&c, &SRV, held, strlen(held), true, base + 8), INSPECT_PASS);
	ck_assert_uint_eq(in.st.stream_held, 1);
	ck_assert_int_eq(data_to(&c, &SRV, cover, strlen(cover), true, base + 8), INSPECT_DROP);
	ck_assert_uint_eq(in.st.stream_conflict_dropped, 1);
	/* the gap fills: the stream reads on, the session lives */
	ck_assert_int_eq(data_to(&c, &SRV, gap, strlen(gap), true, base + 5), INSPECT_PASS);
	ck_assert_int_ne(last.session->verdict, VERDICT_DENY);
	env_down();
}
END_TEST

/* An SSH-1 identification line cut in three, after a text line: ssh_v1. */
START_TEST(test_ssh_line_cut)
{
	const struct ep c = { CLI.ip, 47000, MAC_EXT }, srv = { SRV.ip, 22, MAC_FWD };
	char line[4096];

	env_up(ALLOW, true);
	handshake(&c, &srv, SEC);
	data(&srv, &c, "SSH-1.5-Open");
	ck_assert_int_eq(last.session->app.app, APP_SSH);
	ck_assert_int_eq(threat_lines("ssh_v1", line, sizeof(line)), 0);
	data(&srv, &c, "SSH_3.");
	ck_assert_int_eq(threat_lines("ssh_v1", line, sizeof(line)), 0);
	data(&srv, &c, "0\r\n");
	ck_assert_int_eq(threat_lines("ssh_v1", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "SSH-1.5-OpenSSH_3.0"));
	env_down();
}
END_TEST

/*
 * Past the window: at a fwd port the segment is dropped, to come again,
 * and the stream goes on; at a tap port it may never come again, so the
 * stream starts over after the gap and identification, its start lost,
 * ends unknown.  Both counted.
 */
START_TEST(test_window_limit)
{
	static const char x[] = "xxxxxxxx";
	const struct ep c = { CLI.ip, 46000, MAC_EXT }, tc = { CLI.ip, 46001, MAC_EXT };
	uint32_t base;

	env_up(ALLOW, true);
	ck_assert_int_eq(inspect_stream_set(&in, NULL, 64), 0);
	handshake(&c, &SRV, SEC);
	base = seq_next(&c, &SRV);
	ck_assert_int_eq(data_to(&c, &SRV, "GET /", 5, true, base), INSPECT_PASS);
	ck_assert_int_eq(data_to(&c, &SRV, x, sizeof(x) - 1, true, base + 200), INSPECT_DROP);
	ck_assert_uint_eq(in.st.stream_refused, 1);
	ck_assert_uint_eq(in.st.stream_refused_dropped, 1);
	ck_assert_int_eq(last.session->verdict, VERDICT_ALLOW);
	ck_assert_int_eq(data_to(&c, &SRV, "a HTTP/1.1\r\n\r\n", 15, true, base + 5), INSPECT_PASS);
	ck_assert_int_eq(last.session->app.app, APP_HTTP);
	/* tap */
	handshake(&tc, &TAP_SRV, SEC);
	base = seq_next(&tc, &TAP_SRV);
	ck_assert_int_eq(data_to(&tc, &TAP_SRV, "GET /", 5, true, base), INSPECT_PASS);
	ck_assert_int_eq(data_to(&tc, &TAP_SRV, x, sizeof(x) - 1, true, base + 200), INSPECT_PASS);
	ck_assert_uint_eq(in.st.stream_refused, 2);
	ck_assert_uint_eq(in.st.stream_refused_dropped, 1);
	ck_assert_uint_eq(in.st.stream_gaps_skipped, 1);
	ck_assert_uint_eq(in.st.stream_bytes_lost, 195);
	ck_assert(last.session->app.done);
	ck_assert_int_eq(last.session->app.app, APP_UNKNOWN);
	ck_assert_uint_eq(in.st.stream_unid_cut, 1);
	env_down();
}
END_TEST

/*
 * An SSLv2-format CLIENT-HELLO (a 2-byte record header), whole and cut
 * after 7 bytes: TLS, and tls_old_version reports it once.  Bytes with
 * the high bit set whose lengths do not add up are not TLS.
 */
START_TEST(test_sslv2_hello)
{
	uint8_t hello[2 + 9 + 21 + 16] = { 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00,
					   0x15, 0x00, 0x00, 0x00, 0x10 };
	const struct ep srv = { SRV.ip, 443, MAC_FWD };
	const struct ep c = { CLI.ip, 48000, MAC_EXT }, c2 = { CLI.ip, 48001, MAC_EXT },
			c3 = { CLI.ip, 48002, MAC_EXT };
	char line[4096];

	memset(hello + 11, 0x01, sizeof(hello) - 11);
	env_up(ALLOW, true);
	handshake(&c, &srv, SEC);
	data_to(&c, &srv, hello, sizeof(hello), false, 0);
	ck_assert_int_eq(last.session->app.app, APP_TLS);
	ck_assert_int_eq(threat_lines("tls_old_version", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "SSLv2-format ClientHello max TLS 1.0"));
	handshake(&c2, &srv, SEC);
	data_to(&c2, &srv, hello, 7, false, 0);
	ck_assert(!last.session->app.done);
	data_to(&c2, &srv, hello + 7, sizeof(hello) - 7, false, 0);
	ck_assert_int_eq(last.session->app.app, APP_TLS);
	ck_assert_int_eq(threat_lines("tls_old_version", line, sizeof(line)), 2);
	hello[1] = 0x2f;
	handshake(&c3, &srv, SEC);
	data_to(&c3, &srv, hello, sizeof(hello), false, 0);
	ck_assert_int_ne(last.session->app.app, APP_TLS);
	ck_assert_int_eq(threat_lines("tls_old_version", line, sizeof(line)), 2);
	env_down();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("stream");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_tls_sni_cut);
	tcase_add_test(tc, test_http_method_cut);
	tcase_add_test(tc, test_sqli_cut_in_union);
	tcase_add_test(tc, test_out_of_order);
	tcase_add_test(tc, test_overlap_conflict);
	tcase_add_test(tc, test_overlap_conflict_held);
	tcase_add_test(tc, test_ssh_line_cut);
	tcase_add_test(tc, test_window_limit);
	tcase_add_test(tc, test_sslv2_hello);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
