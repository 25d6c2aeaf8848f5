/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_CORE_CLI_H
#define PORTCULLIS_CORE_CLI_H

/* What every portcullis command line program shares: exit codes and the usage line. */

#include "log.h"

#define EXIT_OK 0
#define EXIT_FAIL 1  /* the work failed (interception with on_failure=closed, a command) */
#define EXIT_USAGE 2 /* bad invocation or bad input; nothing was changed */

/* One line for a bad invocation ("why what (see --help)"); returns EXIT_USAGE. */
static inline int cli_bad_usage(const char *why, const char *what)
{
	pr_err("%s%s%s (see --help)", why, what ? " " : "", what ? what : "");
	return EXIT_USAGE;
}

#endif
