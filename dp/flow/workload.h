/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_WORKLOAD_H
#define PORTCULLIS_DP_WORKLOAD_H

/*
 * What the data plane knows of the intercepted ports, read from the hook's
 * state records: UCMAC -> container (id, group, Kubernetes names), mode,
 * addresses.  A table is an immutable snapshot; the data plane builds a
 * new one when state_dir changes and swaps it in.  Container entries are
 * reference counted so a session can name its container after the
 * snapshot (or the container) is gone.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/core/config.h"
#include "lib/core/state.h"

/*
 * A workload: the containers of one network namespace (one, or a pod's).
 * Its id and name are its first container's, its group the first any of
 * them has, its Kubernetes namespace and pod those of the first entry
 * that has them (the runtime recorded them: the hook from the runtime's
 * CRI annotations, portcullis-nri from NRI's pod).  names holds every
 * name a container of it goes by, for container:NAME: runtime names and
 * Kubernetes container names, each once, not a pod sandbox's (that is
 * the pod's name).
 */
struct wl_ctr {
	atomic_uint refs;
	char id[OCI_ID_MAX];
	char name[OCI_NAME_MAX]; /* "" when the runtime's name is unknown */
	char group[OCI_NAME_MAX];
	char k8s_pod[OCI_NAME_MAX];
	char k8s_namespace[OCI_NAME_MAX];
	char k8s_container[OCI_NAME_MAX];
	size_t n_names;
	char **names; /* heap, freed with the entry */
};

struct wl_addr {
	uint8_t family;
	uint8_t addr[16];
};

struct workload {
	uint32_t port_id; /* stable: the UCMAC's last four bytes */
	uint8_t ucmac[6];
	enum pc_mode mode;
	char ifname[IFNAMSIZ];
	struct wl_ctr *ctr;
	size_t n_addrs;
	struct wl_addr addrs[STATE_MAX_ADDRS];
};

struct wl_addr_ref {
	struct wl_addr addr;
	size_t port; /* index into ports */
};

struct workloads {
	size_t n;
	struct workload *ports; /* sorted by port_id */
	size_t n_addrs;
	struct wl_addr_ref *by_addr; /* every port's addresses, sorted */
	size_t n_ctrs;
	struct wl_ctr **ctrs;
};

/* The port id of a UCMAC (never 0). */
uint32_t workload_port_id(const uint8_t mac[6]);

/* A snapshot of state_dir's records; a missing directory is an empty table. */
int workloads_load(const char *state_dir, struct workloads **out);
/* The same, the records read from src (lib/core/state.h) by a process that may not open them. */
int workloads_load_from(const char *state_dir, const struct state_source *src,
			struct workloads **out);
/* An empty table. */
struct workloads *workloads_empty(void);
void workloads_free(struct workloads *w);

const struct workload *workloads_by_port(const struct workloads *w, uint32_t port_id);
/* The port whose UCMAC is mac, or NULL. */
const struct workload *workloads_by_ucmac(const struct workloads *w, const uint8_t mac[6]);
/* The port that holds address addr (family AF_INET/AF_INET6), or NULL. */
const struct workload *workloads_by_addr(const struct workloads *w, uint8_t family,
					 const uint8_t addr[16]);

struct wl_ctr *wl_ctr_get(struct wl_ctr *c);
void wl_ctr_put(struct wl_ctr *c);

#endif
