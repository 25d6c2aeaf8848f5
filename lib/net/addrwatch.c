/* SPDX-License-Identifier: Apache-2.0 */
#include "addrwatch.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <netlink/route/addr.h>

#include "lib/core/err.h"
#include "lib/core/log.h"

#define SETTLE_MAX 64

struct pending {
	struct nl_addr *addr[SETTLE_MAX]; /* references; NULL once settled */
	size_t n, left;
	int ifindex;
};

int addrwatch_open(struct nl_ns *ns, int ifindex, struct addr_watch *w)
{
	int ret;

	w->ifindex = ifindex;
	w->sk = nl_open_in(ns->fd);
	if (!w->sk)
		return -EIO;
	nl_socket_disable_seq_check(w->sk);
	ret = nl_socket_add_membership(w->sk, RTNLGRP_IPV6_IFADDR);
	if (ret < 0) {
		addrwatch_close(w);
		return nl_fail(ret, "subscribe to IPv6 address events");
	}
	return 0;
}

void addrwatch_close(struct addr_watch *w)
{
	nl_close(w->sk);
	w->sk = NULL;
}

static bool is_tentative(struct rtnl_addr *a)
{
	unsigned flags = rtnl_addr_get_flags(a);

	return (flags & IFA_F_TENTATIVE) && !(flags & IFA_F_DADFAILED);
}

/* The link's tentative IPv6 addresses, from one dump. */
static int collect(struct nl_sock *query, struct pending *p)
{
	struct nl_cache *cache;
	struct nl_object *o;
	int ret = rtnl_addr_alloc_cache(query, &cache);

	if (ret < 0)
		return nl_fail(ret, "list addresses");
	for (o = nl_cache_get_first(cache); o && p->n < SETTLE_MAX; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;

		if (rtnl_addr_get_ifindex(a) != p->ifindex || rtnl_addr_get_family(a) != AF_INET6 ||
		    !is_tentative(a))
			continue;
		p->addr[p->n++] = nl_addr_get(rtnl_addr_get_local(a));
	}
	p->left = p->n;
	nl_cache_free(cache);
	return 0;
}

struct event {
	struct pending *p;
	int type;
};

static void on_object(struct nl_object *o, void *arg)
{
	struct event *ev = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	struct pending *p = ev->p;

	if (rtnl_addr_get_ifindex(a) != p->ifindex)
		return;
	if (ev->type == RTM_NEWADDR && is_tentative(a))
		return;
	for (size_t i = 0; i < p->n; i++) {
		if (p->addr[i] && nl_addr_cmp(p->addr[i], rtnl_addr_get_local(a)) == 0) {
			nl_addr_put(p->addr[i]);
			p->addr[i] = NULL;
			p->left--;
		}
	}
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct event ev = { .p = arg, .type = nlmsg_hdr(msg)->nlmsg_type };

	nl_msg_parse(msg, on_object, &ev);
	return NL_OK;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static int still_tentative(struct pending *p)
{
	char buf[64] = "";

	for (size_t i = 0; i < p->n; i++)
		if (p->addr[i])
			nl_addr2str(p->addr[i], buf, sizeof(buf));
	return err_set(-ETIMEDOUT, "%zu IPv6 address(es) still tentative, e.g. %s", p->left, buf);
}

int addrwatch_settle(struct addr_watch *w, struct nl_sock *query, int timeout_ms)
{
	struct pending p = { .ifindex = w->ifindex };
	struct pollfd pfd = { .fd = nl_socket_get_fd(w->sk), .events = POLLIN };
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	nl_socket_modify_cb(w->sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, &p);
	ret = collect(query, &p);
	while (ret >= 0 && p.left > 0) {
		long left = timeout_ms - ms_since(&t0);

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
			ret = still_tentative(&p);
		else if (nl_recvmsgs_default(w->sk) < 0)
			ret = err_set(-EIO, "read IPv6 address events");
	}
	for (size_t i = 0; i < p.n; i++)
		if (p.addr[i])
			nl_addr_put(p.addr[i]);
	nl_socket_modify_cb(w->sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
	return ret;
}
