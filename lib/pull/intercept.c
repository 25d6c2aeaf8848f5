/* SPDX-License-Identifier: Apache-2.0 */
#include "intercept.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctrname.h"
#include "intercept_int.h"
#include "journal.h"
#include "pull.h"
#include "recover.h"
#include "trust.h"
#include "lib/core/claim.h"
#include "lib/core/err.h"
#include "lib/core/fault.h"
#include "lib/core/log.h"
#include "lib/core/naming.h"
#include "lib/core/state.h"
#include "lib/dpath/dpath.h"
#include "lib/dpath/enforcer.h"
#include "lib/net/netns.h"
#include "lib/net/nl.h"

/* The enforcer namespace and its data path, open for one hook run. */
struct enforcer {
	struct nl_ns ns;
	struct dpath *dpath;
};

static int enf_open(const struct pc_config *cfg, bool create, struct enforcer *e)
{
	int ret;

	e->dpath = NULL;
	ret = enforcer_open(cfg, create, &e->ns);
	if (ret < 0)
		return ret;
	ret = dpath_open(cfg, &e->ns, &e->dpath);
	if (ret < 0)
		nl_ns_close(&e->ns);
	return ret;
}

static void enf_close(struct enforcer *e)
{
	dpath_close(e->dpath);
	e->dpath = NULL;
	nl_ns_close(&e->ns);
}

struct target {
	struct oci_state st; /* with the bundle's annotations merged in */
	struct intercept_target it;
	int fd;
};

static int ns_ino_of(const char *path, unsigned long *ino)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = netns_ino(fd, ino);
	close(fd);
	return ret;
}

static void ctr_from_state(const struct oci_state *st, struct state_ctr *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", st->id);
	snprintf(c->name, sizeof(c->name), "%s", st->name);
	c->pid = st->pid;
	snprintf(c->group, sizeof(c->group), "%s", st->group);
	snprintf(c->k8s_pod, sizeof(c->k8s_pod), "%s", st->k8s_pod);
	snprintf(c->k8s_namespace, sizeof(c->k8s_namespace), "%s", st->k8s_namespace);
	snprintf(c->k8s_container, sizeof(c->k8s_container), "%s", st->k8s_container);
}

/* The state lock, waited for at most lock_timeout_ms; its note says "<verb> [<id>]". */
static int lock_for(const struct pc_config *cfg, const char *verb, const char *id)
{
	char what[OCI_ID_MAX + 32], shown[OCI_ID_MAX];

	snprintf(what, sizeof(what), "%s%s%s", verb, id ? " " : "",
		 id ? err_shown(id, shown, sizeof(shown)) : "");
	return state_lock_as(cfg->state_dir, cfg->lock_timeout_ms, what);
}

/* Step 1: the container's namespace, from its pid or else from its bundle. */
static int resolve(const struct oci_state *st, struct target *t)
{
	char bundle_ns[PATH_MAX] = "";
	unsigned long bino = 0;
	int ret;

	t->st = *st;
	t->fd = -1;
	if (st->bundle[0]) {
		ret = oci_bundle_read(st->bundle, bundle_ns, sizeof(bundle_ns), &t->st);
		if (ret < 0 && ret != -ENOENT)
			return ret;
	}
	if (st->pid > 0)
		ctrname_resolve(&t->st);
	if (st->pid > 0) {
		t->fd = netns_open_pid(st->pid);
		if (t->fd == -ESRCH)
			return err_set(-ESRCH, "pid %d has exited", (int)st->pid);
		snprintf(t->it.ns_path, sizeof(t->it.ns_path), "/proc/%d/ns/net", (int)st->pid);
	} else if (bundle_ns[0]) {
		t->fd = netns_open_path(bundle_ns);
	} else {
		return err_set(-EINVAL,
			       "state has no pid and the bundle names no network namespace");
	}
	if (t->fd < 0)
		return t->fd;
	ret = netns_ino(t->fd, &t->it.ino);
	if (ret < 0)
		return ret;
	/* a named namespace outlives the pid: prefer it for poststop */
	if (bundle_ns[0] && ns_ino_of(bundle_ns, &bino) == 0 && bino == t->it.ino)
		snprintf(t->it.ns_path, sizeof(t->it.ns_path), "%s", bundle_ns);
	ctr_from_state(&t->st, &t->it.ctr);
	return 0;
}

