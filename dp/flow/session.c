// SPDX-License-Identifier: Apache-2.0
/* The per-worker session table: keyed hash, TCP state, timeout lists, eviction, recycling. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "session.h"
#include "workload.h"
#include "lib/core/err.h"
#include "lib/core/khash.h"
#include "lib/core/util.h"

#define SLAB_ENTRIES 1024
#define NS_PER_SEC 1000000000ULL

struct slab {
	struct slab *next;
	struct session entries[SLAB_ENTRIES];
};

struct session_table {
	struct session **buckets;
	size_t mask;
	size_t max, live;
	struct khash_key key;
	struct session_list lists[SC_MAX];
	struct session *free;
	struct slab *slabs;
	size_t slab_used; /* entries handed out of slabs->entries */
	uint64_t timeout_ns[SC_MAX];
	struct session_stats stats;
};

void session_timeouts_default(struct session_timeouts *t)
{
	t->secs[SC_TCP_OPENING] = 30;
	t->secs[SC_TCP_PICKUP] = 10;
	t->secs[SC_TCP_ESTABLISHED] = 3600;
	t->secs[SC_TCP_CLOSING] = 30;
	t->secs[SC_TCP_CLOSED] = 5;
	t->secs[SC_UDP] = 60;
	t->secs[SC_UDP_ONEWAY] = 60;
	t->secs[SC_ICMP] = 30;
	t->secs[SC_ICMP_ONEWAY] = 30;
}

struct session_table *session_table_new(size_t max_sessions, const struct session_timeouts *to)
{
	struct session_table *t = calloc(1, sizeof(*t));
	size_t nb = 64;

	if (!t) {
		err_set(-ENOMEM, "session table");
		return NULL;
	}
	while (nb < max_sessions && nb < ((size_t)1 << 30))
		nb <<= 1;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->buckets || khash_key_init(&t->key) < 0) {
		if (!t->buckets)
			err_set(-ENOMEM, "session table of %zu buckets", nb);
		free(t->buckets);
		free(t);
		return NULL;
	}
	t->mask = nb - 1;
	t->max = max_sessions;
	t->slab_used = SLAB_ENTRIES;
	for (int i = 0; i < SC_MAX; i++)
		t->timeout_ns[i] = (uint64_t)to->secs[i] * NS_PER_SEC;
	return t;
}

static void list_del(struct session_list *l, struct session *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		l->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		l->tail = s->prev;
	s->prev = s->next = NULL;
}

static void list_add_tail(struct session_list *l, struct session *s)
{
	s->next = NULL;
	s->prev = l->tail;
	if (l->tail)
		l->tail->next = s;
	else
		l->head = s;
	l->tail = s;
}

/* The bucket of k, by a keyed hash: tuples are chosen by whoever sends packets. */
static size_t key_hash(const struct session_table *t, const struct flow_key *k)
{
	return (size_t)khash(&t->key, k, sizeof(*k)) & t->mask;
}

_Static_assert(sizeof(struct flow_key) % 8 == 0, "flow_key is hashed in whole 8-byte words");

static int endpoint_cmp(const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
	int c = memcmp(a, b, 16);

	if (c)
		return c;
	return (int)pa - (int)pb;
}

bool session_key(const struct pkt *p, uint32_t port, struct flow_key *k, bool *p_is_a)
{
	if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP && p->proto != IPPROTO_ICMP &&
	    p->proto != IPPROTO_ICMPV6)
		return false;
	memset(k, 0, sizeof(*k));
	k->port = port;
	k->family = p->family;
	k->proto = p->proto;
	*p_is_a = endpoint_cmp(p->src, p->sport, p->dst, p->dport) <= 0;
	if (*p_is_a) {
		memcpy(k->addr_a, p->src, 16);
		memcpy(k->addr_b, p->dst, 16);
		k->port_a = p->sport;
		k->port_b = p->dport;
	} else {
		memcpy(k->addr_a, p->dst, 16);
		memcpy(k->addr_b, p->src, 16);
		k->port_a = p->dport;
		k->port_b = p->sport;
	}
	return true;
}

struct session *session_lookup(struct session_table *t, const struct flow_key *k)
{
	for (struct session *s = t->buckets[key_hash(t, k)]; s; s = s->hnext)
		if (memcmp(&s->key, k, sizeof(*k)) == 0)
			return s;
	return NULL;
}

static struct session *entry_get(struct session_table *t)
{
	struct session *s = t->free;

	if (s) {
		t->free = s->next;
		return s;
	}
	if (t->slab_used == SLAB_ENTRIES) {
		struct slab *sl = malloc(sizeof(*sl));

		if (!sl)
			return NULL;
		sl->next = t->slabs;
		t->slabs = sl;
		t->slab_used = 0;
	}
	return &t->slabs->entries[t->slab_used++];
}

