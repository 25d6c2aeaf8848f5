/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_POLICY_INT_H
#define PORTCULLIS_DP_POLICY_INT_H

/*
 * The policy as parsed, shared by the policy's own files (policy.c parses,
 * policy_decide.c decides, policy_dump.c prints); nothing else includes it.
 *
 * The parse does the work the decision would otherwise repeat: a selector
 * is a kind and a precomputed argument (name length; address family, whole
 * prefix bytes and the mask of the partial byte after them), a port a
 * (protocol class, low, high) range, the apps list a bit mask, and the
 * rules are sorted by id.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "dp/threat/threat_id.h"

#define POLICY_NAME_MAX 255    /* group and container names in selectors */
#define POLICY_K8S_NS_MAX 63   /* a Kubernetes namespace: an RFC 1123 label */
#define POLICY_K8S_POD_MAX 253 /* a pod name: an RFC 1123 subdomain */
/* the longest selector argument: pod:NAMESPACE/NAME */
#define POLICY_ARG_MAX (POLICY_K8S_NS_MAX + 1 + POLICY_K8S_POD_MAX)
#define POLICY_THREAT_COUNT THREAT_MAX

_Static_assert(APP_MAX <= 32, "apps of a rule are a 32-bit mask");

/* the threat names of docs/interfaces.md; index = place in policy->threat[] */
extern const char *const policy_threat_names[POLICY_THREAT_COUNT];

enum sel_kind { SEL_ANY, SEL_GROUP, SEL_CONTAINER, SEL_CIDR, SEL_EXTERNAL, SEL_NAMESPACE, SEL_POD };

struct sel {
	uint8_t kind;
	uint8_t plen;	  /* SEL_CIDR: prefix length */
	uint8_t full;	  /* SEL_CIDR: whole bytes of the prefix */
	uint8_t lastmask; /* SEL_CIDR: mask of the byte after them, 0 if none */
	int family;	  /* SEL_CIDR: AF_INET or AF_INET6 */
	uint8_t addr[16];
	size_t len;   /* SEL_GROUP, SEL_CONTAINER, SEL_NAMESPACE, SEL_POD: strlen(name) */
	size_t split; /* SEL_POD: the namespace's length in name ("NAMESPACE/NAME") */
	char *name;
};

/* the protocol classes of ports; a flow of another protocol matches "any" only */
enum port_class { PCLASS_OTHER, PCLASS_TCP, PCLASS_UDP, PCLASS_ICMP };
/* "tcp", "udp", "icmp" by enum port_class */
extern const char *const policy_class_names[];

struct port_range {
	uint8_t cls;
	uint16_t lo, hi;
};

struct rule {
	struct sel from, to;
	bool any_port;
	uint8_t action;
	uint32_t id;
	uint32_t apps; /* bit per enum app_proto; 0: no "apps", any application */
	size_t nports;
	struct port_range *ports;
	size_t index; /* place in the file, for the duplicate-id message */
};

struct policy {
	enum policy_action dflt;
	size_t n;
	struct rule *rules;
	uint8_t threat[POLICY_THREAT_COUNT]; /* enum policy_threat_action */
	uint32_t syn_pps, icmp_pps;
};

#endif
