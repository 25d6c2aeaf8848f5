/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_NRI_MUX_H
#define PORTCULLIS_NRI_MUX_H

/*
 * NRI's connection multiplexer: one unix stream socket carries several
 * byte streams ("connections").  Every frame is an 8-byte header, u32
 * big-endian connection id and u32 big-endian payload length, then the
 * payload.  A frame is only a piece of its connection's byte stream: a ttrpc
 * message may span frames, and one frame may hold several messages.
 *
 * Connection 1 carries the Plugin service (the runtime calls, we answer),
 * connection 2 the Runtime service (we call).  Frames for any other
 * connection are read and dropped, as the runtime's own multiplexer does.
 */

#include <stddef.h>
#include <stdint.h>

#define MUX_HDR_LEN 8
#define MUX_PAYLOAD_MAX (1u << 24) /* a longer frame is a protocol error */
/*
 * Frames we send carry at most this much: the runtime's reader hands each
 * frame to a 4096-byte buffer and fails (ENOMEM) on a longer one.
 */
#define MUX_SEND_MAX 4096u

enum { MUX_CONN_PLUGIN = 1, MUX_CONN_RUNTIME = 2 };

/* Receives one piece of connection conn's byte stream; non-zero stops the feed. */
typedef int (*mux_deliver_fn)(uint32_t conn, const uint8_t *data, size_t len, void *arg);

/* The decoder's state between two reads: where in which frame we are. */
struct mux_rx {
	uint8_t hdr[MUX_HDR_LEN];
	size_t hdr_have; /* header bytes seen of the current frame */
	uint32_t conn;	 /* the current frame's connection */
	uint32_t left;	 /* payload bytes of the current frame still to come */
};

void mux_rx_init(struct mux_rx *rx);

/*
 * Decode len bytes, however they were cut, handing each payload piece of
 * connections 1 and 2 to fn.  Nothing is buffered but the header.  Returns
 * 0, fn's negative return, or -EPROTO for a frame over MUX_PAYLOAD_MAX (the
 * stream cannot be trusted after it).
 */
int mux_rx_feed(struct mux_rx *rx, const uint8_t *data, size_t len, mux_deliver_fn fn, void *arg);

/*
 * Send len bytes on connection conn, in frames of at most MUX_SEND_MAX,
 * finishing short writes.  A blocking fd should have a send timeout: a peer
 * that stops reading makes this fail (-EAGAIN) instead of hanging.
 */
int mux_send(int fd, uint32_t conn, const uint8_t *data, size_t len);

#endif
