// SPDX-License-Identifier: Apache-2.0
/* The packet decoder: Ethernet, VLAN, IPv4, IPv6 (+ extension headers), TCP, UDP, ICMP. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "decode.h"
#include "lib/core/util.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define IPV6_HLEN 40
#define MAX_VLAN_TAGS 2

/* The payload of an IP packet ends where its header says, or at the frame's end. */
static const uint8_t *ip_end(const struct pkt *p, size_t l3_len_claimed)
{
	const uint8_t *frame_end = p->frame + p->len;
	const uint8_t *claimed = p->frame + p->l3_off + l3_len_claimed;

	if (l3_len_claimed == 0 || claimed > frame_end)
		return frame_end; /* GSO super-frame or short capture */
	return claimed;
}

static void tcp_options(struct pkt *p, const uint8_t *opt, const uint8_t *end)
{
	while (opt < end) {
		uint8_t kind = opt[0];

		if (kind == 0)
			return;
		if (kind == 1) {
			opt++;
			continue;
		}
		if (end - opt < 2 || opt[1] < 2 || opt[1] > end - opt)
			return;
		if (kind == 2 && opt[1] == 4)
			p->mss = be16_at(opt + 2);
		if (kind == 3 && opt[1] == 3) /* RFC 7323: shifts above 14 count as 14 */
			p->wscale = (uint8_t)((opt[2] > 14 ? 14 : opt[2]) + 1);
		opt += opt[1];
	}
}

static enum decode_status decode_tcp(struct pkt *p, const uint8_t *l4, const uint8_t *end)
{
	size_t hlen;

	if (end - l4 < 20)
		return DECODE_TRUNCATED;
	hlen = (size_t)(l4[12] >> 4) * 4;
	if (hlen < 20)
		return DECODE_MALFORMED;
	if ((size_t)(end - l4) < hlen)
		return DECODE_TRUNCATED;
	p->sport = be16_at(l4);
	p->dport = be16_at(l4 + 2);
	p->seq = be32_at(l4 + 4);
	p->ack = be32_at(l4 + 8);
	p->tcp_flags = l4[13];
	p->window = be16_at(l4 + 14);
	if (p->tcp_flags & TCPF_SYN)
		tcp_options(p, l4 + 20, l4 + hlen);
	p->payload = l4 + hlen;
	p->payload_len = (size_t)(end - p->payload);
	return DECODE_OK;
}

static enum decode_status decode_udp(struct pkt *p, const uint8_t *l4, const uint8_t *end)
{
	size_t ulen;

	if (end - l4 < 8)
		return DECODE_TRUNCATED;
	p->sport = be16_at(l4);
	p->dport = be16_at(l4 + 2);
	ulen = be16_at(l4 + 4);
	p->payload = l4 + 8;
	/* UDP GSO keeps the first segment's length; 0 is a jumbogram's */
	if (ulen >= 8 && ulen <= (size_t)(end - l4) && p->ip_len != 0)
		end = l4 + ulen;
	else if (ulen != 0 && ulen < 8)
		return DECODE_MALFORMED;
	p->payload_len = (size_t)(end - p->payload);
	return DECODE_OK;
}

static enum decode_status decode_icmp(struct pkt *p, const uint8_t *l4, const uint8_t *end)
{
	bool echo;

	if (end - l4 < 8)
		return DECODE_TRUNCATED;
	p->icmp_type = l4[0];
	p->icmp_code = l4[1];
	if (p->proto == IPPROTO_ICMP)
		echo = p->icmp_type == 8 || p->icmp_type == 0;
	else
		echo = p->icmp_type == 128 || p->icmp_type == 129;
	/* echo request and reply of one ping share the identifier */
	if (echo)
		p->sport = p->dport = be16_at(l4 + 4);
	p->payload = l4 + 8;
	p->payload_len = (size_t)(end - p->payload);
	return DECODE_OK;
}

static enum decode_status decode_l4(struct pkt *p, const uint8_t *l4, const uint8_t *end)
{
	p->l4_off = (uint16_t)(l4 - p->frame);
	if (p->fragment && !p->first_fragment) {
		p->payload = l4;
		p->payload_len = (size_t)(end - l4);
		return DECODE_OK;
	}
	switch (p->proto) {
	case IPPROTO_TCP:
		return decode_tcp(p, l4, end);
	case IPPROTO_UDP:
		return decode_udp(p, l4, end);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return decode_icmp(p, l4, end);
	default:
		p->payload = l4;
		p->payload_len = (size_t)(end - l4);
		return DECODE_OTHER_L4;
	}
}

static enum decode_status decode_ipv4(struct pkt *p)
{
	const uint8_t *ip = p->frame + p->l3_off, *end;
	size_t hlen, left = p->len - p->l3_off;
	uint16_t frag;

