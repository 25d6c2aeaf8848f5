/* SPDX-License-Identifier: Apache-2.0 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/err.h"
#include "lib/pull/ctrname.h"
#include "lib/pull/oci.h"

static struct oci_state st;

static int parse(const char *json)
{
	return oci_state_parse(json, strlen(json), &st);
}

/* Parse must fail with -EINVAL, leave st zeroed and say `needle`. */
static void expect_invalid(const char *json, const char *needle)
{
	static const struct oci_state zero;

	memset(&st, 0x5a, sizeof(st));
	err_clear();
	ck_assert_int_eq(parse(json), -EINVAL);
	ck_assert_msg(strstr(err_msg(), needle), "message \"%s\" lacks \"%s\"", err_msg(), needle);
	ck_assert_msg(memcmp(&st, &zero, sizeof(st)) == 0, "st not cleared on error");
}

START_TEST(test_prestart_state)
{
	ck_assert_int_eq(parse("{\"ociVersion\": \"1.0.2\", \"id\": \"abc123\", \"status\": "
			       "\"created\", \"pid\": 4242, \"bundle\": \"/run/b/abc123\"}"),
			 0);
	ck_assert_str_eq(st.id, "abc123");
	ck_assert_str_eq(st.status, "created");
	ck_assert_int_eq(st.pid, 4242);
	ck_assert_str_eq(st.bundle, "/run/b/abc123");
	ck_assert_str_eq(st.mode, "");
	ck_assert_str_eq(st.group, "");
	ck_assert_str_eq(st.k8s_pod, "");
}
END_TEST

START_TEST(test_poststop_state)
{
	ck_assert_int_eq(parse("{\"id\": \"c1\", \"status\": \"stopped\", \"bundle\": \"/b\"}"), 0);
	ck_assert_int_eq(st.pid, 0);
	ck_assert_str_eq(st.status, "stopped");
	ck_assert_int_eq(parse("{\"id\": \"c1\", \"pid\": 0}"), 0);
	ck_assert_int_eq(st.pid, 0);
	ck_assert_str_eq(st.bundle, "");
	ck_assert_str_eq(st.status, "");
	/* unknown members are ignored */
	ck_assert_int_eq(parse("{\"id\": \"c1\", \"extra\": [1, {\"x\": null}]}"), 0);
	ck_assert_str_eq(st.id, "c1");
}
END_TEST

START_TEST(test_pid)
{
	expect_invalid("{\"id\": \"c\", \"pid\": \"12\"}", "state: pid is not an integer");
	expect_invalid("{\"id\": \"c\", \"pid\": 1.5}", "state: pid is not an integer");
	expect_invalid("{\"id\": \"c\", \"pid\": 12.0}", "state: pid is not an integer");
	expect_invalid("{\"id\": \"c\", \"pid\": null}", "state: pid is not an integer");
	expect_invalid("{\"id\": \"c\", \"pid\": true}", "state: pid is not an integer");
	expect_invalid("{\"id\": \"c\", \"pid\": -1}", "state: pid -1 is negative");
	expect_invalid("{\"id\": \"c\", \"pid\": 4194305}", "state: pid 4194305 is larger than");
	expect_invalid("{\"id\": \"c\", \"pid\": 99999999999999999999}", "too big integer");
	ck_assert_int_eq(parse("{\"id\": \"c\", \"pid\": 4194304}"), 0);
	ck_assert_int_eq(st.pid, 4194304);
	ck_assert_int_eq(parse("{\"id\": \"c\", \"pid\": 1}"), 0);
	ck_assert_int_eq(st.pid, 1);
}
END_TEST

START_TEST(test_id)
{
	char json[600], id[300];

	expect_invalid("{\"pid\": 1}", "state: id is missing");
	expect_invalid("{\"id\": 7}", "state: id is not a string");
	expect_invalid("{\"id\": null}", "state: id is not a string");
	expect_invalid("{\"id\": \"\"}", "state: id is empty");
	expect_invalid("{\"id\": \"a/b\"}", "forbidden character (0x2f) at offset 1");
	expect_invalid("{\"id\": \"a b\"}", "forbidden character (0x20) at offset 1");
	expect_invalid("{\"id\": \"ab\\t\"}", "forbidden character (0x09) at offset 2");
	expect_invalid("{\"id\": \"\\u00e9\"}", "forbidden character (0xc3) at offset 0");
	expect_invalid("{\"id\": \"x\\u007f\"}", "forbidden character (0x7f) at offset 1");

	memset(id, 'a', 255);
	id[255] = '\0';
	snprintf(json, sizeof(json), "{\"id\": \"%s\"}", id);
	ck_assert_int_eq(parse(json), 0);
	ck_assert_str_eq(st.id, id);
	snprintf(json, sizeof(json), "{\"id\": \"%sb\"}", id);
	expect_invalid(json, "state: id is longer than 255 bytes");

	ck_assert_int_eq(parse("{\"id\": \"k8s_POD.x-y:z@1~!\"}"), 0);
	ck_assert_str_eq(st.id, "k8s_POD.x-y:z@1~!");
}
END_TEST

