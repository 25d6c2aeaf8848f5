/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_APP_H
#define PORTCULLIS_DP_APP_H

/*
 * Application identification from payload, independent of port numbers.
 *
 * Each protocol is a small parser (dp/app/<name>.c) with one probe
 * function and a line in app_list.h; app.c holds the engine that feeds a session's
 * first payload to the parsers still in the running.  A probe looks at a
 * UDP datagram, or at a TCP direction's stream from its start as far as it
 * has arrived (dp/flow/reasm.h; a segment as it is where the stream is not
 * reassembled), and answers yes, no or "maybe, show me more".  Some
 * protocols are named only when both sides' first bytes fit (app_list.h).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum app_proto {
	APP_UNKNOWN = 0,
#define APP(id, name, transports, prio, sides) APP_##id,
#include "app_list.h"
#undef APP
	APP_MAX
};

/* the protocol's name: "http", ..., "unknown" (docs/interfaces.md, Session log) */
const char *app_name(enum app_proto app);
/* APP_UNKNOWN.."dhcp" by name; -1 when name is none of them */
int app_from_name(const char *name);

/* What identification learned beyond the protocol. */
struct app_info {
	char sni[256]; /* TLS: server_name of the ClientHello, "" if none seen */
};

enum app_answer {
	APP_NO = 0,    /* this segment rules the protocol out */
	APP_MAYBE = 1, /* consistent so far; needs more segments */
	APP_YES = 2,   /* identified */
};

/* One payload segment of a session, as a probe sees it. */
struct app_segment {
	const uint8_t *data;
	size_t len;
	uint8_t transport;    /* IPPROTO_TCP or IPPROTO_UDP */
	bool from_client;     /* sent by the side that opened the session */
	uint16_t client_port; /* ports for the few protocols whose bytes need */
	uint16_t server_port; /* them (DHCP, NTP); never the only evidence */
	unsigned index;	      /* 0 for the first payload segment in this direction */
	bool stream;	      /* data is the direction's stream from its start (TCP reassembled) */
};

/* Per-session engine state; small, lives in the session entry. */
struct app_state {
	uint16_t candidates; /* bit per enum app_proto still possible */
	uint16_t fits[2];    /* bit per APP_BOTH_SIDES protocol whose side's first bytes fit */
	uint8_t seen[2];     /* payload segments fed: [0] from client, [1] from server */
	uint8_t app;	     /* enum app_proto once done */
	bool done;
};

/* Start identification of a session over transport (IPPROTO_TCP/UDP). */
void app_state_init(struct app_state *st, uint8_t transport);

/*
 * Feed one payload segment (len > 0).  Returns true once identification is
 * done, with st->app final (APP_UNKNOWN when every parser said no, or after
 * APP_MAX_SEGMENTS segments in each direction without a yes) and *info
 * filled.  A protocol of APP_BOTH_SIDES is named only once its parser said
 * yes to each side, and leaves the running when either side is a no: until
 * the server answers, it is still a candidate.  The engine numbers the
 * segments itself: seg->index is ignored and the probes see the count from
 * st->seen.
 */
#define APP_MAX_SEGMENTS 4
/*
 * A stream (seg->stream) is offered again, longer, as it grows: the probes
 * see index 0 each time, and identification ends unknown once a
 * direction's stream reaches APP_STREAM_BYTES without a yes (or every
 * parser said no), however many segments brought it.
 */
#define APP_STREAM_BYTES 8192
bool app_feed(struct app_state *st, const struct app_segment *seg, struct app_info *info);

/* Identification ends now, the app unknown (e.g. it has seen all the payload it may). */
void app_give_up(struct app_state *st);

#endif
