// SPDX-License-Identifier: Apache-2.0
/* Decoder, sessions, ring walk, resets, session log and pcap reading. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame_util.h"
#include "dp/flow/bypass.h"
#include "dp/flow/decode.h"
#include "dp/flow/session.h"
#include "dp/flow/slog.h"
#include "dp/flow/workload.h"
#include "dp/io/pcap.h"
#include "dp/io/ring.h"
#include "dp/io/rst.h"
#include "lib/core/naming.h"

static const uint8_t MAC_A[6] = { 0x02, 0x70, 1, 2, 3, 4 };
static const uint8_t MAC_B[6] = { 0x0a, 0x58, 9, 9, 9, 9 };

/* ---- a tiny frame builder ---- */

static void eth(struct frame *f, uint16_t type)
{
	memcpy(f->b, MAC_B, 6);
	memcpy(f->b + 6, MAC_A, 6);
	put16(f->b + 12, type);
	f->len = 14;
}

/* IPv4 + TCP from src:sport to dst:dport with payload. */
static void tcp4(struct frame *f, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		 uint8_t flags, uint32_t seq, uint32_t ack, const char *payload)
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

static void udp6(struct frame *f, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		 uint8_t first_nh, const uint8_t *ext, size_t ext_len, size_t plen)
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
	memcpy(ip + 40, ext, ext_len);
	u = ip + 40 + ext_len;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + plen));
	memset(u + 8, 'x', plen);
	f->len = 14 + 40 + ext_len + 8 + plen;
}

/* ---- decode ---- */

START_TEST(test_decode_tcp4)
{
	struct frame f;
	struct pkt p;
	uint8_t want[4];

	tcp4(&f, "10.0.0.3", 40312, "10.0.0.2", 80, TCPF_ACK | TCPF_PSH, 7, 9,
	     "GET / HTTP/1.1\r\n");
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_OK);
	ck_assert_int_eq(p.family, AF_INET);
	ck_assert_int_eq(p.proto, IPPROTO_TCP);
	inet_pton(AF_INET, "10.0.0.3", want);
	ck_assert_mem_eq(p.src, want, 4);
	ck_assert_uint_eq(p.sport, 40312);
	ck_assert_uint_eq(p.dport, 80);
	ck_assert_uint_eq(p.seq, 7);
	ck_assert_uint_eq(p.ack, 9);
	ck_assert_uint_eq(p.payload_len, 16);
	ck_assert_mem_eq(p.payload, "GET / HTTP/1.1\r\n", 16);
	ck_assert_mem_eq(p.eth_src, MAC_A, 6);
}
END_TEST

START_TEST(test_decode_truncated_everywhere)
{
	struct frame f;
	struct pkt p;

	tcp4(&f, "10.0.0.3", 1, "10.0.0.2", 2, TCPF_SYN, 0, 0, NULL);
	/* every cut inside the headers is truncated, never read past */
	for (size_t n = 0; n < 14 + 40; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, f.b, n);
		ck_assert_int_eq(decode_frame(copy, n, &p), DECODE_TRUNCATED);
		free(copy);
	}
}
END_TEST

START_TEST(test_decode_lies)
{
	struct frame f;
	struct pkt p;

	tcp4(&f, "10.0.0.3", 1, "10.0.0.2", 2, TCPF_SYN, 0, 0, NULL);
	f.b[14] = 0x44; /* IHL 16 bytes */
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_MALFORMED);
	tcp4(&f, "10.0.0.3", 1, "10.0.0.2", 2, TCPF_SYN, 0, 0, NULL);
	f.b[14 + 20 + 12] = 0x40; /* TCP data offset 16 bytes */
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_MALFORMED);
	tcp4(&f, "10.0.0.3", 1, "10.0.0.2", 2, TCPF_SYN, 0, 0, NULL);
	f.b[14 + 20 + 12] = 0xf0; /* 60 bytes of TCP header, 20 present */
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_TRUNCATED);
	tcp4(&f, "10.0.0.3", 1, "10.0.0.2", 2, TCPF_SYN, 0, 0, "abc");
	put16(f.b + 16, 10); /* total length shorter than the header */
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_MALFORMED);
}
END_TEST

