/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "tc-pedit" data-path backend: the classic ingress filters (docs/design.md)
 * (ingress qdiscs, u32 matches on the MACs, pedit, mirred), built from
 * netlink messages.  libnl-route-3 builds the qdiscs, the match-all filter
 * and the deletions; the filters whose action lists hold a pedit action are
 * raw netlink (tc_pedit.h), as libnl has no pedit.
 *
 * On each port of a pair, an ingress qdisc and one u32 filter (prio 1, all
 * protocols) whose knodes u32 tries in handle order:
 *
 *   800::1..3  IPv6 neighbour discovery (ICMPv6 133-137)     -> the peer
 *   800::4     IPv4 unicast from the container (inPort: source MAC = the
 *              container's) or to it (exPort: destination MAC)  -> mode
 *   800::5     the same for IPv6                                -> mode
 *   800::6     anything else: ARP, broadcast, multicast, ...    -> the peer
 *
 * and "mode" is, with MAC the source MAC on inPort, the destination on exPort:
 *
 *   pass   mirred redirect to the peer
 *   tap    mirred mirror to the peer; pedit MAC := UCMAC; mirred redirect
 *          to bridge_port (the mirror sends a clone, and pedit copies the
 *          data the clone shares before it writes: the peer gets the
 *          frame as it was)
 *   fwd    pedit MAC := UCMAC; mirred redirect to bridge_port
 *
 * The qdiscs are ours (the inPort is new; moving the exPort into the
 * enforcer namespace destroyed its qdiscs), so the filter's root hash table
 * is 800: and the knode handles are known without asking.
 *
 * On bridge_port (vbr-neuv), in fwd mode only, two knodes per port, in one
 * u32 filter (prio 1) shared by all ports, with handles the kernel picks
 * and that are found again by their keys (a dump of bridge_port's filters):
 *
 *   destination MAC = UCMAC   pedit it := container MAC; redirect to inPort
 *   source MAC = UCMAC        pedit it := container MAC; redirect to exPort
 *
 * A port in tap (or pass) mode has no knodes there: what the data plane
 * sends back for it matches nothing and goes up bridge_port's own stack,
 * which drops it - bridge_port has no address, and a frame addressed to a
 * UCMAC or a container MAC is PACKET_OTHERHOST there, which ip_rcv,
 * ipv6_rcv and arp_rcv drop.  No knode can send it to another port: each
 * matches all 48 bits of one UCMAC, and UCMACs are unique among live ports.
 * No act_gact is needed (the kernels this backend is for may lack it).
 *
 * Offsets: u32 on ingress counts from the network header, so the Ethernet
 * header is at -14 (destination -14..-9, source -8..-3, type -2..-1) and,
 * in the 32-bit words u32 compares, at -16 (two bytes before the header,
 * masked out, then destination 0-1), -12 (destination 2-5), -8 (source
 * 0-3) and -4 (source 4-5, type).  pedit's keys count from the Ethernet
 * header itself (tc_pedit.h).
 *
 * Mode changes: knodes 800::4 and 800::5 are replaced in place
 * (NLM_F_REPLACE, same handle); the kernel swaps a knode's actions under
 * RCU, so every frame meets the old actions or the new ones, never none,
 * and established connections carry on.  Into fwd, the bridge_port knodes
 * come first; out of fwd, they go last.
 *
 * dp_down: filters cannot see the data plane's heartbeat.  In fwd mode with
 * nothing consuming dp_port, the frames sent to bridge_port arrive on
 * dp_port addressed to other MACs and its stack drops them: fwd behaves as
 * dp_down=closed whatever the configuration says (dp_down=open needs the
 * bpf backend).  pass and tap do not depend on a data plane.
 *
 * tap and fwd need act_pedit: open() asks the kernel once per run
 * (tc_pedit_probe, which loads the module where it can and creates
 * nothing); without it supports() offers pass only.
 *
 * Limits: one u32 hash table holds at most 4095 knodes, so at most 2047
 * ports can be in fwd mode at once per enforcer namespace; the vbr-neuv
 * knodes are walked one by one for every frame the data plane sends back.
 */
#include "dpath_int.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "tc_pedit.h"
#include "lib/core/err.h"
#include "lib/core/fault.h"
#include "lib/core/log.h"

#define INGRESS_HANDLE TC_H_MAKE(TC_H_INGRESS, 0)
#define FILTER_PRIO 1
#define MAX_KEYS 4
#define MAX_ACTS 3
#define MAX_FOUND 8

/* Knodes of a port's filter, in the order u32 tries them. */
enum { K_ND_RS = 1, K_ND_NS, K_ND_NA, K_IP4, K_IP6, K_ALL };
#define KNODE(n) (0x80000000u | (uint32_t)(n))

#define ICMPV6 58
#define ND_RS 133 /* 133 router solicitation; 134/135 RA, NS; 136/137 NA, redirect */

struct tc_dpath {
	bool pedit;	     /* the kernel has act_pedit: tap and fwd can run */
	bool warned_dp_down; /* said once that fwd ignores dp_down=open */
};

/* One port of a pair as its filters see it. */
struct side {
	int ifindex, peer;
	enum tc_eth_field field; /* where the container's MAC is on ingress */
};

struct keys {
	int n;
	struct tc_u32_key k[MAX_KEYS];
};

enum act_kind { ACT_REDIRECT, ACT_MIRROR, ACT_PEDIT };

struct act {
	enum act_kind kind;
	int ifindex;		 /* mirred */
	enum tc_eth_field field; /* pedit */
	const uint8_t *mac;	 /* pedit */
};

static struct tc_dpath *priv_of(const struct dpath *dpath)
{
	return dpath->priv;
}

static void sides_of(const struct dpath_port *p, struct side s[2])
{
	s[0] = (struct side){ p->in_ifindex, p->ex_ifindex, TC_ETH_SRC };
	s[1] = (struct side){ p->ex_ifindex, p->in_ifindex, TC_ETH_DST };
}

/* ---- u32 keys ---- */

/* A 32-bit word as it lies in the frame: b0 first. */
static uint32_t word(uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	const uint8_t b[4] = { b0, b1, b2, b3 };
	uint32_t w;

	memcpy(&w, b, sizeof(w));
	return w;
}

static void key(struct keys *ks, int off, uint32_t mask, uint32_t val)
{
	ks->k[ks->n++] = (struct tc_u32_key){ .off = off, .mask = mask, .val = val & mask };
}

/* Destination or source MAC = m (and, with type, that ethertype). */
static void mac_keys(struct keys *ks, enum tc_eth_field field, const uint8_t m[6], uint16_t type)
{
	uint8_t th = (uint8_t)(type >> 8), tl = (uint8_t)type;
	uint32_t tmask = type ? word(0, 0, 0xff, 0xff) : 0;

	ks->n = 0;
	if (field == TC_ETH_DST) {
		key(ks, -16, word(0, 0, 0xff, 0xff), word(0, 0, m[0], m[1]));
		key(ks, -12, 0xffffffff, word(m[2], m[3], m[4], m[5]));
		if (type)
			key(ks, -4, tmask, word(0, 0, th, tl));
	} else {
		if (type) /* unicast: the group bit of the destination is clear */
			key(ks, -16, word(0, 0, 0x01, 0), 0);
		key(ks, -8, 0xffffffff, word(m[0], m[1], m[2], m[3]));
		key(ks, -4, word(0xff, 0xff, 0, 0) | tmask, word(m[4], m[5], th, tl));
	}
}

/* ICMPv6 of the types (type & tmask) == t: IPv6 without extension headers. */
static void nd_keys(struct keys *ks, uint8_t t, uint8_t tmask)
{
	ks->n = 0;
	key(ks, -4, word(0, 0, 0xff, 0xff), word(0, 0, 0x86, 0xdd));
	key(ks, 4, word(0, 0, 0xff, 0), word(0, 0, ICMPV6, 0)); /* next header */
	key(ks, 40, word(tmask, 0, 0, 0), word(t, 0, 0, 0));	/* ICMPv6 type */
}

/* ---- messages ---- */

static int put_sel(struct nl_msg *msg, const struct keys *ks)
{
	size_t len = sizeof(struct tc_u32_sel) + (size_t)ks->n * sizeof(struct tc_u32_key);
	struct nlattr *a = nla_reserve(msg, TCA_U32_SEL, (int)len);
	struct tc_u32_sel *sel;

	if (!a)
		return -EMSGSIZE;
	sel = nla_data(a);
	memset(sel, 0, len);
	sel->flags = TC_U32_TERMINAL; /* a match runs the actions */
	sel->nkeys = (unsigned char)ks->n;
	memcpy(sel->keys, ks->k, (size_t)ks->n * sizeof(struct tc_u32_key));
	return 0;
}

static int put_acts(struct nl_msg *msg, const struct act *a, int n)
{
	struct nlattr *list = nla_nest_start(msg, TCA_U32_ACT);
	int ret = list ? 0 : -EMSGSIZE;

	for (int i = 0; i < n && ret >= 0; i++) {
		if (a[i].kind == ACT_PEDIT)
			ret = tc_put_pedit_eth(msg, i + 1, a[i].field, a[i].mac);
		else
			ret = tc_put_mirred(msg, i + 1,
					    a[i].kind == ACT_MIRROR ? TCA_EGRESS_MIRROR
								    : TCA_EGRESS_REDIR,
					    a[i].ifindex);
	}
	if (ret >= 0)
		nla_nest_end(msg, list);
	return ret;
}

/*
 * Add (NLM_F_CREATE | NLM_F_EXCL) or replace (NLM_F_REPLACE) knode handle
 * (0: the kernel picks) of the u32 filter on ifindex's ingress.  A replace
 * keeps the knode's keys and takes the new actions.
 */
static int knode_request(struct nl_sock *sk, int ifindex, uint32_t handle, int flags,
			 const struct keys *ks, const struct act *a, int n)
{
	struct tcmsg t = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_handle = handle,
		.tcm_parent = INGRESS_HANDLE,
		.tcm_info = TC_H_MAKE((uint32_t)FILTER_PRIO << 16, htons(ETH_P_ALL)),
	};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWTFILTER, flags);
	struct nlattr *opts = NULL;
	char what[80];

	snprintf(what, sizeof(what), "%s filter %08x on link %d",
		 flags & NLM_F_REPLACE ? "replace" : "add", handle, ifindex);
	if (msg && nlmsg_append(msg, &t, sizeof(t), NLMSG_ALIGNTO) >= 0 &&
	    nla_put_string(msg, TCA_KIND, "u32") >= 0)
		opts = nla_nest_start(msg, TCA_OPTIONS);
	if (!opts || put_sel(msg, ks) < 0 || put_acts(msg, a, n) < 0) {
		nlmsg_free(msg);
		return err_set(-ENOMEM, "%s: message too large", what);
	}
	nla_nest_end(msg, opts);
	return nl_talk(sk, msg, what);
}

