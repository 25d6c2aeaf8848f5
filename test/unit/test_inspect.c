// SPDX-License-Identifier: Apache-2.0
/*
 * dp/flow/inspect.c: the verdict on a frame of a denied session, and its
 * reset; a full session table.
 */
#include <check.h>

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

int main(void)
{
	Suite *s = suite_create("inspect");
	TCase *tc = tcase_create("inspect");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_denied_session_passes_resets);
	tcase_add_test(tc, test_full_of_pickups_still_denies);
	tcase_add_test(tc, test_full_of_two_way_drops_new_flows_in_fwd);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
