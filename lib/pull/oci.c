/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI state document a runtime writes to a hook's stdin, and the few
 * things the hook wants from the bundle's config.json.  Both are untrusted
 * input: every field is type- and length-checked before it is copied.
 */
#include "oci.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/core/config.h"
#include "lib/core/err.h"
#include "lib/core/fsutil.h"
#include "lib/core/jfield.h"
#include "lib/core/log.h"
#include "lib/core/util.h"

#define OCI_BUNDLE_CONFIG_MAX (4 * 1024 * 1024)
#define OCI_PID_MAX 4194304 /* PID_MAX_LIMIT */

/* "io.portcullis.mode": empty, or a mode's name */
static int check_mode(void *base, const json_t *v, const struct jfield *f, const char *where)
{
	enum pc_mode mode;
	const char *s = json_string_value(v);

	if (s[0] && config_parse_mode(s, &mode) < 0)
		return err_set(-EINVAL, "%s: key \"%s\" must be off, pass, tap or fwd", where,
			       f->key);
	return 0;
}

#define ANN(key, member, check)                                                                    \
	{                                                                                          \
		key, JF_STR, JF_FIELD(struct oci_state, member), 0, 0, check, false                \
	}

static const struct jfield ann_fields[] = {
	ANN("io.portcullis.mode", mode, check_mode),
	ANN("io.portcullis.group", group, NULL),
	/* K8S_FIRST: as CRI-O records them */
	ANN("io.kubernetes.pod.name", k8s_pod, NULL),
	ANN("io.kubernetes.pod.namespace", k8s_namespace, NULL),
	ANN("io.kubernetes.container.name", k8s_container, NULL),
};

/*
 * The Kubernetes names as containerd's CRI records them, beside CRI-O's
 * io.kubernetes.pod.* (ann_fields[K8S_FIRST..]): in this order, pod,
 * namespace, container.
 */
#define K8S_FIRST 2
static const char *const cri_keys[] = {
	"io.kubernetes.cri.sandbox-name",
	"io.kubernetes.cri.sandbox-namespace",
	"io.kubernetes.cri.container-name",
};

/*
 * containerd's names into got (present: which fields ann set).  Where both
 * runtimes' keys are there and disagree, one of them was not written by
 * the runtime (a pod's own annotation passed through): no Kubernetes name
 * is recorded then, since policy selects by them.
 */
static int cri_names(const json_t *ann, struct oci_state *got, bool *present, const char *where)
{
	bool conflict = false;

	for (size_t j = 0; j < ARRAY_SIZE(cri_keys); j++) {
		const struct jfield *f = &ann_fields[K8S_FIRST + j];
		const json_t *v = json_object_get(ann, cri_keys[j]);
		char *dst = (char *)got + f->off;

		if (!v)
			continue;
		if (!json_is_string(v))
			return err_set(-EINVAL, "%s: key \"%s\" must be a string", where,
				       cri_keys[j]);
		if (json_string_length(v) >= f->size)
			return err_set(-EINVAL, "%s: key \"%s\" is longer than %zu bytes", where,
				       cri_keys[j], f->size - 1);
		if (present[K8S_FIRST + j] && strcmp(dst, json_string_value(v)) != 0)
			conflict = true;
		memcpy(dst, json_string_value(v), json_string_length(v) + 1);
		present[K8S_FIRST + j] = true;
	}
	for (size_t j = 0; conflict && j < ARRAY_SIZE(cri_keys); j++) {
		((char *)got + ann_fields[K8S_FIRST + j].off)[0] = '\0';
		present[K8S_FIRST + j] = true;
	}
	if (conflict)
		pr_warn("%s: two runtimes' Kubernetes names disagree: none recorded", where);
	return 0;
}

/*
 * The annotations portcullis reads, into st; only_empty: only where st has
 * none yet (the bundle's, after the state's).  Others are not looked at.
 */
