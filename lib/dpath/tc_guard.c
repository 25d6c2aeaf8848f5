/* SPDX-License-Identifier: Apache-2.0 */
#include "tc_guard.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/dpath/bpf/dpath_common.h"

/* Offsets from the network header, where u32 counts from. */
#define ETH_DST -14
#define ETH_SRC -8
#define ETH_TYPE -2
#define IP4_PROTO 9
#define IP4_FRAG 6
#define IP4_SADDR 12
#define IP4_DADDR 16
#define IP4_SPORT 20 /* with a 20-byte header */
#define IP6_PLEN 4   /* payload length: here the ICMPv6 message's */
#define IP6_NEXTHDR 6
#define IP6_SADDR 8
#define IP6_DADDR 24
#define IP6_L4 40
#define ND_TARGET (IP6_L4 + 8)
#define ND_OPT (IP6_L4 + 24) /* after a solicitation's or advertisement's target */
#define RS_OPT (IP6_L4 + 8)
#define ND_LEN 24 /* a solicitation or advertisement without options */
#define RS_LEN 8
#define OPT_LEN 8	       /* a link-layer option on Ethernet, a nonce */
#define HBH_ICMP6 (IP6_L4 + 8) /* ICMPv6 behind an 8-byte hop-by-hop header */
#define ARP_SHA 8
#define ARP_SPA 14

#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86dd
#define ETH_P_ARP_ 0x0806
#define NH_HOP 0
#define NH_TCP 6
#define NH_UDP 17
#define NH_ROUTING 43
#define NH_DEST 60
#define NH_ICMP6 58
#define ND_RS 133
#define ND_RA 134
#define ND_NS 135
#define ND_NA 136
#define ND_REDIRECT 137
#define MLD_QUERY 130 /* 131: report, 132: done */
#define MLD_REPORT 131
#define MLD_DONE 132
#define MLD2_REPORT 143
#define OPT_NONCE 14 /* RFC 7527, in duplicate address detection */
#define OPT_SLLA 1
#define OPT_TLLA 2

struct list {
	struct tcg_knode *k;
	int n, max;
	bool full;
	struct tcg_knode spare; /* where knodes past max are built, and thrown away */
};

/* The knode being built: match n bytes b (under mask m, NULL: all bits) at off. */
static void match(struct tcg_knode *k, int off, const uint8_t *b, const uint8_t *m, int n)
{
	for (int i = 0; i < n; i++) {
		int o = off + i, w = o - (((o % 4) + 4) % 4), j;
		uint8_t *km, *kv;

		for (j = 0; j < k->nkeys && k->keys[j].off != w; j++)
			;
		if (j == k->nkeys) {
			if (k->nkeys == TCG_MAX_KEYS)
				return; /* cannot happen: the longest knode has 16 */
			k->keys[k->nkeys++] = (struct tc_u32_key){ .off = w };
		}
		km = (uint8_t *)&k->keys[j].mask;
		kv = (uint8_t *)&k->keys[j].val;
		km[o - w] |= m ? m[i] : 0xff;
		kv[o - w] = (uint8_t)((kv[o - w] & ~km[o - w]) | (b[i] & km[o - w]));
	}
}

static void match_u8(struct tcg_knode *k, int off, uint8_t v)
{
	match(k, off, &v, NULL, 1);
}

static void match_u16(struct tcg_knode *k, int off, uint16_t v)
{
	const uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	match(k, off, b, NULL, 2);
}

/* A new knode of kind (why: TCG_DROP) on ethertype type (0: any) from mac at off (NULL: any). */
static struct tcg_knode *knode(struct list *l, enum tcg_kind kind, int why, uint16_t type, int off,
			       const uint8_t *mac)
{
	struct tcg_knode *k;

	if (l->n == l->max) {
		l->full = true;
		k = &l->spare; /* the caller sees -E2BIG */
	} else {
		k = &l->k[l->n++];
	}
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->why = why;
	/* the ethertype first: most knodes fail there */
	if (type)
		match_u16(k, ETH_TYPE, type);
	if (mac)
		match(k, off, mac, NULL, 6);
	if (!k->nkeys) { /* u32 needs a key: one that every frame matches */
		k->keys[0] = (struct tc_u32_key){ .off = 0 };
		k->nkeys = 1;
	}
	return k;
}

