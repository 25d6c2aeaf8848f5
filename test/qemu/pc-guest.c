/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pc-guest: the small tools the QEMU guest test needs and busybox lacks,
 * in one static binary (built by test/qemu/run.sh with gcc -static).
 *
 *   pc-guest sniff IFNAME
 *       One line per frame seen on IFNAME (both directions) until SIGTERM:
 *           DIR SRC_MAC DST_MAC CLASS KEY...
 *       DIR in|out; CLASS ip4u, ip6u (unicast IP), nd (ICMPv6 133-137),
 *       arp, grp (other broadcast/multicast), other.  KEY names the packet
 *       without anything a hop may change (checksums, TTL): addresses,
 *       protocol, the IPv4 ID, ports, TCP seq/ack/flags/payload length,
 *       ICMP type/id/seq.  First line "# listening on IFNAME".
 *   pc-guest reflect IFNAME [DROP_TCP_PORT]
 *       A test data plane: every frame received on IFNAME is sent back out
 *       of it unchanged, except TCP to or from DROP_TCP_PORT.  With
 *       PACKET_VNET_HDR, as a data plane must: the pair keeps its offloads,
 *       so frames may be GSO super-frames with partial checksums, and the
 *       header that says so goes back with them.  First line
 *       "# reflecting on IFNAME"; on SIGTERM "# reflect: rx=N tx=N drop=N".
 *   pc-guest echo-server ADDR PORT
 *       TCP: echoes what each connection sends (a process per connection).
 *       ADDR :: takes IPv4 too.
 *   pc-guest echo-client ADDR PORT COUNT INTERVAL_MS
 *       One TCP connection; COUNT lines, one every INTERVAL_MS, each echo
 *       awaited (10 s at most) and counted ("ok N").  Exit 0 and
 *       "echo-client: COUNT/COUNT ok" when all came back intact.  ADDR is
 *       IPv4 or IPv6.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "pc-guest: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int packet_socket(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct sigaction sa = { .sa_handler = on_term };
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

	if (fd < 0)
		die("AF_PACKET socket");
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex)
		die(ifname);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind");
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return fd;
}

/* Receive one frame; 0 on timeout or signal. */
static ssize_t recv_frame(int fd, unsigned char *buf, size_t len, struct sockaddr_ll *from)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	socklen_t fl = sizeof(*from);

	if (poll(&p, 1, 200) <= 0)
		return 0;
	return recvfrom(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)from, &fl);
}

static void mac_str(const unsigned char *m, char *out)
{
	sprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned long get32(const unsigned char *p)
{
	return (unsigned long)get16(p) << 16 | get16(p + 2);
}

/* The L4 part of a key: p points at the header, len bytes of it and after. */
static void l4_key(char *out, size_t sz, int proto, const unsigned char *p, long len)
{
	if (proto == IPPROTO_TCP && len >= 20) {
		long hl = (p[12] >> 4) * 4;

		snprintf(out, sz, "tcp %u>%u seq=%lu ack=%lu fl=%02x plen=%ld", get16(p),
			 get16(p + 2), get32(p + 4), get32(p + 8), p[13], len - hl);
	} else if (proto == IPPROTO_UDP && len >= 8) {
		snprintf(out, sz, "udp %u>%u len=%u", get16(p), get16(p + 2), get16(p + 4));
	} else if ((proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) && len >= 8) {
		snprintf(out, sz, "icmp t=%u c=%u id=%u seq=%u", p[0], p[1], get16(p + 4),
			 get16(p + 6));
	} else {
		snprintf(out, sz, "p=%d", proto);
	}
}

/* CLASS and KEY of a frame (f: the Ethernet header, n bytes). */
static void frame_key(const unsigned char *f, long n, char *out, size_t sz)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], l4[160];
	unsigned type = n >= 14 ? get16(f + 12) : 0;
	const unsigned char *ip = f + 14;
	int group = f[0] & 1;

	if (type == ETH_P_IP && n >= 34) {
		long hl = (ip[0] & 15) * 4, tot = get16(ip + 2);

		inet_ntop(AF_INET, ip + 12, a, sizeof(a));
		inet_ntop(AF_INET, ip + 16, b, sizeof(b));
		l4_key(l4, sizeof(l4), ip[9], ip + hl, (tot < n - 14 ? tot : n - 14) - hl);
		snprintf(out, sz, "%s %s>%s id=%u %s", group ? "grp" : "ip4u", a, b, get16(ip + 4),
			 l4);
	} else if (type == ETH_P_IPV6 && n >= 54) {
		long plen = get16(ip + 4);

		inet_ntop(AF_INET6, ip + 8, a, sizeof(a));
		inet_ntop(AF_INET6, ip + 24, b, sizeof(b));
		l4_key(l4, sizeof(l4), ip[6], ip + 40, plen < n - 54 ? plen : n - 54);
		if (ip[6] == IPPROTO_ICMPV6 && ip[40] >= 133 && ip[40] <= 137)
			snprintf(out, sz, "nd %s>%s %s", a, b, l4);
		else
			snprintf(out, sz, "%s %s>%s %s", group ? "grp" : "ip6u", a, b, l4);
	} else if (type == ETH_P_ARP) {
		snprintf(out, sz, "arp");
	} else {
		snprintf(out, sz, "%s type=%04x", group ? "grp" : "other", type);
	}
}