/* Step 2: namespaces that must never be touched. */
const char *intercept_refusal(const struct pc_config *cfg, unsigned long ino)
{
	unsigned long other;

	if (ns_ino_of("/proc/self/ns/net", &other) == 0 && other == ino)
		return "it is the hook's own (host) network namespace";
	if (ns_ino_of("/proc/1/ns/net", &other) == 0 && other == ino)
		return "it is the host network namespace of pid 1";
	if (ns_ino_of(cfg->enforcer_netns, &other) == 0 && other == ino)
		return "it is the enforcer network namespace";
	return NULL;
}

/* The mode the configuration gives the container, its annotation trusted as far as it says. */
static enum pc_mode wanted_mode(const struct pc_config *cfg, const struct oci_state *st)
{
	char who[OCI_ID_MAX];

	return trust_mode(cfg, st->mode, "container", err_shown(st->id, who, sizeof(who)));
}

/* A record already covers this namespace (a pod): join it, or clear it if stale. */
static int join_existing(const struct pc_config *cfg, const struct intercept_target *t,
			 struct enforcer *e, bool *joined)
{
	struct state_rec rec = { 0 };
	int ret;

	*joined = false;
	ret = state_load(cfg->state_dir, t->ino, &rec);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	if (pull_is_live(&e->ns, &rec)) {
		size_t n = rec.n_ctrs;

		ret = state_put_ctr(&rec, &t->ctr);
		if (ret >= 0)
			ret = state_save(cfg->state_dir, &rec);
		*joined = ret >= 0;
		if (rec.n_ctrs > n)
			pr_info("container %s joins intercepted network namespace %lu", t->ctr.id,
				t->ino);
		else
			pr_debug("container %s: network namespace %lu intercepted already",
				 t->ctr.id, t->ino);
	} else {
		pr_warn("network namespace %lu: dropping a stale record", t->ino);
		pull_release(NULL, &e->ns, e->dpath, &rec);
		ret = state_remove(cfg->state_dir, t->ino);
	}
	state_rec_free(&rec);
	return ret;
}

/* The pull's record; when it cannot be written, the pull is undone. */
static int record_pull(const struct pc_config *cfg, const struct intercept_target *t,
		       struct nl_ns *ctr, struct enforcer *e, struct state_rec *rec)
{
	int ret;

	snprintf(rec->ns_path, sizeof(rec->ns_path), "%s", t->ns_path);
	rec->pid = t->ctr.pid;
	snprintf(rec->backend, sizeof(rec->backend), "%s", dpath_backend(e->dpath));
	rec->created = time(NULL);
	ret = state_add_ctr(rec, &t->ctr);
	if (ret >= 0)
		ret = fault_point("save state");
	if (ret >= 0)
		ret = state_save(cfg->state_dir, rec);
	if (ret < 0) {
		char why[PC_ERRMSG_MAX];

		fault_disarm();
		snprintf(why, sizeof(why), "%s", err_msg());
		if (pull_release(ctr, &e->ns, e->dpath, rec) >= 0)
			journal_remove(cfg->state_dir, ctr->ino);
		err_set(0, "%s", why);
	}
	return ret;
}

/* The UCMAC claims of namespace ino, after a failed pull. */
static void drop_claims(const struct pc_config *cfg, unsigned long ino)
{
	char why[PC_ERRMSG_MAX];

	snprintf(why, sizeof(why), "%s", err_msg()); /* the failure's own message stays */
	if (claim_drop_ino(cfg->state_dir, ino) < 0)
		pr_warn("%s (gc removes it)", err_msg());
	err_set(0, "%s", why);
}

/* The pull itself, its record, and the rollback if the record cannot be written. */
static int pull_and_record(const struct pc_config *cfg, const struct intercept_target *t,
			   struct nl_ns *ctr, struct enforcer *e, struct pull_args *a,
			   struct state_rec *rec)
{
	int ret;

	fault_arm();
	ret = pull_netns(ctr, &e->ns, e->dpath, a, rec);
	if (ret == 0)
		ret = record_pull(cfg, t, ctr, e, rec);
	if (ret == 0)
		fault_pass("drop journal"); /* recorded: the journal has done its job */
	fault_disarm();
	if (ret == 0 && journal_remove(cfg->state_dir, ctr->ino) < 0)
		pr_warn("%s", err_msg());
	if (ret < 0 && ret != PULL_NOTHING)
		drop_claims(cfg, ctr->ino);
	return ret;
}

