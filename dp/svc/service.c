// SPDX-License-Identifier: Apache-2.0
/* The data-plane service, and --read-pcap. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "heartbeat.h"
#include "polwatch.h"
#include "sandbox.h"
#include "service.h"
#include "worker.h"
#include "dp/ctl/ctl.h"
#include "dp/flow/clock.h"
#include "dp/io/pcap.h"
#include "dp/threat/threat.h"
#include "lib/core/err.h"
#include "lib/core/log.h"
#include "lib/dpath/bpf/dpath_common.h"
#include "lib/dpath/enforcer.h"

#define MAX_WORKERS 64
#define MAX_RETIRED 64

struct retired {
	void *obj;
	bool is_policy;
	unsigned gen; /* freed once every worker has seen this generation */
};

struct service {
	const struct pc_config *cfg;
	struct enforcer_info enf;
	struct dp_shared sh;
	struct heartbeat hb;
	struct bypass bypass;
	struct worker *workers;
	unsigned n_workers, inited, started;
	bool sandbox;
	struct sandbox_user user; /* who it runs as, sandboxed */
	struct broker broker;	  /* sandboxed: what opens its files */
	struct retired retired[MAX_RETIRED];
	unsigned n_retired;
	int sig_fd, ino_fd, timer_fd;
	struct polwatch pol; /* the policy file: a new one is loaded */
	struct ctl *ctl;
	struct ctl_service ctl_svc;
};

