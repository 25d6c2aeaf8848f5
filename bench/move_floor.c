/* SPDX-License-Identifier: Apache-2.0 */
/*
 * portcullis-bench-move: the kernel floor of a port pull.
 *
 * Moves one existing link into another network namespace with a single
 * RTM_NEWLINK carrying IFLA_NET_NS_FD, and waits for the kernel's ACK.
 * Nothing else: no dump, no lookup (the kernel finds the link by IFLA_IFNAME),
 * no library beyond libc.  Whatever the hook spends above this program's time
 * is the hook's own.
 *
 *   portcullis-bench-move [-s SRC_NETNS] [-n NEWNAME] [-t] IFNAME DST_NETNS
 *
 *   -s SRC_NETNS  enter this namespace (a path such as /run/netns/X) first;
 *                 without it the link is looked up in our own namespace
 *   -n NEWNAME    rename the link in the same request (as the hook does)
 *   -t            print the request's round trip (send to ACK) in microseconds
 *
 * Exit 0 on success, 1 with a one-line reason on stderr otherwise.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[128];
};

static void add_attr(struct req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int die(const char *what, int err)
{
	fprintf(stderr, "portcullis-bench-move: %s: %s\n", what, strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	const char *src = NULL, *newname = NULL, *ifname, *dst;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct req r;
	char buf[4096];
	double t0, t1;
	int c, fd, dfd, sk, timing = 0;
	uint32_t nsfd;
	ssize_t n;

	while ((c = getopt(argc, argv, "s:n:t")) != -1) {
		switch (c) {
		case 's':
			src = optarg;
			break;
		case 'n':
			newname = optarg;
			break;
		case 't':
			timing = 1;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	ifname = argv[optind];
	dst = argv[optind + 1];
	if (strlen(ifname) >= IFNAMSIZ || (newname && strlen(newname) >= IFNAMSIZ))
		return die("link name", ENAMETOOLONG);

	if (src) {
		fd = open(src, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return die(src, errno);
		if (setns(fd, CLONE_NEWNET) < 0)
			return die("setns", errno);
		close(fd);
	}
	dfd = open(dst, O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return die(dst, errno);
	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (sk < 0)
		return die("netlink socket", errno);

	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(r.ifi));
	r.nh.nlmsg_type = RTM_NEWLINK;
	r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	r.nh.nlmsg_seq = 1;
	r.ifi.ifi_family = AF_UNSPEC; /* ifi_index 0: the kernel looks the link up by name */
	add_attr(&r, IFLA_IFNAME, ifname, strlen(ifname) + 1);
	nsfd = (uint32_t)dfd;
	add_attr(&r, IFLA_NET_NS_FD, &nsfd, sizeof(nsfd));
	/*
	 * A rename in the same request: IFLA_IFNAME then names the target, so
	 * the link must be given by index.  Look it up only in that case.
	 */
	if (newname) {
		r.ifi.ifi_index = (int)if_nametoindex(ifname);
		if (!r.ifi.ifi_index)
			return die(ifname, errno);
		r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(r.ifi));
		add_attr(&r, IFLA_NET_NS_FD, &nsfd, sizeof(nsfd));
		add_attr(&r, IFLA_IFNAME, newname, strlen(newname) + 1);
	}

	t0 = now_us();
	if (sendto(sk, &r, r.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return die("send RTM_NEWLINK", errno);
	for (;;) {
		n = recv(sk, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return die("receive ACK", errno);
		break;
	}
	t1 = now_us();
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n);
	     h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			if (e->error)
				return die("move link", -e->error);
			if (timing)
				printf("%.0f\n", t1 - t0);
			return 0;
		}
	}
	return die("move link", EPROTO);
usage:
	fprintf(stderr,
		"usage: portcullis-bench-move [-s SRC_NETNS] [-n NEWNAME] [-t] IFNAME DST_NETNS\n");
	return 2;
}