static int copy_annotations(const json_t *ann, struct oci_state *st, bool only_empty,
			    const char *origin)
{
	bool present[ARRAY_SIZE(ann_fields)];
	struct oci_state got = { 0 };
	char where[64];
	int ret;

	if (!ann)
		return 0;
	snprintf(where, sizeof(where), "%s: annotations", origin);
	ret = jfield_read(ann, &got, ann_fields, ARRAY_SIZE(ann_fields), JF_IGNORE_UNKNOWN, where);
	for (size_t i = 0; i < ARRAY_SIZE(ann_fields); i++)
		present[i] = json_object_get(ann, ann_fields[i].key) != NULL;
	if (ret == 0)
		ret = cri_names(ann, &got, present, where);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(ann_fields); i++) {
		const struct jfield *f = &ann_fields[i];
		char *dst = (char *)st + f->off;

		if (present[i] && !(only_empty && dst[0]))
			memcpy(dst, (char *)&got + f->off, f->size);
	}
	return 0;
}

static int parse_id(const json_t *v, char id[OCI_ID_MAX])
{
	const char *s;
	size_t n;

	if (!v)
		return err_set(-EINVAL, "state: id is missing");
	if (!json_is_string(v))
		return err_set(-EINVAL, "state: id is not a string");
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0)
		return err_set(-EINVAL, "state: id is empty");
	if (n >= OCI_ID_MAX)
		return err_set(-EINVAL, "state: id is longer than %d bytes", OCI_ID_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || c == '/')
			return err_set(-EINVAL,
				       "state: id has a forbidden character (0x%02x) at offset %zu",
				       c, i);
	}
	memcpy(id, s, n + 1);
	return 0;
}

static int parse_pid(const json_t *v, pid_t *pid)
{
	json_int_t n;

	*pid = 0;
	if (!v)
		return 0;
	if (!json_is_integer(v))
		return err_set(-EINVAL, "state: pid is not an integer");
	n = json_integer_value(v);
	if (n < 0)
		return err_set(-EINVAL, "state: pid %lld is negative", (long long)n);
	if (n > OCI_PID_MAX)
		return err_set(-EINVAL, "state: pid %lld is larger than %d", (long long)n,
			       OCI_PID_MAX);
	*pid = (pid_t)n;
	return 0;
}

/* An optional string member; absent leaves dst as it is. */
static int opt_string(const json_t *obj, const char *key, char *dst, size_t size)
{
	const json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return err_set(-EINVAL, "state: %s is not a string", key);
	if (json_string_length(v) >= size)
		return err_set(-EINVAL, "state: %s is longer than %zu bytes", key, size - 1);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int state_fields(const json_t *root, struct oci_state *st)
{
	int ret;

	if (!json_is_object(root))
		return err_set(-EINVAL, "state: not a JSON object");
	ret = parse_id(json_object_get(root, "id"), st->id);
	if (ret < 0)
		return ret;
	ret = opt_string(root, "status", st->status, sizeof(st->status));
	if (ret < 0)
		return ret;
	ret = parse_pid(json_object_get(root, "pid"), &st->pid);
	if (ret < 0)
		return ret;
	ret = opt_string(root, "bundle", st->bundle, sizeof(st->bundle));
	if (ret < 0)
		return ret;
	if (st->bundle[0] && st->bundle[0] != '/')
		return err_set(-EINVAL, "state: bundle is not an absolute path");
	return copy_annotations(json_object_get(root, "annotations"), st, false, "state");
}

int oci_state_parse(const char *buf, size_t len, struct oci_state *st)
{
	json_error_t jerr;
	json_t *root;
	int ret;

	memset(st, 0, sizeof(*st));
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return err_set(-EINVAL, "state: line %d column %d: %s", jerr.line, jerr.column,
			       jerr.text);
	ret = state_fields(root, st);
	json_decref(root);
	if (ret < 0)
		memset(st, 0, sizeof(*st));
	return ret;
}

int oci_state_read(int fd, struct oci_state *st)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = fs_read_all(fd, OCI_STATE_MAX, &buf, &len);
	if (ret == -EFBIG)
		return err_set(ret, "state: larger than 1 MiB");
	if (ret < 0)
		return err_set(ret, "state: read");
	if (len == 0) {
		free(buf);
		return err_set(-ENODATA, "state: empty input");
	}
	ret = oci_state_parse(buf, len, st);
	free(buf);
	return ret;
}

