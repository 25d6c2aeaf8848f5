// SPDX-License-Identifier: Apache-2.0
/* The verdicts of fragmented datagrams: a keyed, set-associative table (fragtab.h). */
#include <stdlib.h>

#include "fragtab.h"
#include "lib/core/err.h"
#include "lib/core/khash.h"

_Static_assert((FRAGTAB_SETS & (FRAGTAB_SETS - 1)) == 0, "sets: a power of two");

struct frag_entry {
	uint64_t tag; /* keyed hash of the datagram's name, low bit set; 0: free */
	uint64_t first_ns;
	uint8_t verdict;
	bool complete; /* its last fragment passed */
};

struct fragtab {
	struct khash_key key;
	struct frag_entry e[FRAGTAB_SETS][FRAGTAB_WAYS];
};

struct fragtab *fragtab_new(void)
{
	struct fragtab *t = calloc(1, sizeof(*t));

	if (!t) {
		err_set(-ENOMEM, "fragment table");
		return NULL;
	}
	if (khash_key_init(&t->key) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

void fragtab_free(struct fragtab *t)
{
	free(t);
}

static uint64_t tag_of(const struct fragtab *t, const struct pkt *p)
{
	struct frag_key k;

	frag_key_of(p, &k);
	return khash(&t->key, &k, sizeof(k)) | 1;
}

static struct frag_entry *set_of(struct fragtab *t, uint64_t tag)
{
	return t->e[(tag >> 1) & (FRAGTAB_SETS - 1)];
}

static bool expired(const struct frag_entry *e, uint64_t now_ns)
{
	return !e->tag || now_ns - e->first_ns > FRAGTAB_TTL_NS;
}

/* The entry tag has in set, or NULL. */
static struct frag_entry *find(struct frag_entry *set, uint64_t tag)
{
	for (unsigned i = 0; i < FRAGTAB_WAYS; i++)
		if (set[i].tag == tag)
			return &set[i];
	return NULL;
}

/* Where a new datagram goes: expired, else complete, else the oldest (fragtab.h). */
static struct frag_entry *victim(struct frag_entry *set, uint64_t now_ns, bool *evicted)
{
	struct frag_entry *v = &set[0];

	for (unsigned i = 0; i < FRAGTAB_WAYS; i++) {
		struct frag_entry *e = &set[i];

		if (expired(e, now_ns))
			return e;
		if (e->complete != v->complete ? e->complete : e->first_ns < v->first_ns)
			v = e;
	}
	*evicted = true;
	return v;
}

bool fragtab_remember(struct fragtab *t, const struct pkt *p, uint8_t verdict, uint64_t now_ns)
{
	uint64_t tag = tag_of(t, p);
	struct frag_entry *set = set_of(t, tag), *e = find(set, tag);
	bool evicted = false;

	if (!e)
		e = victim(set, now_ns, &evicted);
	*e = (struct frag_entry){ .tag = tag, .first_ns = now_ns, .verdict = verdict };
	return evicted;
}

int fragtab_lookup(struct fragtab *t, const struct pkt *p, uint64_t now_ns)
{
	uint64_t tag = tag_of(t, p);
	struct frag_entry *e = find(set_of(t, tag), tag);

	if (!e || expired(e, now_ns))
		return -1;
	if (!p->more_fragments)
		e->complete = true;
	return e->verdict;
}
