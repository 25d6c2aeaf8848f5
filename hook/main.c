/* SPDX-License-Identifier: Apache-2.0 */
/* portcullis-hook: the OCI hook and the operator's subcommands around it. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "hook.h"
#include "lib/core/config.h"
#include "lib/core/err.h"
#include "lib/core/log.h"
#include "lib/core/util.h"

static const struct {
	const char *name;
	int (*run)(const struct hook_opts *o);
} commands[] = {
	{ "prestart", cmd_stage },
	{ "createRuntime", cmd_stage },
	{ "poststop", cmd_stage },
	{ "createContainer", cmd_stage },
	{ "startContainer", cmd_stage },
	{ "poststart", cmd_stage },
	{ "auto", cmd_stage },
	{ "status", cmd_status },
	{ "mode", cmd_mode },
	{ "restore", cmd_restore },
	{ "gc", cmd_gc },
	{ "purge", cmd_purge },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: portcullis-hook [--config FILE] [--dry-run] [-v] STAGE < OCI-STATE\n"
		"       portcullis-hook [--config FILE] status [--json]\n"
		"       portcullis-hook [--config FILE] mode ID off|pass|tap|fwd\n"
		"       portcullis-hook [--config FILE] restore ID\n"
		"       portcullis-hook [--config FILE] gc\n"
		"       portcullis-hook [--config FILE] purge    (restore all, remove the enforcer)\n"
		"STAGE: prestart or createRuntime (pull the container's ports), poststop (release),\n"
		"       auto (either, from the state's status: for hooks.d)\n"
		"       portcullis-hook --version\n");
}

/*
 * A pull, release or gc takes milliseconds and must finish (or roll back)
 * once begun: a runtime's timeout or a stray Ctrl-C must not leave a
 * container half-moved.  Only SIGKILL can stop the hook.
 */
static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },	    { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },	    { NULL, 0, NULL, 0 },
	};
	struct hook_opts o = { 0 };
	const char *cfg_path = NULL;
	struct pc_config cfg;
	int c, verbose = 0;

	log_init("portcullis-hook", LOG_INFO);
	opterr = 0; /* reported below, in one line */
	while ((c = getopt_long(argc, argv, "+:c:nvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg_path = optarg;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("portcullis-hook %s\n", PORTCULLIS_VERSION);
			return EXIT_OK;
		case ':':
			return cli_bad_usage("missing argument to", argv[optind - 1]);
		default:
			return cli_bad_usage("unknown option", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_bad_usage("missing STAGE or command", NULL);
	if (config_load(&cfg, cfg_path) < 0) {
		pr_err("%s", err_msg());
		return EXIT_USAGE;
	}
	log_set_level(verbose ? LOG_DEBUG : cfg.log_level);
	o.cfg = &cfg;
	o.argc = argc - optind;
	o.argv = argv + optind;
	block_signals();
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(o.argv[0], commands[i].name) == 0)
			return commands[i].run(&o);
	pr_err("unknown stage or command \"%s\" (see --help)", o.argv[0]);
	return EXIT_USAGE;
}
