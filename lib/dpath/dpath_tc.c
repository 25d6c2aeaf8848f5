/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "tc-pedit" data-path backend: the classic ingress filters (docs/design.md)
 * (ingress qdiscs, u32 matches on the MACs, pedit, mirred), built from
 * netlink messages.  libnl-route-3 builds the qdiscs, the match-all filter
 * and the deletions; the filters whose action lists hold a pedit action are
 * raw netlink (tc_pedit.h), as libnl has no pedit.
 *
 * On each port of a pair, an ingress qdisc and one u32 filter (prio 1, all
 * protocols) whose knodes (800::1, 800::2, ...) u32 tries in handle order:
 * the checks at the port and the steering, built by tc_guard.c.  Each
 * knode is one of three kinds, its classid says which (tc_guard.h):
 *
 *   MODE  IP from the container (inPort: its MAC and, with source_check
 *         strict, one of its addresses as source) or to it (exPort:
 *         destination MAC = the container's)                   -> mode
 *   PEER  ARP and neighbour discovery that passed the checks, and on the
 *         exPort everything else                               -> the peer
 *   DROP  what the checks refuse: pedit that changes nothing with
 *         verdict TC_ACT_SHOT, counted in the action's statistics
 *         (tap and fwd; in pass, where the bpf backend has no checks
 *         either, it goes to the peer)
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
 * Mode changes: a dump of each port's filter finds the MODE and DROP
 * knodes by their classid, and each is replaced in place (NLM_F_REPLACE,
 * same handle, same keys); the kernel swaps a knode's actions under RCU, so
 * every frame meets the old actions or the new ones, never none, and
 * established connections carry on.  (A port attached before the checks
 * has no classids; its knodes 800::4 and 800::5 steered IP, and they are
 * the ones replaced.)  Into fwd, the bridge_port knodes come first; out of
 * fwd, they go last.
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
 * knodes are walked one by one for every frame the data plane sends back,
 * and a port's for every frame that enters it (about 60 for a port with
 * two addresses of each family; TCP and UDP meet theirs within the first
 * few).
 */
#include "dpath_int.h"

#include <arpa/inet.h>
#include <linux/gen_stats.h>
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

#include "tc_guard.h"
#include "tc_pedit.h"
#include "lib/core/err.h"
#include "lib/core/fault.h"
#include "lib/core/log.h"

#define INGRESS_HANDLE TC_H_MAKE(TC_H_INGRESS, 0)
#define FILTER_PRIO 1
#define MAX_KEYS 4
#define MAX_ACTS 3
#define MAX_FOUND 8

/* The knodes a port had before its checks (set_mode still switches them). */
enum { K_LEGACY_IP4 = 4, K_LEGACY_IP6 = 5 };
#define KNODE(n) (0x80000000u | (uint32_t)(n))

struct tc_dpath {
	bool pedit;	     /* the kernel has act_pedit: tap and fwd can run */
	bool warned_dp_down; /* said once that fwd ignores dp_down=open */
};

/* One port of a pair as its filters see it. */
struct side {
	int ifindex, peer;
	enum tc_eth_field field; /* where the container's MAC is on ingress */
	enum tcg_side guard;
};

struct keys {
	int n;
	struct tc_u32_key k[MAX_KEYS];
};

enum act_kind { ACT_REDIRECT, ACT_MIRROR, ACT_PEDIT, ACT_DROP };

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
	s[0] = (struct side){ p->in_ifindex, p->ex_ifindex, TC_ETH_SRC, TCG_IN };
	s[1] = (struct side){ p->ex_ifindex, p->in_ifindex, TC_ETH_DST, TCG_EX };
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

/* ---- messages ---- */

static int put_sel(struct nl_msg *msg, const struct tc_u32_key *k, int n)
{
	size_t len = sizeof(struct tc_u32_sel) + (size_t)n * sizeof(struct tc_u32_key);
	struct nlattr *a = nla_reserve(msg, TCA_U32_SEL, (int)len);
	struct tc_u32_sel *sel;

	if (!a)
		return -EMSGSIZE;
	sel = nla_data(a);
	memset(sel, 0, len);
	sel->flags = TC_U32_TERMINAL; /* a match runs the actions */
	sel->nkeys = (unsigned char)n;
	memcpy(sel->keys, k, (size_t)n * sizeof(struct tc_u32_key));
	return 0;
}

