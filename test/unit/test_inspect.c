// SPDX-License-Identifier: Apache-2.0
/*
 * dp/flow/inspect.c: the verdict on a frame of a denied session, and its
 * reset; a full session table; what a provisional session may carry;
 * later fragments through a spray of first fragments; selectors by
 * container name and Kubernetes names.
 */
#include <check.h>
#include <string.h>

#include "inspect_env.h"

/*
 * A denied session still lets a bare reset through: with both ends
 * intercepted, the reset one port sends crosses the other port, where the
 * session is denied too.
 */
START_TEST(test_denied_session_passes_resets)
{
	static const char data[] = "payload";

	env_up("{\"default\": \"deny\"}", false);
	send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_SYN, .win = 64240 }, SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	ck_assert(last.reset);
	/* the reset the other port sent for the same session */
	send_tcp(&SRV, &CLI, &(struct seg){ .flags = TCPF_RST | TCPF_ACK }, SEC);
	ck_assert_int_eq(last.verdict, INSPECT_PASS);
	ck_assert(!last.reset);
	/* not a reset carrying data, nor anything else */
	send_tcp(&SRV, &CLI,
		 &(struct seg){ .flags = TCPF_RST | TCPF_ACK, .data = data, .len = sizeof(data) },
		 SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_ACK, .data = data, .len = sizeof(data) },
		 SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	ck_assert(!last.reset); /* one reset per session */
	ck_assert_uint_eq(in.st.violations, 1);
	env_down();
}
END_TEST

static const char *const DENY_BUT_80 =
	"{\"default\": \"deny\", \"rules\": [{\"id\": 1, \"from\": \"any\", \"to\": \"any\","
	" \"ports\": [\"tcp/80\"], \"action\": \"allow\"}]}";

/*
 * The attack through inspect_frame: 400 bare ACKs with varied ports
 * to port 80 of an address that does not answer, a table of 64, then a
 * connection to a denied port.  It must be denied and reset.  (Before
 * eviction the ACKs filled the table and the SYN passed uninspected.)
 */
/*
 * Attribution by direction: a frame between two UCMACs was written by no
 * port (a container addressing another's UCMAC); whatever the policy, it
 * has no port and is dropped.
 */
START_TEST(test_ucmac_at_both_ends_dropped)
{
	const struct ep from_tap = { TAP_SRV.ip, 40000, MAC_TAP };

	env_up(ALLOW, true);
	send_tcp(&from_tap, &SRV, &(struct seg){ .flags = TCPF_SYN, .win = 64240 }, SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	ck_assert_ptr_null(last.port);
	ck_assert_uint_eq(in.st.unknown_port, 1);
	/* one UCMAC: the port that wrote it */
	send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_SYN, .win = 64240 }, SEC);
	ck_assert_int_eq(last.verdict, INSPECT_PASS);
	ck_assert_ptr_eq(last.port, workloads_by_ucmac(wl, MAC_FWD));
	env_down();
}
END_TEST

START_TEST(test_full_of_pickups_still_denies)
{
	const struct ep silent = { "10.0.0.77", 80, MAC_EXT };
	struct session_stats ss;

	env_up_max(DENY_BUT_80, false, 64);
	for (uint16_t i = 0; i < 400; i++) {
		const struct ep from = { SRV.ip, (uint16_t)(30000 + i), MAC_FWD };

		send_tcp(&from, &silent, &(struct seg){ .flags = TCPF_ACK, .win = 502 }, SEC + i);
		ck_assert_int_eq(last.verdict, INSPECT_PASS); /* allowed: tcp/80 */
	}
	send_tcp(&CLI, &(struct ep){ SRV.ip, 22, MAC_FWD }, &(struct seg){ .flags = TCPF_SYN },
		 2 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	ck_assert(last.reset);
	ck_assert_uint_eq(in.st.no_session, 0);
	session_stats(in.sessions, &ss);
	ck_assert_uint_eq(ss.evicted, 400 - 64 + 1);
	env_down();
}
END_TEST

/*
 * A table full of sessions that saw both directions: nothing can be
 * evicted, and a new flow is not inspected: dropped at a fwd port, passed
 * at a tap port, counted.
 */
START_TEST(test_full_of_two_way_drops_new_flows_in_fwd)
{
	struct session_stats ss;

	env_up_max(DENY_BUT_80, false, 4);
	for (uint16_t i = 0; i < 4; i++)
		handshake(&(struct ep){ CLI.ip, (uint16_t)(41000 + i), MAC_EXT }, &SRV, SEC);
	session_stats(in.sessions, &ss);
	ck_assert_uint_eq(ss.live, 4);
	/* allowed by policy, but nothing can hold its session: not inspected, dropped */
	send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_SYN }, 2 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	ck_assert_ptr_null(last.session);
	ck_assert(!last.reset);
	send_tcp(&CLI, &TAP_SRV, &(struct seg){ .flags = TCPF_SYN }, 2 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_PASS);
	ck_assert_ptr_null(last.session);
	ck_assert_uint_eq(in.st.no_session, 2);
	ck_assert_uint_eq(in.st.no_session_dropped, 1);
	session_stats(in.sessions, &ss);
	ck_assert_uint_eq(ss.table_full, 2);
	/* the sessions it holds go on being decided */
	send_tcp(&(struct ep){ CLI.ip, 41000, MAC_EXT }, &SRV,
		 &(struct seg){ .flags = TCPF_ACK, .win = 502 }, 3 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_PASS);
	ck_assert_ptr_nonnull(last.session);
	env_down();
}
END_TEST

