/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the bundle's config.json reader (lib/pull/oci.c):
 * what the container's creator writes, read by the hook as root.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_file.h"
#include "lib/core/config.h"
#include "lib/pull/oci.h"

/* s is a NUL-terminated string of its field. */
static int terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct oci_state st;
	char path[PATH_MAX], netns[PATH_MAX];
	enum pc_mode mode;
	int ret;

	fuzz_file("config.json", data, size, path);
	memset(&st, 0, sizeof(st));
	strcpy(st.group, "from-the-state"); /* the state's annotations win */
	memset(netns, 'x', sizeof(netns));
	ret = oci_bundle_read(fuzz_folder(), netns, sizeof(netns), &st);
	fuzz_check(terminated(netns, sizeof(netns)));
	fuzz_check(strcmp(st.group, "from-the-state") == 0);
	if (ret < 0) {
		fuzz_check(netns[0] == '\0');
		return 0;
	}
	fuzz_check(netns[0] == '\0' || netns[0] == '/');
	fuzz_check(terminated(st.mode, sizeof(st.mode)) &&
		   terminated(st.k8s_pod, sizeof(st.k8s_pod)) &&
		   terminated(st.k8s_namespace, sizeof(st.k8s_namespace)) &&
		   terminated(st.k8s_container, sizeof(st.k8s_container)));
	fuzz_check(!st.mode[0] || config_parse_mode(st.mode, &mode) == 0);
	return 0;
}
