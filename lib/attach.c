/* SPDX-License-Identifier: Apache-2.0 */
#include "attach.h"

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

enum pc_mode attach_effective_mode(enum pc_mode wanted)
{
	return wanted == MODE_OFF ? MODE_OFF : MODE_PASS;
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

int attach_pair(struct nl_ns *ens, int ex_ifindex, int in_ifindex, enum pc_mode mode)
{
	const int ports[2][2] = { { ex_ifindex, in_ifindex }, { in_ifindex, ex_ifindex } };
	int ret = 0;

	if (attach_effective_mode(mode) != MODE_PASS)
		return err_set(-EINVAL, "mode %s cannot be attached", config_mode_name(mode));
	for (int i = 0; i < 2 && ret >= 0; i++) {
		ret = fault_point("attach qdisc");
		if (ret >= 0)
			ret = qdisc_request(ens, ports[i][0], true);
		if (ret >= 0)
			ret = fault_point("attach filter");
		if (ret >= 0)
			ret = redirect_all(ens, ports[i][0], ports[i][1]);
	}
	return ret;
}

int attach_detach(struct nl_ns *ens, int ifindex)
{
	int ret = qdisc_request(ens, ifindex, false);

	/* no qdisc there, or no such link any more: nothing to detach */
	if (ret == -EINVAL || ret == -ENOENT || ret == -ENODEV)
		return 0;
	return ret;
}
