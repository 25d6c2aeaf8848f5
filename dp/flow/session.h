/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_SESSION_H
#define PORTCULLIS_DP_SESSION_H

/*
 * The session table of one worker: TCP, UDP and ICMP sessions keyed by the
 * port that saw them and the 5-tuple, one entry for both directions.
 *
 * A connection between two intercepted containers crosses the data plane
 * twice, once at each container's port, and is two sessions here: each is
 * decided and logged for its own container.  Frames with no known port
 * (captures read with --read-pcap) share port 0.
 *
 * The table is bounded (max entries, fixed at creation), single-threaded
 * (one per worker) and allocation-free per packet once entries are
 * recycled: expired and finished sessions go back to a free list.  Each
 * session sits on the list of its timeout class, in last-seen order, so
 * expiry looks only at list heads.
 *
 * Whoever sends frames picks the 5-tuples, so the buckets are indexed by
 * a keyed hash (lib/core/khash.h, a random key per table): nobody can aim
 * frames at one chain.
 *
 * Eviction.  A sender alone, without any answer, can make sessions that
 * have not seen both directions: a bare ACK, FIN or data segment picked up
 * mid-stream, a SYN (half-open, also when the server answers but the
 * handshake never ends), a UDP datagram or an ICMP echo nobody answers.
 * Those, and closed TCP sessions, are the evictable classes (marked below).
 * When the table is full a new session takes the entry of the least
 * recently active evictable session, which is ended as an expired one is
 * (handed to done).  Sessions that have seen both directions (other than
 * half-open and closed ones) are never evicted: with none evictable, the
 * new session is refused (NULL, counted as table_full), and the caller
 * decides what its frame does.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "reasm.h"
#include "dp/app/app.h"

struct flow_key {
	uint32_t port;	 /* the intercepted port that saw it; 0 = none/unknown */
	uint8_t family;	 /* AF_INET, AF_INET6 */
	uint8_t proto;	 /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	uint16_t port_a; /* (addr_a, port_a) < (addr_b, port_b) */
	uint16_t port_b;
	uint8_t pad[6];
	uint8_t addr_a[16];
	uint8_t addr_b[16];
};

enum tcp_state {
	TS_NONE = 0,
	TS_SYN_SENT,	/* client SYN seen */
	TS_SYN_RECV,	/* server SYN+ACK seen */
	TS_ESTABLISHED, /* handshake done, or picked up mid-stream */
	TS_FIN_WAIT,	/* one side sent FIN */
	TS_CLOSING,	/* both sides sent FIN */
	TS_CLOSED,	/* RST, or both FINs acknowledged */
};

/*
 * Timeout classes, each with its own list.  Evictable: what one sender
 * makes alone (see above).  Default timeouts in session_timeouts_default.
 */
enum session_class {
	SC_TCP_OPENING,	    /* evictable: SYN seen, handshake not done (30 s) */
	SC_TCP_PICKUP,	    /* evictable: picked up mid-stream, one direction so far (10 s) */
	SC_TCP_ESTABLISHED, /* both directions (1 h) */
	SC_TCP_CLOSING,	    /* a FIN after both directions (30 s) */
	SC_TCP_CLOSED,	    /* evictable: RST, or both FINs acknowledged (5 s) */
	SC_UDP,		    /* both directions (60 s) */
	SC_UDP_ONEWAY,	    /* evictable: one direction so far (60 s) */
	SC_ICMP,	    /* both directions (30 s) */
	SC_ICMP_ONEWAY,	    /* evictable: one direction so far (30 s) */
	SC_MAX
};

enum session_bypass {
	SB_NEVER = 0,
	SB_ON,	    /* handed to the kernel */
	SB_WAS,	    /* taken back */
	SB_REFUSED, /* the map refused it (full): not tried again */
	SB_KEPT,    /* taken back on a small TCP window: inspected to the end */
};

enum session_verdict {
	VERDICT_NONE = 0, /* not decided yet */
	VERDICT_ALLOW,
	VERDICT_DENY,
};

/*
 * What threat detection keeps per session, six bytes in the hole after app
 * (the entry does not grow): which threats were logged for it, a few
 * flags, and one small counter with its window (dp/threat*.c).
 */
struct threat_sess {
	uint8_t fired[3]; /* bit per enum threat_id: logged once per session */
	uint8_t flags;	  /* THREAT_SESS_* (threat_ctx.h), THREAT_SESS_CUT here */
	uint8_t run;	  /* TCP: tiny client windows in a row; ICMP: random echoes */
	uint8_t win_s;	  /* ICMP: start of run's window, seconds mod 256; TCP: the
			   * client's window scale in effect, shift + 1 (0: none) */
};

/* a threat's drop action ended the session: its deny verdict is final */
#define THREAT_SESS_CUT 0x80

struct session_list {
	struct session *head, *tail;
};

