/* SPDX-License-Identifier: Apache-2.0 */
#include "tc_pedit.h"

#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <linux/tc_act/tc_pedit.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "lib/core/err.h"
#include "lib/net/nl.h"

#define PEDIT_ETH_KEYS 2

/* A 32-bit pedit word as it lies in the frame: b[0] first. */
static uint32_t word(uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	const uint8_t b[4] = { b0, b1, b2, b3 };
	uint32_t w;

	memcpy(&w, b, sizeof(w));
	return w;
}

/*
 * The two keys that write a MAC address: the kernel computes
 * word = (word & mask) ^ val, one 32-bit word at a time, at offsets that
 * must be multiples of 4.  dst is bytes 0-5 of the header, src 6-11.
 */
static void eth_keys(enum tc_eth_field field, const uint8_t m[6], struct tc_pedit_key k[2])
{
	memset(k, 0, PEDIT_ETH_KEYS * sizeof(*k));
	if (field == TC_ETH_DST) {
		k[0].off = 0;
		k[0].val = word(m[0], m[1], m[2], m[3]);
		k[1].off = 4; /* keeps src[0..1] */
		k[1].mask = word(0, 0, 0xff, 0xff);
		k[1].val = word(m[4], m[5], 0, 0);
	} else {
		k[0].off = 4; /* keeps dst[4..5] */
		k[0].mask = word(0xff, 0xff, 0, 0);
		k[0].val = word(0, 0, m[0], m[1]);
		k[1].off = 8;
		k[1].val = word(m[2], m[3], m[4], m[5]);
	}
}

static int put_pedit_parms(struct nl_msg *msg, enum tc_eth_field field, const uint8_t mac[6])
{
	size_t len = sizeof(struct tc_pedit_sel) + PEDIT_ETH_KEYS * sizeof(struct tc_pedit_key);
	struct nlattr *a = nla_reserve(msg, TCA_PEDIT_PARMS_EX, (int)len);
	struct tc_pedit_sel *sel;

	if (!a)
		return -EMSGSIZE;
	sel = nla_data(a);
	memset(sel, 0, len);
	sel->action = TC_ACT_PIPE; /* on to the next action */
	sel->nkeys = PEDIT_ETH_KEYS;
	eth_keys(field, mac, sel->keys);
	return 0;
}

/* Each key's header type (Ethernet) and command (set). */
static int put_pedit_keys_ex(struct nl_msg *msg)
{
	struct nlattr *all = nla_nest_start(msg, TCA_PEDIT_KEYS_EX), *one;

	if (!all)
		return -EMSGSIZE;
	for (int i = 0; i < PEDIT_ETH_KEYS; i++) {
		one = nla_nest_start(msg, TCA_PEDIT_KEY_EX);
		if (!one ||
		    nla_put_u16(msg, TCA_PEDIT_KEY_EX_HTYPE, TCA_PEDIT_KEY_EX_HDR_TYPE_ETH) < 0 ||
		    nla_put_u16(msg, TCA_PEDIT_KEY_EX_CMD, TCA_PEDIT_KEY_EX_CMD_SET) < 0)
			return -EMSGSIZE;
		nla_nest_end(msg, one);
	}
	nla_nest_end(msg, all);
	return 0;
}

int tc_put_pedit_eth(struct nl_msg *msg, int order, enum tc_eth_field field, const uint8_t mac[6])
{
	struct nlattr *act = nla_nest_start(msg, order), *opts = NULL;

	if (act && nla_put_string(msg, TCA_ACT_KIND, "pedit") >= 0)
		opts = nla_nest_start(msg, TCA_ACT_OPTIONS);
	if (!opts || put_pedit_parms(msg, field, mac) < 0 || put_pedit_keys_ex(msg) < 0)
		return -EMSGSIZE;
	nla_nest_end(msg, opts);
	nla_nest_end(msg, act);
	return 0;
}

int tc_put_drop(struct nl_msg *msg, int order)
{
	size_t len = sizeof(struct tc_pedit_sel) + sizeof(struct tc_pedit_key);
	struct nlattr *act = nla_nest_start(msg, order), *opts = NULL, *a;
	struct tc_pedit_sel *sel;

	if (act && nla_put_string(msg, TCA_ACT_KIND, "pedit") >= 0)
		opts = nla_nest_start(msg, TCA_ACT_OPTIONS);
	if (!opts || !(a = nla_reserve(msg, TCA_PEDIT_PARMS, (int)len)))
		return -EMSGSIZE;
	sel = nla_data(a);
	memset(sel, 0, len);
	sel->action = TC_ACT_SHOT;
	sel->nkeys = 1; /* pedit wants one: word 0 := (word 0 & ~0) ^ 0, itself */
	sel->keys[0].mask = 0xffffffff;
	nla_nest_end(msg, opts);
	nla_nest_end(msg, act);
	return 0;
}

int tc_put_mirred(struct nl_msg *msg, int order, int eaction, int ifindex)
{
	struct tc_mirred m = {
		.eaction = eaction,
		.ifindex = (uint32_t)ifindex,
		/* a redirected frame is gone; after a mirror the list goes on */
		.action = eaction == TCA_EGRESS_REDIR ? TC_ACT_STOLEN : TC_ACT_PIPE,
	};
	struct nlattr *act = nla_nest_start(msg, order), *opts = NULL;

	if (act && nla_put_string(msg, TCA_ACT_KIND, "mirred") >= 0)
		opts = nla_nest_start(msg, TCA_ACT_OPTIONS);
	if (!opts || nla_put(msg, TCA_MIRRED_PARMS, sizeof(m), &m) < 0)
		return -EMSGSIZE;
	nla_nest_end(msg, opts);
	nla_nest_end(msg, act);
	return 0;
}

int tc_pedit_probe(struct nl_sock *sk)
{
	struct tcamsg t = { .tca_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWACTION, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *tab, *act;
	int ret;

	/* one pedit action without TCA_ACT_OPTIONS: refused as soon as pedit sees it */
	if (!msg || nlmsg_append(msg, &t, sizeof(t), NLMSG_ALIGNTO) < 0 ||
	    !(tab = nla_nest_start(msg, TCA_ACT_TAB)) || !(act = nla_nest_start(msg, 1)) ||
	    nla_put_string(msg, TCA_ACT_KIND, "pedit") < 0) {
		nlmsg_free(msg);
		return err_set(-ENOMEM, "probe for the pedit action");
	}
	nla_nest_end(msg, act);
	nla_nest_end(msg, tab);
	ret = nl_talk(sk, msg, "probe for the pedit action");
	if (ret == -EINVAL || ret == 0) {
		/* pedit is there and refused the request (0 cannot happen) */
		err_clear();
		return 1;
	}
	/* "Failed to load TC action module" */
	if (ret == -ENOENT || ret == -EOPNOTSUPP) {
		err_clear();
		return 0;
	}
	return ret;
}
