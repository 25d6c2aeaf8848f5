/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_INSPECT_H
#define PORTCULLIS_DP_INSPECT_H

/*
 * One worker's inspection of frames: decode, find the port (by UCMAC), the
 * session, feed the application parsers, decide by policy, and say whether
 * the frame may go on.  The live data plane and --read-pcap run exactly
 * this code; only where frames come from and go to differs.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bypass.h"
#include "decode.h"
#include "fragtab.h"
#include "session.h"
#include "slog.h"
#include "workload.h"
#include "dp/policy/policy.h"
#include "dp/threat/threat_id.h"

struct inspect_stats {
	uint64_t frames, bytes;
	uint64_t not_ip, truncated, malformed, other_l4;
	uint64_t unknown_port; /* IP frame with no known UCMAC on either end */
	uint64_t no_session;   /* table full, nothing evictable: a new flow's frame uninspected */
	uint64_t no_session_dropped; /* ... and dropped (fwd ports, unknown ports) */
	uint64_t frag_orphans;	     /* later fragment with no first fragment seen */
	uint64_t frag_evicted;	     /* datagrams forgotten for newer ones (fragtab.h) */
	uint64_t allowed, denied, violations, resets;
	uint64_t provisional_cut; /* decided without their app: provisional_bytes ran out */
	uint64_t bypassed;	  /* sessions handed to the kernel */
	uint64_t bypass_failed;	  /* ... that the map refused (full) */
	uint64_t bypass_ended;	  /* ... taken back: ended, expired, denied */
	uint64_t bypass_kept;	  /* ... taken back for good on a small window */
	/* TCP stream reassembly (inspect_stream_set, docs/dataplane.md) */
	uint64_t stream_held;	 /* segments held out of order until their gap filled */
	uint64_t stream_dup;	 /* retransmissions: nothing new, not read again */
	uint64_t tcp_overlap;	 /* segments resending some bytes of the stream, with new ones */
	uint64_t stream_refused; /* segments (partly) not held: window, segment count, memory */
	uint64_t stream_refused_dropped;  /* ... and dropped at a fwd port, to be sent again */
	uint64_t stream_conflict_dropped; /* segments resending bytes with other content, fwd */
	uint64_t stream_gaps_skipped; /* gaps crossed: a tap copy lost, or older than 64 segments */
	uint64_t stream_bytes_lost;   /* ... the bytes never seen */
	uint64_t stream_truncated; /* unread bytes released (window, memory): read resynchronises */
	uint64_t stream_unid_cut;  /* identification ended, app unknown, by a gap or a cut */
	uint64_t app_found[APP_MAX];
	uint64_t threats[THREAT_MAX]; /* detections (dp/threat/threat.h) */
};

/* what a provisional session may carry each way unidentified (config provisional_bytes) */
#define INSPECT_PROVISIONAL_BYTES 4096

struct inspector {
	struct session_table *sessions;
	size_t max_sessions;
	uint32_t provisional_bytes; /* INSPECT_PROVISIONAL_BYTES unless set after init */
	unsigned worker;	    /* its worker's number, for log lines */
	const struct policy *policy;
	const struct workloads *wl;
	struct slog *log;	     /* NULL: sessions are not logged as they end */
	uint64_t full_said_ns;	     /* when the full table was last said in the log (0: never) */
	bool wall_clock;	     /* stamp log lines with the time (live mode) */
	struct threat_ctx *threats;  /* NULL: no threat detection */
	const struct bypass *bypass; /* NULL or off: every fwd frame crosses the data plane */
	struct inspect_stats st;
	struct fragtab *frags; /* the verdicts of fragmented datagrams */
	bool stream;	       /* TCP reassembled for identification and detectors */
	struct reasm_ctx reasm;
	struct reasm_pool own_pool; /* the pool unless inspect_stream_set gives one */
};

enum inspect_verdict {
	INSPECT_PASS,
	INSPECT_DROP,
};

struct inspect_result {
	enum inspect_verdict verdict;
	const struct workload *port; /* the intercepted port that saw it, or NULL */
	bool reset;		     /* a TCP session was denied: reset both ends */
	struct session *session;     /* the frame's session, or NULL */
	struct pkt pkt;		     /* the decoded frame */
};

int inspector_init(struct inspector *in, size_t max_sessions, const struct policy *pol,
		   const struct workloads *wl, struct slog *log);
/* Ends every session (logged when a log is set). */
void inspector_fini(struct inspector *in);

/*
 * Threat detection on from now (after wall_clock is set): detections are
 * written to log (may be NULL: only counted).  shared: the tables of the
 * whole data plane (threat.h), NULL for tables of its own.  Without this
 * call no detector runs.
 */
struct threat_shared;
int inspect_threats_on(struct inspector *in, struct slog *log, struct threat_shared *shared);

/*
 * TCP stream reassembly (on from inspector_init, with a pool of its own,
 * REASM_POOL_DEFAULT, and a window of REASM_WINDOW_DEFAULT): pool, shared
 * by every worker (NULL: its own), and the window per direction in bytes
 * (0: the default).  Before any frame.  -EINVAL for a window past
 * REASM_WINDOW_MAX.
 *
 * A TCP session's directions are reassembled while identification or a
 * payload detector still reads them: identification and the detectors see
 * each direction's bytes in order, once (docs/dataplane.md, "TCP
 * streams").  The segment that completes what they match gets the
 * verdict.
 */
int inspect_stream_set(struct inspector *in, struct reasm_pool *pool, uint32_t window);

/*
 * Inspect a frame of wire_len bytes of which len are at frame (a snapped
 * tap copy has fewer): decoding sees len, sessions count wire_len.
 *
 * A frame that would open a session when the table is full and nothing in
 * it is evictable (session.h) is not inspected: dropped at a fwd port (and
 * at an unknown one), passed at a tap port, counted (no_session,
 * no_session_dropped) and said in the log at most every 10 s per worker,
 * with the worker and the table's size.  The flood detectors still count
 * its SYN or echo request.
 *
 * A session allowed provisionally (a rule with apps may still match it,
 * policy.h) carries at most provisional_bytes of payload in each
 * direction while its app is unknown: payload as the frame carries it, a
 * GSO super-frame by its whole payload, a snapped tap copy by what it was
 * cut from.  A frame that would pass the bound ends identification (app
 * unknown, counted as provisional_cut), and the session is decided again,
 * without an app, before that frame's verdict: a deny where no rule
 * without apps (or with "unknown") allows it.
 */
void inspect_frame(struct inspector *in, const uint8_t *frame, size_t len, size_t wire_len,
		   uint64_t now_ns, struct inspect_result *r);

/* Expire idle sessions (logged). */
void inspect_tick(struct inspector *in, uint64_t now_ns);

/* A new policy: every live session is decided again (a closed one keeps its verdict). */
void inspect_set_policy(struct inspector *in, const struct policy *pol);
void inspect_set_workloads(struct inspector *in, const struct workloads *wl);

/*
 * s as an operator should see it now: a bypassed session with what the
 * kernel counted so far added, in tmp (s itself otherwise).  Only for
 * showing: tmp shares s's pointers.
 */
const struct session *inspect_live_view(const struct inspector *in, const struct session *s,
					struct session *tmp);

/* Every live session, oldest first, to fn (for --read-pcap's output). */
void inspect_sessions_sorted(struct inspector *in, void (*fn)(const struct session *s, void *arg),
			     void *arg);

#endif
