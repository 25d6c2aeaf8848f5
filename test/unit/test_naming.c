/* SPDX-License-Identifier: Apache-2.0 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/err.h"
#include "lib/core/naming.h"

static const unsigned sample_pids[] = {
	1,     2,      9,      10,	11,	 35,	  36,	   99,	    100,   101,
	999,   1000,   1295,   1296,	9999,	 10000,	  12345,   32767,   32768, 65535,
	99999, 100000, 999999, 1000000, 2097152, 4194302, 4194303, 4194304,
};
#define N_PIDS (sizeof(sample_pids) / sizeof(sample_pids[0]))

/* An independent decoder of the documented shape; -1 when it does not fit. */
static int decode(const char *name, const char *prefix, unsigned *pid, unsigned *ord, unsigned *gen)
{
	static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	const char *p = name + strlen(prefix), *dash = strchr(p, '-'), *dot;
	char *end;

	if (strncmp(name, prefix, strlen(prefix)) != 0 || !dash)
		return -1;
	*pid = (unsigned)strtoul(p, &end, 10);
	if (end != dash)
		return -1;
	dot = strchr(dash, '.');
	*ord = 0;
	for (p = dash + 1; *p && p != dot; p++)
		*ord = *ord * 36 + (unsigned)(strchr(b36, *p) - b36);
	*gen = dot ? (unsigned)(strchr(b36, dot[1]) - b36) : 0;
	return 0;
}

/*
 * naming_port() then naming_is_port() and decode(): the name must fit, be
 * recognised and give back the inputs.  Plain ifs: this runs ~10^6 times
 * and every ck_assert costs a message to the parent in fork mode.
 */
static void check_one(const char *prefix, unsigned pid, unsigned ord, unsigned gen)
{
	unsigned dp, dord, dgen;
	char name[IFNAMSIZ];

	if (naming_port(name, prefix, pid, ord, gen) != 0)
		ck_abort_msg("naming_port(%s, %u, %u, %u) failed: %s", prefix, pid, ord, gen,
			     err_msg());
	if (strlen(name) >= IFNAMSIZ || !naming_is_port(name, prefix))
		ck_abort_msg("%s not recognised", name);
	if (decode(name, prefix, &dp, &dord, &dgen) < 0 || dp != pid || dord != ord || dgen != gen)
		ck_abort_msg("%s does not decode to %u/%u/%u", name, pid, ord, gen);
}

START_TEST(test_examples)
{
	char name[IFNAMSIZ];

	ck_assert_int_eq(naming_port(name, NAMING_EX_PREFIX, 42, 0, 0), 0);
	ck_assert_str_eq(name, "vex42-0");
	ck_assert_int_eq(naming_port(name, NAMING_IN_PREFIX, 42, 1, 0), 0);
	ck_assert_str_eq(name, "vin42-1");
	ck_assert_int_eq(naming_port(name, NAMING_EX_PREFIX, 1, 35, 1), 0);
	ck_assert_str_eq(name, "vex1-z.1");
	ck_assert_int_eq(naming_port(name, NAMING_EX_PREFIX, 1, 36, 10), 0);
	ck_assert_str_eq(name, "vex1-10.a");
	ck_assert_int_eq(naming_port(name, NAMING_EX_PREFIX, NAMING_MAX_PID, NAMING_MAX_ORDINAL,
				     NAMING_MAX_GEN),
			 0);
	ck_assert_str_eq(name, "vex4194304-zz.z");
	ck_assert_uint_eq(strlen(name), IFNAMSIZ - 1);
	ck_assert_int_eq(naming_port(name, NAMING_IN_PREFIX, NAMING_MAX_PID, NAMING_MAX_ORDINAL,
				     NAMING_MAX_GEN),
			 0);
	ck_assert_str_eq(name, "vin4194304-zz.z");
}
END_TEST

START_TEST(test_out_of_range)
{
	char name[IFNAMSIZ];

	ck_assert_int_eq(naming_port(name, "vex", 0, 0, 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "pid 0 is out of range"));
	ck_assert_str_eq(name, "");
	ck_assert_int_eq(naming_port(name, "vex", NAMING_MAX_PID + 1, 0, 0), -EINVAL);
	ck_assert_int_eq(naming_port(name, "vex", 1, NAMING_MAX_ORDINAL + 1, 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "ordinal 1296"));
	ck_assert_int_eq(naming_port(name, "vex", 1, 0, NAMING_MAX_GEN + 1), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "generation 36"));
	ck_assert_int_eq(naming_port(name, NULL, 1, 0, 0), -EINVAL);
	ck_assert_int_eq(naming_port(name, "", 1, 0, 0), -EINVAL);
	ck_assert_int_eq(naming_port(name, "VEX", 1, 0, 0), -EINVAL);
	ck_assert_int_eq(naming_port(name, "v3", 1, 0, 0), -EINVAL);
	/* a longer prefix fits for small pids only */
	ck_assert_int_eq(naming_port(name, "vexx", 1, 0, 0), 0);
	ck_assert_str_eq(name, "vexx1-0");
	ck_assert_int_eq(naming_port(name, "vexx", NAMING_MAX_PID, NAMING_MAX_ORDINAL, 1), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "leaves no room"));
	ck_assert_str_eq(name, "");
}
END_TEST

/* Every ordinal and generation with every sample pid: shape, length, round trip. */
START_TEST(test_roundtrip_all_ordinals_gens)
{
	for (size_t i = 0; i < N_PIDS; i++)
		for (unsigned ord = 0; ord <= NAMING_MAX_ORDINAL; ord += (i % 3) ? 7 : 1)
			for (unsigned gen = 0; gen <= NAMING_MAX_GEN; gen++)
				check_one(i & 1 ? NAMING_IN_PREFIX : NAMING_EX_PREFIX,
					  sample_pids[i], ord, gen);
	check_one(NAMING_EX_PREFIX, NAMING_MAX_PID, NAMING_MAX_ORDINAL, NAMING_MAX_GEN);
}
END_TEST

