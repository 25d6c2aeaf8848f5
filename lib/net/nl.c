/* SPDX-License-Identifier: Apache-2.0 */
#include "nl.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>

#include "netns.h"
#include "lib/core/err.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct open_args {
	struct nl_sock *sk;
	int nle;
};

static int connect_here(void *arg)
{
	struct open_args *a = arg;

	a->nle = nl_connect(a->sk, NETLINK_ROUTE);
	return 0;
}

struct nl_sock *nl_open_in(int nsfd)
{
	struct open_args a = { .sk = nl_socket_alloc() };
	int one = 1, ret = 0;

	if (!a.sk) {
		err_set(-ENOMEM, "allocate netlink socket");
		return NULL;
	}
	if (nsfd >= 0)
		ret = netns_run(nsfd, connect_here, &a);
	else
		connect_here(&a);
	if (ret == 0 && a.nle < 0)
		ret = nl_fail(a.nle, "connect rtnetlink");
	if (ret < 0) {
		nl_socket_free(a.sk);
		return NULL;
	}
	/* kernel explanations on errors, without echoing our request back */
	setsockopt(nl_socket_get_fd(a.sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(a.sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return a.sk;
}

void nl_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

static int nle_to_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_EXIST:
		return EEXIST;
	case NLE_NODEV:
		return ENODEV;
	case NLE_OBJ_NOTFOUND:
		return ENOENT;
	case NLE_PERM:
		return EPERM;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_BUSY:
		return EBUSY;
	case NLE_INVAL:
		return EINVAL;
	case NLE_RANGE:
		return ERANGE;
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_AGAIN:
		return EAGAIN;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return EAFNOSUPPORT;
	case NLE_NOADDR:
		return EADDRNOTAVAIL;
	case NLE_MSGSIZE:
		return EMSGSIZE;
	case NLE_MSG_TRUNC:
		return EMSGSIZE;
	case NLE_INTR:
		return EINTR;
	case NLE_DUMP_INTR:
		return EINTR; /* a dump raced a change: ask again */
	default:
		return EIO;
	}
}

int nl_fail(int nle, const char *what)
{
	return err_set(-nle_to_errno(nle), "%s (libnl: %s)", what, nl_geterror(nle));
}

struct talk {
	int done;
	int error;
	char ext[200];
};

static void read_extack(struct nlmsgerr *e, struct talk *t)
{
	struct nlmsghdr *h = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	size_t off = sizeof(*e);
	struct nlattr *a;
	int rem;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (h->nlmsg_len < NLMSG_HDRLEN + off)
		return;
	rem = (int)(h->nlmsg_len - NLMSG_HDRLEN - off);
	nla_for_each_attr(a, (struct nlattr *)((char *)e + off), rem, rem) {
		if (nla_type(a) == NLMSGERR_ATTR_MSG)
			snprintf(t->ext, sizeof(t->ext), "%.*s", nla_len(a), (char *)nla_data(a));
	}
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct talk *t = arg;

	t->done = 1;
	t->error = e->error;
	if (e->error)
		read_extack(e, t);
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct talk *t = arg;

	t->done = 1;
	t->error = 0;
	return NL_STOP;
}

int nl_talk(struct nl_sock *sk, struct nl_msg *msg, const char *what)
{
	struct nl_cb *own = nl_socket_get_cb(sk), *cb;
	struct talk t = { 0 };
	int ret;

	/* private callbacks: the socket's own stay as libnl's dumps expect them */
	cb = own ? nl_cb_clone(own) : NULL;
	nl_cb_put(own);
	if (!cb) {
		nlmsg_free(msg);
		return err_set(-ENOMEM, "%s", what);
	}
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &t);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &t);
	ret = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	while (ret >= 0 && !t.done)
		ret = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	if (!t.done)
		return nl_fail(ret < 0 ? ret : -NLE_FAILURE, what);
	if (t.error == 0)
		return 0;
	if (t.ext[0])
		return err_set(t.error, "%s (kernel: %s)", what, t.ext);
	return err_set(t.error, "%s", what);
}

static struct nl_msg *link_msg(int type, int flags, int ifindex, unsigned ifflags, unsigned change)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = ifflags,
		.ifi_change = change,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (msg && nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static int put_u32_if(struct nl_msg *msg, int type, uint32_t v)
{
	return v ? nla_put_u32(msg, type, v) : 0;
}

static int put_spec_attrs(struct nl_msg *msg, const struct nl_link_spec *s)
{
	int ret = nla_put_string(msg, IFLA_IFNAME, s->name);

	if (!ret && s->mac)
		ret = nla_put(msg, IFLA_ADDRESS, 6, s->mac);
	if (!ret && s->alias && s->alias[0])
		ret = nla_put_string(msg, IFLA_IFALIAS, s->alias);
	if (!ret && s->nsfd >= 0)
		ret = nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t)s->nsfd);
	ret = ret ? ret : put_u32_if(msg, IFLA_MTU, s->mtu);
	ret = ret ? ret : put_u32_if(msg, IFLA_TXQLEN, s->txqlen);
	ret = ret ? ret : put_u32_if(msg, IFLA_NUM_TX_QUEUES, s->num_tx);
	ret = ret ? ret : put_u32_if(msg, IFLA_NUM_RX_QUEUES, s->num_rx);
	ret = ret ? ret : put_u32_if(msg, IFLA_GSO_MAX_SIZE, s->gso_max_size);
	ret = ret ? ret : put_u32_if(msg, IFLA_GSO_MAX_SEGS, s->gso_max_segs);
	ret = ret ? ret : put_u32_if(msg, IFLA_GROUP, s->group);
	return ret;
}