START_TEST(test_other_fields)
{
	char json[5000], bundle[4200];

	expect_invalid("{\"id\": \"c\", \"status\": 3}", "state: status is not a string");
	expect_invalid("{\"id\": \"c\", \"status\": \"0123456789012345678901234567890123\"}",
		       "state: status is longer than 31 bytes");
	expect_invalid("{\"id\": \"c\", \"bundle\": [\"/b\"]}", "state: bundle is not a string");
	expect_invalid("{\"id\": \"c\", \"bundle\": \"rel/b\"}",
		       "state: bundle is not an absolute path");
	bundle[0] = '/';
	memset(bundle + 1, 'b', PATH_MAX - 1);
	bundle[PATH_MAX] = '\0';
	snprintf(json, sizeof(json), "{\"id\": \"c\", \"bundle\": \"%s\"}", bundle);
	expect_invalid(json, "state: bundle is longer than 4095 bytes");
	bundle[PATH_MAX - 1] = '\0';
	snprintf(json, sizeof(json), "{\"id\": \"c\", \"bundle\": \"%s\"}", bundle);
	ck_assert_int_eq(parse(json), 0);
	ck_assert_uint_eq(strlen(st.bundle), PATH_MAX - 1);
}
END_TEST

START_TEST(test_annotations)
{
	char json[1024], name[300];

	ck_assert_int_eq(parse("{\"id\": \"c\", \"annotations\": {"
			       "\"io.portcullis.mode\": \"tap\", \"io.portcullis.group\": \"web\","
			       "\"io.kubernetes.pod.name\": \"pod-1\","
			       "\"io.kubernetes.pod.namespace\": \"default\","
			       "\"io.kubernetes.container.name\": \"nginx\","
			       "\"other\": 5}}"),
			 0);
	ck_assert_str_eq(st.mode, "tap");
	ck_assert_str_eq(st.group, "web");
	ck_assert_str_eq(st.k8s_pod, "pod-1");
	ck_assert_str_eq(st.k8s_namespace, "default");
	ck_assert_str_eq(st.k8s_container, "nginx");

	ck_assert_int_eq(parse("{\"id\": \"c\", \"annotations\": {\"io.portcullis.mode\": \"\"}}"),
			 0);
	ck_assert_str_eq(st.mode, "");
	expect_invalid(
		"{\"id\": \"c\", \"annotations\": {\"io.portcullis.mode\": \"drop\"}}",
		"state: annotations: key \"io.portcullis.mode\" must be off, pass, tap or fwd");
	expect_invalid("{\"id\": \"c\", \"annotations\": {\"io.portcullis.group\": 1}}",
		       "state: annotations: key \"io.portcullis.group\" must be a string");
	expect_invalid("{\"id\": \"c\", \"annotations\": [\"io.portcullis.group\"]}",
		       "state: annotations: must be an object");
	memset(name, 'p', 256);
	name[256] = '\0';
	snprintf(json, sizeof(json),
		 "{\"id\": \"c\", \"annotations\": {\"io.kubernetes.pod.name\": \"%s\"}}", name);
	expect_invalid(
		json,
		"state: annotations: key \"io.kubernetes.pod.name\" is longer than 255 bytes");
	name[255] = '\0';
	snprintf(json, sizeof(json),
		 "{\"id\": \"c\", \"annotations\": {\"io.kubernetes.pod.name\": \"%s\"}}", name);
	ck_assert_int_eq(parse(json), 0);
	ck_assert_str_eq(st.k8s_pod, name);
}
END_TEST