START_TEST(test_decode_gso_length_zero)
{
	struct frame f;
	struct pkt p;

	/* a GSO super-frame may carry 0 in the IP length: the frame decides */
	tcp4(&f, "10.0.0.3", 1, "10.0.0.2", 2, TCPF_ACK, 0, 0, "0123456789");
	put16(f.b + 16, 0);
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, 10);
	/* ethernet padding after a short packet is not payload */
	tcp4(&f, "10.0.0.3", 1, "10.0.0.2", 2, TCPF_ACK, 0, 0, NULL);
	f.len = 60;
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, 0);
}
END_TEST

START_TEST(test_decode_ipv6_ext_headers)
{
	uint8_t ext[64] = { 0 };
	struct frame f;
	struct pkt p;

	/* hop-by-hop (8 bytes) then destination options (8 bytes) then UDP */
	ext[0] = IPPROTO_DSTOPTS;
	ext[8] = IPPROTO_UDP;
	udp6(&f, "fd00::3", 5353, "fd00::2", 53, IPPROTO_HOPOPTS, ext, 16, 12);
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_OK);
	ck_assert_int_eq(p.proto, IPPROTO_UDP);
	ck_assert_uint_eq(p.dport, 53);
	ck_assert_uint_eq(p.payload_len, 12);

	/* a chain longer than the bound is malformed, not walked forever */
	for (int i = 0; i < 8; i++)
		ext[i * 8] = IPPROTO_DSTOPTS, ext[i * 8 + 1] = 0;
	udp6(&f, "fd00::3", 1, "fd00::2", 2, IPPROTO_DSTOPTS, ext, 64, 0);
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_MALFORMED);

	/* a later fragment: no transport header to read */
	memset(ext, 0, sizeof(ext));
	ext[0] = IPPROTO_UDP;
	put16(ext + 2, 1448 | 1);
	put32(ext + 4, 0xabcd);
	udp6(&f, "fd00::3", 1, "fd00::2", 2, IPPROTO_FRAGMENT, ext, 8, 0);
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_OK);
	ck_assert(p.fragment && !p.first_fragment && p.more_fragments);
	ck_assert_uint_eq(p.frag_id, 0xabcd);
	ck_assert_uint_eq(p.sport, 0);
}
END_TEST

START_TEST(test_decode_not_ip_and_vlan)
{
	struct frame f;
	struct pkt p;

	eth(&f, 0x0806);
	f.len = 42;
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_NOT_IP);
	/* the same TCP frame behind an 802.1Q tag */
	tcp4(&f, "10.0.0.3", 1, "10.0.0.2", 2, TCPF_SYN, 0, 0, NULL);
	memmove(f.b + 16, f.b + 12, f.len - 12);
	put16(f.b + 12, 0x8100);
	put16(f.b + 14, 7);
	f.len += 4;
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_OK);
	ck_assert_uint_eq(p.l3_off, 18);
	ck_assert_uint_eq(p.dport, 2);
}
END_TEST

/* ---- sessions ---- */

static struct session *feed(struct session_table *t, const struct frame *f, uint64_t now,
			    bool *from_client)
{
	struct flow_key k;
	struct session *s;
	struct pkt p;
	bool a;

	ck_assert_int_eq(decode_frame(f->b, f->len, &p), DECODE_OK);
	ck_assert(session_key(&p, 0, &k, &a));
	s = session_lookup(t, &k);
	if (!s)
		s = session_create(t, &k, a, &p, now);
	if (!s)
		return NULL;
	*from_client = session_from_client(s, a);
	session_update(t, s, &p, *from_client, now);
	return s;
}

static int ended;
static void count_done(struct session *s, void *arg)
{
	ended++;
}