/* The opener of a session first seen with p. */
static bool opener_is_a(const struct flow_key *k, bool p_is_a, const struct pkt *p, bool *guessed)
{
	*guessed = false;
	if (p->proto != IPPROTO_TCP || (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN)
		return p_is_a;
	if ((p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK))
		return !p_is_a; /* the SYN+ACK's receiver opened it */
	/* mid-stream: servers listen on the lower port, as a rule */
	*guessed = true;
	if (k->port_a != k->port_b)
		return k->port_a > k->port_b;
	return p_is_a;
}

/* Only one side has sent so far: nothing proves the other exists. */
static bool one_way(const struct session *s)
{
	return !s->pkts[0] || !s->pkts[1];
}

static enum session_class class_of(const struct session *s)
{
	if (s->key.proto == IPPROTO_UDP)
		return one_way(s) ? SC_UDP_ONEWAY : SC_UDP;
	if (s->key.proto != IPPROTO_TCP)
		return one_way(s) ? SC_ICMP_ONEWAY : SC_ICMP;
	if (s->tcp_state == TS_CLOSED)
		return SC_TCP_CLOSED;
	/* whatever its flags said (a bare FIN moves a picked-up one to closing) */
	if (one_way(s))
		return s->picked_up ? SC_TCP_PICKUP : SC_TCP_OPENING;
	switch (s->tcp_state) {
	case TS_ESTABLISHED:
		return SC_TCP_ESTABLISHED;
	case TS_FIN_WAIT:
	case TS_CLOSING:
		return SC_TCP_CLOSING;
	case TS_CLOSED:
		return SC_TCP_CLOSED;
	default:
		return SC_TCP_OPENING;
	}
}

static void recycle(struct session_table *t, struct session *s, session_done_fn done, void *arg);

/* The classes a sender fills alone, cheaply: evicted first when the table is full. */
static const uint8_t evictable_classes[] = {
	SC_TCP_PICKUP, SC_TCP_OPENING, SC_UDP_ONEWAY, SC_ICMP_ONEWAY, SC_TCP_CLOSED,
};

/* The least recently active evictable session, or NULL: each list is in last-seen order. */
static struct session *evictable(const struct session_table *t)
{
	struct session *best = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(evictable_classes); i++) {
		struct session *s = t->lists[evictable_classes[i]].head;

		if (s && (!best || s->last_ns < best->last_ns))
			best = s;
	}
	return best;
}

/* An entry for a new session: a free one, or an evicted one's; NULL when neither. */
static struct session *entry_for_new(struct session_table *t, session_done_fn done, void *arg)
{
	struct session *victim;

	if (t->live < t->max)
		return entry_get(t);
	victim = evictable(t);
	if (!victim)
		return NULL;
	recycle(t, victim, done, arg);
	t->stats.evicted++;
	return entry_get(t);
}

struct session *session_create(struct session_table *t, const struct flow_key *k, bool p_is_a,
			       const struct pkt *p, uint64_t now_ns, session_done_fn done,
			       void *arg)
{
	struct session *s = entry_for_new(t, done, arg);
	size_t b;

	if (!s) {
		t->stats.table_full++;
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->key = *k;
	s->client_is_a = opener_is_a(k, p_is_a, p, &s->picked_up);
	if (k->proto == IPPROTO_TCP)
		s->tcp_state = s->picked_up ? TS_ESTABLISHED : TS_NONE;
	if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP)
		app_state_init(&s->app, k->proto);
	else
		s->app.done = true;
	s->first_ns = s->last_ns = now_ns;
	b = key_hash(t, k);
	s->hnext = t->buckets[b];
	t->buckets[b] = s;
	s->sclass = class_of(s);
	list_add_tail(&t->lists[s->sclass], s);
	t->live++;
	t->stats.created++;
	return s;
}

