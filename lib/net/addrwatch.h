/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_ADDRWATCH_H
#define PORTCULLIS_ADDRWATCH_H

/*
 * Waiting for the kernel's word that IPv6 duplicate address detection is
 * over on a link.  The kernel decides whether to run DAD in deferred work,
 * after the address was added; a restored port must not get its accept_dad
 * setting back before that has happened, or its addresses would sit
 * tentative (unusable) for a second or more.  Not a poll: the kernel's
 * address notifications say when each address is done.
 */

#include "nl.h"

struct addr_watch {
	struct nl_sock *sk; /* subscribed to IPv6 address events */
	int ifindex;
};

/* Subscribe before changing the link, so that no event is missed. */
int addrwatch_open(struct nl_ns *ns, int ifindex, struct addr_watch *w);
/*
 * Until no IPv6 address of the link is tentative, or timeout_ms passed:
 * 0, or -ETIMEDOUT naming what is still tentative.  query is a socket of the
 * same namespace for one address dump.
 */
int addrwatch_settle(struct addr_watch *w, struct nl_sock *query, int timeout_ms);
void addrwatch_close(struct addr_watch *w);

#endif
