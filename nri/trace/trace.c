/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pc-nri-trace: an NRI plugin that only watches.  It registers, answers
 * everything, and prints one JSON line per event on stdout:
 *
 *   {"event":"REGISTERED","name":"pc-nri-trace","idx":"50","ms":3}   (ms: registration took)
 *   {"event":"SYNCHRONIZE","pods":[{pod}, ...],"containers":[{"id","pod","name","state"}, ...]}
 *   {"event":"RUN_POD_SANDBOX", pod members..., "eth0":["10.1.2.3/24"], "t":...}
 *
 * pod members: id, name, namespace, uid, netns (as the event carries it),
 * pid.  With --probe, a pod event also gets "probed" (the netns looked
 * into: the one the event carries, else the one remembered from an earlier
 * event of the pod) and "eth0", the addresses eth0 holds there while the
 * event is being handled (null when the netns cannot be entered).
 * --fail-run makes every RUN_POD_SANDBOX fail, to prove that the runtime
 * then fails the pod; --delay-run MS makes it answer MS late (over the
 * runtime's timeout, to see what the runtime does then).
 */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"
#include "lib/core/err.h"
#include "lib/core/log.h"
#include "nri/nri.h"

struct trace {
	bool fail_run;
	unsigned delay_run_ms; /* pod_run sleeps this long before answering */
	bool probe;
	json_t *netns; /* pod id -> netns path, from the events that carried one */
};

static void emit(json_t *o)
{
	struct timespec t;
	char *s;

	clock_gettime(CLOCK_REALTIME, &t);
	json_object_set_new(o, "t", json_real(t.tv_sec + t.tv_nsec / 1e9));
	s = json_dumps(o, JSON_COMPACT);
	if (s) {
		printf("%s\n", s);
		fflush(stdout);
	}
	free(s);
	json_decref(o);
}

static json_t *pod_json(const struct nri_pod *p)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", p->id, "name", p->name,
			 "namespace", p->namespace, "uid", p->uid, "netns", p->netns, "pid",
			 (json_int_t)p->pid);
}

/* Remember the pod's netns path, and look into the one it has (or had). */
static void probe(struct trace *tr, const struct nri_pod *p, json_t *o)
{
	const char *path = p->netns;
	json_t *addrs = NULL;

	if (*path)
		json_object_set_new(tr->netns, p->id, json_string(path));
	else if (json_object_get(tr->netns, p->id))
		path = json_string_value(json_object_get(tr->netns, p->id));
	if (!tr->probe || !*path)
		return;
	json_object_set_new(o, "probed", json_string(path));
	if (probe_addrs(path, "eth0", &addrs) < 0)
		pr_debug("%s", err_msg());
	json_object_set_new(o, "eth0", addrs ? addrs : json_null());
}

static int pod_event(struct trace *tr, const char *event, const struct nri_pod *p)
{
	json_t *o = pod_json(p);

	json_object_set_new(o, "event", json_string(event));
	probe(tr, p, o);
	emit(o);
	return 0;
}

static int on_run(const struct nri_pod *p, void *arg)
{
	struct trace *tr = arg;

	pod_event(tr, "RUN_POD_SANDBOX", p);
	if (tr->delay_run_ms)
		usleep(tr->delay_run_ms * 1000u);
	if (tr->fail_run)
		return err_set(-EPERM, "pc-nri-trace: told to fail pod %s", p->id);
	return 0;
}

static int on_stop(const struct nri_pod *p, void *arg)
{
	return pod_event(arg, "STOP_POD_SANDBOX", p);
}

static int on_remove(const struct nri_pod *p, void *arg)
{
	struct trace *tr = arg;

	pod_event(tr, "REMOVE_POD_SANDBOX", p);
	json_object_del(tr->netns, p->id);
	return 0;
}

static json_t *ctrs_json(const struct nri_ctr *ctrs, size_t n)
{
	json_t *list = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:i}", "id", ctrs[i].id,
						      "pod", ctrs[i].pod_id, "name", ctrs[i].name,
						      "state", (int)ctrs[i].state));
	return list;
}

static int on_sync(const struct nri_pod *pods, size_t n, const struct nri_ctr *ctrs, size_t n_ctrs,
		   void *arg)
{
	struct trace *tr = arg;
	json_t *list = json_array();

	for (size_t i = 0; i < n; i++) {
		json_array_append_new(list, pod_json(&pods[i]));
		if (*pods[i].netns)
			json_object_set_new(tr->netns, pods[i].id, json_string(pods[i].netns));
	}
	emit(json_pack("{s:s, s:o, s:o}", "event", "SYNCHRONIZE", "pods", list, "containers",
		       ctrs_json(ctrs, n_ctrs)));
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pc-nri-trace [--socket PATH] [--name NAME] [--idx NN] [--probe] "
		   "[--fail-run] [--delay-run MS] [-v]\n");
}

static int parse_args(int argc, char **argv, struct nri_opts *o, struct trace *tr)
{
	static const struct option longs[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "idx", required_argument, NULL, 'i' },
		{ "probe", no_argument, NULL, 'p' },
		{ "fail-run", no_argument, NULL, 'f' },
		{ "delay-run", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:n:i:pfd:vh", longs, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'i':
			o->idx = optarg;
			break;
		case 'p':
			tr->probe = true;
			break;
		case 'd':
			tr->delay_run_ms = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			tr->fail_run = true;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	return optind == argc ? 0 : (usage(stderr), -1);
}

/* SIGINT and SIGTERM, as a descriptor nri_run watches. */
static int stop_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

int main(int argc, char **argv)
{
	struct nri_opts o = { .fd = -1, .name = "pc-nri-trace", .idx = "50" };
	struct trace tr = { .netns = json_object() };
	struct nri_handlers h = {
		.pod_run = on_run,
		.pod_stop = on_stop,
		.pod_remove = on_remove,
		.synchronize = on_sync,
		.arg = &tr,
	};
	struct timespec t0, t1;
	struct nri *n;
	int ret;

	log_init("pc-nri-trace", LOG_INFO);
	if (parse_args(argc, argv, &o, &tr) < 0)
		return 2;
	if (nri_opts_from_env(&o) < 0) {
		pr_err("%s", err_msg());
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (nri_open(&o, &h, &n) < 0) {
		pr_err("%s", err_msg());
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	emit(json_pack("{s:s, s:s, s:s, s:I}", "event", "REGISTERED", "name", o.name, "idx", o.idx,
		       "ms",
		       (json_int_t)((t1.tv_sec - t0.tv_sec) * 1000 +
				    (t1.tv_nsec - t0.tv_nsec) / 1000000)));
	ret = nri_run(n, stop_signals());
	nri_close(n);
	json_decref(tr.netns);
	if (ret < 0) {
		pr_err("%s", err_msg());
		return 1;
	}
	pr_info("%s", ret == NRI_SHUTDOWN ? "shut down by the runtime" : "stopped");
	return 0;
}