static void tcp_advance(struct session *s, const struct pkt *p, bool from_client)
{
	uint8_t f = p->tcp_flags;

	if (f & TCPF_RST) {
		s->tcp_state = TS_CLOSED;
		return;
	}
	switch (s->tcp_state) {
	case TS_NONE:
		if ((f & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN && from_client)
			s->tcp_state = TS_SYN_SENT;
		else if ((f & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK) && !from_client)
			s->tcp_state = TS_SYN_RECV; /* the SYN went by unseen */
		break;
	case TS_SYN_SENT:
		if ((f & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK) && !from_client)
			s->tcp_state = TS_SYN_RECV;
		break;
	case TS_SYN_RECV:
		if ((f & (TCPF_SYN | TCPF_ACK)) == TCPF_ACK && from_client)
			s->tcp_state = TS_ESTABLISHED;
		break;
	default:
		break;
	}
	if (f & TCPF_FIN) {
		s->fin_seen |= from_client ? 1 : 2;
		if (s->tcp_state <= TS_FIN_WAIT)
			s->tcp_state = s->fin_seen == 3 ? TS_CLOSING : TS_FIN_WAIT;
	} else if (s->tcp_state == TS_CLOSING && (f & TCPF_ACK) && p->payload_len == 0) {
		/* the last ACK of the close */
		s->tcp_state = TS_CLOSED;
	}
}

void session_update(struct session_table *t, struct session *s, const struct pkt *p,
		    bool from_client, uint64_t now_ns)
{
	int dir = from_client ? 0 : 1;
	enum session_class c;

	s->pkts[dir]++;
	s->bytes[dir] += p->wire_len;
	s->last_ns = now_ns;
	if (s->key.proto == IPPROTO_TCP && !(p->fragment && !p->first_fragment))
		tcp_advance(s, p, from_client);
	c = class_of(s);
	list_del(&t->lists[s->sclass], s);
	s->sclass = (uint8_t)c;
	list_add_tail(&t->lists[c], s);
}

void session_reset(struct session_table *t, struct session *s)
{
	s->tcp_state = TS_CLOSED;
	list_del(&t->lists[s->sclass], s);
	s->sclass = SC_TCP_CLOSED;
	list_add_tail(&t->lists[SC_TCP_CLOSED], s);
}

static void unhash(struct session_table *t, struct session *s)
{
	struct session **pp = &t->buckets[key_hash(t, &s->key)];

	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
}

static void recycle(struct session_table *t, struct session *s, session_done_fn done, void *arg)
{
	list_del(&t->lists[s->sclass], s);
	unhash(t, s);
	if (done)
		done(s, arg);
	free(s->sni);
	s->sni = NULL;
	wl_ctr_put(s->ctr);
	s->ctr = NULL;
	s->next = t->free;
	t->free = s;
	t->live--;
}

void session_seen(struct session_table *t, struct session *s, uint64_t ns)
{
	if (ns <= s->last_ns)
		return;
	s->last_ns = ns;
	list_del(&t->lists[s->sclass], s);
	list_add_tail(&t->lists[s->sclass], s);
}

size_t session_expire(struct session_table *t, uint64_t now_ns, session_seen_fn seen,
		      session_done_fn done, void *arg)
{
	size_t n = 0;

	for (int c = 0; c < SC_MAX; c++) {
		struct session *s;

		while ((s = t->lists[c].head) && s->last_ns + t->timeout_ns[c] <= now_ns) {
			uint64_t later = seen ? seen(s, arg) : 0;

			if (later > s->last_ns && later + t->timeout_ns[c] > now_ns) {
				session_seen(t, s, later); /* to the tail: not idle after all */
				continue;
			}
			recycle(t, s, done, arg);
			n++;
		}
	}
	t->stats.expired += n;
	return n;
}

void session_end(struct session_table *t, struct session *s, session_done_fn done, void *arg)
{
	recycle(t, s, done, arg);
	t->stats.ended++;
}

void session_foreach(struct session_table *t, void (*fn)(struct session *s, void *arg), void *arg)
{
	for (int c = 0; c < SC_MAX; c++) {
		struct session *s = t->lists[c].head, *next;

		for (; s; s = next) {
			next = s->next;
			fn(s, arg);
		}
	}
}

void session_table_free(struct session_table *t, session_done_fn done, void *arg)
{
	if (!t)
		return;
	for (int c = 0; c < SC_MAX; c++)
		while (t->lists[c].head)
			recycle(t, t->lists[c].head, done, arg);
	while (t->slabs) {
		struct slab *next = t->slabs->next;

		free(t->slabs);
		t->slabs = next;
	}
	free(t->buckets);
	free(t);
}

void session_stats(const struct session_table *t, struct session_stats *out)
{
	*out = t->stats;
	out->live = t->live;
}

const char *session_tcp_state_name(enum tcp_state st)
{
	static const char *const names[] = {
		[TS_NONE] = "none",	    [TS_SYN_SENT] = "syn_sent",
		[TS_SYN_RECV] = "syn_recv", [TS_ESTABLISHED] = "established",
		[TS_FIN_WAIT] = "fin_wait", [TS_CLOSING] = "closing",
		[TS_CLOSED] = "closed",
	};

	return (unsigned)st < ARRAY_SIZE(names) ? names[st] : "?";
}