int intercept_pull_locked(const struct pc_config *cfg, const struct intercept_target *t,
			  struct nl_ns *ctr, enum pc_mode mode)
{
	struct pull_args a = { .mode = mode };
	struct enforcer e = { .ns = { .fd = -1, .ioc = -1 } };
	struct state_rec rec = { 0 };
	bool joined = false;
	int ret;

	ret = enf_open(cfg, true, &e);
	if (ret >= 0)
		recover_journals(cfg, &e.ns, e.dpath); /* what a dead hook left comes first */
	if (ret >= 0)
		ret = join_existing(cfg, t, &e, &joined);
	if (ret < 0 || joined)
		goto out;
	if (!dpath_supports(e.dpath, mode)) {
		pr_warn("mode %s is not available with backend %s; using pass",
			config_mode_name(mode), dpath_backend(e.dpath));
		a.mode = MODE_PASS;
	}
	a.pid = t->ctr.pid > 0 ? t->ctr.pid : (pid_t)(t->ino % 4194303 + 1);
	a.claim_dir = cfg->state_dir;
	a.claim_ino = t->ino;
	a.journal_dir = cfg->state_dir;
	a.ns_path = t->ns_path;
	ret = pull_and_record(cfg, t, ctr, &e, &a, &rec);
	if (ret == 0)
		pr_info("container %s: %zu port(s) intercepted, mode %s, backend %s", t->ctr.id,
			rec.n_ports, config_mode_name(a.mode), dpath_backend(e.dpath));
	ret = ret == PULL_NOTHING ? SKIPPED : ret;
out:
	state_rec_free(&rec);
	enf_close(&e);
	return ret;
}

/* How many ports of ctr a pull would take (said, in a dry run); -E2BIG past STATE_MAX_PORTS. */
static int candidates(struct nl_ns *ctr, const char *id, bool dry_run)
{
	char(*names)[IFNAMSIZ] = calloc(STATE_MAX_PORTS, IFNAMSIZ);
	int ret;

	if (!names)
		return err_set(-ENOMEM, "container %s: port names", id);
	ret = pull_candidates(ctr, names, STATE_MAX_PORTS);
	if (ret > STATE_MAX_PORTS)
		ret = err_set(-E2BIG,
			      "%d ports in its network namespace, more than the %d "
			      "portcullis intercepts (refused whatever on_failure says)",
			      ret, STATE_MAX_PORTS);
	if (ret == 0)
		pr_info("container %s: left alone: no port has a global address", id);
	if (ret > 0 && dry_run) {
		for (int i = 0; i < ret; i++)
			pr_info("container %s: would pull %s (dry run)", id, names[i]);
		ret = 0;
	}
	free(names);
	return ret;
}

int intercept_start(const struct pc_config *cfg, const struct oci_state *st, bool dry_run,
		    bool *bad_input)
{
	struct nl_ns ctr = { .fd = -1, .ioc = -1 };
	enum pc_mode mode;
	struct target t;
	const char *why;
	int ret, lock;

	ret = resolve(st, &t);
	*bad_input = ret < 0;
	if (ret < 0) {
		if (t.fd >= 0)
			close(t.fd);
		return ret;
	}
	mode = wanted_mode(cfg, &t.st);
	why = mode == MODE_OFF ? "its mode is off" : intercept_refusal(cfg, t.it.ino);
	if (why) {
		pr_info("container %s: left alone: %s", t.st.id, why);
		close(t.fd);
		return SKIPPED;
	}
	ret = nl_ns_open(t.fd, &ctr);
	if (ret >= 0)
		ret = candidates(&ctr, t.st.id, dry_run);
	if (ret > 0) {
		lock = lock_for(cfg, "prestart of container", t.st.id);
		ret = lock < 0 ? lock : intercept_pull_locked(cfg, &t.it, &ctr, mode);
		state_unlock(lock);
	} else if (ret == 0) {
		ret = SKIPPED;
	}
	nl_ns_close(&ctr);
	return ret;
}

/* The container namespace of rec if it still exists; -ENOENT when gone. */
static int reopen(const struct state_rec *rec, struct nl_ns *ctr)
{
	int fd = netns_reopen(rec->ns_path, rec->ns_ino);

	return fd < 0 ? fd : nl_ns_open(fd, ctr);
}

/* The claim of port i of a released namespace; one left behind is stale (claim.h). */
static void drop_claim(const struct pc_config *cfg, const struct state_rec *rec, size_t i)
{
	unsigned char mac[6];

	if (naming_mac_parse(rec->ports[i].ucmac, mac) == 0 &&
	    claim_ucmac_drop(cfg->state_dir, mac, rec->ns_ino) < 0)
		pr_warn("%s (gc removes it)", err_msg());
}