static int put_acts(struct nl_msg *msg, const struct act *a, int n)
{
	struct nlattr *list = nla_nest_start(msg, TCA_U32_ACT);
	int ret = list ? 0 : -EMSGSIZE;

	for (int i = 0; i < n && ret >= 0; i++) {
		if (a[i].kind == ACT_PEDIT)
			ret = tc_put_pedit_eth(msg, i + 1, a[i].field, a[i].mac);
		else if (a[i].kind == ACT_DROP)
			ret = tc_put_drop(msg, i + 1);
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

/* A knode: its keys, and its classid (0: none). */
struct knode {
	const struct tc_u32_key *k;
	int nkeys;
	uint32_t classid;
};

/*
 * Add (NLM_F_CREATE | NLM_F_EXCL) or replace (NLM_F_REPLACE) knode handle
 * (0: the kernel picks) of the u32 filter on ifindex's ingress.  A replace
 * keeps the knode's keys and takes the new classid and actions.
 */
static int knode_request(struct nl_sock *sk, int ifindex, uint32_t handle, int flags,
			 const struct knode *kn, const struct act *a, int n)
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
	if (opts && kn->classid && nla_put_u32(msg, TCA_U32_CLASSID, kn->classid) < 0)
		opts = NULL;
	if (!opts || put_sel(msg, kn->k, kn->nkeys) < 0 || put_acts(msg, a, n) < 0) {
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

/* ---- dumps ---- */

/* A u32 knode of prio FILTER_PRIO as a dump finds it. */
struct seen {
	uint32_t handle, classid; /* classid 0: none */
	const struct tc_u32_sel *sel;
	struct nlattr *acts; /* TCA_U32_ACT, NULL when it has none */
};

typedef void (*knode_fn)(const struct seen *k, void *arg);

struct dump {
	knode_fn fn;
	void *arg;
};

static int on_knode(struct nl_msg *msg, void *arg)
{
	struct dump *d = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct tcmsg *t = nlmsg_data(h);
	struct nlattr *tb[TCA_MAX + 1], *ub[TCA_U32_MAX + 1];
	const struct tc_u32_sel *sel;

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
	d->fn(&(struct seen){ t->tcm_handle,
			      ub[TCA_U32_CLASSID] ? nla_get_u32(ub[TCA_U32_CLASSID]) : 0, sel,
			      ub[TCA_U32_ACT] },
	      d->arg);
	return NL_OK;
}

/* One dump; a libnl error code. */
static int dump_once(struct nl_sock *sk, int ifindex, struct dump *d)
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
		ret = -NLE_NOMEM;
		goto out;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_knode, d);
	ret = nl_send_auto(sk, msg);
	if (ret >= 0)
		ret = nl_recvmsgs(sk, cb);
out:
	nlmsg_free(msg);
	nl_cb_put(cb);
	return ret;
}

/*
 * fn for each knode of the u32 filter on ifindex's ingress; reset() before
 * each try (a dump interrupted by a change is tried again).
 */
static int knode_dump(struct nl_sock *sk, int ifindex, const char *what, knode_fn fn,
		      void (*reset)(void *arg), void *arg)
{
	struct dump d = { fn, arg };
	int ret;

	for (int tries = 0; tries < 3; tries++) {
		reset(arg);
		ret = dump_once(sk, ifindex, &d);
		if (ret != -NLE_DUMP_INTR)
			break;
	}
	return ret < 0 ? nl_fail(ret, what) : 0;
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

static void on_bridge_knode(const struct seen *k, void *arg)
{
	struct bridge_scan *s = arg;
	uint8_t mac[6];
	int field = knode_mac(k->sel, mac);

	if (field >= 0 && memcmp(mac, s->ucmac, 6) == 0 && s->n[field] < MAX_FOUND)
		s->found[field][s->n[field]++] = k->handle;
}

static void bridge_reset(void *arg)
{
	struct bridge_scan *s = arg;

	s->n[0] = s->n[1] = 0;
}

/* The knodes of ucmac on bridge_port. */
static int bridge_scan(struct dpath *dpath, const uint8_t *ucmac, struct bridge_scan *s)
{
	s->ucmac = ucmac;
	return knode_dump(dpath->enf->nl, dpath->bridge_ifindex, "list the filters of bridge_port",
			  on_bridge_knode, bridge_reset, s);
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
			     handle ? NLM_F_REPLACE : NLM_F_CREATE | NLM_F_EXCL,
			     &(struct knode){ ks.k, ks.n, 0 }, a, 2);
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

/* The actions of a knode of kind (enum tcg_kind) on side s in mode. */
static int kind_acts(const struct dpath *dpath, const struct dpath_port *p, const struct side *s,
		     int kind, enum pc_mode mode, struct act a[MAX_ACTS])
{
	int n = 0;

	if (!mode_needs_pedit(mode) || kind == TCG_PEER) {
		/* pass has no checks: the bpf backend's neither */
		a[n++] = (struct act){ .kind = ACT_REDIRECT, .ifindex = s->peer };
		return n;
	}
	if (kind == TCG_DROP) {
		a[n++] = (struct act){ .kind = ACT_DROP };
		return n;
	}
	if (mode == MODE_TAP)
		a[n++] = (struct act){ .kind = ACT_MIRROR, .ifindex = s->peer };
	a[n++] = (struct act){ .kind = ACT_PEDIT, .field = s->field, .mac = p->ucmac };
	a[n++] = (struct act){ .kind = ACT_REDIRECT, .ifindex = dpath->bridge_ifindex };
	return n;
}

/* All knodes of side s: the checks and the mode's steering (tc_guard.h). */
static int port_knodes(struct dpath *dpath, const struct dpath_port *p, const struct side *s)
{
	struct tcg_knode *k = calloc(TCG_MAX_KNODES, sizeof(*k));
	struct act a[MAX_ACTS];
	int n, ret = 0;

	if (!k)
		return err_set(-ENOMEM, "the filters of link %d", s->ifindex);
	n = tcg_knodes(p, dpath->cfg->source_check, s->guard, k, TCG_MAX_KNODES);
	if (n < 0)
		ret = err_set(n, "link %d: the checks of %zu addresses need more than %d filters",
			      s->ifindex, p->n_addrs, TCG_MAX_KNODES);
	for (int i = 0; i < n && ret >= 0; i++) {
		struct knode kn = { k[i].keys, k[i].nkeys, tcg_classid(&k[i]) };
		int na = kind_acts(dpath, p, s, k[i].kind, p->mode, a);

		/* the first and the last: a rollback from none made and from all but one */
		if (i == 0 || i == n - 1)
			ret = fault_point("port filter");
		if (ret >= 0)
			ret = knode_request(dpath->enf->nl, s->ifindex, KNODE(i + 1),
					    NLM_F_CREATE | NLM_F_EXCL, &kn, a, na);
	}
	free(k);
	return ret;
}

/* A port's knodes as a dump finds them, for a mode change. */
struct port_scan {
	int n, legacy;
	struct {
		uint32_t handle, classid;
		int kind, nkeys;
		struct tc_u32_key keys[TCG_MAX_KEYS];
	} * k;
};

static void on_port_knode(const struct seen *seen, void *arg)
{
	struct port_scan *s = arg;
	const struct tc_u32_sel *sel = seen->sel;
	int why, kind = tcg_kind_of(seen->classid, &why);

	if (seen->handle == KNODE(K_LEGACY_IP4) || seen->handle == KNODE(K_LEGACY_IP6))
		s->legacy += !seen->classid;
	if ((kind != TCG_MODE && kind != TCG_DROP) || s->n == TCG_MAX_KNODES ||
	    sel->nkeys > TCG_MAX_KEYS)
		return;
	s->k[s->n].handle = seen->handle;
	s->k[s->n].classid = seen->classid;
	s->k[s->n].kind = kind;
	s->k[s->n].nkeys = sel->nkeys;
	memcpy(s->k[s->n].keys, sel->keys, sel->nkeys * sizeof(sel->keys[0]));
	s->n++;
}

static void port_scan_reset(void *arg)
{
	struct port_scan *s = arg;

	s->n = s->legacy = 0;
}

/*
 * A port attached before the checks: knodes 4 and 5 steered its unicast
 * IPv4 and IPv6 by MAC; they take mode's actions, and keep their keys.
 */
static int legacy_mode(struct dpath *dpath, const struct dpath_port *p, const struct side *s,
		       enum pc_mode mode)
{
	static const uint16_t type[2] = { ETH_P_IP, ETH_P_IPV6 };
	struct act a[MAX_ACTS];
	int n = kind_acts(dpath, p, s, TCG_MODE, mode, a), ret = 0;
	struct keys ks;

	for (int i = 0; i < 2 && ret >= 0; i++) {
		mac_keys(&ks, s->field, p->ctr_mac, type[i]);
		ret = knode_request(dpath->enf->nl, s->ifindex, KNODE(K_LEGACY_IP4 + i),
				    NLM_F_REPLACE, &(struct knode){ ks.k, ks.n, 0 }, a, n);
	}
	return ret;
}

/*
 * Side s into mode: each knode that steers or drops takes the actions of
 * mode in place (NLM_F_REPLACE: a frame meets the old actions or the new).
 */
static int side_mode(struct dpath *dpath, const struct dpath_port *p, const struct side *s,
		     enum pc_mode mode)
{
	struct port_scan scan = { .k = calloc(TCG_MAX_KNODES, sizeof(*scan.k)) };
	struct act a[MAX_ACTS];
	char what[48];
	int ret;

	snprintf(what, sizeof(what), "list the filters of link %d", s->ifindex);
	if (!scan.k)
		return err_set(-ENOMEM, "%s", what);
	ret = knode_dump(dpath->enf->nl, s->ifindex, what, on_port_knode, port_scan_reset, &scan);
	if (ret >= 0 && scan.n == 0 && scan.legacy)
		ret = legacy_mode(dpath, p, s, mode);
	for (int i = 0; i < scan.n && ret >= 0; i++) {
		struct knode kn = { scan.k[i].keys, scan.k[i].nkeys, scan.k[i].classid };
		int na = kind_acts(dpath, p, s, scan.k[i].kind, mode, a);

		ret = knode_request(dpath->enf->nl, s->ifindex, scan.k[i].handle, NLM_F_REPLACE,
				    &kn, a, na);
	}
	free(scan.k);
	return ret;
}

/* ---- what the checks dropped ---- */

/* The frames the actions in acts (TCA_U32_ACT) ran on. */
static uint64_t acts_packets(struct nlattr *acts)
{
	struct nlattr *act, *tb[TCA_ACT_MAX + 1], *st[TCA_STATS_MAX + 1];
	struct gnet_stats_basic b;
	uint64_t n = 0;
	int rem;

	nla_for_each_nested(act, acts, rem) {
		if (nla_parse_nested(tb, TCA_ACT_MAX, act, NULL) < 0 || !tb[TCA_ACT_STATS] ||
		    nla_parse_nested(st, TCA_STATS_MAX, tb[TCA_ACT_STATS], NULL) < 0 ||
		    !st[TCA_STATS_BASIC] || nla_len(st[TCA_STATS_BASIC]) < (int)sizeof(b))
			continue;
		memcpy(&b, nla_data(st[TCA_STATS_BASIC]), sizeof(b));
		n += b.packets;
	}
	return n;
}

static void on_drop_knode(const struct seen *k, void *arg)
{
	int why;

	if (k->acts && tcg_kind_of(k->classid, &why) == TCG_DROP)
		*(uint64_t *)arg += acts_packets(k->acts);
}

static void sum_reset(void *arg)
{
	*(uint64_t *)arg = 0;
}

int dpath_tc_port_dropped(struct nl_sock *sk, int in_ifindex, int ex_ifindex, uint64_t *n)
{
	const int side[2] = { in_ifindex, ex_ifindex };
	uint64_t sum[2];
	int ret = 0;

	for (int i = 0; i < 2 && ret >= 0; i++) {
		ret = knode_dump(sk, side[i], "list the filters of a port", on_drop_knode,
				 sum_reset, &sum[i]);
	}
	if (ret >= 0)
		*n = sum[0] + sum[1];
	return ret;
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
		ret = side_mode(dpath, p, &s[i], mode);
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