START_TEST(test_bad_json)
{
	expect_invalid("{\"id\": \"abc\"", "state: line 1");
	expect_invalid("{\"id\": \"abc\", ", "state: line 1");
	expect_invalid("id=abc", "state: line 1");
	expect_invalid("", "state: line");
	expect_invalid("[{\"id\": \"abc\"}]", "state: not a JSON object");
	expect_invalid("{\"id\": \"a\", \"id\": \"b\"}", "duplicate object key");
	expect_invalid("{\"id\": \"abc\"} trailing", "end of file expected");
	expect_invalid("{\"id\": \"a\\u0000b\"}", "state:");
	expect_invalid("{\"id\": \"\xff\xfe\"}", "state:");
	ck_assert_int_eq(oci_state_parse("{\"id\": \"abc\"}", 5, &st), -EINVAL);
}
END_TEST

static int tmp_fd(const char *text, size_t len)
{
	FILE *f = tmpfile();
	int fd;

	ck_assert_ptr_nonnull(f);
	fd = dup(fileno(f));
	fclose(f);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

START_TEST(test_read_fd)
{
	static const char doc[] = "{\"id\": \"fromfd\", \"pid\": 7}";
	int fd, pfd[2];

	fd = tmp_fd(doc, strlen(doc));
	ck_assert_int_eq(oci_state_read(fd, &st), 0);
	ck_assert_str_eq(st.id, "fromfd");
	ck_assert_int_eq(st.pid, 7);
	close(fd);

	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(write(pfd[1], doc, strlen(doc)), (ssize_t)strlen(doc));
	close(pfd[1]);
	ck_assert_int_eq(oci_state_read(pfd[0], &st), 0);
	ck_assert_str_eq(st.id, "fromfd");
	close(pfd[0]);

	fd = tmp_fd("", 0);
	ck_assert_int_eq(oci_state_read(fd, &st), -ENODATA);
	ck_assert_ptr_nonnull(strstr(err_msg(), "state: empty input"));
	close(fd);

	ck_assert_int_eq(oci_state_read(-1, &st), -EBADF);
}
END_TEST

START_TEST(test_read_too_big)
{
	size_t len = OCI_STATE_MAX + 1;
	char *big = malloc(len);
	int fd;

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', len);
	memcpy(big, "{\"id\": \"x\"}", 11);
	fd = tmp_fd(big, len);
	ck_assert_int_eq(oci_state_read(fd, &st), -EFBIG);
	ck_assert_ptr_nonnull(strstr(err_msg(), "state: larger than 1 MiB"));
	close(fd);
	fd = tmp_fd(big, len - 1); /* exactly the limit is accepted */
	ck_assert_int_eq(oci_state_read(fd, &st), 0);
	ck_assert_str_eq(st.id, "x");
	close(fd);
	free(big);
}
END_TEST

static char bundle[64];

static void make_bundle(const char *config)
{
	char path[128];
	FILE *f;

	strcpy(bundle, "/tmp/pc-oci-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(bundle));
	if (!config)
		return;
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(config, f);
	ck_assert_int_eq(fclose(f), 0);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void remove_bundle(void)
{
	nftw(bundle, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

START_TEST(test_bundle_netns)
{
	char ns[PATH_MAX];

	make_bundle("{\"ociVersion\": \"1.0.2\", \"linux\": {\"namespaces\": ["
		    "{\"type\": \"pid\"}, {\"type\": \"network\", \"path\": \"/run/netns/cni-1\"},"
		    "{\"type\": \"mount\"}]}}");
	strcpy(ns, "junk");
	ck_assert_int_eq(oci_bundle_read(bundle, ns, sizeof(ns), NULL), 0);
	ck_assert_str_eq(ns, "/run/netns/cni-1");
	ck_assert_int_eq(oci_bundle_read(bundle, ns, 10, NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "linux.namespaces[1].path is longer than 9 bytes"));
	ck_assert_str_eq(ns, "");
	remove_bundle();

	make_bundle("{\"linux\": {\"namespaces\": [{\"type\": \"network\"}]}}");
	strcpy(ns, "junk");
	ck_assert_int_eq(oci_bundle_read(bundle, ns, sizeof(ns), NULL), 0);
	ck_assert_str_eq(ns, "");
	remove_bundle();

	make_bundle("{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}]}}");
	strcpy(ns, "junk");
	ck_assert_int_eq(oci_bundle_read(bundle, ns, sizeof(ns), NULL), 0);
	ck_assert_str_eq(ns, "");
	remove_bundle();

	make_bundle("{\"process\": {}}");
	strcpy(ns, "junk");
	ck_assert_int_eq(oci_bundle_read(bundle, ns, sizeof(ns), NULL), 0);
	ck_assert_str_eq(ns, "");
	remove_bundle();
}
END_TEST

static void expect_bundle_invalid(const char *config, const char *needle)
{
	char ns[PATH_MAX];

	memset(&st, 0, sizeof(st));
	make_bundle(config);
	ck_assert_int_eq(oci_bundle_read(bundle, ns, sizeof(ns), &st), -EINVAL);
	ck_assert_msg(strstr(err_msg(), needle), "message \"%s\" lacks \"%s\"", err_msg(), needle);
	ck_assert_str_eq(ns, "");
	remove_bundle();
}

START_TEST(test_bundle_errors)
{
	char ns[PATH_MAX];

	make_bundle(NULL);
	ck_assert_int_eq(oci_bundle_read(bundle, ns, sizeof(ns), NULL), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err_msg(), "config.json"));
	remove_bundle();
	ck_assert_int_eq(oci_bundle_read("", ns, sizeof(ns), NULL), -EINVAL);

	expect_bundle_invalid("{\"linux\": ", "config.json: line 1");
	expect_bundle_invalid("[]", "config.json: not a JSON object");
	expect_bundle_invalid("{\"linux\": 1}", "config.json: linux is not an object");
	expect_bundle_invalid("{\"linux\": {\"namespaces\": {}}}",
			      "linux.namespaces is not an array");
	expect_bundle_invalid("{\"linux\": {\"namespaces\": [{\"type\": 1}]}}",
			      "linux.namespaces[0].type is not a string");
	expect_bundle_invalid("{\"linux\": {\"namespaces\": [7]}}",
			      "linux.namespaces[0].type is not a string");
	expect_bundle_invalid(
		"{\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"netns\"}]}}",
		"linux.namespaces[0].path is not an absolute path");
	expect_bundle_invalid(
		"{\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": 5}]}}",
		"linux.namespaces[0].path is not an absolute path");
	expect_bundle_invalid(
		"{\"annotations\": {\"io.portcullis.mode\": \"none\"}}",
		"annotations: key \"io.portcullis.mode\" must be off, pass, tap or fwd");
	expect_bundle_invalid("{\"a\": 1, \"a\": 2}", "duplicate object key");
}
END_TEST

