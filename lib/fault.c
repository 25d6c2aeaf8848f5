/* SPDX-License-Identifier: Apache-2.0 */
#include "fault.h"

#include <stdlib.h>

#include "err.h"
#include "log.h"

static long fail_at;
static long count;
static int armed;

void fault_arm(void)
{
	const char *s = getenv("PORTCULLIS_FAIL_STEP");
	char *end;

	fail_at = s ? strtol(s, &end, 10) : 0;
	if (s && (*end || fail_at < 0))
		fail_at = 0;
	armed = 1;
}

void fault_disarm(void)
{
	armed = 0;
}

int fault_point(const char *step)
{
	if (!armed)
		return 0;
	count++;
	pr_debug("step %ld: %s", count, step);
	if (count != fail_at)
		return 0;
	return err_set(-EIO, "fault injected at step %ld (%s)", count, step);
}
