// SPDX-License-Identifier: Apache-2.0
/* dp/flow/session.c: the TCP state machine, pick-up mid-stream, expiry, the table bound. */
#include <check.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "frame_util.h"
#include "session_util.h"
#include "dp/flow/decode.h"
#include "dp/flow/session.h"

static int ended;
static void count_done(struct session *s, void *arg)
{
	ended++;
}

START_TEST(test_session_tcp_lifecycle)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session *s, *s2;
	struct frame f;
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(16, &to);
	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 80, TCPF_SYN, 100, 0, NULL);
	s = feed(t, &f, 1, &fc);
	ck_assert(fc);
	ck_assert_int_eq(s->tcp_state, TS_SYN_SENT);
	tcp4(&f, "10.0.0.2", 80, "10.0.0.3", 40000, TCPF_SYN | TCPF_ACK, 500, 101, NULL);
	s2 = feed(t, &f, 2, &fc);
	ck_assert_ptr_eq(s, s2); /* one entry for both directions */
	ck_assert(!fc);
	ck_assert_int_eq(s->tcp_state, TS_SYN_RECV);
	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 80, TCPF_ACK, 101, 501, NULL);
	feed(t, &f, 3, &fc);
	ck_assert_int_eq(s->tcp_state, TS_ESTABLISHED);
	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 80, TCPF_ACK | TCPF_FIN, 101, 501, NULL);
	feed(t, &f, 4, &fc);
	ck_assert_int_eq(s->tcp_state, TS_FIN_WAIT);
	tcp4(&f, "10.0.0.2", 80, "10.0.0.3", 40000, TCPF_ACK | TCPF_FIN, 501, 102, NULL);
	feed(t, &f, 5, &fc);
	ck_assert_int_eq(s->tcp_state, TS_CLOSING);
	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 80, TCPF_ACK, 102, 502, NULL);
	feed(t, &f, 6, &fc);
	ck_assert_int_eq(s->tcp_state, TS_CLOSED);
	ck_assert_uint_eq(s->pkts[0], 4);
	ck_assert_uint_eq(s->pkts[1], 2);
	/* closed sessions go after 5 s, not an hour */
	ended = 0;
	ck_assert_uint_eq(session_expire(t, 6 + 4000000000ULL, NULL, count_done, NULL), 0);
	ck_assert_uint_eq(session_expire(t, 6 + 5000000000ULL, NULL, count_done, NULL), 1);
	ck_assert_int_eq(ended, 1);
	session_table_free(t, NULL, NULL);
}
END_TEST

/* A session the kernel forwarded for (session bypass) is asked before it expires. */
static uint64_t seen_at;
static struct session *seen_only;
static uint64_t seen_elsewhere(struct session *s, void *arg)
{
	(void)arg;
	return s == seen_only ? seen_at : 0;
}

START_TEST(test_session_seen_elsewhere)
{
	const uint64_t sec = 1000000000ULL;
	struct session *s1, *s2;
	struct session_timeouts to;
	struct session_table *t;
	struct flow_key k1;
	struct frame f;
	bool fc;

	session_timeouts_default(&to); /* UDP: 60 s */
	t = session_table_new(16, &to);
	udp6(&f, "2001:db8::1", 5000, "2001:db8::2", 53, 17, NULL, 0, 8);
	s1 = feed(t, &f, 1 * sec, &fc);
	udp6(&f, "2001:db8::3", 5000, "2001:db8::2", 53, 17, NULL, 0, 8);
	s2 = feed(t, &f, 2 * sec, &fc);
	ck_assert_ptr_nonnull(s1);
	ck_assert_ptr_nonnull(s2);
	k1 = s1->key;
	/* s1 idle to us, but the kernel forwarded a frame of it at 50 s: it stays */
	seen_only = s1;
	seen_at = 50 * sec;
	ended = 0;
	ck_assert_uint_eq(session_expire(t, 70 * sec, seen_elsewhere, count_done, NULL), 1);
	ck_assert_int_eq(ended, 1); /* s2 went */
	ck_assert_ptr_eq(session_lookup(t, &k1), s1);
	ck_assert_uint_eq(s1->last_ns, 50 * sec);
	/* an answer older than the timeout does not save it */
	ck_assert_uint_eq(session_expire(t, 111 * sec, seen_elsewhere, count_done, NULL), 1);
	ck_assert_int_eq(ended, 2);
	ck_assert_ptr_null(session_lookup(t, &k1));
	session_table_free(t, NULL, NULL);
}
END_TEST

START_TEST(test_session_pickup_and_rst)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session *s;
	struct frame f;
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(16, &to);
	/* mid-stream, server to client first: the lower port is the server */
	tcp4(&f, "10.0.0.2", 443, "10.0.0.3", 51000, TCPF_ACK, 1, 1, "data");
	s = feed(t, &f, 1, &fc);
	ck_assert(s->picked_up);
	ck_assert(!fc);
	ck_assert_int_eq(s->tcp_state, TS_ESTABLISHED);
	tcp4(&f, "10.0.0.3", 51000, "10.0.0.2", 443, TCPF_RST, 1, 0, NULL);
	feed(t, &f, 2, &fc);
	ck_assert(fc);
	ck_assert_int_eq(s->tcp_state, TS_CLOSED);
	session_table_free(t, NULL, NULL);
}
END_TEST

START_TEST(test_session_bound_and_recycle)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session_stats st;
	struct frame f;
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(3, &to);
	for (int i = 0; i < 5; i++) {
		tcp4(&f, "10.0.0.3", (uint16_t)(1000 + i), "10.0.0.2", 80, TCPF_SYN, 0, 0, NULL);
		if (i < 3)
			ck_assert_ptr_nonnull(feed(t, &f, 1, &fc));
		else
			ck_assert_ptr_null(feed(t, &f, 1, &fc));
	}
	session_stats(t, &st);
	ck_assert_uint_eq(st.live, 3);
	ck_assert_uint_eq(st.table_full, 2);
	/* opening sessions expire after 30 s; their entries come back */
	ck_assert_uint_eq(session_expire(t, 31000000000ULL, NULL, NULL, NULL), 3);
	tcp4(&f, "10.0.0.3", 2000, "10.0.0.2", 80, TCPF_SYN, 0, 0, NULL);
	ck_assert_ptr_nonnull(feed(t, &f, 32000000000ULL, &fc));
	session_stats(t, &st);
	ck_assert_uint_eq(st.live, 1);
	session_table_free(t, NULL, NULL);
}
END_TEST

START_TEST(test_session_many)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session_stats st;
	struct frame f;
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(20000, &to);
	for (int i = 0; i < 20000; i++) {
		udp6(&f, "fd00::1", (uint16_t)(i + 1024), "fd00::2", 53, IPPROTO_UDP, NULL, 0, 4);
		ck_assert_ptr_nonnull(feed(t, &f, 1, &fc));
	}
	session_stats(t, &st);
	ck_assert_uint_eq(st.live, 20000);
	ended = 0;
	session_table_free(t, count_done, NULL);
	ck_assert_int_eq(ended, 20000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("session");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_session_tcp_lifecycle);
	tcase_add_test(tc, test_session_seen_elsewhere);
	tcase_add_test(tc, test_session_pickup_and_rst);
	tcase_add_test(tc, test_session_bound_and_recycle);
	tcase_add_test(tc, test_session_many);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