START_TEST(test_bundle_annotations)
{
	char ns[PATH_MAX];

	make_bundle("{\"annotations\": {\"io.portcullis.mode\": \"pass\","
		    "\"io.portcullis.group\": \"db\", \"io.kubernetes.pod.name\": \"p\"}}");
	ck_assert_int_eq(
		parse("{\"id\": \"c\", \"annotations\": {\"io.portcullis.mode\": \"off\"}}"), 0);
	ck_assert_int_eq(oci_bundle_read(bundle, ns, sizeof(ns), &st), 0);
	ck_assert_str_eq(st.mode, "off"); /* the state's annotation wins */
	ck_assert_str_eq(st.group, "db");
	ck_assert_str_eq(st.k8s_pod, "p");
	ck_assert_str_eq(st.k8s_namespace, "");
	ck_assert_str_eq(st.id, "c");
	remove_bundle();
}
END_TEST

START_TEST(test_bundle_too_big)
{
	size_t len = 4 * 1024 * 1024 + 1;
	char *big = malloc(len + 1);
	char ns[PATH_MAX];

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	big[len] = '\0';
	make_bundle(big);
	ck_assert_int_eq(oci_bundle_read(bundle, ns, sizeof(ns), NULL), -EFBIG);
	ck_assert_ptr_nonnull(strstr(err_msg(), "larger than 4 MiB"));
	remove_bundle();
	free(big);
}
END_TEST

