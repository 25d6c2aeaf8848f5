/* SPDX-License-Identifier: Apache-2.0 */
#include "pull.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/route/addr.h>

#include "journal.h"
#include "snapshot.h"
#include "lib/core/claim.h"
#include "lib/core/err.h"
#include "lib/core/fault.h"
#include "lib/core/log.h"
#include "lib/core/naming.h"
#include "lib/dpath/dpath.h"

/* How far one port got; the undo walks back from here. */
enum progress { P_NONE = 0, P_MOVED, P_CREATED, P_APPLIED, P_ATTACHED };

struct pulled {
	struct port_snapshot snap;
	enum progress done;
	char ex_name[IFNAMSIZ], in_name[IFNAMSIZ];
	int ex_ifindex, in_ifindex, new_ifindex;
	unsigned char ucmac[6];
};

/* What every step of one namespace's pull works with. */
struct pull_ctx {
	struct nl_ns *ctr, *enf;
	struct dpath *dpath;
	struct nl_cache *enf_links; /* the enforcer's links before the pull */
	enum pc_mode mode;
	const struct pull_args *args; /* NULL when releasing */
	struct pulled *ports;	      /* the pull's ports, for its journal */
	size_t n;
};

static void dport_of(const struct pulled *p, enum pc_mode mode, struct dpath_port *d)
{
	memset(d, 0, sizeof(*d));
	d->in_ifindex = p->in_ifindex;
	d->ex_ifindex = p->ex_ifindex;
	memcpy(d->ctr_mac, p->snap.mac, 6);
	memcpy(d->ucmac, p->ucmac, 6);
	d->mode = mode;
	/* its addresses as pulled: the only sources its frames may carry */
	for (size_t i = 0; i < p->snap.n_addrs && d->n_addrs < DPATH_MAX_ADDRS; i++) {
		struct nl_addr *a = rtnl_addr_get_local((struct rtnl_addr *)p->snap.addrs[i]);
		struct dpath_addr *da = &d->addrs[d->n_addrs];
		int family = a ? nl_addr_get_family(a) : AF_UNSPEC;
		unsigned len = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;

		if (!len || nl_addr_get_len(a) != len)
			continue;
		da->family = family;
		memcpy(da->addr, nl_addr_get_binary_addr(a), len);
		d->n_addrs++;
	}
}

static const char *const supported_kinds[] = { "veth", "macvlan", "ipvlan", "vlan", NULL };

static bool kind_supported(const char *kind)
{
	for (int i = 0; supported_kinds[i]; i++)
		if (strcmp(kind, supported_kinds[i]) == 0)
			return true;
	return false;
}

static bool has_index(struct nl_cache *links, int ifindex)
{
	struct rtnl_link *l = rtnl_link_get(links, ifindex);

	if (l)
		rtnl_link_put(l);
	return l != NULL;
}

static bool has_name(struct nl_cache *links, const char *name)
{
	struct rtnl_link *l = rtnl_link_get_by_name(links, name);

	if (l)
		rtnl_link_put(l);
	return l != NULL;
}

/* Enforcer-side names for port ordinal that nothing in enf uses yet. */
static int choose_names(struct nl_cache *enf_links, pid_t pid, unsigned ordinal, struct pulled *p)
{
	for (unsigned gen = 0; gen <= NAMING_MAX_GEN; gen++) {
		int ret = naming_port(p->ex_name, NAMING_EX_PREFIX, (unsigned)pid, ordinal, gen);

		if (ret >= 0)
			ret = naming_port(p->in_name, NAMING_IN_PREFIX, (unsigned)pid, ordinal,
					  gen);
		if (ret < 0)
			return err_set(ret, "name port %u of pid %d", ordinal, (int)pid);
		if (!has_name(enf_links, p->ex_name) && !has_name(enf_links, p->in_name))
			return 0;
	}
	return err_set(-EEXIST, "no free enforcer port name for pid %d", (int)pid);
}

