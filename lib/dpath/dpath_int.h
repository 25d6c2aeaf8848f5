/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DPATH_INT_H
#define PORTCULLIS_DPATH_INT_H

/* Between dpath.c and its backends only. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpath.h"

struct dpath_ops {
	const char *name;
	/* whether this kernel can run the backend (probe, no change) */
	bool (*available)(struct dpath *dpath);
	bool (*supports)(const struct dpath *dpath, enum pc_mode mode);
	/* once per hook run: load or reuse what the namespace needs */
	int (*open)(struct dpath *dpath);
	void (*close)(struct dpath *dpath);
	int (*attach)(struct dpath *dpath, const struct dpath_port *p);
	int (*set_mode)(struct dpath *dpath, const struct dpath_port *p, enum pc_mode mode);
	int (*detach)(struct dpath *dpath, const struct dpath_port *p);
	/* the data plane's heartbeat map; NULL when the backend has none */
	int (*heartbeat_path)(const struct dpath *dpath, char *path, size_t len);
};

struct dpath {
	const struct dpath_ops *ops;
	const struct pc_config *cfg;
	struct nl_ns *enf;
	int bridge_ifindex; /* bridge_port (vbr-neuv) in enf */
	int dp_ifindex;	    /* dp_port (vth-neuv) in enf */
	void *priv;	    /* the backend's */
};

extern const struct dpath_ops dpath_bpf_ops;
int dpath_bpf_unpin(const struct pc_config *cfg);
int dpath_bpf_port_dropped(const struct pc_config *cfg, int in_ifindex, uint64_t *n);
extern const struct dpath_ops dpath_tc_ops;
/* What the checks at both ports of a pair dropped (sk: in the enforcer). */
int dpath_tc_port_dropped(struct nl_sock *sk, int in_ifindex, int ex_ifindex, uint64_t *n);

#endif
