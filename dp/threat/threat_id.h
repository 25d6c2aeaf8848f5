/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_THREAT_ID_H
#define PORTCULLIS_DP_THREAT_ID_H

/*
 * The threats the data plane names, in the order of docs/interfaces.md and
 * of policy_threat_names[] (policy.c): THREAT_x is the index of its name
 * there.  A detector reports a hit as the threat and a short piece of
 * evidence, printable ASCII, for the log line.
 */

enum threat_id {
	THREAT_SYN_FLOOD = 0,
	THREAT_ICMP_FLOOD,
	THREAT_PING_OF_DEATH,
	THREAT_IP_TEARDROP,
	THREAT_TCP_SYN_DATA,
	THREAT_TCP_SPLIT_HANDSHAKE,
	THREAT_TCP_SMALL_WINDOW,
	THREAT_TCP_SMALL_MSS,
	THREAT_SSH_V1,
	THREAT_TLS_OLD_VERSION,
	THREAT_TLS_HEARTBLEED,
	THREAT_HTTP_SMUGGLING,
	THREAT_HTTP_NEGATIVE_LENGTH,
	THREAT_HTTP_SLOWLORIS,
	THREAT_SQL_INJECTION,
	THREAT_DNS_TUNNELING,
	THREAT_DNS_ZONE_TRANSFER,
	THREAT_DNS_TYPE_NULL,
	THREAT_ICMP_TUNNELING,
	THREAT_TCP_OVERLAP_CONFLICT,
	THREAT_MAX
};

#define THREAT_EVIDENCE_MAX 96

struct threat_hit {
	enum threat_id id;
	char evidence[THREAT_EVIDENCE_MAX]; /* NUL-terminated, printable ASCII */
};

#endif