START_TEST(test_session_tcp_lifecycle)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session *s, *s2;
	struct frame f;
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(16, &to);
	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 80, TCPF_SYN, 100, 0, NULL);
	s = feed(t, &f, 1, &fc);
	ck_assert(fc);
	ck_assert_int_eq(s->tcp_state, TS_SYN_SENT);
	tcp4(&f, "10.0.0.2", 80, "10.0.0.3", 40000, TCPF_SYN | TCPF_ACK, 500, 101, NULL);
	s2 = feed(t, &f, 2, &fc);
	ck_assert_ptr_eq(s, s2); /* one entry for both directions */
	ck_assert(!fc);
	ck_assert_int_eq(s->tcp_state, TS_SYN_RECV);
	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 80, TCPF_ACK, 101, 501, NULL);
	feed(t, &f, 3, &fc);
	ck_assert_int_eq(s->tcp_state, TS_ESTABLISHED);
	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 80, TCPF_ACK | TCPF_FIN, 101, 501, NULL);
	feed(t, &f, 4, &fc);
	ck_assert_int_eq(s->tcp_state, TS_FIN_WAIT);
	tcp4(&f, "10.0.0.2", 80, "10.0.0.3", 40000, TCPF_ACK | TCPF_FIN, 501, 102, NULL);
	feed(t, &f, 5, &fc);
	ck_assert_int_eq(s->tcp_state, TS_CLOSING);
	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 80, TCPF_ACK, 102, 502, NULL);
	feed(t, &f, 6, &fc);
	ck_assert_int_eq(s->tcp_state, TS_CLOSED);
	ck_assert_uint_eq(s->pkts[0], 4);
	ck_assert_uint_eq(s->pkts[1], 2);
	/* closed sessions go after 5 s, not an hour */
	ended = 0;
	ck_assert_uint_eq(session_expire(t, 6 + 4000000000ULL, NULL, count_done, NULL), 0);
	ck_assert_uint_eq(session_expire(t, 6 + 5000000000ULL, NULL, count_done, NULL), 1);
	ck_assert_int_eq(ended, 1);
	session_table_free(t, NULL, NULL);
}
END_TEST

/* A session the kernel forwarded for (session bypass) is asked before it expires. */
static uint64_t seen_at;
static struct session *seen_only;
static uint64_t seen_elsewhere(struct session *s, void *arg)
{
	(void)arg;
	return s == seen_only ? seen_at : 0;
}

START_TEST(test_session_seen_elsewhere)
{
	const uint64_t sec = 1000000000ULL;
	struct session *s1, *s2;
	struct session_timeouts to;
	struct session_table *t;
	struct flow_key k1;
	struct frame f;
	bool fc;

	session_timeouts_default(&to); /* UDP: 60 s */
	t = session_table_new(16, &to);
	udp6(&f, "2001:db8::1", 5000, "2001:db8::2", 53, 17, NULL, 0, 8);
	s1 = feed(t, &f, 1 * sec, &fc);
	udp6(&f, "2001:db8::3", 5000, "2001:db8::2", 53, 17, NULL, 0, 8);
	s2 = feed(t, &f, 2 * sec, &fc);
	ck_assert_ptr_nonnull(s1);
	ck_assert_ptr_nonnull(s2);
	k1 = s1->key;
	/* s1 idle to us, but the kernel forwarded a frame of it at 50 s: it stays */
	seen_only = s1;
	seen_at = 50 * sec;
	ended = 0;
	ck_assert_uint_eq(session_expire(t, 70 * sec, seen_elsewhere, count_done, NULL), 1);
	ck_assert_int_eq(ended, 1); /* s2 went */
	ck_assert_ptr_eq(session_lookup(t, &k1), s1);
	ck_assert_uint_eq(s1->last_ns, 50 * sec);
	/* an answer older than the timeout does not save it */
	ck_assert_uint_eq(session_expire(t, 111 * sec, seen_elsewhere, count_done, NULL), 1);
	ck_assert_int_eq(ended, 2);
	ck_assert_ptr_null(session_lookup(t, &k1));
	session_table_free(t, NULL, NULL);
}
END_TEST

START_TEST(test_session_pickup_and_rst)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session *s;
	struct frame f;
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(16, &to);
	/* mid-stream, server to client first: the lower port is the server */
	tcp4(&f, "10.0.0.2", 443, "10.0.0.3", 51000, TCPF_ACK, 1, 1, "data");
	s = feed(t, &f, 1, &fc);
	ck_assert(s->picked_up);
	ck_assert(!fc);
	ck_assert_int_eq(s->tcp_state, TS_ESTABLISHED);
	tcp4(&f, "10.0.0.3", 51000, "10.0.0.2", 443, TCPF_RST, 1, 0, NULL);
	feed(t, &f, 2, &fc);
	ck_assert(fc);
	ck_assert_int_eq(s->tcp_state, TS_CLOSED);
	session_table_free(t, NULL, NULL);
}
END_TEST