/* Step 4: the new pair, with the indexes the container and its plugins expect. */
static int create_pair(struct nl_ns *ctr, struct nl_ns *enf, struct nl_cache *enf_links,
		       struct pulled *p)
{
	const struct port_snapshot *s = &p->snap;
	/* veth: the host-side peer; macvlan/ipvlan/vlan: the lower device */
	bool peer_idx = s->iflink > 0 && s->iflink != s->ifindex &&
			!has_index(enf_links, s->iflink);
	struct nl_link_spec a = {
		.name = s->name,
		.ifindex = s->ifindex,
		.mac = s->mac,
		.alias = s->alias,
		.mtu = s->mtu,
		.txqlen = s->txqlen,
		.num_tx = s->num_tx,
		.num_rx = s->num_rx,
		.gso_max_size = s->gso_max_size,
		.gso_max_segs = s->gso_max_segs,
		.group = s->group,
		.nsfd = -1,
	};
	struct nl_link_spec b = { .name = p->in_name,
				  .ifindex = peer_idx ? s->iflink : 0,
				  .mtu = s->mtu,
				  .nsfd = enf->fd };
	int ret;

	ret = nl_veth_create(ctr->nl, &a, &b);
	if (ret == -EBUSY && b.ifindex) {
		b.ifindex = 0;
		ret = nl_veth_create(ctr->nl, &a, &b);
	}
	if (ret == -EBUSY) {
		a.ifindex = 0;
		ret = nl_veth_create(ctr->nl, &a, &b);
	}
	if (ret < 0)
		return ret;
	p->done = P_CREATED;
	p->new_ifindex = a.ifindex ? a.ifindex : nl_link_index(ctr->nl, s->name);
	p->in_ifindex = b.ifindex ? b.ifindex : nl_link_index(enf->nl, p->in_name);
	if (p->new_ifindex < 0)
		return p->new_ifindex;
	return p->in_ifindex < 0 ? p->in_ifindex : 0;
}

/* Write the pull's journal: the snapshots and everything learned so far. */
static int journal_note(struct pull_ctx *c)
{
	struct journal j = { .ns_ino = c->ctr->ino, .mode = (int)c->mode, .n = c->n };
	int ret;

	if (!c->args->journal_dir)
		return 0;
	snprintf(j.ns_path, sizeof(j.ns_path), "%s", c->args->ns_path ? c->args->ns_path : "");
	j.ports = calloc(c->n + 1, sizeof(*j.ports));
	if (!j.ports)
		return err_set(-ENOMEM, "journal");
	for (size_t i = 0; i < c->n; i++) {
		const struct pulled *p = &c->ports[i];
		struct journal_port *jp = &j.ports[i];

		snprintf(jp->ex_name, sizeof(jp->ex_name), "%s", p->ex_name);
		snprintf(jp->in_name, sizeof(jp->in_name), "%s", p->in_name);
		memcpy(jp->ucmac, p->ucmac, 6);
		jp->ex_ifindex = p->ex_ifindex;
		jp->in_ifindex = p->in_ifindex;
		jp->new_ifindex = p->new_ifindex;
		jp->snap = p->snap; /* the objects are shared, not copied */
	}
	ret = journal_write(c->args->journal_dir, &j);
	free(j.ports);
	return ret;
}

static int pull_port(struct pull_ctx *c, struct pulled *p)
{
	const struct port_snapshot *s = &p->snap;
	struct nl_ns *ctr = c->ctr, *enf = c->enf;
	struct dpath_port d;
	int ret;

	/* the move takes the port down and drops its addresses on the way */
	ret = fault_point("move to enforcer");
	if (ret >= 0)
		ret = nl_link_move(ctr->nl, s->ifindex, enf->fd, p->ex_name);
	if (ret < 0)
		return ret;
	p->done = P_MOVED;
	p->ex_ifindex = nl_link_index(enf->nl, p->ex_name);
	if (p->ex_ifindex < 0)
		return p->ex_ifindex;
	ret = fault_point("create veth");
	if (ret >= 0)
		ret = create_pair(ctr, enf, c->enf_links, p);
	/* the inPort's index is what a recovery needs to clear the data path */
	if (ret >= 0)
		ret = journal_note(c);
	/* the inPort up first: the new port needs its carrier to finish DAD */
	if (ret >= 0)
		ret = fault_point("inPort up");
	if (ret >= 0)
		ret = nl_link_updown(enf->nl, p->in_ifindex, true);
	if (ret >= 0)
		ret = snapshot_apply(ctr, p->new_ifindex, s, true);
	if (ret < 0)
		return ret;
	p->done = P_APPLIED;
	dport_of(p, c->mode, &d);
	ret = dpath_attach(c->dpath, &d);
	if (ret < 0)
		return ret;
	p->done = P_ATTACHED;
	ret = fault_point("exPort up");
	return ret < 0 ? ret : nl_link_updown(enf->nl, p->ex_ifindex, true);
}

