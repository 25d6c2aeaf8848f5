// SPDX-License-Identifier: Apache-2.0
/* dp/flow/slog.c: a session's log line, escaped, and cut to a small buffer. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "frame_util.h"
#include "session_util.h"
#include "dp/flow/session.h"
#include "dp/flow/slog.h"

START_TEST(test_slog_line)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session *s;
	struct frame f;
	char line[SLOG_LINE_MAX];
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(4, &to);
	tcp4(&f, "10.0.0.3", 40312, "10.0.0.2", 80, TCPF_SYN, 0, 0, NULL);
	s = feed(t, &f, 1, &fc);
	tcp4(&f, "10.0.0.2", 80, "10.0.0.3", 40312, TCPF_SYN | TCPF_ACK, 0, 1, NULL);
	feed(t, &f, 2, &fc);
	s->verdict = VERDICT_ALLOW;
	s->app.app = APP_TLS;
	s->sni = strdup("a.example\"\n");
	slog_format(s, SLOG_SESSION, NULL, line, sizeof(line));
	ck_assert_str_eq(line, "{\"transport\":\"tcp\",\"src\":\"10.0.0.3\",\"sport\":40312,"
			       "\"dst\":\"10.0.0.2\",\"dport\":80,\"app\":\"tls\","
			       "\"sni\":\"a.example\\\"\\u000a\",\"packets\":2,\"bytes\":108,"
			       "\"verdict\":\"allow\",\"rule\":0,\"event\":\"session\","
			       "\"client_packets\":1,\"client_bytes\":54,\"server_packets\":1,"
			       "\"server_bytes\":54,\"tcp_state\":\"syn_recv\"}\n");
	/* a small buffer cuts the line but keeps it terminated */
	ck_assert_uint_lt(slog_format(s, SLOG_SESSION, NULL, line, 40), 40);
	ck_assert_int_eq(line[strlen(line) - 1], '\n');
	session_table_free(t, NULL, NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("slog");
	TCase *tc = tcase_create("slog");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_slog_line);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
