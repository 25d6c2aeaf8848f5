/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_THREAT_H
#define PORTCULLIS_DP_THREAT_H

/*
 * Threat detection in the frame path: one context per worker, called by
 * the inspector for every decoded IP frame once its session is known.
 * The counts that must hold for the data plane as a whole (floods,
 * slowloris, DNS tunnels) live in tables every worker's context shares
 * (struct threat_shared): the fanout spreads the frames of many sources
 * over the workers.  Per-session state and the fragment table stay per
 * worker (every frame of a session or datagram reaches one worker).
 *
 * A detection is one JSON line in the session log (slog_write_threat):
 * at most one per session and threat; floods, slowloris and tunneling at
 * most one per destination (or session) and window; at most
 * THREAT_LOG_PER_SEC lines per threat and second per worker (beyond that
 * the detections are only counted).
 *
 * Severity, fixed per threat:
 *   high    ping_of_death ip_teardrop tls_heartbleed http_smuggling
 *           sql_injection dns_tunneling
 *   medium  syn_flood icmp_flood tcp_split_handshake tcp_small_window
 *           tcp_small_mss ssh_v1 http_negative_length http_slowloris
 *           dns_zone_transfer icmp_tunneling tcp_overlap_conflict
 *   low     tcp_syn_data tls_old_version dns_type_null
 *
 * Action, from the policy's "threats"."actions": "alert", or "drop".  A
 * drop is enforced where frames come back through the data plane (a fwd
 * port, and --read-pcap, where it says what would be done): the frame is
 * dropped and the session cut, as a policy deny cuts it (verdict deny,
 * TCP resets to both ends).  Floods drop without resets: the flooding
 * SYN never reached its server.  On a tap port a drop cannot be done; the
 * line's action is "violation".
 */

#include <stdbool.h>
#include <stdint.h>

#include "threat_id.h"
#include "dp/flow/decode.h"
#include "dp/flow/session.h"
#include "dp/flow/slog.h"
#include "dp/flow/workload.h"
#include "dp/policy/policy.h"

#define THREAT_LOG_PER_SEC 100

struct threat_ctx;
struct threat_shared;

/* The shared tables (above), for every worker; NULL with err_msg(). */
struct threat_shared *threat_shared_new(void);
void threat_shared_free(struct threat_shared *sh);

/*
 * counts: THREAT_MAX counters, bumped once per detection.  shared: the
 * tables of the data plane, which must outlive the context; NULL: tables
 * of its own (a single inspector).
 */
struct threat_ctx *threat_new(struct slog *log, bool wall_clock, uint64_t *counts,
			      struct threat_shared *shared);
void threat_free(struct threat_ctx *t);

/* One frame as the inspector sees it. */
struct threat_pkt {
	const struct pkt *p;
	struct session *s; /* NULL: a fragment after the first, or no room in the table */
	bool from_client;
	const struct workload *port; /* NULL: none known (--read-pcap) */
	const struct policy *pol;
	uint64_t now_ns;
	/*
	 * The payload the application detectors read: the frame's, or (threat_stream)
	 * the bytes of its direction's stream.  streamed: the frame's payload went to
	 * the stream, so threat_frame leaves it to threat_stream.
	 */
	const uint8_t *data;
	size_t len;
	bool streamed;
	/* out */
	bool drop;     /* a hit's action is an enforced drop */
	bool no_reset; /* ... of a flood: cut without resets */
};

/* Run the detectors that apply to tp's frame. */
void threat_frame(struct threat_ctx *t, struct threat_pkt *tp);

/*
 * The application detectors on tp->data, tp->len: the direction's stream
 * as reassembled (dp/flow/reasm.h), its bytes not consumed before followed
 * by new ones.  Returns how many bytes at the front it is done with (the
 * rest is offered again, with more), or THREAT_STREAM_DONE when no
 * detector reads this direction's stream any more: encrypted TLS (its
 * heartbeat records are checked per segment from then), the SSH
 * identification line read, a direction with no detector.  Whole units
 * are read and consumed: an HTTP request's header block with its
 * Content-Length body (up to THREAT_HTTP_KEEP bytes), TLS records, DNS
 * messages with their length prefix, the SSH line.
 */
#define THREAT_STREAM_DONE ((size_t)-1)
#define THREAT_HTTP_KEEP 16384
size_t threat_stream(struct threat_ctx *t, struct threat_pkt *tp);

/*
 * tp's segment sent bytes of its stream again with other content (bytes
 * of them differing): tcp_overlap_conflict.
 */
void threat_tcp_conflict(struct threat_ctx *t, struct threat_pkt *tp, uint32_t bytes);

/* s ends (expired, ended, table freed): release what it holds. */
void threat_session_end(struct threat_ctx *t, const struct session *s);

/*
 * Whether no application detector will read s's payload from the client
 * (from_client) or from the server any more (its app has none there, or
 * they are done with it): the header detectors alone are left.
 */
bool threat_payload_done(const struct session *s, bool from_client);

/*
 * The raw TCP window under which a client segment of s counts toward
 * tcp_small_window (its scale applied), 0 when none can: what the kernel
 * must not bypass (lib/dpath/bpf/dpath_common.h, pc_bypass.watch).
 */
uint16_t threat_small_window_raw(const struct session *s);

/* "syn_flood", ...; "low", "medium", "high". */
const char *threat_name(enum threat_id id);
const char *threat_severity(enum threat_id id);

#endif
