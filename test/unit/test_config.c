/* SPDX-License-Identifier: Apache-2.0 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/core/config.h"
#include "lib/core/err.h"

static int parse(struct pc_config *cfg, const char *json)
{
	return config_parse(cfg, json, strlen(json), "test.json");
}

/* Parse must fail with -EINVAL, leave cfg at the defaults and say `needle`. */
static void expect_invalid(const char *json, const char *needle)
{
	struct pc_config cfg, ref;

	config_defaults(&cfg);
	config_defaults(&ref);
	err_clear();
	ck_assert_int_eq(parse(&cfg, json), -EINVAL);
	ck_assert_msg(strstr(err_msg(), needle), "message \"%s\" lacks \"%s\"", err_msg(), needle);
	ck_assert_msg(memcmp(&cfg, &ref, sizeof(cfg)) == 0, "cfg changed by a failed parse");
}

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/pc-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void remove_tmpdir(void)
{
	nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_defaults)
{
	struct pc_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	config_defaults(&cfg);
	ck_assert_str_eq(cfg.enforcer_netns, "/run/netns/portcullis");
	ck_assert_str_eq(cfg.state_dir, "/run/portcullis");
	ck_assert_str_eq(cfg.bpf_pin_dir, "/sys/fs/bpf/portcullis");
	ck_assert_int_eq(cfg.mode, MODE_FWD);
	ck_assert(!cfg.on_failure_closed);
	ck_assert(!cfg.dp_down_closed);
	ck_assert_int_eq(cfg.backend, BACKEND_AUTO);
	ck_assert_str_eq(cfg.bridge_port, "vbr-neuv");
	ck_assert_str_eq(cfg.dp_port, "vth-neuv");
	ck_assert(!cfg.jumbo);
	ck_assert(cfg.peer_redirect);
	ck_assert_str_eq(cfg.policy, "/etc/portcullis/policy.json");
	ck_assert_str_eq(cfg.ctl_socket, "/run/portcullis/dp.sock");
	ck_assert_str_eq(cfg.session_log, "-");
	ck_assert_uint_eq(cfg.workers, 0);
	ck_assert_uint_eq(cfg.max_sessions, 1000000);
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert(cfg.threat_detection);
	ck_assert_uint_eq(cfg.ring_block_kb, 256);
	ck_assert_uint_eq(cfg.ring_blocks, 32);
	ck_assert_uint_eq(cfg.ring_retire_ms, 1);
	ck_assert_uint_eq(cfg.quick_max, 512);
	ck_assert_uint_eq(cfg.bypass_after_kb, 1024);
	ck_assert_uint_eq(cfg.reassembly_kb, 32);
}
END_TEST

START_TEST(test_names)
{
	static const char *const modes[] = { "off", "pass", "tap", "fwd" };
	enum pc_mode m;

	for (int i = 0; i < 4; i++) {
		ck_assert_str_eq(config_mode_name((enum pc_mode)i), modes[i]);
		ck_assert_int_eq(config_parse_mode(modes[i], &m), 0);
		ck_assert_int_eq(m, i);
	}
	ck_assert_int_eq(config_parse_mode("FWD", &m), -EINVAL);
	ck_assert_int_eq(config_parse_mode("", &m), -EINVAL);
	ck_assert_int_eq(config_parse_mode("fwd ", &m), -EINVAL);
	ck_assert_str_eq(config_mode_name((enum pc_mode)17), "?");
	ck_assert_str_eq(config_backend_name(BACKEND_AUTO), "auto");
	ck_assert_str_eq(config_backend_name(BACKEND_BPF), "bpf");
	ck_assert_str_eq(config_backend_name(BACKEND_TC_PEDIT), "tc-pedit");
	ck_assert_str_eq(config_backend_name((enum pc_backend)9), "?");
}
END_TEST

