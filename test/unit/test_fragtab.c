// SPDX-License-Identifier: Apache-2.0
/* dp/flow/fragtab.c: fragment verdicts kept, their time, and a spray of first fragments. */
#include <check.h>
#include <stdio.h>

#include "frame_util.h"
#include "dp/flow/fragtab.h"
#include "dp/flow/session.h"

#define SEC 1000000000ULL

/* A fragment of UDP datagram id from src to 10.0.0.2: first (offset 0) or not, more or not. */
static void frag4(struct pkt *p, const char *src, uint16_t id, bool first, bool more)
{
	static struct frame f;
	uint8_t *ip;

	udp4(&f, src, 5000, "10.0.0.2", 53, NULL, 64);
	ip = f.b + 14;
	put16(ip + 4, id);
	put16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | (first ? 0 : 100)));
	ck_assert_int_eq(decode_frame(f.b, f.len, p), DECODE_OK);
	ck_assert(p->fragment);
}

START_TEST(test_fragtab_verdicts_and_time)
{
	struct fragtab *t = fragtab_new();
	struct pkt p;

	ck_assert_ptr_nonnull(t);
	frag4(&p, "10.0.0.9", 1, true, true);
	ck_assert(!fragtab_remember(t, &p, VERDICT_ALLOW, 1 * SEC));
	frag4(&p, "10.0.0.9", 2, true, true);
	fragtab_remember(t, &p, VERDICT_DENY, 1 * SEC);
	frag4(&p, "10.0.0.9", 1, false, true);
	ck_assert_int_eq(fragtab_lookup(t, &p, 2 * SEC), VERDICT_ALLOW);
	frag4(&p, "10.0.0.9", 2, false, false);
	ck_assert_int_eq(fragtab_lookup(t, &p, 2 * SEC), VERDICT_DENY);
	/* another source, the same id: another datagram */
	frag4(&p, "10.0.0.8", 1, false, true);
	ck_assert_int_eq(fragtab_lookup(t, &p, 2 * SEC), -1);
	/* 30 s after the first fragment, as Linux reassembles */
	frag4(&p, "10.0.0.9", 1, false, true);
	ck_assert_int_eq(fragtab_lookup(t, &p, 31 * SEC), VERDICT_ALLOW);
	ck_assert_int_eq(fragtab_lookup(t, &p, 31 * SEC + 1), -1);
	fragtab_free(t);
}
END_TEST

/*
 * An attacker sprays first fragments between a datagram's first and later
 * fragments.  1024 of them in the old direct-mapped table of 1024 slots
 * lost a datagram with probability 1 - (1 - 1/1024)^1024 = 63%, each of
 * ten datagrams here; now a datagram goes only when eight of them land in
 * its own set: about 1.4e-5 each.
 */
START_TEST(test_fragtab_spray)
{
	struct fragtab *t = fragtab_new();
	unsigned lost = 0, evicted = 0;
	uint64_t now = 1 * SEC;
	char src[32];
	struct pkt p;

	for (uint16_t d = 0; d < 10; d++) {
		frag4(&p, "10.0.0.9", (uint16_t)(100 + d), true, true);
		fragtab_remember(t, &p, VERDICT_ALLOW, now++);
		for (unsigned i = 0; i < 1024; i++) {
			snprintf(src, sizeof(src), "10.%u.%u.%u", d, i / 256, i % 256);
			frag4(&p, src, (uint16_t)i, true, true);
			evicted += fragtab_remember(t, &p, VERDICT_ALLOW, now++);
		}
		frag4(&p, "10.0.0.9", (uint16_t)(100 + d), false, false);
		lost += fragtab_lookup(t, &p, now) != VERDICT_ALLOW;
	}
	ck_assert_uint_eq(lost, 0);
	ck_assert_uint_gt(evicted, 0); /* 10250 first fragments in 8192 entries */
	fragtab_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fragtab");
	TCase *tc = tcase_create("fragtab");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_fragtab_verdicts_and_time);
	tcase_add_test(tc, test_fragtab_spray);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
