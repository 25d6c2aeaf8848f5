/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_SNAPSHOT_H
#define PORTCULLIS_SNAPSHOT_H

/*
 * Everything a container sees of one of its ports, taken before the port is
 * touched, so that it can be given back exactly: to the new port after a
 * pull, or to the original port after a rollback or a release.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <netlink/cache.h>

#include "lib/net/devconf.h"
#include "lib/net/ethtool.h"
#include "lib/net/nl.h"

/* One dump of a namespace's links, addresses, routes and neighbours. */
struct ns_view {
	struct nl_cache *links, *addrs, *routes, *neighs;
};

int view_load(struct nl_ns *ns, struct ns_view *v);
void view_free(struct ns_view *v);
/* True when link ifindex has an address of global scope. */
bool view_has_global_addr(const struct ns_view *v, int ifindex);

struct port_snapshot {
	char name[IFNAMSIZ];
	char kind[16];
	char alias[64];
	int ifindex;
	int iflink; /* peer's ifindex (veth), or the lower device */
	uint8_t mac[6];
	unsigned flags;
	uint32_t mtu, txqlen, num_tx, num_rx, gso_max_size, gso_max_segs, group;
	struct ethtool_snapshot features;
	struct devconf_snapshot devconf;
	size_t n_addrs, n_routes, n_neighs;
	struct nl_object **addrs, **routes, **neighs; /* references, kernel order */
};

/* Take a snapshot of link ifindex from a view and its live settings. */
int snapshot_take(struct nl_ns *ns, const struct ns_view *v, int ifindex, struct port_snapshot *s);
void snapshot_free(struct port_snapshot *s);

/*
 * Give link ifindex (same name as the snapshot, in the same namespace) the
 * snapshot's settings, flags, addresses, routes and neighbours.  strict:
 * stop at the first thing that cannot be restored; otherwise do everything
 * possible, warn about the rest and return the first error.
 */
int snapshot_apply(struct nl_ns *ns, int ifindex, const struct port_snapshot *s, bool strict);

#endif