/* The policy file, opened by the broker b when there is one; -errno. */
static int policy_fd(const char *path, struct broker *b)
{
	int fd;

	if (b)
		return broker_open_policy(b);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

#define POL_MUST_EXIST 0x1 /* a missing file is an error, not "allow everything" */
#define POL_ONLY_NEW 0x2   /* only a file w has not seen yet is read (else -EALREADY) */

/*
 * The policy at path (b: opened by that broker); a missing file means allow
 * all (said at level).  w (may be NULL) learns which file was read.
 */
static int policy_open(const char *path, struct broker *b, struct polwatch *w, unsigned flags,
		       enum log_level level, struct policy **out)
{
	bool only_new = flags & POL_ONLY_NEW;
	struct stat st;
	int fd, ret;

	fd = policy_fd(path, b);
	if (fd == -ENOENT && !(flags & POL_MUST_EXIST)) {
		if (only_new)
			return -EALREADY; /* gone for a moment, or for good: the loaded one stays */
		log_msg(level, "policy %s does not exist: allowing everything", path);
		return policy_default(out);
	}
	if (fd < 0)
		return err_set(fd, "policy %s", path);
	if (w && fstat(fd, &st) == 0 && !polwatch_is_new(w, &st) && only_new) {
		close(fd);
		return -EALREADY;
	}
	if (only_new)
		pr_info("policy %s: a new file", path);
	ret = policy_load_fd(fd, path, out);
	close(fd);
	return ret;
}

static void free_obj(struct retired *r)
{
	if (r->is_policy)
		policy_free(r->obj);
	else
		workloads_free(r->obj);
}

static unsigned min_seen(const struct service *s)
{
	unsigned m = atomic_load(&s->sh.gen);

	for (unsigned i = 0; i < s->started; i++) {
		unsigned g = atomic_load_explicit(&s->workers[i].seen_gen, memory_order_acquire);

		if ((int)(g - m) < 0)
			m = g;
	}
	return m;
}

static void reclaim(struct service *s)
{
	unsigned seen = min_seen(s), kept = 0;

	for (unsigned i = 0; i < s->n_retired; i++) {
		if ((int)(seen - s->retired[i].gen) >= 0)
			free_obj(&s->retired[i]);
		else
			s->retired[kept++] = s->retired[i];
	}
	s->n_retired = kept;
}

/* Swap obj in and retire what it replaces. */
static void publish(struct service *s, void *obj, bool is_policy)
{
	void *old;
	unsigned gen;

	while (s->n_retired == MAX_RETIRED) { /* workers are slow to look: wait for them */
		usleep(10000);
		reclaim(s);
	}
	if (is_policy)
		old = atomic_exchange(&s->sh.policy, obj);
	else
		old = atomic_exchange(&s->sh.wl, obj);
	gen = atomic_fetch_add_explicit(&s->sh.gen, 1, memory_order_acq_rel) + 1;
	s->retired[s->n_retired++] = (struct retired){ old, is_policy, gen };
	reclaim(s);
}

/* Where the running service's files come from: the broker, once it is confined. */
static struct broker *broker_of(struct service *s)
{
	return s->broker.pid ? &s->broker : NULL;
}

/*
 * Load the policy file again (only_new: only if it is another file than the
 * one read last); < 0 with err_msg() when refused.
 */
static int load_policy(struct service *s, bool only_new)
{
	struct policy *p;
	int ret;

	ret = policy_open(s->cfg->policy, broker_of(s), &s->pol, only_new ? POL_ONLY_NEW : 0,
			  LOG_INFO, &p);
	if (ret == -EALREADY)
		return 0;
	if (ret < 0) {
		ret = err_wrap(ret, "policy reload");
		pr_err("%s; the current policy stays", err_msg());
		return ret;
	}
	publish(s, p, true);
	pr_info("policy %s loaded: %zu rules", s->cfg->policy, policy_rule_count(p));
	return 0;
}

/* SIGHUP and the control socket's policy_reload */
static int reload_policy(void *arg)
{
	return load_policy(arg, false);
}

static void reload_workloads(struct service *s)
{
	struct state_source src;
	struct workloads *wl;
	int ret;

	if (broker_of(s)) {
		broker_state_source(&s->broker, &src);
		ret = workloads_load_from(s->cfg->state_dir, &src, &wl);
	} else {
		ret = workloads_load(s->cfg->state_dir, &wl);
	}
	if (ret < 0) {
		pr_warn("state records: %s; keeping what was known", err_msg());
		return;
	}
	pr_debug("state records: %zu ports", wl->n);
	publish(s, wl, false);
}

static int open_fds(struct service *s)
{
	struct itimerspec its = { .it_interval = { 0, PC_DP_HEARTBEAT_INTERVAL_MS * 1000000L } };
	sigset_t set;

	its.it_value = its.it_interval;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* before any worker exists, so every thread inherits the mask */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	s->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (s->sig_fd < 0 || s->ino_fd < 0 || s->timer_fd < 0)
		return err_set(-errno, "signalfd/inotify/timerfd");
	if (inotify_add_watch(s->ino_fd, s->cfg->state_dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0)
		return err_set(-errno, "watch %s", s->cfg->state_dir);
	if (timerfd_settime(s->timer_fd, 0, &its, NULL) < 0)
		return err_set(-errno, "timerfd");
	return s->cfg->policy_watch ? polwatch_open(&s->pol, s->cfg->policy) : 0;
}

/* Its user, an empty root, no capability (sandbox.h); the workers inherit it. */
static int confine(struct service *s)
{
	bool root = geteuid() == 0;
	int ret = sandbox_drop(&s->user, s->bypass.map_fd);

	if (ret < 0)
		return err_wrap(ret, "sandbox");
	if (!root) /* not started as root: its user and its root stay */
		snprintf(s->user.name, sizeof(s->user.name), "its own uid %u", (unsigned)geteuid());
	return 0;
}

static int filter(struct service *s)
{
	int ret = sandbox_filter(bypass_on(&s->bypass), s->broker.pid);

	if (ret < 0)
		return err_wrap(ret, "sandbox");
	pr_info("sandbox: runs as %s without capabilities under seccomp; its files come from "
		"the broker, pid %d",
		s->user.name, (int)s->broker.pid);
	return 0;
}

/*
 * The broker, forked before the heartbeat map, the bypass map and the rings
 * are open (it holds none of them), once the control socket exists (it
 * removes that at the end).
 */
static int start_broker(struct service *s)
{
	dev_t dev;
	ino_t ino;
	int ret;

	sandbox_user_pick(&s->user);
	ctl_file(s->ctl, &dev, &ino);
	ret = broker_start(&s->broker, dev, ino);
	if (ret < 0)
		return err_wrap(ret, "sandbox");
	ctl_disown(s->ctl);
	return 0;
}

static int start_workers(struct service *s)
{
	struct ring_params rp;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t per;
	int ret;

	s->n_workers = s->cfg->workers ? s->cfg->workers : (unsigned)(cores > 0 ? cores : 1);
	if (s->n_workers > MAX_WORKERS)
		s->n_workers = MAX_WORKERS;
	per = s->cfg->max_sessions / s->n_workers;
	if ((s->cfg->ring_block_kb * 1024) % (unsigned)sysconf(_SC_PAGESIZE))
		return err_set(-EINVAL, "ring_block_kb %u is not a multiple of the page size",
			       s->cfg->ring_block_kb);
	ring_params_default(&rp);
	rp.block_size = s->cfg->ring_block_kb * 1024;
	rp.block_count = s->cfg->ring_blocks;
	rp.retire_ms = s->cfg->ring_retire_ms;
	rp.quick_max = s->cfg->quick_max;
	rp.fanout_group = (unsigned)getpid() & 0xffff;
	rp.workers = s->n_workers;
	s->workers = calloc(s->n_workers, sizeof(*s->workers));
	if (!s->workers)
		return err_set(-ENOMEM, "workers");
	for (unsigned i = 0; i < s->n_workers; i++) {
		ret = worker_init(&s->workers[i], i, &s->sh, per ? per : 1, s->enf.ns.fd,
				  s->enf.dp_ifindex, &rp);
		if (ret < 0)
			return err_wrap(ret, "worker %u", i);
		s->inited++;
	}
	/* the rings are open: nothing more to make in the enforcer namespace */
	nl_ns_close(&s->enf.ns);
	/* every socket and map is open: what follows needs no privilege */
	if (s->sandbox && (ret = confine(s)) < 0)
		return ret;
	for (unsigned i = 0; i < s->n_workers; i++) {
		ret = worker_start(&s->workers[i]);
		if (ret < 0)
			return ret;
		s->started++;
	}
	return s->sandbox ? filter(s) : 0;
}

static void drain_inotify(struct service *s)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(s->ino_fd, buf, sizeof(buf)) > 0)
		;
	reload_workloads(s);
}

