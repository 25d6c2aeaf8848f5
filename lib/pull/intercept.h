/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_INTERCEPT_H
#define PORTCULLIS_INTERCEPT_H

/*
 * What the hook's stages and subcommands do, built on pull, enforcer and
 * state: find the container's namespace, decide whether to touch it, keep
 * the records, and apply on_failure.
 */

#include <stdbool.h>

#include "oci.h"
#include "lib/core/config.h"
#include "lib/net/nl.h"

/* Outcomes of intercept_start() besides a negative errno. */
enum intercept_result {
	INTERCEPTED = 0, /* ports pulled (or the container joined a pulled netns) */
	SKIPPED,	 /* deliberately left alone; the reason was logged */
};

/*
 * prestart/createRuntime.  When the input names nothing to act on (a pid
 * that has exited, no namespace to find) *bad_input is set and nothing was
 * changed; a failed pull returns its error after a complete rollback.
 * -E2BIG: the namespace has more ports than STATE_MAX_PORTS; the container
 * must not start whatever on_failure says (else a workload that can add
 * ports to a shared namespace could arrange an unintercepted start).
 */
int intercept_start(const struct pc_config *cfg, const struct oci_state *st, bool dry_run,
		    bool *bad_input);

/* poststop: forget the container; the last one of a namespace releases it. */
int intercept_stop(const struct pc_config *cfg, const struct oci_state *st);

/* Undo the interception of the namespace holding container id (a unique prefix). */
int intercept_restore(const struct pc_config *cfg, const char *id);

/*
 * Switch the namespace holding container id to mode (off = restore).
 * Connections survive pass<->tap, and tap<->fwd with a data plane running.
 */
int intercept_set_mode(const struct pc_config *cfg, const char *id, enum pc_mode mode);

/* Release what belongs to namespaces that are gone; returns how many. */
int intercept_gc(const struct pc_config *cfg);

/*
 * Take everything away, as a package removal does: every intercepted
 * namespace gets its ports back (journals of dead hooks are undone too),
 * then the enforcer namespace, the data path's pins and the state
 * directory go.  Refused while a data plane answers on ctl_socket (stop it
 * first); when a namespace cannot be given back, nothing else is removed.
 * Returns how many namespaces were released.
 */
int intercept_purge(const struct pc_config *cfg);

#endif
