// SPDX-License-Identifier: Apache-2.0
/* The pull journal: what is written is what is read back, and nothing else is taken for one. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#include "lib/core/err.h"
#include "lib/pull/journal.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/pc-journal-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct nl_object *make_addr(const char *local, int ifindex)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *l;

	ck_assert_int_eq(nl_addr_parse(local, AF_UNSPEC, &l), 0);
	rtnl_addr_set_local(a, l);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, nl_addr_get_family(l));
	rtnl_addr_set_prefixlen(a, nl_addr_get_prefixlen(l));
	rtnl_addr_set_label(a, "eth0");
	rtnl_addr_set_scope(a, RT_SCOPE_UNIVERSE); /* as the kernel lists it */
	nl_addr_put(l);
	return (struct nl_object *)a;
}

static struct nl_object *make_route(const char *dst, const char *gw, int ifindex, uint32_t table)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *d, *g;

	ck_assert_int_eq(nl_addr_parse(dst, AF_INET, &d), 0);
	ck_assert_int_eq(nl_addr_parse(gw, AF_INET, &g), 0);
	rtnl_route_set_family(r, AF_INET);
	rtnl_route_set_dst(r, d);
	rtnl_route_set_table(r, table);
	rtnl_route_set_protocol(r, RTPROT_BOOT);
	rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
	rtnl_route_set_type(r, RTN_UNICAST);
	rtnl_route_set_priority(r, 100);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_nh_set_gateway(nh, g);
	rtnl_route_add_nexthop(r, nh);
	nl_addr_put(d);
	nl_addr_put(g);
	return (struct nl_object *)r;
}

static struct nl_object *make_neigh(const char *ip, const char *mac, int ifindex)
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *d, *l;

	ck_assert_int_eq(nl_addr_parse(ip, AF_INET, &d), 0);
	ck_assert_int_eq(nl_addr_parse(mac, AF_LLC, &l), 0);
	rtnl_neigh_set_dst(n, d);
	rtnl_neigh_set_lladdr(n, l);
	rtnl_neigh_set_ifindex(n, ifindex);
	rtnl_neigh_set_state(n, NUD_PERMANENT);
	rtnl_neigh_set_family(n, AF_INET);
	nl_addr_put(d);
	nl_addr_put(l);
	return (struct nl_object *)n;
}

static void make_port(struct journal_port *jp)
{
	struct port_snapshot *s = &jp->snap;

	memset(jp, 0, sizeof(*jp));
	strcpy(jp->ex_name, "vex42-0");
	strcpy(jp->in_name, "vin42-0");
	memcpy(jp->ucmac, "\x02\x70\x01\x02\x03\x04", 6);
	jp->ex_ifindex = 11;
	jp->in_ifindex = 12;
	jp->new_ifindex = 7;
	strcpy(s->name, "eth0");
	strcpy(s->kind, "veth");
	s->ifindex = 7;
	s->mtu = 1480;
	s->devconf.n = 1;
	s->devconf.e[0].family = '6';
	strcpy(s->devconf.e[0].name, "accept_dad");
	strcpy(s->devconf.e[0].value, "1");
	s->n_addrs = 2;
	s->addrs = calloc(2, sizeof(*s->addrs));
	s->addrs[0] = make_addr("10.88.0.5/16", 7);
	s->addrs[1] = make_addr("fd00:88::5/64", 7);
	s->n_routes = 1;
	s->routes = calloc(1, sizeof(*s->routes));
	s->routes[0] = make_route("10.99.0.0/16", "10.88.0.1", 7, 254);
	s->n_neighs = 1;
	s->neighs = calloc(1, sizeof(*s->neighs));
	s->neighs[0] = make_neigh("10.88.0.9", "02:00:00:00:00:09", 7);
}

static void assert_same_objs(struct nl_object **a, struct nl_object **b, size_t n)
{
	char sa[512], sb[512];

	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(nl_object_get_type(a[i]), nl_object_get_type(b[i]));
		nl_object_dump_buf(a[i], sa, sizeof(sa));
		nl_object_dump_buf(b[i], sb, sizeof(sb));
		ck_assert_str_eq(sa, sb);
	}
}