static struct rtnl_cls *u32_cls(int ifindex, uint32_t handle)
{
	struct rtnl_cls *cls = rtnl_cls_alloc();

	if (!cls)
		return NULL;
	rtnl_tc_set_ifindex(TC_CAST(cls), ifindex);
	rtnl_tc_set_parent(TC_CAST(cls), INGRESS_HANDLE);
	rtnl_tc_set_handle(TC_CAST(cls), handle);
	rtnl_cls_set_prio(cls, FILTER_PRIO);
	rtnl_cls_set_protocol(cls, ETH_P_ALL);
	if (rtnl_tc_set_kind(TC_CAST(cls), "u32") < 0) {
		rtnl_cls_put(cls);
		return NULL;
	}
	return cls;
}

/* Knode K_ALL: everything that gets that far goes to the peer. */
static int redirect_all(struct nl_sock *sk, int ifindex, int to_ifindex)
{
	struct rtnl_cls *cls = u32_cls(ifindex, KNODE(K_ALL));
	struct rtnl_act *act = rtnl_act_alloc();
	struct nl_msg *msg = NULL;
	char what[64];
	int ret;

	snprintf(what, sizeof(what), "redirect link %d to %d", ifindex, to_ifindex);
	if (!cls || !act) {
		ret = err_set(-ENOMEM, "%s", what);
		goto out;
	}
	ret = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0);
	if (ret >= 0)
		ret = rtnl_u32_set_cls_terminal(cls);
	if (ret >= 0)
		ret = rtnl_tc_set_kind(TC_CAST(act), "mirred");
	if (ret >= 0) {
		rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
		rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
		rtnl_mirred_set_ifindex(act, (uint32_t)to_ifindex);
		ret = rtnl_u32_add_action(cls, act);
	}
	if (ret >= 0)
		ret = rtnl_cls_build_add_request(cls, NLM_F_CREATE | NLM_F_EXCL, &msg);
	ret = ret < 0 ? nl_fail(ret, what) : nl_talk(sk, msg, what);