START_TEST(test_session_bound_and_recycle)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session_stats st;
	struct frame f;
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(3, &to);
	for (int i = 0; i < 5; i++) {
		tcp4(&f, "10.0.0.3", (uint16_t)(1000 + i), "10.0.0.2", 80, TCPF_SYN, 0, 0, NULL);
		if (i < 3)
			ck_assert_ptr_nonnull(feed(t, &f, 1, &fc));
		else
			ck_assert_ptr_null(feed(t, &f, 1, &fc));
	}
	session_stats(t, &st);
	ck_assert_uint_eq(st.live, 3);
	ck_assert_uint_eq(st.table_full, 2);
	/* opening sessions expire after 30 s; their entries come back */
	ck_assert_uint_eq(session_expire(t, 31000000000ULL, NULL, NULL, NULL), 3);
	tcp4(&f, "10.0.0.3", 2000, "10.0.0.2", 80, TCPF_SYN, 0, 0, NULL);
	ck_assert_ptr_nonnull(feed(t, &f, 32000000000ULL, &fc));
	session_stats(t, &st);
	ck_assert_uint_eq(st.live, 1);
	session_table_free(t, NULL, NULL);
}
END_TEST

START_TEST(test_session_many)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session_stats st;
	struct frame f;
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(20000, &to);
	for (int i = 0; i < 20000; i++) {
		udp6(&f, "fd00::1", (uint16_t)(i + 1024), "fd00::2", 53, IPPROTO_UDP, NULL, 0, 4);
		ck_assert_ptr_nonnull(feed(t, &f, 1, &fc));
	}
	session_stats(t, &st);
	ck_assert_uint_eq(st.live, 20000);
	ended = 0;
	session_table_free(t, count_done, NULL);
	ck_assert_int_eq(ended, 20000);
}
END_TEST

/* ---- ring walk over a synthetic TPACKET_V3 block ---- */

struct walked {
	unsigned n;
	uint32_t lens[8];
	bool copy[8];
};

static void on_frame(const struct ring_frame *f, void *arg)
{
	struct walked *w = arg;

	w->copy[w->n] = f->copy;
	w->lens[w->n++] = f->len;
	ck_assert_ptr_eq(f->vnet + sizeof(struct virtio_net_hdr), f->data);
}

START_TEST(test_ring_walk)
{
	static uint8_t block[8192] __attribute__((aligned(8)));
	struct tpacket_block_desc *b = (void *)block;
	size_t off = 64, hdr = sizeof(struct tpacket3_hdr);
	struct tpacket3_hdr *h1, *h2;
	struct walked w = { 0 };

	memset(block, 0, sizeof(block));
	b->hdr.bh1.num_pkts = 3;
	b->hdr.bh1.offset_to_first_pkt = (uint32_t)off;
	for (int i = 0; i < 3; i++) {
		struct tpacket3_hdr *h = (void *)(block + off);

		h->tp_mac = (uint16_t)(hdr + 16 + sizeof(struct virtio_net_hdr));
		h->tp_snaplen = h->tp_len = (uint32_t)(60 + i);
		h->tp_next_offset = i == 2 ? 0 : 512;
		off += 512;
	}
	/* frame 1 carries the copy tag, frame 2 another VLAN tag */
	h1 = (void *)(block + 64 + 512);
	h1->tp_status = TP_STATUS_USER | TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID;
	h1->hv1.tp_vlan_tci = PC_COPY_VID;
	h1->hv1.tp_vlan_tpid = PC_COPY_TPID;
	h2 = (void *)(block + 64 + 1024);
	h2->tp_status = TP_STATUS_USER | TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID;
	h2->hv1.tp_vlan_tci = PC_COPY_VID;
	h2->hv1.tp_vlan_tpid = 0x8100;
	ck_assert_uint_eq(ring_walk(b, sizeof(block), sizeof(struct virtio_net_hdr), on_frame, &w),
			  3);
	ck_assert_uint_eq(w.lens[2], 62);
	ck_assert(!w.copy[0] && w.copy[1] && !w.copy[2]);
	h2->hv1.tp_vlan_tpid = PC_COPY_TPID;
	h2->hv1.tp_vlan_tci = 100;
	memset(&w, 0, sizeof(w));
	ring_walk(b, sizeof(block), sizeof(struct virtio_net_hdr), on_frame, &w);
	ck_assert(!w.copy[2]);

	/* a frame claiming to run past the block ends the walk there */
	((struct tpacket3_hdr *)(block + 64 + 512))->tp_snaplen = 100000;
	memset(&w, 0, sizeof(w));
	ck_assert_uint_eq(ring_walk(b, sizeof(block), sizeof(struct virtio_net_hdr), on_frame, &w),
			  1);
	/* a next offset out of the block too */
	((struct tpacket3_hdr *)(block + 64 + 512))->tp_snaplen = 61;
	((struct tpacket3_hdr *)(block + 64))->tp_next_offset = 9000;
	memset(&w, 0, sizeof(w));
	ck_assert_uint_eq(ring_walk(b, sizeof(block), sizeof(struct virtio_net_hdr), on_frame, &w),
			  1);
}
END_TEST

