/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pc-reflector: a minimal test data plane.
 *
 *   pc-reflector [-n NETNS] [-i IFNAME] [-p PIN] [--drop-tcp-port N] [-q]
 *
 * Joins the network namespace NETNS (a path such as /run/netns/portcullis),
 * reads every frame arriving on IFNAME (default vth-neuv) with an AF_PACKET
 * socket that has PACKET_VNET_HDR set, and writes it back out of IFNAME
 * unchanged, virtio-net header included: container ports keep their
 * offloads, so frames arrive CHECKSUM_PARTIAL and as GSO super-frames of up
 * to 64 KiB, and go back the same way.  Its own transmitted frames are never
 * read again (PACKET_IGNORE_OUTGOING, and sll_pkttype is checked too).
 *
 * PIN is the pinned pc_dp map (or the pin folder holding it): every
 * PC_DP_HEARTBEAT_INTERVAL_MS its heartbeat_ns gets CLOCK_MONOTONIC in ns.
 * The map is written through mmap when it is BPF_F_MMAPABLE (one aligned
 * 64-bit store, as lib/dpath/bpf/dpath_common.h asks of a data plane), else with
 * bpf_map_lookup_elem + bpf_map_update_elem keeping the other fields;
 * --heartbeat-syscall forces the latter.  Without -p there is no heartbeat.
 *
 * --drop-tcp-port N drops TCP segments from or to port N (IPv4, IPv6 with
 * extension headers; later IPv4 fragments carry no ports and pass).
 *
 * Prints "pc-reflector: ready ..." on stdout once the socket is bound and
 * the first heartbeat is written; on SIGTERM or SIGINT it stops (and with it
 * the heartbeat) and prints its counters as one line of key=value pairs.
 * Exit status 0, or 1 on a set-up error (one line on stderr).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "lib/dpath/bpf/dpath_common.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define VNET_LEN sizeof(struct virtio_net_hdr)
#define FRAME_MAX 65536

struct counters {
	unsigned long long rx, rx_bytes, tx, tx_bytes, tx_errors, dropped;
	unsigned long long gso, csum_partial, outgoing_seen, truncated, heartbeats;
	unsigned long long heartbeat_errors, max_len;
};

struct heartbeat {
	int map_fd;
	volatile struct pc_dp_state *mm; /* NULL: lookup + update */
	size_t mm_len;
};

