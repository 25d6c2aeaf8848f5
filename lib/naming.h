/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_NAMING_H
#define PORTCULLIS_NAMING_H

#include <net/if.h>

#define NAMING_EX_PREFIX "vex"
#define NAMING_IN_PREFIX "vin"
#define NAMING_MAX_GEN 35
#define NAMING_MAX_ORDINAL (36 * 36 - 1)
#define NAMING_MAX_PID 4194304u

/*
 * The enforcer-side name of a pulled port:
 *     PREFIX PID "-" ORDINAL [ "." GEN ]
 * PID in decimal; ORDINAL (the port's position in its container, 0-based,
 * one or two digits) and GEN (a collision breaker, 0 = absent, else one
 * digit) in lower-case base 36.  "vex4194304-zz.z" is the longest: 15
 * characters, inside IFNAMSIZ.
 * Returns 0 or -EINVAL when an argument is out of range.
 */
int naming_port(char out[IFNAMSIZ], const char *prefix, unsigned pid, unsigned ordinal,
		unsigned gen);

/* True when name has the shape naming_port() produces for prefix. */
int naming_is_port(const char *name, const char *prefix);

#endif
