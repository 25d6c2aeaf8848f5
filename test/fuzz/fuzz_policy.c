/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the policy parser: parse, decide a few flows, dump,
 * and check that the dump parses back to the same decisions and text.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "dp/policy/policy.h"
#include "lib/core/err.h"

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

static struct policy_peer peer(const char *ip, const char *id, const char *const *names,
			       const char *group)
{
	struct policy_peer p = { .id = id, .names = names, .group = group, .internal = id != NULL };

	p.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	inet_pton(p.family, ip, p.addr);
	return p;
}

static size_t make_flows(struct policy_flow *f)
{
	static const char *const web_names[] = { "web1", "app" }, *const db_names[] = { "db1" };
	struct policy_peer web = peer("10.0.0.3", "3f2a9c0011", web_names, "web");
	struct policy_peer db = peer("10.0.0.2", "bb02", db_names, "db");
	struct policy_peer ext4 = peer("203.0.113.5", NULL, NULL, NULL);
	struct policy_peer ext6 = peer("2001:db8::42", NULL, NULL, NULL);
	struct policy_peer web6 = peer("fd00::3", "3f2a", NULL, "web");
	size_t n = 0;

	web.n_names = 2;
	db.n_names = 1;
	web.k8s_namespace = "shop";
	web.k8s_pod = "web-0";
	db.k8s_namespace = "shop";
	db.k8s_pod = "db-0";
	f[n++] = (struct policy_flow){ IPPROTO_TCP, 5432, web, db, APP_UNKNOWN, false, 0 };
	f[n++] = (struct policy_flow){ IPPROTO_TCP, 5432, web, db, APP_POSTGRESQL, true, 0 };
	f[n++] = (struct policy_flow){ IPPROTO_TCP, 443, ext4, web, APP_TLS, true, 0 };
	f[n++] = (struct policy_flow){ IPPROTO_UDP, 53, web, ext4, APP_DNS, false, 1u << APP_DNS };
	f[n++] = (struct policy_flow){ IPPROTO_ICMP, 0, ext4, db, APP_UNKNOWN, true, 0 };
	f[n++] = (struct policy_flow){ IPPROTO_ICMPV6, 0, ext6, web6, APP_UNKNOWN, false, 0 };
	f[n++] = (struct policy_flow){ IPPROTO_TCP, 22, web6, ext6, APP_UNKNOWN, true, 0 };
	f[n++] = (struct policy_flow){ IPPROTO_SCTP, 9, db, web, APP_UNKNOWN, true, 0 };
	return n;
}

static void decide_all(const struct policy *p, const struct policy_flow *f, size_t n,
		       struct policy_decision *d)
{
	for (size_t i = 0; i < n; i++) {
		policy_decide(p, &f[i], &d[i]);
		check(d[i].action == POLICY_ALLOW || d[i].action == POLICY_DENY);
		check(!d[i].provisional || (d[i].action == POLICY_ALLOW && d[i].rule != 0));
		check(!d[i].provisional || !f[i].app_final);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_decision d[8], d2[8];
	struct policy_flow f[8];
	struct policy *p = NULL, *q = NULL;
	size_t n = make_flows(f);
	char *dump, *again;

	if (policy_parse((const char *)data, size, &p) < 0) {
		/* one line, named */
		check(strncmp(err_msg(), "policy", 6) == 0 && !strchr(err_msg(), '\n'));
		check(p == NULL);
		return 0;
	}
	decide_all(p, f, n, d);
	policy_threat_action(p, "sql_injection");
	dump = policy_dump(p);
	check(dump != NULL);
	check(policy_parse(dump, strlen(dump), &q) == 0);
	check(policy_rule_count(q) == policy_rule_count(p));
	check(policy_syn_flood_pps(q) == policy_syn_flood_pps(p));
	check(policy_icmp_flood_pps(q) == policy_icmp_flood_pps(p));
	decide_all(q, f, n, d2);
	for (size_t i = 0; i < n; i++)
		check(d[i].action == d2[i].action && d[i].rule == d2[i].rule &&
		      d[i].provisional == d2[i].provisional);
	again = policy_dump(q);
	check(again && strcmp(again, dump) == 0);
	free(again);
	free(dump);
	policy_free(q);
	policy_free(p);
	return 0;
}