START_TEST(test_roundtrip)
{
	struct journal_port jp[2];
	struct journal j = { .ns_ino = 4026532001UL, .mode = 3, .n = 2, .ports = jp }, back;
	char path[PATH_MAX];

	strcpy(j.ns_path, "/proc/42/ns/net");
	make_port(&jp[0]);
	make_port(&jp[1]);
	strcpy(jp[1].snap.name, "eth1");
	ck_assert_int_eq(journal_write(dir, &j), 0);
	ck_assert_int_eq(journal_path(dir, j.ns_ino, path, sizeof(path)), 0);
	ck_assert_int_eq(journal_read(path, &back), 0);
	ck_assert_uint_eq(back.ns_ino, j.ns_ino);
	ck_assert_str_eq(back.ns_path, j.ns_path);
	ck_assert_int_eq(back.mode, 3);
	ck_assert_uint_eq(back.n, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct journal_port *a = &jp[i], *b = &back.ports[i];

		ck_assert_str_eq(b->ex_name, a->ex_name);
		ck_assert_str_eq(b->in_name, a->in_name);
		ck_assert_mem_eq(b->ucmac, a->ucmac, 6);
		ck_assert_int_eq(b->in_ifindex, 12);
		ck_assert_str_eq(b->snap.name, a->snap.name);
		ck_assert_uint_eq(b->snap.mtu, 1480);
		ck_assert_str_eq(b->snap.devconf.e[0].name, "accept_dad");
		ck_assert_uint_eq(b->snap.n_addrs, 2);
		ck_assert_uint_eq(b->snap.n_routes, 1);
		ck_assert_uint_eq(b->snap.n_neighs, 1);
		assert_same_objs(a->snap.addrs, b->snap.addrs, 2);
		assert_same_objs(a->snap.routes, b->snap.routes, 1);
		assert_same_objs(a->snap.neighs, b->snap.neighs, 1);
	}
	journal_free(&back);
	snapshot_free(&jp[0].snap);
	snapshot_free(&jp[1].snap);
}
END_TEST

START_TEST(test_list_and_remove)
{
	struct journal j = { .ns_ino = 77, .n = 0 };
	char path[PATH_MAX], **paths;
	size_t n;
	FILE *f;

	ck_assert_int_eq(journal_list(dir, &paths, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(paths);
	ck_assert_int_eq(journal_write(dir, &j), 0);
	/* look-alikes are not journals */
	snprintf(path, sizeof(path), "%s/pull-78.journal.tmp", dir);
	f = fopen(path, "w");
	fclose(f);
	snprintf(path, sizeof(path), "%s/netns-77.json", dir);
	f = fopen(path, "w");
	fclose(f);
	ck_assert_int_eq(journal_list(dir, &paths, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(paths[0], "/pull-77.journal"));
	free(paths[0]);
	free(paths);
	ck_assert_int_eq(journal_remove(dir, 77), 0);
	ck_assert_int_eq(journal_remove(dir, 77), 0); /* gone counts as removed */
	ck_assert_int_eq(journal_list(dir, &paths, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(paths);
}
END_TEST

/* A file that is not this build's journal: refused with a line that says so. */
static void expect_refused(const void *bytes, size_t len, const char *why)
{
	char path[PATH_MAX];
	struct journal j;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pull-5.journal", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(bytes, 1, len, f);
	fclose(f);
	ck_assert_int_lt(journal_read(path, &j), 0);
	ck_assert_msg(strstr(err_msg(), why), "'%s' lacks '%s'", err_msg(), why);
	ck_assert_ptr_null(j.ports);
}

START_TEST(test_refused)
{
	struct journal_port jp;
	struct journal j = { .ns_ino = 5, .n = 1, .ports = &jp };
	char path[PATH_MAX], *buf;
	size_t len;
	FILE *f;

	expect_refused("", 0, "not a journal");
	expect_refused("{\"netns_inode\": 5}", 18, "not a journal");
	make_port(&jp);
	ck_assert_int_eq(journal_write(dir, &j), 0);
	snapshot_free(&jp.snap);
	snprintf(path, sizeof(path), "%s/pull-5.journal", dir);
	f = fopen(path, "r");
	buf = malloc(1 << 20);
	len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	/* every truncation is refused, never half-read */
	for (size_t cut = 0; cut < len; cut += 97)
		expect_refused(buf, cut, cut < 8 ? "not a journal" : "journal");
	/* another layout */
	buf[8] ^= 0x40;
	expect_refused(buf, len, "written by another build");
	free(buf);
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("journal");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_list_and_remove);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(journal_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
