/* SPDX-License-Identifier: Apache-2.0 */
#include "dpath.h"

#include <stdlib.h>
#include <string.h>

#include "dpath_int.h"
#include "enforcer.h"
#include "lib/core/err.h"
#include "lib/core/log.h"

static const struct dpath_ops *backend_for(struct dpath *dpath)
{
	enum pc_backend want = dpath->cfg->backend;

#ifdef PORTCULLIS_HAVE_BPF
	if (want != BACKEND_TC_PEDIT && dpath_bpf_ops.available(dpath))
		return &dpath_bpf_ops;
#endif
	if (want == BACKEND_BPF) {
		err_set(-EOPNOTSUPP,
			"backend bpf: this kernel (or build) cannot run cls_bpf programs");
		return NULL;
	}
	return &dpath_tc_ops;
}

int dpath_open(const struct pc_config *cfg, struct nl_ns *enf, struct dpath **out)
{
	struct dpath *dpath = calloc(1, sizeof(*dpath));
	int ret;

	if (!dpath)
		return err_set(-ENOMEM, "data path");
	dpath->cfg = cfg;
	dpath->enf = enf;
	dpath->bridge_ifindex = nl_link_index(enf->nl, cfg->bridge_port);
	dpath->dp_ifindex = nl_link_index(enf->nl, cfg->dp_port);
	ret = dpath->bridge_ifindex < 0 ? dpath->bridge_ifindex : dpath->dp_ifindex;
	if (ret >= 0) {
		dpath->ops = backend_for(dpath);
		ret = dpath->ops ? dpath->ops->open(dpath) : -EOPNOTSUPP;
	}
	if (ret < 0) {
		free(dpath);
		return err_wrap(ret, "data path");
	}
	*out = dpath;
	return 0;
}

void dpath_close(struct dpath *dpath)
{
	if (!dpath)
		return;
	dpath->ops->close(dpath);
	free(dpath);
}

int dpath_unpin(const struct pc_config *cfg)
{
#ifdef PORTCULLIS_HAVE_BPF
	return dpath_bpf_unpin(cfg);
#else
	return 0;
#endif
}

int dpath_heartbeat_path(const struct dpath *dpath, char *path, size_t len)
{
	if (!dpath->ops->heartbeat_path)
		return err_set(-EOPNOTSUPP, "backend %s has no data-plane heartbeat",
			       dpath->ops->name);
	return dpath->ops->heartbeat_path(dpath, path, len);
}

int dpath_dp_ifindex(const struct dpath *dpath)
{
	return dpath->dp_ifindex;
}

const char *dpath_backend(const struct dpath *dpath)
{
	return dpath->ops->name;
}

bool dpath_supports(const struct dpath *dpath, enum pc_mode mode)
{
	return dpath->ops->supports(dpath, mode);
}

int dpath_attach(struct dpath *dpath, const struct dpath_port *p)
{
	return dpath->ops->attach(dpath, p);
}

int dpath_set_mode(struct dpath *dpath, const struct dpath_port *p, enum pc_mode mode)
{
	if (mode == MODE_OFF || !dpath->ops->supports(dpath, mode))
		return err_set(-EOPNOTSUPP, "mode %s: not available with backend %s",
			       config_mode_name(mode), dpath->ops->name);
	return dpath->ops->set_mode(dpath, p, mode);
}

int dpath_detach(struct dpath *dpath, const struct dpath_port *p)
{
	return dpath->ops->detach(dpath, p);
}

int dpath_port_dropped(const struct pc_config *cfg, const char *backend, int in_ifindex,
		       int ex_ifindex, uint64_t *n)
{
	struct nl_ns enf = { .fd = -1, .ioc = -1 };
	int ret;

#ifdef PORTCULLIS_HAVE_BPF
	if (strcmp(backend, "bpf") == 0)
		return dpath_bpf_port_dropped(cfg, in_ifindex, n);
#endif
	if (strcmp(backend, dpath_tc_ops.name) != 0)
		return -ENOENT;
	ret = enforcer_open(cfg, false, &enf);
	if (ret < 0) {
		err_clear();
		return -ENOENT;
	}
	ret = dpath_tc_port_dropped(enf.nl, in_ifindex, ex_ifindex, n);
	nl_ns_close(&enf);
	if (ret < 0)
		err_clear();
	return ret < 0 ? -ENOENT : 0;
}
