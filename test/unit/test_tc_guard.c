/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tc-pedit backend's checks (lib/dpath/tc_guard.c): the knodes of a
 * port, run over frames as u32 runs them (the first knode whose keys all
 * match decides; a key past the end of the frame does not match), must
 * give what the bpf backend's checks give.  The QEMU guest plays the same
 * frames against the kernel's u32 (test_dpath_guard.sh).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "lib/dpath/bpf/dpath_common.h"
#include "lib/dpath/tc_guard.h"

static const uint8_t CTR[6] = { 0x02, 0x42, 0x0a, 0, 0, 2 };
static const uint8_t UCMAC[6] = { 0x0e, 0x91, 0x5c, 0x33, 0x7a, 0x01 };
static const uint8_t OTHER[6] = { 0x02, 0x66, 0x66, 0x66, 0x66, 0x66 };
static const uint8_t PEER_MAC[6] = { 0x02, 0x42, 0x0a, 0, 0, 3 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ALLNODES[6] = { 0x33, 0x33, 0, 0, 0, 1 };

#define OWN4 "10.0.0.2"
#define OWN6 "fd00::2"
#define OWN_LL "fe80::2"

static struct dpath_port port;
static struct tcg_knode knodes[TCG_MAX_KNODES];
static int n_knodes;

static void add_addr(int family, const char *s)
{
	struct dpath_addr *a = &port.addrs[port.n_addrs++];

	a->family = family;
	ck_assert_int_eq(inet_pton(family, s, a->addr), 1);
}

static void build(enum pc_source_check sc, enum tcg_side side)
{
	memset(&port, 0, sizeof(port));
	memcpy(port.ctr_mac, CTR, 6);
	memcpy(port.ucmac, UCMAC, 6);
	add_addr(AF_INET, OWN4);
	add_addr(AF_INET6, OWN6);
	add_addr(AF_INET6, OWN_LL);
	n_knodes = tcg_knodes(&port, sc, side, knodes, TCG_MAX_KNODES);
	ck_assert_int_gt(n_knodes, 0);
}

/*
 * What u32 does with frame f (Ethernet header first): TCG_* << 8 | why, or
 * UNCLASSIFIED: no knode matched, or a key read past the frame's end,
 * which ends the whole filter (u32_classify's "goto out").  u32 may read
 * the two bytes before the Ethernet header (the word of the destination
 * MAC's first two bytes): here they are 0xa5.  An IPv6 frame's payload
 * length is set here from its size.
 */
#define UNCLASSIFIED 0

static int classify(const uint8_t *frame, size_t len)
{
	uint8_t buf[2 + 512];
	uint8_t *f = buf + 2;

	ck_assert_uint_le(len, 512);
	buf[0] = buf[1] = 0xa5;
	memcpy(f, frame, len);
	if (len >= 54 && f[12] == 0x86 && f[13] == 0xdd) {
		f[18] = (uint8_t)((len - 54) >> 8);
		f[19] = (uint8_t)(len - 54);
	}
	for (int i = 0; i < n_knodes; i++) {
		const struct tcg_knode *k = &knodes[i];
		int j;

		for (j = 0; j < k->nkeys; j++) {
			long at = 14 + k->keys[j].off;
			uint32_t w;

			if (at < -2 || at + 4 > (long)len)
				return UNCLASSIFIED;
			memcpy(&w, f + at, 4);
			if ((w ^ k->keys[j].val) & k->keys[j].mask)
				break;
		}
		if (j == k->nkeys)
			return (int)k->kind << 8 | (k->kind == TCG_DROP ? k->why : 0);
	}
	return UNCLASSIFIED;
}

#define MODE (TCG_MODE << 8)
#define PEER (TCG_PEER << 8)
#define DROP(why) (TCG_DROP << 8 | (why))

/* ---- frames ---- */

struct frame {
	uint8_t b[512];
	size_t len;
};

static void put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void put8(struct frame *f, uint8_t v)
{
	put(f, &v, 1);
}

static void put16(struct frame *f, uint16_t v)
{
	uint16_t n = htons(v);

	put(f, &n, 2);
}

static void eth(struct frame *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	f->len = 0;
	put(f, dst, 6);
	put(f, src, 6);
	put16(f, type);
}

static void addr(struct frame *f, int family, const char *s)
{
	uint8_t a[16];

	ck_assert_int_eq(inet_pton(family, s, a), 1);
	put(f, a, family == AF_INET ? 4 : 16);
}

static void udp4(struct frame *f, const uint8_t *dst, const uint8_t *src, const char *sa,
		 const char *da, uint16_t sport, uint16_t dport)
{
	static const uint8_t head[12] = { 0x45, 0, 0, 36, 0, 1, 0, 0, 64, 17, 0, 0 };

	eth(f, dst, src, 0x0800);
	put(f, head, sizeof(head));
	addr(f, AF_INET, sa);
	addr(f, AF_INET, da);
	put16(f, sport);
	put16(f, dport);
	put16(f, 16);
	put16(f, 0);
	put(f, "payload!", 8);
}

static void arp(struct frame *f, const uint8_t *src, const uint8_t *sha, const char *spa)
{
	static const uint8_t head[8] = { 0, 1, 8, 0, 6, 4, 0, 2 };

	eth(f, BCAST, src, 0x0806);
	put(f, head, sizeof(head));
	put(f, sha, 6);
	addr(f, AF_INET, spa);
	put(f, BCAST, 6);
	addr(f, AF_INET, spa);
}

/* IPv6 from src at MAC smac, next header nh, to dst at dmac; the payload follows. */
static void ip6(struct frame *f, const uint8_t *dmac, const uint8_t *smac, const char *src,
		const char *dst, uint8_t nh)
{
	static const uint8_t head[4] = { 0x60, 0, 0, 0 };

	eth(f, dmac, smac, 0x86dd);
	put(f, head, 4);
	put16(f, 32);
	put8(f, nh);
	put8(f, 255);
	addr(f, AF_INET6, src);
	addr(f, AF_INET6, dst);
}

static void hbh(struct frame *f, uint8_t next)
{
	static const uint8_t ra[6] = { 5, 2, 0, 0, 1, 0 }; /* router alert, PadN */

	put8(f, next);
	put8(f, 0);
	put(f, ra, sizeof(ra));
}

static void icmp6(struct frame *f, uint8_t type)
{
	put8(f, type);
	put8(f, 0);
	put16(f, 0);
}

/* A neighbour advertisement (136) or solicitation (135) for target, option opt with mac. */
static void nd(struct frame *f, uint8_t type, const char *target, uint8_t opt, const uint8_t *mac)
{
	static const uint8_t flags[4] = { 0x20, 0, 0, 0 };

	icmp6(f, type);
	put(f, flags, 4);
	addr(f, AF_INET6, target);
	if (mac) {
		put8(f, opt);
		put8(f, 1);
		put(f, mac, 6);
	}
}

static int na(const uint8_t *smac, const char *src, const char *target, const uint8_t *tlla)
{
	struct frame f;

	ip6(&f, ALLNODES, smac, src, "ff02::1", 58);
	nd(&f, 136, target, 2, tlla);
	return classify(f.b, f.len);
}

static int ns(const char *src, const uint8_t *slla)
{
	struct frame f;

	ip6(&f, ALLNODES, CTR, src, "ff02::1:ff00:3", 58);
	nd(&f, 135, "fd00::3", 1, slla);
	return classify(f.b, f.len);
}

static int v4(const uint8_t *dst, const uint8_t *src, const char *sa, const char *da)
{
	struct frame f;

	udp4(&f, dst, src, sa, da, 40000, 7000);
	return classify(f.b, f.len);
}

static int v6(const uint8_t *src_mac, const char *src, uint8_t nh)
{
	struct frame f;

	ip6(&f, PEER_MAC, src_mac, src, "fd00::3", nh);
	put(&f, "0123456789abcdef", 16);
	return classify(f.b, f.len);
}

/* ---- from the container ---- */

START_TEST(test_in_ip4)
{
	struct frame f;

	build(SOURCE_CHECK_STRICT, TCG_IN);
	ck_assert_int_eq(v4(PEER_MAC, CTR, OWN4, "10.0.0.3"), MODE);
	ck_assert_int_eq(v4(BCAST, CTR, OWN4, "10.0.0.255"), MODE); /* judged like unicast */
	ck_assert_int_eq(v4(PEER_MAC, CTR, "10.0.0.77", "10.0.0.3"), DROP(PC_DROP_SRC_ADDR));
	ck_assert_int_eq(v4(PEER_MAC, OTHER, OWN4, "10.0.0.3"), DROP(PC_DROP_SRC_MAC));
	ck_assert_int_eq(v4(UCMAC, CTR, OWN4, "10.0.0.3"), DROP(PC_DROP_TO_UCMAC));
	/* 0.0.0.0: a DHCP client only */
	udp4(&f, BCAST, CTR, "0.0.0.0", "255.255.255.255", 68, 67);
	ck_assert_int_eq(classify(f.b, f.len), MODE);
	udp4(&f, BCAST, CTR, "0.0.0.0", "255.255.255.255", 68, 53);
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_SRC_ADDR));
	ck_assert_int_eq(v4(PEER_MAC, CTR, "0.0.0.0", "10.0.0.3"), DROP(PC_DROP_SRC_ADDR));
}
END_TEST