/* podman's layout: <storage>/overlay-containers/<id>/userdata and containers.json beside <id>. */
static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_name_from_storage)
{
	char path[256], ub[256], name[OCI_NAME_MAX];
	struct oci_state os;

	make_bundle(NULL);
	snprintf(path, sizeof(path), "%s/c0ffee", bundle);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(ub, sizeof(ub), "%s/c0ffee/userdata", bundle);
	ck_assert_int_eq(mkdir(ub, 0700), 0);
	snprintf(path, sizeof(path), "%s/containers.json", bundle);
	write_file(path, "[{\"id\":\"beef\",\"names\":[\"other\"]},"
			 "{\"id\":\"c0ffee\",\"names\":[\"web\",\"alias\"],\"image\":\"x\"}]");
	ck_assert(ctrname_from_storage(ub, "c0ffee", name, sizeof(name)));
	ck_assert_str_eq(name, "web");
	/* a trailing slash is the same bundle */
	strcat(ub, "/");
	ck_assert(ctrname_from_storage(ub, "c0ffee", name, sizeof(name)));
	/* the id must be the bundle's own directory */
	ck_assert(!ctrname_from_storage(ub, "beef", name, sizeof(name)));
	/* a name that does not fit is not cut */
	ck_assert(!ctrname_from_storage(ub, "c0ffee", name, 3));
	/* resolve: storage first, then the Kubernetes name */
	memset(&os, 0, sizeof(os));
	snprintf(os.bundle, sizeof(os.bundle), "%s", ub);
	strcpy(os.id, "c0ffee");
	strcpy(os.k8s_container, "k8s-web");
	ctrname_resolve(&os);
	ck_assert_str_eq(os.name, "web");
	write_file(path, "not json");
	memset(os.name, 0, sizeof(os.name));
	ctrname_resolve(&os);
	ck_assert_str_eq(os.name, "k8s-web");
	/* no storage at all: nothing */
	ck_assert(!ctrname_from_storage("/nonexistent/c0ffee/userdata", "c0ffee", name,
					sizeof(name)));
	ck_assert(!ctrname_from_storage("", "c0ffee", name, sizeof(name)));
	remove_bundle();
}
END_TEST

/*
 * containerd records the Kubernetes names under its own keys; when both
 * runtimes' keys are there and disagree, a pod's own annotation claimed
 * one of them, and no name is recorded.
 */
START_TEST(test_annotations_containerd)
{
	ck_assert_int_eq(parse("{\"id\": \"c\", \"annotations\": {"
			       "\"io.kubernetes.cri.sandbox-name\": \"web-0\","
			       "\"io.kubernetes.cri.sandbox-namespace\": \"shop\","
			       "\"io.kubernetes.cri.container-name\": \"app\"}}"),
			 0);
	ck_assert_str_eq(st.k8s_pod, "web-0");
	ck_assert_str_eq(st.k8s_namespace, "shop");
	ck_assert_str_eq(st.k8s_container, "app");
	ck_assert_int_eq(parse("{\"id\": \"c\", \"annotations\": {"
			       "\"io.kubernetes.cri.sandbox-namespace\": \"shop\","
			       "\"io.kubernetes.pod.namespace\": \"shop\"}}"),
			 0);
	ck_assert_str_eq(st.k8s_namespace, "shop");
	ck_assert_int_eq(parse("{\"id\": \"c\", \"annotations\": {"
			       "\"io.kubernetes.cri.sandbox-name\": \"web-0\","
			       "\"io.kubernetes.cri.sandbox-namespace\": \"shop\","
			       "\"io.kubernetes.pod.namespace\": \"kube-system\"}}"),
			 0);
	ck_assert_str_eq(st.k8s_namespace, "");
	ck_assert_str_eq(st.k8s_pod, "");
	ck_assert_str_eq(st.k8s_container, "");
	expect_invalid("{\"id\": \"c\", \"annotations\": {"
		       "\"io.kubernetes.cri.sandbox-namespace\": 7}}",
		       "key \"io.kubernetes.cri.sandbox-namespace\" must be a string");
}
END_TEST

static Suite *oci_suite(void)
{
	Suite *s = suite_create("oci");
	TCase *tc = tcase_create("state");
	TCase *tb = tcase_create("bundle");

	tcase_add_test(tc, test_prestart_state);
	tcase_add_test(tc, test_annotations_containerd);
	tcase_add_test(tc, test_poststop_state);
	tcase_add_test(tc, test_pid);
	tcase_add_test(tc, test_id);
	tcase_add_test(tc, test_other_fields);
	tcase_add_test(tc, test_annotations);
	tcase_add_test(tc, test_bad_json);
	tcase_add_test(tc, test_read_fd);
	tcase_add_test(tc, test_read_too_big);
	suite_add_tcase(s, tc);
	tcase_add_test(tb, test_bundle_netns);
	tcase_add_test(tb, test_bundle_errors);
	tcase_add_test(tb, test_bundle_annotations);
	tcase_add_test(tb, test_bundle_too_big);
	tcase_add_test(tb, test_name_from_storage);
	suite_add_tcase(s, tb);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(oci_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
