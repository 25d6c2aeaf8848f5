/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_INTERCEPT_INT_H
#define PORTCULLIS_INTERCEPT_INT_H

/*
 * What intercept.c shares with pod.c inside lib/pull: the steps of an
 * interception, each run by a caller that holds the state lock.
 */

#include <limits.h>

#include "lib/core/config.h"
#include "lib/core/state.h"
#include "lib/net/nl.h"

/* A namespace to intercept, and the container to record for it. */
struct intercept_target {
	struct state_ctr ctr;
	char ns_path[PATH_MAX]; /* how to reach the namespace again (release, recovery) */
	unsigned long ino;
};

/*
 * Pull namespace ns (t->ino) and record it with t->ctr; when a live record
 * covers it already, t->ctr joins that record (its entry refreshed if it
 * has one).  Journals of dead pulls are undone first.  Returns
 * INTERCEPTED, SKIPPED (no port to pull), or a negative errno after a
 * complete rollback.
 */
int intercept_pull_locked(const struct pc_config *cfg, const struct intercept_target *t,
			  struct nl_ns *ns, enum pc_mode mode);

/* Give rec's namespace back and drop rec; rec stays (without containers) if that failed. */
int intercept_release_locked(const struct pc_config *cfg, struct state_rec *rec);

/* Undo the pulls of dead processes from their journals; how many, or a negative errno. */
int intercept_journals_locked(const struct pc_config *cfg);

/* Why namespace ino must never be touched (the host's, the enforcer's), or NULL. */
const char *intercept_refusal(const struct pc_config *cfg, unsigned long ino);

#endif
