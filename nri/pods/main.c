/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portcullis-nri: the NRI plugin that intercepts each pod's network
 * namespace at the container runtime (containerd 1.7+, CRI-O 1.26+).  It
 * connects to the runtime's NRI socket, or takes the one the runtime hands
 * it when the runtime launches it, and serves until SIGTERM; a lost
 * connection to a runtime it connected to itself is made again (the
 * runtime restarted), and the runtime's Synchronize then repairs what
 * happened meanwhile.
 */
#include <ctype.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "pods.h"
#include "lib/core/cli.h"
#include "lib/core/config.h"
#include "lib/core/err.h"
#include "lib/core/log.h"
#include "nri/nri.h"

#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 5000

struct args {
	const char *config;
	struct nri_opts nri;
	const char *name, *idx, *socket; /* given on the command line: they win */
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: portcullis-nri [--config FILE] [--socket PATH] [--name NAME] [--idx NN] "
		"[-v]\n"
		"       portcullis-nri --version\n"
		"Intercepts every pod's network namespace at the container runtime, through its\n"
		"NRI socket (default %s), as plugin NN-NAME (default 10-portcullis).\n",
		NRI_DEFAULT_SOCKET);
}

/* Returns -1 to go on, or the exit code. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "idx", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0; /* reported below, in one line */
	while ((c = getopt_long(argc, argv, ":c:s:n:i:vh", longs, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 's':
			a->socket = optarg;
			break;
		case 'n':
			a->name = optarg;
			break;
		case 'i':
			a->idx = optarg;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("portcullis-nri %s\n", PORTCULLIS_VERSION);
			return EXIT_OK;
		case ':':
			return cli_bad_usage("missing argument to", argv[optind - 1]);
		default:
			return cli_bad_usage("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_bad_usage("unexpected argument", argv[optind]);
	return -1;
}

/*
 * The runtime's own settings when it launched us (NRI_PLUGIN_SOCKET...),
 * then what the command line says.  Returns -1 to go on, or the exit code.
 */
static int nri_options(struct args *a)
{
	a->nri = (struct nri_opts){ .fd = -1, .name = "portcullis", .idx = "10" };
	if (nri_opts_from_env(&a->nri) < 0) {
		pr_err("%s", err_msg());
		return EXIT_USAGE;
	}
	if (a->nri.fd >= 0 && a->socket)
		pr_warn("launched by the runtime (NRI_PLUGIN_SOCKET): --socket %s is not used",
			a->socket);
	a->nri.socket = a->socket;
	if (a->name)
		a->nri.name = a->name;
	if (a->idx)
		a->nri.idx = a->idx;
	if (strlen(a->nri.idx) != 2 || !isdigit((unsigned char)a->nri.idx[0]) ||
	    !isdigit((unsigned char)a->nri.idx[1]))
		return cli_bad_usage("the plugin index is two digits, not", a->nri.idx);
	if (!a->nri.name[0])
		return cli_bad_usage("empty plugin name", NULL);
	return -1;
}

/* SIGINT and SIGTERM as a descriptor; a dead peer's SIGPIPE as EPIPE. */
static int stop_signals(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	return fd < 0 ? err_set(-errno, "signalfd") : fd;
}

/* Sleep ms unless stop_fd becomes readable first: true when it did. */
static bool stopped_within(int stop_fd, int ms)
{
	struct pollfd p = { .fd = stop_fd, .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

/*
 * Register and serve; after a lost connection, again (only when we
 * connected ourselves: a runtime that launched us launches anew).  The
 * first failure to register is the end: one line, exit 1.
 */
static int serve(const struct nri_opts *o, const struct nri_handlers *h, int stop_fd)
{
	bool again = o->fd < 0, first = true;
	int wait_ms = RECONNECT_MIN_MS, ret;
	struct nri *n;

	for (;;) {
		ret = nri_open(o, h, &n);
		if (ret < 0 && (first || !again)) {
			pr_err("%s", err_msg());
			return EXIT_FAIL;
		}
		if (ret < 0) {
			pr_debug("%s", err_msg());
			if (stopped_within(stop_fd, wait_ms))
				return EXIT_OK;
			wait_ms = wait_ms * 2 < RECONNECT_MAX_MS ? wait_ms * 2 : RECONNECT_MAX_MS;
			continue;
		}
		pr_info("registered as plugin %s-%s%s", o->idx, o->name, first ? "" : " again");
		first = false;
		wait_ms = RECONNECT_MIN_MS;
		ret = nri_run(n, stop_fd);
		nri_close(n);
		if (ret == NRI_STOPPED) {
			pr_info("stopping; intercepted pods stay intercepted");
			return EXIT_OK;
		}
		if (ret < 0 && !again) {
			pr_err("%s", err_msg());
			return EXIT_FAIL;
		}
		if (!again)
			return EXIT_OK; /* the runtime that launched us shut us down */
		pr_warn("%s; connecting again",
			ret == NRI_SHUTDOWN ? "the runtime shut us down" : err_msg());
	}
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct nri_handlers h;
	struct pc_config cfg;
	struct pods *pods;
	int ret, stop_fd;

	log_init("portcullis-nri", LOG_INFO);
	ret = parse_args(argc, argv, &a);
	if (ret < 0)
		ret = nri_options(&a);
	if (ret >= 0)
		return ret;
	if (config_load(&cfg, a.config) < 0) {
		pr_err("%s", err_msg());
		return EXIT_USAGE;
	}
	log_set_level(a.verbose ? LOG_DEBUG : cfg.log_level);
	stop_fd = stop_signals();
	if (stop_fd < 0 || pods_new(&cfg, &pods) < 0) {
		pr_err("%s", err_msg());
		return EXIT_FAIL;
	}
	pods_handlers(pods, &h);
	ret = serve(&a.nri, &h, stop_fd);
	pods_free(pods);
	close(stop_fd);
	return ret;
}
