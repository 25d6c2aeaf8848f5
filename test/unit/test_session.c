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

#define SEC 1000000000ULL

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

/* A UDP exchange of port sport with 10.0.0.2:53, both ways: a session nobody evicts. */
static struct session *udp_both_ways(struct session_table *t, uint16_t sport, uint64_t now)
{
	struct session *s;
	struct frame f;
	bool fc;

	udp4(&f, "10.0.0.3", sport, "10.0.0.2", 53, NULL, 0);
	s = feed(t, &f, now, &fc);
	if (!s)
		return NULL;
	udp4(&f, "10.0.0.2", 53, "10.0.0.3", sport, NULL, 0);
	ck_assert_ptr_eq(feed(t, &f, now, &fc), s);
	return s;
}

START_TEST(test_session_bound_and_recycle)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session_stats st;

	session_timeouts_default(&to);
	t = session_table_new(3, &to);
	for (int i = 0; i < 5; i++) {
		if (i < 3)
			ck_assert_ptr_nonnull(udp_both_ways(t, (uint16_t)(1000 + i), 1));
		else
			ck_assert_ptr_null(udp_both_ways(t, (uint16_t)(1000 + i), 1));
	}
	session_stats(t, &st);
	ck_assert_uint_eq(st.live, 3);
	ck_assert_uint_eq(st.table_full, 2);
	ck_assert_uint_eq(st.evicted, 0);
	/* UDP sessions expire after 60 s; their entries come back */
	ck_assert_uint_eq(session_expire(t, 61 * SEC, NULL, NULL, NULL), 3);
	ck_assert_ptr_nonnull(udp_both_ways(t, 2000, 62 * SEC));
	session_stats(t, &st);
	ck_assert_uint_eq(st.live, 1);
	session_table_free(t, NULL, NULL);
}
END_TEST

static struct flow_key evicted_last; /* the entry itself is reused at once */
static void note_evicted(struct session *s, void *arg)
{
	(void)arg;
	evicted_last = s->key;
	ended++;
}

/* Feed f, evictions to note_evicted. */
static struct session *feed_noting(struct session_table *t, const struct frame *f, uint64_t now)
{
	struct flow_key k;
	struct session *s;
	struct pkt p;
	bool a;

	ck_assert_int_eq(decode_frame(f->b, f->len, &p), DECODE_OK);
	ck_assert(session_key(&p, 0, &k, &a));
	s = session_lookup(t, &k);
	if (!s)
		s = session_create(t, &k, a, &p, now, note_evicted, NULL);
	if (s)
		session_update(t, s, &p, session_from_client(s, a), now);
	return s;
}

/*
 * The attack: bare ACKs with varied ports fill the table.  They
 * are picked up one-way, so a new flow evicts the least recently active
 * of them; established sessions stay; a table of nothing but two-way
 * sessions refuses new ones.
 */
START_TEST(test_session_evicts_what_one_sender_makes)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session_stats st;
	struct session *est, *s;
	struct frame f;
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(64, &to);
	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 22, TCPF_SYN, 100, 0, NULL);
	est = feed(t, &f, 1, &fc);
	tcp4(&f, "10.0.0.2", 22, "10.0.0.3", 40000, TCPF_SYN | TCPF_ACK, 500, 101, NULL);
	feed(t, &f, 2, &fc);
	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 22, TCPF_ACK, 101, 501, NULL);
	feed(t, &f, 3, &fc);
	ck_assert_int_eq(est->sclass, SC_TCP_ESTABLISHED);
	ended = 0;
	for (int i = 0; i < 400; i++) {
		tcp4(&f, "10.0.0.3", (uint16_t)(20000 + i), "10.0.0.99", 80, TCPF_ACK, 1, 1, NULL);
		s = feed_noting(t, &f, 10 + (uint64_t)i);
		ck_assert_ptr_nonnull(s);
		ck_assert(s->picked_up);
		ck_assert_int_eq(s->sclass, SC_TCP_PICKUP);
	}
	session_stats(t, &st);
	ck_assert_uint_eq(st.live, 64);
	ck_assert_uint_eq(st.evicted, 400 - 63);
	ck_assert_uint_eq(st.table_full, 0);
	ck_assert_int_eq(ended, 400 - 63);
	/* the established session was never a victim, and a new flow gets an entry */
	ck_assert_ptr_eq(session_lookup(t, &est->key), est);
	tcp4(&f, "10.0.0.3", 40001, "10.0.0.4", 5432, TCPF_SYN, 100, 0, NULL);
	ck_assert_ptr_nonnull(feed_noting(t, &f, 1000));
	/* the least recently active went: the ACK from port 20337 (the 338th) */
	ck_assert_uint_eq(evicted_last.port_a, 20000 + 400 - 63);
	session_table_free(t, NULL, NULL);
}
END_TEST

