// SPDX-License-Identifier: Apache-2.0
/* TCP resets for denied sessions. */
#include <arpa/inet.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "rst.h"

#define ETH_HLEN 14
#define TCP_HLEN 20

static void wr16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void wr32(uint8_t *b, uint32_t v)
{
	wr16(b, (uint16_t)(v >> 16));
	wr16(b + 2, (uint16_t)v);
}

static uint32_t csum_add(uint32_t sum, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void tcp_fill(const struct pkt *p, bool to_sender, uint8_t *t)
{
	uint32_t seq = 0, ack = 0;
	uint8_t flags = TCPF_RST;

	memset(t, 0, TCP_HLEN);
	wr16(t, to_sender ? p->dport : p->sport);
	wr16(t + 2, to_sender ? p->sport : p->dport);
	if (!to_sender) {
		/* in p's place: its sequence number is what the receiver expects */
		seq = p->seq;
	} else if (p->tcp_flags & TCPF_ACK) {
		seq = p->ack;
	} else {
		ack = p->seq + (uint32_t)p->payload_len + !!(p->tcp_flags & TCPF_SYN) +
		      !!(p->tcp_flags & TCPF_FIN);
		flags |= TCPF_ACK;
	}
	wr32(t + 4, seq);
	wr32(t + 8, ack);
	t[12] = (TCP_HLEN / 4) << 4;
	t[13] = flags;
}

static size_t ip_fill(const struct pkt *p, bool to_sender, uint8_t *ip, uint32_t *pseudo)
{
	const uint8_t *src = to_sender ? p->dst : p->src, *dst = to_sender ? p->src : p->dst;
	size_t alen = p->family == AF_INET ? 4 : 16;

	*pseudo = csum_add(0, src, alen);
	*pseudo = csum_add(*pseudo, dst, alen);
	*pseudo += IPPROTO_TCP + TCP_HLEN;
	if (p->family == AF_INET) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		wr16(ip + 2, 20 + TCP_HLEN);
		wr16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		wr16(ip + 10, csum_fold(csum_add(0, ip, 20)));
		return 20;
	}
	memset(ip, 0, 40);
	ip[0] = 0x60;
	wr16(ip + 4, TCP_HLEN);
	ip[6] = IPPROTO_TCP;
	ip[7] = 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	return 40;
}

size_t rst_build(const struct pkt *p, bool to_sender, uint8_t *out, size_t cap)
{
	const size_t vlen = sizeof(struct virtio_net_hdr);
	uint8_t *eth = out + vlen, *ip = eth + ETH_HLEN, *tcp;
	uint32_t pseudo;
	size_t iplen;

	if (p->proto != IPPROTO_TCP || p->l3_off != ETH_HLEN || (p->tcp_flags & TCPF_RST) ||
	    cap < vlen + ETH_HLEN + 40 + TCP_HLEN || (p->fragment && !p->first_fragment))
		return 0;
	memset(out, 0, vlen);
	memcpy(eth, to_sender ? p->eth_src : p->eth_dst, 6);
	memcpy(eth + 6, to_sender ? p->eth_dst : p->eth_src, 6);
	wr16(eth + 12, p->family == AF_INET ? 0x0800 : 0x86dd);
	iplen = ip_fill(p, to_sender, ip, &pseudo);
	tcp = ip + iplen;
	tcp_fill(p, to_sender, tcp);
	wr16(tcp + 16, csum_fold(csum_add(pseudo, tcp, TCP_HLEN)));
	return vlen + ETH_HLEN + iplen + TCP_HLEN;
}
