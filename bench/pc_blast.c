// SPDX-License-Identifier: Apache-2.0
/*
 * pc-blast: IPv4/UDP frames out of a link, as fast as sendmmsg goes.
 *
 *   pc-blast IFNAME SRC_MAC DST_MAC SRC_IP DST_IP SIZE FLOWS SECONDS [CPU]
 *
 * Frames of SIZE bytes (Ethernet header included, at least 42), UDP source
 * port cycling over FLOWS values, for SECONDS, the qdisc bypassed, pinned
 * to CPU when given.  Prints "sent=N wall_ns=N".  For benchmarks only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 256
#define MAX_FRAME 1514

static unsigned long long mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned long long)t.tv_sec * 1000000000ULL + (unsigned long long)t.tv_nsec;
}

static unsigned short ip_csum(const unsigned char *h)
{
	unsigned sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (unsigned)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned short)~sum;
}

/* One frame; the UDP source port is set per send. */
static int build(unsigned char *f, size_t size, char **argv)
{
	unsigned char *ip = f + 14, *udp = f + 34;
	unsigned short c;

	if (sscanf(argv[2], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", f + 6, f + 7, f + 8, f + 9, f + 10,
		   f + 11) != 6 ||
	    sscanf(argv[3], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", f, f + 1, f + 2, f + 3, f + 4,
		   f + 5) != 6 ||
	    inet_pton(AF_INET, argv[4], ip + 12) != 1 || inet_pton(AF_INET, argv[5], ip + 16) != 1)
		return -1;
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (unsigned char)((size - 14) >> 8);
	ip[3] = (unsigned char)(size - 14);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	c = ip_csum(ip);
	ip[10] = (unsigned char)(c >> 8);
	ip[11] = (unsigned char)c;
	udp[2] = 0x27; /* port 10000 */
	udp[3] = 0x10;
	udp[4] = (unsigned char)((size - 34) >> 8);
	udp[5] = (unsigned char)(size - 34); /* checksum 0: none */
	return 0;
}

int main(int argc, char **argv)
{
	static unsigned char frames[BATCH][MAX_FRAME];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	unsigned long long sent = 0, t0, end;
	unsigned flows, next = 0;
	size_t size;
	int fd, one = 1;

	if (argc < 9 || argc > 10) {
		fprintf(stderr,
			"usage: pc-blast IFNAME SRC_MAC DST_MAC SRC_IP DST_IP SIZE FLOWS SECONDS [CPU]\n");
		return 2;
	}
	size = strtoul(argv[6], NULL, 10);
	flows = (unsigned)strtoul(argv[7], NULL, 10);
	if (size < 42 || size > MAX_FRAME || !flows || build(frames[0], size, argv) < 0) {
		fprintf(stderr, "pc-blast: bad size, flows, MAC or address\n");
		return 2;
	}
	if (argc == 10) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(atoi(argv[9]), &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			perror("pc-blast: sched_setaffinity");
	}
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0 || !sll.sll_ifindex || bind(fd, (void *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0) {
		perror(argv[1]);
		return 1;
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < BATCH; i++) {
		memcpy(frames[i], frames[0], size);
		iov[i] = (struct iovec){ frames[i], size };
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = mono_ns();
	end = t0 + strtoull(argv[8], NULL, 10) * 1000000000ULL;
	while (mono_ns() < end) {
		int r;

		for (int i = 0; i < BATCH; i++, next = (next + 1) % flows) {
			frames[i][34] = (unsigned char)((20000 + next) >> 8);
			frames[i][35] = (unsigned char)(20000 + next);
		}
		r = sendmmsg(fd, m, BATCH, 0);
		if (r < 0 && errno != ENOBUFS && errno != EAGAIN) {
			perror("pc-blast: sendmmsg");
			return 1;
		}
		sent += r > 0 ? (unsigned)r : 0;
	}
	printf("sent=%llu wall_ns=%llu\n", sent, mono_ns() - t0);
	return 0;
}
