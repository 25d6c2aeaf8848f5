/* SPDX-License-Identifier: Apache-2.0 */
#include "dpath.h"

#include <stdlib.h>

#include "dpath_int.h"
#include "lib/core/err.h"
#include "lib/core/log.h"

static const struct dpath_ops *backend_for(struct dpath *dp)
{
	enum pc_backend want = dp->cfg->backend;

#ifdef PORTCULLIS_HAVE_BPF
	if (want != BACKEND_TC_PEDIT && dpath_bpf_ops.available(dp))
		return &dpath_bpf_ops;
#endif
	if (want == BACKEND_BPF) {
		err_set(-EOPNOTSUPP, "backend bpf: this kernel (or build) cannot run cls_bpf programs");
		return NULL;
	}
	return &dpath_tc_ops;
}

int dpath_open(const struct pc_config *cfg, struct nl_ns *enf, struct dpath **out)
{
	struct dpath *dp = calloc(1, sizeof(*dp));
	int ret;

	if (!dp)
		return err_set(-ENOMEM, "data path");
	dp->cfg = cfg;
	dp->enf = enf;
	dp->bridge_ifindex = nl_link_index(enf->nl, cfg->bridge_port);
	dp->dp_ifindex = nl_link_index(enf->nl, cfg->dp_port);
	ret = dp->bridge_ifindex < 0 ? dp->bridge_ifindex : dp->dp_ifindex;
	if (ret >= 0) {
		dp->ops = backend_for(dp);
		ret = dp->ops ? dp->ops->open(dp) : -EOPNOTSUPP;
	}
	if (ret < 0) {
		free(dp);
		return err_wrap(ret, "data path");
	}
	*out = dp;
	return 0;
}

void dpath_close(struct dpath *dp)
{
	if (!dp)
		return;
	dp->ops->close(dp);
	free(dp);
}

int dpath_unpin(const struct pc_config *cfg)
{
#ifdef PORTCULLIS_HAVE_BPF
	return dpath_bpf_unpin(cfg);
#else
	return 0;
#endif
}

int dpath_heartbeat_path(const struct dpath *dp, char *path, size_t len)
{
	if (!dp->ops->heartbeat_path)
		return err_set(-EOPNOTSUPP, "backend %s has no data-plane heartbeat", dp->ops->name);
	return dp->ops->heartbeat_path(dp, path, len);
}

int dpath_dp_ifindex(const struct dpath *dp)
{
	return dp->dp_ifindex;
}

const char *dpath_backend(const struct dpath *dp)
{
	return dp->ops->name;
}

bool dpath_supports(const struct dpath *dp, enum pc_mode mode)
{
	return dp->ops->supports(dp, mode);
}

int dpath_attach(struct dpath *dp, const struct dpath_port *p)
{
	return dp->ops->attach(dp, p);
}

int dpath_set_mode(struct dpath *dp, const struct dpath_port *p, enum pc_mode mode)
{
	if (mode == MODE_OFF || !dp->ops->supports(dp, mode))
		return err_set(-EOPNOTSUPP, "mode %s: not available with backend %s",
			       config_mode_name(mode), dp->ops->name);
	return dp->ops->set_mode(dp, p, mode);
}

int dpath_detach(struct dpath *dp, const struct dpath_port *p)
{
	return dp->ops->detach(dp, p);
}
