// SPDX-License-Identifier: Apache-2.0
/* The control socket's commands, run in the service thread (see ctl.h). */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_proto.h"
#include "dp/flow/clock.h"
#include "lib/core/err.h"

#define DUMP_WAIT_NS 1000000000ULL /* a worker answers within a second */
#define DUMP_SLICE_NS 100000000ULL /* the service's keepalive meanwhile */

/* Sets key to v (its reference taken); false when o or v is NULL or out of memory. */
static bool put(json_t *o, const char *key, json_t *v)
{
	if (!o) {
		json_decref(v);
		return false;
	}
	return json_object_set_new(o, key, v) == 0;
}

static json_t *oom(json_t *o)
{
	json_decref(o);
	err_set(-ENOMEM, "out of memory");
	return NULL;
}

/* ---- status ---- */

static uint64_t live_sessions(const struct ctl_service *svc)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < svc->n_workers; i++) {
		struct worker_counters wc;

		worker_counters(&svc->workers[i], &wc);
		n += wc.sess.live;
	}
	return n;
}

static json_t *cmd_status(const struct ctl_service *svc, const struct ctl_request *req)
{
	const struct policy *p = atomic_load(&svc->sh->policy);
	const struct workloads *wl = atomic_load(&svc->sh->wl);
	json_t *o;

	(void)req;
	o = json_pack("{sI sI ss sI sb s{so sI} sI sI so}", "pid", (json_int_t)getpid(), "uptime",
		      (json_int_t)((clock_mono_ns() - svc->started_ns) / 1000000000ULL), "backend",
		      svc->backend, "workers", (json_int_t)svc->n_workers, "heartbeat",
		      svc->heartbeat, "policy", "path", ctl_json_str(svc->cfg->policy), "rules",
		      (json_int_t)(p ? policy_rule_count(p) : 0), "ports",
		      (json_int_t)(wl ? wl->n : 0), "sessions", (json_int_t)live_sessions(svc),
		      "ctl_socket", ctl_json_str(svc->cfg->ctl_socket));
	return o ? o : oom(NULL);
}

/* ---- ports ---- */

static json_t *ctr_json(const struct wl_ctr *c)
{
	json_t *o = json_object();

	if (!c)
		return json_null();
	if (!put(o, "id", ctl_json_str(c->id)) || !put(o, "name", ctl_json_str(c->name)) ||
	    !put(o, "group", ctl_json_str(c->group)))
		return oom(o);
	if (c->k8s_pod[0] && (!put(o, "k8s_pod", ctl_json_str(c->k8s_pod)) ||
			      !put(o, "k8s_namespace", ctl_json_str(c->k8s_namespace)) ||
			      !put(o, "k8s_container", ctl_json_str(c->k8s_container))))
		return oom(o);
	return o;
}

static json_t *addrs_json(const struct workload *w)
{
	json_t *a = json_array();
	char s[INET6_ADDRSTRLEN];

	for (size_t i = 0; a && i < w->n_addrs; i++) {
		inet_ntop(w->addrs[i].family, w->addrs[i].addr, s, sizeof(s));
		if (json_array_append_new(a, json_string(s)) < 0)
			return oom(a);
	}
	return a;
}

static json_t *port_json(const struct workload *w)
{
	char mac[18];
	json_t *o = json_object();

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", w->ucmac[0], w->ucmac[1],
		 w->ucmac[2], w->ucmac[3], w->ucmac[4], w->ucmac[5]);
	if (!put(o, "ucmac", json_string(mac)) || !put(o, "port_id", json_integer(w->port_id)) ||
	    !put(o, "container", ctr_json(w->ctr)) || !put(o, "ifname", ctl_json_str(w->ifname)) ||
	    !put(o, "mode", json_string(config_mode_name(w->mode))) ||
	    !put(o, "addrs", addrs_json(w)))
		return oom(o);
	return o;
}

static json_t *cmd_ports(const struct ctl_service *svc, const struct ctl_request *req)
{
	const struct workloads *wl = atomic_load(&svc->sh->wl);
	json_t *a = json_array();

	(void)req;
	for (size_t i = 0; a && wl && i < wl->n; i++)
		if (json_array_append_new(a, port_json(&wl->ports[i])) < 0)
			return oom(a);
	return a ? json_pack("{so}", "ports", a) : oom(NULL);
}

/* ---- stats ---- */

struct counter {
	const char *name;
	size_t off;
};

/* clang-format off */
#define CTR(type, f) { #f, offsetof(type, f) }

