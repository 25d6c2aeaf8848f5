/* SPDX-License-Identifier: Apache-2.0 */
/* portcullis-nri's handlers: pod events to lib/pull/pod.h, and the queue Synchronize fills. */
#include "pods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "known.h"
#include "spec.h"
#include "lib/core/err.h"
#include "lib/core/log.h"
#include "lib/pull/pod.h"

/*
 * The longest wait for the state lock while the runtime waits for an
 * answer (2 s in all, NRI_HANDLER_BUDGET_MS for us; the pull itself takes
 * tens of milliseconds), and
 * while working off the queue: a request that comes meanwhile waits for
 * that piece and then for its own answer.
 */
#define PODS_WAIT_MS 800
#define PODS_IDLE_WAIT_MS 200
#define PODS_TRIES 10	   /* attempts at a pod while the lock stays busy */
#define PODS_RETRY_MS 1000 /* between them */
/* how often to look for pods whose namespace went without a stop event */
#define PODS_CHECK_MS 5000

/* A pod to intercept (or find intercepted): running unintercepted, or its lock wait timed out. */
struct job {
	struct job *next;
	struct spec spec;
	struct state_ctr *ctrs; /* its containers, for their names */
	unsigned tries;
	long due; /* not before (CLOCK_MONOTONIC ms) */
	char who[2 * ERR_SHOWN_MAX + 2];
};

struct pods {
	const struct pc_config *cfg;
	unsigned wait_ms, idle_wait_ms;
	struct job *head, **tail;
	struct known known; /* the pods the runtime has: the others' records go */
	long check_due;	    /* when to look for namespaces gone without a stop event */
	bool sweep;	    /* records of pods gone may be left: release them */
	long sweep_due;
	unsigned sweep_tries;
};

/* ---- the queue ---- */

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

static void job_free(struct job *j)
{
	if (j)
		free(j->ctrs);
	free(j);
}

static void job_push(struct pods *p, struct job *j)
{
	j->next = NULL;
	*p->tail = j;
	p->tail = &j->next;
}

static struct job *job_pop(struct pods *p)
{
	struct job *j = p->head;

	if (j) {
		p->head = j->next;
		if (!p->head)
			p->tail = &p->head;
	}
	return j;
}

/* The first job that is due by now, taken off the queue; NULL when none is. */
static struct job *job_due(struct pods *p, long now)
{
	struct job **at = &p->head, *j;

	while ((j = *at) && j->due > now)
		at = &j->next;
	if (!j)
		return NULL;
	*at = j->next;
	for (p->tail = &p->head; *p->tail; p->tail = &(*p->tail)->next)
		;
	return j;
}

/* A pod the runtime tells about now needs no queued work any more. */
static void job_drop(struct pods *p, const char *id)
{
	struct job **at = &p->head, *j;

	while ((j = *at)) {
		if (strcmp(j->spec.pod.sandbox.id, id) != 0) {
			at = &j->next;
			continue;
		}
		*at = j->next;
		job_free(j);
	}
	for (p->tail = &p->head; *p->tail; p->tail = &(*p->tail)->next)
		;
}

static void jobs_clear(struct pods *p)
{
	struct job *j;

	while ((j = job_pop(p)))
		job_free(j);
}

/* A job for pod, with the names of its containers among ctrs. */
static struct job *job_new(struct pods *p, const struct nri_pod *pod, const struct nri_ctr *ctrs,
			   size_t n_ctrs)
{
	struct job *j = calloc(1, sizeof(*j));
	size_t n = 0;

	if (!j || !(j->ctrs = calloc(n_ctrs ? n_ctrs : 1, sizeof(*j->ctrs)))) {
		job_free(j);
		err_set(-ENOMEM, "queue");
		return NULL;
	}
	spec_name(pod, j->who, sizeof(j->who));
	if (spec_from_pod(p->cfg, pod, &j->spec) < 0) {
		job_free(j);
		return NULL;
	}
	for (size_t i = 0; i < n_ctrs; i++) {
		if (strcmp(ctrs[i].pod_id, pod->id) != 0 || ctrs[i].state == NRI_CTR_STOPPED)
			continue;
		spec_ctr(pod, &ctrs[i], &j->ctrs[n]);
		n += j->ctrs[n].id[0] != '\0';
	}
	j->spec.pod.ctrs = j->ctrs;
	j->spec.pod.n_ctrs = n;
	return j;
}

/* A pod whose interception waited for the lock in vain: again a little later. */
static void retry_later(struct pods *p, const struct nri_pod *pod)
{
	struct job *j = job_new(p, pod, NULL, 0);

	if (!j) {
		pr_warn("%s", err_msg());
		return;
	}
	j->tries = 1;
	j->due = now_ms() + PODS_RETRY_MS;
	job_push(p, j);
	pr_info("pod %s: trying again in %d ms", j->who, PODS_RETRY_MS);
}