/* The session log after a rotation: opened anew, by the broker once confined. */
static int reopen_log(struct service *s)
{
	int fd;

	if (!broker_of(s) || strcmp(s->cfg->session_log, "-") == 0)
		return slog_reopen(s->sh.log);
	fd = broker_open_log(&s->broker);
	return fd < 0 ? fd : slog_replace(s->sh.log, fd);
}

/* One signal; false when it is time to stop. */
static bool on_signal(struct service *s)
{
	struct signalfd_siginfo si;

	if (read(s->sig_fd, &si, sizeof(si)) != sizeof(si))
		return true;
	if (si.ssi_signo != SIGHUP) {
		pr_info("signal %u: stopping", si.ssi_signo);
		return false;
	}
	reload_policy(s);
	if (reopen_log(s) < 0)
		pr_err("%s", err_msg());
	return true;
}

static void loop(struct service *s)
{
	struct pollfd pfd[4 + CTL_POLL_MAX] = {
		{ .fd = s->sig_fd, .events = POLLIN },
		{ .fd = s->ino_fd, .events = POLLIN },
		{ .fd = s->timer_fd, .events = POLLIN },
		{ .fd = s->pol.fd, .events = POLLIN },
	};

	for (;;) {
		unsigned n_ctl = ctl_poll_fds(s->ctl, pfd + 4);
		uint64_t ticks;

		if (poll(pfd, 4 + n_ctl, -1) < 0) {
			if (errno != EINTR)
				return;
			continue;
		}
		if ((pfd[0].revents & POLLIN) && !on_signal(s))
			return;
		if (pfd[1].revents & POLLIN)
			drain_inotify(s);
		if ((pfd[2].revents & POLLIN) && read(s->timer_fd, &ticks, sizeof(ticks)) > 0) {
			heartbeat_beat(&s->hb);
			reclaim(s);
			ctl_tick(s->ctl);
		}
		if ((pfd[3].revents & POLLIN) && polwatch_events(&s->pol))
			load_policy(s, true);
		ctl_on_poll(s->ctl, pfd + 4, n_ctl);
	}
}