static const char *const PG_ONLY =
	"{\"default\": \"deny\", \"rules\": [{\"id\": 1, \"from\": \"any\", \"to\": \"any\","
	" \"ports\": [\"tcp/5432\"], \"apps\": [\"postgresql\"], \"action\": \"allow\"}]}";

static const struct ep PG = { "10.0.0.2", 5432, MAC_FWD };

/*
 * The start of a PostgreSQL StartupMessage of 10000 bytes (protocol 3.0,
 * a parameter name): while it goes on with more of the name, PostgreSQL
 * stays possible, so a postgresql rule may still match.
 */
static const char PG_OPEN[] = "\0\0\x27\x10\0\x03\0\0user";
#define PG_OPEN_LEN (sizeof(PG_OPEN) - 1)

/* A client segment of n bytes from c to PG: head's hlen bytes, then 'x's; its verdict. */
static enum inspect_verdict send_head(const struct ep *c, const char *head, size_t hlen, size_t n,
				      uint64_t now)
{
	static char data[1500];

	ck_assert_uint_le(n, sizeof(data));
	memset(data, 'x', n);
	memcpy(data, head, hlen < n ? hlen : n);
	send_tcp(c, &PG,
		 &(struct seg){ .flags = TCPF_ACK | TCPF_PSH, .win = 502, .data = data, .len = n },
		 now);
	return last.verdict;
}

static enum inspect_verdict send_data(const struct ep *c, const char *head, size_t n, uint64_t now)
{
	return send_head(c, head, strlen(head), n, now);
}

/*
 * The attack: a client that keeps a parser undecided while the
 * postgresql rule may still match is allowed provisionally.  Bulk after it
 * got three more segments through (up to 64 KiB each with GSO).  Now at
 * most provisional_bytes of payload pass (here a StartupMessage that never
 * ends, so PostgreSQL stays possible), then the session is decided without
 * an app: the default denies it.
 */
START_TEST(test_provisional_bounded_in_bytes)
{
	struct ep c = { CLI.ip, 40100, MAC_EXT };
	size_t passed = 0;
	int i;

	env_up(PG_ONLY, false);
	handshake(&c, &PG, SEC);
	ck_assert_int_eq(last.verdict, INSPECT_PASS);
	ck_assert(last.session->provisional);
	for (i = 0; i < 4; i++) {
		size_t n = i ? 4 : PG_OPEN_LEN;

		ck_assert_int_eq(send_head(&c, PG_OPEN, i ? 0 : n, n, 2 * SEC), INSPECT_PASS);
		passed += n;
	}
	for (i = 0; i < 3 && send_data(&c, "", 1400, 2 * SEC) == INSPECT_PASS; i++)
		passed += 1400;
	ck_assert_int_eq(i, 2); /* the third 1400 would have been 4224 bytes */
	ck_assert_uint_le(passed, INSPECT_PROVISIONAL_BYTES);
	ck_assert(last.reset);
	ck_assert(!last.session->provisional);
	ck_assert_int_eq(last.session->verdict, VERDICT_DENY);
	ck_assert_int_eq(last.session->rule, 0);
	ck_assert_int_eq(last.session->app.app, APP_UNKNOWN);
	ck_assert_uint_eq(in.st.provisional_cut, 1);
	env_down();
}
END_TEST

/*
 * A client whose first bytes rule PostgreSQL out ("SSH-", "GET /": other
 * parsers may still be undecided) gets nothing through the postgresql
 * rule: it can no longer match, so the default decides at once.  The same
 * bytes where a rule waits for ssh stay provisional.
 */