START_TEST(test_parse_all_keys)
{
	static const char json[] =
		"{\"enforcer_netns\": \"/run/netns/enf\", \"state_dir\": \"/var/lib/pc\","
		" \"bpf_pin_dir\": \"/sys/fs/bpf/pc2\", \"mode\": \"tap\", \"on_failure\": \"closed\","
		" \"dp_down\": \"closed\", \"backend\": \"tc-pedit\", \"bridge_port\": \"br0\","
		" \"dp_port\": \"dp0\", \"jumbo\": true, \"peer_redirect\": false, \"policy\": \"/etc/p.json\","
		" \"ctl_socket\": \"/run/x.sock\", \"session_log\": \"/var/log/s.jsonl\","
		" \"workers\": 4, \"max_sessions\": 123, \"log_level\": \"debug\","
		" \"threat_detection\": false, \"ring_block_kb\": 1024, \"ring_blocks\": 8,"
		" \"ring_retire_ms\": 4, \"quick_max\": 0, \"bypass_after_kb\": 0}";
	struct pc_config cfg;

	config_defaults(&cfg);
	ck_assert_int_eq(parse(&cfg, json), 0);
	ck_assert_str_eq(cfg.enforcer_netns, "/run/netns/enf");
	ck_assert_str_eq(cfg.state_dir, "/var/lib/pc");
	ck_assert_str_eq(cfg.bpf_pin_dir, "/sys/fs/bpf/pc2");
	ck_assert_int_eq(cfg.mode, MODE_TAP);
	ck_assert(cfg.on_failure_closed);
	ck_assert(cfg.dp_down_closed);
	ck_assert_int_eq(cfg.backend, BACKEND_TC_PEDIT);
	ck_assert_str_eq(cfg.bridge_port, "br0");
	ck_assert_str_eq(cfg.dp_port, "dp0");
	ck_assert(cfg.jumbo);
	ck_assert(!cfg.peer_redirect);
	ck_assert_str_eq(cfg.policy, "/etc/p.json");
	ck_assert_str_eq(cfg.ctl_socket, "/run/x.sock");
	ck_assert_str_eq(cfg.session_log, "/var/log/s.jsonl");
	ck_assert_uint_eq(cfg.workers, 4);
	ck_assert_uint_eq(cfg.max_sessions, 123);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	ck_assert(!cfg.threat_detection);
	ck_assert_uint_eq(cfg.ring_block_kb, 1024);
	ck_assert_uint_eq(cfg.ring_blocks, 8);
	ck_assert_uint_eq(cfg.ring_retire_ms, 4);
	ck_assert_uint_eq(cfg.quick_max, 0);
	ck_assert_uint_eq(cfg.bypass_after_kb, 0);
}
END_TEST

START_TEST(test_parse_partial_keeps_rest)
{
	struct pc_config cfg, ref;

	config_defaults(&cfg);
	config_defaults(&ref);
	ck_assert_int_eq(parse(&cfg, "{}"), 0);
	ck_assert_mem_eq(&cfg, &ref, sizeof(cfg));
	ck_assert_int_eq(parse(&cfg, " {\"mode\": \"off\", \"on_failure\": \"open\"} \n"), 0);
	ck_assert_int_eq(cfg.mode, MODE_OFF);
	ck_assert(!cfg.on_failure_closed);
	ck_assert_str_eq(cfg.state_dir, ref.state_dir);
	/* a second parse layers over the first */
	ck_assert_int_eq(parse(&cfg, "{\"jumbo\": true, \"session_log\": \"-\"}"), 0);
	ck_assert_int_eq(cfg.mode, MODE_OFF);
	ck_assert(cfg.jumbo);
	ck_assert_str_eq(cfg.session_log, "-");
}
END_TEST

START_TEST(test_unknown_key)
{
	expect_invalid("{\"bogus\": 1}", "config test.json: unknown key \"bogus\"");
	/* earlier valid keys are not applied either */
	expect_invalid("{\"mode\": \"off\", \"Mode\": \"off\"}", "unknown key \"Mode\"");
	/* a key with control characters is shown on one line */
	expect_invalid("{\"a\\nb\": 1}", "unknown key \"a?b\"");
}
END_TEST

