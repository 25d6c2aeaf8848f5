/* SPDX-License-Identifier: Apache-2.0 */
#include "snapshot.h"

#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/route/addr.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#include "lib/core/err.h"
#include "lib/core/fault.h"
#include "lib/core/log.h"
#include "lib/net/addrwatch.h"

#define DAD_WAIT_MS 500 /* the kernel skips DAD in microseconds; this is a safety net */

/* link flags a port carries that a new link does not get by itself */
#define PORT_FLAGS (IFF_UP | IFF_NOARP | IFF_MULTICAST | IFF_ALLMULTI | IFF_PROMISC)

int view_load(struct nl_ns *ns, struct ns_view *v)
{
	int ret;

	memset(v, 0, sizeof(*v));
	ret = rtnl_link_alloc_cache(ns->nl, AF_UNSPEC, &v->links);
	if (ret >= 0)
		ret = rtnl_addr_alloc_cache(ns->nl, &v->addrs);
	if (ret >= 0)
		ret = rtnl_route_alloc_cache(ns->nl, AF_UNSPEC, 0, &v->routes);
	if (ret >= 0)
		ret = rtnl_neigh_alloc_cache(ns->nl, &v->neighs);
	if (ret < 0) {
		view_free(v);
		return nl_fail(ret, "dump links, addresses, routes and neighbours");
	}
	return 0;
}

void view_free(struct ns_view *v)
{
	nl_cache_free(v->links);
	nl_cache_free(v->addrs);
	nl_cache_free(v->routes);
	nl_cache_free(v->neighs);
	memset(v, 0, sizeof(*v));
}

bool view_has_global_addr(const struct ns_view *v, int ifindex)
{
	struct nl_object *o;

	for (o = nl_cache_get_first(v->addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;

		if (rtnl_addr_get_ifindex(a) == ifindex &&
		    rtnl_addr_get_scope(a) == RT_SCOPE_UNIVERSE)
			return true;
	}
	return false;
}

static bool route_uses(struct rtnl_route *r, int ifindex)
{
	int n = rtnl_route_get_nnexthops(r);

	for (int i = 0; i < n; i++)
		if (rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, i)) == ifindex)
			return true;
	return false;
}

static bool addr_matches(struct nl_object *o, int ifindex)
{
	return rtnl_addr_get_ifindex((struct rtnl_addr *)o) == ifindex;
}

static bool route_matches(struct nl_object *o, int ifindex)
{
	return route_uses((struct rtnl_route *)o, ifindex);
}

static bool neigh_matches(struct nl_object *o, int ifindex)
{
	struct rtnl_neigh *n = (struct rtnl_neigh *)o;

	return rtnl_neigh_get_ifindex(n) == ifindex && (rtnl_neigh_get_state(n) & NUD_PERMANENT);
}

/* Keep a reference to every object of cache that matches, in kernel order. */
static int collect(struct nl_cache *cache, int ifindex, bool (*match)(struct nl_object *, int),
		   struct nl_object ***out, size_t *n)
{
	size_t cap = (size_t)nl_cache_nitems(cache) + 1;
	struct nl_object *o;

	*n = 0;
	*out = calloc(cap, sizeof(**out));
	if (!*out)
		return err_set(-ENOMEM, "snapshot");
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		if (!match(o, ifindex) || *n == cap)
			continue;
		nl_object_get(o);
		(*out)[(*n)++] = o;
	}
	return 0;
}

static void take_link(struct rtnl_link *l, struct port_snapshot *s)
{
	struct nl_addr *mac = rtnl_link_get_addr(l);
	const char *kind = rtnl_link_get_type(l), *alias = rtnl_link_get_ifalias(l);

	snprintf(s->name, sizeof(s->name), "%s", rtnl_link_get_name(l));
	snprintf(s->kind, sizeof(s->kind), "%s", kind ? kind : "");
	snprintf(s->alias, sizeof(s->alias), "%s", alias ? alias : "");
	s->iflink = rtnl_link_get_link(l);
	if (mac && nl_addr_get_len(mac) == 6)
		memcpy(s->mac, nl_addr_get_binary_addr(mac), 6);
	s->flags = rtnl_link_get_flags(l);
	s->mtu = rtnl_link_get_mtu(l);
	s->txqlen = rtnl_link_get_txqlen(l);
	s->num_tx = rtnl_link_get_num_tx_queues(l);
	s->num_rx = rtnl_link_get_num_rx_queues(l);
	s->group = rtnl_link_get_group(l);
	rtnl_link_get_gso_max_size(l, &s->gso_max_size);
	rtnl_link_get_gso_max_segs(l, &s->gso_max_segs);
}