struct session {
	struct session *hnext;	     /* hash chain */
	struct session *prev, *next; /* class list or free list */
	struct flow_key key;
	bool client_is_a;	/* who opened it: (addr_a, port_a)? */
	bool picked_up;		/* first seen mid-stream: opener guessed */
	uint8_t tcp_state;	/* enum tcp_state */
	uint8_t sclass;		/* enum session_class */
	uint8_t fin_seen;	/* bit 0 client, bit 1 server */
	uint8_t verdict;	/* enum session_verdict */
	bool provisional;	/* decided again once the app is known */
	uint32_t unid_bytes[2]; /* payload [0] from the client, [1] from the server while
				 * the app was not known (saturating) */
	bool logged_violation;	/* tap: the deny was logged once */
	uint32_t rule;		/* id of the deciding rule, 0 = default */
	struct app_state app;
	struct threat_sess threat;
	uint64_t first_ns, last_ns;
	uint64_t pkts[2], bytes[2]; /* [0] from the client, [1] from the server */
	uint8_t local;		    /* which end is the port's container: 0 none, 1 a, 2 b */
	uint8_t bypass;		    /* enum session_bypass (dp/flow/bypass.h) */
	uint8_t bypass_mac[6];	    /* the port's UCMAC, while SB_ON */
	char *sni;		    /* TLS only, heap; freed with the session */
	struct reasm_dir stream[2]; /* TCP: [0] from the client, [1] from the server (inspect.c) */
	uint8_t stream_st[2];	    /* STREAM_* bits of each (inspect.c) */
	struct wl_ctr *ctr;	    /* the port's container, a reference put with the session */
};

struct session_table;
struct wl_ctr;

/* Timeouts in seconds, per class. */
struct session_timeouts {
	uint32_t secs[SC_MAX];
};
void session_timeouts_default(struct session_timeouts *t);

/* What is done with a session that ends (logged, released). */
typedef void (*session_done_fn)(struct session *s, void *arg);

/* NULL when out of memory or without a hash key (err_msg() says which). */
struct session_table *session_table_new(size_t max_sessions, const struct session_timeouts *t);
/* Every remaining session is handed to done (may be NULL) before it is freed. */
void session_table_free(struct session_table *t, session_done_fn done, void *arg);

/* The key of p as seen at port; false when p has no session (not TCP/UDP/ICMP). */
bool session_key(const struct pkt *p, uint32_t port, struct flow_key *k, bool *p_is_a);

/* The session of k, or NULL. */
struct session *session_lookup(struct session_table *t, const struct flow_key *k);

/*
 * A new session for packet p (key k, p_is_a as session_key gave it), the
 * client decided from p (the SYN's sender, the first sender otherwise, or
 * for TCP picked up mid-stream the side with the higher port).  At the
 * bound, the least recently active evictable session is handed to done
 * (may be NULL) and its entry reused (counted as evicted); NULL when none
 * is evictable (counted as table_full).
 */
struct session *session_create(struct session_table *t, const struct flow_key *k, bool p_is_a,
			       const struct pkt *p, uint64_t now_ns, session_done_fn done,
			       void *arg);

/* Whether p (whose side is p_is_a) travels from the session's client. */
static inline bool session_from_client(const struct session *s, bool p_is_a)
{
	return s->client_is_a == p_is_a;
}

/* Account p to s, advance TCP state, move s to the tail of its class list. */
void session_update(struct session_table *t, struct session *s, const struct pkt *p,
		    bool from_client, uint64_t now_ns);

/*
 * s was seen at ns, without a frame of it passing session_update (the
 * kernel forwarded one): a later ns becomes its last-seen time and moves it
 * to the tail of its class list.
 */
void session_seen(struct session_table *t, struct session *s, uint64_t ns);

/*
 * Hand sessions idle past their class timeout to done and recycle them.
 * seen (may be NULL) is asked first, for a later last-seen time of a
 * session that saw frames elsewhere (0: none); such a session stays.
 */
typedef uint64_t (*session_seen_fn)(struct session *s, void *arg);
size_t session_expire(struct session_table *t, uint64_t now_ns, session_seen_fn seen,
		      session_done_fn done, void *arg);

/* Call fn on every live session (e.g. to decide again under a new policy). */
void session_foreach(struct session_table *t, void (*fn)(struct session *s, void *arg), void *arg);

/*
 * s was reset at both ends (by the data plane): closed from now, so it
 * ends after the closed timeout; frames still in flight find it.
 */
void session_reset(struct session_table *t, struct session *s);

/* End s now (e.g. denied and reset): done is called, the entry recycled. */
void session_end(struct session_table *t, struct session *s, session_done_fn done, void *arg);

struct session_stats {
	uint64_t live, created, expired, ended;
	uint64_t table_full; /* sessions refused: full, nothing evictable */
	uint64_t evicted;    /* evictable sessions ended early for a new one */
};
void session_stats(const struct session_table *t, struct session_stats *out);

const char *session_tcp_state_name(enum tcp_state st);

#endif