/* An address the checks name: NULL stands for any (source_check mac). */
struct addrs {
	const uint8_t *a[DPATH_MAX_ADDRS + 1];
	int n;
};

static void addrs_of(const struct dpath_port *p, int family, bool strict, struct addrs *out)
{
	out->n = 0;
	if (!strict) {
		out->a[out->n++] = NULL;
		return;
	}
	for (size_t i = 0; i < p->n_addrs; i++)
		if (p->addrs[i].family == family)
			out->a[out->n++] = p->addrs[i].addr;
}

static void match_addr(struct tcg_knode *k, int off, const uint8_t *a, int len)
{
	if (a)
		match(k, off, a, NULL, len);
}

/* IPv6 from the container (its MAC), source s, next header nh (-1: any). */
static struct tcg_knode *ip6_from(struct list *l, enum tcg_kind kind, int why,
				  const struct dpath_port *p, const uint8_t *s, int nh)
{
	struct tcg_knode *k = knode(l, kind, why, ETH_P_IPV6_, ETH_SRC, p->ctr_mac);

	if (nh >= 0)
		match_u8(k, IP6_NEXTHDR, (uint8_t)nh);
	match_addr(k, IP6_SADDR, s, 16);
	return k;
}

/* ICMPv6 of type t (at off, under mask tm) from the container, source s. */
static struct tcg_knode *icmp6_from(struct list *l, enum tcg_kind kind, int why,
				    const struct dpath_port *p, const uint8_t *s, int off,
				    uint8_t t, uint8_t tm)
{
	struct tcg_knode *k = ip6_from(l, kind, why, p, s, off == IP6_L4 ? NH_ICMP6 : NH_HOP);

	match(k, off, &t, &tm, 1);
	return k;
}

/* A link-layer option of type opt at off: with the port's MAC (mac) or with any. */
static void match_lla(struct tcg_knode *k, int off, uint8_t opt, const uint8_t *mac)
{
	const uint8_t head[2] = { opt, 1 };

	match(k, off, head, NULL, 2);
	if (mac)
		match(k, off + 2, mac, NULL, 6);
}

static const uint8_t unspecified[16];

/*
 * MLD: from one of the port's addresses any MLD message, from :: (while
 * its address is tentative) a version 2 report; bare, or behind a
 * hop-by-hop header of 8 bytes (a router alert), where it belongs.
 */
static void mld(struct list *l, const struct dpath_port *p, const struct addrs *a6, bool strict)
{
	static const struct {
		uint8_t type, mask;
	} types[] = { { MLD_QUERY, 0xfe }, { MLD_DONE, 0xff }, { MLD2_REPORT, 0xff } };

	for (int behind = 0; behind < 2; behind++) {
		int off = behind ? HBH_ICMP6 : IP6_L4;

		for (int i = 0; i < a6->n; i++)
			for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
				struct tcg_knode *k = icmp6_from(l, TCG_PEER, 0, p, a6->a[i], off,
								 types[t].type, types[t].mask);

				if (behind) { /* ICMPv6 next, the header 8 bytes long */
					match_u8(k, IP6_L4, NH_ICMP6);
					match_u8(k, IP6_L4 + 1, 0);
				}
			}
		if (strict) {
			struct tcg_knode *k = icmp6_from(l, TCG_PEER, 0, p, unspecified, off,
							 MLD2_REPORT, 0xff);

			if (behind) {
				match_u8(k, IP6_L4, NH_ICMP6);
				match_u8(k, IP6_L4 + 1, 0);
			}
		}
	}
}

/*
 * A solicitation or advertisement (type t, len bytes without options, a
 * link-layer option opt at opt_off): from one of the port's addresses
 * (and, an advertisement, for one of them: targets), with the port's MAC
 * in its one option, or with no option; anything else of type t dropped:
 * another MAC, other options, more bytes.  The payload length tells
 * whether the option is there: u32 must not read past a frame's end (a
 * key there ends the whole filter, no knode matching).
 */
