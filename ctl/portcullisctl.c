// SPDX-License-Identifier: Apache-2.0
/* portcullisctl: the control client of portcullis-dp. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_show.h"
#include "dp/ctl/ctl_proto.h"
#include "lib/core/cli.h"
#include "lib/core/config.h"
#include "lib/core/err.h"
#include "lib/core/state.h"
#include "lib/core/util.h"
#include "lib/dpath/dpath.h"

#define REPLY_MAX (256u << 20)
#define REPLY_TIMEOUT_S 15

static void usage(FILE *f)
{
	fprintf(f,
		"usage: portcullisctl [--socket PATH] [--config FILE] [--json] COMMAND\n"
		"  status                   the data plane: pid, workers, policy, counts\n"
		"  ports                    the intercepted ports it knows, and what\n"
		"                           the checks at each dropped (as root)\n"
		"  sessions [--limit N]     live sessions (default at most %d)\n"
		"  stats                    counters, per worker and in total\n"
		"  policy show              the policy in force\n"
		"  policy reload            read the policy file again\n"
		"--json prints the reply as it came. The socket is --socket, else\n"
		"ctl_socket of the configuration, else /run/portcullis/dp.sock.\n"
		"--version prints the version.\n",
		CTL_SESSIONS_DEFAULT);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

static int send_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One reply line (without its newline) into *out; -errno or -EPROTO. */
static int recv_line(int fd, char **out, size_t *out_len)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap), *nl = NULL;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	while (!nl) {
		if (len == cap) {
			char *b = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;

			if (!b)
				break;
			buf = b;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -(errno == EAGAIN ? ETIMEDOUT : errno) : -EPROTO;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	if (!nl) {
		free(buf);
		return -EFBIG;
	}
	*nl = '\0';
	*out = buf;
	*out_len = (size_t)(nl - buf);
	return 0;
}

/* Send req to the data plane at path; its reply, parsed, in *reply. */
static int exchange(const char *path, const struct ctl_request *req, char **raw, json_t **reply)
{
	char *line = ctl_request_encode(req);
	size_t len = 0;
	int fd, ret;

	if (!line)
		return err_set(-ENOMEM, "request");
	fd = connect_to(path);
	if (fd < 0) {
		free(line);
		return err_set(fd, "cannot connect to %s (is portcullis-dp running?)", path);
	}
	ret = send_all(fd, line, strlen(line));
	free(line);
	if (ret == 0)
		ret = recv_line(fd, raw, &len);
	close(fd);
	if (ret == -EPROTO)
		return err_set(ret, "%s: the data plane closed the connection without a reply",
			       path);
	if (ret < 0)
		return err_set(ret, "%s", path);
	*reply = json_loadb(*raw, len, 0, NULL);
	if (!json_is_object(*reply))
		return err_set(-EPROTO, "%s: the reply is not a JSON object", path);
	return 0;
}

static int check_reply(json_t *reply)
{
	const char *msg;

	if (json_is_true(json_object_get(reply, "ok")))
		return 0;
	msg = json_string_value(json_object_get(reply, "error"));
	return err_set(-EPERM, "%s", msg ? msg : "the data plane refused the request");
}

/* sessions: workers that did not answer in time make the answer partial */
static int check_unanswered(json_t *reply)
{
	json_t *missing = json_object_get(reply, "unanswered"), *v;
	size_t i;
	int ret = 0;

	json_array_foreach(missing, i, v)
		ret = err_set(-ETIMEDOUT,
			      "worker %lld did not answer in time: its sessions are missing",
			      (long long)json_integer_value(v));
	return ret;
}

struct opts {
	const char *socket, *config;
	bool json;
	struct ctl_request req;
};

static int parse_limit(const char *s, size_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < 1 || v > CTL_SESSIONS_MAX)
		return -1;
	*out = v;
	return 0;
}