int snapshot_take(struct nl_ns *ns, const struct ns_view *v, int ifindex, struct port_snapshot *s)
{
	struct rtnl_link *l = rtnl_link_get(v->links, ifindex);
	int ret;

	memset(s, 0, sizeof(*s));
	if (!l)
		return err_set(-ENODEV, "link %d vanished", ifindex);
	s->ifindex = ifindex;
	take_link(l, s);
	rtnl_link_put(l);
	ret = ethtool_features_get(ns->ioc, s->name, &s->features);
	if (ret >= 0)
		ret = devconf_get(ns->fd, s->name, &s->devconf);
	if (ret >= 0)
		ret = collect(v->addrs, ifindex, addr_matches, &s->addrs, &s->n_addrs);
	if (ret >= 0)
		ret = collect(v->routes, ifindex, route_matches, &s->routes, &s->n_routes);
	if (ret >= 0)
		ret = collect(v->neighs, ifindex, neigh_matches, &s->neighs, &s->n_neighs);
	if (ret < 0)
		snapshot_free(s);
	return ret;
}

static void put_all(struct nl_object **objs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nl_object_put(objs[i]);
	free(objs);
}

void snapshot_free(struct port_snapshot *s)
{
	put_all(s->addrs, s->n_addrs);
	put_all(s->routes, s->n_routes);
	put_all(s->neighs, s->n_neighs);
	s->addrs = s->routes = s->neighs = NULL;
	s->n_addrs = s->n_routes = s->n_neighs = 0;
}

struct apply {
	struct nl_ns *ns;
	int ifindex;
	const struct port_snapshot *s;
	bool strict;
	int first_err;
};

/* In strict mode a failure stops the apply; otherwise it is kept and we go on. */
static int outcome(struct apply *a, int ret)
{
	if (ret >= 0)
		return 0;
	if (a->strict)
		return ret;
	pr_warn("restoring %s: %s", a->s->name, err_msg());
	if (!a->first_err)
		a->first_err = ret;
	return 0;
}

static int add_addr(struct apply *a, struct nl_object *o)
{
	struct rtnl_addr *c = (struct rtnl_addr *)nl_object_clone(o);
	struct nl_msg *msg = NULL;
	char buf[INET6_ADDRSTRLEN + 8], what[96];
	int ret;

	if (!c)
		return err_set(-ENOMEM, "copy address");
	rtnl_addr_set_ifindex(c, a->ifindex);
	snprintf(what, sizeof(what), "add address %s",
		 nl_addr2str(rtnl_addr_get_local(c), buf, sizeof(buf)));
	ret = rtnl_addr_build_add_request(c, NLM_F_CREATE | NLM_F_EXCL, &msg);
	rtnl_addr_put(c);
	if (ret < 0)
		return nl_fail(ret, what);
	ret = nl_talk(a->ns->nl, msg, what);
	return ret == -EEXIST ? 0 : ret; /* made by the kernel on link up */
}

static void route_retarget(struct rtnl_route *r, int from, int to)
{
	int n = rtnl_route_get_nnexthops(r);

	for (int i = 0; i < n; i++) {
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, i);

		if (rtnl_route_nh_get_ifindex(nh) == from)
			rtnl_route_nh_set_ifindex(nh, to);
	}
}

static bool route_has_gateway(struct rtnl_route *r)
{
	int n = rtnl_route_get_nnexthops(r);

	for (int i = 0; i < n; i++)
		if (rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(r, i)))
			return true;
	return false;
}

static int add_route(struct apply *a, struct nl_object *o)
{
	struct rtnl_route *c = (struct rtnl_route *)nl_object_clone(o);
	struct nl_msg *msg = NULL;
	char buf[INET6_ADDRSTRLEN + 8], what[128];
	int ret;

	if (!c)
		return err_set(-ENOMEM, "copy route");
	route_retarget(c, a->s->ifindex, a->ifindex);
	snprintf(what, sizeof(what), "add route %s table %u",
		 nl_addr2str(rtnl_route_get_dst(c), buf, sizeof(buf)), rtnl_route_get_table(c));
	ret = rtnl_route_build_add_request(c, NLM_F_CREATE | NLM_F_EXCL, &msg);
	rtnl_route_put(c);
	if (ret < 0)
		return nl_fail(ret, what);
	ret = nl_talk(a->ns->nl, msg, what);
	return ret == -EEXIST ? 0 : ret; /* kernel routes come back with addresses */
}

/*
 * Routes on-link first, then those via gateways.  The kernel's own routes
 * (prefix, local, broadcast, multicast) come back by themselves with the
 * addresses and the link; adding them again would make duplicates.
 */