struct opts {
	const char *netns, *ifname, *pin;
	int drop_port;
	bool syscall_hb, quiet;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int die(const char *what, int err)
{
	fprintf(stderr, "pc-reflector: %s: %s\n", what, strerror(err));
	return -1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- heartbeat ---- */

static int hb_open(struct heartbeat *hb, const char *pin, bool syscall_only)
{
	char path[4096];
	struct stat st;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	snprintf(path, sizeof(path), "%s", pin);
	if (stat(pin, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(path, sizeof(path), "%s/%s", pin, PC_PIN_DP);
	hb->map_fd = bpf_obj_get(path);
	if (hb->map_fd < 0)
		return die(path, errno);
	if (bpf_obj_get_info_by_fd(hb->map_fd, &info, &len) < 0)
		return die("map info of pc_dp", errno);
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(__u32) ||
	    info.value_size != sizeof(struct pc_dp_state)) {
		fprintf(stderr, "pc-reflector: %s: not pc_dp (type %u, key %u, value %u bytes)\n",
			path, info.type, info.key_size, info.value_size);
		return -1;
	}
	hb->mm = NULL;
	if (!syscall_only && (info.map_flags & BPF_F_MMAPABLE)) {
		hb->mm_len = (size_t)sysconf(_SC_PAGESIZE);
		void *p = mmap(NULL, hb->mm_len, PROT_READ | PROT_WRITE, MAP_SHARED, hb->map_fd, 0);

		if (p == MAP_FAILED)
			return die("mmap pc_dp", errno);
		hb->mm = p;
	}
	return 0;
}

static int hb_beat(struct heartbeat *hb)
{
	struct pc_dp_state st;
	__u32 zero = 0;

	if (hb->map_fd < 0)
		return 0;
	if (hb->mm) {
		__atomic_store_n(&hb->mm->heartbeat_ns, mono_ns(), __ATOMIC_RELEASE);
		return 0;
	}
	if (bpf_map_lookup_elem(hb->map_fd, &zero, &st) < 0)
		return -errno;
	st.heartbeat_ns = mono_ns();
	if (bpf_map_update_elem(hb->map_fd, &zero, &st, BPF_EXIST) < 0)
		return -errno;
	return 0;
}

/* ---- the drop rule ---- */

static unsigned int be16(const unsigned char *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

/* Offset of the TCP header in an IPv6 packet at l3, or -1. */
static long ip6_tcp_offset(const unsigned char *f, size_t len, size_t l3)
{
	size_t off = l3 + 40;
	unsigned int next = f[l3 + 6];

	for (int i = 0; i < 8; i++) {
		switch (next) {
		case IPPROTO_TCP:
			return (long)off;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (off + 8 > len)
				return -1;
			next = f[off];
			off += ((size_t)f[off + 1] + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if (off + 8 > len || (be16(f + off + 2) & 0xfff8))
				return -1; /* not the first fragment: no ports */
			next = f[off];
			off += 8;
			break;
		default:
			return -1;
		}
	}
	return -1;
}

/* Whether frame f is a TCP segment from or to port. */
static bool tcp_port_match(const unsigned char *f, size_t len, int port)
{
	size_t l3 = ETH_HLEN;
	unsigned int proto;
	long l4 = -1;

	if (len < ETH_HLEN)
		return false;
	proto = be16(f + 12);
	if (proto == ETH_P_8021Q && len >= ETH_HLEN + 4) {
		proto = be16(f + 16);
		l3 += 4;
	}
	if (proto == ETH_P_IP && len >= l3 + 20 && f[l3 + 9] == IPPROTO_TCP &&
	    (be16(f + l3 + 6) & 0x1fff) == 0)
		l4 = (long)(l3 + (f[l3] & 0xf) * 4u);
	else if (proto == ETH_P_IPV6 && len >= l3 + 40)
		l4 = ip6_tcp_offset(f, len, l3);
	if (l4 < 0 || (size_t)l4 + 4 > len)
		return false;
	return (int)be16(f + l4) == port || (int)be16(f + l4 + 2) == port;
}

/* ---- the socket ---- */

static int packet_socket(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, bufsz = 4 << 20;
	int fd;

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex)
		return die(ifname, errno);
	/* protocol 0: nothing is queued before the bind to ifname */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return die("AF_PACKET socket", errno);
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		return die("PACKET_VNET_HDR", errno);
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		return die("PACKET_IGNORE_OUTGOING", errno);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return die("bind", errno);
	return fd;
}

/* Read one frame (virtio-net header first) and send it back; 0 when nothing was waiting. */
static int reflect_one(int fd, unsigned char *buf, const struct opts *o, struct counters *c)
{
	struct sockaddr_ll from;
	struct iovec iov = { .iov_base = buf, .iov_len = VNET_LEN + FRAME_MAX };
	struct msghdr msg = {
		.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1
	};
	const struct virtio_net_hdr *vh = (const void *)buf;
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
	size_t flen;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : die("recvmsg", errno);
	if (from.sll_pkttype == PACKET_OUTGOING) {
		c->outgoing_seen++;
		return 1;
	}
	if ((msg.msg_flags & MSG_TRUNC) || (size_t)n < VNET_LEN) {
		c->truncated++;
		return 1;
	}
	flen = (size_t)n - VNET_LEN;
	c->rx++;
	c->rx_bytes += flen;
	if (flen > c->max_len)
		c->max_len = flen;
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		c->gso++;
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		c->csum_partial++;
	if (o->drop_port && tcp_port_match(buf + VNET_LEN, flen, o->drop_port)) {
		c->dropped++;
		return 1;
	}
	if (send(fd, buf, (size_t)n, 0) != n) {
		if (c->tx_errors++ < 5 && !o->quiet)
			fprintf(stderr, "pc-reflector: send %zu bytes: %s\n", flen,
				strerror(errno));
		return 1;
	}
	c->tx++;
	c->tx_bytes += flen;
	return 1;
}

/* ---- main loop ---- */

static int timer_open(void)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = PC_DP_HEARTBEAT_INTERVAL_MS * 1000000L },
		.it_value = { .tv_nsec = PC_DP_HEARTBEAT_INTERVAL_MS * 1000000L },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL) < 0)
		return die("timerfd", errno);
	return fd;
}