static void keep_first(int *first, int ret)
{
	if (ret < 0 && !*first)
		*first = ret;
	if (ret < 0)
		pr_warn("%s", err_msg());
}

/*
 * Undo a pull from wherever it got to: the original port goes home carrying
 * give (the snapshot taken before the pull, or of its replacement).
 */
static int put_back(struct pull_ctx *c, struct pulled *p, const struct port_snapshot *give)
{
	struct nl_ns *ctr = c->ctr, *enf = c->enf;
	int first = 0, ret, idx;
	struct dpath_port d;

	if (p->done >= P_APPLIED) {
		dport_of(p, c->mode, &d);
		keep_first(&first, dpath_detach(c->dpath, &d));
	}
	if (p->done >= P_CREATED) {
		ret = nl_link_delete(ctr->nl, p->new_ifindex); /* takes the inPort along */
		keep_first(&first, ret == -ENODEV ? 0 : ret);
	}
	if (p->done >= P_MOVED) {
		ret = nl_link_move(enf->nl, p->ex_ifindex, ctr->fd, give->name);
		if (ret < 0) {
			keep_first(&first, ret);
			return err_wrap(first, "put %s back", give->name);
		}
		idx = nl_link_index(ctr->nl, give->name);
		ret = idx < 0 ? idx : snapshot_apply(ctr, idx, give, false);
		keep_first(&first, ret);
	}
	p->done = P_NONE;
	return first < 0 ? err_wrap(first, "put %s back", give->name) : 0;
}

/* Whether link l is one a pull takes; unsupported kinds are reported. */
static bool eligible(const struct ns_view *v, struct rtnl_link *l, bool quiet)
{
	const char *kind = rtnl_link_get_type(l);
	int idx = rtnl_link_get_ifindex(l);

	if ((rtnl_link_get_flags(l) & IFF_LOOPBACK) || !view_has_global_addr(v, idx))
		return false;
	if (kind && kind_supported(kind))
		return true;
	if (!quiet)
		pr_warn("port %s (%s) is not supported; left alone", rtnl_link_get_name(l),
			kind ? kind : "no link kind");
	return false;
}

int pull_candidates(struct nl_ns *ctr, char (*names)[IFNAMSIZ], size_t max)
{
	struct ns_view v = { 0 };
	struct nl_object *o;
	size_t n = 0;
	int ret;

	ret = rtnl_link_alloc_cache(ctr->nl, AF_UNSPEC, &v.links);
	if (ret >= 0)
		ret = rtnl_addr_alloc_cache(ctr->nl, &v.addrs);
	if (ret < 0) {
		view_free(&v);
		return nl_fail(ret, "list container ports");
	}
	for (o = nl_cache_get_first(v.links); o; o = nl_cache_get_next(o)) {
		if (!eligible(&v, (struct rtnl_link *)o, false))
			continue;
		if (n < max)
			snprintf(names[n], IFNAMSIZ, "%s",
				 rtnl_link_get_name((struct rtnl_link *)o));
		n++;
	}
	view_free(&v);
	return (int)n;
}

/* A UCMAC for port n that no earlier port of this pull has, claimed among the live ones. */
static int choose_ucmac(const struct pull_args *a, struct pulled *ports, size_t n)
{
	unsigned char(*mine)[6] = calloc(n + 1, 6);
	int ret = 0;

	if (!mine)
		return err_set(-ENOMEM, "UCMAC");
	for (size_t i = 0; i < n; i++)
		memcpy(mine[i], ports[i].ucmac, 6);
	for (unsigned attempt = 0; attempt < 64; attempt++) {
		ret = naming_ucmac((const unsigned char(*)[6])mine, n, ports[n].ucmac);
		if (ret < 0 || !a->claim_dir)
			break;
		ret = claim_ucmac_take(a->claim_dir, ports[n].ucmac, a->claim_ino);
		if (ret != -EEXIST)
			break;
		ret = err_set(-EEXIST, "no free UCMAC");
	}
	free(mine);
	return ret;
}