/* ---- the handlers ---- */

static int on_run(const struct nri_pod *pod, void *arg)
{
	struct pods *p = arg;
	char who[2 * ERR_SHOWN_MAX + 2];
	struct spec s;
	int ret;

	spec_name(pod, who, sizeof(who));
	job_drop(p, pod->id);
	ret = spec_from_pod(p->cfg, pod, &s);
	if (ret >= 0 && known_add(&p->known, pod->id, pod->netns, 0) < 0)
		pr_warn("%s", err_msg()); /* only the sweep would miss it */
	if (ret >= 0)
		ret = pod_intercept(p->cfg, &s.pod, p->wait_ms);
	if (ret == INTERCEPTED)
		pr_info("pod %s (%s): intercepted, mode %s", who, pod->id,
			config_mode_name(s.pod.mode));
	if (ret >= 0)
		return 0;
	/* more ports than are intercepted: refused whatever on_failure says */
	if (ret == -E2BIG)
		return err_wrap(ret, "portcullis: pod %s refused", who);
	if (p->cfg->on_failure_closed)
		return err_wrap(ret, "portcullis: pod %s not intercepted (on_failure closed)", who);
	pr_warn("pod %s starts unintercepted (on_failure open): %s", who, err_msg());
	if (ret == -ETIMEDOUT)
		retry_later(p, pod);
	return 0;
}

static int release(struct pods *p, const struct nri_pod *pod, const char *when)
{
	char who[2 * ERR_SHOWN_MAX + 2];
	int ret;

	spec_name(pod, who, sizeof(who));
	job_drop(p, pod->id);
	ret = pod_release(p->cfg, pod->id, p->wait_ms);
	if (ret >= 0)
		known_stopped(&p->known, pod->id);
	if (ret == 0)
		pr_info("pod %s (%s): released at %s", who, pod->id, when);
	return ret < 0 ? err_wrap(ret, "pod %s: release", who) : 0;
}

static int on_stop(const struct nri_pod *pod, void *arg)
{
	return release(arg, pod, "stop");
}

static int on_remove(const struct nri_pod *pod, void *arg)
{
	struct pods *p = arg;
	int ret;

	ret = release(p, pod, "removal");
	known_del(&p->known, pod->id);
	return ret;
}

static int on_ctr_created(const struct nri_pod *pod, const struct nri_ctr *ctr, void *arg)
{
	struct pods *p = arg;
	struct state_ctr c;

	spec_ctr(pod, ctr, &c);
	if (c.id[0] && pod_ctr_put(p->cfg, pod->id, &c, p->wait_ms) < 0)
		pr_warn("container %s of pod %s: not recorded: %s", c.id, pod->id, err_msg());
	return 0; /* a name is for the logs: never a reason to fail a container */
}

static int on_ctr_removed(const struct nri_pod *pod, const struct nri_ctr *ctr, void *arg)
{
	struct pods *p = arg;

	if (pod_ctr_del(p->cfg, pod->id, ctr->id, p->wait_ms) < 0)
		pr_warn("container %s of pod %s: %s", ctr->id, pod->id, err_msg());
	return 0;
}

static int on_sync(const struct nri_pod *pods, size_t n, const struct nri_ctr *ctrs, size_t n_ctrs,
		   void *arg)
{
	struct pods *p = arg;
	size_t queued = 0;
	struct job *j;

	jobs_clear(p);
	known_clear(&p->known);
	for (size_t i = 0; i < n; i++) {
		if (known_add(&p->known, pods[i].id, pods[i].pid ? pods[i].netns : "", 0) < 0)
			return err_wrap(-ENOMEM, "synchronize");
		/* a pod without a process is stopped; without a netns path, on the host's */
		if (!pods[i].netns[0] || pods[i].pid == 0)
			continue;
		j = job_new(p, &pods[i], ctrs, n_ctrs);
		if (!j) {
			pr_warn("synchronize: %s", err_msg());
			continue;
		}
		job_push(p, j);
		queued++;
	}
	p->sweep = true;
	p->sweep_due = 0;
	p->sweep_tries = 0;
	pr_info("synchronize: %zu pods, %zu containers; %zu running pods to check, then the "
		"records of pods gone",
		n, n_ctrs, queued);
	return 0;
}