/* A sweep over the whole pid range, extremes and every digit-count boundary. */
START_TEST(test_pid_sweep)
{
	for (unsigned pid = 1; pid <= NAMING_MAX_PID; pid += 997)
		check_one(NAMING_EX_PREFIX, pid, pid % (NAMING_MAX_ORDINAL + 1),
			  pid % (NAMING_MAX_GEN + 1));
	for (unsigned p10 = 1; p10 <= 1000000; p10 *= 10) {
		check_one(NAMING_EX_PREFIX, p10, NAMING_MAX_ORDINAL, NAMING_MAX_GEN);
		if (p10 > 1)
			check_one(NAMING_IN_PREFIX, p10 - 1, NAMING_MAX_ORDINAL, NAMING_MAX_GEN);
	}
}
END_TEST

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Distinct inputs give distinct names. */
START_TEST(test_injective)
{
	static const unsigned gens[] = { 0, 1, 9, 10, 35 };
	size_t n = 0, cap = N_PIDS * (NAMING_MAX_ORDINAL + 1) * 5;
	char(*names)[IFNAMSIZ] = calloc(cap, IFNAMSIZ);

	ck_assert_ptr_nonnull(names);
	for (size_t i = 0; i < N_PIDS; i++)
		for (unsigned ord = 0; ord <= NAMING_MAX_ORDINAL; ord++)
			for (size_t g = 0; g < 5; g++)
				if (naming_port(names[n++], NAMING_EX_PREFIX, sample_pids[i], ord,
						gens[g]) < 0)
					ck_abort_msg("naming_port: %s", err_msg());
	ck_assert_uint_eq(n, cap);
	qsort(names, n, IFNAMSIZ, cmp_name);
	for (size_t i = 1; i < n; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			ck_abort_msg("duplicate name %s", names[i]);
	free(names);
}
END_TEST

START_TEST(test_is_port_rejects)
{
	static const char *const bad[] = {
		"",
		"vex",
		"vex-0",
		"vex0-0",
		"vex01-0",
		"vex4194305-0",
		"vex12345678-0",
		"vex99999999999999999999-0",
		"vex1-",
		"vex1-00",
		"vex1-0a",
		"vex1-zzz",
		"vex1-0.",
		"vex1-0.0",
		"vex1-0.10",
		"vex1-A",
		"vex1-0.Z",
		"vex1-0 ",
		" vex1-0",
		"xvex1-0",
		"vex+1-0",
		"vex 1-0",
		"vex1-0.-",
		"vex1--0",
		"vex1-0-0",
		"vex1.0-0",
		"eth0",
		"vin1-0",
		"VEX1-0",
		"vex4194304-zz.zz",
		"vex1-0.1x",
		"vex1-_",
		"vex-1-0",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!naming_is_port(bad[i], NAMING_EX_PREFIX), "\"%s\" accepted", bad[i]);
	ck_assert(!naming_is_port(NULL, NAMING_EX_PREFIX));
	ck_assert(!naming_is_port("vex1-0", NULL));
	ck_assert(!naming_is_port("vex1-0", ""));
	ck_assert(!naming_is_port("vex1-0", "ve"));
}
END_TEST

START_TEST(test_is_port_accepts)
{
	static const char *const good[] = {
		"vex1-0", "vex9-z", "vex10-10", "vex4194304-zz.z", "vex123-a0.1", "vex7-zz",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(naming_is_port(good[i], NAMING_EX_PREFIX), "\"%s\" rejected",
			      good[i]);
		ck_assert_msg(!naming_is_port(good[i], NAMING_IN_PREFIX), "\"%s\" is vin", good[i]);
	}
	ck_assert(naming_is_port("vin1-0", NAMING_IN_PREFIX));
}
END_TEST

/* UCMACs are 02:70 and 32 random bits, never one already taken. */
START_TEST(test_ucmac_random_and_free)
{
	unsigned char taken[64][6], mac[6];
	size_t distinct = 0;

	for (size_t i = 0; i < 64; i++) {
		ck_assert_int_eq(naming_ucmac((const unsigned char(*)[6])taken, i, taken[i]), 0);
		ck_assert_int_eq(taken[i][0], 0x02);
		ck_assert_int_eq(taken[i][1], 0x70);
		for (size_t j = 0; j < i; j++)
			ck_assert_mem_ne(taken[i], taken[j], 6);
	}
	/* not a sequence an observer of one could continue: the low bits vary */
	for (size_t i = 1; i < 64; i++)
		distinct += memcmp(taken[i] + 2, taken[i - 1] + 2, 4) != 0 &&
			    (taken[i][5] - taken[i - 1][5]) != 1;
	ck_assert_uint_ge(distinct, 60);
	ck_assert_int_eq(naming_ucmac((const unsigned char(*)[6])taken, 64, mac), 0);
	for (size_t j = 0; j < 64; j++)
		ck_assert_mem_ne(mac, taken[j], 6);
}
END_TEST

static Suite *naming_suite(void)
{
	Suite *s = suite_create("naming");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_examples);
	tcase_add_test(tc, test_out_of_range);
	tcase_add_test(tc, test_roundtrip_all_ordinals_gens);
	tcase_add_test(tc, test_pid_sweep);
	tcase_add_test(tc, test_injective);
	tcase_add_test(tc, test_is_port_rejects);
	tcase_add_test(tc, test_is_port_accepts);
	tcase_add_test(tc, test_ucmac_random_and_free);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(naming_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
