/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the reader of containers/storage's containers.json
 * (lib/pull/ctrname.c): the record of every container of podman or CRI-O,
 * read by the hook as root for a container's name.  The input is the file;
 * the container asked for is c0ffee.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_file.h"
#include "lib/pull/ctrname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX], bundle[PATH_MAX], name[OCI_NAME_MAX];
	static int made;

	if (!made) {
		snprintf(bundle, sizeof(bundle), "%s/c0ffee", fuzz_folder());
		mkdir(bundle, 0700);
		snprintf(bundle, sizeof(bundle), "%s/c0ffee/userdata", fuzz_folder());
		mkdir(bundle, 0700);
		made = 1;
	}
	fuzz_file("containers.json", data, size, path);
	snprintf(bundle, sizeof(bundle), "%s/c0ffee/userdata", fuzz_folder());
	memset(name, 'x', sizeof(name));
	if (ctrname_from_storage(bundle, "c0ffee", name, sizeof(name)))
		fuzz_check(name[0] && memchr(name, '\0', sizeof(name)));
	/* a short buffer: the name fits, or is not taken */
	memset(name, 'x', sizeof(name));
	if (ctrname_from_storage(bundle, "c0ffee", name, 8))
		fuzz_check(name[0] && memchr(name, '\0', 8));
	return 0;
}
