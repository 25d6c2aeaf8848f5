/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_HEARTBEAT_H
#define PORTCULLIS_DP_HEARTBEAT_H

/*
 * The fwd-mode heartbeat (lib/dpath/bpf/dpath_common.h, struct pc_dp_state): the
 * data plane stores CLOCK_MONOTONIC in heartbeat_ns every
 * PC_DP_HEARTBEAT_INTERVAL_MS through an mmap of the pinned map; the data
 * path treats a heartbeat older than a second as "down".  Stopping stores
 * 0, so fwd ports fall back to dp_down at once, not a second later.
 */

#include <stddef.h>
#include <stdint.h>

struct heartbeat {
	int map_fd;
	void *mm;
	size_t mm_len;
};

/* path: the pinned pc_dp map; "" means no heartbeat (the calls do nothing). */
int heartbeat_open(struct heartbeat *hb, const char *path);
void heartbeat_beat(struct heartbeat *hb);
void heartbeat_stop(struct heartbeat *hb);
void heartbeat_close(struct heartbeat *hb);

#endif