START_TEST(test_wrong_types)
{
	expect_invalid("{\"state_dir\": 5}", "key \"state_dir\" must be a string");
	expect_invalid("{\"mode\": null}", "key \"mode\" must be a string");
	expect_invalid("{\"bridge_port\": [\"x\"]}", "key \"bridge_port\" must be a string");
	expect_invalid("{\"on_failure\": false}", "key \"on_failure\" must be a string");
	expect_invalid("{\"jumbo\": \"true\"}", "key \"jumbo\" must be true or false");
	expect_invalid("{\"jumbo\": 1}", "key \"jumbo\" must be true or false");
	expect_invalid("{\"threat_detection\": \"no\"}",
		       "key \"threat_detection\" must be true or false");
	expect_invalid("{\"workers\": \"4\"}", "key \"workers\" must be a non-negative integer");
	expect_invalid("{\"workers\": 1.5}", "key \"workers\" must be a non-negative integer");
	expect_invalid("{\"workers\": 2.0}", "key \"workers\" must be a non-negative integer");
	expect_invalid("{\"workers\": -1}", "key \"workers\" must be between 0 and 1024");
	expect_invalid("{\"max_sessions\": true}", "key \"max_sessions\" must be a non-negative");
}
END_TEST

START_TEST(test_number_ranges)
{
	struct pc_config cfg;

	expect_invalid("{\"workers\": 1025}", "key \"workers\" must be between 0 and 1024");
	expect_invalid("{\"ring_block_kb\": 64}",
		       "key \"ring_block_kb\" must be between 128 and 8192");
	expect_invalid("{\"ring_blocks\": 1}", "key \"ring_blocks\" must be between 2 and 1024");
	expect_invalid("{\"ring_retire_ms\": 0}",
		       "key \"ring_retire_ms\" must be between 1 and 1000");
	expect_invalid("{\"quick_max\": 9000}", "key \"quick_max\" must be between 0 and 1500");
	expect_invalid("{\"reassembly_kb\": 0}",
		       "key \"reassembly_kb\" must be between 1 and 16384");
	expect_invalid("{\"bypass_after_kb\": 4194305}",
		       "key \"bypass_after_kb\" must be between 0 and 4194304");
	expect_invalid("{\"max_sessions\": 0}", "key \"max_sessions\" must be between 1 and");
	expect_invalid("{\"max_sessions\": 4294967296}", "key \"max_sessions\" must be between");
	expect_invalid("{\"max_sessions\": 99999999999999999999999}", "too big integer");
	config_defaults(&cfg);
	ck_assert_int_eq(parse(&cfg, "{\"workers\": 1024, \"max_sessions\": 4294967295}"), 0);
	ck_assert_uint_eq(cfg.workers, 1024);
	ck_assert_uint_eq(cfg.max_sessions, 4294967295UL);
	ck_assert_int_eq(parse(&cfg, "{\"workers\": 0, \"max_sessions\": 1}"), 0);
	ck_assert_uint_eq(cfg.workers, 0);
	ck_assert_uint_eq(cfg.max_sessions, 1);
}
END_TEST

START_TEST(test_bad_enums)
{
	expect_invalid("{\"mode\": \"drop\"}", "key \"mode\" must be off, pass, tap or fwd");
	expect_invalid("{\"mode\": \"FWD\"}", "key \"mode\" must be off, pass, tap or fwd");
	expect_invalid("{\"on_failure\": \"maybe\"}", "key \"on_failure\" must be open or closed");
	expect_invalid("{\"dp_down\": \"\"}", "key \"dp_down\" must be open or closed");
	expect_invalid("{\"backend\": \"xdp\"}", "key \"backend\" must be auto, bpf or tc-pedit");
	expect_invalid("{\"log_level\": \"trace\"}",
		       "key \"log_level\" must be error, warn, info or debug");
}
END_TEST

