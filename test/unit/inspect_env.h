/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_TEST_INSPECT_ENV_H
#define PORTCULLIS_TEST_INSPECT_ENV_H

/*
 * The fixture of the suites that run frames through inspect_frame
 * (test_inspect, test_threat): an inspector with two ports, 10.0.0.2 in
 * mode fwd and 10.0.0.3 in mode tap (containers web1 and web2, groups g1
 * and g2), two Kubernetes pods in mode fwd, 10.0.0.4 (shop/web-0) and
 * 10.0.0.5 (bank/web-0), each with a container named app, a client
 * outside, a session log, and IPv4 frames between them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame_util.h"
#include "dp/flow/inspect.h"

#define SEC 1000000000ULL

static const uint8_t MAC_EXT[6] = { 0x0a, 0x58, 9, 9, 9, 9 };
static const uint8_t MAC_FWD[6] = { 0x02, 0x70, 0, 0, 0, 1 };
static const uint8_t MAC_TAP[6] = { 0x02, 0x70, 0, 0, 0, 2 };
static const uint8_t MAC_SHOP[6] = { 0x02, 0x70, 0, 0, 0, 3 };
static const uint8_t MAC_BANK[6] = { 0x02, 0x70, 0, 0, 0, 4 };

/* an end of a connection */
struct ep {
	const char *ip;
	uint16_t port;
	const uint8_t *mac;
};

static const struct ep CLI = { "10.0.0.9", 40000, MAC_EXT };
static const struct ep SRV = { "10.0.0.2", 80, MAC_FWD };
static const struct ep TAP_SRV = { "10.0.0.3", 80, MAC_TAP };
static const struct ep SHOP = { "10.0.0.4", 8080, MAC_SHOP };
static const struct ep BANK = { "10.0.0.5", 8080, MAC_BANK };

/* a TCP segment */
struct seg {
	uint8_t flags;
	uint16_t win;
	uint16_t mss;	/* 0: no option */
	uint8_t wscale; /* shift + 1; 0: no option */
	const void *data;
	size_t len;
	/*
	 * at: the sequence number is seq (a data segment's first byte); otherwise
	 * each direction's segments follow on: a SYN at 1000, data where the
	 * direction's last segment ended.
	 */
	bool at;
	uint32_t seq;
};

/* Where the direction from a to b goes on (the sequence number of its next byte). */
uint32_t seq_next(const struct ep *a, const struct ep *b);

/* Ethernet + IPv4 from a to b, l4_len bytes after the header; the L4 start. */
uint8_t *ip4(struct frame *f, const struct ep *a, const struct ep *b, uint8_t proto, uint16_t id,
	     uint16_t frag, size_t l4_len);
void tcp(struct frame *f, const struct ep *a, const struct ep *b, const struct seg *s);

/* the policy that allows everything */
extern const char *const ALLOW;

/* the inspector, its policy and workloads, between env_up and env_down */
extern struct inspector in;
extern struct policy *pol;
extern struct workloads *wl;
/* what inspect_frame said of the last frame sent */
extern struct inspect_result last;
/* where send_frame sends: &in from env_up, another inspector when a test says so */
extern struct inspector *cur;
/* the session log of the fixture */
struct slog *env_log(void);

/* The inspector with policy_json, threat detection on or off (4096 sessions, or max_sessions). */
void env_up(const char *policy_json, bool threats);
void env_up_max(const char *policy_json, bool threats, size_t max_sessions);
void env_down(void);

void send_frame(const struct frame *f, uint64_t now);
void send_tcp(const struct ep *a, const struct ep *b, const struct seg *s, uint64_t now);
/* A TCP handshake from c to s. */
void handshake(const struct ep *c, const struct ep *s, uint64_t now);

/* The log's lines of threat name (NULL: every threat line); the last in *line. */
int threat_lines(const char *name, char *line, size_t size);

#endif
