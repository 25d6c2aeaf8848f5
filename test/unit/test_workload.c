// SPDX-License-Identifier: Apache-2.0
/* dp/flow/workload.c: workloads loaded from state records, looked up by UCMAC and address. */
#include <arpa/inet.h>
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp/flow/workload.h"
#include "lib/core/naming.h"

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
		ck_assert_int_eq(state_set_ports(&rec, 1), 0);
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

/*
 * A pod's record: the sandbox names the pod, its first container the
 * container; the workload goes by every container's names.
 */
START_TEST(test_workloads_pod)
{
	char dir[] = "/tmp/pc-wl-XXXXXX";
	struct state_ctr sb = { .pid = 70, .sandbox = true }, c1 = { .pid = 71 },
			 c2 = { .pid = 72 };
	struct workloads *w;
	struct state_rec rec = { .ns_ino = 9, .mode = MODE_FWD };
	uint8_t mac[6];
	const struct workload *p;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(state_set_ports(&rec, 1), 0);
	snprintf(rec.ports[0].name, sizeof(rec.ports[0].name), "eth0");
	snprintf(rec.ports[0].ucmac, sizeof(rec.ports[0].ucmac), "02:70:00:00:01:09");
	snprintf(sb.id, sizeof(sb.id), "sandbox9");
	snprintf(sb.k8s_pod, sizeof(sb.k8s_pod), "web-0");
	snprintf(sb.k8s_namespace, sizeof(sb.k8s_namespace), "shop");
	snprintf(sb.group, sizeof(sb.group), "web");
	snprintf(sb.name, sizeof(sb.name), "web-0");
	snprintf(c1.name, sizeof(c1.name), "k8s_nginx");
	snprintf(c2.name, sizeof(c2.name), "sidecar");
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
	/* every container's name, once; not the sandbox's (the pod's name) */
	ck_assert_uint_eq(p->ctr->n_names, 3);
	ck_assert_str_eq(p->ctr->names[0], "k8s_nginx");
	ck_assert_str_eq(p->ctr->names[1], "nginx");
	ck_assert_str_eq(p->ctr->names[2], "sidecar");
	workloads_free(w);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("workload");
	TCase *tc = tcase_create("workload");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_workloads_lookups);
	tcase_add_test(tc, test_workloads_pod);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