/* linux.namespaces[] entry of type "network": its path, or "". */
static int bundle_netns(const json_t *root, const char *file, char *out, size_t len)
{
	const json_t *linux_obj, *nss, *ns, *type, *path;
	size_t i;

	linux_obj = json_object_get(root, "linux");
	if (!linux_obj)
		return 0;
	if (!json_is_object(linux_obj))
		return err_set(-EINVAL, "bundle %s: linux is not an object", file);
	nss = json_object_get(linux_obj, "namespaces");
	if (!nss)
		return 0;
	if (!json_is_array(nss))
		return err_set(-EINVAL, "bundle %s: linux.namespaces is not an array", file);
	json_array_foreach(nss, i, ns) {
		type = json_object_get(ns, "type");
		if (!json_is_string(type))
			return err_set(-EINVAL,
				       "bundle %s: linux.namespaces[%zu].type is not a string",
				       file, i);
		if (strcmp(json_string_value(type), "network") != 0)
			continue;
		path = json_object_get(ns, "path");
		if (!path)
			return 0;
		if (!json_is_string(path) || json_string_value(path)[0] != '/')
			return err_set(
				-EINVAL,
				"bundle %s: linux.namespaces[%zu].path is not an absolute path",
				file, i);
		if (json_string_length(path) >= len)
			return err_set(
				-EINVAL,
				"bundle %s: linux.namespaces[%zu].path is longer than %zu bytes",
				file, i, len - 1);
		memcpy(out, json_string_value(path), json_string_length(path) + 1);
		return 0;
	}
	return 0;
}

static int bundle_load(const char *file, json_t **root)
{
	json_error_t jerr;
	char *buf = NULL;
	size_t len = 0;
	int fd, ret;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_set(-errno, "bundle %s", file);
	ret = fs_read_all(fd, OCI_BUNDLE_CONFIG_MAX, &buf, &len);
	close(fd);
	if (ret == -EFBIG)
		return err_set(ret, "bundle %s: larger than 4 MiB", file);
	if (ret < 0)
		return err_set(ret, "bundle %s: read", file);
	*root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!*root)
		return err_set(-EINVAL, "bundle %s: line %d column %d: %s", file, jerr.line,
			       jerr.column, jerr.text);
	if (!json_is_object(*root)) {
		json_decref(*root);
		return err_set(-EINVAL, "bundle %s: not a JSON object", file);
	}
	return 0;
}

int oci_bundle_read(const char *bundle, char *netns_path, size_t len, struct oci_state *st)
{
	char file[PATH_MAX], origin[PATH_MAX + 8];
	json_t *root = NULL;
	int ret;

	if (netns_path && len)
		netns_path[0] = '\0';
	if (!bundle || !*bundle)
		return err_set(-EINVAL, "bundle: no path");
	if ((size_t)snprintf(file, sizeof(file), "%s/config.json", bundle) >= sizeof(file))
		return err_set(-EINVAL, "bundle %s: path too long", bundle);
	ret = bundle_load(file, &root);
	if (ret < 0)
		return ret;
	if (netns_path && len)
		ret = bundle_netns(root, file, netns_path, len);
	snprintf(origin, sizeof(origin), "bundle %s", file);
	if (ret == 0 && st)
		ret = copy_annotations(json_object_get(root, "annotations"), st, true, origin);
	json_decref(root);
	if (ret < 0 && netns_path && len)
		netns_path[0] = '\0';
	return ret;
}
