// SPDX-License-Identifier: Apache-2.0
/* dp/flow/inspect.c: the verdict on a frame of a denied session, and its reset. */
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

int main(void)
{
	Suite *s = suite_create("inspect");
	TCase *tc = tcase_create("inspect");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_denied_session_passes_resets);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
