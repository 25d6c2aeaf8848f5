/* SPDX-License-Identifier: Apache-2.0 */
#include "fault.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

static long fail_at, kill_at;
static long count;
static int armed;

/* A step number from the environment; 0 (never) when absent or not a number. */
static long env_step(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long n;

	if (!s)
		return 0;
	n = strtol(s, &end, 10);
	return *end || n < 0 ? 0 : n;
}

void fault_arm(void)
{
	fail_at = env_step("PORTCULLIS_FAIL_STEP");
	kill_at = env_step("PORTCULLIS_KILL_STEP");
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
	if (count == kill_at) {
		pr_debug("killed at step %ld (%s)", count, step);
		kill(getpid(), SIGKILL);
	}
	if (count != fail_at)
		return 0;
	return err_set(-EIO, "fault injected at step %ld (%s)", count, step);
}

void fault_pass(const char *step)
{
	if (fault_point(step) < 0)
		pr_debug("%s", err_msg());
}