/* The ports of ctr to pull, each with its snapshot, enforcer names and UCMAC. */
static int plan(struct pull_ctx *c, const struct ns_view *v, const struct pull_args *a,
		struct pulled **out, size_t *n)
{
	struct nl_object *o;
	int ret = 0;

	*n = 0;
	*out = calloc(STATE_MAX_PORTS, sizeof(**out));
	if (!*out)
		return err_set(-ENOMEM, "plan");
	for (o = nl_cache_get_first(v->links); o && ret >= 0; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		struct pulled *p = &(*out)[*n];

		if (!eligible(v, l, true))
			continue;
		if (*n == STATE_MAX_PORTS)
			return err_set(-E2BIG, "more than %d ports", STATE_MAX_PORTS);
		ret = choose_names(c->enf_links, a->pid, (unsigned)*n, p);
		if (ret >= 0)
			ret = choose_ucmac(a, *out, *n);
		if (ret >= 0)
			ret = snapshot_take(c->ctr, v, rtnl_link_get_ifindex(l), &p->snap);
		if (ret >= 0)
			(*n)++;
	}
	return ret;
}

/* The port's addresses, for the data plane to know whose traffic it sees. */
static void record_addrs(const struct port_snapshot *snap, struct state_port *sp)
{
	for (size_t i = 0; i < snap->n_addrs && sp->n_addrs < STATE_MAX_ADDRS; i++) {
		struct nl_addr *local = rtnl_addr_get_local((struct rtnl_addr *)snap->addrs[i]);

		if (!local)
			continue;
		nl_addr2str(local, sp->addrs[sp->n_addrs], sizeof(sp->addrs[0]));
		if (!strchr(sp->addrs[sp->n_addrs], '/'))
			continue; /* not what the data plane can read back */
		sp->n_addrs++;
	}
}

/* rec has room for n ports (state_set_ports before the pull: nothing can fail after it). */
static void fill_record(const struct pulled *ports, size_t n, struct nl_ns *ctr, enum pc_mode mode,
			struct state_rec *rec)
{
	rec->ns_ino = ctr->ino;
	rec->mode = mode;
	for (size_t i = 0; i < n; i++) {
		const struct pulled *p = &ports[i];
		struct state_port *sp = &rec->ports[i];

		memset(sp, 0, sizeof(*sp));
		snprintf(sp->name, sizeof(sp->name), "%s", p->snap.name);
		snprintf(sp->ex_name, sizeof(sp->ex_name), "%s", p->ex_name);
		snprintf(sp->in_name, sizeof(sp->in_name), "%s", p->in_name);
		snprintf(sp->kind, sizeof(sp->kind), "%s", p->snap.kind);
		naming_mac_str(p->snap.mac, sp->mac);
		naming_mac_str(p->ucmac, sp->ucmac);
		sp->ctr_ifindex = p->new_ifindex;
		sp->ex_ifindex = p->ex_ifindex;
		sp->in_ifindex = p->in_ifindex;
		record_addrs(&p->snap, sp);
	}
}

static int pull_all(struct pull_ctx *c, struct pulled *ports, size_t n)
{
	char why[PC_ERRMSG_MAX];
	bool undone = true;
	size_t i;
	int ret = 0;

	for (i = 0; i < n && ret >= 0; i++) {
		ret = pull_port(c, &ports[i]);
		if (ret < 0)
			err_wrap(ret, "pull %s", ports[i].snap.name);
	}
	if (ret >= 0)
		return 0;
	fault_disarm();
	snprintf(why, sizeof(why), "%s", err_msg());
	pr_debug("%s; rolling back", why);
	while (i-- > 0)
		undone = put_back(c, &ports[i], &ports[i].snap) >= 0 && undone;
	/* a rollback that did not finish stays journaled, for gc to retry */
	if (undone && c->args->journal_dir)
		journal_remove(c->args->journal_dir, c->ctr->ino);
	err_set(0, "%s", why); /* report the cause, not the rollback's noise */
	return ret;
}

int pull_netns(struct nl_ns *ctr, struct nl_ns *enf, struct dpath *dpath, const struct pull_args *a,
	       struct state_rec *rec)
{
	struct pull_ctx c = { .ctr = ctr, .enf = enf, .dpath = dpath, .mode = a->mode };
	struct pulled *ports = NULL;
	struct ns_view v;
	size_t n = 0;
	int ret;

