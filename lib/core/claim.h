/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_CLAIM_H
#define PORTCULLIS_CLAIM_H

/*
 * Claims: what at most one live port may have (its UCMAC), as symbolic
 * links STATE_DIR/claims/ucmac-<12 hex digits> -> netns-<inode>.json, the
 * record of the namespace that holds it.  symlink(2) makes a claim or fails
 * at once, so checking a UCMAC costs a system call or two whatever the
 * number of intercepted namespaces (reading every record did not).  The
 * caller holds the state lock.
 *
 * A claim outlives its port only when a hook died between the claim and
 * its record, or between a release and the drop: a claim whose record is
 * gone, or does not hold its UCMAC, is stale.  claim_ucmac_take() takes a
 * stale claim over; claim_sweep() (gc) removes them all.
 *
 * A state folder from before claims (records, no claims/) gets the claims
 * of all its records at the first claim_ucmac_take(), made whole in
 * claims.new and renamed into place.
 */

#include <stddef.h>

#define CLAIM_DIR "claims"

/* Claim mac for namespace ino: 0 (also when ino holds it already), -EEXIST, -errno. */
int claim_ucmac_take(const char *state_dir, const unsigned char mac[6], unsigned long ino);

/* Drop ino's claim of mac (someone else's stays); 0 or -errno. */
int claim_ucmac_drop(const char *state_dir, const unsigned char mac[6], unsigned long ino);

/* Drop every claim of ino (a pull that failed before its record); 0 or -errno. */
int claim_drop_ino(const char *state_dir, unsigned long ino);

/* Remove every stale claim; how many, or -errno. */
int claim_sweep(const char *state_dir);

/* Remove claims/ and claims.new/ whole (the state folder goes); 0 or -errno. */
int claim_remove_all(const char *state_dir);

#endif