out:
	if (act)
		rtnl_act_put(act);
	if (cls)
		rtnl_cls_put(cls);
	return ret;
}

static int knode_delete(struct nl_sock *sk, int ifindex, uint32_t handle)
{
	struct rtnl_cls *cls = u32_cls(ifindex, handle);
	struct nl_msg *msg = NULL;
	char what[64];
	int ret;

	snprintf(what, sizeof(what), "delete filter %08x on link %d", handle, ifindex);
	if (!cls)
		return err_set(-ENOMEM, "%s", what);
	ret = rtnl_cls_build_delete_request(cls, 0, &msg);
	rtnl_cls_put(cls);
	if (ret < 0)
		return nl_fail(ret, what);
	ret = nl_talk(sk, msg, what);
	return ret == -ENOENT ? 0 : ret; /* gone already */
}

static struct rtnl_qdisc *ingress_qdisc(int ifindex)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();

	if (!q)
		return NULL;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), INGRESS_HANDLE);
	if (rtnl_tc_set_kind(TC_CAST(q), "ingress") < 0) {
		rtnl_qdisc_put(q);
		return NULL;
	}
	return q;
}

static int qdisc_request(struct nl_sock *sk, int ifindex, bool add)
{
	struct rtnl_qdisc *q = ingress_qdisc(ifindex);
	struct nl_msg *msg = NULL;
	char what[48];
	int ret;

	snprintf(what, sizeof(what), "%s ingress qdisc on link %d", add ? "add" : "delete",
		 ifindex);
	if (!q)
		return err_set(-ENOMEM, "%s", what);
	ret = add ? rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_EXCL, &msg)
		  : rtnl_qdisc_build_delete_request(q, &msg);
	rtnl_qdisc_put(q);
	if (ret < 0)
		return nl_fail(ret, what);
	return nl_talk(sk, msg, what);
}

