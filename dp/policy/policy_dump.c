// SPDX-License-Identifier: Apache-2.0
/*
 * The policy as JSON, normalized: rules in id order, every member present
 * ("ports": ["any"] when the file had none), addresses in canonical form,
 * apps in the order of enum app_proto, every threat's action.  The text is
 * itself a policy that parses to the same decisions and dumps the same.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>

#include "policy_int.h"

#define SEL_TEXT_MAX (POLICY_ARG_MAX + 16)

static const char *sel_prefix(enum sel_kind k)
{
	switch (k) {
	case SEL_GROUP:
		return "group";
	case SEL_CONTAINER:
		return "container";
	case SEL_NAMESPACE:
		return "namespace";
	default:
		return "pod";
	}
}

/* The selector as written in a policy, normalized (canonical address text). */
static const char *sel_text(const struct sel *s, char buf[SEL_TEXT_MAX])
{
	char addr[INET6_ADDRSTRLEN];

	switch (s->kind) {
	case SEL_GROUP:
	case SEL_CONTAINER:
	case SEL_NAMESPACE:
	case SEL_POD:
		snprintf(buf, SEL_TEXT_MAX, "%s:%s", sel_prefix(s->kind), s->name);
		return buf;
	case SEL_CIDR:
		inet_ntop(s->family, s->addr, addr, sizeof(addr));
		snprintf(buf, SEL_TEXT_MAX, "cidr:%s/%u", addr, s->plen);
		return buf;
	case SEL_EXTERNAL:
		return "external";
	default:
		return "any";
	}
}

static json_t *port_json(const struct port_range *pr)
{
	if (pr->cls == PCLASS_ICMP)
		return json_string("icmp");
	if (pr->lo == 0 && pr->hi == 65535)
		return json_sprintf("%s/any", policy_class_names[pr->cls]);
	if (pr->lo == pr->hi)
		return json_sprintf("%s/%u", policy_class_names[pr->cls], pr->lo);
	return json_sprintf("%s/%u-%u", policy_class_names[pr->cls], pr->lo, pr->hi);
}

static const char *action_name(enum policy_action a)
{
	return a == POLICY_DENY ? "deny" : "allow";
}

/* Append v (stolen) to the array a; on failure a is freed.  Returns a or NULL. */
static json_t *append(json_t *a, json_t *v)
{
	if (a && json_array_append_new(a, v) == 0)
		return a;
	json_decref(a);
	return NULL;
}

static json_t *rule_ports_json(const struct rule *r)
{
	json_t *a = json_array();

	if (r->any_port)
		return append(a, json_string("any"));
	for (size_t i = 0; a && i < r->nports; i++)
		a = append(a, port_json(&r->ports[i]));
	return a;
}

static json_t *rule_apps_json(const struct rule *r)
{
	json_t *a = json_array();

	for (int i = 0; a && i < APP_MAX; i++)
		if (r->apps & (1u << i))
			a = append(a, json_string(app_name((enum app_proto)i)));
	return a;
}

static json_t *rule_json(const struct rule *r)
{
	char from[SEL_TEXT_MAX], to[SEL_TEXT_MAX];
	const char *action = action_name((enum policy_action)r->action);

	if (!r->apps)
		return json_pack("{s:I, s:s, s:s, s:o, s:s}", "id", (json_int_t)r->id, "from",
				 sel_text(&r->from, from), "to", sel_text(&r->to, to), "ports",
				 rule_ports_json(r), "action", action);
	return json_pack("{s:I, s:s, s:s, s:o, s:o, s:s}", "id", (json_int_t)r->id, "from",
			 sel_text(&r->from, from), "to", sel_text(&r->to, to), "ports",
			 rule_ports_json(r), "apps", rule_apps_json(r), "action", action);
}

static json_t *threats_json(const struct policy *p)
{
	json_t *actions = json_object(), *t;
	int ret = actions ? 0 : -1;

	for (size_t i = 0; ret == 0 && i < POLICY_THREAT_COUNT; i++)
		ret = json_object_set_new(actions, policy_threat_names[i],
					  json_string(p->threat[i] ? "drop" : "alert"));
	if (ret < 0) {
		json_decref(actions);
		return NULL;
	}
	t = json_pack("{s:o}", "actions", actions);
	if (t && p->syn_pps)
		ret = json_object_set_new(t, "syn_flood_pps", json_integer(p->syn_pps));
	if (t && ret == 0 && p->icmp_pps)
		ret = json_object_set_new(t, "icmp_flood_pps", json_integer(p->icmp_pps));
	if (ret < 0) {
		json_decref(t);
		return NULL;
	}
	return t;
}

char *policy_dump(const struct policy *p)
{
	json_t *root, *rules = json_array();
	char *s = NULL;

	for (size_t i = 0; rules && i < p->n; i++)
		rules = append(rules, rule_json(&p->rules[i]));
	root = json_pack("{s:s, s:o, s:o}", "default", action_name(p->dflt), "rules", rules,
			 "threats", threats_json(p));
	if (root)
		s = json_dumps(root, 0);
	json_decref(root);
	return s;
}
