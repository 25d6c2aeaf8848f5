/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_NRI_TRACE_PROBE_H
#define PORTCULLIS_NRI_TRACE_PROBE_H

/*
 * The addresses interface ifname holds in the network namespace at path,
 * as "ADDR/PREFIX" strings in a new JSON array (*out).  Returns 0, or a
 * negative errno when the namespace cannot be entered (gone, not one).
 * A forked child enters the namespace; this process never leaves its own.
 */

#include <jansson.h>

int probe_addrs(const char *path, const char *ifname, json_t **out);

#endif