static int cmd_sniff(const char *ifname)
{
	unsigned char buf[65536];
	char src[18], dst[18], key[400];
	struct sockaddr_ll from;
	int fd = packet_socket(ifname);
	ssize_t n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# listening on %s\n", ifname);
	while (!stop) {
		n = recv_frame(fd, buf, sizeof(buf), &from);
		if (n < 14)
			continue;
		mac_str(buf + 6, src);
		mac_str(buf, dst);
		frame_key(buf, n, key, sizeof(key));
		printf("%s %s %s %s\n", from.sll_pkttype == PACKET_OUTGOING ? "out" : "in", src,
		       dst, key);
	}
	return 0;
}

/* TCP from or to port (IPv4/IPv6 without extension headers). */
static int is_tcp_port(const unsigned char *f, ssize_t n, unsigned port)
{
	unsigned type = get16(f + 12);
	const unsigned char *ip = f + 14, *l4;

	if (type == ETH_P_IP && n >= 34 && ip[9] == IPPROTO_TCP)
		l4 = ip + (ip[0] & 15) * 4;
	else if (type == ETH_P_IPV6 && n >= 58 && ip[6] == IPPROTO_TCP)
		l4 = ip + 40;
	else
		return 0;
	if (l4 + 4 > f + n)
		return 0;
	return get16(l4) == port || get16(l4 + 2) == port;
}

static int cmd_reflect(const char *ifname, unsigned drop_port)
{
	const size_t vh = sizeof(struct virtio_net_hdr);
	unsigned long rx = 0, tx = 0, drop = 0;
	static unsigned char buf[sizeof(struct virtio_net_hdr) + 65536 + 64];
	struct sockaddr_ll from;
	int fd = packet_socket(ifname), one = 1;
	ssize_t n;

	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		die("PACKET_VNET_HDR");
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# reflecting on %s\n", ifname);
	while (!stop) {
		n = recv_frame(fd, buf, sizeof(buf), &from);
		if (n < (ssize_t)(vh + 14) || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		rx++;
		if (drop_port && is_tcp_port(buf + vh, n - (ssize_t)vh, drop_port)) {
			drop++;
			continue;
		}
		if (send(fd, buf, (size_t)n, 0) == n)
			tx++;
	}
	printf("# reflect: rx=%lu tx=%lu drop=%lu\n", rx, tx, drop);
	return 0;
}

static socklen_t sockaddr_of(const char *addr, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return sizeof(*s6);
	}
	fprintf(stderr, "pc-guest: not an address: %s\n", addr);
	exit(2);
}

static void __attribute__((noreturn)) cmd_echo_server(const char *addr, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(addr, port, &ss);
	int one = 1, ls = socket(ss.ss_family, SOCK_STREAM, 0), c;
	char buf[4096];
	ssize_t n;

	signal(SIGPIPE, SIG_IGN);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)&ss, len) < 0 || listen(ls, 8) < 0)
		die("listen");
	printf("# listening on %s %u\n", addr, port);
	fflush(stdout);
	signal(SIGCHLD, SIG_IGN); /* children reaped by the kernel */
	for (;;) {
		c = accept(ls, NULL, NULL);
		if (c < 0)
			continue;
		if (fork() == 0) {
			while ((n = read(c, buf, sizeof(buf))) > 0)
				if (write(c, buf, (size_t)n) != n)
					break;
			_exit(0);
		}
		close(c);
	}
}

static int read_line(int fd, char *buf, size_t sz)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;

	while (got + 1 < sz) {
		if (poll(&p, 1, 10000) <= 0 || read(fd, buf + got, 1) != 1)
			return -1;
		if (buf[got++] == '\n')
			break;
	}
	buf[got] = '\0';
	return 0;
}

static int cmd_echo_client(const char *addr, unsigned port, int count, int interval_ms)
{
	struct timespec gap = { interval_ms / 1000, (interval_ms % 1000) * 1000000L };
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(addr, port, &ss);
	int s = socket(ss.ss_family, SOCK_STREAM, 0), ok = 0;
	char msg[64], back[64];

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&ss, len) < 0)
		die("connect");
	for (int i = 0; i < count; i++) {
		int n = snprintf(msg, sizeof(msg), "portcullis %d\n", i);

		if (write(s, msg, (size_t)n) != n || read_line(s, back, sizeof(back)) < 0)
			break;
		if (strcmp(msg, back) != 0)
			break;
		printf("ok %d\n", ++ok);
		nanosleep(&gap, NULL);
	}
	printf("echo-client: %d/%d ok\n", ok, count);
	close(s);
	return ok == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "sniff") && argc == 3)
		return cmd_sniff(argv[2]);
	if (!strcmp(cmd, "reflect") && (argc == 3 || argc == 4))
		return cmd_reflect(argv[2], argc == 4 ? (unsigned)atoi(argv[3]) : 0);
	if (!strcmp(cmd, "echo-server") && argc == 4)
		cmd_echo_server(argv[2], (unsigned)atoi(argv[3]));
	if (!strcmp(cmd, "echo-client") && argc == 6)
		return cmd_echo_client(argv[2], (unsigned)atoi(argv[3]), atoi(argv[4]),
				       atoi(argv[5]));
	fprintf(stderr, "usage: pc-guest sniff IF | reflect IF [DROP_TCP_PORT] | "
			"echo-server ADDR PORT | echo-client ADDR PORT COUNT INTERVAL_MS\n");
	return 2;
}