static void nd_msg(struct list *l, const struct dpath_port *p, const struct addrs *a6,
		   const struct addrs *targets, uint8_t t, uint16_t len, uint8_t opt, int opt_off)
{
	for (int with_opt = 1; with_opt >= 0; with_opt--)
		for (int i = 0; i < a6->n; i++)
			for (int j = 0; j < (targets ? targets->n : 1); j++) {
				struct tcg_knode *k = icmp6_from(l, TCG_PEER, 0, p, a6->a[i],
								 IP6_L4, t, 0xff);

				match_u16(k, IP6_PLEN, (uint16_t)(len + (with_opt ? OPT_LEN : 0)));
				if (targets)
					match_addr(k, ND_TARGET, targets->a[j], 16);
				if (with_opt)
					match_lla(k, opt_off, opt, p->ctr_mac);
			}
	icmp6_from(l, TCG_DROP, PC_DROP_ND, p, NULL, IP6_L4, t, 0xff);
}

/* Duplicate address detection: a solicitation from ::, bare or with a nonce. */
static void dad(struct list *l, const struct dpath_port *p)
{
	static const uint8_t nonce[2] = { OPT_NONCE, 1 };
	struct tcg_knode *k;

	k = icmp6_from(l, TCG_PEER, 0, p, unspecified, IP6_L4, ND_NS, 0xff);
	match_u16(k, IP6_PLEN, ND_LEN);
	k = icmp6_from(l, TCG_PEER, 0, p, unspecified, IP6_L4, ND_NS, 0xff);
	match_u16(k, IP6_PLEN, ND_LEN + OPT_LEN);
	match(k, ND_OPT, nonce, NULL, 2);
}

/* IPv6 from the container (guard_ip6 in dpath.bpf.c). */
static void in_ip6(struct list *l, const struct dpath_port *p, bool strict)
{
	static const uint8_t ext[] = { NH_HOP, NH_ROUTING, NH_DEST };
	struct addrs a6;

	addrs_of(p, AF_INET6, strict, &a6);
	/* TCP and UDP first: most of the traffic, and never neighbour discovery */
	for (int i = 0; i < a6.n; i++) {
		ip6_from(l, TCG_MODE, 0, p, a6.a[i], NH_TCP);
		ip6_from(l, TCG_MODE, 0, p, a6.a[i], NH_UDP);
	}
	/* a container is no router */
	icmp6_from(l, TCG_DROP, PC_DROP_ND, p, NULL, IP6_L4, ND_RA, 0xff);
	icmp6_from(l, TCG_DROP, PC_DROP_ND, p, NULL, IP6_L4, ND_REDIRECT, 0xff);
	mld(l, p, &a6, strict);
	for (size_t i = 0; i < sizeof(ext); i++)
		ip6_from(l, TCG_DROP, PC_DROP_ND, p, NULL, ext[i]);
	/* what crosses without the data plane carries no more than it needs */
	nd_msg(l, p, &a6, &a6, ND_NA, ND_LEN, OPT_TLLA, ND_OPT);
	dad(l, p);
	nd_msg(l, p, &a6, NULL, ND_NS, ND_LEN, OPT_SLLA, ND_OPT);
	nd_msg(l, p, &a6, NULL, ND_RS, RS_LEN, OPT_SLLA, RS_OPT);
	for (int i = 0; i < a6.n; i++)
		ip6_from(l, TCG_MODE, 0, p, a6.a[i], -1);
	ip6_from(l, TCG_DROP, PC_DROP_SRC_ADDR, p, NULL, -1);
}

/* IPv4 and ARP from the container. */
static void in_ip4(struct list *l, const struct dpath_port *p, bool strict)
{
	static const uint8_t dhcp[4] = { 0, 68, 0, 67 }, frag_mask[2] = { 0x3f, 0xff }, zero[4];
	struct addrs a4;
	struct tcg_knode *k;

	addrs_of(p, AF_INET, strict, &a4);
	for (int i = 0; i < a4.n; i++)
		match_addr(knode(l, TCG_MODE, 0, ETH_P_IP_, ETH_SRC, p->ctr_mac), IP4_SADDR,
			   a4.a[i], 4);
	if (strict) { /* 0.0.0.0: a DHCP client before it has an address */
		k = knode(l, TCG_MODE, 0, ETH_P_IP_, ETH_SRC, p->ctr_mac);
		match_u8(k, 0, 0x45); /* a 20-byte header: the ports where they are looked for */
		match(k, IP4_FRAG, zero, frag_mask, 2);
		match_u8(k, IP4_PROTO, NH_UDP);
		match(k, IP4_SADDR, zero, NULL, 4);
		match(k, IP4_SPORT, dhcp, NULL, 4);
	}
	knode(l, TCG_DROP, PC_DROP_SRC_ADDR, ETH_P_IP_, ETH_SRC, p->ctr_mac);
	/* ARP: the port's MAC as sender, one of its addresses or 0.0.0.0 (a probe) */
	for (int i = 0; i < a4.n + (strict ? 1 : 0); i++) {
		k = knode(l, TCG_PEER, 0, ETH_P_ARP_, ETH_SRC, p->ctr_mac);
		match(k, ARP_SHA, p->ctr_mac, NULL, 6);
		match_addr(k, ARP_SPA, i < a4.n ? a4.a[i] : zero, 4);
	}
	knode(l, TCG_DROP, PC_DROP_ARP, ETH_P_ARP_, ETH_SRC, p->ctr_mac);
}

