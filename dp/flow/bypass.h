/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_BYPASS_H
#define PORTCULLIS_DP_BYPASS_H

/*
 * Session bypass (lib/dpath/bpf/dpath_common.h, pc_bypass): a tap or fwd session
 * whose inspection is over - allowed for good, its application known, no
 * detector left that reads its payload, and past bypass_after_kb bytes -
 * is handed to the kernel.  From then on its frames go straight to the
 * peer and the kernel counts them; the data plane sees none of them until
 * it takes the session back and adds the counts to it.  TCP segments with
 * SYN, FIN or RST still reach the data plane, so it sees every close.
 *
 * The data plane takes a session back (deletes its entries) when it ends,
 * expires, or is denied by a policy reload or a threat's drop action; the
 * frames after that reach it again.  Before it expires a bypassed session
 * as idle, it asks the kernel when its last frame passed.  Start and a
 * clean stop empty the map; while no heartbeat is fresh the kernel ignores
 * it.
 */

#include <stdbool.h>
#include <stdint.h>

#include "session.h"
#include "lib/dpath/bpf/dpath_common.h"

struct bypass {
	int map_fd;	      /* the pinned pc_bypass; -1: no bypass */
	uint64_t after_bytes; /* both directions together, at least 1 */
};

/*
 * Open the pc_bypass map pinned beside the heartbeat map at heartbeat_path
 * and empty it.  after_kb 0 (bypass off), heartbeat_path "" (a backend
 * without maps) and a map of another build's layout (with a warning) leave
 * b off and return 0.
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
 * reaching the data plane); watch[0] (a -> b) and watch[1] (b -> a): the
 * raw TCP window under which a segment takes the session back (0: none).
 * < 0 when the map refused (full).
 */
int bypass_add(const struct bypass *b, const struct flow_key *k, const uint8_t ucmac[6],
	       unsigned dirs, const uint16_t watch[2]);
/*
 * Take both directions back; got[0] (a -> b) and got[1] (b -> a) receive
 * what the kernel counted for them, zero for a direction that had no entry.
 */
void bypass_del(const struct bypass *b, const struct flow_key *k, const uint8_t ucmac[6],
		struct pc_bypass got[2]);
/* What the kernel counted so far, entries left in place; zero for a direction without one. */
void bypass_peek(const struct bypass *b, const struct flow_key *k, const uint8_t ucmac[6],
		 struct pc_bypass got[2]);
/* When the kernel forwarded the session's latest frame (CLOCK_MONOTONIC, to the tick); 0: none. */
uint64_t bypass_last_ns(const struct bypass *b, const struct flow_key *k, const uint8_t ucmac[6]);

#endif
