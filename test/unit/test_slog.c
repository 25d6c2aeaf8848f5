// SPDX-License-Identifier: Apache-2.0
/*
 * dp/flow/slog.c: a session's log line, escaped, and cut to a small
 * buffer; hostile ids and names still make one valid JSON object.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "frame_util.h"
#include "session_util.h"
#include "dp/flow/session.h"
#include "dp/flow/slog.h"
#include "dp/flow/workload.h"

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
	/* a small buffer cannot hold it: a line that says so, still one JSON object */
	ck_assert_uint_lt(slog_format(s, SLOG_SESSION, NULL, line, 40), 40);
	ck_assert_str_eq(line, "{\"error\":\"log line cut\"}\n");
	session_table_free(t, NULL, NULL);
}
END_TEST

/* The line parses as one JSON object; its container object. */
static json_t *parse_line(const char *line, json_t **root)
{
	json_error_t e;

	ck_assert_int_eq(line[strlen(line) - 1], '\n');
	ck_assert_ptr_null(strchr(line, '\n') == line + strlen(line) - 1 ? NULL : line);
	*root = json_loads(line, 0, &e);
	ck_assert_msg(*root != NULL, "not JSON (%s): %s", e.text, line);
	ck_assert(json_is_object(*root));
	return json_object_get(*root, "container");
}

static const char *member(json_t *o, const char *key)
{
	ck_assert(json_is_string(json_object_get(o, key)));
	return json_string_value(json_object_get(o, key));
}

/*
 * Ids may hold quotes and backslashes (lib/pull/oci.c takes them), names
 * anything: each member is escaped, well-formed UTF-8 is kept, malformed
 * bytes become U+FFFD, and the line is one JSON object.  The id was
 * printed as it was: {"id":"a"b\"} broke the line for every reader.
 */
START_TEST(test_slog_hostile_names)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session *s;
	struct wl_ctr *c = calloc(1, sizeof(*c));
	struct frame f;
	char line[SLOG_LINE_MAX];
	json_t *root, *ctr;
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(4, &to);
	tcp4(&f, "10.0.0.3", 40312, "10.0.0.2", 80, TCPF_SYN, 0, 0, NULL);
	s = feed(t, &f, 1, &fc);
	atomic_init(&c->refs, 1);
	strcpy(c->id, "ab\"},\"verdict\":\"allow\\");
	strcpy(c->name, "na\x01me\x7f\r\n");
	strcpy(c->group, "gr\xc3\xa9p\xe2\x82\xac"); /* é, € */
	strcpy(c->k8s_pod, "p\xc3\x28\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf\xff");
	strcpy(c->k8s_namespace, "ns");
	s->ctr = c;
	s->verdict = VERDICT_DENY;
	slog_format(s, SLOG_SESSION, NULL, line, sizeof(line));
	ctr = parse_line(line, &root);
	ck_assert_str_eq(member(ctr, "id"), "ab\"},\"verdict\":\"allow\\");
	ck_assert_str_eq(member(root, "verdict"), "deny");
	ck_assert_str_eq(member(ctr, "name"), "na\x01me\x7f\r\n");
	ck_assert_str_eq(member(ctr, "group"), "gr\xc3\xa9p\xe2\x82\xac");
	/* a bad continuation, a surrogate, past U+10FFFF, an overlong '/', 0xff */
	ck_assert_str_eq(member(ctr, "k8s_pod"),
			 "p\xef\xbf\xbd("			/* U+FFFD, then '(' */
			 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" /* ed a0 80 */
			 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			 "\xef\xbf\xbd\xef\xbf\xbd" /* c0 af */
			 "\xef\xbf\xbd");	    /* ff */
	json_decref(root);
	session_table_free(t, NULL, NULL); /* puts c */
}
END_TEST

/* The longest of everything, each byte escaped six-fold: cut members, a whole line. */
START_TEST(test_slog_longest_line_fits)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session *s;
	struct wl_ctr *c = calloc(1, sizeof(*c));
	struct slog_clock clk = { 1700000000LL * 1000000000LL, 5 };
	struct slog_threat th = { "syn_flood", "medium", "drop", NULL, NULL, NULL, NULL };
	char line[SLOG_LINE_MAX], evidence[96];
	struct frame f;
	json_t *root, *ctr;
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(4, &to);
	udp6(&f, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535,
	     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, IPPROTO_UDP, NULL, 0, 8);
	s = feed(t, &f, 1, &fc);
	atomic_init(&c->refs, 1);
	memset(c->id, '\x01', sizeof(c->id) - 1);
	memset(c->name, '\x02', sizeof(c->name) - 1);
	memset(c->group, '"', sizeof(c->group) - 1);
	memset(c->k8s_pod, '\xff', sizeof(c->k8s_pod) - 1);
	memset(c->k8s_namespace, '\\', sizeof(c->k8s_namespace) - 1);
	memset(c->k8s_container, '\x1f', sizeof(c->k8s_container) - 1);
	s->ctr = c;
	s->sni = malloc(256);
	memset(s->sni, '\x7f', 255);
	s->sni[255] = '\0';
	s->pkts[0] = s->bytes[0] = s->pkts[1] = s->bytes[1] = INT64_MAX / 2; /* jansson: int64 */
	s->rule = UINT32_MAX;
	ck_assert_uint_lt(slog_format(s, SLOG_VIOLATION, &clk, line, sizeof(line)), sizeof(line));
	ctr = parse_line(line, &root);
	ck_assert_ptr_nonnull(ctr);
	ck_assert_ptr_null(json_object_get(root, "error"));
	ck_assert_ptr_nonnull(strstr(member(ctr, "group"), "\"\"\"..."));
	ck_assert_uint_le(strlen(member(ctr, "id")), SLOG_STR_MAX);
	json_decref(root);
	/* a threat line: the same container, evidence with quotes */
	memset(evidence, '"', sizeof(evidence) - 1);
	evidence[sizeof(evidence) - 1] = '\0';
	th.evidence = evidence;
	th.s = s;
	th.ctr = c;
	slog_format_threat(&th, &clk, line, sizeof(line));
	ctr = parse_line(line, &root);
	ck_assert_ptr_nonnull(ctr);
	ck_assert_str_eq(member(root, "evidence"), evidence);
	json_decref(root);
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
	tcase_add_test(tc, test_slog_hostile_names);
	tcase_add_test(tc, test_slog_longest_line_fits);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
