/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_BYPASS_H
#define PORTCULLIS_DP_BYPASS_H

/*
 * Session bypass (lib/bpf/dpath_common.h, pc_bypass): a fwd session whose
 * inspection is over - allowed for good, its application known, no
 * detector left that reads its payload, and past bypass_after_kb bytes -
 * is handed to the kernel.  From then on its frames go straight to the
 * peer as in tap mode, and the data plane gets a copy of each (its
 * counters, the session's state and the header detectors keep working).
 * TCP segments with SYN, FIN or RST still cross the data plane.
 *
 * The data plane takes a session back (deletes its entries) when it ends,
 * expires, or is denied by a policy reload or a threat's drop action; the
 * frames after that cross it again and are dropped.  Start and a clean
 * stop empty the map; while no heartbeat is fresh the kernel ignores it.
 */

#include <stdbool.h>
#include <stdint.h>

#include "dpath_common.h"
#include "session.h"

struct bypass {
	int map_fd;	      /* the pinned pc_bypass; -1: no bypass */
	uint64_t after_bytes; /* both directions together, at least 1 */
};

/*
 * Open the pc_bypass map pinned beside the heartbeat map at heartbeat_path
 * and empty it.  after_kb 0 (bypass off) or heartbeat_path "" (a backend
 * without maps) leave b off and return 0; a map from another build is an
 * error.
 */
int bypass_open(struct bypass *b, const char *heartbeat_path, unsigned after_kb);
/* Empty the map (every session back to the data plane), close it. */
void bypass_close(struct bypass *b);
static inline bool bypass_on(const struct bypass *b)
{
	return b && b->map_fd >= 0;
}

/* The two keys of session key k at the port with ucmac: [0] a -> b, [1] b -> a. */
void bypass_keys(const struct flow_key *k, const uint8_t ucmac[6], struct pc_flow_key out[2]);

#define BYPASS_A_TO_B 1u /* frames from (addr_a, port_a) */
#define BYPASS_B_TO_A 2u

/*
 * Hand the directions dirs of the session to the kernel (the others keep
 * crossing the data plane); < 0 when the map refused (full).
 */
int bypass_add(const struct bypass *b, const struct flow_key *k, const uint8_t ucmac[6],
	       unsigned dirs);
/* Take both directions back; gone counts as done. */
void bypass_del(const struct bypass *b, const struct flow_key *k, const uint8_t ucmac[6]);

#endif
