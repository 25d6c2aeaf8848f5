// SPDX-License-Identifier: Apache-2.0
/*
 * The decision for a flow: a walk over the rules in id order, without
 * allocation; each check is a compare of precomputed values.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "policy_int.h"

static bool cidr_match(const struct sel *s, const struct policy_peer *peer)
{
	if (peer->family != s->family || memcmp(peer->addr, s->addr, s->full) != 0)
		return false;
	/* lastmask 0: no partial byte, and full may be 16 */
	return !s->lastmask || ((peer->addr[s->full] ^ s->addr[s->full]) & s->lastmask) == 0;
}

static bool name_match(const struct sel *s, const struct policy_peer *peer)
{
	if (peer->id && strncmp(peer->id, s->name, s->len) == 0)
		return true;
	for (size_t i = 0; i < peer->n_names; i++)
		if (strcmp(peer->names[i], s->name) == 0)
			return true;
	return false;
}

static bool pod_match(const struct sel *s, const struct policy_peer *peer)
{
	return peer->k8s_namespace && peer->k8s_pod && strlen(peer->k8s_namespace) == s->split &&
	       memcmp(peer->k8s_namespace, s->name, s->split) == 0 &&
	       strcmp(peer->k8s_pod, s->name + s->split + 1) == 0;
}

static bool sel_match(const struct sel *s, const struct policy_peer *peer)
{
	switch (s->kind) {
	case SEL_ANY:
		return true;
	case SEL_EXTERNAL:
		return !peer->internal;
	case SEL_GROUP:
		return peer->group && strcmp(peer->group, s->name) == 0;
	case SEL_CONTAINER:
		return name_match(s, peer);
	case SEL_NAMESPACE:
		return peer->k8s_namespace && strcmp(peer->k8s_namespace, s->name) == 0;
	case SEL_POD:
		return pod_match(s, peer);
	case SEL_CIDR:
		return cidr_match(s, peer);
	}
	return false;
}

static enum port_class flow_class(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return PCLASS_TCP;
	case IPPROTO_UDP:
		return PCLASS_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return PCLASS_ICMP;
	default:
		return PCLASS_OTHER;
	}
}

static bool ports_match(const struct rule *r, enum port_class cls, uint16_t port)
{
	if (r->any_port)
		return true;
	for (size_t i = 0; i < r->nports; i++) {
		const struct port_range *pr = &r->ports[i];

		if (pr->cls == cls && port >= pr->lo && port <= pr->hi)
			return true;
	}
	return false;
}

static void decided(struct policy_decision *d, enum policy_action a, uint32_t rule,
		    bool provisional)
{
	d->action = a;
	d->rule = rule;
	d->provisional = provisional;
}

void policy_decide(const struct policy *p, const struct policy_flow *f, struct policy_decision *d)
{
	enum port_class cls = flow_class(f->proto);
	uint32_t app = (unsigned)f->app < APP_MAX ? 1u << f->app : 1u << APP_UNKNOWN;
	uint32_t possible = f->app_possible ? f->app_possible | 1u << APP_UNKNOWN : UINT32_MAX;

	for (size_t i = 0; i < p->n; i++) {
		const struct rule *r = &p->rules[i];

		if (!sel_match(&r->from, &f->from) || !sel_match(&r->to, &f->to) ||
		    !ports_match(r, cls, f->port))
			continue;
		if (r->apps && !f->app_final) {
			/* none of its apps can still come out: it cannot match */
			if (!(r->apps & possible))
				continue;
			/* this rule may match once the app is known: wait for it */
			decided(d, POLICY_ALLOW, r->id, true);
			return;
		}
		if (r->apps && !(r->apps & app))
			continue;
		decided(d, (enum policy_action)r->action, r->id, false);
		return;
	}
	decided(d, p->dflt, 0, false);
}

enum policy_threat_action policy_threat_action(const struct policy *p, const char *threat)
{
	for (size_t i = 0; i < POLICY_THREAT_COUNT; i++)
		if (strcmp(threat, policy_threat_names[i]) == 0)
			return (enum policy_threat_action)p->threat[i];
	return POLICY_THREAT_ALERT;
}

const char *policy_threat_name(unsigned id)
{
	return id < POLICY_THREAT_COUNT ? policy_threat_names[id] : "?";
}

uint32_t policy_syn_flood_pps(const struct policy *p)
{
	return p->syn_pps;
}

uint32_t policy_icmp_flood_pps(const struct policy *p)
{
	return p->icmp_pps;
}

size_t policy_rule_count(const struct policy *p)
{
	return p->n;
}
