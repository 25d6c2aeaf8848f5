/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_RECOVER_H
#define PORTCULLIS_RECOVER_H

#include <stdbool.h>

#include "lib/core/config.h"
#include "lib/dpath/dpath.h"
#include "lib/net/nl.h"

/*
 * Undo the pulls of hooks that died half-way (killed, or the machine lost
 * power between two steps), from their journals in state_dir: the caller
 * holds the state lock, so no journal there belongs to a live pull.  Each
 * container whose namespace still exists gets its original ports back; for
 * one that is gone, what is left in the enforcer is deleted.  A journal
 * whose pull did finish (its record is live) is only removed.
 *
 * enf/dp: the enforcer namespace and data path, or NULL when there is no
 * enforcer namespace (then nothing of ours can be left there either).
 * Returns how many journals were dealt with, or a negative errno for the
 * first that could not be (it stays, for the next try).
 */
int recover_journals(const struct pc_config *cfg, struct nl_ns *enf, struct dpath *dpath);

/* Whether state_dir holds any journal (cheap: one directory scan). */
bool recover_pending(const struct pc_config *cfg);

#endif