/* Give a namespace back and drop its record; the record stays if that failed. */
int intercept_release_locked(const struct pc_config *cfg, struct state_rec *rec)
{
	struct nl_ns ctr = { .fd = -1, .ioc = -1 };
	struct enforcer e = { .ns = { .fd = -1, .ioc = -1 } };
	int have_ctr, ret;

	have_ctr = reopen(rec, &ctr) == 0;
	ret = enf_open(cfg, false, &e);
	if (ret == -ENOENT)
		ret = 0; /* no enforcer namespace: nothing of ours is left anywhere */
	else if (ret >= 0)
		ret = pull_release(have_ctr ? &ctr : NULL, &e.ns, e.dpath, rec);
	if (ret >= 0) {
		pr_info("network namespace %lu released (%s)", rec->ns_ino,
			have_ctr ? "ports given back" : "namespace gone, enforcer ports deleted");
		ret = state_remove(cfg->state_dir, rec->ns_ino);
		for (size_t i = 0; ret >= 0 && i < rec->n_ports; i++)
			drop_claim(cfg, rec, i);
	} else {
		rec->n_ctrs = 0;
		state_save(cfg->state_dir, rec); /* keep it for gc or restore */
	}
	enf_close(&e);
	nl_ns_close(&ctr);
	return ret;
}

/* The pulls of dead hooks, undone (gc, poststop); the caller holds the lock. */
int intercept_journals_locked(const struct pc_config *cfg)
{
	struct enforcer e = { .ns = { .fd = -1, .ioc = -1 } };
	int ret;

	if (!recover_pending(cfg))
		return 0;
	ret = enf_open(cfg, false, &e);
	if (ret == -ENOENT)
		ret = recover_journals(cfg, NULL, NULL);
	else if (ret >= 0)
		ret = recover_journals(cfg, &e.ns, e.dpath);
	enf_close(&e);
	return ret;
}

int intercept_stop(const struct pc_config *cfg, const struct oci_state *st)
{
	struct state_rec rec = { 0 };
	size_t idx;
	int lock, ret;

	lock = lock_for(cfg, "poststop of container", st->id);
	if (lock < 0)
		return lock;
	/* a container whose prestart hook died stops here: undo what it left */
	if (intercept_journals_locked(cfg) < 0)
		pr_warn("%s", err_msg());
	ret = state_find_ctr(cfg->state_dir, st->id, true, &rec, &idx);
	if (ret == -ENOENT) {
		pr_debug("container %s was not intercepted", st->id);
		ret = SKIPPED;
	} else if (ret >= 0) {
		state_del_ctr(&rec, idx);
		if (rec.n_ctrs > 0)
			ret = state_save(cfg->state_dir, &rec); /* others still use it */
		else
			ret = intercept_release_locked(cfg, &rec);
	}
	state_rec_free(&rec);
	state_unlock(lock);
	return ret;
}

int intercept_restore(const struct pc_config *cfg, const char *id)
{
	struct state_rec rec = { 0 };
	size_t idx;
	int lock, ret;

	lock = lock_for(cfg, "restore of", id);
	if (lock < 0)
		return lock;
	ret = state_find_ctr(cfg->state_dir, id, false, &rec, &idx);
	if (ret == -ENOENT)
		ret = err_set(-ENOENT, "no intercepted container %s", id);
	else if (ret >= 0)
		ret = intercept_release_locked(cfg, &rec);
	state_rec_free(&rec);
	state_unlock(lock);
	return ret;
}

/* Whether gc should release rec: its namespace is gone, or nobody uses it. */
static bool is_garbage(const struct state_rec *rec)
{
	struct nl_ns ctr = { .fd = -1, .ioc = -1 };

	if (reopen(rec, &ctr) < 0)
		return true;
	nl_ns_close(&ctr);
	return rec->n_ctrs == 0;
}

