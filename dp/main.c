// SPDX-License-Identifier: Apache-2.0
/* portcullis-dp: the data plane on dp_port (vth-neuv). */
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dp/svc/service.h"
#include "lib/core/cli.h"
#include "lib/core/config.h"
#include "lib/core/err.h"
#include "lib/core/log.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: portcullis-dp [--config FILE] [--foreground] [--no-sandbox] [-v]\n"
		   "       portcullis-dp [--config FILE] --prepare\n"
		   "       portcullis-dp [--config FILE] --read-pcap FILE [--policy FILE]\n"
		   "                     [--no-threats]\n"
		   "Without --foreground it detaches once it runs; stop it with SIGTERM.\n"
		   "SIGHUP reloads the policy and reopens the session log.\n"
		   "Once set up it runs as the user portcullis (nobody where there is\n"
		   "none) in an empty root, without capabilities, its system calls confined\n"
		   "(seccomp), a broker process opening its files; --no-sandbox keeps root\n"
		   "and its capabilities, for debuggers and tracers.\n"
		   "--prepare makes the enforcer namespace and its data path ready and\n"
		   "exits (the unit runs it first, outside the service's mount namespace).\n"
		   "--no-threats: no threat detection over the capture (the config key\n"
		   "threat_detection: false turns it off for the service too).\n"
		   "--version prints the version.\n");
}

/*
 * Detach: the parent waits for the child's "ready" byte (or its exit) so
 * that a failing start-up still fails the command that started it.
 */
static int daemonize(int *ready_fd)
{
	int pipefd[2], status;
	pid_t pid;
	char c;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return err_set(-errno, "pipe");
	pid = fork();
	if (pid < 0)
		return err_set(-errno, "fork");
	if (pid > 0) {
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) == 1)
			_exit(EXIT_OK);
		waitpid(pid, &status, 0);
		_exit(WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : EXIT_FAIL);
	}
	close(pipefd[0]);
	setsid();
	if (chdir("/") < 0)
		return err_set(-errno, "chdir /");
	*ready_fd = pipefd[1];
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "read-pcap", required_argument, NULL, 'r' },
		{ "policy", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "no-sandbox", no_argument, NULL, 'S' },
		{ "no-threats", no_argument, NULL, 'T' },
		{ "prepare", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfg_path = NULL, *pcap = NULL, *policy = NULL;
	bool foreground = false, verbose = false, sandbox = true, threats = true, prepare = false;
	struct pc_config cfg;
	int c, ret, ready_fd = -1;

	log_init("portcullis-dp", LOG_INFO);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:fr:p:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'r':
			pcap = optarg;
			break;
		case 'p':
			policy = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'S':
			sandbox = false;
			break;
		case 'T':
			threats = false;
			break;
		case 'P':
			prepare = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("portcullis-dp %s\n", PORTCULLIS_VERSION);
			return EXIT_OK;
		case ':':
			return cli_bad_usage("missing argument to", argv[optind - 1]);
		default:
			return cli_bad_usage("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_bad_usage("unexpected argument", argv[optind]);
	if (policy && !pcap)
		return cli_bad_usage("--policy goes with --read-pcap;",
				     "the service reads the configured policy");
	if (prepare && (pcap || foreground || !sandbox))
		return cli_bad_usage("--prepare goes alone;", "it only makes the enforcer ready");
	if (!threats && !pcap)
		return cli_bad_usage("--no-threats goes with --read-pcap;",
				     "the service follows the config key threat_detection");
	if (config_load(&cfg, cfg_path) < 0) {
		pr_err("%s", err_msg());
		return EXIT_USAGE;
	}
	log_set_level(verbose ? LOG_DEBUG : cfg.log_level);
	if (pcap)
		ret = service_read_pcap(&cfg, pcap, policy, threats && cfg.threat_detection);
	else if (prepare)
		ret = service_prepare(&cfg);
	else if (!foreground && (ret = daemonize(&ready_fd)) < 0)
		;
	else
		ret = service_run(&cfg, sandbox, ready_fd);
	if (ret < 0) {
		pr_err("%s", err_msg());
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
