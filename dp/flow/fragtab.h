/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_FRAGTAB_H
#define PORTCULLIS_DP_FRAGTAB_H

/*
 * The verdicts of fragmented IP datagrams, for their later fragments: a
 * fragment after the first has no ports and so no session; it follows the
 * verdict its datagram's first fragment got (one table per worker: the
 * fanout sends every fragment of a datagram to one worker).
 *
 * A datagram is named by its addresses, protocol and IP id (frag_key),
 * which whoever sends fragments picks.  The table stores a 64-bit keyed
 * hash of that name (lib/core/khash.h, a random key per table), never the
 * name: without the key nobody can aim datagrams at one set or make two
 * datagrams look alike.
 *
 * Bounds and eviction: FRAGTAB_SETS sets of FRAGTAB_WAYS entries.  A
 * datagram's verdict is kept FRAGTAB_TTL_NS from its first fragment
 * (Linux's own reassembly time); a first fragment that finds its set full
 * takes, in this order, an expired entry, the entry of a datagram whose
 * last fragment has passed, the oldest entry.  A datagram's entry is
 * therefore lost only to FRAGTAB_WAYS newer first fragments that land in
 * its own set: on average FRAGTAB_SETS * FRAGTAB_WAYS (8192) other first
 * fragments, and an attacker cannot pick which set its fragments land in.
 * A lost entry makes the datagram's later fragments orphans (dropped).
 */

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"

#define FRAGTAB_SETS 1024
#define FRAGTAB_WAYS 8
#define FRAGTAB_TTL_NS (30ULL * 1000000000ULL)

struct fragtab;

/* NULL with err_msg() when out of memory or without a hash key. */
struct fragtab *fragtab_new(void);
void fragtab_free(struct fragtab *t);

/*
 * p, a first fragment, got verdict (enum session_verdict): its later
 * fragments will too.  True when that evicted another live datagram.
 */
bool fragtab_remember(struct fragtab *t, const struct pkt *p, uint8_t verdict, uint64_t now_ns);

/*
 * The verdict of p's datagram (p a later fragment), or -1 when its first
 * fragment was not seen, or not within FRAGTAB_TTL_NS, or its entry was
 * evicted.  A fragment without more fragments after it marks the datagram
 * as complete (evicted before incomplete ones).
 */
int fragtab_lookup(struct fragtab *t, const struct pkt *p, uint64_t now_ns);

#endif
