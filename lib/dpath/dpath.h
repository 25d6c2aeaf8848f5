/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DPATH_H
#define PORTCULLIS_DPATH_H

/*
 * The data path of the enforcer namespace: how traffic of a pulled port
 * pair (exPort towards the host, inPort towards the container) is steered,
 * and how the data plane on dp_port (vth-neuv) sees it through bridge_port
 * (vbr-neuv).
 *
 *   pass  exPort <-> inPort directly, in the kernel.
 *   tap   the same, plus a copy of every unicast IP frame to bridge_port,
 *         its container MAC rewritten to the port's UCMAC (source MAC on
 *         the way out of the container, destination MAC on the way in).
 *   fwd   unicast IP frames go only to bridge_port, UCMAC-rewritten; what
 *         the data plane sends back on dp_port arrives on bridge_port's
 *         ingress, gets the container MAC back and leaves through inPort
 *         (destination was a UCMAC) or exPort (source was a UCMAC).
 * ARP and neighbour discovery go straight across; IP from the container to
 * a broadcast or multicast MAC is treated like unicast, from the host it
 * goes straight across.
 *
 * In tap and fwd the ports check frames first (source_check): from the container, its own MAC and
 * addresses, untagged; from the host, no UCMAC; everything else is dropped and counted
 * (lib/dpath/bpf/dpath_common.h, pc_guards and pc_drops).
 *
 * Two backends: "bpf" (cls_bpf programs loaded once per enforcer namespace
 * and pinned, per-port configuration in maps) and "tc-pedit" (the original
 * design's ingress u32 + pedit + mirred filters, for kernels without
 * cls_bpf).
 */

#include <stdbool.h>
#include <stdint.h>

#include "lib/core/config.h"
#include "lib/net/nl.h"

struct dpath;

#define DPATH_MAX_ADDRS 16

struct dpath_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};

struct dpath_port {
	int in_ifindex;	    /* inPort, in the enforcer namespace */
	int ex_ifindex;	    /* exPort, in the enforcer namespace */
	uint8_t ctr_mac[6]; /* the container port's MAC */
	uint8_t ucmac[6];   /* the port's MAC towards the data plane */
	enum pc_mode mode;  /* MODE_PASS, MODE_TAP or MODE_FWD */
	/* the port's own addresses (source_check strict), read by attach only */
	size_t n_addrs;
	struct dpath_addr addrs[DPATH_MAX_ADDRS];
};

/*
 * The data path of enforcer namespace enf (opened and locked by the caller,
 * with bridge_port and dp_port in place): picks the backend (cfg->backend;
 * auto = bpf where the kernel has cls_bpf and clsact, else tc-pedit) and
 * prepares bridge_port once per namespace.  enf must outlive *out.
 */
int dpath_open(const struct pc_config *cfg, struct nl_ns *enf, struct dpath **out);
void dpath_close(struct dpath *dpath);
const char *dpath_backend(const struct dpath *dpath);
/*
 * The pinned map (struct pc_dp_state, lib/dpath/bpf/dpath_common.h) in which a
 * data plane keeps its heartbeat; -EOPNOTSUPP for a backend without one
 * (tc-pedit: its filters cannot read one; fwd traffic stops while no data
 * plane returns it).
 */
int dpath_heartbeat_path(const struct dpath *dpath, char *path, size_t len);
/* dp_port (vth-neuv) in the enforcer namespace. */
int dpath_dp_ifindex(const struct dpath *dpath);
/* Whether the backend can run mode (pass always). */
bool dpath_supports(const struct dpath *dpath, enum pc_mode mode);

/*
 * Delete the entries of pc_bypass (lib/dpath/bpf/dpath_common.h, open as map_fd)
 * whose UCMAC is ucmac, or every entry when ucmac is NULL; gone counts as
 * done.  The hook's release and the data plane's start and stop share it.
 */
int dpath_bypass_forget(int map_fd, const uint8_t ucmac[6]);

/*
 * Delete what the data path of cfg's enforcer namespace keeps outside it
 * (the bpf backend's pins), for an enforcer that goes for good; gone
 * counts as done.
 */
int dpath_unpin(const struct pc_config *cfg);

/*
 * Frames the checks at the ports of the pair (in_ifindex, ex_ifindex) of
 * cfg's enforcer dropped so far, in *n: backend "bpf" from its pins,
 * "tc-pedit" from the statistics of its filters; -ENOENT when there is no
 * such pair (or pin, or enforcer).  No message.
 */
int dpath_port_dropped(const struct pc_config *cfg, const char *backend, int in_ifindex,
		       int ex_ifindex, uint64_t *n);

/* Steer a port pair in p->mode. */
int dpath_attach(struct dpath *dpath, const struct dpath_port *p);
/* Switch a steered pair to another mode; connections survive. */
int dpath_set_mode(struct dpath *dpath, const struct dpath_port *p, enum pc_mode mode);
/* Remove all of p; what is already gone counts as done. */
int dpath_detach(struct dpath *dpath, const struct dpath_port *p);

#endif
