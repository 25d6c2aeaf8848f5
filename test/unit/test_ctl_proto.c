// SPDX-License-Identifier: Apache-2.0
/* The control socket's protocol: requests, replies, line framing. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp/ctl/ctl_proto.h"
#include "lib/core/err.h"

static int parse(const char *line, struct ctl_request *req)
{
	return ctl_request_parse(line, strlen(line), req);
}

START_TEST(test_parse_valid)
{
	struct ctl_request r;

	ck_assert_int_eq(parse("{\"cmd\":\"status\"}", &r), 0);
	ck_assert_int_eq(r.cmd, CTL_STATUS);
	ck_assert_int_eq(parse(" {\"cmd\": \"sessions\"} ", &r), 0);
	ck_assert_int_eq(r.cmd, CTL_SESSIONS);
	ck_assert_uint_eq(r.limit, CTL_SESSIONS_DEFAULT);
	ck_assert_int_eq(parse("{\"limit\": 7, \"cmd\": \"sessions\"}", &r), 0);
	ck_assert_uint_eq(r.limit, 7);
	ck_assert_int_eq(parse("{\"cmd\":\"sessions\",\"limit\":100000}", &r), 0);
	ck_assert_uint_eq(r.limit, 100000);
	ck_assert_int_eq(parse("{\"cmd\":\"policy_reload\"}", &r), 0);
	ck_assert_int_eq(r.cmd, CTL_POLICY_RELOAD);
}
END_TEST

static const struct {
	const char *line, *msg;
} bad[] = {
	{ "", "request: not JSON" },
	{ "status", "request: not JSON" },
	{ "{\"cmd\":\"status\"} x", "request: not JSON" },
	{ "[\"status\"]", "request: not a JSON object" },
	{ "{}", "request: no \"cmd\"" },
	{ "{\"cmd\":1}", "request: \"cmd\" must be a string" },
	{ "{\"cmd\":\"reboot\"}", "request: unknown cmd \"reboot\"" },
	{ "{\"cmd\":\"status\",\"verbose\":true}", "request: unknown key \"verbose\"" },
	{ "{\"cmd\":\"status\",\"limit\":3}", "request: \"limit\" goes with \"sessions\" only" },
	{ "{\"cmd\":\"sessions\",\"limit\":0}", "request: \"limit\" 0 out of range 1..100000" },
	{ "{\"cmd\":\"sessions\",\"limit\":-1}", "request: \"limit\" -1 out of range 1..100000" },
	{ "{\"cmd\":\"sessions\",\"limit\":100001}",
	  "request: \"limit\" 100001 out of range 1..100000" },
	{ "{\"cmd\":\"sessions\",\"limit\":\"5\"}", "request: \"limit\" must be an integer" },
	{ "{\"cmd\":\"sessions\",\"limit\":2.5}", "request: \"limit\" must be an integer" },
	{ "{\"cmd\":\"status\",\"cmd\":\"ports\"}", "request: not JSON" },
};

START_TEST(test_parse_invalid)
{
	struct ctl_request r;

	err_clear();
	ck_assert_int_eq(parse(bad[_i].line, &r), -EINVAL);
	/* the words of the protocol, no errno text after them */
	ck_assert_msg(strncmp(err_msg(), bad[_i].msg, strlen(bad[_i].msg)) == 0,
		      "%s: got \"%s\", want \"%s...\"", bad[_i].line, err_msg(), bad[_i].msg);
	ck_assert_ptr_null(strstr(err_msg(), "Invalid argument"));
}
END_TEST

START_TEST(test_parse_too_long)
{
	size_t n = CTL_REQ_MAX + 1;
	char *line = malloc(n);
	struct ctl_request r;

	memset(line, ' ', n);
	memcpy(line, "{\"cmd\":\"status\"}", 16);
	ck_assert_int_eq(ctl_request_parse(line, n, &r), -EMSGSIZE);
	ck_assert_int_eq(ctl_request_parse(line, n - 1, &r), 0);
	free(line);
}
END_TEST