START_TEST(test_provisional_only_while_its_app_may_come)
{
	static const char *const heads[] = { "SSH-", "GET /" };
	static const char *const SSH_ONLY =
		"{\"default\": \"deny\", \"rules\": [{\"id\": 2, \"from\": \"any\", \"to\": \"any\","
		" \"ports\": [\"tcp/5432\"], \"apps\": [\"ssh\"], \"action\": \"allow\"}]}";
	const struct ep c3 = { CLI.ip, 40112, MAC_EXT };

	env_up(PG_ONLY, false);
	for (int i = 0; i < 2; i++) {
		const struct ep c = { CLI.ip, (uint16_t)(40110 + i), MAC_EXT };

		handshake(&c, &PG, SEC);
		ck_assert(last.session->provisional);
		ck_assert_int_eq(send_data(&c, heads[i], strlen(heads[i]), 2 * SEC), INSPECT_DROP);
		ck_assert(!last.session->app.done);
		ck_assert(!last.session->provisional);
		ck_assert_int_eq(last.session->verdict, VERDICT_DENY);
		ck_assert_int_eq(last.session->rule, 0);
	}
	ck_assert_uint_eq(in.st.provisional_cut, 0);
	env_down();
	env_up(SSH_ONLY, false);
	handshake(&c3, &PG, SEC);
	ck_assert_int_eq(send_data(&c3, "SSH-", 4, 2 * SEC), INSPECT_PASS);
	ck_assert(last.session->provisional);
	ck_assert_int_eq(last.session->rule, 2);
	env_down();
}
END_TEST

/*
 * One big frame (a GSO super-frame, or a tap copy cut short) counts by all
 * its payload.  A StartupMessage that does not end keeps PostgreSQL
 * possible.
 */
START_TEST(test_provisional_counts_whole_payload)
{
	struct ep c = { CLI.ip, 40101, MAC_EXT };
	struct ep tc = { CLI.ip, 40102, MAC_EXT };
	const struct ep tap_pg = { TAP_SRV.ip, 5432, MAC_TAP };
	struct frame f;

	env_up(PG_ONLY, false);
	in.provisional_bytes = 1000;
	handshake(&c, &PG, SEC);
	ck_assert_int_eq(send_head(&c, PG_OPEN, PG_OPEN_LEN, PG_OPEN_LEN, 2 * SEC), INSPECT_PASS);
	ck_assert_int_eq(send_data(&c, "", 1000 - PG_OPEN_LEN, 2 * SEC), INSPECT_PASS);
	ck_assert_int_eq(send_data(&c, "", 1, 2 * SEC), INSPECT_DROP);
	ck_assert_uint_eq(in.st.provisional_cut, 1);
	/* a tap copy of 64 KiB cut to its first 100 bytes: counted as 64 KiB */
	handshake(&tc, &tap_pg, 3 * SEC);
	tcp(&f, &tc, &tap_pg,
	    &(struct seg){ .flags = TCPF_ACK, .win = 502, .data = PG_OPEN, .len = PG_OPEN_LEN });
	send_frame(&f, 3 * SEC);
	ck_assert(last.session->provisional);
	tcp(&f, &tc, &tap_pg,
	    &(struct seg){ .flags = TCPF_ACK, .win = 502, .data = "xxxxxxxxxx", .len = 10 });
	inspect_frame(&in, f.b, f.len, f.len + 65000, 3 * SEC, &last);
	ck_assert_uint_eq(in.st.provisional_cut, 2);
	ck_assert_int_eq(last.session->verdict, VERDICT_DENY);
	ck_assert_uint_eq(in.st.violations, 2);
	env_down();
}
END_TEST

/* PostgreSQL within the bound is identified and allowed; a session no app rule waits for is not
 * bounded. */
START_TEST(test_provisional_identified_in_time)
{
	static const char startup[] = "\0\0\0\x17\0\x03\0\0user\0postgres\0\0";
	struct ep c = { CLI.ip, 40103, MAC_EXT };

	env_up(PG_ONLY, false);
	handshake(&c, &PG, SEC);
	in.provisional_bytes = 0;
	send_tcp(&c, &PG,
		 &(struct seg){ .flags = TCPF_ACK | TCPF_PSH,
				.win = 502,
				.data = startup,
				.len = sizeof(startup) - 1 },
		 2 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_PASS);
	ck_assert_int_eq(last.session->app.app, app_from_name("postgresql"));
	ck_assert(!last.session->provisional);
	ck_assert_int_eq(last.session->rule, 1);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(send_data(&c, "", 1400, 2 * SEC), INSPECT_PASS);
	ck_assert_uint_eq(in.st.provisional_cut, 0);
	env_down();
	/* allowed by the default, not provisional: unbounded */
	env_up(ALLOW, false);
	handshake(&c, &PG, SEC);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(send_data(&c, "SSH-", i < 4 ? 4 : 1400, 2 * SEC), INSPECT_PASS);
	ck_assert_uint_eq(in.st.provisional_cut, 0);
	env_down();
}
END_TEST

