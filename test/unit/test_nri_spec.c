/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What portcullis-nri takes from a pod, by its rules of trust: names from
 * the runtime's fields only, the mode annotation only when allowed, a group
 * only when well-formed, and nothing unprintable into records.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/config.h"
#include "lib/core/err.h"
#include "nri/pods/spec.h"

static struct nri_kv ann[4], lab[2];

static struct nri_pod pod(void)
{
	return (struct nri_pod){
		.id = "0123abcd",
		.name = "web-0",
		.namespace = "shop",
		.uid = "u-1",
		.netns = "/var/run/netns/cni-1",
		.pid = 4242,
		.labels = lab,
		.annotations = ann,
	};
}

static struct pc_config cfg(bool allow)
{
	struct pc_config c;

	config_defaults(&c);
	c.mode = MODE_TAP;
	c.allow_mode_annotation = allow;
	return c;
}

START_TEST(test_names_from_the_runtime)
{
	struct pc_config c = cfg(false);
	struct nri_pod p = pod();
	struct spec s;

	ann[0] = (struct nri_kv){ "io.kubernetes.pod.name", "kube-apiserver" };
	ann[1] = (struct nri_kv){ "io.kubernetes.pod.namespace", "kube-system" };
	p.n_annotations = 2;
	ck_assert_int_eq(spec_from_pod(&c, &p, &s), 0);
	ck_assert_str_eq(s.pod.sandbox.id, "0123abcd");
	ck_assert_str_eq(s.pod.sandbox.k8s_pod, "web-0");
	ck_assert_str_eq(s.pod.sandbox.k8s_namespace, "shop");
	ck_assert_str_eq(s.pod.sandbox.k8s_container, "");
	ck_assert_str_eq(s.pod.sandbox.name, "web-0");
	ck_assert_str_eq(s.pod.netns, "/var/run/netns/cni-1");
	ck_assert_ptr_eq(s.pod.netns, s.netns);
	ck_assert_int_eq(s.pod.sandbox.pid, 4242);
	ck_assert(s.pod.sandbox.sandbox);
	ck_assert_int_eq(s.pod.mode, MODE_TAP);
	ck_assert_str_eq(s.pod.sandbox.group, "");
}
END_TEST

START_TEST(test_mode_annotation)
{
	struct pc_config deny = cfg(false), allow = cfg(true);
	struct nri_pod p = pod();
	struct spec s;

	ann[0] = (struct nri_kv){ "io.portcullis.mode", "off" };
	p.n_annotations = 1;
	ck_assert_int_eq(spec_from_pod(&deny, &p, &s), 0);
	ck_assert_int_eq(s.pod.mode, MODE_TAP);
	ck_assert_int_eq(spec_from_pod(&allow, &p, &s), 0);
	ck_assert_int_eq(s.pod.mode, MODE_OFF);
	ann[0].value = "fwd";
	ck_assert_int_eq(spec_from_pod(&allow, &p, &s), 0);
	ck_assert_int_eq(s.pod.mode, MODE_FWD);
	/* not a mode: the configured one */
	ann[0].value = "OFF\n";
	ck_assert_int_eq(spec_from_pod(&allow, &p, &s), 0);
	ck_assert_int_eq(s.pod.mode, MODE_TAP);
	/* a label is not an annotation */
	p.n_annotations = 0;
	lab[0] = (struct nri_kv){ "io.portcullis.mode", "off" };
	p.n_labels = 1;
	ck_assert_int_eq(spec_from_pod(&allow, &p, &s), 0);
	ck_assert_int_eq(s.pod.mode, MODE_TAP);
}
END_TEST

START_TEST(test_group)
{
	static const char *const bad[] = {
		"",    "a b", "web;db",
		"g\n", "ünï", "0123456789012345678901234567890123456789012345678901234567890123"
	};
	struct pc_config c = cfg(false);
	struct nri_pod p = pod();
	struct spec s;

	lab[0] = (struct nri_kv){ "io.portcullis.group", "from-label" };
	p.n_labels = 1;
	ck_assert_int_eq(spec_from_pod(&c, &p, &s), 0);
	ck_assert_str_eq(s.pod.sandbox.group, "from-label");
	ann[0] = (struct nri_kv){ "io.portcullis.group", "web.tier_1-a" };
	p.n_annotations = 1;
	ck_assert_int_eq(spec_from_pod(&c, &p, &s), 0);
	ck_assert_str_eq(s.pod.sandbox.group, "web.tier_1-a");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ann[0].value = bad[i];
		ck_assert_int_eq(spec_from_pod(&c, &p, &s), 0);
		ck_assert_msg(s.pod.sandbox.group[0] == '\0', "group \"%s\" taken", bad[i]);
	}
	ann[0].value = "012345678901234567890123456789012345678901234567890123456789012";
	ck_assert_int_eq(spec_from_pod(&c, &p, &s), 0);
	ck_assert_str_eq(s.pod.sandbox.group, ann[0].value);
}
END_TEST

START_TEST(test_unusable)
{
	struct pc_config c = cfg(false);
	struct nri_pod p = pod();
	char longpath[PATH_MAX + 8];
	struct spec s;

	p.id = "";
	ck_assert_int_eq(spec_from_pod(&c, &p, &s), -EINVAL);
	p.id = "ab/cd";
	ck_assert_int_eq(spec_from_pod(&c, &p, &s), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "forbidden character at offset 2"));
	p.id = "ab cd";
	ck_assert_int_eq(spec_from_pod(&c, &p, &s), -EINVAL);
	p = pod();
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	p.netns = longpath;
	ck_assert_int_eq(spec_from_pod(&c, &p, &s), -EINVAL);
	/* no netns: a pod on the host's network, left to pod_intercept to skip */
	p.netns = "";
	ck_assert_int_eq(spec_from_pod(&c, &p, &s), 0);
	ck_assert_str_eq(s.pod.netns, "");
}
END_TEST

START_TEST(test_plain_text)
{
	struct pc_config c = cfg(false);
	struct nri_pod p = pod();
	struct nri_ctr ctr = {
		.id = "c1", .pod_id = "0123abcd", .name = "app\n\x1b[31m", .pid = 9
	};
	struct state_ctr out;
	struct spec s;
	char buf[2 * ERR_SHOWN_MAX + 2];

	p.name = "we\tb\xc3\xa9";
	ck_assert_int_eq(spec_from_pod(&c, &p, &s), 0);
	ck_assert_str_eq(s.pod.sandbox.k8s_pod, "we?b??");
	ck_assert_str_eq(spec_name(&p, buf, sizeof(buf)), "shop/we?b??");
	spec_ctr(&p, &ctr, &out);
	ck_assert_str_eq(out.id, "c1");
	ck_assert_str_eq(out.k8s_container, "app??[31m");
	ck_assert_str_eq(out.k8s_pod, "we?b??");
	ck_assert_str_eq(out.k8s_namespace, "shop");
	ck_assert_int_eq(out.pid, 9);
	ck_assert(!out.sandbox);
	ctr.id = "c 1";
	spec_ctr(&p, &ctr, &out);
	ck_assert_str_eq(out.id, ""); /* not recorded */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nri_spec");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_names_from_the_runtime);
	tcase_add_test(tc, test_mode_annotation);
	tcase_add_test(tc, test_group);
	tcase_add_test(tc, test_unusable);
	tcase_add_test(tc, test_plain_text);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