START_TEST(test_enum_values)
{
	struct pc_config cfg;

	config_defaults(&cfg);
	ck_assert_int_eq(parse(&cfg, "{\"backend\": \"bpf\", \"log_level\": \"warn\"}"), 0);
	ck_assert_int_eq(cfg.backend, BACKEND_BPF);
	ck_assert_int_eq(cfg.log_level, LOG_WARN);
	ck_assert_int_eq(parse(&cfg, "{\"mode\": \"pass\", \"log_level\": \"error\"}"), 0);
	ck_assert_int_eq(cfg.mode, MODE_PASS);
	ck_assert_int_eq(cfg.log_level, LOG_ERR);
}
END_TEST

START_TEST(test_paths)
{
	char *json = malloc(PATH_MAX + 64);
	char *p;

	expect_invalid("{\"state_dir\": \"\"}", "key \"state_dir\" must not be empty");
	expect_invalid("{\"policy\": \"etc/p.json\"}", "key \"policy\" must be an absolute path");
	expect_invalid("{\"enforcer_netns\": \"portcullis\"}",
		       "key \"enforcer_netns\" must be an absolute path");
	expect_invalid("{\"session_log\": \"out.jsonl\"}",
		       "key \"session_log\" must be an absolute path or \"-\"");
	expect_invalid("{\"ctl_socket\": \"-\"}", "key \"ctl_socket\" must be an absolute path");
	/* PATH_MAX characters do not fit with their terminating NUL */
	ck_assert_ptr_nonnull(json);
	p = json + sprintf(json, "{\"bpf_pin_dir\": \"");
	memset(p, 'a', PATH_MAX);
	p[0] = '/';
	strcpy(p + PATH_MAX, "\"}");
	expect_invalid(json, "key \"bpf_pin_dir\" is longer than 4095 bytes");
	free(json);
}
END_TEST

START_TEST(test_port_names)
{
	struct pc_config cfg;

	expect_invalid("{\"bridge_port\": \"\"}", "key \"bridge_port\" must not be empty");
	expect_invalid("{\"dp_port\": \"0123456789abcdef\"}",
		       "key \"dp_port\" is longer than 15 bytes");
	expect_invalid("{\"dp_port\": \"a/b\"}", "key \"dp_port\" is not a valid interface name");
	expect_invalid("{\"dp_port\": \"a:b\"}", "key \"dp_port\" is not a valid interface name");
	expect_invalid("{\"dp_port\": \"a b\"}", "key \"dp_port\" is not a valid interface name");
	expect_invalid("{\"dp_port\": \"..\"}", "key \"dp_port\" is not a valid interface name");
	expect_invalid("{\"dp_port\": \"vbr-neuv\"}",
		       "keys \"bridge_port\" and \"dp_port\" must differ");
	config_defaults(&cfg);
	ck_assert_int_eq(parse(&cfg, "{\"dp_port\": \"0123456789abcde\"}"), 0);
	ck_assert_str_eq(cfg.dp_port, "0123456789abcde");
}
END_TEST

START_TEST(test_bad_json)
{
	struct pc_config cfg, ref;

	expect_invalid("{\"mode\": \"fwd\"", "config test.json: line 1");
	expect_invalid("{\"mode\": \"fwd\",}", "config test.json: line 1");
	expect_invalid("mode = fwd", "config test.json: line 1");
	expect_invalid("", "config test.json:");
	expect_invalid("   \n", "config test.json:");
	expect_invalid("{} {}", "end of file expected");
	expect_invalid("[\"mode\"]", "config test.json: top level must be an object");
	expect_invalid("{\"mode\": \"off\", \"mode\": \"tap\"}", "duplicate object key");
	expect_invalid("{\"policy\": \"/a\\u0000b\"}", "config test.json");
	/* a NUL byte inside the buffer is not the end of the input */
	config_defaults(&cfg);
	config_defaults(&ref);
	ck_assert_int_eq(config_parse(&cfg, "{}\0garbage", 10, "nul"), -EINVAL);
	ck_assert_mem_eq(&cfg, &ref, sizeof(cfg));
	ck_assert_int_eq(config_parse(&cfg, "{\"jumbo\": true}", 3, "short"), -EINVAL);
	ck_assert(!cfg.jumbo);
}
END_TEST

