// SPDX-License-Identifier: Apache-2.0
/*
 * dp/flow/decode.c: frames into packets; truncated and lying headers, IPv6
 * extension headers, VLAN tags.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "frame_util.h"
#include "dp/flow/decode.h"

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

int main(void)
{
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("decode");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_decode_tcp4);
	tcase_add_test(tc, test_decode_truncated_everywhere);
	tcase_add_test(tc, test_decode_lies);
	tcase_add_test(tc, test_decode_gso_length_zero);
	tcase_add_test(tc, test_decode_ipv6_ext_headers);
	tcase_add_test(tc, test_decode_not_ip_and_vlan);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