static int put_veth_peer(struct nl_msg *msg, const struct nl_link_spec *peer)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = peer->ifindex,
	};
	struct nlattr *info, *data, *pa;
	void *p;

	info = nla_nest_start(msg, IFLA_LINKINFO);
	if (!info || nla_put_string(msg, IFLA_INFO_KIND, "veth") < 0)
		return -NLE_NOMEM;
	data = nla_nest_start(msg, IFLA_INFO_DATA);
	pa = data ? nla_nest_start(msg, VETH_INFO_PEER) : NULL;
	p = pa ? nlmsg_reserve(msg, sizeof(ifi), NLMSG_ALIGNTO) : NULL;
	if (!p)
		return -NLE_NOMEM;
	memcpy(p, &ifi, sizeof(ifi));
	if (put_spec_attrs(msg, peer) < 0)
		return -NLE_NOMEM;
	nla_nest_end(msg, pa);
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return 0;
}

int nl_veth_create(struct nl_sock *sk, const struct nl_link_spec *a,
		   const struct nl_link_spec *peer)
{
	unsigned up = a->up ? IFF_UP : 0;
	struct nl_msg *msg;
	char what[96];

	snprintf(what, sizeof(what), "create veth %s/%s", a->name, peer->name);
	msg = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, a->ifindex, up, up);
	if (!msg || put_spec_attrs(msg, a) < 0 || put_veth_peer(msg, peer) < 0) {
		nlmsg_free(msg);
		return err_set(-ENOMEM, "%s: message too large", what);
	}
	return nl_talk(sk, msg, what);
}

int nl_link_get(struct nl_sock *sk, int ifindex, const char *name, struct rtnl_link **out)
{
	char what[64];
	int ret;

	ret = rtnl_link_get_kernel(sk, ifindex, ifindex ? NULL : name, out);
	if (ret >= 0)
		return 0;
	if (ifindex)
		snprintf(what, sizeof(what), "get link %d", ifindex);
	else
		snprintf(what, sizeof(what), "get link %s", name);
	if (ret == -NLE_OBJ_NOTFOUND || ret == -NLE_NODEV)
		return err_set(-ENODEV, "%s", what);
	return nl_fail(ret, what);
}

int nl_link_index(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l;
	int ret = nl_link_get(sk, 0, name, &l);

	if (ret < 0)
		return ret;
	ret = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return ret;
}

int nl_link_set_flags(struct nl_sock *sk, int ifindex, unsigned flags, unsigned change)
{
	struct nl_msg *msg = link_msg(RTM_NEWLINK, 0, ifindex, flags & change, change);
	char what[64];

	snprintf(what, sizeof(what), "set flags %#x/%#x on link %d", flags & change, change,
		 ifindex);
	if (!msg)
		return err_set(-ENOMEM, "%s", what);
	return nl_talk(sk, msg, what);
}

int nl_link_updown(struct nl_sock *sk, int ifindex, bool up)
{
	return nl_link_set_flags(sk, ifindex, up ? IFF_UP : 0, IFF_UP);
}

int nl_link_move(struct nl_sock *sk, int ifindex, int nsfd, const char *name)
{
	struct nl_msg *msg = link_msg(RTM_NEWLINK, 0, ifindex, 0, 0);
	char what[64];

	snprintf(what, sizeof(what), "move link %d%s%s", ifindex, name ? " as " : "",
		 name ? name : "");
	if (!msg || nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t)nsfd) < 0 ||
	    (name && nla_put_string(msg, IFLA_IFNAME, name) < 0)) {
		nlmsg_free(msg);
		return err_set(-ENOMEM, "%s", what);
	}
	return nl_talk(sk, msg, what);
}

int nl_link_delete(struct nl_sock *sk, int ifindex)
{
	struct nl_msg *msg = link_msg(RTM_DELLINK, 0, ifindex, 0, 0);
	char what[48];

	snprintf(what, sizeof(what), "delete link %d", ifindex);
	if (!msg)
		return err_set(-ENOMEM, "%s", what);
	return nl_talk(sk, msg, what);
}

int nl_ns_open(int nsfd, struct nl_ns *ns)
{
	int ret;

	ns->fd = nsfd;
	ns->nl = NULL;
	ns->ioc = -1;
	ret = netns_ino(nsfd, &ns->ino);
	if (ret < 0)
		goto fail;
	ns->nl = nl_open_in(nsfd);
	if (!ns->nl) {
		ret = -EIO;
		goto fail;
	}
	ns->ioc = netns_socket(nsfd, AF_INET, SOCK_DGRAM, 0);
	if (ns->ioc < 0) {
		ret = ns->ioc;
		goto fail;
	}
	return 0;
fail:
	nl_ns_close(ns);
	return ret;
}

void nl_ns_close(struct nl_ns *ns)
{
	nl_close(ns->nl);
	ns->nl = NULL;
	if (ns->ioc >= 0)
		close(ns->ioc);
	ns->ioc = -1;
	if (ns->fd >= 0)
		close(ns->fd);
	ns->fd = -1;
}