int intercept_gc(const struct pc_config *cfg)
{
	struct state_rec *recs = NULL;
	size_t n = 0;
	int lock, ret, released = 0, first = 0;

	lock = lock_for(cfg, "gc", NULL);
	if (lock < 0)
		return lock;
	ret = intercept_journals_locked(cfg);
	released = ret > 0 ? ret : 0;
	first = ret < 0 ? ret : 0;
	ret = state_list(cfg->state_dir, &recs, &n);
	for (size_t i = 0; ret >= 0 && i < n; i++) {
		if (!is_garbage(&recs[i]))
			continue;
		ret = intercept_release_locked(cfg, &recs[i]);
		if (ret < 0 && !first)
			first = ret;
		released += ret >= 0;
		ret = 0;
	}
	state_list_free(recs, n);
	if (ret >= 0 && claim_sweep(cfg->state_dir) < 0)
		pr_warn("%s", err_msg());
	state_unlock(lock);
	if (ret < 0)
		return ret;
	return first < 0 ? first : released;
}

/* Whether a data plane answers on the control socket (it would keep the enforcer alive). */
static bool dp_answers(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return ret == 0;
}

/* Every record released; the first error, or how many. */
static int release_all(const struct pc_config *cfg)
{
	struct state_rec *recs = NULL;
	size_t n = 0;
	int ret, released, first;

	ret = intercept_journals_locked(cfg);
	first = ret < 0 ? ret : 0;
	released = ret > 0 ? ret : 0;
	ret = state_list(cfg->state_dir, &recs, &n);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		ret = intercept_release_locked(cfg, &recs[i]);
		if (ret < 0 && !first)
			first = ret;
		released += ret >= 0;
	}
	state_list_free(recs, n);
	return first < 0 ? first : released;
}

int intercept_purge(const struct pc_config *cfg)
{
	struct stat sb;
	int lock, ret, released;

	if (dp_answers(cfg->ctl_socket))
		return err_set(-EBUSY, "portcullis-dp answers on %s: stop it first",
			       cfg->ctl_socket);
	lock = lock_for(cfg, "purge", NULL);
	if (lock < 0)
		return lock;
	released = ret = release_all(cfg);
	if (ret >= 0)
		ret = dpath_unpin(cfg);
	if (ret >= 0)
		ret = netns_remove(cfg->enforcer_netns);
	if (ret >= 0 && lstat(cfg->ctl_socket, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    unlink(cfg->ctl_socket) < 0)
		ret = err_set(-errno, "remove %s", cfg->ctl_socket);
	if (ret >= 0)
		ret = state_dir_remove(cfg->state_dir);
	state_unlock(lock);
	return ret < 0 ? ret : released;
}

/* Switch every port of rec to mode; on a failure, back to the old one. */
static int switch_mode(struct enforcer *e, struct state_rec *rec, enum pc_mode mode)
{
	struct dpath_port *d = calloc(rec->n_ports ? rec->n_ports : 1, sizeof(*d));
	size_t i;
	int ret = 0;

	if (!d)
		return err_set(-ENOMEM, "switch %zu ports", rec->n_ports);
	for (i = 0; i < rec->n_ports && ret >= 0; i++) {
		const struct state_port *sp = &rec->ports[i];

		d[i] = (struct dpath_port){ .in_ifindex = sp->in_ifindex,
					    .ex_ifindex = sp->ex_ifindex,
					    .mode = rec->mode };
		ret = naming_mac_parse(sp->mac, d[i].ctr_mac);
		if (ret >= 0)
			ret = naming_mac_parse(sp->ucmac, d[i].ucmac);
		if (ret >= 0)
			ret = dpath_set_mode(e->dpath, &d[i], mode);
	}
	while (ret < 0 && i-- > 0)
		dpath_set_mode(e->dpath, &d[i], rec->mode);
	free(d);
	return ret < 0 ? ret : 0;
}

int intercept_set_mode(const struct pc_config *cfg, const char *id, enum pc_mode mode)
{
	struct enforcer e = { .ns = { .fd = -1, .ioc = -1 } };
	struct state_rec rec = { 0 };
	size_t idx;
	int lock, ret;

	if (mode == MODE_OFF)
		return intercept_restore(cfg, id);
	lock = lock_for(cfg, "mode of", id);
	if (lock < 0)
		return lock;
	ret = state_find_ctr(cfg->state_dir, id, false, &rec, &idx);
	if (ret == -ENOENT)
		ret = err_set(-ENOENT, "no intercepted container %s", id);
	if (ret >= 0)
		ret = enf_open(cfg, false, &e);
	if (ret >= 0 && rec.mode != mode)
		ret = switch_mode(&e, &rec, mode);
	if (ret >= 0) {
		rec.mode = mode;
		ret = state_save(cfg->state_dir, &rec);
	}
	enf_close(&e);
	state_rec_free(&rec);
	state_unlock(lock);
	return ret;
}
