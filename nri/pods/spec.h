/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_NRI_SPEC_H
#define PORTCULLIS_NRI_SPEC_H

/*
 * An NRI pod as lib/pull's pod_spec, by portcullis' rules of trust.  A
 * pod's labels and annotations are the workload's own words; its id, name,
 * namespace, pid and network namespace are the runtime's:
 *   - the Kubernetes names come from the runtime's fields only (an
 *     io.kubernetes.* annotation of the pod is never read);
 *   - the mode is the configuration's, unless allow_mode_annotation lets
 *     the pod's io.portcullis.mode annotation choose (an ignored one is
 *     said in a log line naming the pod);
 *   - the group is the io.portcullis.group annotation, else label, when
 *     it is a well-formed name (1-63 of A-Z a-z 0-9 . _ -).
 * Text that reaches records and logs is printable ASCII.
 */

#include <limits.h>

#include "lib/core/config.h"
#include "lib/core/state.h"
#include "lib/pull/pod.h"
#include "lib/pull/trust.h"
#include "nri/nri.h"

#define SPEC_MODE_KEY TRUST_MODE_KEY
#define SPEC_GROUP_KEY "io.portcullis.group"
#define SPEC_GROUP_MAX 63

/* A pod_spec with the storage its strings point into. */
struct spec {
	struct pod_spec pod;
	char netns[PATH_MAX];
};

/*
 * Fill s from p.  -EINVAL (err_msg saying why) when p cannot be recorded:
 * an id that is empty, too long or not plain, a netns path too long.
 */
int spec_from_pod(const struct pc_config *cfg, const struct nri_pod *p, struct spec *s);

/* The record entry of container c of pod p. */
void spec_ctr(const struct nri_pod *p, const struct nri_ctr *c, struct state_ctr *out);

/* "namespace/name" of a pod, for logs; buf of at least 2 * ERR_SHOWN_MAX. */
const char *spec_name(const struct nri_pod *p, char *buf, size_t len);

#endif