	if (left < 20)
		return DECODE_TRUNCATED;
	if (ip[0] >> 4 != 4)
		return DECODE_MALFORMED;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen < 20)
		return DECODE_MALFORMED;
	if (left < hlen)
		return DECODE_TRUNCATED;
	p->family = AF_INET;
	p->ip_len = be16_at(ip + 2);
	if (p->ip_len != 0 && p->ip_len < hlen)
		return DECODE_MALFORMED;
	p->ttl = ip[8];
	p->proto = ip[9];
	memcpy(p->src, ip + 12, 4);
	memcpy(p->dst, ip + 16, 4);
	frag = be16_at(ip + 6);
	p->more_fragments = frag & 0x2000;
	p->frag_offset = (uint32_t)(frag & 0x1fff) * 8;
	p->fragment = p->more_fragments || p->frag_offset;
	p->first_fragment = p->fragment && p->frag_offset == 0;
	p->frag_id = be16_at(ip + 4);
	end = ip_end(p, p->ip_len);
	if (end < ip + hlen)
		return DECODE_MALFORMED;
	return decode_l4(p, ip + hlen, end);
}

static bool ipv6_ext_header(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_FRAGMENT || nh == IPPROTO_AH || nh == 135 /* mobility */;
}

/* Walk the extension headers; *l4 and p->proto end at the transport header. */
static enum decode_status ipv6_walk(struct pkt *p, uint8_t nh, const uint8_t **l4,
				    const uint8_t *end)
{
	const uint8_t *h = *l4;

	for (int i = 0; ipv6_ext_header(nh); i++) {
		size_t hlen;

		if (i == DECODE_MAX_EXT_HDRS)
			return DECODE_MALFORMED;
		if (end - h < 8)
			return DECODE_TRUNCATED;
		if (nh == IPPROTO_FRAGMENT) {
			uint16_t off = be16_at(h + 2);

			hlen = 8;
			p->fragment = true;
			p->frag_offset = off & 0xfff8;
			p->more_fragments = off & 1;
			p->first_fragment = p->frag_offset == 0;
			p->frag_id = be32_at(h + 4);
		} else if (nh == IPPROTO_AH) {
			hlen = ((size_t)h[1] + 2) * 4;
		} else {
			hlen = ((size_t)h[1] + 1) * 8;
		}
		if ((size_t)(end - h) < hlen)
			return DECODE_TRUNCATED;
		nh = h[0];
		h += hlen;
		if (p->fragment && !p->first_fragment)
			break; /* what follows is not a header */
	}
	p->proto = nh;
	*l4 = h;
	return DECODE_OK;
}

static enum decode_status decode_ipv6(struct pkt *p)
{
	const uint8_t *ip = p->frame + p->l3_off, *l4, *end;
	enum decode_status st;
	size_t plen;

	if (p->len - p->l3_off < IPV6_HLEN)
		return DECODE_TRUNCATED;
	if (ip[0] >> 4 != 6)
		return DECODE_MALFORMED;
	p->family = AF_INET6;
	plen = be16_at(ip + 4);
	p->ip_len = plen ? (uint32_t)plen + IPV6_HLEN : 0;
	p->ttl = ip[7];
	memcpy(p->src, ip + 8, 16);
	memcpy(p->dst, ip + 24, 16);
	end = ip_end(p, p->ip_len);
	l4 = ip + IPV6_HLEN;
	st = ipv6_walk(p, ip[6], &l4, end);
	if (st != DECODE_OK)
		return st;
	return decode_l4(p, l4, end);
}

enum decode_status decode_frame(const uint8_t *frame, size_t len, struct pkt *p)
{
	size_t off = ETH_HLEN;

	memset(p, 0, sizeof(*p));
	p->frame = frame;
	p->len = len;
	p->wire_len = len;
	if (len < ETH_HLEN)
		return DECODE_TRUNCATED;
	p->eth_dst = frame;
	p->eth_src = frame + 6;
	p->ethertype = be16_at(frame + 12);
	for (int i = 0;
	     i < MAX_VLAN_TAGS && (p->ethertype == ETH_P_8021Q || p->ethertype == ETH_P_8021AD);
	     i++) {
		if (len < off + 4)
			return DECODE_TRUNCATED;
		p->ethertype = be16_at(frame + off + 2);
		off += 4;
	}
	p->l3_off = (uint16_t)off;
	switch (p->ethertype) {
	case ETH_P_IP:
		return decode_ipv4(p);
	case ETH_P_IPV6:
		return decode_ipv6(p);
	default:
		return DECODE_NOT_IP;
	}
}

const char *decode_status_name(enum decode_status s)
{
	static const char *const names[] = {
		[DECODE_OK] = "ok",
		[DECODE_NOT_IP] = "not_ip",
		[DECODE_TRUNCATED] = "truncated",
		[DECODE_MALFORMED] = "malformed",
		[DECODE_OTHER_L4] = "other_l4",
	};

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}