static const struct counter inspect_ctrs[] = {
	CTR(struct inspect_stats, frames),       CTR(struct inspect_stats, bytes),
	CTR(struct inspect_stats, allowed),      CTR(struct inspect_stats, denied),
	CTR(struct inspect_stats, violations),   CTR(struct inspect_stats, resets),
	CTR(struct inspect_stats, provisional_cut),
	CTR(struct inspect_stats, malformed),    CTR(struct inspect_stats, truncated),
	CTR(struct inspect_stats, frag_orphans), CTR(struct inspect_stats, frag_evicted),
	CTR(struct inspect_stats, no_session),
	CTR(struct inspect_stats, no_session_dropped),
	CTR(struct inspect_stats, unknown_port), CTR(struct inspect_stats, not_ip),
	CTR(struct inspect_stats, other_l4),     CTR(struct inspect_stats, bypassed),
	CTR(struct inspect_stats, bypass_failed), CTR(struct inspect_stats, bypass_ended),
	CTR(struct inspect_stats, bypass_kept),
	CTR(struct inspect_stats, stream_held),  CTR(struct inspect_stats, stream_dup),
	CTR(struct inspect_stats, tcp_overlap),  CTR(struct inspect_stats, stream_refused),
	CTR(struct inspect_stats, stream_refused_dropped),
	CTR(struct inspect_stats, stream_conflict_dropped),
	CTR(struct inspect_stats, stream_gaps_skipped),
	CTR(struct inspect_stats, stream_bytes_lost),
	CTR(struct inspect_stats, stream_truncated),
	CTR(struct inspect_stats, stream_unid_cut),
	{ NULL, 0 },
};

static const struct counter worker_ctrs[] = {
	CTR(struct worker_stats, tx),           CTR(struct worker_stats, tx_errors),
	CTR(struct worker_stats, truncated),    CTR(struct worker_stats, not_returned),
	CTR(struct worker_stats, rst_sent),     CTR(struct worker_stats, blocks),
	CTR(struct worker_stats, quick),        CTR(struct worker_stats, snapped),
	CTR(struct worker_stats, copies),       { NULL, 0 },
};

static const struct counter session_ctrs[] = {
	CTR(struct session_stats, live),        CTR(struct session_stats, created),
	CTR(struct session_stats, expired),     CTR(struct session_stats, ended),
	CTR(struct session_stats, table_full),  CTR(struct session_stats, evicted),
	{ NULL, 0 },
};
/* clang-format on */

static json_t *counters_json(const struct counter *c, const void *base)
{
	json_t *o = json_object();

	for (; o && c->name; c++)
		if (!put(o, c->name,
			 json_integer(*(const uint64_t *)((const char *)base + c->off))))
			return oom(o);
	return o;
}

/* An object of n counters named by name(i). */
static json_t *named_json(const uint64_t *v, unsigned n, const char *(*name)(unsigned i))
{
	json_t *o = json_object();

	for (unsigned i = 0; o && i < n; i++)
		if (!put(o, name(i), json_integer((json_int_t)v[i])))
			return oom(o);
	return o;
}

static const char *app_key(unsigned i)
{
	return app_name((enum app_proto)i);
}

static json_t *inspect_json(const struct inspect_stats *st)
{
	json_t *o = counters_json(inspect_ctrs, st);

	if (!put(o, "app_found", named_json(st->app_found, APP_MAX, app_key)) ||
	    !put(o, "threats", named_json(st->threats, THREAT_MAX, policy_threat_name)))
		return oom(o);
	return o;
}

static json_t *wc_json(const struct worker_counters *wc)
{
	json_t *o = json_object();

	if (!put(o, "inspect", inspect_json(&wc->in)) ||
	    !put(o, "worker", counters_json(worker_ctrs, &wc->w)) ||
	    !put(o, "sessions", counters_json(session_ctrs, &wc->sess)))
		return oom(o);
	return o;
}

static void add_u64s(uint64_t *sum, const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum[i] += v[i];
}

static void add_counters(struct worker_counters *sum, const struct worker_counters *wc)
{
	add_u64s((uint64_t *)&sum->in, (const uint64_t *)&wc->in, sizeof(wc->in) / 8);
	add_u64s((uint64_t *)&sum->w, (const uint64_t *)&wc->w, sizeof(wc->w) / 8);
	add_u64s((uint64_t *)&sum->sess, (const uint64_t *)&wc->sess, sizeof(wc->sess) / 8);
}

static json_t *cmd_stats(const struct ctl_service *svc, const struct ctl_request *req)
{
	struct worker_counters total = { 0 }, wc;
	json_t *a = json_array(), *o;

	(void)req;
	for (unsigned i = 0; a && i < svc->n_workers; i++) {
		worker_counters(&svc->workers[i], &wc);
		add_counters(&total, &wc);
		o = wc_json(&wc);
		if (!put(o, "index", json_integer(i)) || json_array_append_new(a, o) < 0)
			return oom(a);
	}
	o = a ? json_pack("{so so}", "total", wc_json(&total), "workers", a) : NULL;
	return o ? o : oom(NULL);
}