START_TEST(test_encode_roundtrip)
{
	struct ctl_request in = { .cmd = (enum ctl_cmd)_i, .limit = 42 }, out;
	char *line = ctl_request_encode(&in);
	size_t len;

	ck_assert_ptr_nonnull(line);
	len = strlen(line);
	ck_assert_int_eq(line[len - 1], '\n');
	ck_assert_ptr_eq(strchr(line, '\n'), line + len - 1);
	ck_assert_int_eq(ctl_request_parse(line, len - 1, &out), 0);
	ck_assert_int_eq(out.cmd, in.cmd);
	ck_assert_uint_eq(out.limit, in.cmd == CTL_SESSIONS ? 42 : CTL_SESSIONS_DEFAULT);
	ck_assert_int_eq(ctl_cmd_from_name(ctl_cmd_name(in.cmd)), _i);
	free(line);
}
END_TEST

START_TEST(test_reply_ok)
{
	char *line = ctl_reply_ok(json_pack("{sis[i]}", "pid", 12, "a", 1));

	ck_assert_str_eq(line, "{\"ok\":true,\"pid\":12,\"a\":[1]}\n");
	free(line);
	line = ctl_reply_ok(NULL);
	ck_assert_str_eq(line, "{\"ok\":true}\n");
	free(line);
	/* a body cannot say it failed: "ok" is the reply's own, and first */
	line = ctl_reply_ok(json_pack("{sisb}", "x", 1, "ok", 0));
	ck_assert_str_eq(line, "{\"ok\":true,\"x\":1}\n");
	free(line);
}
END_TEST

START_TEST(test_reply_err)
{
	char *line = ctl_reply_err("policy reload: x.json: line 3\nbad \"value\"");

	ck_assert_str_eq(line, "{\"ok\":false,\"error\":\"policy reload: x.json: line 3 bad "
			       "\\\"value\\\"\"}\n");
	free(line);
	line = ctl_reply_err("name \xff\xfe here");
	ck_assert_str_eq(line, "{\"ok\":false,\"error\":\"name ?? here\"}\n");
	free(line);
}
END_TEST

START_TEST(test_json_str)
{
	json_t *j = ctl_json_str("caf\xc3\xa9");

	ck_assert_str_eq(json_string_value(j), "caf\xc3\xa9");
	json_decref(j);
	j = ctl_json_str("caf\xe9");
	ck_assert_str_eq(json_string_value(j), "caf?");
	json_decref(j);
}
END_TEST

START_TEST(test_line_framing)
{
	char buf[32];
	size_t len;
	long n;

	memcpy(buf, "{\"cmd\":", 7);
	len = 7;
	ck_assert_int_eq(ctl_line_find(buf, len, 16), 0);
	memcpy(buf + len, "1}\n\n{x", 6);
	len += 6;
	n = ctl_line_find(buf, len, 16);
	ck_assert_int_eq(n, 10);
	ck_assert_str_eq(buf, "{\"cmd\":1}");
	ctl_line_consume(buf, &len, (size_t)n);
	ck_assert_uint_eq(len, 3);
	/* an empty line is a line of size 1 */
	ck_assert_int_eq(ctl_line_find(buf, len, 16), 1);
	ctl_line_consume(buf, &len, 1);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(memcmp(buf, "{x", 2), 0);
	ck_assert_int_eq(ctl_line_find(buf, len, 16), 0);
	/* no newline by max: too long */
	memset(buf, 'x', 16);
	ck_assert_int_eq(ctl_line_find(buf, 16, 16), -EMSGSIZE);
	ck_assert_int_eq(ctl_line_find(buf, 15, 16), 0);
	len = 2;
	ctl_line_consume(buf, &len, 5);
	ck_assert_uint_eq(len, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ctl_proto");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_parse_valid);
	tcase_add_loop_test(tc, test_parse_invalid, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_parse_too_long);
	tcase_add_loop_test(tc, test_encode_roundtrip, 0, CTL_CMD_MAX);
	tcase_add_test(tc, test_reply_ok);
	tcase_add_test(tc, test_reply_err);
	tcase_add_test(tc, test_json_str);
	tcase_add_test(tc, test_line_framing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
