/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_ETHTOOL_H
#define PORTCULLIS_ETHTOOL_H

/*
 * Offload features through the SIOCETHTOOL ioctl on a socket of the link's
 * namespace (see netns_socket()).  Feature bit positions are the kernel's
 * own and the same for every device, so a snapshot of one device can be
 * applied to another.
 */

#include <stdint.h>

#define ETHTOOL_FEATURE_WORDS 4 /* room for 128 features; the kernel has ~70 */

struct ethtool_snapshot {
	uint32_t words; /* how many of the arrays are valid */
	uint32_t requested[ETHTOOL_FEATURE_WORDS];
};

int ethtool_features_get(int sock, const char *ifname, struct ethtool_snapshot *snap);
/* Request snap's features on ifname, for every feature ifname can change. */
int ethtool_features_apply(int sock, const char *ifname, const struct ethtool_snapshot *snap);
/*
 * Ask for the link state, which makes the kernel finish its pending carrier
 * and operstate work for ifname now instead of from its workqueue (veth's
 * get_link synchronises link watch): after an up, the link is ready for
 * IPv6 when this returns.
 */
int ethtool_link_sync(int sock, const char *ifname);

#endif