/* ---- sessions ---- */

/* Every line of d appended to arr as an object. */
static int append_lines(json_t *arr, const struct worker_dump *d, size_t limit)
{
	const char *p = d->buf, *end = d->buf + d->len;

	while (p && p < end && json_array_size(arr) < limit) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *s = json_loadb(p, n, 0, NULL);

		if (!s || json_array_append_new(arr, s) < 0)
			return err_set(-ENOMEM, "session line");
		p += n + 1;
	}
	return 0;
}

/* Wait for one worker's answer, keeping the service alive meanwhile. */
static int wait_dump(const struct ctl_service *svc, unsigned i, unsigned ticket, uint64_t deadline,
		     struct worker_dump *d)
{
	for (;;) {
		uint64_t now = clock_mono_ns(), until = now + DUMP_SLICE_NS;

		if (until > deadline)
			until = deadline;
		if (worker_dump_wait(&svc->workers[i], ticket, until, d) == 0)
			return 0;
		if (svc->keepalive)
			svc->keepalive(svc->arg);
		if (until >= deadline)
			return -ETIMEDOUT;
	}
}

static json_t *collect_sessions(const struct ctl_service *svc, const unsigned *tickets,
				size_t limit, json_t *out)
{
	uint64_t deadline = clock_mono_ns() + DUMP_WAIT_NS, live = 0;
	json_t *arr = json_array(), *missing = json_array();

	for (unsigned i = 0; arr && missing && i < svc->n_workers; i++) {
		struct worker_dump d = { 0 };

		if (wait_dump(svc, i, tickets[i], deadline, &d) < 0) {
			if (json_array_append_new(missing, json_integer(i)) < 0)
				break;
			continue;
		}
		live += d.live;
		if (append_lines(arr, &d, limit) < 0)
			json_decref(arr), arr = NULL;
		free(d.buf);
	}
	if (!put(out, "sessions", arr) || !put(out, "live", json_integer((json_int_t)live)) ||
	    !put(out, "truncated", json_boolean(live > json_array_size(arr))) ||
	    !put(out, "unanswered", missing))
		return oom(out);
	return out;
}

static json_t *cmd_sessions(const struct ctl_service *svc, const struct ctl_request *req)
{
	unsigned *tickets = calloc(svc->n_workers ? svc->n_workers : 1, sizeof(*tickets));
	json_t *o;

	if (!tickets)
		return oom(NULL);
	/* ask all first: they copy at the same time */
	for (unsigned i = 0; i < svc->n_workers; i++)
		tickets[i] = worker_dump_ask(&svc->workers[i], req->limit);
	o = collect_sessions(svc, tickets, req->limit, json_object());
	free(tickets);
	return o;
}

/* ---- policy ---- */

static json_t *policy_json(const struct ctl_service *svc, bool with_dump)
{
	const struct policy *p = atomic_load(&svc->sh->policy);
	char *dump = with_dump ? policy_dump(p) : NULL;
	json_t *o = json_pack("{so sI}", "path", ctl_json_str(svc->cfg->policy), "rules",
			      (json_int_t)policy_rule_count(p));

	if (with_dump && (!dump || !put(o, "policy", json_loads(dump, 0, NULL)))) {
		free(dump);
		return oom(o);
	}
	free(dump);
	return o ? o : oom(NULL);
}

static json_t *cmd_policy_show(const struct ctl_service *svc, const struct ctl_request *req)
{
	(void)req;
	return policy_json(svc, true);
}

static json_t *cmd_policy_reload(const struct ctl_service *svc, const struct ctl_request *req)
{
	(void)req;
	if (svc->reload_policy(svc->arg) < 0)
		return NULL;
	return policy_json(svc, false);
}

/* ---- dispatch ---- */

typedef json_t *(*cmd_fn)(const struct ctl_service *svc, const struct ctl_request *req);

static const cmd_fn cmds[CTL_CMD_MAX] = {
	[CTL_STATUS] = cmd_status,	     [CTL_PORTS] = cmd_ports,
	[CTL_SESSIONS] = cmd_sessions,	     [CTL_STATS] = cmd_stats,
	[CTL_POLICY_SHOW] = cmd_policy_show, [CTL_POLICY_RELOAD] = cmd_policy_reload,
};

char *ctl_serve_line(const struct ctl_service *svc, const char *line, size_t len)
{
	struct ctl_request req;
	json_t *body;

	err_clear();
	if (ctl_request_parse(line, len, &req) < 0)
		return ctl_reply_err(err_msg());
	body = cmds[req.cmd](svc, &req);
	if (!body)
		return ctl_reply_err(err_msg());
	return ctl_reply_ok(body);
}
