/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pc-sniff: count and show the frames seen on an interface, for tests.
 *
 *   pc-sniff [-n NETNS] -i IFNAME [-t SECONDS] [-c COUNT] [-d in|out] [-s]
 *
 * Joins the network namespace NETNS (a path), opens an AF_PACKET socket on
 * IFNAME and, for SECONDS (default 0: until SIGTERM/SIGINT) or COUNT frames,
 * prints one line per frame on stdout:
 *
 *   DIR SRC_MAC DST_MAC ETHERTYPE PROTO SADDR SPORT DADDR DPORT key=value...
 *
 *   DIR        in (received by IFNAME) or out (sent by it)
 *   ETHERTYPE  ipv4, ipv6, arp, or 0xNNNN
 *   PROTO      tcp, udp, icmp, icmp6, arp, or the IP protocol number; - if not IP/ARP
 *   SPORT/DPORT  TCP/UDP ports, - otherwise; for ARP the addresses are
 *              sender and target IP
 *   len=       frame length (a GSO super-frame shows its whole length)
 *   plen=      TCP/UDP payload length; TCP also flags= (FSRPAUEC) seq= ack=
 *   type= code= (ICMP), op= (ARP: request, reply), nd=1 for IPv6 neighbour
 *              discovery (ICMPv6 types 133-137), cast=bcast|mcast for
 *              group destinations
 *   tag=TPID/VID  an out-of-band VLAN tag (the skb's, not in the frame), as
 *              the data plane's copies carry (88a8/4094)
 *
 * A first line "# pc-sniff: listening on IFNAME" says the socket is bound;
 * the last line is "# pc-sniff: frames=N ..." with counters (frames, bytes,
 * in, out, bcast, mcast, arp, ipv4, ipv6, nd, tcp, udp, icmp, other, and
 * drops: frames the kernel could not queue).
 * -s prints only those two lines; -d keeps only one direction.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SNAP 256

struct opts {
	const char *netns, *ifname;
	double seconds;
	unsigned long long count;
	int dir; /* 0 both, 1 in, 2 out */
	bool summary_only;
};

struct counters {
	unsigned long long frames, bytes, in, out, bcast, mcast, arp, ipv4, ipv6, nd;
	unsigned long long tcp, udp, icmp, other;
};

/* What one frame is, decoded from its first SNAP bytes. */
struct frame {
	const unsigned char *p;
	size_t cap, len; /* captured bytes, real length */
	unsigned int etype, proto;
	char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN];
	long sport, dport; /* -1: none */
	char extra[160];
	bool nd;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned int be16(const unsigned char *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void mac_str(const unsigned char *m, char *b)
{
	snprintf(b, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void extra_add(struct frame *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void extra_add(struct frame *f, const char *fmt, ...)
{
	size_t n = strlen(f->extra);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->extra + n, sizeof(f->extra) - n, fmt, ap);
	va_end(ap);
}

static void decode_tcp(struct frame *f, size_t l4)
{
	static const char names[] = "FSRPAUEC";
	const unsigned char *t = f->p + l4;
	char flags[9] = "";
	size_t hl, n = 0;

	if (l4 + 20 > f->cap)
		return;
	f->sport = be16(t);
	f->dport = be16(t + 2);
	for (int i = 0; i < 8; i++)
		if (t[13] & (1u << i))
			flags[n++] = names[i];
	flags[n] = '\0';
	hl = (size_t)(t[12] >> 4) * 4;
	extra_add(f, " plen=%zu flags=%s seq=%u ack=%u", f->len > l4 + hl ? f->len - l4 - hl : 0,
		  n ? flags : "-", be32(t + 4), be32(t + 8));
}

static void decode_l4(struct frame *f, size_t l4)
{
	const unsigned char *t = f->p + l4;

	switch (f->proto) {
	case IPPROTO_TCP:
		decode_tcp(f, l4);
		break;
	case IPPROTO_UDP:
		if (l4 + 8 > f->cap)
			break;
		f->sport = be16(t);
		f->dport = be16(t + 2);
		extra_add(f, " plen=%zu", f->len > l4 + 8 ? f->len - l4 - 8 : 0);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (l4 + 2 > f->cap)
			break;
		extra_add(f, " type=%u code=%u", t[0], t[1]);
		f->nd = f->proto == IPPROTO_ICMPV6 && t[0] >= 133 && t[0] <= 137;
		if (f->nd)
			extra_add(f, " nd=1");
		break;
	}
}

static void decode_ipv4(struct frame *f, size_t l3)
{
	const unsigned char *h = f->p + l3;

	if (l3 + 20 > f->cap)
		return;
	f->proto = h[9];
	inet_ntop(AF_INET, h + 12, f->saddr, sizeof(f->saddr));
	inet_ntop(AF_INET, h + 16, f->daddr, sizeof(f->daddr));
	if (be16(h + 6) & 0x1fff)
		extra_add(f, " frag=%u", (be16(h + 6) & 0x1fff) * 8);
	else
		decode_l4(f, l3 + (size_t)(h[0] & 0xf) * 4);
}

static void decode_ipv6(struct frame *f, size_t l3)
{
	const unsigned char *h = f->p + l3;
	size_t off = l3 + 40;
	unsigned int next;

	if (l3 + 40 > f->cap)
		return;
	inet_ntop(AF_INET6, h + 8, f->saddr, sizeof(f->saddr));
	inet_ntop(AF_INET6, h + 24, f->daddr, sizeof(f->daddr));
	next = h[6];
	/* hop-by-hop, routing, destination options, fragment */
	for (int i = 0; i < 8 && (next == 0 || next == 43 || next == 60 || next == 44); i++) {
		if (off + 8 > f->cap)
			break;
		if (next == 44 && (be16(f->p + off + 2) & 0xfff8)) {
			f->proto = f->p[off];
			extra_add(f, " frag=%u", be16(f->p + off + 2) & 0xfff8);
			return;
		}
		next = f->p[off];
		off += next == 44 ? 8 : ((size_t)f->p[off + 1] + 1) * 8;
	}
	f->proto = next;
	decode_l4(f, off);
}

static void decode_arp(struct frame *f, size_t l3)
{
	const unsigned char *a = f->p + l3;

	f->proto = 0x806;
	if (l3 + 28 > f->cap || be16(a + 2) != ETH_P_IP || a[4] != 6 || a[5] != 4)
		return;
	inet_ntop(AF_INET, a + 14, f->saddr, sizeof(f->saddr));
	inet_ntop(AF_INET, a + 24, f->daddr, sizeof(f->daddr));
	extra_add(f, " op=%s", be16(a + 6) == 1 ? "request" : be16(a + 6) == 2 ? "reply" : "other");
}

static void decode(struct frame *f)
{
	size_t l3 = ETH_HLEN;

	strcpy(f->saddr, "-");
	strcpy(f->daddr, "-");
	f->sport = f->dport = -1;
	f->proto = 0;
	f->extra[0] = '\0';
	f->nd = false;
	f->etype = f->cap >= ETH_HLEN ? be16(f->p + 12) : 0;
	if (f->etype == ETH_P_8021Q && f->cap >= ETH_HLEN + 4) {
		extra_add(f, " vlan=%u", be16(f->p + 14) & 0xfff);
		f->etype = be16(f->p + 16);
		l3 += 4;
	}
	if (f->etype == ETH_P_IP)
		decode_ipv4(f, l3);
	else if (f->etype == ETH_P_IPV6)
		decode_ipv6(f, l3);
	else if (f->etype == ETH_P_ARP)
		decode_arp(f, l3);
}

static const char *etype_name(unsigned int e, char *buf)
{
	if (e == ETH_P_IP)
		return "ipv4";
	if (e == ETH_P_IPV6)
		return "ipv6";
	if (e == ETH_P_ARP)
		return "arp";
	snprintf(buf, 8, "0x%04x", e);
	return buf;
}

static const char *proto_name(const struct frame *f, char *buf)
{
	if (f->etype == ETH_P_ARP)
		return "arp";
	if (f->etype != ETH_P_IP && f->etype != ETH_P_IPV6)
		return "-";
	switch (f->proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmp6";
	}
	snprintf(buf, 8, "%u", f->proto);
	return buf;
}

static void count(struct counters *c, const struct frame *f, bool out)
{
	c->frames++;
	c->bytes += f->len;
	out ? c->out++ : c->in++;
	if (f->cap >= 6 && memcmp(f->p, "\xff\xff\xff\xff\xff\xff", 6) == 0)
		c->bcast++;
	else if (f->cap >= 1 && (f->p[0] & 1))
		c->mcast++;
	if (f->etype == ETH_P_ARP)
		c->arp++;
	else if (f->etype == ETH_P_IP)
		c->ipv4++;
	else if (f->etype == ETH_P_IPV6)
		c->ipv6++;
	if (f->etype != ETH_P_IP && f->etype != ETH_P_IPV6)
		return;
	if (f->nd)
		c->nd++;
	if (f->proto == IPPROTO_TCP)
		c->tcp++;
	else if (f->proto == IPPROTO_UDP)
		c->udp++;
	else if (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6)
		c->icmp++;
	else
		c->other++;
}

static void print_frame(const struct frame *f, bool out)
{
	char src[18] = "-", dst[18] = "-", eb[8], pb[8], sp[24] = "-", dp[24] = "-";
	const char *cast = "";

	if (f->cap >= ETH_HLEN) {
		mac_str(f->p + 6, src);
		mac_str(f->p, dst);
		if (f->p[0] & 1)
			cast = memcmp(f->p, "\xff\xff\xff\xff\xff\xff", 6) ? " cast=mcast"
									   : " cast=bcast";
	}
	if (f->sport >= 0) {
		snprintf(sp, sizeof(sp), "%ld", f->sport);
		snprintf(dp, sizeof(dp), "%ld", f->dport);
	}
	printf("%s %s %s %s %s %s %s %s %s len=%zu%s%s\n", out ? "out" : "in", src, dst,
	       etype_name(f->etype, eb), proto_name(f, pb), f->saddr, sp, f->daddr, dp, f->len,
	       f->extra, cast);
}

/* drops: frames the kernel could not queue to us (a full buffer), so a
 * comparison with another capture knows whether it is complete */
static void print_summary(const struct counters *c, int fd)
{
	struct tpacket_stats st = { 0 };
	socklen_t len = sizeof(st);

	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		st.tp_drops = 0;
	printf("# pc-sniff: frames=%llu bytes=%llu in=%llu out=%llu bcast=%llu mcast=%llu arp=%llu "
	       "ipv4=%llu ipv6=%llu nd=%llu tcp=%llu udp=%llu icmp=%llu other=%llu drops=%u\n",
	       c->frames, c->bytes, c->in, c->out, c->bcast, c->mcast, c->arp, c->ipv4, c->ipv6,
	       c->nd, c->tcp, c->udp, c->icmp, c->other, st.tp_drops);
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "pc-sniff: %s: %s\n", what, strerror(err));
	return -1;
}

static int packet_socket(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int bufsz = 8 << 20, one = 1;
	int fd;

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex)
		return fail(ifname, errno);
	/* protocol 0 until bound: no frame of another interface gets queued */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("AF_PACKET socket", errno);
	/* beyond rmem_max when root may: a slow (emulated) machine must not drop */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
		return fail("PACKET_AUXDATA", errno);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return fail("bind", errno);
	return fd;
}

static long remaining_ms(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
}

/* Drains what is queued; returns whether the frame budget is spent. */
static bool drain(int fd, const struct opts *o, struct counters *c)
{
	static unsigned char buf[SNAP];
	union {
		char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_ll from;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh;
	const struct tpacket_auxdata *aux;
	struct cmsghdr *cm;
	struct frame f;
	ssize_t n;

	for (;;) {
		if (o->count && c->frames >= o->count)
			return true;
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			return false;
		bool out = from.sll_pkttype == PACKET_OUTGOING;

		aux = NULL;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA)
				aux = (const void *)CMSG_DATA(cm);

		if ((o->dir == 1 && out) || (o->dir == 2 && !out))
			continue;
		f.p = buf;
		f.len = (size_t)n;
		f.cap = f.len < SNAP ? f.len : SNAP;
		decode(&f);
		if (aux && (aux->tp_status & TP_STATUS_VLAN_VALID))
			extra_add(&f, " tag=%04x/%u",
				  (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux->tp_vlan_tpid
									       : ETH_P_8021Q,
				  aux->tp_vlan_tci & 0xfff);
		count(c, &f, out);
		if (!o->summary_only)
			print_frame(&f, out);
	}
}

static int capture(int fd, const struct opts *o, struct counters *c)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec end;
	sigset_t none;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)o->seconds;
	end.tv_nsec += (long)((o->seconds - (double)(time_t)o->seconds) * 1e9);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	sigemptyset(&none);
	while (!stop) {
		long ms = o->seconds > 0 ? remaining_ms(&end) : 1000;
		struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

		if (ms <= 0)
			break;
		if (ppoll(&pfd, 1, &ts, &none) < 0 && errno != EINTR)
			return fail("ppoll", errno);
		if (drain(fd, o, c))
			break;
	}
	drain(fd, o, c); /* what was queued before the stop */
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pc-sniff [-n NETNS_PATH] -i IFNAME [-t SECONDS] [-c COUNT] [-d in|out] "
		   "[-s]\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	char *end;
	int c;

	*o = (struct opts){ 0 };
	while ((c = getopt(argc, argv, "n:i:t:c:d:sh")) != -1) {
		switch (c) {
		case 'n':
			o->netns = optarg;
			break;
		case 'i':
			o->ifname = optarg;
			break;
		case 't':
			o->seconds = strtod(optarg, &end);
			if (*end || o->seconds < 0) {
				fprintf(stderr, "pc-sniff: bad -t '%s'\n", optarg);
				return -1;
			}
			break;
		case 'c':
			o->count = strtoull(optarg, &end, 10);
			if (*end) {
				fprintf(stderr, "pc-sniff: bad -c '%s'\n", optarg);
				return -1;
			}
			break;
		case 'd':
			o->dir = !strcmp(optarg, "in") ? 1 : !strcmp(optarg, "out") ? 2 : -1;
			if (o->dir < 0) {
				fprintf(stderr, "pc-sniff: -d takes in or out, not '%s'\n", optarg);
				return -1;
			}
			break;
		case 's':
			o->summary_only = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (!o->ifname || optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct counters c = { 0 };
	sigset_t term;
	struct opts o;
	int fd;

	if (parse(argc, argv, &o) < 0)
		return 2;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (o.netns) {
		int ns = open(o.netns, O_RDONLY | O_CLOEXEC);

		if (ns < 0 || setns(ns, CLONE_NEWNET) < 0)
			return fail(o.netns, errno), 1;
		close(ns);
	}
	fd = packet_socket(o.ifname);
	if (fd < 0)
		return 1;
	printf("# pc-sniff: listening on %s\n", o.ifname);
	fflush(stdout);
	if (capture(fd, &o, &c) < 0)
		return 1;
	print_summary(&c, fd);
	return 0;
}
