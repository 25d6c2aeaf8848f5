/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_TC_PEDIT_H
#define PORTCULLIS_TC_PEDIT_H

/*
 * TC actions built as raw netlink attributes, for the filters of the
 * tc-pedit data path: libnl-route-3 has no pedit action, and a filter's
 * action list cannot mix libnl action objects with raw ones, so the mirred
 * actions of such a list are built here too.
 *
 * Each tc_put_* appends one action, numbered order (1, 2, ...: the order
 * the kernel runs them in), to the action list nest open in msg (a
 * classifier's TCA_*_ACT).  They return 0 or -EMSGSIZE.
 */

#include <stdint.h>

#include <netlink/netlink.h>

enum tc_eth_field { TC_ETH_DST, TC_ETH_SRC };

/*
 * pedit: set the Ethernet destination or source address to mac, then go on
 * with the next action.  The keys are relative to the Ethernet header
 * ("pedit ex munge eth dst|src set MAC"), so they hold on ingress, where
 * the data starts at the network header, and on egress alike.
 */
int tc_put_pedit_eth(struct nl_msg *msg, int order, enum tc_eth_field field, const uint8_t mac[6]);

/*
 * A drop, counted in the action's statistics: pedit with one key that
 * changes nothing and TC_ACT_SHOT as its verdict (act_gact, whose job
 * this is, is missing from some kernels this backend runs on).
 */
int tc_put_drop(struct nl_msg *msg, int order);

/*
 * mirred to the egress of ifindex: redirect (TCA_EGRESS_REDIR; the frame is
 * gone, nothing after it runs) or mirror (TCA_EGRESS_MIRROR; a clone is
 * sent and the next action gets the frame).
 */
int tc_put_mirred(struct nl_msg *msg, int order, int eaction, int ifindex);

/*
 * Whether the kernel of sk's namespace has the pedit action: 1 yes, 0 no,
 * or a negative errno when it cannot tell.  Creates nothing: the request is
 * one the pedit action itself refuses (it carries no parameters), after
 * the kernel has loaded the module if it could.
 */
int tc_pedit_probe(struct nl_sock *sk);

#endif
