// SPDX-License-Identifier: Apache-2.0
/*
 * dns_tunneling: queries whose front part (the labels before the
 * registered domain) is long and random-looking are counted per domain,
 * with their times in a small ring; N of them within 10 s fire once per
 * window.  At least half of those N must have distinct front parts: a
 * tunnel encodes new data in every query, while an application without a
 * cache asks for its one or few long service names again and again.
 * Fronts are told apart by a fingerprint of the facts the query carries
 * (length, longest label, entropy), which random fronts of one length
 * share now and then: hence half, not all.
 *
 * The table is fixed: 256 slots, a domain hashed to one of them and looked
 * for in the 8 that follow, the least recently used of those given to a
 * new domain.  Ordinary queries never take a slot.  Domains are whatever
 * the client asks for, so the hash is keyed (lib/core/khash.h, a random
 * key per tracker): nobody can make its domains land on one tunnel's
 * slots to push it out.  One tracker serves every worker, under a mutex
 * taken for suspect queries only: a tunnel spread over several resolvers
 * or source addresses (and so over several workers) is counted whole.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dp/threat/threat_int.h"
#include "lib/core/err.h"
#include "lib/core/khash.h"

#define TRACK_SLOTS 256
#define TRACK_PROBE 8
#define TRACK_WINDOW_NS 10000000000ull
#define TRACK_DEFAULT_N 20
#define TRACK_LONG_FRONT 40
#define TRACK_LONG_LABEL 30
#define TRACK_MIN_ENTROPY 3500

struct track_slot {
	bool used;
	uint32_t hash;
	uint64_t last_ns, fired_ns;
	bool fired;
	uint8_t head, count; /* the ring of the latest distinct suspect queries */
	uint64_t times[THREAT_DNS_MAX_THRESHOLD];
	uint32_t prints[THREAT_DNS_MAX_THRESHOLD];
	char domain[sizeof(((struct threat_dns_query *)0)->domain)];
};

struct threat_dns_tracker {
	pthread_mutex_t mu;
	struct khash_key key;
	unsigned threshold;
	struct track_slot slot[TRACK_SLOTS];
};

struct threat_dns_tracker *threat_dns_tracker_new(void)
{
	struct threat_dns_tracker *t = calloc(1, sizeof(*t));
	int ret;

	if (!t) {
		err_set(-ENOMEM, "DNS tunnel tracker");
		return NULL;
	}
	if (khash_key_init(&t->key) < 0)
		goto err_free;
	ret = pthread_mutex_init(&t->mu, NULL);
	if (ret) {
		err_set(-ret, "DNS tunnel tracker: mutex");
		goto err_free;
	}
	t->threshold = TRACK_DEFAULT_N;
	return t;

err_free:
	free(t);
	return NULL;
}

void threat_dns_tracker_free(struct threat_dns_tracker *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t);
}

void threat_dns_tracker_set_threshold(struct threat_dns_tracker *t, unsigned n)
{
	t->threshold = n < 1 ? 1 : n > THREAT_DNS_MAX_THRESHOLD ? THREAT_DNS_MAX_THRESHOLD : n;
}

/* long and random-looking: what encoded data in labels is like */
static bool track_suspect(const struct threat_dns_query *q)
{
	if (!q->valid || q->front_len < 16)
		return false;
	if (q->front_len < TRACK_LONG_FRONT && q->longest_label < TRACK_LONG_LABEL)
		return false;
	return q->entropy_milli >= TRACK_MIN_ENTROPY;
}

/* the slot of the domain, or the one it takes over */
static struct track_slot *track_slot(struct threat_dns_tracker *t, const char *domain)
{
	uint32_t h = (uint32_t)khash(&t->key, domain, strlen(domain));
	struct track_slot *victim = NULL;

	for (unsigned i = 0; i < TRACK_PROBE; i++) {
		struct track_slot *s = &t->slot[(h + i) % TRACK_SLOTS];

		if (!s->used) {
			if (!victim || victim->used)
				victim = s;
			continue;
		}
		if (s->hash == h && strcmp(s->domain, domain) == 0)
			return s;
		if (!victim || (victim->used && s->last_ns < victim->last_ns))
			victim = s;
	}
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->hash = h;
	strcpy(victim->domain, domain);
	return victim;
}

static bool track_within(uint64_t then, uint64_t now)
{
	return then <= now && now - then < TRACK_WINDOW_NS;
}

static uint32_t track_print(const struct threat_dns_query *q)
{
	return (uint32_t)q->front_len << 22 ^ (uint32_t)q->longest_label << 16 ^ q->entropy_milli;
}

/* the ring index of the i-th latest entry (0: the latest) */
static unsigned track_back(const struct track_slot *s, unsigned i)
{
	return (s->head + 2u * THREAT_DNS_MAX_THRESHOLD - 1 - i) % THREAT_DNS_MAX_THRESHOLD;
}

/* distinct fingerprints among the latest n entries */
static unsigned track_distinct(const struct track_slot *s, unsigned n)
{
	unsigned distinct = 0;

	for (unsigned i = 0; i < n; i++) {
		bool dup = false;

		for (unsigned j = 0; j < i && !dup; j++)
			dup = s->prints[track_back(s, j)] == s->prints[track_back(s, i)];
		distinct += !dup;
	}
	return distinct;
}

static void track_push(struct track_slot *s, uint32_t print, uint64_t now)
{
	s->times[s->head] = now;
	s->prints[s->head] = print;
	s->head = (uint8_t)((s->head + 1) % THREAT_DNS_MAX_THRESHOLD);
	if (s->count < THREAT_DNS_MAX_THRESHOLD)
		s->count++;
}

/* One suspect query, under t->mu. */
static bool track_locked(struct threat_dns_tracker *t, const struct threat_dns_query *q,
			 uint64_t now_ns, struct threat_hit *hit)
{
	struct track_slot *s = track_slot(t, q->domain);
	uint32_t print = track_print(q);
	uint64_t nth;

	s->last_ns = now_ns;
	track_push(s, print, now_ns);
	if (s->count < t->threshold || (s->fired && track_within(s->fired_ns, now_ns)))
		return false;
	nth = s->times[track_back(s, t->threshold - 1)];
	if (!track_within(nth, now_ns) || 2 * track_distinct(s, t->threshold) < t->threshold)
		return false;
	s->fired = true;
	s->fired_ns = now_ns;
	threat_hit_set(hit, THREAT_DNS_TUNNELING,
		       "label %u chars, entropy %u.%u under %s (%u in 10 s)", q->longest_label,
		       q->entropy_milli / 1000, q->entropy_milli % 1000 / 100, q->domain,
		       t->threshold);
	return true;
}

bool threat_dns_track(struct threat_dns_tracker *t, const struct threat_dns_query *q,
		      uint64_t now_ns, struct threat_hit *hit)
{
	bool fired;

	if (!track_suspect(q) || memchr(q->domain, '\0', sizeof(q->domain)) == NULL)
		return false;
	pthread_mutex_lock(&t->mu);
	fired = track_locked(t, q, now_ns, hit);
	pthread_mutex_unlock(&t->mu);
	return fired;
}