static void report(const struct service *s)
{
	for (unsigned i = 0; i < s->started; i++) {
		const struct worker *w = &s->workers[i];
		const struct inspect_stats *st = &w->in.st;

		pr_info("worker %u: frames=%llu quick=%llu tx=%llu tx_errors=%llu truncated=%llu "
			"not_returned=%llu "
			"snapped=%llu allowed=%llu denied=%llu violations=%llu resets=%llu "
			"malformed=%llu frag_orphans=%llu no_session=%llu",
			i, (unsigned long long)st->frames, (unsigned long long)w->st.quick,
			(unsigned long long)w->st.tx, (unsigned long long)w->st.tx_errors,
			(unsigned long long)w->st.truncated, (unsigned long long)w->st.not_returned,
			(unsigned long long)w->st.snapped, (unsigned long long)st->allowed,
			(unsigned long long)st->denied, (unsigned long long)st->violations,
			(unsigned long long)w->st.rst_sent,
			(unsigned long long)(st->malformed + st->truncated),
			(unsigned long long)st->frag_orphans, (unsigned long long)st->no_session);
	}
}

static void teardown(struct service *s)
{
	/* fwd ports take the dp_down path at once, not a second from now */
	heartbeat_stop(&s->hb);
	ctl_close(s->ctl);
	broker_stop(&s->broker); /* it removes the control socket a confined service cannot */
	atomic_store(&s->sh.stop, true);
	for (unsigned i = 0; i < s->started; i++)
		pthread_join(s->workers[i].tid, NULL), s->workers[i].tid = 0;
	report(s);
	for (unsigned i = 0; i < s->inited; i++)
		worker_finish(&s->workers[i]);
	bypass_close(&s->bypass); /* after the workers took their sessions back */
	threat_shared_free(s->sh.threat_tables);
	free(s->workers);
	heartbeat_close(&s->hb);
	for (unsigned i = 0; i < s->n_retired; i++)
		free_obj(&s->retired[i]);
	policy_free(atomic_load(&s->sh.policy));
	workloads_free(atomic_load(&s->sh.wl));
	slog_close(s->sh.log);
	nl_ns_close(&s->enf.ns);
	for (int *fd = &s->sig_fd; fd <= &s->timer_fd; fd++)
		if (*fd >= 0)
			close(*fd);
	polwatch_close(&s->pol);
}

static int setup(struct service *s)
{
	struct policy *p = NULL;
	struct workloads *wl = NULL;
	int ret;

	ret = enforcer_ready(s->cfg, &s->enf);
	if (ret < 0)
		return err_wrap(ret, "enforcer %s", s->cfg->enforcer_netns);
	ret = policy_open(s->cfg->policy, NULL, &s->pol, 0, LOG_INFO, &p);
	if (ret >= 0)
		ret = workloads_load(s->cfg->state_dir, &wl);
	atomic_init(&s->sh.policy, p);
	atomic_init(&s->sh.wl, wl);
	if (ret >= 0)
		ret = slog_open(s->cfg->session_log, &s->sh.log);
	if (ret >= 0)
		ret = ctl_open(s->cfg->ctl_socket, &s->ctl_svc, &s->ctl);
	if (ret >= 0 && s->sandbox)
		ret = start_broker(s);
	if (ret >= 0)
		ret = heartbeat_open(&s->hb, s->enf.heartbeat);
	if (ret >= 0)
		ret = bypass_open(&s->bypass, s->enf.heartbeat, s->cfg->bypass_after_kb);
	s->sh.bypass = &s->bypass;
	if (ret >= 0 && s->sh.threats && !(s->sh.threat_tables = threat_shared_new()))
		ret = err_wrap(-ENOMEM, "threat detection");
	if (ret >= 0)
		ret = open_fds(s);
	if (ret >= 0)
		ret = start_workers(s);
	return ret;
}

static void keepalive(void *arg)
{
	struct service *s = arg;

	heartbeat_beat(&s->hb);
}

