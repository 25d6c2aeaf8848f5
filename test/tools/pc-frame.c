/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pc-frame: crafted frames out of an interface, for tests.
 *
 *   pc-frame KIND IFACE DST_IP DST_MAC PORT [ARG]
 *
 * Sends 5 frames, 20 ms apart, through an AF_PACKET socket on IFACE: a UDP
 * datagram from port 40000 to DST_IP:PORT at DST_MAC, its payload the word
 * KIND, unless KIND says otherwise:
 *
 *   vlan0        behind an 802.1Q tag of VLAN 0 (a priority tag)
 *   bcast        to ff:ff:ff:ff:ff:ff
 *   srcmac       from the made-up MAC 02:66:66:66:66:66
 *   srcmac-from  from MAC ARG
 *   srcip        from address ARG (of DST_IP's family; 0.0.0.0 too)
 *   garp         ARP reply to broadcast: DST_IP (IPv4) is at my MAC
 *   arpmac       ARP reply to broadcast: my IPv4 address is at MAC ARG
 *   na           IPv6 neighbour advertisement to ff02::1 (override flag):
 *                DST_IP is at my MAC; na-hbh: behind an empty hop-by-hop
 *                header; na-dst: behind that and a destination options one
 *   na-pad       the truthful advertisement: my own address (DST_IP) at my
 *                MAC, with 200 bytes of an unknown option (type 250) after
 *                it, which receivers skip and a listener reads
 *   arp-pad      the truthful ARP reply (my address at my MAC) with 200
 *                bytes behind it
 *   ra           router advertisement to ff02::1, router lifetime 1800 s
 *   redirect     ICMPv6 redirect to DST_IP: ARG is reached via fe80::1
 *   mld0         MLDv2 report from :: to ff02::16 behind a router alert:
 *                change to exclude for ff02::1:ff00:77
 *
 * My MAC is IFACE's, my IPv4 address its first; an IPv6 source is the one
 * the kernel picks for the destination (IFACE's link-local for ff02::1).
 * The frames are those scapy builds (IPv4 id 1, TTL 64; hop limit 64, 255
 * for neighbour discovery, 1 for MLD), every checksum right.  Prints
 * "frame: 5 x KIND out of IFACE to DST_IP (DST_MAC)".  Exit status 2 on bad
 * arguments, 1 when IFACE's addresses cannot be read or a send fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAMES 5

struct pkt {
	unsigned char b[512];
	size_t n, l3, l4; /* length; where the IP and L4 headers start (l3 0: none) */
	unsigned char proto;
};

struct args {
	const char *kind, *ifname, *dst_s, *dmac_s, *arg;
	int ifindex, af, fd; /* fd: the AF_PACKET socket */
	unsigned int port;
	unsigned char dst[16], dmac[6], me[6], arg_ip[16], arg_mac[6];
};

static const unsigned char mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const unsigned char mac_made_up[6] = { 0x02, 0x66, 0x66, 0x66, 0x66, 0x66 };
static const unsigned char mac_all_nodes[6] = { 0x33, 0x33, 0, 0, 0, 0x01 };
static const unsigned char mac_mld_routers[6] = { 0x33, 0x33, 0, 0, 0, 0x16 };
static const unsigned char ip6_any[16];
static const unsigned char ip6_all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
static const unsigned char ip6_mld_routers[16] = { 0xff, 0x02, [15] = 0x16 };
static const unsigned char ip6_router[16] = { 0xfe, 0x80, [15] = 0x01 };
static const unsigned char ip6_group[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff, [15] = 0x77 };

/* bad arguments: one line on stderr, -EINVAL */
static int __attribute__((format(printf, 1, 2))) bad(const char *fmt, ...)
{
	va_list ap;

	fputs("pc-frame: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

/* a system call failed: one line on stderr, -EIO */
static int fail(const char *what, int err)
{
	fprintf(stderr, "pc-frame: %s: %s\n", what, strerror(err));
	return -EIO;
}

static bool is(const struct args *a, const char *kind)
{
	return !strcmp(a->kind, kind);
}

static void put16(unsigned char *h, unsigned int v)
{
	h[0] = v >> 8;
	h[1] = v & 0xff;
}

/* n bytes of data (NULL: zeros) at the end of the frame */
static unsigned char *add(struct pkt *p, const void *data, size_t n)
{
	unsigned char *h = p->b + p->n;

	if (data)
		memcpy(h, data, n);
	else
		memset(h, 0, n);
	p->n += n;
	return h;
}

/* the Internet checksum of a (of even length) followed by b */
static uint16_t csum(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	uint32_t s = 0;

	for (size_t i = 0; i < an + bn; i++)
		s += (i < an ? a[i] : b[i - an]) << (i % 2 ? 0 : 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* an Ethernet header; tagged: with an 802.1Q tag of VLAN 0, priority 0 */
static void eth(struct pkt *p, const unsigned char *dst, const unsigned char *src, int type,
		bool tagged)
{
	add(p, dst, 6);
	add(p, src, 6);
	if (tagged)
		put16(add(p, NULL, 4), ETH_P_8021Q);
	put16(add(p, NULL, 2), type);
}

static void ipv4(struct pkt *p, const unsigned char *src, const unsigned char *dst, int proto)
{
	p->l3 = p->n;
	add(p, (unsigned char[]){ 0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0 }, 12); /* id 1 */
	add(p, src, 4);
	add(p, dst, 4);
}

static void ipv6(struct pkt *p, const unsigned char *src, const unsigned char *dst, int next,
		 int hlim)
{
	p->l3 = p->n;
	add(p, (unsigned char[]){ 0x60, 0, 0, 0, 0, 0, next, hlim }, 8);
	add(p, src, 16);
	add(p, dst, 16);
}

/* a hop-by-hop or destination options header of 8 bytes: PadN, or (MLD)
 * a router alert and PadN */
static void ip6_opts(struct pkt *p, int next, bool router_alert)
{
	if (router_alert)
		add(p, (unsigned char[]){ next, 0, 5, 2, 0, 0, 1, 0 }, 8);
	else
		add(p, (unsigned char[]){ next, 0, 1, 4, 0, 0, 0, 0 }, 8);
}

static void udp(struct pkt *p, int sport, int dport, const char *data)
{
	p->l4 = p->n;
	p->proto = IPPROTO_UDP;
	put16(add(p, NULL, 8), sport);
	put16(p->b + p->l4 + 2, dport);
	add(p, data, strlen(data));
}

/* an ICMPv6 header of type; returns its body of len bytes, zeroed */
static unsigned char *icmp6(struct pkt *p, int type, size_t len)
{
	p->l4 = p->n;
	p->proto = IPPROTO_ICMPV6;
	add(p, (unsigned char[]){ type, 0, 0, 0 }, 4);
	return add(p, NULL, len);
}

/* a neighbour discovery option: source (1) or target (2) link-layer address */
static void nd_lladdr(struct pkt *p, int type, const unsigned char *mac)
{
	add(p, (unsigned char[]){ type, 1 }, 2);
	add(p, mac, 6);
}

/* an ARP reply to broadcast: ip is at mac */
static void arp_reply(struct pkt *p, const unsigned char *mac, const unsigned char *ip)
{
	add(p, (unsigned char[]){ 0, 1, 0x08, 0x00, 6, 4, 0, 2 }, 8); /* Ethernet, IPv4 */
	add(p, mac, 6);
	add(p, ip, 4);
	add(p, mac_bcast, 6);
	add(p, ip, 4);
}

/* the lengths and checksums of the IP and L4 headers */
static void finish(struct pkt *p)
{
	unsigned char ph[40] = { 0 }, *l3 = p->b + p->l3, *l4 = p->b + p->l4;
	size_t len = p->n - p->l4;
	bool v4 = l3[0] >> 4 == 4;
	uint16_t s;

	if (!p->l3)
		return;
	memcpy(ph, l3 + (v4 ? 12 : 8), v4 ? 8 : 32); /* source, destination */
	if (v4) {
		put16(l3 + 2, p->n - p->l3);
		put16(l3 + 10, csum(NULL, 0, l3, 20));
	} else {
		put16(l3 + 4, p->n - p->l3 - 40);
	}
	put16(ph + (v4 ? 10 : 34), len);
	ph[v4 ? 9 : 39] = p->proto;
	if (p->proto == IPPROTO_UDP)
		put16(l4 + 4, len);
	s = csum(ph, v4 ? 12 : 40, l4, len);
	if (p->proto == IPPROTO_UDP)
		put16(l4 + 6, s ?: 0xffff);
	else
		put16(l4 + 2, s);
}

static int parse_mac(const char *s, unsigned char *m)
{
	int n = -1;

	sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
	       &n);
	return n < 0 || s[n] ? bad("bad MAC address '%s'", s) : 0;
}

/* AF_INET or AF_INET6, or -EINVAL */
static int parse_ip(const char *s, unsigned char *addr)
{
	if (inet_pton(AF_INET, s, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return AF_INET6;
	return bad("bad IP address '%s'", s);
}

static int if_mac(const struct args *a, unsigned char *mac)
{
	struct ifreq r = { 0 };

	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", a->ifname);
	if (ioctl(a->fd, SIOCGIFHWADDR, &r) < 0)
		return fail(a->ifname, errno);
	memcpy(mac, r.ifr_hwaddr.sa_data, 6);
	return 0;
}

static int if_ipv4(const char *ifname, unsigned char *addr)
{
	struct ifaddrs *all, *i;
	int rc = -EIO;

	if (getifaddrs(&all) < 0)
		return fail("getifaddrs", errno);
	for (i = all; i && rc; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    !strcmp(i->ifa_name, ifname)) {
			memcpy(addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			rc = 0;
		}
	}
	freeifaddrs(all);
	if (rc)
		fprintf(stderr, "pc-frame: %s has no IPv4 address\n", ifname);
	return rc;
}

/* my source address for dst: IPv4 IFACE's first, IPv6 the kernel's choice
 * for a UDP socket connected to dst (in IFACE's scope if link-local) */
static int source_of(const struct args *a, int af, const unsigned char *dst, unsigned char *src)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	socklen_t len = sizeof(sa);
	int fd, rc = 0;

	if (af == AF_INET)
		return if_ipv4(a->ifname, src);
	memcpy(&sa.sin6_addr, dst, 16);
	if (IN6_IS_ADDR_LINKLOCAL(&sa.sin6_addr) || IN6_IS_ADDR_MC_LINKLOCAL(&sa.sin6_addr))
		sa.sin6_scope_id = a->ifindex;
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		rc = fail("IPv6 source address", errno);
	else
		memcpy(src, &sa.sin6_addr, 16);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* vlan0, bcast, srcmac, srcmac-from, srcip: the UDP datagram */
static int build_udp(const struct args *a, struct pkt *p)
{
	const unsigned char *smac = is(a, "srcmac") ? mac_made_up : a->me;
	int type = a->af == AF_INET ? ETH_P_IP : ETH_P_IPV6, rc = 0;
	unsigned char src[16];

	if (is(a, "srcip"))
		memcpy(src, a->arg_ip, 16);
	else
		rc = source_of(a, a->af, a->dst, src);
	if (rc)
		return rc;
	eth(p, is(a, "bcast") ? mac_bcast : a->dmac, is(a, "srcmac-from") ? a->arg_mac : smac, type,
	    is(a, "vlan0"));
	if (a->af == AF_INET)
		ipv4(p, src, a->dst, IPPROTO_UDP);
	else
		ipv6(p, src, a->dst, IPPROTO_UDP, 64);
	udp(p, 40000, a->port, a->kind);
	return 0;
}

/* garp: DST_IP is at my MAC; arpmac: my address is at ARG; arp-pad: my address at my MAC, padded */
static int build_arp(const struct args *a, struct pkt *p)
{
	bool garp = is(a, "garp"), pad = is(a, "arp-pad");
	unsigned char ip[4];
	int rc = garp ? 0 : if_ipv4(a->ifname, ip);

	if (rc)
		return rc;
	eth(p, mac_bcast, a->me, ETH_P_ARP, false);
	arp_reply(p, garp || pad ? a->me : a->arg_mac, garp ? a->dst : ip);
	if (pad)
		memset(add(p, NULL, 200), 0x55, 200);
	return 0;
}

/* na, na-hbh, na-dst (DST_IP is at my MAC) and ra, to ff02::1; redirect (to
 * DST_IP: ARG is reached through fe80::1) */
static int build_nd(const struct args *a, struct pkt *p)
{
	bool hbh = is(a, "na-hbh") || is(a, "na-dst"), dst = is(a, "na-dst");
	bool redirect = is(a, "redirect");
	const unsigned char *to = redirect ? a->dst : ip6_all_nodes;
	unsigned char src[16], *h;
	int rc = source_of(a, AF_INET6, to, src);

	if (rc)
		return rc;
	eth(p, redirect ? a->dmac : mac_all_nodes, a->me, ETH_P_IPV6, false);
	ipv6(p, src, to, hbh ? IPPROTO_HOPOPTS : IPPROTO_ICMPV6, 255);
	if (hbh)
		ip6_opts(p, dst ? IPPROTO_DSTOPTS : IPPROTO_ICMPV6, false);
	if (dst)
		ip6_opts(p, IPPROTO_ICMPV6, false);
	if (redirect) {
		h = icmp6(p, 137, 36);
		memcpy(h + 4, ip6_router, 16);
		memcpy(h + 20, a->arg_ip, 16);
	} else if (is(a, "ra")) {
		h = icmp6(p, 134, 12);
		h[1] = 0x08; /* router preference high, as scapy's default */
		put16(h + 2, 1800);
		nd_lladdr(p, 1, a->me);
	} else {
		h = icmp6(p, 136, 20);
		h[0] = 0x20; /* override */
		memcpy(h + 4, a->dst, 16);
		nd_lladdr(p, 2, a->me);
		if (is(a, "na-pad")) { /* an option of 25 units of 8 bytes */
			h = add(p, NULL, 200);
			h[0] = 250;
			h[1] = 25;
			memset(h + 2, 0x55, 198);
		}
	}
	return 0;
}

/* an MLDv2 report, one record: CHANGE_TO_EXCLUDE_MODE (4) for ff02::1:ff00:77 */
static int build_mld(const struct args *a, struct pkt *p)
{
	unsigned char *h;

	eth(p, mac_mld_routers, a->me, ETH_P_IPV6, false);
	ipv6(p, ip6_any, ip6_mld_routers, IPPROTO_HOPOPTS, 1);
	ip6_opts(p, IPPROTO_ICMPV6, true);
	h = icmp6(p, 143, 4 + 20);
	put16(h + 2, 1);
	h[4] = 4;
	memcpy(h + 8, ip6_group, 16);
	return 0;
}

/* arg: 'm' a MAC, 'a' an address of DST_IP's family; af: DST_IP's, 0 any */
static const struct kind {
	const char *name;
	int (*build)(const struct args *a, struct pkt *p);
	char arg;
	int af;
} kinds[] = {
	{ "vlan0", build_udp, 0, 0 },
	{ "bcast", build_udp, 0, 0 },
	{ "srcmac", build_udp, 0, 0 },
	{ "srcmac-from", build_udp, 'm', 0 },
	{ "srcip", build_udp, 'a', 0 },
	{ "garp", build_arp, 0, AF_INET },
	{ "arpmac", build_arp, 'm', 0 },
	{ "na", build_nd, 0, AF_INET6 },
	{ "na-hbh", build_nd, 0, AF_INET6 },
	{ "na-dst", build_nd, 0, AF_INET6 },
	{ "na-pad", build_nd, 0, AF_INET6 },
	{ "arp-pad", build_arp, 0, 0 },
	{ "ra", build_nd, 0, 0 },
	{ "redirect", build_nd, 'a', AF_INET6 },
	{ "mld0", build_mld, 0, 0 },
};

static int parse_arg(struct args *a, const struct kind *k)
{
	int rc;

	if (!a->arg)
		return bad("%s needs ARG", a->kind);
	if (k->arg == 'm')
		return parse_mac(a->arg, a->arg_mac);
	rc = parse_ip(a->arg, a->arg_ip);
	return rc < 0 || rc == a->af ? rc : bad("ARG %s is not of DST_IP's family", a->arg);
}

static int parse(int argc, char **argv, struct args *a, const struct kind **k)
{
	char *end;
	size_t i;

	if (argc != 6 && argc != 7)
		return bad("usage: pc-frame KIND IFACE DST_IP DST_MAC PORT [ARG]");
	a->kind = argv[1];
	a->ifname = argv[2];
	a->dst_s = argv[3];
	a->dmac_s = argv[4];
	a->arg = argc == 7 && *argv[6] ? argv[6] : NULL;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		*k = is(a, kinds[i].name) ? &kinds[i] : *k;
	if (!*k)
		return bad("unknown kind '%s'", a->kind);
	a->ifindex = if_nametoindex(a->ifname);
	if (!a->ifindex)
		return bad("no interface '%s'", a->ifname);
	a->port = strtoul(argv[5], &end, 10);
	if (*end || !*argv[5] || a->port > 65535)
		return bad("bad port '%s'", argv[5]);
	a->af = parse_ip(a->dst_s, a->dst);
	if (a->af < 0)
		return a->af;
	if ((*k)->af && a->af != (*k)->af)
		return bad("%s: DST_IP is not IPv%d", a->kind, (*k)->af == AF_INET ? 4 : 6);
	if ((*k)->arg && parse_arg(a, *k) < 0)
		return -EINVAL;
	return parse_mac(a->dmac_s, a->dmac);
}

static int send_frames(const struct args *a, const struct pkt *p)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = a->ifindex };
	struct timespec gap = { .tv_nsec = 20 * 1000 * 1000 };

	memcpy(&sll.sll_protocol, p->b + 12, 2); /* the frame's EtherType */
	for (int i = 0; i < FRAMES; i++) {
		if (i)
			nanosleep(&gap, NULL);
		if (sendto(a->fd, p->b, p->n, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			return fail(a->ifname, errno);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct kind *k = NULL;
	struct args a = { .fd = -1 };
	struct pkt p = { 0 };
	int rc = parse(argc, argv, &a, &k);

	if (!rc) {
		a.fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		rc = a.fd < 0 ? fail("AF_PACKET socket", errno) : if_mac(&a, a.me);
	}
	if (!rc)
		rc = k->build(&a, &p);
	if (!rc) {
		finish(&p);
		rc = send_frames(&a, &p);
	}
	if (a.fd >= 0)
		close(a.fd);
	if (rc)
		return rc == -EINVAL ? 2 : 1;
	printf("frame: %d x %s out of %s to %s (%s)\n", FRAMES, a.kind, a.ifname, a.dst_s,
	       a.dmac_s);
	return 0;
}