START_TEST(test_in_arp)
{
	struct frame f;

	build(SOURCE_CHECK_STRICT, TCG_IN);
	arp(&f, CTR, CTR, OWN4);
	ck_assert_int_eq(classify(f.b, f.len), PEER);
	arp(&f, CTR, CTR, "0.0.0.0"); /* a probe */
	ck_assert_int_eq(classify(f.b, f.len), PEER);
	arp(&f, CTR, CTR, "10.0.0.3"); /* the peer's address at my MAC */
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_ARP));
	arp(&f, CTR, OTHER, OWN4); /* my address at another MAC */
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_ARP));
	arp(&f, OTHER, OTHER, OWN4);
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_SRC_MAC));
	/* padded to 60, as some stacks send it; with more behind it, still
	 * let on: u32 cannot tell a frame's length (bpf drops it) */
	arp(&f, CTR, CTR, OWN4);
	memset(f.b + f.len, 0, 60 - f.len);
	f.len = 60;
	ck_assert_int_eq(classify(f.b, f.len), PEER);
	memset(f.b + f.len, 0x55, 40);
	f.len += 40;
	ck_assert_int_eq(classify(f.b, f.len), PEER);
}
END_TEST

START_TEST(test_in_ip6)
{
	build(SOURCE_CHECK_STRICT, TCG_IN);
	ck_assert_int_eq(v6(CTR, OWN6, 6), MODE);
	ck_assert_int_eq(v6(CTR, OWN_LL, 17), MODE);
	ck_assert_int_eq(v6(CTR, OWN6, 58), MODE); /* an echo request */
	ck_assert_int_eq(v6(CTR, "fd00::77", 6), DROP(PC_DROP_SRC_ADDR));
	ck_assert_int_eq(v6(CTR, "::", 17), DROP(PC_DROP_SRC_ADDR));
	ck_assert_int_eq(v6(OTHER, OWN6, 6), DROP(PC_DROP_SRC_MAC));
	/* extension headers u32 cannot see past */
	ck_assert_int_eq(v6(CTR, OWN6, 0), DROP(PC_DROP_ND));
	ck_assert_int_eq(v6(CTR, OWN6, 43), DROP(PC_DROP_ND));
	ck_assert_int_eq(v6(CTR, OWN6, 60), DROP(PC_DROP_ND));
	ck_assert_int_eq(v6(CTR, OWN6, 44), MODE); /* a fragment: receivers drop fragmented ND */
}
END_TEST

