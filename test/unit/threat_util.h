/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_TEST_THREAT_UTIL_H
#define PORTCULLIS_TEST_THREAT_UTIL_H

/* What the suites of the payload detectors and SQL injection share. */

#include <check.h>
#include <string.h>

#include "dp/threat/app/detect.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* evidence is NUL-terminated printable ASCII, whatever the input was */
static inline void assert_evidence(const struct threat_hit *hit)
{
	size_t n = strnlen(hit->evidence, sizeof(hit->evidence));

	ck_assert_uint_lt(n, sizeof(hit->evidence));
	ck_assert_uint_gt(n, 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(hit->evidence[i] >= ' ' && hit->evidence[i] <= '~',
			      "byte %zu: 0x%02x", i, (unsigned char)hit->evidence[i]);
}

#endif
