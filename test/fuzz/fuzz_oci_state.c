/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the OCI state parser: the bytes a runtime writes to the hook's stdin. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/pull/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct oci_state st;

	if (oci_state_parse((const char *)data, size, &st) == 0) {
		/* what a successful parse promises */
		if (!st.id[0] || memchr(st.id, '/', strlen(st.id)) || st.pid < 0)
			__builtin_trap();
	}
	return 0;
}
