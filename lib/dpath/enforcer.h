/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_ENFORCER_H
#define PORTCULLIS_ENFORCER_H

/*
 * The enforcer network namespace: where pulled ports live, with the
 * bridge_port/dp_port veth pair (vbr-neuv/vth-neuv) through which the data
 * plane sees traffic.  The caller holds the state lock.
 */

#include <limits.h>
#include <stdbool.h>

#include "lib/core/config.h"
#include "lib/net/nl.h"

#define ENFORCER_PAIR_INDEX 10000000 /* large, away from ordinary ports */

/*
 * Open the enforcer namespace into ens.  create: make the namespace and the
 * pair when missing (idempotent); otherwise -ENOENT when the namespace does
 * not exist.
 */
int enforcer_open(const struct pc_config *cfg, bool create, struct nl_ns *ens);

/* What the data plane needs of the enforcer namespace. */
struct enforcer_info {
	struct nl_ns ns;	  /* the namespace, sockets inside it; close with nl_ns_close */
	int dp_ifindex;		  /* dp_port (vth-neuv) */
	char backend[16];	  /* the data path in use: bpf or tc-pedit */
	char heartbeat[PATH_MAX]; /* the pinned heartbeat map, "" when the backend has none */
};

/*
 * Make the enforcer namespace, its pair and its data path ready (created
 * when missing, under the state lock, by the same code the hook runs) and
 * describe it for the data plane.  Takes the state lock itself.
 */
int enforcer_ready(const struct pc_config *cfg, struct enforcer_info *out);

#endif