/* The command words after the options; 0, or EXIT_USAGE after the usage line. */
static int parse_command(int argc, char **argv, struct opts *o)
{
	static const struct {
		const char *w1, *w2;
		enum ctl_cmd cmd;
	} words[] = {
		{ "status", NULL, CTL_STATUS },	       { "ports", NULL, CTL_PORTS },
		{ "sessions", NULL, CTL_SESSIONS },    { "stats", NULL, CTL_STATS },
		{ "policy", "show", CTL_POLICY_SHOW }, { "policy", "reload", CTL_POLICY_RELOAD },
	};

	if (argc < 1)
		return cli_bad_usage("no command", NULL);
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		int n = words[i].w2 ? 2 : 1;

		if (strcmp(argv[0], words[i].w1) != 0 ||
		    (words[i].w2 && (argc < 2 || strcmp(argv[1], words[i].w2) != 0)))
			continue;
		if (argc > n)
			return cli_bad_usage("unexpected argument", argv[n]);
		o->req.cmd = words[i].cmd;
		return 0;
	}
	if (strcmp(argv[0], "policy") == 0)
		return cli_bad_usage("policy needs show or reload", argc > 1 ? argv[1] : NULL);
	return cli_bad_usage("unknown command", argv[0]);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool limit = false;
	int c;

	o->req.limit = CTL_SESSIONS_DEFAULT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:c:jl:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'l':
			if (parse_limit(optarg, &o->req.limit) < 0)
				return cli_bad_usage("--limit wants 1..100000, not", optarg);
			limit = true;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case 'V':
			printf("portcullisctl %s\n", PORTCULLIS_VERSION);
			exit(EXIT_OK);
		case ':':
			return cli_bad_usage("missing argument to", argv[optind - 1]);
		default:
			return cli_bad_usage("unknown option", argv[optind - 1]);
		}
	}
	c = parse_command(argc - optind, argv + optind, o);
	if (c == 0 && limit && o->req.cmd != CTL_SESSIONS)
		return cli_bad_usage("--limit goes with sessions", NULL);
	return c;
}

/*
 * --socket, else ctl_socket of the configuration (and its default); the
 * configuration is read unless --socket comes alone.
 */
static int socket_path(const struct opts *o, struct pc_config *cfg, const char **path)
{
	int ret;

	if (o->socket && !o->config) {
		*path = o->socket;
		return 0;
	}
	ret = config_load(cfg, o->config);
	if (ret < 0)
		return ret;
	*path = o->socket ? o->socket : cfg->ctl_socket;
	return 0;
}

/* What the checks at a port dropped, from the hook's record of it: -1 when unknown. */
static long long port_dropped(const struct pc_config *cfg, const struct state_rec *recs, size_t n,
			      const char *ucmac)
{
	uint64_t d;

	for (size_t r = 0; r < n; r++)
		for (size_t i = 0; ucmac && i < recs[r].n_ports; i++) {
			const struct state_port *sp = &recs[r].ports[i];

			if (strcmp(sp->ucmac, ucmac) == 0)
				return dpath_port_dropped(cfg, recs[r].backend, sp->in_ifindex,
							  sp->ex_ifindex, &d) == 0
					       ? (long long)d
					       : -1;
		}
	return -1;
}

/*
 * ports, as a table: each port's "dropped" beside what the data plane
 * says, read where the hook keeps it (the state records, the data path;
 * root's to read).  A port it cannot read shows "-".
 */
static void add_dropped(const struct pc_config *cfg, json_t *reply)
{
	json_t *ports = json_object_get(reply, "ports"), *p;
	struct state_rec *recs = NULL;
	size_t n = 0, i;

	if (state_list(cfg->state_dir, &recs, &n) < 0) {
		err_clear();
		return;
	}
	json_array_foreach(ports, i, p) {
		long long d = port_dropped(cfg, recs, n,
					   json_string_value(json_object_get(p, "ucmac")));

		if (d >= 0)
			json_object_set_new(p, "dropped", json_integer(d));
	}
	state_list_free(recs, n);
}

/* The request of o, its reply shown; 0 or a negative errno (message recorded). */
static int run(const struct opts *o)
{
	struct pc_config cfg;
	const char *path = NULL;
	json_t *reply = NULL;
	char *raw = NULL;
	int ret;

	ret = socket_path(o, &cfg, &path);
	if (ret == 0)
		ret = exchange(path, &o->req, &raw, &reply);
	if (ret == 0 && o->json)
		puts(raw);
	if (ret == 0)
		ret = check_reply(reply);
	if (ret == 0 && !o->json && o->req.cmd == CTL_PORTS && (o->config || !o->socket))
		add_dropped(&cfg, reply);
	if (ret == 0 && !o->json)
		ret = ctl_show(o->req.cmd, reply, stdout);
	if (ret == 0)
		ret = check_unanswered(reply);
	json_decref(reply);
	free(raw);
	if (fflush(stdout) != 0 && ret == 0)
		ret = err_set(-errno, "stdout");
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	int ret;

	log_init("portcullisctl", LOG_WARN);
	ret = parse_args(argc, argv, &o);
	if (ret != 0)
		return ret;
	if (run(&o) < 0) {
		pr_err("%s", err_msg());
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
