/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_DECODE_H
#define PORTCULLIS_DP_DECODE_H

/*
 * The packet decoder: one Ethernet frame (as it reaches vth-neuv, or as a
 * capture holds it) into the fields the sessions and the policy need.  It
 * reads only inside [frame, frame + len): every length in a header is
 * checked against what is there, IPv6 extension-header chains are bounded,
 * and a frame that lies about itself is classified, never trusted.
 *
 * A GSO super-frame (up to 64 KiB) decodes like any frame: its IP length
 * fields may be 0 or stale, so the bytes present decide the payload length.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/core/util.h"

enum decode_status {
	DECODE_OK = 0,	  /* IP with a transport header we read (or a fragment) */
	DECODE_NOT_IP,	  /* ARP, LLDP, ...: not ours to inspect */
	DECODE_TRUNCATED, /* a header runs past the frame */
	DECODE_MALFORMED, /* a header contradicts itself */
	DECODE_OTHER_L4,  /* IP, but no TCP/UDP/ICMP (e.g. SCTP, GRE, ESP) */
};

struct pkt {
	const uint8_t *frame;
	size_t len;	 /* bytes at frame */
	size_t wire_len; /* the frame's length (> len when it was cut) */
	const uint8_t *eth_dst, *eth_src;
	uint16_t ethertype; /* after VLAN tags */
	uint8_t family;	    /* AF_INET, AF_INET6, 0 */
	uint8_t proto;	    /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, other */
	uint8_t ttl;
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 */
	uint16_t sport, dport;	  /* 0 for ICMP, or ICMP echo id in both */
	/* fragments: a non-first fragment has no transport header */
	bool fragment;
	bool first_fragment;
	bool more_fragments;
	uint32_t frag_id;
	uint32_t frag_offset; /* bytes */
	/* TCP */
	uint8_t tcp_flags;
	uint32_t seq, ack;
	uint16_t window;
	uint16_t mss;	/* from a SYN's options, 0 if absent */
	uint8_t wscale; /* a SYN's window scale option: shift + 1 (1..15), 0 if absent */
	/* ICMP */
	uint8_t icmp_type, icmp_code;
	/* offsets into frame */
	uint16_t l3_off, l4_off;
	uint32_t ip_len; /* IP total length as the header says (0 for GSO) */
	const uint8_t *payload;
	size_t payload_len;
};

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20

/* at most this many IPv6 extension headers are walked */
#define DECODE_MAX_EXT_HDRS 8

enum decode_status decode_frame(const uint8_t *frame, size_t len, struct pkt *p);
const char *decode_status_name(enum decode_status s);

/*
 * What names one IP datagram among the fragments: addresses, protocol, id.
 * The sender picks all of it: tables index it by a keyed hash (khash.h).
 */
struct frag_key {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t family, proto;
	uint8_t pad[2]; /* zero: keys compare and hash as bytes */
};

static inline void frag_key_of(const struct pkt *p, struct frag_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->src, p->src, sizeof(k->src));
	memcpy(k->dst, p->dst, sizeof(k->dst));
	k->id = p->frag_id;
	k->family = p->family;
	k->proto = p->proto;
}

static inline bool frag_key_eq(const struct frag_key *a, const struct frag_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

#endif
