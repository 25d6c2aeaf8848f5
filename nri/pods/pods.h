/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_NRI_PODS_H
#define PORTCULLIS_NRI_PODS_H

/*
 * portcullis-nri's answers to the runtime (lib/pull/pod.h does the work):
 *   RunPodSandbox       the pod's namespace is intercepted before the reply,
 *                       so before the runtime creates the pod's first
 *                       container; a failure fails the pod with
 *                       on_failure=closed, and is a warning with open;
 *   StopPodSandbox      released: the original ports go back while the
 *                       namespace holds them, before the CNI teardown;
 *   RemovePodSandbox    whatever is left of it is cleaned;
 *   container created / removed: its name joins / leaves the pod's record;
 *   Synchronize         pods running unintercepted (started while the plugin
 *                       was away) are queued for interception, and records
 *                       of pods that are gone for release; the queue is
 *                       worked off between requests (nri.h's idle).
 */

#include "lib/core/config.h"
#include "nri/nri.h"

struct pods;

/* The handlers' state; the pods of earlier records are watched from the start. */
int pods_new(const struct pc_config *cfg, struct pods **out);
void pods_free(struct pods *p);

/* The NRI handlers, with p as their argument. */
void pods_handlers(struct pods *p, struct nri_handlers *h);

#endif
