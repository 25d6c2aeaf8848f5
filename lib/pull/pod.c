/* SPDX-License-Identifier: Apache-2.0 */
/* Pods for portcullis-nri, built on the steps of intercept.c (intercept_int.h). */
#include "pod.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "intercept_int.h"
#include "lib/core/err.h"
#include "lib/core/log.h"
#include "lib/net/netns.h"
#include "lib/net/nl.h"

/*
 * The pod's namespace, checked: when the pod names its process (in our
 * PID namespace: nri.h), that process is in it.
 */
static int pod_netns_open(const struct pod_spec *p, unsigned long *ino)
{
	unsigned long pino = 0;
	int fd, pfd, ret;

	fd = netns_open_path(p->netns);
	if (fd < 0)
		return err_wrap(fd, "pod %s", p->sandbox.id);
	ret = netns_ino(fd, ino);
	if (ret >= 0 && p->sandbox.pid > 0) {
		pfd = netns_open_pid(p->sandbox.pid);
		ret = pfd < 0 ? pfd : netns_ino(pfd, &pino);
		if (pfd >= 0)
			close(pfd);
		if (ret >= 0 && pino != *ino)
			ret = err_set(-ESTALE, "pod %s: its process %d is not in %s", p->sandbox.id,
				      (int)p->sandbox.pid, p->netns);
	}
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

/* The containers known already, into the record of ino; the caller holds the lock. */
static int put_ctrs_locked(const struct pc_config *cfg, unsigned long ino,
			   const struct state_ctr *ctrs, size_t n)
{
	struct state_rec rec;
	int ret;

	ret = state_load(cfg->state_dir, ino, &rec);
	for (size_t i = 0; ret >= 0 && i < n; i++)
		ret = state_put_ctr(&rec, &ctrs[i]);
	if (ret >= 0)
		ret = state_save(cfg->state_dir, &rec);
	state_rec_free(&rec);
	return ret;
}

/* The state lock, waited for at most wait_ms; its note says "<verb> [pod <id>]". */
static int pod_lock(const struct pc_config *cfg, unsigned wait_ms, const char *verb,
		    const char *pod_id)
{
	char what[OCI_ID_MAX + 32];

	snprintf(what, sizeof(what), "%s%s%s", verb, pod_id ? " of pod " : "",
		 pod_id ? pod_id : "");
	return state_lock_as(cfg->state_dir, wait_ms, what);
}

static int pull_pod(const struct pc_config *cfg, const struct pod_spec *p,
		    const struct intercept_target *t, int fd, unsigned wait_ms)
{
	struct nl_ns ns;
	int lock, ret;

	ret = nl_ns_open(fd, &ns); /* owns fd from here on */
	if (ret < 0)
		return ret;
	lock = pod_lock(cfg, wait_ms, "pull", p->sandbox.id);
	ret = lock < 0 ? lock : intercept_pull_locked(cfg, t, &ns, p->mode);
	/* the names are for the logs: their loss is no reason to fail the pod */
	if (ret == INTERCEPTED && p->n_ctrs && put_ctrs_locked(cfg, t->ino, p->ctrs, p->n_ctrs) < 0)
		pr_warn("pod %s: its containers' names are not recorded: %s", p->sandbox.id,
			err_msg());
	state_unlock(lock);
	nl_ns_close(&ns);
	return ret;
}

int pod_intercept(const struct pc_config *cfg, const struct pod_spec *p, unsigned wait_ms)
{
	struct intercept_target t = { .ctr = p->sandbox };
	const char *why = NULL;
	int fd;

	if (!p->netns || !p->netns[0])
		why = "it has no network namespace of its own";
	else if (p->mode == MODE_OFF)
		why = "its mode is off";
	if (why) {
		pr_info("pod %s: left alone: %s", p->sandbox.id, why);
		return SKIPPED;
	}
	t.ctr.sandbox = true;
	if ((size_t)snprintf(t.ns_path, sizeof(t.ns_path), "%s", p->netns) >= sizeof(t.ns_path))
		return err_set(-ENAMETOOLONG, "pod %s: netns path", p->sandbox.id);
	fd = pod_netns_open(p, &t.ino);
	if (fd < 0)
		return fd;
	why = intercept_refusal(cfg, t.ino);
	if (why) {
		pr_info("pod %s: left alone: %s", p->sandbox.id, why);
		close(fd);
		return SKIPPED;
	}
	return pull_pod(cfg, p, &t, fd, wait_ms);
}

int pod_release(const struct pc_config *cfg, const char *pod_id, unsigned wait_ms)
{
	struct state_rec rec = { 0 };
	size_t idx;
	int lock, ret;

	lock = pod_lock(cfg, wait_ms, "release", pod_id);
	if (lock < 0)
		return lock;
	/* a pull killed half-way is undone before anything else */
	if (intercept_journals_locked(cfg) < 0)
		pr_warn("%s", err_msg());
	ret = state_find_ctr(cfg->state_dir, pod_id, true, &rec, &idx);
	if (ret == -ENOENT)
		ret = SKIPPED;
	else if (ret >= 0)
		ret = intercept_release_locked(cfg, &rec);
	state_rec_free(&rec);
	state_unlock(lock);
	return ret;
}

/* The record holding pod_id, loaded under the lock (taken here): the lock fd, or -errno. */
static int pod_record(const struct pc_config *cfg, const char *pod_id, unsigned wait_ms,
		      struct state_rec *rec, int *ret)
{
	size_t idx;
	int lock = pod_lock(cfg, wait_ms, "containers", pod_id);

	*ret = lock;
	if (lock < 0)
		return lock;
	*ret = state_find_ctr(cfg->state_dir, pod_id, true, rec, &idx);
	if (*ret == -ENOENT)
		*ret = SKIPPED;
	return lock;
}

int pod_ctr_put(const struct pc_config *cfg, const char *pod_id, const struct state_ctr *c,
		unsigned wait_ms)
{
	struct state_rec rec = { 0 };
	int lock, ret;

	if (strcmp(c->id, pod_id) == 0)
		return err_set(-EINVAL, "container %s: the pod's own id", c->id);
	lock = pod_record(cfg, pod_id, wait_ms, &rec, &ret);
	if (ret == 0)
		ret = state_put_ctr(&rec, c);
	if (ret == 0)
		ret = state_save(cfg->state_dir, &rec);
	state_rec_free(&rec);
	state_unlock(lock);
	return ret;
}

int pod_ctr_del(const struct pc_config *cfg, const char *pod_id, const char *ctr_id,
		unsigned wait_ms)
{
	struct state_rec rec = { 0 };
	size_t i = 0;
	int lock, ret;

	if (strcmp(ctr_id, pod_id) == 0)
		return SKIPPED; /* the sandbox goes with pod_release */
	lock = pod_record(cfg, pod_id, wait_ms, &rec, &ret);
	while (ret == 0 && i < rec.n_ctrs && strcmp(rec.ctrs[i].id, ctr_id) != 0)
		i++;
	if (ret == 0 && i == rec.n_ctrs)
		ret = SKIPPED;
	if (ret == 0) {
		state_del_ctr(&rec, i);
		ret = state_save(cfg->state_dir, &rec);
	}
	state_rec_free(&rec);
	state_unlock(lock);
	return ret;
}

/* The sandbox entry of rec, or NULL (a record of the hook's). */
static const struct state_ctr *sandbox_of(const struct state_rec *rec)
{
	for (size_t i = 0; i < rec->n_ctrs; i++)
		if (rec->ctrs[i].sandbox)
			return &rec->ctrs[i];
	return NULL;
}

static bool listed(const char *id, const char *const *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

/* Why the pod of rec should be released, or NULL. */
static const char *stale(const struct state_rec *rec, const char *const *ids, size_t n)
{
	const struct state_ctr *s = sandbox_of(rec);
	int fd;

	if (!s)
		return NULL;
	if (!listed(s->id, ids, n))
		return "the runtime does not have it any more";
	fd = netns_reopen(rec->ns_path, rec->ns_ino);
	if (fd < 0)
		return "its network namespace is gone";
	close(fd);
	return NULL;
}

int pod_sweep(const struct pc_config *cfg, const char *const *ids, size_t n, unsigned wait_ms)
{
	struct state_rec *recs = NULL;
	size_t nrec = 0;
	const char *why = NULL;
	int lock, ret;

	lock = pod_lock(cfg, wait_ms, "sweep of pods", NULL);
	if (lock < 0)
		return lock;
	ret = state_list(cfg->state_dir, &recs, &nrec);
	for (size_t i = 0; ret >= 0 && i < nrec && !why; i++) {
		why = stale(&recs[i], ids, n);
		if (!why)
			continue;
		pr_info("pod %s (%s/%s): released: %s", sandbox_of(&recs[i])->id,
			sandbox_of(&recs[i])->k8s_namespace, sandbox_of(&recs[i])->k8s_pod, why);
		ret = intercept_release_locked(cfg, &recs[i]);
	}
	state_list_free(recs, nrec);
	state_unlock(lock);
	return ret < 0 ? ret : why != NULL;
}