static void run_job(struct pods *p, struct job *j)
{
	int ret = pod_intercept(p->cfg, &j->spec.pod, p->idle_wait_ms);

	if (ret == -ETIMEDOUT && ++j->tries < PODS_TRIES) {
		j->due = now_ms() + PODS_RETRY_MS; /* the lock is busy: later */
		job_push(p, j);
		return;
	}
	if (ret < 0)
		pr_warn("pod %s (%s) runs unintercepted: %s", j->who, j->spec.pod.sandbox.id,
			err_msg());
	else if (ret == INTERCEPTED)
		pr_info("pod %s (%s): intercepted (synchronize)", j->who, j->spec.pod.sandbox.id);
	job_free(j);
}

/* When to be called again: at once, in so many ms (the next job due), or -1: never. */
static int next_call(const struct pods *p, long now)
{
	long first = p->sweep ? p->sweep_due : -1;

	if (p->known.n && (first < 0 || p->check_due < first))
		first = p->check_due;
	for (const struct job *j = p->head; j; j = j->next)
		if (first < 0 || j->due < first)
			first = j->due;
	if (first < 0)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}

static void sweep(struct pods *p)
{
	int ret = pod_sweep(p->cfg, p->known.ids, p->known.n, p->idle_wait_ms);

	p->sweep = ret > 0 || (ret == -ETIMEDOUT && ++p->sweep_tries < PODS_TRIES);
	p->sweep_due = ret == -ETIMEDOUT ? now_ms() + PODS_RETRY_MS : 0;
	if (ret < 0 && !p->sweep)
		pr_warn("synchronize: records of pods gone: %s", err_msg());
}

/*
 * A pod whose namespace went without a stop event: containerd 1.7 keeps
 * what it told plugins of a pod in memory only, so after its own restart
 * it sends no stop or removal for the pods it had.  Their interception is
 * released here, after the CNI teardown, once their namespace is gone.
 */
static void check_vanished(struct pods *p)
{
	const struct known_pod *kp = known_vanished(&p->known);
	int ret;

	if (!kp) {
		p->check_due = now_ms() + PODS_CHECK_MS;
		return;
	}
	ret = pod_release(p->cfg, kp->id, p->idle_wait_ms);
	if (ret == 0)
		pr_info("pod %s: released: its network namespace is gone, without a stop event "
			"from the runtime",
			kp->id);
	else if (ret < 0)
		pr_warn("pod %s: its network namespace is gone: %s", kp->id, err_msg());
	if (ret != -ETIMEDOUT)
		known_stopped(&p->known, kp->id);
	else
		p->check_due = now_ms() + PODS_RETRY_MS;
}

static int on_idle(void *arg)
{
	struct pods *p = arg;
	struct job *j = job_due(p, now_ms());

	if (j)
		run_job(p, j);
	else if (p->sweep && p->sweep_due <= now_ms())
		sweep(p);
	else if (p->known.n && p->check_due <= now_ms())
		check_vanished(p);
	return next_call(p, now_ms());
}

void pods_handlers(struct pods *p, struct nri_handlers *h)
{
	*h = (struct nri_handlers){
		.pod_run = on_run,
		.pod_stop = on_stop,
		.pod_remove = on_remove,
		.synchronize = on_sync,
		.ctr_created = on_ctr_created,
		.ctr_removed = on_ctr_removed,
		.idle = on_idle,
		.arg = p,
	};
}

/*
 * The pods intercepted before this start, from their records: watched for
 * their namespace to go, as the runtime may never tell (containerd runs the
 * plugins it launches without a Synchronize, and after its own restart
 * sends no stop for the pods it had).  Synchronize, when it comes, knows
 * better and replaces them.
 */
static void adopt_records(struct pods *p)
{
	struct state_rec *recs = NULL;
	size_t n = 0;

	if (state_list(p->cfg->state_dir, &recs, &n) < 0) {
		pr_warn("%s", err_msg());
		return;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < recs[i].n_ctrs; c++)
			if (recs[i].ctrs[c].sandbox &&
			    known_add(&p->known, recs[i].ctrs[c].id, recs[i].ns_path,
				      recs[i].ns_ino) < 0)
				pr_warn("%s", err_msg());
	state_list_free(recs, n);
}

int pods_new(const struct pc_config *cfg, struct pods **out)
{
	struct pods *p = calloc(1, sizeof(*p));

	if (!p)
		return err_set(-ENOMEM, "pods");
	p->cfg = cfg;
	p->wait_ms = cfg->lock_timeout_ms < PODS_WAIT_MS ? cfg->lock_timeout_ms : PODS_WAIT_MS;
	p->idle_wait_ms = p->wait_ms < PODS_IDLE_WAIT_MS ? p->wait_ms : PODS_IDLE_WAIT_MS;
	p->tail = &p->head;
	adopt_records(p);
	*out = p;
	return 0;
}

void pods_free(struct pods *p)
{
	if (!p)
		return;
	jobs_clear(p);
	known_free(&p->known);
	free(p);
}
