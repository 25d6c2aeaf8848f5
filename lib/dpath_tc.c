/* SPDX-License-Identifier: Apache-2.0 */
#include "dpath_int.h"

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <stdio.h>

#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "err.h"
#include "fault.h"
#include "log.h"

#define INGRESS_HANDLE TC_H_MAKE(TC_H_INGRESS, 0)

/*
 * The "tc-pedit" backend: the original design's ingress filters, built from
 * netlink messages.  Pass mode is an ingress u32 match-all filter with a
 * mirred redirect on each port of the pair.
 */

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

static int qdisc_request(struct nl_ns *ens, int ifindex, bool add)
{
	struct rtnl_qdisc *q = ingress_qdisc(ifindex);
	struct nl_msg *msg = NULL;
	char what[48];
	int ret;

	snprintf(what, sizeof(what), "%s ingress qdisc on link %d", add ? "add" : "delete", ifindex);
	if (!q)
		return err_set(-ENOMEM, "%s", what);
	ret = add ? rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_EXCL, &msg)
		  : rtnl_qdisc_build_delete_request(q, &msg);
	rtnl_qdisc_put(q);
	if (ret < 0)
		return nl_fail(ret, what);
	return nl_talk(ens->nl, msg, what);
}

/* Everything that enters ifindex leaves through to_ifindex. */
static int redirect_all(struct nl_ns *ens, int ifindex, int to_ifindex)
{
	struct rtnl_cls *cls = rtnl_cls_alloc();
	struct rtnl_act *act = rtnl_act_alloc();
	struct nl_msg *msg = NULL;
	char what[64];
	int ret = -NLE_NOMEM;

	snprintf(what, sizeof(what), "redirect link %d to %d", ifindex, to_ifindex);
	if (cls && act) {
		rtnl_tc_set_ifindex(TC_CAST(cls), ifindex);
		rtnl_tc_set_parent(TC_CAST(cls), INGRESS_HANDLE);
		rtnl_cls_set_prio(cls, 1);
		rtnl_cls_set_protocol(cls, ETH_P_ALL);
		ret = rtnl_tc_set_kind(TC_CAST(cls), "u32");
	}
	if (ret >= 0)
		ret = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0);
	if (ret >= 0)
		ret = rtnl_u32_set_cls_terminal(cls); /* a match runs the actions */
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
	if (act)
		rtnl_act_put(act);
	if (cls)
		rtnl_cls_put(cls);
	if (ret < 0)
		return nl_fail(ret, what);
	return nl_talk(ens->nl, msg, what);
}

static bool tc_supports(const struct dpath *dp, enum pc_mode mode)
{
	return mode == MODE_PASS;
}

static bool tc_available(struct dpath *dp)
{
	return true; /* u32 and mirred are in every kernel this runs on */
}

static int tc_open(struct dpath *dp)
{
	return 0;
}

static void tc_close(struct dpath *dp)
{
}

static int tc_attach(struct dpath *dp, const struct dpath_port *p)
{
	const int ports[2][2] = { { p->ex_ifindex, p->in_ifindex }, { p->in_ifindex, p->ex_ifindex } };
	int ret = 0;

	if (!tc_supports(dp, p->mode))
		return err_set(-EOPNOTSUPP, "mode %s cannot be attached by tc-pedit",
			       config_mode_name(p->mode));
	for (int i = 0; i < 2 && ret >= 0; i++) {
		ret = fault_point("attach qdisc");
		if (ret >= 0)
			ret = qdisc_request(dp->enf, ports[i][0], true);
		if (ret >= 0)
			ret = fault_point("attach filter");
		if (ret >= 0)
			ret = redirect_all(dp->enf, ports[i][0], ports[i][1]);
	}
	return ret;
}

static int tc_set_mode(struct dpath *dp, const struct dpath_port *p, enum pc_mode mode)
{
	return 0; /* pass is the only mode, and the pair is in it */
}

/* Remove what tc_attach put on one port; nothing there is success. */
static int detach_one(struct nl_ns *ens, int ifindex)
{
	int ret = qdisc_request(ens, ifindex, false);

	/* no qdisc there, or no such link any more: nothing to detach */
	if (ret == -EINVAL || ret == -ENOENT || ret == -ENODEV)
		return 0;
	return ret;
}

static int tc_detach(struct dpath *dp, const struct dpath_port *p)
{
	int ret = detach_one(dp->enf, p->ex_ifindex), r2 = detach_one(dp->enf, p->in_ifindex);

	return ret < 0 ? ret : r2;
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
