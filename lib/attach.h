/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_ATTACH_H
#define PORTCULLIS_ATTACH_H

/*
 * The traffic steering between a pulled port pair in the enforcer namespace:
 * exPort (the container's original port, towards the host) and inPort (the
 * peer of the container's new port).  This is where the data-path modes
 * attach; this release implements pass: everything entering one side leaves
 * through the other (an ingress u32 match-all filter with a mirred redirect
 * on each port).
 */

#include "config.h"
#include "nl.h"

/* The mode the data path can give a port right now (fwd and tap fall back to pass). */
enum pc_mode attach_effective_mode(enum pc_mode wanted);

int attach_pair(struct nl_ns *ens, int ex_ifindex, int in_ifindex, enum pc_mode mode);
/* Remove what attach_pair put on one port; nothing there is success. */
int attach_detach(struct nl_ns *ens, int ifindex);

#endif