	ret = view_load(ctr, &v);
	if (ret < 0)
		return err_wrap(ret, "container namespace");
	c.args = a;
	ret = rtnl_link_alloc_cache(enf->nl, AF_UNSPEC, &c.enf_links);
	if (ret < 0)
		ret = nl_fail(ret, "list enforcer links");
	if (ret >= 0)
		ret = plan(&c, &v, a, &ports, &n);
	if (ret >= 0 && n == 0)
		ret = PULL_NOTHING;
	c.args = a;
	c.ports = ports;
	c.n = n;
	if (ret == 0)
		ret = state_set_ports(rec, n);
	if (ret == 0)
		ret = journal_note(&c);
	if (ret == 0)
		ret = pull_all(&c, ports, n);
	if (ret == 0)
		fill_record(ports, n, ctr, a->mode, rec);
	for (size_t i = 0; ports && i < STATE_MAX_PORTS; i++)
		snapshot_free(&ports[i].snap);
	free(ports);
	nl_cache_free(c.enf_links);
	view_free(&v);
	return ret;
}

/* The container's port name, if it is still the one we made (peer in_ifindex). */
static int find_replacement(struct nl_ns *ctr, const char *name, int in_ifindex)
{
	struct rtnl_link *l;
	int ret = nl_link_get(ctr->nl, 0, name, &l), idx;

	if (ret < 0)
		return ret;
	idx = rtnl_link_get_ifindex(l);
	if (in_ifindex > 0 && rtnl_link_get_link(l) != in_ifindex)
		idx = err_set(-ESTALE, "%s is no longer the port portcullis made", name);
	rtnl_link_put(l);
	return idx;
}

/* The record's view of a port, as put_back and the data path need it. */
static int pulled_of(const struct state_port *sp, struct pulled *p)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->done = P_ATTACHED;
	p->ex_ifindex = sp->ex_ifindex;
	p->in_ifindex = sp->in_ifindex;
	snprintf(p->snap.name, sizeof(p->snap.name), "%s", sp->name);
	ret = naming_mac_parse(sp->mac, p->snap.mac);
	if (ret >= 0 && sp->ucmac[0])
		ret = naming_mac_parse(sp->ucmac, p->ucmac);
	return ret;
}

/* Detach p (when asked) and delete its enforcer ports by name; missing counts as done. */
static int delete_enf_side(struct pull_ctx *c, struct pulled *p, bool detach)
{
	const char *names[2] = { p->ex_name, p->in_name };
	struct dpath_port d;
	int first = 0;

	if (detach) {
		dport_of(p, c->mode, &d);
		keep_first(&first, dpath_detach(c->dpath, &d));
	}
	for (int i = 0; i < 2; i++) {
		int idx = nl_link_index(c->enf->nl, names[i]), ret = idx;

		if (idx >= 0)
			ret = nl_link_delete(c->enf->nl, idx);
		keep_first(&first, ret == -ENODEV ? 0 : ret);
	}
	return first;
}

/* The container namespace is gone: delete what is left in the enforcer. */
static int release_gone(struct pull_ctx *c, const struct state_port *sp)
{
	struct pulled p;
	bool known = pulled_of(sp, &p) >= 0;

	snprintf(p.ex_name, sizeof(p.ex_name), "%s", sp->ex_name);
	snprintf(p.in_name, sizeof(p.in_name), "%s", sp->in_name);
	return delete_enf_side(c, &p, known);
}

static int release_port(struct pull_ctx *c, const struct ns_view *v, const struct state_port *sp)
{
	struct pulled p;
	int ret = pulled_of(sp, &p);

	if (ret < 0)
		return ret;
	p.ex_ifindex = nl_link_index(c->enf->nl, sp->ex_name);
	if (p.ex_ifindex == -ENODEV)
		return release_gone(c, sp); /* nothing left to give back */
	if (p.ex_ifindex < 0)
		return p.ex_ifindex;
	p.in_ifindex = nl_link_index(c->enf->nl, sp->in_name);
	p.new_ifindex = find_replacement(c->ctr, sp->name, p.in_ifindex);
	if (p.new_ifindex == -ENODEV || p.in_ifindex == -ENODEV) {
		/* the replacement is gone: give the original back bare */
		p.in_ifindex = sp->in_ifindex;
		p.snap.flags = IFF_UP | IFF_MULTICAST;
		return put_back(c, &p, &p.snap);
	}
	if (p.new_ifindex < 0)
		return p.new_ifindex;
	ret = snapshot_take(c->ctr, v, p.new_ifindex, &p.snap);
	if (ret >= 0)
		ret = put_back(c, &p, &p.snap);
	snapshot_free(&p.snap);
	return ret;
}

