/* SPDX-License-Identifier: Apache-2.0 */
#include "recover.h"

#include <errno.h>
#include <stdlib.h>

#include "journal.h"
#include "pull.h"
#include "lib/core/err.h"
#include "lib/core/log.h"
#include "lib/core/state.h"
#include "lib/net/netns.h"

/* The container namespace of j if it is still the one journaled; -ENOENT when gone. */
static int reopen(const struct journal *j, struct nl_ns *ctr)
{
	int fd = netns_reopen(j->ns_path, j->ns_ino);

	return fd < 0 ? fd : nl_ns_open(fd, ctr);
}

/* The pull finished and its record was saved: the hook died just after. */
static bool recorded(const struct pc_config *cfg, struct nl_ns *enf, unsigned long ino)
{
	struct state_rec rec = { 0 };
	bool live;

	if (state_load(cfg->state_dir, ino, &rec) < 0)
		return false;
	live = enf && pull_is_live(enf, &rec);
	state_rec_free(&rec);
	return live;
}

static int recover_one(const struct pc_config *cfg, struct nl_ns *enf, struct dpath *dpath,
		       const struct journal *j)
{
	struct nl_ns ctr = { .fd = -1, .ioc = -1 };
	bool have_ctr;
	int ret;

	if (recorded(cfg, enf, j->ns_ino)) {
		pr_info("network namespace %lu: a finished pull's journal dropped", j->ns_ino);
		return 0;
	}
	if (!enf)
		return 0; /* no enforcer: nothing was moved anywhere we could find */
	have_ctr = reopen(j, &ctr) == 0;
	ret = pull_recover(have_ctr ? &ctr : NULL, enf, dpath, j);
	if (ret >= 0)
		pr_warn("network namespace %lu: undid the pull of a hook that died (%s)", j->ns_ino,
			have_ctr ? "ports given back" : "namespace gone, enforcer ports deleted");
	nl_ns_close(&ctr);
	return ret;
}

int recover_journals(const struct pc_config *cfg, struct nl_ns *enf, struct dpath *dpath)
{
	char **paths = NULL;
	size_t n = 0;
	int ret, done = 0, first = 0;

	ret = journal_list(cfg->state_dir, &paths, &n);
	for (size_t i = 0; i < n; i++) {
		struct journal j;

		ret = journal_read(paths[i], &j);
		if (ret >= 0) {
			ret = recover_one(cfg, enf, dpath, &j);
			if (ret >= 0)
				ret = journal_remove(cfg->state_dir, j.ns_ino);
			journal_free(&j);
		}
		if (ret < 0) {
			pr_warn("%s", err_msg());
			if (!first)
				first = ret;
		}
		done += ret >= 0;
		free(paths[i]);
	}
	free(paths);
	return first < 0 ? first : done;
}

bool recover_pending(const struct pc_config *cfg)
{
	char **paths = NULL;
	size_t n = 0;

	journal_list(cfg->state_dir, &paths, &n);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return n > 0;
}