/* ---- session bypass keys ---- */

START_TEST(test_bypass_keys)
{
	static const uint8_t uc[6] = { 0x02, 0x70, 0x63, 0, 0, 7 };
	struct pc_flow_key out[2];
	struct flow_key k;
	struct frame f;
	bool p_is_a;
	struct pkt p;

	/* 10.0.0.2:40000 -> 10.0.0.1:80: a is the lower address, 10.0.0.1:80 */
	tcp4(&f, "10.0.0.2", 40000, "10.0.0.1", 80, TCPF_ACK, 1, 1, NULL);
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_OK);
	ck_assert(session_key(&p, 9, &k, &p_is_a));
	ck_assert(!p_is_a);
	bypass_keys(&k, uc, out);
	ck_assert_mem_eq(out[0].ucmac, uc, 6);
	ck_assert_uint_eq(out[0].family, 4);
	ck_assert_uint_eq(out[0].proto, IPPROTO_TCP);
	/* [1] is b -> a: the frame's own direction, ports in network order */
	ck_assert_uint_eq(out[1].sport, htons(40000));
	ck_assert_uint_eq(out[1].dport, htons(80));
	ck_assert_mem_eq(out[1].saddr, p.src, 4);
	ck_assert_mem_eq(out[1].daddr, p.dst, 4);
	ck_assert_uint_eq(out[0].sport, htons(80));
	ck_assert_mem_eq(out[0].saddr, p.dst, 4);
	for (int i = 4; i < 16; i++)
		ck_assert(out[0].saddr[i] == 0 && out[0].daddr[i] == 0 && out[1].saddr[i] == 0);

	udp6(&f, "fd00::1", 5353, "fd00::2", 53, IPPROTO_UDP, NULL, 0, 4);
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_OK);
	ck_assert(session_key(&p, 9, &k, &p_is_a));
	bypass_keys(&k, uc, out);
	ck_assert_uint_eq(out[0].family, 6);
	ck_assert_uint_eq(out[0].proto, IPPROTO_UDP);
	ck_assert_mem_eq(out[0].saddr, p.src, 16);
	ck_assert_mem_eq(out[0].daddr, p.dst, 16);
	ck_assert_uint_eq(out[0].dport, htons(53));
}
END_TEST

/* ---- resets ---- */

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t sum(const uint8_t *b, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	return s;
}

