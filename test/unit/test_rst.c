// SPDX-License-Identifier: Apache-2.0
/* dp/io/rst.c: the TCP resets sent both ways, their checksums, what gets none. */
#include <check.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "frame_util.h"
#include "dp/flow/decode.h"
#include "dp/io/rst.h"

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

int main(void)
{
	Suite *s = suite_create("rst");
	TCase *tc = tcase_create("rst");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_rst_frames);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
