/* SPDX-License-Identifier: Apache-2.0 */
#include "enforcer.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <limits.h>
#include <stdio.h>

#include "dpath.h"
#include "lib/core/err.h"
#include "lib/core/log.h"
#include "lib/core/state.h"
#include "lib/net/devconf.h"
#include "lib/net/netns.h"

static int create_pair(const struct pc_config *cfg, struct nl_ns *ens)
{
	uint32_t mtu = cfg->jumbo ? 9000 : 1500;
	struct nl_link_spec vbr = {
		.name = cfg->bridge_port, .ifindex = ENFORCER_PAIR_INDEX, .mtu = mtu, .nsfd = -1
	};
	struct nl_link_spec vth = {
		.name = cfg->dp_port, .ifindex = ENFORCER_PAIR_INDEX + 1, .mtu = mtu, .nsfd = -1
	};
	int ret = nl_veth_create(ens->nl, &vbr, &vth);

	if (ret == -EBUSY) {
		/* those indexes are taken here; any will do */
		vbr.ifindex = vth.ifindex = 0;
		ret = nl_veth_create(ens->nl, &vbr, &vth);
	}
	if (ret < 0)
		return ret;
	/*
	 * The pair carries only the containers' frames: no IPv6 of its own (its
	 * router solicitations and MLD reports would reach the data plane).
	 * Offloads stay on, so GSO super-frames with partial checksums reach
	 * the data plane whole instead of being segmented and checksummed in
	 * software on the way (which halves tap throughput and costs fwd ten
	 * times over).
	 */
	ret = devconf_set(ens->fd, cfg->bridge_port, '6', "disable_ipv6", "1");
	if (ret >= 0)
		ret = devconf_set(ens->fd, cfg->dp_port, '6', "disable_ipv6", "1");
	if (ret >= 0)
		pr_info("created %s/%s in %s", cfg->bridge_port, cfg->dp_port, cfg->enforcer_netns);
	return ret;
}

/* The pair exists and is up, whatever state an earlier run left it in. */
static int ensure_pair(const struct pc_config *cfg, struct nl_ns *ens)
{
	const char *names[2] = { cfg->bridge_port, cfg->dp_port };
	struct rtnl_link *l;
	int ret;

	for (int i = 0; i < 2; i++) {
		ret = nl_link_get(ens->nl, 0, names[i], &l);
		if (ret == -ENODEV && i == 0) {
			ret = create_pair(cfg, ens);
			if (ret >= 0)
				ret = nl_link_get(ens->nl, 0, names[i], &l);
		}
		if (ret < 0)
			return err_wrap(ret, "enforcer port %s", names[i]);
		if (!(rtnl_link_get_flags(l) & IFF_UP))
			ret = nl_link_updown(ens->nl, rtnl_link_get_ifindex(l), true);
		rtnl_link_put(l);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int enforcer_open(const struct pc_config *cfg, bool create, struct nl_ns *ens)
{
	int fd, ret;

	fd = create ? netns_ensure(cfg->enforcer_netns) : netns_open_path(cfg->enforcer_netns);
	if (fd == -ENOENT && !create)
		return fd;
	if (fd < 0)
		return err_wrap(fd, "enforcer namespace");
	ret = nl_ns_open(fd, ens);
	if (ret < 0)
		return err_wrap(ret, "enforcer namespace");
	if (create) {
		ret = ensure_pair(cfg, ens);
		if (ret < 0) {
			nl_ns_close(ens);
			return err_wrap(ret, "enforcer namespace %s", cfg->enforcer_netns);
		}
	}
	return 0;
}

int enforcer_ready(const struct pc_config *cfg, struct enforcer_info *out)
{
	struct dpath *dpath = NULL;
	int lock, ret;

	memset(out, 0, sizeof(*out));
	out->ns = (struct nl_ns){ .fd = -1, .ioc = -1 };
	lock = state_lock_as(cfg->state_dir, cfg->lock_timeout_ms,
			     "portcullis-dp, set-up of the enforcer");
	if (lock < 0)
		return lock;
	ret = enforcer_open(cfg, true, &out->ns);
	if (ret >= 0)
		ret = dpath_open(cfg, &out->ns, &dpath);
	if (ret >= 0) {
		snprintf(out->backend, sizeof(out->backend), "%s", dpath_backend(dpath));
		out->dp_ifindex = dpath_dp_ifindex(dpath);
		if (dpath_heartbeat_path(dpath, out->heartbeat, sizeof(out->heartbeat)) < 0)
			out->heartbeat[0] = '\0';
		dpath_close(dpath);
	} else {
		nl_ns_close(&out->ns);
	}
	state_unlock(lock);
	return ret;
}
