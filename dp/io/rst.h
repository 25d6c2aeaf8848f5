/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_RST_H
#define PORTCULLIS_DP_RST_H

/*
 * TCP resets for a denied session, built from the frame that was denied,
 * as frames for dp_port: the data path's return hop sends a frame whose
 * destination is a UCMAC into the container and one whose source is a
 * UCMAC out to the host, so swapping the frame's MACs is all the
 * addressing a reset needs.  Each starts with a zeroed virtio-net header
 * (checksums are computed here).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/flow/decode.h"

#define RST_FRAME_MAX 128

/* to_sender: back to whoever sent p; else on to its receiver.  Returns the
 * length (virtio-net header included), 0 when p cannot be answered. */
size_t rst_build(const struct pkt *p, bool to_sender, uint8_t *out, size_t cap);

#endif