START_TEST(test_rst_frames)
{
	uint8_t out[RST_FRAME_MAX];
	size_t v = sizeof(struct virtio_net_hdr), n;
	struct frame f;
	struct pkt p, r;

	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 5432, TCPF_ACK | TCPF_PSH, 1000, 2000, "hello");
	ck_assert_int_eq(decode_frame(f.b, f.len, &p), DECODE_OK);

	n = rst_build(&p, true, out, sizeof(out));
	ck_assert_uint_eq(n, v + 54);
	ck_assert_int_eq(decode_frame(out + v, n - v, &r), DECODE_OK);
	ck_assert_mem_eq(r.eth_dst, MAC_A, 6); /* back to the sender's MAC */
	ck_assert_mem_eq(r.src, p.dst, 4);
	ck_assert_uint_eq(r.dport, 40000);
	ck_assert_uint_eq(r.tcp_flags, TCPF_RST);
	ck_assert_uint_eq(r.seq, 2000);
	ck_assert_uint_eq(fold(sum(out + v + 14, 20)), 0xffff); /* IPv4 header checksum */

	n = rst_build(&p, false, out, sizeof(out));
	ck_assert_int_eq(decode_frame(out + v, n - v, &r), DECODE_OK);
	ck_assert_mem_eq(r.eth_src, MAC_A, 6);
	ck_assert_uint_eq(r.dport, 5432);
	ck_assert_uint_eq(r.seq, 1000);
	/* TCP checksum with the pseudo header */
	{
		uint32_t s = sum(out + v + 14 + 12, 8) + IPPROTO_TCP + 20 + sum(out + v + 34, 20);

		ck_assert_uint_eq(fold(s), 0xffff);
	}

	/* a SYN without ACK gets RST+ACK acknowledging it */
	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 5432, TCPF_SYN, 77, 0, NULL);
	decode_frame(f.b, f.len, &p);
	n = rst_build(&p, true, out, sizeof(out));
	decode_frame(out + v, n - v, &r);
	ck_assert_uint_eq(r.tcp_flags, TCPF_RST | TCPF_ACK);
	ck_assert_uint_eq(r.ack, 78);
	/* nobody answers a reset */
	tcp4(&f, "10.0.0.3", 40000, "10.0.0.2", 5432, TCPF_RST, 77, 0, NULL);
	decode_frame(f.b, f.len, &p);
	ck_assert_uint_eq(rst_build(&p, true, out, sizeof(out)), 0);
}
END_TEST

/* ---- session log ---- */

START_TEST(test_slog_line)
{
	struct session_timeouts to;
	struct session_table *t;
	struct session *s;
	struct frame f;
	char line[SLOG_LINE_MAX];
	bool fc;

	session_timeouts_default(&to);
	t = session_table_new(4, &to);
	tcp4(&f, "10.0.0.3", 40312, "10.0.0.2", 80, TCPF_SYN, 0, 0, NULL);
	s = feed(t, &f, 1, &fc);
	tcp4(&f, "10.0.0.2", 80, "10.0.0.3", 40312, TCPF_SYN | TCPF_ACK, 0, 1, NULL);
	feed(t, &f, 2, &fc);
	s->verdict = VERDICT_ALLOW;
	s->app.app = APP_TLS;
	s->sni = strdup("a.example\"\n");
	slog_format(s, SLOG_SESSION, NULL, line, sizeof(line));
	ck_assert_str_eq(line, "{\"transport\":\"tcp\",\"src\":\"10.0.0.3\",\"sport\":40312,"
			       "\"dst\":\"10.0.0.2\",\"dport\":80,\"app\":\"tls\","
			       "\"sni\":\"a.example\\\"\\u000a\",\"packets\":2,\"bytes\":108,"
			       "\"verdict\":\"allow\",\"rule\":0,\"event\":\"session\","
			       "\"client_packets\":1,\"client_bytes\":54,\"server_packets\":1,"
			       "\"server_bytes\":54,\"tcp_state\":\"syn_recv\"}\n");
	/* a small buffer cuts the line but keeps it terminated */
	ck_assert_uint_lt(slog_format(s, SLOG_SESSION, NULL, line, 40), 40);
	ck_assert_int_eq(line[strlen(line) - 1], '\n');
	session_table_free(t, NULL, NULL);
}
END_TEST

/* ---- pcap ---- */

