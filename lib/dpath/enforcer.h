/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_ENFORCER_H
#define PORTCULLIS_ENFORCER_H

/*
 * The enforcer network namespace: where pulled ports live, with the
 * bridge_port/dp_port veth pair (vbr-neuv/vth-neuv) through which the data
 * plane sees traffic.  The caller holds the state lock.
 */

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

#endif
