/* SPDX-License-Identifier: Apache-2.0 */
/* Operator subcommands that change things: mode, restore, gc. */
#include <stdio.h>
#include <string.h>

#include "hook.h"
#include "lib/core/err.h"
#include "lib/core/log.h"
#include "lib/pull/intercept.h"

int cmd_restore(const struct hook_opts *o)
{
	if (o->argc != 2) {
		pr_err("usage: restore ID");
		return EXIT_USAGE;
	}
	if (intercept_restore(o->cfg, o->argv[1]) < 0) {
		pr_err("restore %s: %s", o->argv[1], err_msg());
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_gc(const struct hook_opts *o)
{
	int n;

	if (o->argc != 1) {
		pr_err("usage: gc");
		return EXIT_USAGE;
	}
	n = intercept_gc(o->cfg);
	if (n < 0) {
		pr_err("gc: %s", err_msg());
		return EXIT_FAIL;
	}
	printf("gc: released %d network namespace(s)\n", n);
	return EXIT_OK;
}

int cmd_purge(const struct hook_opts *o)
{
	int n;

	if (o->argc != 1) {
		pr_err("usage: purge");
		return EXIT_USAGE;
	}
	n = intercept_purge(o->cfg);
	if (n < 0) {
		pr_err("purge: %s", err_msg());
		return EXIT_FAIL;
	}
	printf("purge: released %d network namespace(s); enforcer %s removed\n", n,
	       o->cfg->enforcer_netns);
	return EXIT_OK;
}

int cmd_mode(const struct hook_opts *o)
{
	enum pc_mode m;

	if (o->argc != 3 || config_parse_mode(o->argv[2], &m) < 0) {
		pr_err("usage: mode ID off|pass|tap|fwd");
		return EXIT_USAGE;
	}
	if (intercept_set_mode(o->cfg, o->argv[1], m) < 0) {
		pr_err("mode %s %s: %s", o->argv[1], o->argv[2], err_msg());
		return EXIT_FAIL;
	}
	printf("%s: mode %s\n", o->argv[1], o->argv[2]);
	return EXIT_OK;
}
