/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_TC_GUARD_H
#define PORTCULLIS_TC_GUARD_H

/*
 * The checks at a port for the tc-pedit backend: the u32 knodes of one
 * side of a pair, in the order u32 tries them, each with what a match
 * means (the same checks as the bpf backend's guard_in and guard_ex,
 * lib/dpath/bpf/dpath.bpf.c, where u32 can express them).
 *
 * u32 compares 32-bit words at offsets from the network header (the
 * Ethernet header is at -14) and runs the actions of the first knode whose
 * keys all match, in the order of their keys.  A key past the end of the
 * frame ends the whole filter with no knode matching (the frame then goes
 * up the enforcer's stack, which drops it, uncounted): a knode reads deep
 * only after keys that make sure the bytes are there.  The lists put what
 * is let on before what is dropped, and "not one of these addresses" is
 * the drop that follows the knodes for each of them.
 *
 * What u32 cannot see, and how it is met:
 * - a VLAN tag: the kernel takes it out of the frame before tc runs; the
 *   knodes judge the frame inside the tag, fwd sends it to the data plane,
 *   which sends it back untagged;
 * - another port's UCMAC: each port knows its own; a frame to another
 *   port's UCMAC is dropped at that port's exPort (host_ucmac), and in fwd
 *   by the data plane, which drops frames with a UCMAC at both ends;
 * - extension headers before neighbour discovery: IPv6 from the container
 *   with a hop-by-hop, routing or destination options header is dropped
 *   (nd), except an MLD report behind a router alert alone;
 * - whether a neighbour discovery option is there: the IPv6 payload
 *   length says; a solicitation or advertisement passes with no option or
 *   one link-layer option naming the port's MAC (from ::, a nonce), and
 *   nothing more;
 * - a frame's length: u32 has none to compare, so an ARP frame is not
 *   bounded in size here (the bpf backend drops one of more than 64
 *   bytes).
 */

#include <linux/pkt_cls.h>
#include <stdint.h>

#include "dpath.h"

#define TCG_MAX_KEYS 24
/*
 * A u32 hash table holds at most 4095 knodes; a port with two addresses of
 * each family needs 60, one with 16 IPv6 addresses about 750.
 */
#define TCG_MAX_KNODES 1024

enum tcg_kind {
	TCG_MODE = 1, /* IP that the mode steers (pass, tap, fwd) */
	TCG_PEER = 2, /* straight to the other port (ARP, neighbour discovery) */
	TCG_DROP = 3, /* dropped in tap and fwd, why: enum pc_drop */
};

/*
 * A knode's classid says what it is, so that a mode change finds the
 * knodes to change in a dump: TC_H_MAKE(TCG_CLASS_MAJ, kind << 8 | why).
 */
#define TCG_CLASS_MAJ 0x70630000u

struct tcg_knode {
	enum tcg_kind kind;
	int why; /* TCG_DROP: enum pc_drop (lib/dpath/bpf/dpath_common.h) */
	int nkeys;
	struct tc_u32_key keys[TCG_MAX_KEYS];
};

enum tcg_side { TCG_IN, TCG_EX };

/*
 * The knodes of side of p (TCG_IN: frames from the container, TCG_EX:
 * from the host) under source_check sc, into k[0..max-1]: their number, or
 * -E2BIG when they do not fit.
 */
int tcg_knodes(const struct dpath_port *p, enum pc_source_check sc, enum tcg_side side,
	       struct tcg_knode *k, int max);

static inline uint32_t tcg_classid(const struct tcg_knode *k)
{
	return TCG_CLASS_MAJ | (uint32_t)k->kind << 8 |
	       (uint32_t)(k->kind == TCG_DROP ? k->why : 0);
}

/* The kind of a knode from its classid, and (TCG_DROP) *why; 0 when it is not one of ours. */
static inline int tcg_kind_of(uint32_t classid, int *why)
{
	if ((classid & 0xffff0000u) != TCG_CLASS_MAJ)
		return 0;
	*why = (int)(classid & 0xff);
	return (int)((classid >> 8) & 0xff);
}

#endif
