/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's name.  The OCI state and config.json carry only the id;
 * podman and CRI-O keep the name in containers/storage, whose record of
 * every container (containers.json) sits two directories above a bundle of
 * the form <storage>/overlay-containers/<id>/userdata.  Kubernetes runtimes
 * also name the container in an annotation.  Both are best effort: a name
 * that cannot be found is "", and the container is known by its id.
 */
#include "ctrname.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/core/fsutil.h"

#define CTRNAME_STORE_MAX (32 * 1024 * 1024)

/* <dir>/containers.json for a bundle <dir>/<id>/userdata; false otherwise. */
static bool store_path(const char *bundle, const char *id, char *out, size_t len)
{
	char dir[PATH_MAX];
	size_t n = strlen(bundle), idlen = strlen(id);
	const char *tail = "/userdata";
	size_t tlen = strlen(tail);

	while (n > 1 && bundle[n - 1] == '/')
		n--;
	if (!idlen || n >= sizeof(dir) || n < tlen + idlen + 2)
		return false;
	if (memcmp(bundle + n - tlen, tail, tlen) != 0)
		return false;
	n -= tlen;
	if (memcmp(bundle + n - idlen, id, idlen) != 0 || bundle[n - idlen - 1] != '/')
		return false;
	n -= idlen + 1;
	memcpy(dir, bundle, n);
	dir[n] = '\0';
	return (size_t)snprintf(out, len, "%s/containers.json", dir) < len;
}

static json_t *store_load(const char *file)
{
	char *buf = NULL;
	size_t len = 0;
	json_t *root;
	int fd, ret;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	ret = fs_read_all(fd, CTRNAME_STORE_MAX, &buf, &len);
	close(fd);
	if (ret < 0)
		return NULL;
	root = json_loadb(buf, len, 0, NULL);
	free(buf);
	return root;
}

/* names[0] of the entry whose "id" is id, copied when it is a short string. */
static bool store_find(const json_t *root, const char *id, char *name, size_t len)
{
	const json_t *c, *v;
	size_t i;

	if (!json_is_array(root))
		return false;
	json_array_foreach(root, i, c) {
		v = json_object_get(c, "id");
		if (!json_is_string(v) || strcmp(json_string_value(v), id) != 0)
			continue;
		v = json_array_get(json_object_get(c, "names"), 0);
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= len)
			return false;
		memcpy(name, json_string_value(v), json_string_length(v) + 1);
		return true;
	}
	return false;
}

bool ctrname_from_storage(const char *bundle, const char *id, char *name, size_t len)
{
	char file[PATH_MAX];
	json_t *root;
	bool found;

	if (!bundle || !id || !store_path(bundle, id, file, sizeof(file)))
		return false;
	root = store_load(file);
	if (!root)
		return false;
	found = store_find(root, id, name, len);
	json_decref(root);
	return found;
}

void ctrname_resolve(struct oci_state *st)
{
	if (st->name[0])
		return;
	if (ctrname_from_storage(st->bundle, st->id, st->name, sizeof(st->name)))
		return;
	snprintf(st->name, sizeof(st->name), "%s", st->k8s_container);
}
