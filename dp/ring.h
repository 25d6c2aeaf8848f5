/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_RING_H
#define PORTCULLIS_DP_RING_H

/*
 * One AF_PACKET socket on dp_port with a TPACKET_V3 receive ring and
 * PACKET_VNET_HDR: container ports keep their offloads, so frames arrive
 * as GSO super-frames and with partial checksums, each preceded in the
 * ring by its virtio-net header.  Frames go back out of the same socket
 * with that header (sendmmsg, qdisc bypassed), so the kernel still
 * segments and checksums them.  The socket never reads what it sent
 * (PACKET_IGNORE_OUTGOING).  The sockets of all workers form one fanout
 * group whose classic-BPF program sends both directions of an address
 * pair, and all fragments of its packets, to the same worker.
 *
 * Tap copies are only inspected, never sent back: a socket filter keeps
 * their first tap_snap bytes (headers and the start of the payload, what
 * identification reads), so a 64 KiB GSO copy costs a small copy.
 */

#include <linux/if_packet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ring_params {
	unsigned block_size;   /* bytes; at least 128 KiB, a GSO frame fits */
	unsigned block_count;
	unsigned retire_ms;    /* a block with frames is handed over after this */
	unsigned fanout_group; /* 0: no fanout (one worker) */
	unsigned fanout_members;
	unsigned tap_snap;     /* bytes kept of a tap copy (PC_TAP_MARK); 0: all */
};

void ring_params_default(struct ring_params *p);

struct ring {
	int fd;
	uint8_t *map;
	size_t map_len;
	unsigned block_size, block_count, next;
};

/* A socket on ifindex created inside namespace nsfd, ring mapped, fanout joined. */
int ring_open(struct ring *r, int nsfd, int ifindex, const struct ring_params *p);
void ring_close(struct ring *r);

/* One received frame, pointers into the ring (valid until ring_release). */
struct ring_frame {
	const uint8_t *vnet; /* struct virtio_net_hdr, just before data */
	const uint8_t *data; /* the Ethernet frame */
	uint32_t len;        /* bytes of it in the ring */
	uint32_t wire_len;   /* its length; > len when it did not fit */
	uint64_t ts_ns;
};

/* The next block handed to user space, or NULL. */
struct tpacket_block_desc *ring_block(struct ring *r);
/* Give the block back to the kernel and move on. */
void ring_release(struct ring *r, struct tpacket_block_desc *b);

/*
 * Walk a block: fn for each frame.  The block comes from a kernel that is
 * trusted, but the walk still stays inside block_size (it is also run over
 * synthetic blocks in tests).  Returns the frames walked.
 */
unsigned ring_walk(const struct tpacket_block_desc *b, size_t block_size, size_t vnet_len,
		   void (*fn)(const struct ring_frame *f, void *arg), void *arg);

#endif