static void write_pcap(const char *path, bool swapped, uint32_t linktype, int records)
{
	FILE *fp = fopen(path, "wb");
	uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, linktype };
	struct frame f;

	tcp4(&f, "10.0.0.3", 1, "10.0.0.2", 2, TCPF_SYN, 0, 0, NULL);
	if (swapped)
		for (int i = 0; i < 6; i++)
			hdr[i] = __builtin_bswap32(hdr[i]);
	fwrite(hdr, sizeof(hdr), 1, fp);
	for (int i = 0; i < records; i++) {
		uint32_t rec[4] = { 100u + (uint32_t)i, 5, (uint32_t)f.len, (uint32_t)f.len };

		if (swapped)
			for (int j = 0; j < 4; j++)
				rec[j] = __builtin_bswap32(rec[j]);
		fwrite(rec, sizeof(rec), 1, fp);
		fwrite(f.b, f.len, 1, fp);
	}
	fclose(fp);
}

START_TEST(test_pcap_read)
{
	char path[] = "/tmp/pc-pcap-XXXXXX";
	struct pcap_reader *r;
	const uint8_t *d;
	size_t len;
	uint64_t ts;
	int fd = mkstemp(path);

	close(fd);
	for (int swapped = 0; swapped < 2; swapped++) {
		write_pcap(path, swapped, 1, 2);
		ck_assert_int_eq(pcap_open(path, &r), 0);
		ck_assert_int_eq(pcap_next(r, &d, &len, &ts), 1);
		ck_assert_uint_eq(len, 54);
		ck_assert_uint_eq(ts, 100000005000ULL);
		ck_assert_int_eq(pcap_next(r, &d, &len, &ts), 1);
		ck_assert_int_eq(pcap_next(r, &d, &len, &ts), 0);
		pcap_close(r);
	}
	write_pcap(path, false, 113, 1); /* Linux cooked capture */
	ck_assert_int_eq(pcap_open(path, &r), -EINVAL);
	/* a record cut short is an error naming it */
	write_pcap(path, false, 1, 2);
	ck_assert_int_eq(truncate(path, 24 + 16 + 54 + 16 + 10), 0);
	ck_assert_int_eq(pcap_open(path, &r), 0);
	ck_assert_int_eq(pcap_next(r, &d, &len, &ts), 1);
	ck_assert_int_eq(pcap_next(r, &d, &len, &ts), -EINVAL);
	pcap_close(r);
	unlink(path);
}
END_TEST

/* ---- workloads from state records ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

START_TEST(test_workloads_lookups)
{
	char dir[] = "/tmp/pc-wl-XXXXXX";
	struct workloads *w;
	struct state_rec rec;
	struct state_ctr ctr = { .pid = 7 };
	uint8_t mac[6], a4[16] = { 0 }, a6[16], other[16] = { 0 };
	const struct workload *p;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (unsigned long ino = 1; ino <= 3; ino++) {
		memset(&rec, 0, sizeof(rec));
		rec.ns_ino = ino;
		rec.mode = ino == 3 ? MODE_TAP : MODE_FWD;
		rec.n_ports = 1;
		snprintf(rec.ports[0].name, sizeof(rec.ports[0].name), "eth0");
		snprintf(rec.ports[0].ucmac, sizeof(rec.ports[0].ucmac), "02:70:00:00:00:%02lx",
			 ino);
		rec.ports[0].n_addrs = 2;
		snprintf(rec.ports[0].addrs[0], STATE_ADDR_STR, "10.0.0.%lu/24", ino);
		snprintf(rec.ports[0].addrs[1], STATE_ADDR_STR, "fd00::%lu/64", ino);
		snprintf(ctr.id, sizeof(ctr.id), "ctr%lu", ino);
		snprintf(ctr.group, sizeof(ctr.group), "g%lu", ino);
		ck_assert_int_eq(state_add_ctr(&rec, &ctr), 0);
		ck_assert_int_eq(state_save(dir, &rec), 0);
		state_rec_free(&rec);
	}
	ck_assert_int_eq(workloads_load(dir, &w), 0);
	ck_assert_uint_eq(w->n, 3);
	ck_assert_uint_eq(w->n_addrs, 6);

	ck_assert_int_eq(naming_mac_parse("02:70:00:00:00:03", mac), 0);
	p = workloads_by_ucmac(w, mac);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->ctr->id, "ctr3");
	ck_assert_int_eq(p->mode, MODE_TAP);
	mac[0] = 0x06; /* not a UCMAC */
	ck_assert_ptr_null(workloads_by_ucmac(w, mac));

	inet_pton(AF_INET, "10.0.0.2", a4);
	p = workloads_by_addr(w, AF_INET, a4);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->ctr->group, "g2");
	inet_pton(AF_INET6, "fd00::1", a6);
	p = workloads_by_addr(w, AF_INET6, a6);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->ctr->id, "ctr1");
	inet_pton(AF_INET, "10.0.0.9", other);
	ck_assert_ptr_null(workloads_by_addr(w, AF_INET, other));
	/* the same bytes as another family are not that address */
	ck_assert_ptr_null(workloads_by_addr(w, AF_INET6, a4));
	workloads_free(w);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}
