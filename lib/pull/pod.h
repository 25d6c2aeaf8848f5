/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_POD_H
#define PORTCULLIS_POD_H

/*
 * Pods, for portcullis-nri: the interception of a pod sandbox's network
 * namespace, with the pull, the records and the lock of the hook, so that
 * the hook and the plugin can share a node (and `portcullis-hook status`
 * shows both).  A pod's record holds its sandbox as a container marked
 * sandbox (state.h) and, as the runtime reports them, its containers; the
 * record keeps the namespace's path, through which the pod is released when
 * it stops (the runtime's stop event carries no path).
 *
 * The runtime waits for the plugin's answer (2 s), so every call gives up
 * waiting for the state lock after wait_ms (-ETIMEDOUT).  Returns are
 * INTERCEPTED/SKIPPED (intercept.h) or a negative errno with err_msg().
 */

#include <stdbool.h>
#include <stddef.h>

#include "intercept.h"
#include "lib/core/config.h"
#include "lib/core/state.h"

struct pod_spec {
	struct state_ctr sandbox; /* id: the sandbox's; names, group, pid */
	const char *netns;	  /* path of its network namespace, "" for none */
	enum pc_mode mode;
	const struct state_ctr *ctrs; /* containers known already (Synchronize) */
	size_t n_ctrs;
};

/*
 * Intercept the pod's namespace (RunPodSandbox, or a running pod that is
 * not intercepted yet).  Idempotent: a pod intercepted already has its
 * record refreshed.  SKIPPED when it has no namespace of its own or a
 * namespace that must not be touched (the reason is logged); a failed pull
 * returns its error after a complete rollback.
 */
int pod_intercept(const struct pc_config *cfg, const struct pod_spec *p, unsigned wait_ms);

/*
 * Release the pod's namespace and drop its record (StopPodSandbox,
 * RemovePodSandbox): the original ports go back while the namespace
 * exists; when it is gone, what is left in the enforcer is deleted.
 * SKIPPED when no record holds the pod.
 */
int pod_release(const struct pc_config *cfg, const char *pod_id, unsigned wait_ms);

/* A container of the pod, added to its record (refreshed if there); SKIPPED without a record. */
int pod_ctr_put(const struct pc_config *cfg, const char *pod_id, const struct state_ctr *c,
		unsigned wait_ms);
/* A container of the pod removed from its record; SKIPPED when it is not there. */
int pod_ctr_del(const struct pc_config *cfg, const char *pod_id, const char *ctr_id,
		unsigned wait_ms);

/*
 * Release one pod record whose pod is not among ids[n] (the pods that
 * exist) or whose namespace is gone.  Records without a sandbox (the
 * hook's containers) are left alone.  Returns 1 after releasing one (call
 * again), 0 when none is left.
 */
int pod_sweep(const struct pc_config *cfg, const char *const *ids, size_t n, unsigned wait_ms);

#endif
