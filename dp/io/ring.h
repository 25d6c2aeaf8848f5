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
 * Latency: a V3 ring hands a block over when it fills or when its retire
 * timer (retire_ms, at least 1 ms) fires, so at low rates a frame waits
 * for the timer.  Small frames therefore take a quick path: the fanout
 * program sends an IP packet of at most quick_max bytes to a second
 * socket of the same worker, without a ring, whose every frame wakes the
 * worker (recvmmsg, batched).  Bulk data (GSO frames) fills blocks fast
 * and stays on the ring; ACKs, requests and responses of a few hundred
 * bytes do not wait.  Frames of one direction of a flow can cross on the
 * two paths only when the flow mixes small and large packets.
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
	unsigned block_size; /* bytes; at least 128 KiB, a GSO frame fits */
	unsigned block_count;
	unsigned retire_ms;    /* a block with frames is handed over after this */
	unsigned fanout_group; /* the fanout group id, unique on the host */
	unsigned workers;      /* each has a ring socket and a quick socket */
	unsigned quick_max;    /* IP packets up to this size take the quick path */
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
	uint32_t len;	     /* bytes of it in the ring */
	uint32_t wire_len;   /* its length; > len when it did not fit */
	bool copy;	     /* a copy (PC_COPY_VID): never sent back */
};

/* A worker's quick-path socket and its receive buffers. */
#define QUICK_BATCH 64
#define QUICK_SLOT 2048 /* virtio-net header, Ethernet, VLAN tags, quick_max */

struct quick {
	int fd;
	uint8_t *buf; /* QUICK_BATCH slots */
	struct mmsghdr msgs[QUICK_BATCH];
	struct iovec iov[QUICK_BATCH];
};

/* Join after ring_open of the same worker: fanout members go in pairs. */
int quick_open(struct quick *q, int nsfd, int ifindex, const struct ring_params *p);
void quick_close(struct quick *q);
/* Receive what is queued (one batch) and call fn for each; the frames stay
 * valid until the next quick_drain.  Returns the frames received. */
unsigned quick_drain(struct quick *q, void (*fn)(const struct ring_frame *f, void *arg), void *arg);

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
