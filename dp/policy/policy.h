/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_POLICY_H
#define PORTCULLIS_DP_POLICY_H

/*
 * The data plane's policy (docs/policy.md; its format in docs/interfaces.md):
 *
 *   {"default": "allow"|"deny",
 *    "rules": [{"id": N, "from": SEL, "to": SEL, "ports": [PORT...],
 *               "apps": [APP...], "action": "allow"|"deny"}, ...],
 *    "threats": {"actions": {"<threat>": "alert"|"drop"},
 *                "syn_flood_pps": N, "icmp_flood_pps": N}}
 *
 * SEL: any | group:NAME | container:ID-prefix-or-name | namespace:NAME |
 * pod:NAMESPACE/NAME | cidr:PREFIX/LEN | external.  container:NAME matches
 * a workload any of whose containers has that name: Kubernetes container
 * names repeat across pods and namespaces (every pod may have an "app"),
 * so a rule meant for one workload names its pod or namespace as well, or
 * its group.  namespace: and pod: match the Kubernetes names the runtime
 * recorded for the workload (what kubelet asked it to run, not what the
 * workload's annotations claim): RFC 1123 names, lowercase; anything else
 * is an error.  PORT: any | tcp/N | udp/N | tcp/LO-HI | udp/LO-HI | tcp/any |
 * udp/any | icmp | icmp/any (icmp: ICMP and ICMPv6).  Rules are tried in id
 * order, the first match decides; no match means the default.  A CIDR with
 * address bits set after the prefix (10.0.0.1/24) is an error.
 *
 * A session is decided when it starts and again when its application is
 * identified: a rule with "apps" cannot be decided before that, so the
 * first decision may be provisional (see policy_decide).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/app/app.h"

struct policy;

enum policy_action {
	POLICY_ALLOW = 0,
	POLICY_DENY = 1,
};

/* One end of a session as the policy sees it. */
struct policy_peer {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
	/* the intercepted container it belongs to, NULL fields when external */
	const char *id;		  /* full container id */
	const char *const *names; /* the names of its containers, n_names of them */
	size_t n_names;
	const char *group;	   /* io.portcullis.group, may be NULL */
	const char *k8s_namespace; /* Kubernetes namespace and pod name, may be NULL */
	const char *k8s_pod;
	bool internal; /* an intercepted container of this host */
};

struct policy_flow {
	uint8_t proto;		 /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP(V6) */
	uint16_t port;		 /* the server's (destination) port; 0 for ICMP */
	struct policy_peer from; /* the side that opened the session */
	struct policy_peer to;
	enum app_proto app;    /* APP_UNKNOWN until identified */
	bool app_final;	       /* identification is done (app may be unknown) */
	uint32_t app_possible; /* until then, bit per enum app_proto it may still end
				  as (APP_UNKNOWN always among them); 0 = any */
};

struct policy_decision {
	enum policy_action action;
	uint32_t rule;	  /* id of the deciding rule; 0 = the default */
	bool provisional; /* a rule with apps may still match (one of its apps
			     is still possible): decide again once the app is
			     final; meanwhile action is allow */
};

/*
 * Parse a policy document.  On error returns a negative errno with one
 * line in err_msg() that names the place: "policy rule 20: ports[1]
 * \"tcp/99999\": port out of range", "policy: unknown key \"rulez\"".
 */
int policy_parse(const char *json, size_t len, struct policy **out);
/* policy_parse of a file; the error line starts with the path. */
int policy_load(const char *path, struct policy **out);
/* policy_parse of what fd reads (opened by someone else, for a confined process); path names it. */
int policy_load_fd(int fd, const char *path, struct policy **out);
void policy_free(struct policy *p);

/* The policy of no file: default allow, no rules. */
int policy_default(struct policy **out);

/*
 * The first rule in id order whose from, to and ports match f decides.  A
 * rule with "apps" also needs f->app in its list; while f->app_final is
 * false such a rule cannot be decided yet, so the walk stops there with
 * {allow, that rule's id, provisional}: call again once the app is final
 * (APP_UNKNOWN then matches only a rule that lists "unknown").  No
 * allocation; safe to call concurrently on one policy.
 */
void policy_decide(const struct policy *p, const struct policy_flow *f, struct policy_decision *d);

/* Threat settings (used by threat detection). */
enum policy_threat_action {
	POLICY_THREAT_ALERT = 0,
	POLICY_THREAT_DROP = 1,
};
enum policy_threat_action policy_threat_action(const struct policy *p, const char *threat);
/* The name of threat id (enum threat_id, threat_id.h), "?" out of range. */
const char *policy_threat_name(unsigned id);
uint32_t policy_syn_flood_pps(const struct policy *p);	/* 0 = built-in default */
uint32_t policy_icmp_flood_pps(const struct policy *p); /* 0 = built-in default */

/* The policy as JSON (for `portcullisctl policy show`); caller frees. */
char *policy_dump(const struct policy *p);
size_t policy_rule_count(const struct policy *p);

#endif