START_TEST(test_in_nd)
{
	struct frame f;

	build(SOURCE_CHECK_STRICT, TCG_IN);
	ck_assert_int_eq(na(CTR, OWN_LL, OWN6, CTR), PEER);
	ck_assert_int_eq(na(CTR, OWN6, OWN_LL, NULL), PEER); /* no option: an answer to a probe */
	ck_assert_int_eq(na(CTR, OWN_LL, "fd00::3", CTR), DROP(PC_DROP_ND));
	ck_assert_int_eq(na(CTR, OWN_LL, "fd00::3", NULL), DROP(PC_DROP_ND));
	ck_assert_int_eq(na(CTR, OWN_LL, OWN6, OTHER), DROP(PC_DROP_ND));
	/* from another source: dropped as neighbour discovery that names another */
	ck_assert_int_eq(na(CTR, "fe80::77", OWN6, CTR), DROP(PC_DROP_ND));
	ck_assert_int_eq(na(CTR, "fe80::77", OWN6, NULL), DROP(PC_DROP_ND));
	ck_assert_int_eq(na(OTHER, OWN_LL, OWN6, OTHER), DROP(PC_DROP_SRC_MAC));
	/* behind a hop-by-hop header */
	ip6(&f, ALLNODES, CTR, OWN_LL, "ff02::1", 0);
	hbh(&f, 58);
	nd(&f, 136, "fd00::3", 2, CTR);
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_ND));
	ck_assert_int_eq(ns("::", NULL), PEER); /* duplicate address detection */
	ck_assert_int_eq(ns(OWN_LL, CTR), PEER);
	ck_assert_int_eq(ns(OWN_LL, NULL), PEER);
	ck_assert_int_eq(ns(OWN_LL, OTHER), DROP(PC_DROP_ND));
	/* no room for more than a message needs: 44 bytes of padding after the option */
	ip6(&f, ALLNODES, CTR, OWN_LL, "ff02::1", 58);
	nd(&f, 136, OWN6, 2, CTR);
	ck_assert_int_eq(classify(f.b, f.len), PEER);
	memset(f.b + f.len, 0, 44);
	f.len += 44;
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_ND));
	/* duplicate address detection with a nonce (Linux's enhanced_dad) */
	ip6(&f, ALLNODES, CTR, "::", "ff02::1:ff00:2", 58);
	nd(&f, 135, OWN6, 14, CTR);
	ck_assert_int_eq(classify(f.b, f.len), PEER);
	ck_assert_int_eq(ns("fe80::77", CTR), DROP(PC_DROP_ND));
	ck_assert_int_eq(ns("fe80::77", NULL), DROP(PC_DROP_ND));
	/* a container is no router */
	ip6(&f, ALLNODES, CTR, OWN_LL, "ff02::1", 58);
	icmp6(&f, 134);
	put(&f, "\x40\0\x07\x08\0\0\0\0\0\0\0\0", 12);
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_ND));
	ip6(&f, PEER_MAC, CTR, OWN_LL, "fd00::3", 58);
	nd(&f, 137, "fe80::1", 2, NULL);
	put(&f, "0123456789abcdef", 16);
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_ND));
	/* a router solicitation with my MAC, and with another */
	ip6(&f, ALLNODES, CTR, OWN_LL, "ff02::2", 58);
	icmp6(&f, 133);
	put(&f, "\0\0\0\0\x01\x01", 6);
	put(&f, CTR, 6);
	ck_assert_int_eq(classify(f.b, f.len), PEER);
	memcpy(f.b + f.len - 6, OTHER, 6);
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_ND));
	f.len -= 8; /* and with none */
	ck_assert_int_eq(classify(f.b, f.len), PEER);
}
END_TEST

