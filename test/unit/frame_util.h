/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_TEST_FRAME_UTIL_H
#define PORTCULLIS_TEST_FRAME_UTIL_H

/*
 * What the unit tests that build frames in memory share: a frame buffer,
 * network-order writers, and Ethernet, IPv4+TCP, IPv4+UDP, IPv4+ICMP echo
 * and IPv6+UDP builders with MAC_A as the sender and MAC_B as the receiver.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct frame {
	uint8_t b[2048];
	size_t len;
};

static const uint8_t MAC_A[6] = { 0x02, 0x70, 1, 2, 3, 4 };
static const uint8_t MAC_B[6] = { 0x0a, 0x58, 9, 9, 9, 9 };

/* Network-order writers. */
static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* An Ethernet header MAC_A -> MAC_B of type; the frame is that header. */
static inline void eth(struct frame *f, uint16_t type)
{
	memcpy(f->b, MAC_B, 6);
	memcpy(f->b + 6, MAC_A, 6);
	put16(f->b + 12, type);
	f->len = 14;
}

/* IPv4 + TCP from src:sport to dst:dport with payload. */
static inline void tcp4(struct frame *f, const char *src, uint16_t sport, const char *dst,
			uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
			const char *payload)
{
	size_t plen = payload ? strlen(payload) : 0;
	uint8_t *ip = f->b + 14, *t = ip + 20;

	eth(f, 0x0800);
	memset(ip, 0, 40);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(40 + plen));
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 512);
	memcpy(t + 20, payload ? payload : "", plen);
	f->len = 14 + 40 + plen;
}

/* An IPv4 header from src to dst of proto with l4_len bytes after it; where they start. */
static inline uint8_t *ip4_hdr(struct frame *f, const char *src, const char *dst, uint8_t proto,
			       size_t l4_len)
{
	uint8_t *ip = f->b + 14;

	eth(f, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4_len));
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	f->len = 14 + 20 + l4_len;
	return ip + 20;
}

/* IPv4 + UDP from src:sport to dst:dport with plen bytes of payload (NULL: 'x'). */
static inline void udp4(struct frame *f, const char *src, uint16_t sport, const char *dst,
			uint16_t dport, const char *payload, size_t plen)
{
	uint8_t *u = ip4_hdr(f, src, dst, IPPROTO_UDP, 8 + plen);

	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + plen));
	put16(u + 6, 0);
	if (payload)
		memcpy(u + 8, payload, plen);
	else
		memset(u + 8, 'x', plen);
}

/* IPv4 + ICMP of type (8: echo request, 0: reply) with echo id and seq, 8 bytes of data. */
static inline void icmp4_echo(struct frame *f, const char *src, const char *dst, uint8_t type,
			      uint16_t id, uint16_t seq)
{
	uint8_t *c = ip4_hdr(f, src, dst, IPPROTO_ICMP, 16);

	memset(c, 0, 16);
	c[0] = type;
	put16(c + 4, id);
	put16(c + 6, seq);
}

/* IPv6 (first next header first_nh, then ext_len bytes of extension
 * headers) + UDP from src:sport to dst:dport with plen bytes of 'x'. */
static inline void udp6(struct frame *f, const char *src, uint16_t sport, const char *dst,
			uint16_t dport, uint8_t first_nh, const uint8_t *ext, size_t ext_len,
			size_t plen)
{
	uint8_t *ip = f->b + 14, *u;

	eth(f, 0x86dd);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(ext_len + 8 + plen));
	ip[6] = first_nh;
	ip[7] = 64;
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, dst, ip + 24);
	if (ext_len)
		memcpy(ip + 40, ext, ext_len);
	u = ip + 40 + ext_len;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + plen));
	memset(u + 8, 'x', plen);
	f->len = 14 + 40 + ext_len + 8 + plen;
}

#endif