/* A UDP fragment from a to b of datagram id: the first (with the UDP header) or the last. */
static void udp_frag(const struct ep *a, const struct ep *b, uint16_t id, bool first, uint64_t now)
{
	struct frame f;
	uint8_t *d = ip4(&f, a, b, IPPROTO_UDP, id, first ? 0x2000 : 1480 / 8, first ? 1480 : 100);

	memset(d, 'u', first ? 1480 : 100);
	if (first) {
		put16(d, a->port);
		put16(d + 2, b->port);
		put16(d + 4, 1580);
		put16(d + 6, 0);
	}
	send_frame(&f, now);
}

/*
 * Between each first fragment of a client's datagrams and its last, an
 * attacker outside sprays 1024 first fragments of its own.  The old table
 * (1024 direct-mapped slots) forgot a datagram with probability 63%, so
 * most of these ten lost their last fragment; now none does.
 */
START_TEST(test_frag_spray_keeps_later_fragments)
{
	const struct ep cli = { CLI.ip, 5353, MAC_EXT };
	struct ep spray = { "192.0.2.66", 1, MAC_EXT };
	const struct ep srv = { SRV.ip, 53, MAC_FWD };
	uint64_t now = SEC;

	env_up(ALLOW, false);
	for (uint16_t d = 0; d < 10; d++) {
		udp_frag(&cli, &srv, (uint16_t)(7000 + d), true, now++);
		ck_assert_int_eq(last.verdict, INSPECT_PASS);
		for (uint16_t i = 0; i < 1024; i++) {
			spray.port = (uint16_t)(1000 + i);
			udp_frag(&spray, &srv, (uint16_t)(d * 1024 + i), true, now++);
		}
		udp_frag(&cli, &srv, (uint16_t)(7000 + d), false, now++);
		ck_assert_int_eq(last.verdict, INSPECT_PASS);
	}
	ck_assert_uint_eq(in.st.frag_orphans, 0);
	/* a later fragment whose first was never seen is still an orphan */
	udp_frag(&cli, &srv, 9999, false, now++);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	ck_assert_uint_eq(in.st.frag_orphans, 1);
	env_down();
}
END_TEST

/* A connection from CLI to s under policy: allowed? */
static bool allowed(const char *policy_json, const struct ep *s)
{
	bool ok;

	env_up(policy_json, false);
	handshake(&CLI, s, SEC);
	ok = last.verdict == INSPECT_PASS;
	env_down();
	return ok;
}

#define ALLOW_TO(sel)                                                                              \
	"{\"default\": \"deny\", \"rules\": [{\"id\": 1, \"from\": \"any\", \"to\": \"" sel "\","  \
	" \"action\": \"allow\"}]}"

/*
 * container:NAME by the names the runtime gave (it matched nothing: the
 * data plane never passed names to the policy); "app" repeats across
 * namespaces and matches both pods; namespace: and pod: tell them apart.
 */
START_TEST(test_selectors_by_name)
{
	ck_assert(allowed(ALLOW_TO("container:web1"), &SRV));
	ck_assert(!allowed(ALLOW_TO("container:web2"), &SRV));
	ck_assert(allowed(ALLOW_TO("container:app"), &SHOP));
	ck_assert(allowed(ALLOW_TO("container:app"), &BANK));
	ck_assert(
		!allowed(ALLOW_TO("container:web-0"), &SHOP)); /* the sandbox's name is the pod's */
	ck_assert(allowed(ALLOW_TO("namespace:shop"), &SHOP));
	ck_assert(!allowed(ALLOW_TO("namespace:shop"), &BANK));
	ck_assert(!allowed(ALLOW_TO("namespace:shop"), &SRV));
	ck_assert(allowed(ALLOW_TO("pod:bank/web-0"), &BANK));
	ck_assert(!allowed(ALLOW_TO("pod:bank/web-0"), &SHOP));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inspect");
	TCase *tc = tcase_create("inspect");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_denied_session_passes_resets);
	tcase_add_test(tc, test_ucmac_at_both_ends_dropped);
	tcase_add_test(tc, test_full_of_pickups_still_denies);
	tcase_add_test(tc, test_full_of_two_way_drops_new_flows_in_fwd);
	tcase_add_test(tc, test_provisional_bounded_in_bytes);
	tcase_add_test(tc, test_provisional_only_while_its_app_may_come);
	tcase_add_test(tc, test_provisional_counts_whole_payload);
	tcase_add_test(tc, test_provisional_identified_in_time);
	tcase_add_test(tc, test_frag_spray_keeps_later_fragments);
	tcase_add_test(tc, test_selectors_by_name);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
