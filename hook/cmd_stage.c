/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI stages: read the state on stdin, pull or release. */
#include <string.h>
#include <unistd.h>

#include "hook.h"
#include "lib/core/err.h"
#include "lib/core/log.h"
#include "lib/pull/intercept.h"
#include "lib/pull/oci.h"

static int do_pull(const struct hook_opts *o, const struct oci_state *st)
{
	bool bad_input;
	int ret = intercept_start(o->cfg, st, o->dry_run, &bad_input);

	if (ret >= 0)
		return EXIT_OK;
	if (bad_input) {
		/* the input named nothing we can act on; nothing was changed */
		pr_err("%s", err_msg());
		return EXIT_USAGE;
	}
	if (o->cfg->on_failure_closed || ret == -E2BIG) {
		pr_err("container %s not started: %s", st->id, err_msg());
		return EXIT_FAIL;
	}
	pr_warn("container %s starts unintercepted: %s", st->id, err_msg());
	return EXIT_OK;
}

static int do_release(const struct hook_opts *o, const struct oci_state *st)
{
	if (o->dry_run) {
		pr_info("container %s: would release (dry run)", st->id);
		return EXIT_OK;
	}
	/* a poststop failure cannot stop anything any more: warn, and let gc finish */
	if (intercept_stop(o->cfg, st) < 0)
		pr_warn("container %s: release incomplete: %s", st->id, err_msg());
	return EXIT_OK;
}

/*
 * "auto" is for hooks.d, where one entry serves both stages with the same
 * arguments: the state's status tells them apart (creating/created before
 * the workload starts, stopped after it).
 */
static void auto_stage(const struct oci_state *st, bool *pull, bool *release)
{
	*pull = !strcmp(st->status, "creating") || !strcmp(st->status, "created");
	*release = !strcmp(st->status, "stopped");
}

int cmd_stage(const struct hook_opts *o)
{
	const char *stage = o->argv[0];
	bool is_auto = !strcmp(stage, "auto");
	bool pull = !strcmp(stage, "prestart") || !strcmp(stage, "createRuntime");
	bool release = !strcmp(stage, "poststop");
	struct oci_state st;

	if (o->argc != 1) {
		pr_err("%s takes no arguments; the OCI state comes on stdin", stage);
		return EXIT_USAGE;
	}
	if (!pull && !release && !is_auto)
		return EXIT_OK; /* other OCI stages: nothing to do */
	if (oci_state_read(STDIN_FILENO, &st) < 0) {
		pr_err("%s", err_msg());
		return EXIT_USAGE;
	}
	if (is_auto)
		auto_stage(&st, &pull, &release);
	if (!pull && !release) {
		pr_debug("container %s: status \"%s\": nothing to do", st.id, st.status);
		return EXIT_OK;
	}
	return pull ? do_pull(o, &st) : do_release(o, &st);
}