/* ---- bridge_port: the way back from the data plane ---- */

struct bridge_scan {
	const uint8_t *ucmac;
	uint32_t found[2][MAX_FOUND]; /* handles, by enum tc_eth_field */
	int n[2];
};

/* Which MAC a dumped knode matches, if it has the layout of mac_keys(). */
static int knode_mac(const struct tc_u32_sel *sel, uint8_t mac[6])
{
	const struct tc_u32_key *k = sel->keys;
	uint8_t a[4], b[4];

	if (sel->nkeys != 2)
		return -1;
	memcpy(a, &k[0].val, 4);
	memcpy(b, &k[1].val, 4);
	if (k[0].off == -16 && k[0].mask == word(0, 0, 0xff, 0xff) && k[1].off == -12 &&
	    k[1].mask == 0xffffffff) {
		uint8_t m[6] = { a[2], a[3], b[0], b[1], b[2], b[3] };

		memcpy(mac, m, 6);
		return TC_ETH_DST;
	}
	if (k[0].off == -8 && k[0].mask == 0xffffffff && k[1].off == -4 &&
	    k[1].mask == word(0xff, 0xff, 0, 0)) {
		uint8_t m[6] = { a[0], a[1], a[2], a[3], b[0], b[1] };

		memcpy(mac, m, 6);
		return TC_ETH_SRC;
	}
	return -1;
}

