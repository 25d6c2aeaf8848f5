// SPDX-License-Identifier: Apache-2.0
/* dp/flow/bypass.c: the kernel's session bypass keys of a session, IPv4 and IPv6. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "frame_util.h"
#include "dp/flow/bypass.h"
#include "dp/flow/decode.h"
#include "dp/flow/session.h"

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

int main(void)
{
	Suite *s = suite_create("bypass");
	TCase *tc = tcase_create("bypass");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_bypass_keys);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