int pull_release(struct nl_ns *ctr, struct nl_ns *enf, struct dpath *dpath,
		 const struct state_rec *rec)
{
	struct pull_ctx c = { .ctr = ctr, .enf = enf, .dpath = dpath, .mode = rec->mode };
	struct ns_view v = { 0 };
	int first = 0, ret;

	if (ctr) {
		ret = view_load(ctr, &v);
		if (ret < 0)
			return err_wrap(ret, "container namespace");
	}
	for (size_t i = 0; i < rec->n_ports; i++) {
		const struct state_port *sp = &rec->ports[i];

		ret = ctr ? release_port(&c, &v, sp) : release_gone(&c, sp);
		keep_first(&first, ret);
	}
	if (ctr)
		view_free(&v);
	return first;
}

/* ---- recovery of a pull whose hook died ---- */

/* The enforcer ports of a journaled port that is gone with its namespace. */
static int recover_gone(struct pull_ctx *c, struct pulled *p)
{
	/* the inPort's index is journaled once the pair exists: only then was it attached */
	if (p->in_ifindex > 0 && p->ex_ifindex <= 0)
		p->ex_ifindex = nl_link_index(c->enf->nl, p->ex_name);
	return delete_enf_side(c, p, p->in_ifindex > 0);
}

/*
 * How far the dead pull got with p, read from the kernel: the exPort in the
 * enforcer means moved; the inPort there means the pair was made (and maybe
 * attached: detach tolerates what is missing).
 */
static int recover_port(struct pull_ctx *c, struct pulled *p)
{
	int ex = nl_link_index(c->enf->nl, p->ex_name);
	int in = nl_link_index(c->enf->nl, p->in_name);

	if (ex == -ENODEV && in == -ENODEV)
		return 0; /* never moved, or already back */
	if (ex < 0 && ex != -ENODEV)
		return ex;
	if (in < 0 && in != -ENODEV)
		return in;
	if (ex == -ENODEV) /* the pair without the original: only the pair to delete */
		return recover_gone(c, p);
	p->ex_ifindex = ex;
	p->done = P_MOVED;
	if (in >= 0) {
		p->in_ifindex = in;
		p->new_ifindex = find_replacement(c->ctr, p->snap.name, in);
		if (p->new_ifindex < 0)
			return p->new_ifindex;
		p->done = P_ATTACHED;
	}
	return put_back(c, p, &p->snap);
}

int pull_recover(struct nl_ns *ctr, struct nl_ns *enf, struct dpath *dpath, const struct journal *j)
{
	struct pull_ctx c = {
		.ctr = ctr, .enf = enf, .dpath = dpath, .mode = (enum pc_mode)j->mode
	};
	int first = 0;

	for (size_t i = 0; i < j->n; i++) {
		const struct journal_port *jp = &j->ports[i];
		struct pulled p = { .snap = jp->snap,
				    .ex_ifindex = jp->ex_ifindex,
				    .in_ifindex = jp->in_ifindex,
				    .new_ifindex = jp->new_ifindex };

		snprintf(p.ex_name, sizeof(p.ex_name), "%s", jp->ex_name);
		snprintf(p.in_name, sizeof(p.in_name), "%s", jp->in_name);
		memcpy(p.ucmac, jp->ucmac, 6);
		keep_first(&first, ctr ? recover_port(&c, &p) : recover_gone(&c, &p));
	}
	return first;
}

bool pull_is_live(struct nl_ns *enf, const struct state_rec *rec)
{
	for (size_t i = 0; i < rec->n_ports; i++)
		if (nl_link_index(enf->nl, rec->ports[i].in_name) != rec->ports[i].in_ifindex)
			return false;
	return rec->n_ports > 0;
}