static int on_bridge_knode(struct nl_msg *msg, void *arg)
{
	struct bridge_scan *s = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct tcmsg *t = nlmsg_data(h);
	struct nlattr *tb[TCA_MAX + 1], *ub[TCA_U32_MAX + 1];
	const struct tc_u32_sel *sel;
	uint8_t mac[6];
	int field;

	if (h->nlmsg_type != RTM_NEWTFILTER || nlmsg_parse(h, sizeof(*t), tb, TCA_MAX, NULL) < 0)
		return NL_OK;
	if (TC_H_MAJ(t->tcm_info) >> 16 != FILTER_PRIO || !tb[TCA_KIND] || !tb[TCA_OPTIONS] ||
	    strcmp(nla_get_string(tb[TCA_KIND]), "u32") != 0)
		return NL_OK;
	if (nla_parse_nested(ub, TCA_U32_MAX, tb[TCA_OPTIONS], NULL) < 0 || !ub[TCA_U32_SEL] ||
	    nla_len(ub[TCA_U32_SEL]) < (int)sizeof(*sel))
		return NL_OK;
	sel = nla_data(ub[TCA_U32_SEL]);
	if (nla_len(ub[TCA_U32_SEL]) < (int)(sizeof(*sel) + sel->nkeys * sizeof(sel->keys[0])))
		return NL_OK;
	field = knode_mac(sel, mac);
	if (field >= 0 && memcmp(mac, s->ucmac, 6) == 0 && s->n[field] < MAX_FOUND)
		s->found[field][s->n[field]++] = t->tcm_handle;
	return NL_OK;
}

static int dump_once(struct nl_sock *sk, int ifindex, struct bridge_scan *s)
{
	struct tcmsg t = { .tcm_family = AF_UNSPEC,
			   .tcm_ifindex = ifindex,
			   .tcm_parent = INGRESS_HANDLE };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETTFILTER, NLM_F_DUMP);
	struct nl_cb *own = nl_socket_get_cb(sk), *cb;
	int ret;

	cb = own ? nl_cb_clone(own) : NULL;
	nl_cb_put(own);
	if (!cb || !msg || nlmsg_append(msg, &t, sizeof(t), NLMSG_ALIGNTO) < 0) {
		ret = err_set(-ENOMEM, "list the filters of bridge_port");
		goto out;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_bridge_knode, s);
	s->n[0] = s->n[1] = 0;
	ret = nl_send_auto(sk, msg);
	if (ret >= 0)
		ret = nl_recvmsgs(sk, cb);
	if (ret < 0)
		ret = nl_fail(ret, "list the filters of bridge_port");
out:
	nlmsg_free(msg);
	nl_cb_put(cb);
	return ret < 0 ? ret : 0;
}

/* The knodes of ucmac on bridge_port. */
static int bridge_scan(struct dpath *dpath, const uint8_t *ucmac, struct bridge_scan *s)
{
	int ret;

	s->ucmac = ucmac;
	for (int tries = 0; tries < 3; tries++) {
		ret = dump_once(dpath->enf->nl, dpath->bridge_ifindex, s);
		if (ret != -EINTR)
			break;
	}
	return ret;
}

