/* SPDX-License-Identifier: Apache-2.0 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/claim.h"
#include "lib/core/naming.h"
#include "lib/core/state.h"

static char dir[64];

static const unsigned char MAC_A[6] = { 0x02, 0x70, 0x11, 0x22, 0x33, 0x44 };
static const unsigned char MAC_B[6] = { 0x02, 0x70, 0xaa, 0xbb, 0xcc, 0xdd };

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	strcpy(dir, "/tmp/pc-claim-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	ck_assert_int_eq(nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

/* The record of namespace ino, holding one port for each of macs. */
static void save_rec(unsigned long ino, const unsigned char (*macs)[6], size_t n)
{
	struct state_rec *rec = calloc(1, sizeof(*rec));

	ck_assert_ptr_nonnull(rec);
	rec->ns_ino = ino;
	snprintf(rec->ns_path, sizeof(rec->ns_path), "/run/netns/c%lu", ino);
	rec->pid = 100;
	rec->mode = MODE_FWD;
	strcpy(rec->backend, "bpf");
	ck_assert_int_eq(state_set_ports(rec, n), 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(rec->ports[i].name, IFNAMSIZ, "eth%zu", i);
		snprintf(rec->ports[i].ex_name, IFNAMSIZ, "vex100-%zu", i);
		snprintf(rec->ports[i].in_name, IFNAMSIZ, "vin100-%zu", i);
		strcpy(rec->ports[i].kind, "veth");
		strcpy(rec->ports[i].mac, "02:42:ac:11:00:02");
		naming_mac_str(macs[i], rec->ports[i].ucmac);
	}
	ck_assert_int_eq(state_save(dir, rec), 0);
	state_rec_free(rec);
	free(rec);
}

/* The record a claim names, 0 when there is no claim. */
static unsigned long claim_owner(const unsigned char mac[6])
{
	char path[PATH_MAX], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/claims/ucmac-%02x%02x%02x%02x%02x%02x", dir, mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5]);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return state_record_ino(target);
}

static int claims_in(const char *sub)
{
	char cmd[PATH_MAX];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A %s/%s 2>/dev/null | wc -l", dir, sub);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

START_TEST(test_take_once)
{
	save_rec(11, &MAC_A, 1);
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_A, 11), 0);
	ck_assert_uint_eq(claim_owner(MAC_A), 11);
	/* its own again: fine; another namespace: taken while 11's record holds it */
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_A, 11), 0);
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_A, 12), -EEXIST);
	ck_assert_uint_eq(claim_owner(MAC_A), 11);
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_B, 12), 0);
	ck_assert_uint_eq(claim_owner(MAC_B), 12);
}
END_TEST

START_TEST(test_stale_taken_over)
{
	/* 21 claimed and died before its record; 22's record no longer holds A */
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_A, 21), 0);
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_A, 23), 0);
	ck_assert_uint_eq(claim_owner(MAC_A), 23);
	save_rec(22, &MAC_B, 1);
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_B, 22), 0);
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_B, 24), -EEXIST);
	save_rec(22, NULL, 0);
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_B, 24), 0);
	ck_assert_uint_eq(claim_owner(MAC_B), 24);
}
END_TEST

START_TEST(test_drop)
{
	static const unsigned char both[2][6] = { { 0x02, 0x70, 0x11, 0x22, 0x33, 0x44 },
						  { 0x02, 0x70, 0xaa, 0xbb, 0xcc, 0xdd } };

	save_rec(31, both, 2);
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_A, 31), 0);
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_B, 31), 0);
	/* someone else's drop leaves the claim */
	ck_assert_int_eq(claim_ucmac_drop(dir, MAC_A, 32), 0);
	ck_assert_uint_eq(claim_owner(MAC_A), 31);
	ck_assert_int_eq(claim_ucmac_drop(dir, MAC_A, 31), 0);
	ck_assert_uint_eq(claim_owner(MAC_A), 0);
	ck_assert_int_eq(claim_ucmac_drop(dir, MAC_A, 31), 0); /* gone counts as done */
	ck_assert_int_eq(claim_drop_ino(dir, 31), 0);
	ck_assert_uint_eq(claim_owner(MAC_B), 0);
	ck_assert_int_eq(claims_in("claims"), 0);
}
END_TEST

START_TEST(test_sweep)
{
	save_rec(41, &MAC_A, 1);
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_A, 41), 0);
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_B, 42), 0); /* no record: stale */
	ck_assert_int_eq(claim_sweep(dir), 1);
	ck_assert_uint_eq(claim_owner(MAC_A), 41);
	ck_assert_uint_eq(claim_owner(MAC_B), 0);
	ck_assert_int_eq(claim_sweep(dir), 0);
}
END_TEST

START_TEST(test_records_before_claims)
{
	char path[PATH_MAX];

	/* records of a version without claims, and a claims.new/ cut short */
	save_rec(51, &MAC_A, 1);
	save_rec(52, &MAC_B, 1);
	snprintf(path, sizeof(path), "%s/claims.new", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/claims.new/ucmac-027011223344", dir);
	ck_assert_int_eq(symlink("netns-99.json", path), 0);
	/* the first claim claims theirs first */
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_A, 53), -EEXIST);
	ck_assert_uint_eq(claim_owner(MAC_A), 51);
	ck_assert_uint_eq(claim_owner(MAC_B), 52);
	ck_assert_int_eq(claims_in("claims.new"), 0);
	ck_assert_int_eq(claims_in("claims"), 2);
}
END_TEST

START_TEST(test_remove_all)
{
	int lock;

	save_rec(61, &MAC_A, 1);
	ck_assert_int_eq(claim_ucmac_take(dir, MAC_A, 61), 0);
	ck_assert_int_eq(state_remove(dir, 61), 0);
	/* the state folder goes whole, claims included */
	lock = state_lock(dir);
	ck_assert_int_ge(lock, 0);
	ck_assert_int_eq(state_dir_remove(dir), 0);
	state_unlock(lock);
	ck_assert_int_eq(access(dir, F_OK), -1);
	ck_assert_int_eq(mkdir(dir, 0700), 0); /* for teardown */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("claim");
	TCase *tc = tcase_create("claims");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_take_once);
	tcase_add_test(tc, test_stale_taken_over);
	tcase_add_test(tc, test_drop);
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_records_before_claims);
	tcase_add_test(tc, test_remove_all);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
