/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_OCI_H
#define PORTCULLIS_OCI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define OCI_STATE_MAX (1024 * 1024) /* stdin larger than this is refused */
#define OCI_ID_MAX 256
#define OCI_NAME_MAX 256

/* What the hook needs from the OCI state and the bundle's config.json. */
struct oci_state {
	char id[OCI_ID_MAX];
	char status[32];
	pid_t pid;		 /* 0 when the state has none (poststop) */
	char bundle[PATH_MAX];	 /* "" when absent */
	char name[OCI_NAME_MAX]; /* the runtime's name for it, "" when unknown (ctrname.h) */
	/* annotations; "" when absent */
	char mode[16]; /* io.portcullis.mode */
	char group[OCI_NAME_MAX];
	char k8s_pod[OCI_NAME_MAX];
	char k8s_namespace[OCI_NAME_MAX];
	char k8s_container[OCI_NAME_MAX];
};

/*
 * Parse an OCI state document.  Requires "id" (non-empty string); "pid" when
 * present must be a positive integer (a string or a fraction is an error).
 * Annotations of interest are copied.  Errors: -EINVAL with err_set naming
 * the problem ("state: pid is not an integer").
 *
 * The Kubernetes names are the runtime's CRI annotations: CRI-O's
 * io.kubernetes.pod.name, io.kubernetes.pod.namespace and
 * io.kubernetes.container.name, containerd's io.kubernetes.cri.sandbox-name,
 * io.kubernetes.cri.sandbox-namespace and io.kubernetes.cri.container-name.
 * When both are there and disagree, one was not the runtime's (a pod's own
 * annotation passed through): none of the three is recorded.
 */
int oci_state_parse(const char *buf, size_t len, struct oci_state *st);

/*
 * Read all of fd (at most OCI_STATE_MAX bytes; more is -EFBIG, nothing is
 * -ENODATA) and parse it.
 */
int oci_state_read(int fd, struct oci_state *st);

/*
 * From BUNDLE/config.json: the path of the network namespace entry of
 * linux.namespaces ("" in netns_path when there is a network entry without a
 * path, i.e. the runtime creates a new one), and the annotations of interest
 * for every field of st that is still "" (state annotations win).
 * Returns 0, or -ENOENT when config.json does not exist, or -EINVAL.
 */
int oci_bundle_read(const char *bundle, char *netns_path, size_t len, struct oci_state *st);

#endif