START_TEST(test_in_mld)
{
	static const uint8_t mld_mac[6] = { 0x33, 0x33, 0, 0, 0, 0x16 };
	struct frame f;

	build(SOURCE_CHECK_STRICT, TCG_IN);
	/* a report from :: behind a router alert: what a port sends while its address is tentative
	 */
	ip6(&f, mld_mac, CTR, "::", "ff02::16", 0);
	hbh(&f, 58);
	icmp6(&f, 143);
	ck_assert_int_eq(classify(f.b, f.len), PEER);
	ip6(&f, mld_mac, CTR, OWN_LL, "ff02::16", 0);
	hbh(&f, 58);
	icmp6(&f, 143);
	ck_assert_int_eq(classify(f.b, f.len), PEER);
	ip6(&f, mld_mac, CTR, "fe80::77", "ff02::16", 0);
	hbh(&f, 58);
	icmp6(&f, 143);
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_ND));
	/* a done from :: is not duplicate address detection */
	ip6(&f, mld_mac, CTR, "::", "ff02::2", 0);
	hbh(&f, 58);
	icmp6(&f, 132);
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_ND));
}
END_TEST

START_TEST(test_in_other)
{
	struct frame f;

	build(SOURCE_CHECK_STRICT, TCG_IN);
	eth(&f, BCAST, CTR, 0x88cc); /* LLDP */
	put(&f, "0123456789abcdef0123456789abcdef", 32);
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_ETHERTYPE));
	/* a runt: the filter ends at a key past its end, and the enforcer's
	 * own stack drops it (uncounted) */
	eth(&f, PEER_MAC, CTR, 0x0800);
	ck_assert_int_eq(classify(f.b, f.len), UNCLASSIFIED);
}
END_TEST

START_TEST(test_in_mac_only)
{
	build(SOURCE_CHECK_MAC, TCG_IN);
	ck_assert_int_eq(v4(PEER_MAC, CTR, "10.0.0.77", "10.0.0.3"), MODE);
	ck_assert_int_eq(v4(PEER_MAC, OTHER, OWN4, "10.0.0.3"), DROP(PC_DROP_SRC_MAC));
	ck_assert_int_eq(v6(CTR, "fd00::77", 6), MODE);
	ck_assert_int_eq(na(CTR, "fe80::77", "fd00::3", CTR), PEER);
	ck_assert_int_eq(na(CTR, OWN_LL, OWN6, OTHER), DROP(PC_DROP_ND));
	ck_assert_int_eq(v6(CTR, OWN6, 0), DROP(PC_DROP_ND));
	ck_assert_int_eq(v4(UCMAC, CTR, OWN4, "10.0.0.3"), DROP(PC_DROP_TO_UCMAC));
}
END_TEST