END_TEST

/* A pod's record: the sandbox names the pod, its first container the container. */
START_TEST(test_workloads_pod)
{
	char dir[] = "/tmp/pc-wl-XXXXXX";
	struct state_ctr sb = { .pid = 70, .sandbox = true }, c1 = { .pid = 71 },
			 c2 = { .pid = 72 };
	struct workloads *w;
	struct state_rec rec = { .ns_ino = 9, .mode = MODE_FWD, .n_ports = 1 };
	uint8_t mac[6];
	const struct workload *p;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(rec.ports[0].name, sizeof(rec.ports[0].name), "eth0");
	snprintf(rec.ports[0].ucmac, sizeof(rec.ports[0].ucmac), "02:70:00:00:01:09");
	snprintf(sb.id, sizeof(sb.id), "sandbox9");
	snprintf(sb.k8s_pod, sizeof(sb.k8s_pod), "web-0");
	snprintf(sb.k8s_namespace, sizeof(sb.k8s_namespace), "shop");
	snprintf(sb.group, sizeof(sb.group), "web");
	snprintf(c1.id, sizeof(c1.id), "ctr-a");
	snprintf(c1.k8s_container, sizeof(c1.k8s_container), "nginx");
	snprintf(c2.id, sizeof(c2.id), "ctr-b");
	snprintf(c2.k8s_container, sizeof(c2.k8s_container), "sidecar");
	ck_assert_int_eq(state_add_ctr(&rec, &sb), 0);
	ck_assert_int_eq(state_add_ctr(&rec, &c1), 0);
	ck_assert_int_eq(state_add_ctr(&rec, &c2), 0);
	ck_assert_int_eq(state_save(dir, &rec), 0);
	state_rec_free(&rec);
	ck_assert_int_eq(workloads_load(dir, &w), 0);
	ck_assert_int_eq(naming_mac_parse("02:70:00:00:01:09", mac), 0);
	p = workloads_by_ucmac(w, mac);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->ctr->id, "sandbox9");
	ck_assert_str_eq(p->ctr->k8s_pod, "web-0");
	ck_assert_str_eq(p->ctr->k8s_namespace, "shop");
	ck_assert_str_eq(p->ctr->k8s_container, "nginx");
	ck_assert_str_eq(p->ctr->group, "web");
	workloads_free(w);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dp_core");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_decode_tcp4);
	tcase_add_test(tc, test_decode_truncated_everywhere);
	tcase_add_test(tc, test_decode_lies);
	tcase_add_test(tc, test_decode_gso_length_zero);
	tcase_add_test(tc, test_decode_ipv6_ext_headers);
	tcase_add_test(tc, test_decode_not_ip_and_vlan);
	tcase_add_test(tc, test_session_tcp_lifecycle);
	tcase_add_test(tc, test_session_pickup_and_rst);
	tcase_add_test(tc, test_session_seen_elsewhere);
	tcase_add_test(tc, test_session_bound_and_recycle);
	tcase_add_test(tc, test_session_many);
	tcase_add_test(tc, test_ring_walk);
	tcase_add_test(tc, test_bypass_keys);
	tcase_add_test(tc, test_workloads_pod);
	tcase_add_test(tc, test_rst_frames);
	tcase_add_test(tc, test_slog_line);
	tcase_add_test(tc, test_pcap_read);
	tcase_add_test(tc, test_workloads_lookups);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
