/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_HOOK_H
#define PORTCULLIS_HOOK_H

#include <stdbool.h>

#include "lib/core/cli.h"
#include "lib/core/config.h"

/* exit codes EXIT_OK, EXIT_FAIL, EXIT_USAGE */

struct hook_opts {
	const struct pc_config *cfg;
	bool dry_run;
	int argc; /* the subcommand's own arguments, argv[0] = its name */
	char **argv;
};

int cmd_stage(const struct hook_opts *o);
int cmd_status(const struct hook_opts *o);
int cmd_mode(const struct hook_opts *o);
int cmd_restore(const struct hook_opts *o);
int cmd_gc(const struct hook_opts *o);
int cmd_purge(const struct hook_opts *o);

#endif