START_TEST(test_in_off)
{
	struct frame f;

	build(SOURCE_CHECK_OFF, TCG_IN);
	ck_assert_int_eq(v4(PEER_MAC, CTR, "10.0.0.77", "10.0.0.3"), MODE);
	ck_assert_int_eq(v4(PEER_MAC, OTHER, OWN4, "10.0.0.3"), PEER);
	ck_assert_int_eq(na(CTR, OWN_LL, "fd00::3", OTHER), PEER);
	ck_assert_int_eq(v4(UCMAC, CTR, OWN4, "10.0.0.3"), DROP(PC_DROP_TO_UCMAC));
	arp(&f, OTHER, OTHER, "10.0.0.3");
	ck_assert_int_eq(classify(f.b, f.len), PEER);
}
END_TEST

/* ---- from the host ---- */

START_TEST(test_ex)
{
	struct frame f;

	build(SOURCE_CHECK_STRICT, TCG_EX);
	ck_assert_int_eq(v4(CTR, PEER_MAC, "10.0.0.3", OWN4), MODE);
	ck_assert_int_eq(v4(CTR, UCMAC, "10.0.0.3", OWN4), DROP(PC_DROP_HOST_UCMAC));
	ck_assert_int_eq(v4(UCMAC, PEER_MAC, "10.0.0.3", OWN4), DROP(PC_DROP_HOST_UCMAC));
	ck_assert_int_eq(v4(BCAST, PEER_MAC, "10.0.0.3", OWN4), DROP(PC_DROP_BCAST_OWN));
	ck_assert_int_eq(v4(BCAST, PEER_MAC, "10.0.0.3", "10.0.0.255"), PEER);
	ck_assert_int_eq(v4(PEER_MAC, PEER_MAC, "10.0.0.3", "10.0.0.4"), PEER); /* not for it */
	ip6(&f, ALLNODES, PEER_MAC, "fe80::3", OWN6, 17);
	ck_assert_int_eq(classify(f.b, f.len), DROP(PC_DROP_BCAST_OWN));
	ip6(&f, ALLNODES, PEER_MAC, "fe80::3", "ff02::1", 58);
	nd(&f, 136, "fd00::3", 2, PEER_MAC);
	ck_assert_int_eq(classify(f.b, f.len), PEER);
	arp(&f, PEER_MAC, PEER_MAC, "10.0.0.3");
	ck_assert_int_eq(classify(f.b, f.len), PEER);
}
END_TEST

/* Every knode fits the kernel's u32 and says what it is in its classid. */
START_TEST(test_limits)
{
	int why;

	build(SOURCE_CHECK_STRICT, TCG_IN);
	for (int i = 0; i < n_knodes; i++) {
		ck_assert_int_le(knodes[i].nkeys, TCG_MAX_KEYS);
		ck_assert_int_eq(tcg_kind_of(tcg_classid(&knodes[i]), &why), (int)knodes[i].kind);
		for (int j = 0; j < knodes[i].nkeys; j++)
			ck_assert_int_eq(((knodes[i].keys[j].off % 4) + 4) % 4, 0);
	}
	/* the most addresses a port has: still far below u32's 4095 */
	memset(&port, 0, sizeof(port));
	for (int i = 0; i < DPATH_MAX_ADDRS; i++) {
		port.addrs[i].family = AF_INET6;
		port.addrs[i].addr[15] = (uint8_t)i;
	}
	port.n_addrs = DPATH_MAX_ADDRS;
	n_knodes = tcg_knodes(&port, SOURCE_CHECK_STRICT, TCG_IN, knodes, TCG_MAX_KNODES);
	ck_assert_int_gt(n_knodes, 0);
	ck_assert_int_eq(tcg_knodes(&port, SOURCE_CHECK_STRICT, TCG_IN, knodes, 10), -E2BIG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tc_guard");
	TCase *tc = tcase_create("knodes");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_in_ip4);
	tcase_add_test(tc, test_in_arp);
	tcase_add_test(tc, test_in_ip6);
	tcase_add_test(tc, test_in_nd);
	tcase_add_test(tc, test_in_mld);
	tcase_add_test(tc, test_in_other);
	tcase_add_test(tc, test_in_mac_only);
	tcase_add_test(tc, test_in_off);
	tcase_add_test(tc, test_ex);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
