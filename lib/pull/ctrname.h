/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_CTRNAME_H
#define PORTCULLIS_CTRNAME_H

#include <stdbool.h>
#include <stddef.h>

#include "oci.h"

/*
 * The name containers/storage (podman, CRI-O) records for container id,
 * found from its bundle path <storage>/overlay-containers/<id>/userdata.
 * False when the bundle is not of that form or the record has no name.
 */
bool ctrname_from_storage(const char *bundle, const char *id, char *name, size_t len);

/* st->name, when still "": from storage, else the Kubernetes container name, else "". */
void ctrname_resolve(struct oci_state *st);

#endif