static int add_routes(struct apply *a)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < a->s->n_routes; i++) {
			struct rtnl_route *r = (struct rtnl_route *)a->s->routes[i];
			int ret;

			if (rtnl_route_get_protocol(r) == RTPROT_KERNEL ||
			    route_has_gateway(r) != pass)
				continue;
			ret = outcome(a, add_route(a, a->s->routes[i]));
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int add_neigh(struct apply *a, struct nl_object *o)
{
	struct rtnl_neigh *c = (struct rtnl_neigh *)nl_object_clone(o);
	struct nl_msg *msg = NULL;
	char buf[INET6_ADDRSTRLEN + 8], what[96];
	int ret;

	if (!c)
		return err_set(-ENOMEM, "copy neighbour");
	rtnl_neigh_set_ifindex(c, a->ifindex);
	snprintf(what, sizeof(what), "add neighbour %s",
		 nl_addr2str(rtnl_neigh_get_dst(c), buf, sizeof(buf)));
	ret = rtnl_neigh_build_add_request(c, NLM_F_CREATE | NLM_F_EXCL, &msg);
	rtnl_neigh_put(c);
	if (ret < 0)
		return nl_fail(ret, what);
	ret = nl_talk(a->ns->nl, msg, what);
	return ret == -EEXIST ? 0 : ret;
}

static int add_each(struct apply *a, struct nl_object **objs, size_t n,
		    int (*add)(struct apply *, struct nl_object *))
{
	for (size_t i = 0; i < n; i++) {
		int ret = outcome(a, add(a, objs[i]));

		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * IPv4 in the kernel's order (primaries before their secondaries); IPv6 in
 * reverse, because the kernel lists a new IPv6 address first in its scope.
 */
static int add_addrs(struct apply *a)
{
	int ret = 0;

	for (size_t i = 0; i < a->s->n_addrs && ret >= 0; i++)
		if (rtnl_addr_get_family((struct rtnl_addr *)a->s->addrs[i]) != AF_INET6)
			ret = outcome(a, add_addr(a, a->s->addrs[i]));
	for (size_t i = a->s->n_addrs; i-- > 0 && ret >= 0;)
		if (rtnl_addr_get_family((struct rtnl_addr *)a->s->addrs[i]) == AF_INET6)
			ret = outcome(a, add_addr(a, a->s->addrs[i]));
	return ret;
}

/*
 * Per-device settings first, with duplicate address detection held off:
 * these addresses were already checked on this link, and a DAD round would
 * leave them tentative (unusable) for the workload's first second.
 */
static int apply_settings(struct apply *a, const char **dad)
{
	const struct port_snapshot *s = a->s;
	int ret;

	ret = fault_point("per-device sysctls");
	if (ret >= 0)
		ret = devconf_apply(a->ns->fd, s->name, &s->devconf);
	if (ret > 0)
		ret = err_set(-EPERM, "%d per-device settings of %s refused", ret, s->name);
	ret = outcome(a, ret);
	*dad = devconf_find(&s->devconf, '6', "accept_dad");
	if (ret >= 0 && *dad && strcmp(*dad, "0") != 0)
		ret = outcome(a, devconf_set(a->ns->fd, s->name, '6', "accept_dad", "0"));
	if (ret >= 0)
		ret = fault_point("offload features");
	if (ret >= 0 && s->features.words)
		ret = outcome(a, ethtool_features_apply(a->ns->ioc, s->name, &s->features));
	return ret;
}

/*
 * Addresses with DAD held off (accept_dad 0 on the link), then the link's
 * setting back once the kernel has said the addresses are done.  When the
 * namespace-wide net.ipv6.conf.all.accept_dad asks for DAD anyway, the kernel
 * runs it whatever we do, and there is nothing to wait for.
 */
static int add_addrs_without_dad(struct apply *a, const char *dad)
{
	struct addr_watch w = { 0 };
	char all[16] = "0";
	int ret, r;

	if (!dad || strcmp(dad, "0") == 0)
		return add_addrs(a);
	devconf_read(a->ns->fd, "all", '6', "accept_dad", all, sizeof(all));
	if (strcmp(all, "0") == 0 && addrwatch_open(a->ns, a->ifindex, &w) < 0)
		pr_debug("not waiting for DAD: %s", err_msg());
	ret = add_addrs(a);
	if (ret >= 0 && w.sk && addrwatch_settle(&w, a->ns->nl, DAD_WAIT_MS) < 0)
		pr_warn("%s: %s", a->s->name, err_msg());
	addrwatch_close(&w);
	r = devconf_set(a->ns->fd, a->s->name, '6', "accept_dad", dad);
	return ret < 0 ? ret : outcome(a, r);
}

int snapshot_apply(struct nl_ns *ns, int ifindex, const struct port_snapshot *s, bool strict)
{
	struct apply a = { .ns = ns, .ifindex = ifindex, .s = s, .strict = strict };
	const char *dad = NULL;
	int ret;

	ret = apply_settings(&a, &dad);
	if (ret >= 0)
		ret = fault_point("link flags");
	if (ret >= 0)
		ret = outcome(&a, nl_link_set_flags(ns->nl, ifindex, s->flags, PORT_FLAGS));
	/* ready now (carrier, operstate), so IPv6 decides about DAD at once */
	if (ret >= 0 && (s->flags & IFF_UP))
		ret = outcome(&a, ethtool_link_sync(ns->ioc, s->name));
	if (ret >= 0)
		ret = fault_point("addresses");
	if (ret >= 0)
		ret = add_addrs_without_dad(&a, dad);
	if (ret >= 0)
		ret = fault_point("routes");
	if (ret >= 0)
		ret = add_routes(&a);
	if (ret >= 0)
		ret = fault_point("neighbours");
	if (ret >= 0)
		ret = add_each(&a, s->neighs, s->n_neighs, add_neigh);
	if (ret < 0)
		return err_wrap(ret, "restore %s", s->name);
	return a.first_err;
}