/* Least recently active first, across the evictable classes. */
START_TEST(test_session_evicts_least_recent)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session *syn, *udp, *ack, *s;
	struct frame f;

	session_timeouts_default(&to);
	t = session_table_new(3, &to);
	tcp4(&f, "10.0.0.3", 1001, "10.0.0.2", 80, TCPF_SYN, 0, 0, NULL);
	syn = feed_noting(t, &f, 1 * SEC);
	udp4(&f, "10.0.0.3", 1002, "10.0.0.2", 514, NULL, 4);
	udp = feed_noting(t, &f, 2 * SEC);
	tcp4(&f, "10.0.0.3", 1003, "10.0.0.2", 80, TCPF_ACK, 0, 0, NULL);
	ack = feed_noting(t, &f, 3 * SEC);
	ck_assert_int_eq(syn->sclass, SC_TCP_OPENING);
	ck_assert_int_eq(udp->sclass, SC_UDP_ONEWAY);
	ck_assert_int_eq(ack->sclass, SC_TCP_PICKUP);
	/* the SYN's sender sends again: the UDP sender is now the least recent */
	tcp4(&f, "10.0.0.3", 1001, "10.0.0.2", 80, TCPF_SYN, 0, 0, NULL);
	ck_assert_ptr_eq(feed_noting(t, &f, 4 * SEC), syn);
	ended = 0;
	icmp4_echo(&f, "10.0.0.3", "10.0.0.2", 8, 7, 1);
	s = feed_noting(t, &f, 5 * SEC);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->sclass, SC_ICMP_ONEWAY);
	ck_assert_int_eq(ended, 1);
	ck_assert_uint_eq(evicted_last.port_b, 1002);
	/* then the pick-up of 3 s, then the SYN of 4 s */
	udp4(&f, "10.0.0.3", 1004, "10.0.0.2", 514, NULL, 4);
	feed_noting(t, &f, 6 * SEC);
	ck_assert_uint_eq(evicted_last.port_b, 1003);
	udp4(&f, "10.0.0.3", 1005, "10.0.0.2", 514, NULL, 4);
	feed_noting(t, &f, 7 * SEC);
	ck_assert_uint_eq(evicted_last.port_b, 1001);
	ck_assert_int_eq(ended, 3);
	session_table_free(t, NULL, NULL);
}
END_TEST

/* A picked-up session lives 10 s while one-way, an hour once both sides spoke. */
START_TEST(test_session_pickup_short_until_both_ways)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session *s;
	struct frame f;
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(16, &to);
	tcp4(&f, "10.0.0.3", 51000, "10.0.0.2", 443, TCPF_ACK, 1, 1, NULL);
	s = feed(t, &f, 1 * SEC, &fc);
	ck_assert_int_eq(s->sclass, SC_TCP_PICKUP);
	/* a bare FIN does not make it anything else */
	tcp4(&f, "10.0.0.3", 51000, "10.0.0.2", 443, TCPF_ACK | TCPF_FIN, 1, 1, NULL);
	feed(t, &f, 2 * SEC, &fc);
	ck_assert_int_eq(s->sclass, SC_TCP_PICKUP);
	ck_assert_uint_eq(session_expire(t, 11 * SEC, NULL, NULL, NULL), 0);
	ck_assert_uint_eq(session_expire(t, 12 * SEC, NULL, NULL, NULL), 1);
	/* the same with an answer: established, an hour */
	tcp4(&f, "10.0.0.3", 51001, "10.0.0.2", 443, TCPF_ACK, 1, 1, "data");
	s = feed(t, &f, 20 * SEC, &fc);
	tcp4(&f, "10.0.0.2", 443, "10.0.0.3", 51001, TCPF_ACK, 1, 5, NULL);
	feed(t, &f, 20 * SEC, &fc);
	ck_assert_int_eq(s->sclass, SC_TCP_ESTABLISHED);
	ck_assert_uint_eq(session_expire(t, 40 * SEC, NULL, NULL, NULL), 0);
	ck_assert_uint_eq(session_expire(t, 3621 * SEC, NULL, NULL, NULL), 1);
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
	tcase_add_test(tc, test_session_evicts_what_one_sender_makes);
	tcase_add_test(tc, test_session_evicts_least_recent);
	tcase_add_test(tc, test_session_pickup_short_until_both_ways);
	tcase_add_test(tc, test_session_many);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