/* The bridge_port knode that sends frames of p back through one side. */
static int bridge_knode(struct dpath *dpath, const struct dpath_port *p, enum tc_eth_field field,
			uint32_t handle)
{
	const struct act a[2] = {
		{ .kind = ACT_PEDIT, .field = field, .mac = p->ctr_mac },
		{ .kind = ACT_REDIRECT,
		  .ifindex = field == TC_ETH_DST ? p->in_ifindex : p->ex_ifindex },
	};
	struct keys ks;

	mac_keys(&ks, field, p->ucmac, 0);
	return knode_request(dpath->enf->nl, dpath->bridge_ifindex, handle,
			     handle ? NLM_F_REPLACE : NLM_F_CREATE | NLM_F_EXCL, &ks, a, 2);
}

/* p's way back, whatever an earlier run left there (replaced, not added twice). */
static int bridge_ensure(struct dpath *dpath, const struct dpath_port *p)
{
	struct bridge_scan s;
	int ret = bridge_scan(dpath, p->ucmac, &s);

	for (int f = TC_ETH_DST; f <= TC_ETH_SRC && ret >= 0; f++) {
		ret = fault_point("bridge_port filter");
		if (ret >= 0)
			ret = bridge_knode(dpath, p, f, s.n[f] ? s.found[f][0] : 0);
		for (int i = 1; i < s.n[f] && ret >= 0; i++) /* duplicates */
			ret = knode_delete(dpath->enf->nl, dpath->bridge_ifindex, s.found[f][i]);
	}
	return ret < 0 ? err_wrap(ret, "bridge_port") : 0;
}

static int bridge_remove(struct dpath *dpath, const struct dpath_port *p)
{
	struct bridge_scan s;
	int ret = bridge_scan(dpath, p->ucmac, &s);

	for (int f = TC_ETH_DST; f <= TC_ETH_SRC && ret >= 0; f++)
		for (int i = 0; i < s.n[f] && ret >= 0; i++)
			ret = knode_delete(dpath->enf->nl, dpath->bridge_ifindex, s.found[f][i]);
	return ret < 0 ? err_wrap(ret, "bridge_port") : 0;
}

/* ---- the pair ---- */

static bool mode_needs_pedit(enum pc_mode mode)
{
	return mode == MODE_TAP || mode == MODE_FWD;
}

/* The actions of knodes K_IP4 and K_IP6 of side s in mode. */
static int mode_acts(const struct dpath *dpath, const struct dpath_port *p, const struct side *s,
		     enum pc_mode mode, struct act a[MAX_ACTS])
{
	int n = 0;

	if (!mode_needs_pedit(mode)) {
		a[n++] = (struct act){ .kind = ACT_REDIRECT, .ifindex = s->peer };
		return n;
	}
	if (mode == MODE_TAP)
		a[n++] = (struct act){ .kind = ACT_MIRROR, .ifindex = s->peer };
	a[n++] = (struct act){ .kind = ACT_PEDIT, .field = s->field, .mac = p->ucmac };
	a[n++] = (struct act){ .kind = ACT_REDIRECT, .ifindex = dpath->bridge_ifindex };
	return n;
}

/* Knodes K_IP4 and K_IP6 of side s: add them, or give them mode's actions. */
static int ip_knodes(struct dpath *dpath, const struct dpath_port *p, const struct side *s,
		     enum pc_mode mode, bool replace)
{
	static const struct {
		int knode;
		uint16_t type;
	} ip[2] = {
		{ K_IP4, ETH_P_IP },
		{ K_IP6, ETH_P_IPV6 },
	};
	int flags = replace ? NLM_F_REPLACE : NLM_F_CREATE | NLM_F_EXCL;
	struct act a[MAX_ACTS];
	int n = mode_acts(dpath, p, s, mode, a), ret = 0;
	struct keys ks;

