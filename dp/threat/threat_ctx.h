/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_THREAT_CTX_H
#define PORTCULLIS_DP_THREAT_CTX_H

/*
 * Inside threat detection: the per-worker context, what the detectors
 * (threat_<layer>.c) call to report a hit, and the detectors themselves.
 * Big state lives here in bounded tables, never in the session.
 */

#include <stdarg.h>

#include "threat.h"

#define NS_PER_SEC 1000000000ULL

/* struct threat_sess flags (THREAT_SESS_CUT, 0x80, is in session.h) */
#define THREAT_SESS_SRV_DATA 0x01 /* TCP: server payload since the client's last segment */
#define THREAT_SESS_DIR_C 0x02	  /* app: the client's first segment was looked at */
#define THREAT_SESS_DIR_S 0x04	  /* app: the server's */
#define THREAT_SESS_HDR_DONE 0x08 /* HTTP: a request's headers were complete */
#define THREAT_SESS_SLOW 0x10	  /* HTTP: counted as slow by its destination */
#define THREAT_SESS_ENC_C 0x20	  /* TLS: the client sends encrypted records */
#define THREAT_SESS_ENC_S 0x40	  /* TLS: the server does */

struct flood_table;
struct frag_table;
struct slow_table;
struct threat_dns_tracker;

/* The tables of every worker (threat.h); each safe to use from several threads. */
struct threat_shared {
	struct flood_table *floods;
	struct slow_table *slow;
	struct threat_dns_tracker *dns;
};

struct threat_ctx {
	struct slog *log;
	bool wall_clock;
	uint64_t *counts;
	uint64_t log_sec[THREAT_MAX]; /* second of log_used */
	uint32_t log_used[THREAT_MAX];
	struct threat_shared *own; /* made by threat_new for itself, or NULL */
	/* shared with the other workers */
	struct flood_table *floods;
	struct slow_table *slow;
	struct threat_dns_tracker *dns;
	/* this worker's */
	struct frag_table *frags;
};

/*
 * A hit on tp's frame: counted and logged unless tp's session has logged
 * this threat before (log false: never logged, e.g. further flood frames
 * of a window already reported); the policy's action applied (tp->drop)
 * every time.
 */
void threat_report(struct threat_ctx *t, struct threat_pkt *tp, const struct threat_hit *h,
		   bool log);

/* The detectors, each with its tables. */
struct flood_table *threat_flood_new(void);
void threat_flood_free(struct flood_table *ft);
void threat_flood(struct threat_ctx *t, struct threat_pkt *tp);

struct frag_table *threat_frag_new(void);
void threat_frag_free(struct frag_table *ft);
void threat_frag(struct threat_ctx *t, struct threat_pkt *tp);

void threat_tcp(struct threat_ctx *t, struct threat_pkt *tp);
void threat_icmp(struct threat_ctx *t, struct threat_pkt *tp);

struct slow_table *threat_slow_new(void);
void threat_slow_free(struct slow_table *st);
/* A frame of an HTTP session whose request headers were never complete. */
void threat_slow(struct threat_ctx *t, struct threat_pkt *tp);
void threat_slow_end(struct threat_ctx *t, const struct session *s);

/* The payload of an identified session to the application-level detectors. */
void threat_app(struct threat_ctx *t, struct threat_pkt *tp);

#endif
