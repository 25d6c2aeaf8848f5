/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_NL_H
#define PORTCULLIS_NL_H

/*
 * rtnetlink through libnl-3, with portcullis' error convention: every
 * function returns 0 or a negative errno (never -NLE_*), and failures carry
 * the kernel's own explanation (extended ACK) when it gives one.
 *
 * Name sockets after the namespace they live in (ctr_nl, enf_nl): a socket
 * made by nl_open_in() talks to that namespace for its whole life.
 */

#include <stdbool.h>
#include <stdint.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

/*
 * A namespace as the pull sees it: its fd, identity, a routing socket and an
 * ioctl socket (ethtool) both created inside it.
 */
struct nl_ns {
	int fd;
	unsigned long ino;
	struct nl_sock *nl;
	int ioc;
};

/* Take ownership of nsfd and open both sockets in it. */
int nl_ns_open(int nsfd, struct nl_ns *ns);
void nl_ns_close(struct nl_ns *ns);

/* A routing socket created inside namespace nsfd (-1: the caller's). */
struct nl_sock *nl_open_in(int nsfd);
void nl_close(struct nl_sock *sk);

/* Translate a libnl -NLE_* code to -errno and record "what: libnl's text". */
int nl_fail(int nle, const char *what);

/*
 * Send msg (which this consumes) asking for an ACK and wait for it.
 * Returns 0 or the kernel's -errno, with "what: strerror (kernel says ...)"
 * recorded.
 */
int nl_talk(struct nl_sock *sk, struct nl_msg *msg, const char *what);

/* What a new link is made with; zero fields are left to the kernel. */
struct nl_link_spec {
	const char *name;
	int ifindex;
	const uint8_t *mac; /* 6 bytes */
	const char *alias;
	uint32_t mtu, txqlen, num_tx, num_rx, gso_max_size, gso_max_segs, group;
	bool up;
	int nsfd; /* create it in this namespace; -1 = the socket's */
};

/*
 * One request: a veth pair; peer may live in another namespace.  The peer is
 * always born down (its up is ignored): the kernel cannot open a veth end
 * before the pair is joined, so bring it up with a second request.
 */
int nl_veth_create(struct nl_sock *sk, const struct nl_link_spec *a,
		   const struct nl_link_spec *peer);

/* Fetch one link by index (or by name when ifindex is 0); -ENODEV when absent. */
int nl_link_get(struct nl_sock *sk, int ifindex, const char *name, struct rtnl_link **out);
/* The ifindex of link name; -ENODEV when absent. */
int nl_link_index(struct nl_sock *sk, const char *name);
int nl_link_updown(struct nl_sock *sk, int ifindex, bool up);
/* Set the IFF_* flags selected by change to their value in flags. */
int nl_link_set_flags(struct nl_sock *sk, int ifindex, unsigned flags, unsigned change);
/* Move into namespace nsfd, renaming on the way when name is not NULL. */
int nl_link_move(struct nl_sock *sk, int ifindex, int nsfd, const char *name);
int nl_link_delete(struct nl_sock *sk, int ifindex);

#endif