	for (int i = 0; i < 2 && ret >= 0; i++) {
		mac_keys(&ks, s->field, p->ctr_mac, ip[i].type);
		if (!replace)
			ret = fault_point("port filter");
		if (ret >= 0)
			ret = knode_request(dpath->enf->nl, s->ifindex, KNODE(ip[i].knode), flags,
					    &ks, a, n);
	}
	return ret;
}

/* All knodes of side s, the mode's and the fixed ones. */
static int port_knodes(struct dpath *dpath, const struct dpath_port *p, const struct side *s)
{
	static const struct {
		int knode;
		uint8_t type, mask;
	} nd[3] = {
		{ K_ND_RS, ND_RS, 0xff },
		{ K_ND_NS, ND_RS + 1, 0xfe },
		{ K_ND_NA, ND_RS + 3, 0xfe },
	};
	const struct act across = { .kind = ACT_REDIRECT, .ifindex = s->peer };
	struct keys ks;
	int ret = 0;

	for (int i = 0; i < 3 && ret >= 0; i++) {
		nd_keys(&ks, nd[i].type, nd[i].mask);
		ret = fault_point("port filter");
		if (ret >= 0)
			ret = knode_request(dpath->enf->nl, s->ifindex, KNODE(nd[i].knode),
					    NLM_F_CREATE | NLM_F_EXCL, &ks, &across, 1);
	}
	if (ret >= 0)
		ret = ip_knodes(dpath, p, s, p->mode, false);
	if (ret >= 0)
		ret = fault_point("port filter");
	return ret < 0 ? ret : redirect_all(dpath->enf->nl, s->ifindex, s->peer);
}

/* ---- the backend ---- */

/* Once per run: fwd cannot honour dp_down=open here (see the top). */
static void warn_dp_down(struct dpath *dpath, enum pc_mode mode)
{
	struct tc_dpath *t = priv_of(dpath);

	if (mode != MODE_FWD || dpath->cfg->dp_down_closed || t->warned_dp_down)
		return;
	t->warned_dp_down = true;
	pr_warn("backend tc-pedit: fwd traffic stops while no data plane reads %s (dp_down=open needs the bpf backend)",
		dpath->cfg->dp_port);
}

static bool mac_is_zero(const uint8_t m[6])
{
	static const uint8_t zero[6];

	return memcmp(m, zero, 6) == 0;
}

/* Whether p can be steered in mode: the kernel can, and p has a UCMAC. */
static int check_mode(const struct dpath *dpath, const struct dpath_port *p, enum pc_mode mode)
{
	if (mode != MODE_PASS && !mode_needs_pedit(mode))
		return err_set(-EINVAL, "mode %s is not a data-path mode", config_mode_name(mode));
	if (mode_needs_pedit(mode) && !priv_of(dpath)->pedit)
		return err_set(-EOPNOTSUPP, "mode %s: this kernel has no pedit action",
			       config_mode_name(mode));
	if (mode_needs_pedit(mode) && mac_is_zero(p->ucmac))
		return err_set(-EINVAL, "mode %s: the port has no UCMAC", config_mode_name(mode));
	return 0;
}

static bool tc_supports(const struct dpath *dpath, enum pc_mode mode)
{
	return mode == MODE_PASS || (mode_needs_pedit(mode) && priv_of(dpath)->pedit);
}

static bool tc_available(struct dpath *dpath)
{
	return true; /* u32 and mirred are in every kernel this runs on */
}