/* What the control socket sees, once the workers run. */
static void ctl_attach(struct service *s)
{
	s->ctl_svc = (struct ctl_service){
		.cfg = s->cfg,
		.sh = &s->sh,
		.workers = s->workers,
		.n_workers = s->started,
		.backend = s->enf.backend,
		.heartbeat = s->hb.mm != NULL,
		.started_ns = clock_mono_ns(),
		.reload_policy = reload_policy,
		.keepalive = keepalive,
		.arg = s,
	};
}

int service_run(const struct pc_config *cfg, bool sandbox, int ready_fd)
{
	struct service s = {
		.cfg = cfg,
		.sandbox = sandbox,
		.sig_fd = -1,
		.ino_fd = -1,
		.timer_fd = -1,
		.pol = { .fd = -1 },
	};
	int ret;

	s.hb.map_fd = -1;
	s.bypass.map_fd = -1;
	broker_init(&s.broker, cfg);
	s.enf.ns.fd = s.enf.ns.ioc = -1;
	s.sh.threats = cfg->threat_detection;
	s.sh.provisional_bytes = cfg->provisional_bytes;
	s.sh.reassembly_window = cfg->reassembly_kb << 10;
	reasm_pool_init(&s.sh.reasm_pool, REASM_POOL_DEFAULT);
	ret = setup(&s);
	if (ret >= 0) {
		ctl_attach(&s);
		heartbeat_beat(&s.hb);
		pr_info("ready: %u workers on %s in %s, backend %s%s%s, control socket %s",
			s.n_workers, cfg->dp_port, cfg->enforcer_netns, s.enf.backend,
			s.hb.mm ? ", heartbeat on" : "",
			bypass_on(&s.bypass) ? ", session bypass on" : "", cfg->ctl_socket);
		if (ready_fd >= 0) {
			(void)!write(ready_fd, "", 1);
			close(ready_fd);
		}
		loop(&s);
	}
	teardown(&s);
	return ret < 0 ? ret : 0;
}

int service_prepare(const struct pc_config *cfg)
{
	struct enforcer_info enf;
	int ret = enforcer_ready(cfg, &enf);

	if (ret < 0)
		return err_wrap(ret, "enforcer %s", cfg->enforcer_netns);
	nl_ns_close(&enf.ns);
	pr_info("enforcer %s ready: backend %s", cfg->enforcer_netns, enf.backend);
	return 0;
}

/* ---- --read-pcap ---- */

static void print_session(const struct session *s, void *arg)
{
	char line[SLOG_LINE_MAX];

	slog_format(s, SLOG_SESSION, NULL, line, sizeof(line));
	fputs(line, stdout);
}

int service_read_pcap(const struct pc_config *cfg, const char *pcap, const char *policy_path,
		      bool threats)
{
	struct pcap_reader *r = NULL;
	struct policy *p = NULL;
	struct workloads *wl = workloads_empty();
	struct slog *tlog = NULL;
	struct inspector in;
	const uint8_t *data;
	size_t len;
	uint64_t ts;
	int ret;

	ret = wl ? 0 : err_set(-ENOMEM, "workloads");
	if (ret >= 0)
		ret = policy_open(policy_path ? policy_path : cfg->policy, NULL, NULL,
				  policy_path ? POL_MUST_EXIST : 0, LOG_DEBUG, &p);
	if (ret >= 0)
		ret = pcap_open(pcap, &r);
	if (ret >= 0 && threats)
		ret = slog_open("-", &tlog); /* detections as they happen, sessions at the end */
	if (ret >= 0)
		ret = inspector_init(&in, cfg->max_sessions, p, wl, NULL);
	if (ret < 0)
		goto out;
	in.provisional_bytes = cfg->provisional_bytes;
	ret = inspect_stream_set(&in, NULL, cfg->reassembly_kb << 10);
	if (ret >= 0 && threats)
		ret = inspect_threats_on(&in, tlog, NULL);
	while (ret >= 0 && (ret = pcap_next(r, &data, &len, &ts)) > 0) {
		struct inspect_result res;

		inspect_frame(&in, data, len, len, ts, &res);
	}
	if (ret == 0)
		inspect_sessions_sorted(&in, print_session, NULL);
	inspector_fini(&in);
out:
	slog_close(tlog);
	pcap_close(r);
	policy_free(p);
	workloads_free(wl);
	return ret;
}