START_TEST(test_load_explicit_and_env)
{
	char a[128], b[128];
	struct pc_config cfg;

	make_tmpdir();
	snprintf(a, sizeof(a), "%s/a.json", tmpdir);
	snprintf(b, sizeof(b), "%s/b.json", tmpdir);
	write_file(a, "{\"mode\": \"tap\"}", 15);
	write_file(b, "{\"mode\": \"pass\"}", 16);
	setenv(CONFIG_ENV, b, 1);
	ck_assert_int_eq(config_load(&cfg, a), 0);
	ck_assert_int_eq(cfg.mode, MODE_TAP);
	ck_assert_int_eq(config_load(&cfg, NULL), 0);
	ck_assert_int_eq(cfg.mode, MODE_PASS);
	ck_assert_str_eq(cfg.state_dir, "/run/portcullis");
	unsetenv(CONFIG_ENV);
	remove_tmpdir();
}
END_TEST

START_TEST(test_load_errors)
{
	char path[128], *big;
	struct pc_config cfg;

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
	ck_assert_int_eq(config_load(&cfg, path), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err_msg(), "missing.json"));
	setenv(CONFIG_ENV, path, 1);
	ck_assert_int_eq(config_load(&cfg, NULL), -ENOENT);
	unsetenv(CONFIG_ENV);
	ck_assert_int_eq(config_load(&cfg, ""), -EINVAL);
	ck_assert_int_eq(config_load(&cfg, tmpdir), -EISDIR);

	snprintf(path, sizeof(path), "%s/bad.json", tmpdir);
	write_file(path, "{\"mode\": \"tap\", \"nope\": 1}", 26);
	ck_assert_int_eq(config_load(&cfg, path), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "bad.json: unknown key \"nope\""));
	ck_assert_int_eq(cfg.mode, MODE_FWD); /* defaults hold after a failure */

	big = malloc(1024 * 1024 + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', 1024 * 1024 + 2);
	big[0] = '{';
	big[1024 * 1024 + 1] = '}';
	snprintf(path, sizeof(path), "%s/big.json", tmpdir);
	write_file(path, big, 1024 * 1024 + 2);
	ck_assert_int_eq(config_load(&cfg, path), -EFBIG);
	ck_assert_ptr_nonnull(strstr(err_msg(), "larger than 1 MiB"));
	/* exactly 1 MiB is fine */
	big[1024 * 1024 - 1] = '}';
	write_file(path, big, 1024 * 1024);
	ck_assert_int_eq(config_load(&cfg, path), 0);
	free(big);
	remove_tmpdir();
}
END_TEST

START_TEST(test_load_default_missing)
{
	struct pc_config cfg, ref;

	if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		return; /* a real host configuration exists: nothing to assert */
	unsetenv(CONFIG_ENV);
	memset(&cfg, 0, sizeof(cfg));
	config_defaults(&ref);
	ck_assert_int_eq(config_load(&cfg, NULL), 0);
	ck_assert_mem_eq(&cfg, &ref, sizeof(cfg));
	setenv(CONFIG_ENV, "", 1); /* empty means unset */
	ck_assert_int_eq(config_load(&cfg, NULL), 0);
	unsetenv(CONFIG_ENV);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_parse_all_keys);
	tcase_add_test(tc, test_parse_partial_keeps_rest);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_number_ranges);
	tcase_add_test(tc, test_bad_enums);
	tcase_add_test(tc, test_enum_values);
	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_port_names);
	tcase_add_test(tc, test_bad_json);
	tcase_add_test(tc, test_load_explicit_and_env);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_load_default_missing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