static int tc_open(struct dpath *dpath)
{
	struct tc_dpath *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return err_set(-ENOMEM, "tc-pedit backend");
	ret = tc_pedit_probe(dpath->enf->nl);
	if (ret < 0)
		pr_warn("%s; running pass mode only", err_msg());
	t->pedit = ret > 0;
	if (!t->pedit)
		pr_debug("tc-pedit: no pedit action in this kernel: tap and fwd are not available");
	ret = 0;
	/* bridge_port's ingress, for the way back in fwd mode */
	if (t->pedit)
		ret = qdisc_request(dpath->enf->nl, dpath->bridge_ifindex, true);
	if (ret == -EEXIST)
		ret = 0;
	if (ret < 0) {
		free(t);
		return ret;
	}
	dpath->priv = t;
	return 0;
}

static void tc_close(struct dpath *dpath)
{
	free(dpath->priv);
	dpath->priv = NULL;
}

/*
 * Our ingress qdisc on a port.  Both arrive bare: the inPort is new, and
 * moving the exPort into the enforcer namespace destroyed its qdiscs.
 */
static int attach_qdisc(struct dpath *dpath, int ifindex)
{
	int ret = fault_point("attach qdisc");

	return ret < 0 ? ret : qdisc_request(dpath->enf->nl, ifindex, true);
}

/* Remove the qdisc (and with it the filters) of one port; nothing there is success. */
static int detach_side(struct dpath *dpath, int ifindex)
{
	int ret = qdisc_request(dpath->enf->nl, ifindex, false);

	/* no qdisc there, or no such link any more: nothing to detach */
	if (ret == -EINVAL || ret == -ENOENT || ret == -ENODEV)
		return 0;
	return ret;
}

static int tc_detach(struct dpath *dpath, const struct dpath_port *p)
{
	int ret = detach_side(dpath, p->in_ifindex);
	int r2 = detach_side(dpath, p->ex_ifindex);

	ret = ret < 0 ? ret : r2;
	if (priv_of(dpath)->pedit && !mac_is_zero(p->ucmac)) {
		r2 = bridge_remove(dpath, p);
		ret = ret < 0 ? ret : r2;
	}
	return ret;
}

static int attach_steps(struct dpath *dpath, const struct dpath_port *p)
{
	struct side s[2];
	int ret = 0;

	sides_of(p, s);
	for (int i = 0; i < 2 && ret >= 0; i++)
		ret = attach_qdisc(dpath, s[i].ifindex);
	if (ret >= 0 && p->mode == MODE_FWD)
		ret = bridge_ensure(dpath, p);
	for (int i = 0; i < 2 && ret >= 0; i++)
		ret = port_knodes(dpath, p, &s[i]);
	return ret;
}

static int tc_attach(struct dpath *dpath, const struct dpath_port *p)
{
	char why[PC_ERRMSG_MAX];
	int ret = check_mode(dpath, p, p->mode);

	if (ret < 0)
		return ret;
	warn_dp_down(dpath, p->mode);
	ret = attach_steps(dpath, p);
	if (ret >= 0)
		return 0;
	/* undo what was done; the cause is what gets reported */
	snprintf(why, sizeof(why), "%s", err_msg());
	tc_detach(dpath, p);
	return err_set(ret, "%s", why);
}

static int tc_set_mode(struct dpath *dpath, const struct dpath_port *p, enum pc_mode mode)
{
	struct side s[2];
	int ret = check_mode(dpath, p, mode);

	if (ret < 0)
		return ret;
	warn_dp_down(dpath, mode);
	sides_of(p, s);
	if (mode == MODE_FWD)
		ret = bridge_ensure(dpath, p); /* the way back before the way there */
	for (int i = 0; i < 2 && ret >= 0; i++)
		ret = ip_knodes(dpath, p, &s[i], mode, true);
	if (ret >= 0 && mode != MODE_FWD && priv_of(dpath)->pedit)
		ret = bridge_remove(dpath, p);
	return ret;
}

const struct dpath_ops dpath_tc_ops = {
	.name = "tc-pedit",
	.available = tc_available,
	.supports = tc_supports,
	.open = tc_open,
	.close = tc_close,
	.attach = tc_attach,
	.set_mode = tc_set_mode,
	.detach = tc_detach,
};
