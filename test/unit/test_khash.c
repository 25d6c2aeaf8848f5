// SPDX-License-Identifier: Apache-2.0
/* lib/core/khash: SipHash against its reference vectors, and the keys. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "lib/core/khash.h"

/* SipHash-2-4, key 00..0f, message 00..n-1 (the paper's and the reference's vectors) */
START_TEST(test_khash_siphash24_vectors)
{
	const struct khash_key key = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	uint8_t msg[16];

	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	ck_assert_uint_eq(khash_sip(&key, msg, 0, 2, 4), 0x726fdb47dd0e0e31ULL);
	ck_assert_uint_eq(khash_sip(&key, msg, 1, 2, 4), 0x74f839c593dc67fdULL);
	ck_assert_uint_eq(khash_sip(&key, msg, 15, 2, 4), 0xa129ca6149be45e5ULL);
}
END_TEST

/* SipHash-1-3 with the zero key: what CPython's hash() of bytes gives with PYTHONHASHSEED=0 */
START_TEST(test_khash_siphash13_vectors)
{
	const struct khash_key zero = { 0, 0 };

	ck_assert_uint_eq(khash(&zero, "abc", 3), 0xc03bc3a0042630f2ULL);
	ck_assert_uint_eq(khash(&zero, "0123456789abcdef", 16), 0x1d42b30f7e060c24ULL);
	ck_assert_uint_eq(khash(&zero, "hello world, portcullis", 23), 0xf6e6f43ef57f2132ULL);
}
END_TEST

START_TEST(test_khash_keys_differ)
{
	struct khash_key a, b;

	ck_assert_int_eq(khash_key_init(&a), 0);
	ck_assert_int_eq(khash_key_init(&b), 0);
	ck_assert(a.k0 != b.k0 || a.k1 != b.k1);
	/* the same bytes hash apart under two keys */
	ck_assert_uint_ne(khash(&a, "10.0.0.1", 8), khash(&b, "10.0.0.1", 8));
	ck_assert_uint_eq(khash(&a, "10.0.0.1", 8), khash(&a, "10.0.0.1", 8));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("khash");
	TCase *tc = tcase_create("khash");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_khash_siphash24_vectors);
	tcase_add_test(tc, test_khash_siphash13_vectors);
	tcase_add_test(tc, test_khash_keys_differ);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