/* Frames from the container (guard_in in dpath.bpf.c). */
static void in_side(struct list *l, const struct dpath_port *p, enum pc_source_check sc)
{
	bool strict = sc == SOURCE_CHECK_STRICT;

	/* a UCMAC is the data path's own address */
	knode(l, TCG_DROP, PC_DROP_TO_UCMAC, 0, ETH_DST, p->ucmac);
	if (sc == SOURCE_CHECK_OFF) {
		/* only what a data plane must see, and no neighbour discovery */
		for (uint8_t t = ND_RS; t <= ND_REDIRECT; t++)
			icmp6_from(l, TCG_PEER, 0, p, NULL, IP6_L4, t, 0xff);
		knode(l, TCG_MODE, 0, ETH_P_IP_, ETH_SRC, p->ctr_mac);
		knode(l, TCG_MODE, 0, ETH_P_IPV6_, ETH_SRC, p->ctr_mac);
		knode(l, TCG_PEER, 0, 0, 0, NULL);
		return;
	}
	in_ip4(l, p, strict);
	in_ip6(l, p, strict);
	knode(l, TCG_DROP, PC_DROP_ETHERTYPE, 0, ETH_SRC, p->ctr_mac);
	knode(l, TCG_DROP, PC_DROP_SRC_MAC, 0, 0, NULL);
}

/* Frames from the host (guard_ex in dpath.bpf.c). */
static void ex_side(struct list *l, const struct dpath_port *p)
{
	static const uint8_t group = 1;
	struct tcg_knode *k;

	knode(l, TCG_DROP, PC_DROP_HOST_UCMAC, 0, ETH_SRC, p->ucmac);
	knode(l, TCG_DROP, PC_DROP_HOST_UCMAC, 0, ETH_DST, p->ucmac);
	/* the port's own address under a group MAC: its kernel would take it */
	for (size_t i = 0; i < p->n_addrs; i++) {
		bool v4 = p->addrs[i].family == AF_INET;

		k = knode(l, TCG_DROP, PC_DROP_BCAST_OWN, v4 ? ETH_P_IP_ : ETH_P_IPV6_, 0, NULL);
		match(k, ETH_DST, &group, &group, 1);
		match(k, v4 ? IP4_DADDR : IP6_DADDR, p->addrs[i].addr, NULL, v4 ? 4 : 16);
	}
	for (uint8_t t = ND_RS; t <= ND_REDIRECT; t++) {
		k = knode(l, TCG_PEER, 0, ETH_P_IPV6_, 0, NULL);
		match_u8(k, IP6_NEXTHDR, NH_ICMP6);
		match_u8(k, IP6_L4, t);
	}
	knode(l, TCG_MODE, 0, ETH_P_IP_, ETH_DST, p->ctr_mac);
	knode(l, TCG_MODE, 0, ETH_P_IPV6_, ETH_DST, p->ctr_mac);
	knode(l, TCG_PEER, 0, 0, 0, NULL);
}

int tcg_knodes(const struct dpath_port *p, enum pc_source_check sc, enum tcg_side side,
	       struct tcg_knode *k, int max)
{
	struct list l = { .k = k, .max = max };

	if (side == TCG_IN)
		in_side(&l, p, sc);
	else
		ex_side(&l, p);
	return l.full ? -E2BIG : l.n;
}
