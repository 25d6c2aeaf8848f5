/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_NAMING_H
#define PORTCULLIS_NAMING_H

#include <net/if.h>
#include <stddef.h>

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

/*
 * A port's UCMAC: a locally administered unicast address 02:70:xx:xx:xx:xx
 * whose 32 low bits come from getrandom(), so that no workload can work
 * out another's, never one of taken[].  The caller holds the state lock
 * and passes every UCMAC of the live ports.  Returns 0, or -EEXIST after
 * 64 colliding attempts.
 */
int naming_ucmac(const unsigned char (*taken)[6], size_t n_taken, unsigned char out[6]);

/* "xx:xx:xx:xx:xx:xx" (18 bytes with the NUL) and back; parse: 0 or -EINVAL. */
void naming_mac_str(const unsigned char mac[6], char out[18]);
int naming_mac_parse(const char *s, unsigned char mac[6]);

#endif