static void beat(struct heartbeat *hb, struct counters *c, bool quiet)
{
	int ret = hb_beat(hb);

	if (ret == 0) {
		c->heartbeats += hb->map_fd >= 0;
		return;
	}
	if (c->heartbeat_errors++ < 5 && !quiet)
		fprintf(stderr, "pc-reflector: heartbeat: %s\n", strerror(-ret));
}

static int run(int sock, struct heartbeat *hb, const struct opts *o, struct counters *c)
{
	static unsigned char buf[VNET_LEN + FRAME_MAX];
	struct pollfd pfd[2] = { { .fd = sock, .events = POLLIN }, { .events = POLLIN } };
	sigset_t none;
	uint64_t ticks;

	pfd[1].fd = timer_open();
	if (pfd[1].fd < 0)
		return -1;
	sigemptyset(&none);
	beat(hb, c, o->quiet);
	printf("pc-reflector: ready on %s%s%s\n", o->ifname, hb->map_fd >= 0 ? ", heartbeat " : "",
	       hb->map_fd >= 0 ? (hb->mm ? "mmap" : "syscall") : "");
	fflush(stdout);
	while (!stop) {
		/* SIGTERM/SIGINT are blocked outside ppoll: no lost wake-up */
		if (ppoll(pfd, 2, NULL, &none) < 0) {
			if (errno == EINTR)
				continue;
			return die("ppoll", errno);
		}
		if ((pfd[1].revents & POLLIN) && read(pfd[1].fd, &ticks, sizeof(ticks)) > 0)
			beat(hb, c, o->quiet);
		/* a bounded batch, so that the heartbeat is never starved */
		for (int i = 0; i < 256 && !stop && (pfd[0].revents & POLLIN); i++) {
			int r = reflect_one(sock, buf, o, c);

			if (r < 0)
				return -1;
			if (r == 0)
				break;
		}
	}
	close(pfd[1].fd);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pc-reflector [-n NETNS_PATH] [-i IFNAME] [-p PC_DP_PIN|PIN_DIR]\n"
		   "                    [--drop-tcp-port N] [--heartbeat-syscall] [-q]\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "ifname", required_argument, NULL, 'i' },
		{ "pin", required_argument, NULL, 'p' },
		{ "drop-tcp-port", required_argument, NULL, 'd' },
		{ "heartbeat-syscall", no_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int c;

	*o = (struct opts){ .ifname = "vth-neuv" };
	while ((c = getopt_long(argc, argv, "n:i:p:d:sqh", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->netns = optarg;
			break;
		case 'i':
			o->ifname = optarg;
			break;
		case 'p':
			o->pin = optarg;
			break;
		case 's':
			o->syscall_hb = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'd':
			o->drop_port = (int)strtol(optarg, &end, 10);
			if (*end || o->drop_port < 1 || o->drop_port > 65535) {
				fprintf(stderr, "pc-reflector: bad --drop-tcp-port '%s'\n", optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static int join_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return die(path, errno);
	if (setns(fd, CLONE_NEWNET) < 0)
		return die("setns", errno);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct heartbeat hb = { .map_fd = -1 };
	struct counters c = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t term;
	struct opts o;
	int sock, ret;

	if (parse(argc, argv, &o) < 0)
		return 2;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* the pin is a path of this mount namespace: setns(CLONE_NEWNET) leaves it be */
	if (o.pin && hb_open(&hb, o.pin, o.syscall_hb) < 0)
		return 1;
	if (o.netns && join_netns(o.netns) < 0)
		return 1;
	sock = packet_socket(o.ifname);
	if (sock < 0)
		return 1;
	ret = run(sock, &hb, &o, &c);
	printf("pc-reflector: rx=%llu rx_bytes=%llu tx=%llu tx_bytes=%llu tx_errors=%llu "
	       "dropped=%llu gso=%llu csum_partial=%llu max_len=%llu outgoing_seen=%llu "
	       "truncated=%llu heartbeats=%llu heartbeat_errors=%llu\n",
	       c.rx, c.rx_bytes, c.tx, c.tx_bytes, c.tx_errors, c.dropped, c.gso, c.csum_partial,
	       c.max_len, c.outgoing_seen, c.truncated, c.heartbeats, c.heartbeat_errors);
	fflush(stdout);
	return ret < 0 ? 1 : 0;
}
