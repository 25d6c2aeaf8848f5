/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp/policy/policy.h"
#include "lib/core/err.h"

/* err_set() ends a message with the strerror() of its code */
#define INVAL(msg) msg ": Invalid argument"

static const char contract_example[] =
	"{\"default\": \"allow\",\n"
	" \"rules\": [{\"id\": 10, \"from\": \"group:web\", \"to\": \"group:db\", \"ports\": "
	"[\"tcp/5432\"], \"apps\": [\"postgresql\"], \"action\": \"allow\"},\n"
	"           {\"id\": 20, \"from\": \"any\", \"to\": \"group:db\", \"ports\": [\"any\"], "
	"\"action\": \"deny\"}]}";

static struct policy *parse_ok(const char *json)
{
	struct policy *p = NULL;
	int ret;

	err_clear();
	ret = policy_parse(json, strlen(json), &p);
	ck_assert_msg(ret == 0, "parse failed: %s", err_msg());
	ck_assert_ptr_nonnull(p);
	return p;
}

/* The parse fails with -EINVAL, leaves *out alone and says exactly msg. */
static void expect_error(const char *json, const char *msg)
{
	struct policy *p = (struct policy *)0x1;

	err_clear();
	ck_assert_int_eq(policy_parse(json, strlen(json), &p), -EINVAL);
	ck_assert_ptr_eq(p, (struct policy *)0x1);
	ck_assert_str_eq(err_msg(), msg);
}

/* A policy of one rule {"id": 1, <members>}, default deny; the error names rule 1. */
static void expect_rule_error(const char *members, const char *msg)
{
	char json[1024];

	snprintf(json, sizeof(json), "{\"default\": \"deny\", \"rules\": [{\"id\": 1, %s}]}",
		 members);
	expect_error(json, msg);
}

/* An intercepted container of this host (name NULL: none known). */
static struct policy_peer ctr(const char *ip, const char *id, const char *name, const char *group)
{
	static const char *names[256];
	static unsigned used;
	struct policy_peer p = { .id = id, .group = group, .internal = true };

	if (name) {
		names[used % 256] = name;
		p.names = &names[used++ % 256];
		p.n_names = 1;
	}
	p.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(p.family, ip, p.addr), 1);
	return p;
}

static struct policy_peer ext(const char *ip)
{
	struct policy_peer p = ctr(ip, NULL, NULL, NULL);

	p.internal = false;
	return p;
}

static struct policy_flow tcp(struct policy_peer from, struct policy_peer to, uint16_t port)
{
	struct policy_flow f = {
		.proto = IPPROTO_TCP,
		.port = port,
		.from = from,
		.to = to,
		.app = APP_UNKNOWN,
	};
	return f;
}

static struct policy_flow with_app(struct policy_flow f, enum app_proto app)
{
	f.app = app;
	f.app_final = true;
	return f;
}

static void expect(const struct policy *p, struct policy_flow f, enum policy_action action,
		   uint32_t rule, bool provisional)
{
	struct policy_decision d;

	memset(&d, 0xa5, sizeof(d));
	policy_decide(p, &f, &d);
	ck_assert_msg(d.action == action && d.rule == rule && d.provisional == provisional,
		      "decided %s by rule %u%s; expected %s by rule %u%s",
		      d.action == POLICY_DENY ? "deny" : "allow", d.rule,
		      d.provisional ? " (provisional)" : "",
		      action == POLICY_DENY ? "deny" : "allow", rule,
		      provisional ? " (provisional)" : "");
}

/* Decide f with a policy of one rule (id 7, the given selectors), default deny. */
static void expect_sel(const char *from, const char *to, struct policy_flow f, bool match)
{
	char json[512];
	struct policy *p;

	snprintf(json, sizeof(json),
		 "{\"default\": \"deny\", \"rules\": [{\"id\": 7, \"from\": \"%s\", \"to\": \"%s\","
		 " \"action\": \"allow\"}]}",
		 from, to);
	p = parse_ok(json);
	expect(p, f, match ? POLICY_ALLOW : POLICY_DENY, match ? 7 : 0, false);
	policy_free(p);
}

START_TEST(test_contract_example)
{
	struct policy *p = parse_ok(contract_example);
	struct policy_peer web = ctr("10.0.0.3", "aaaa1111", "web1", "web");
	struct policy_peer db = ctr("10.0.0.2", "bbbb2222", "db1", "db");
	struct policy_peer other = ctr("10.0.0.4", "cccc3333", "job", "batch");

	ck_assert_uint_eq(policy_rule_count(p), 2);
	/* web -> db:5432 waits for the application, then decides by it */
	expect(p, tcp(web, db, 5432), POLICY_ALLOW, 10, true);
	expect(p, with_app(tcp(web, db, 5432), APP_POSTGRESQL), POLICY_ALLOW, 10, false);
	expect(p, with_app(tcp(web, db, 5432), APP_HTTP), POLICY_DENY, 20, false);
	expect(p, with_app(tcp(web, db, 5432), APP_UNKNOWN), POLICY_DENY, 20, false);
	/* anything else to db is denied at once, no waiting */
	expect(p, tcp(web, db, 80), POLICY_DENY, 20, false);
	expect(p, tcp(other, db, 5432), POLICY_DENY, 20, false);
	expect(p, tcp(ext("192.0.2.1"), db, 5432), POLICY_DENY, 20, false);
	/* not to db: the default */
	expect(p, tcp(db, web, 5432), POLICY_ALLOW, 0, false);
	expect(p, tcp(web, other, 5432), POLICY_ALLOW, 0, false);
	policy_free(p);
}
END_TEST

START_TEST(test_selectors_any_group_external)
{
	struct policy_peer a = ctr("10.0.0.1", "a1", "alpha", "web");
	struct policy_peer nogroup = ctr("10.0.0.2", "b2", "beta", NULL);
	struct policy_peer e = ext("198.51.100.7");

	expect_sel("any", "any", tcp(a, e, 443), true);
	expect_sel("any", "any", tcp(e, e, 443), true);
	expect_sel("group:web", "any", tcp(a, e, 443), true);
	expect_sel("group:web", "any", tcp(nogroup, e, 443), false);
	expect_sel("group:web", "any", tcp(e, a, 443), false); /* "from" is the opener */
	expect_sel("group:we", "any", tcp(a, e, 443), false);  /* no prefix match for groups */
	expect_sel("group:webs", "any", tcp(a, e, 443), false);
	expect_sel("any", "group:web", tcp(e, a, 443), true);
	expect_sel("any", "external", tcp(a, e, 443), true);
	expect_sel("any", "external", tcp(e, a, 443), false);
	expect_sel("external", "any", tcp(e, a, 443), true);
	expect_sel("external", "external", tcp(a, nogroup, 443), false);
}
END_TEST

START_TEST(test_selector_container)
{
	struct policy_peer c = ctr("10.0.0.1", "3f2a9c0011", "frontend", "web");
	struct policy_peer unnamed = ctr("10.0.0.2", "77aa", NULL, NULL);
	struct policy_peer e = ext("192.0.2.9");

	expect_sel("container:3f2a9c0011", "any", tcp(c, e, 80), true); /* the full id */
	expect_sel("container:3f2a", "any", tcp(c, e, 80), true);	/* a prefix */
	expect_sel("container:3", "any", tcp(c, e, 80), true);		/* one character */
	expect_sel("container:3f2a9c00112", "any", tcp(c, e, 80), false);
	expect_sel("container:f2a9", "any", tcp(c, e, 80), false); /* not a prefix */
	expect_sel("container:frontend", "any", tcp(c, e, 80), true);
	expect_sel("container:front", "any", tcp(c, e, 80), false); /* names match whole */
	expect_sel("container:frontend", "any", tcp(unnamed, e, 80), false);
	expect_sel("container:77", "any", tcp(unnamed, e, 80), true);
	expect_sel("container:77", "any", tcp(e, unnamed, 80), false);
	expect_sel("any", "container:77a", tcp(e, unnamed, 80), true);
	expect_sel("container:192", "any", tcp(e, c, 80), false); /* external: no id */
}
END_TEST

/* A container of a Kubernetes pod: its namespace, pod and container names. */
static struct policy_peer pod_ctr(const char *ip, const char *id, const char *ns, const char *pod,
				  const char *const *names, size_t n)
{
	struct policy_peer p = ctr(ip, id, NULL, NULL);

	p.k8s_namespace = ns;
	p.k8s_pod = pod;
	p.names = names;
	p.n_names = n;
	return p;
}

/*
 * container:NAME matches any container of a workload of that name: in
 * Kubernetes "app" repeats across namespaces, and matches in each.
 * namespace: and pod: tell them apart.
 */
START_TEST(test_selectors_k8s)
{
	static const char *const shop_names[] = { "app", "sidecar" };
	static const char *const bank_names[] = { "app" };
	struct policy_peer shop = pod_ctr("10.0.0.1", "aa11", "shop", "web-7d9f", shop_names, 2);
	struct policy_peer bank = pod_ctr("10.0.0.2", "bb22", "bank", "web-7d9f", bank_names, 1);
	struct policy_peer plain = ctr("10.0.0.3", "cc33", "app", NULL);
	struct policy_peer e = ext("192.0.2.9");

	expect_sel("container:app", "any", tcp(shop, e, 80), true);
	expect_sel("container:app", "any", tcp(bank, e, 80), true);
	expect_sel("container:app", "any", tcp(plain, e, 80), true);
	expect_sel("container:sidecar", "any", tcp(shop, e, 80), true);
	expect_sel("container:sidecar", "any", tcp(bank, e, 80), false);
	expect_sel("namespace:shop", "any", tcp(shop, e, 80), true);
	expect_sel("namespace:shop", "any", tcp(bank, e, 80), false);
	expect_sel("namespace:shop", "any", tcp(plain, e, 80), false); /* not a pod */
	expect_sel("namespace:sho", "any", tcp(shop, e, 80), false);   /* whole names */
	expect_sel("any", "namespace:bank", tcp(shop, bank, 80), true);
	expect_sel("pod:shop/web-7d9f", "any", tcp(shop, e, 80), true);
	expect_sel("pod:bank/web-7d9f", "any", tcp(shop, e, 80), false); /* the same pod name */
	expect_sel("pod:shop/web-7d9", "any", tcp(shop, e, 80), false);
	expect_sel("pod:sho/pweb-7d9f", "any", tcp(shop, e, 80), false);
	expect_sel("namespace:shop", "any", tcp(e, shop, 80), false);
	expect_sel("pod:shop/web-7d9f", "any", tcp(e, shop, 80), false);
}
END_TEST

START_TEST(test_errors_k8s_selectors)
{
	struct policy *p = NULL;
	char json[1024], pod[300];

	expect_rule_error("\"from\": \"namespace:Prod\", \"to\": \"any\", \"action\": \"deny\"",
			  INVAL("policy rule 1: from \"namespace:Prod\": not a Kubernetes namespace"
				" (lowercase letters, digits and -, at most 63)"));
	expect_rule_error("\"from\": \"namespace:\", \"to\": \"any\", \"action\": \"deny\"",
			  INVAL("policy rule 1: from \"namespace:\": not a Kubernetes namespace"
				" (lowercase letters, digits and -, at most 63)"));
	expect_rule_error("\"from\": \"namespace:a.b\", \"to\": \"any\", \"action\": \"deny\"",
			  INVAL("policy rule 1: from \"namespace:a.b\": not a Kubernetes namespace"
				" (lowercase letters, digits and -, at most 63)"));
	expect_rule_error("\"from\": \"any\", \"to\": \"pod:web\", \"action\": \"deny\"",
			  INVAL("policy rule 1: to \"pod:web\": a pod is NAMESPACE/NAME"));
	expect_rule_error("\"from\": \"any\", \"to\": \"pod:/web\", \"action\": \"deny\"",
			  INVAL("policy rule 1: to \"pod:/web\": not a Kubernetes namespace"
				" (lowercase letters, digits and -, at most 63)"));
	expect_rule_error("\"from\": \"any\", \"to\": \"pod:ns/we b\", \"action\": \"deny\"",
			  INVAL("policy rule 1: to \"pod:ns/we b\": not a Kubernetes pod name"
				" (lowercase letters, digits, - and ., at most 253)"));
	expect_rule_error("\"from\": \"any\", \"to\": \"pod:ns/a/b\", \"action\": \"deny\"",
			  INVAL("policy rule 1: to \"pod:ns/a/b\": not a Kubernetes pod name"
				" (lowercase letters, digits, - and ., at most 253)"));
	/* 253 is the longest pod name */
	memset(pod, 'p', 254);
	pod[254] = '\0';
	snprintf(json, sizeof(json),
		 "{\"rules\": [{\"id\": 1, \"from\": \"pod:ns/%s\", \"to\": \"any\","
		 " \"action\": \"deny\"}]}",
		 pod);
	ck_assert_int_eq(policy_parse(json, strlen(json), &p), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "not a Kubernetes pod name"));
	pod[253] = '\0';
	snprintf(json, sizeof(json),
		 "{\"rules\": [{\"id\": 1, \"from\": \"pod:ns/%s\", \"to\": \"any\","
		 " \"action\": \"deny\"}]}",
		 pod);
	p = parse_ok(json);
	policy_free(p);
}
END_TEST

START_TEST(test_selector_cidr)
{
	struct policy_peer e = ext("203.0.113.5");
	struct policy_peer v6 = ext("2001:db8:1:2::42");

	expect_sel("cidr:203.0.113.0/24", "any", tcp(e, v6, 80), true);
	expect_sel("cidr:203.0.112.0/23", "any", tcp(e, v6, 80), true);
	expect_sel("cidr:203.0.114.0/23", "any", tcp(e, v6, 80), false);
	expect_sel("cidr:203.0.113.4/31", "any", tcp(e, v6, 80), true);
	expect_sel("cidr:203.0.113.6/31", "any", tcp(e, v6, 80), false);
	expect_sel("cidr:203.0.113.5/32", "any", tcp(e, v6, 80), true);
	expect_sel("cidr:203.0.113.4/32", "any", tcp(e, v6, 80), false);
	expect_sel("cidr:0.0.0.0/0", "any", tcp(e, v6, 80), true);
	expect_sel("cidr:0.0.0.0/0", "any", tcp(v6, e, 80), false); /* families differ */
	expect_sel("cidr:128.0.0.0/1", "any", tcp(e, v6, 80), true);
	expect_sel("cidr:0.0.0.0/1", "any", tcp(e, v6, 80), false);
	/* IPv6 */
	expect_sel("any", "cidr:2001:db8::/32", tcp(e, v6, 80), true);
	expect_sel("any", "cidr:2001:db8:1:2::/64", tcp(e, v6, 80), true);
	expect_sel("any", "cidr:2001:db8:1:3::/64", tcp(e, v6, 80), false);
	expect_sel("any", "cidr:2001:db8:1:2::40/126", tcp(e, v6, 80), true);
	expect_sel("any", "cidr:2001:db8:1:2::44/126", tcp(e, v6, 80), false);
	expect_sel("any", "cidr:2001:db8:1:2::42/128", tcp(e, v6, 80), true);
	expect_sel("any", "cidr:2001:db8:1:2::43/128", tcp(e, v6, 80), false);
	expect_sel("any", "cidr:::/0", tcp(e, v6, 80), true);
	expect_sel("any", "cidr:::/0", tcp(v6, e, 80), false);
	/* an IPv4 prefix does not match a v4-mapped IPv6 address */
	expect_sel("cidr:203.0.113.0/24", "any", tcp(ext("::ffff:203.0.113.5"), e, 80), false);
	/* internal peers are matched by address too */
	expect_sel("cidr:10.88.0.0/16", "any", tcp(ctr("10.88.3.4", "id", "n", "g"), e, 80), true);
}
END_TEST

static const char ports_policy[] =
	"{\"default\": \"deny\", \"rules\": ["
	"{\"id\": 1, \"from\": \"any\", \"to\": \"any\", \"ports\": [\"tcp/80\", \"tcp/8000-8080\","
	" \"udp/53\"], \"action\": \"allow\"},"
	"{\"id\": 2, \"from\": \"any\", \"to\": \"any\", \"ports\": [\"udp/any\", \"icmp\"],"
	" \"action\": \"allow\"},"
	"{\"id\": 3, \"from\": \"external\", \"to\": \"any\", \"ports\": [\"tcp/any\"],"
	" \"action\": \"allow\"},"
	"{\"id\": 4, \"from\": \"group:x\", \"to\": \"any\", \"ports\": [\"any\"],"
	" \"action\": \"allow\"}]}";

static struct policy_flow proto_flow(uint8_t proto, uint16_t port, struct policy_peer from)
{
	struct policy_flow f = tcp(from, ext("10.0.0.9"), port);

	f.proto = proto;
	return f;
}

START_TEST(test_ports)
{
	struct policy *p = parse_ok(ports_policy);
	struct policy_peer in = ctr("10.0.0.1", "id1", NULL, NULL);
	struct policy_peer x = ctr("10.0.0.2", "id2", NULL, "x");
	struct policy_peer e = ext("192.0.2.1");

	expect(p, proto_flow(IPPROTO_TCP, 80, in), POLICY_ALLOW, 1, false);
	expect(p, proto_flow(IPPROTO_TCP, 81, in), POLICY_DENY, 0, false);
	expect(p, proto_flow(IPPROTO_TCP, 7999, in), POLICY_DENY, 0, false);
	expect(p, proto_flow(IPPROTO_TCP, 8000, in), POLICY_ALLOW, 1, false);
	expect(p, proto_flow(IPPROTO_TCP, 8042, in), POLICY_ALLOW, 1, false);
	expect(p, proto_flow(IPPROTO_TCP, 8080, in), POLICY_ALLOW, 1, false);
	expect(p, proto_flow(IPPROTO_TCP, 8081, in), POLICY_DENY, 0, false);
	expect(p, proto_flow(IPPROTO_TCP, 53, in), POLICY_DENY, 0, false); /* udp/53 only */
	expect(p, proto_flow(IPPROTO_UDP, 53, in), POLICY_ALLOW, 1, false);
	expect(p, proto_flow(IPPROTO_UDP, 80, in), POLICY_ALLOW, 2, false); /* tcp/80 only */
	expect(p, proto_flow(IPPROTO_UDP, 65535, in), POLICY_ALLOW, 2, false);
	expect(p, proto_flow(IPPROTO_ICMP, 0, in), POLICY_ALLOW, 2, false);
	expect(p, proto_flow(IPPROTO_ICMPV6, 0, in), POLICY_ALLOW, 2, false);
	expect(p, proto_flow(IPPROTO_TCP, 22, e), POLICY_ALLOW, 3, false);
	expect(p, proto_flow(IPPROTO_TCP, 1, e), POLICY_ALLOW, 3, false);
	expect(p, proto_flow(IPPROTO_SCTP, 22, e), POLICY_DENY, 0, false);
	/* "any" is every protocol, also those without a class of their own */
	expect(p, proto_flow(IPPROTO_SCTP, 22, x), POLICY_ALLOW, 4, false);
	expect(p, proto_flow(IPPROTO_TCP, 22, x), POLICY_ALLOW, 4, false);
	policy_free(p);
}
END_TEST

START_TEST(test_order_by_id)
{
	/* the file lists 30, 5, 12: decisions follow 5, 12, 30 */
	static const char json[] =
		"{\"default\": \"deny\", \"rules\": ["
		"{\"id\": 30, \"from\": \"any\", \"to\": \"any\", \"action\": \"allow\"},"
		"{\"id\": 5, \"from\": \"group:bad\", \"to\": \"any\", \"action\": \"deny\"},"
		"{\"id\": 12, \"from\": \"any\", \"to\": \"any\", \"ports\": [\"tcp/22\"],"
		" \"action\": \"deny\"}]}";
	struct policy *p = parse_ok(json);
	struct policy_peer bad = ctr("10.0.0.1", "b", NULL, "bad");
	struct policy_peer good = ctr("10.0.0.2", "g", NULL, "good");

	expect(p, tcp(bad, good, 80), POLICY_DENY, 5, false);
	expect(p, tcp(bad, good, 22), POLICY_DENY, 5, false);
	expect(p, tcp(good, bad, 22), POLICY_DENY, 12, false);
	expect(p, tcp(good, bad, 80), POLICY_ALLOW, 30, false);
	policy_free(p);
}
END_TEST

START_TEST(test_defaults)
{
	struct policy_flow f = tcp(ext("192.0.2.1"), ctr("10.0.0.1", "i", NULL, NULL), 80);
	struct policy *p;
	char *dump;

	p = parse_ok("{\"default\": \"deny\"}");
	expect(p, f, POLICY_DENY, 0, false);
	ck_assert_uint_eq(policy_rule_count(p), 0);
	policy_free(p);
	p = parse_ok("{\"default\": \"allow\", \"rules\": []}");
	expect(p, f, POLICY_ALLOW, 0, false);
	policy_free(p);
	/* everything may be left out: allow */
	p = parse_ok("{}");
	expect(p, f, POLICY_ALLOW, 0, false);
	policy_free(p);
	/* the policy of no file */
	p = NULL;
	ck_assert_int_eq(policy_default(&p), 0);
	ck_assert_ptr_nonnull(p);
	expect(p, f, POLICY_ALLOW, 0, false);
	ck_assert_uint_eq(policy_rule_count(p), 0);
	ck_assert_int_eq(policy_threat_action(p, "sql_injection"), POLICY_THREAT_ALERT);
	ck_assert_uint_eq(policy_syn_flood_pps(p), 0);
	ck_assert_uint_eq(policy_icmp_flood_pps(p), 0);
	dump = policy_dump(p);
	ck_assert_ptr_nonnull(dump);
	ck_assert_ptr_nonnull(strstr(dump, "\"default\": \"allow\", \"rules\": []"));
	free(dump);
	policy_free(p);
	policy_free(NULL);
}
END_TEST

static const char apps_policy[] =
	"{\"default\": \"allow\", \"rules\": ["
	"{\"id\": 1, \"from\": \"any\", \"to\": \"group:api\", \"ports\": [\"tcp/any\"],"
	" \"apps\": [\"ssh\", \"unknown\"], \"action\": \"deny\"},"
	"{\"id\": 2, \"from\": \"any\", \"to\": \"group:api\", \"ports\": [\"tcp/443\"],"
	" \"apps\": [\"tls\", \"http2\"], \"action\": \"allow\"},"
	"{\"id\": 3, \"from\": \"any\", \"to\": \"group:api\", \"action\": \"deny\"}]}";

START_TEST(test_provisional)
{
	struct policy *p = parse_ok(apps_policy);
	struct policy_peer c = ext("192.0.2.1");
	struct policy_peer api = ctr("10.0.0.5", "api0", NULL, "api");
	struct policy_flow f = tcp(c, api, 443), u;

	/* before identification rule 1 might match: stop there, allow for now */
	expect(p, f, POLICY_ALLOW, 1, true);
	/* a guess of the app does not count until it is final */
	f.app = APP_TLS;
	expect(p, f, POLICY_ALLOW, 1, true);
	/* resolved: each app finds its rule */
	expect(p, with_app(f, APP_SSH), POLICY_DENY, 1, false);
	expect(p, with_app(f, APP_UNKNOWN), POLICY_DENY, 1, false);
	expect(p, with_app(f, APP_TLS), POLICY_ALLOW, 2, false);
	expect(p, with_app(f, APP_HTTP2), POLICY_ALLOW, 2, false);
	expect(p, with_app(f, APP_HTTP), POLICY_DENY, 3, false);
	/* an app out of range counts as unknown */
	expect(p, with_app(f, (enum app_proto)99), POLICY_DENY, 1, false);
	/* not api: no rule with apps is in play, so the first decision is final */
	expect(p, tcp(api, c, 443), POLICY_ALLOW, 0, false);
	/* udp to api: rules 1 and 2 are tcp only; 3 decides at once */
	u = f;
	u.proto = IPPROTO_UDP;
	u.app = APP_UNKNOWN;
	expect(p, u, POLICY_DENY, 3, false);
	policy_free(p);
}
END_TEST

START_TEST(test_provisional_after_allow_rule)
{
	/* a decided rule before a rule with apps: no waiting */
	static const char json[] =
		"{\"default\": \"deny\", \"rules\": ["
		"{\"id\": 2, \"from\": \"any\", \"to\": \"any\", \"ports\": [\"tcp/5432\"],"
		" \"apps\": [\"postgresql\"], \"action\": \"allow\"},"
		"{\"id\": 1, \"from\": \"group:admin\", \"to\": \"any\", \"action\": \"allow\"}]}";
	struct policy *p = parse_ok(json);
	struct policy_peer admin = ctr("10.0.0.1", "a", NULL, "admin");
	struct policy_peer user = ctr("10.0.0.2", "u", NULL, "user");

	expect(p, tcp(admin, user, 5432), POLICY_ALLOW, 1, false);
	expect(p, tcp(user, admin, 5432), POLICY_ALLOW, 2, true);
	expect(p, with_app(tcp(user, admin, 5432), APP_POSTGRESQL), POLICY_ALLOW, 2, false);
	expect(p, with_app(tcp(user, admin, 5432), APP_MYSQL), POLICY_DENY, 0, false);
	policy_free(p);
}
END_TEST

START_TEST(test_errors_top)
{
	expect_error("{\"rulez\": []}", INVAL("policy: unknown key \"rulez\""));
	expect_error("{\"a\\nb\": 1}", INVAL("policy: unknown key \"a?b\""));
	expect_error("[]", INVAL("policy: top level must be an object"));
	expect_error("{\"default\": \"maybe\"}",
		     INVAL("policy: default \"maybe\": must be allow or deny"));
	expect_error("{\"default\": true}", INVAL("policy: \"default\" must be a string"));
	expect_error("{\"rules\": {}}", INVAL("policy: \"rules\" must be an array"));
	expect_error("{\"threats\": []}", INVAL("policy: \"threats\" must be an object"));
	expect_error("{\"default\": \"allow\"",
		     INVAL("policy: line 1 column 19: '}' expected near end of file"));
	expect_error("{\"default\": \"allow\", \"default\": \"deny\"}",
		     INVAL("policy: line 1 column 30: duplicate object key near '\"default\"'"));
	expect_error("", INVAL("policy: line 1 column 0: '[' or '{' expected near end of file"));
	/* the token jansson quotes is shown on one line */
	expect_error("{\"a\": \"b\\\n\"}",
		     INVAL("policy: line 2 column 0: invalid escape near '\"b\\?'"));
}
END_TEST

START_TEST(test_errors_rule_members)
{
	expect_error("{\"rules\": [5]}", INVAL("policy rules[0]: must be an object"));
	expect_error("{\"rules\": [{\"id\": 1, \"from\": \"any\", \"to\": \"any\", \"action\": "
		     "\"deny\"}, {\"from\": \"any\"}]}",
		     INVAL("policy rules[1]: key \"id\" is missing"));
	expect_error("{\"rules\": [{\"id\": 0, \"from\": \"any\"}]}",
		     INVAL("policy rules[0]: \"id\" must be an integer from 1 to 4294967295"));
	expect_error("{\"rules\": [{\"id\": -3}]}",
		     INVAL("policy rules[0]: \"id\" must be an integer from 1 to 4294967295"));
	expect_error("{\"rules\": [{\"id\": 4294967296}]}",
		     INVAL("policy rules[0]: \"id\" must be an integer from 1 to 4294967295"));
	expect_error("{\"rules\": [{\"id\": \"7\"}]}",
		     INVAL("policy rules[0]: \"id\" must be an integer from 1 to 4294967295"));
	expect_error("{\"rules\": [{\"id\": 7.0}]}",
		     INVAL("policy rules[0]: \"id\" must be an integer from 1 to 4294967295"));
	expect_rule_error("\"to\": \"any\", \"action\": \"deny\"",
			  INVAL("policy rule 1: key \"from\" is missing"));
	expect_rule_error("\"from\": \"any\", \"action\": \"deny\"",
			  INVAL("policy rule 1: key \"to\" is missing"));
	expect_rule_error("\"from\": \"any\", \"to\": \"any\"",
			  INVAL("policy rule 1: key \"action\" is missing"));
	expect_rule_error("\"from\": \"any\", \"to\": \"any\", \"acton\": \"deny\"",
			  INVAL("policy rule 1: unknown key \"acton\""));
	expect_rule_error("\"from\": \"any\", \"to\": \"any\", \"action\": \"drop\"",
			  INVAL("policy rule 1: action \"drop\": must be allow or deny"));
	expect_rule_error("\"from\": \"any\", \"to\": \"any\", \"action\": null",
			  INVAL("policy rule 1: \"action\" must be a string"));
	expect_rule_error("\"from\": [\"any\"], \"to\": \"any\", \"action\": \"deny\"",
			  INVAL("policy rule 1: \"from\" must be a string"));
	expect_error("{\"rules\": ["
		     "{\"id\": 9, \"from\": \"any\", \"to\": \"any\", \"action\": \"deny\"},"
		     "{\"id\": 3, \"from\": \"any\", \"to\": \"any\", \"action\": \"deny\"},"
		     "{\"id\": 9, \"from\": \"any\", \"to\": \"any\", \"action\": \"allow\"}]}",
		     INVAL("policy rule 9: duplicate id (rules[0] and rules[2])"));
}
END_TEST

START_TEST(test_errors_selectors)
{
	expect_rule_error("\"from\": \"grop:web\", \"to\": \"any\", \"action\": \"deny\"",
			  INVAL("policy rule 1: from \"grop:web\": unknown selector"));
	expect_rule_error("\"from\": \"any\", \"to\": \"ANY\", \"action\": \"deny\"",
			  INVAL("policy rule 1: to \"ANY\": unknown selector"));
	expect_rule_error("\"from\": \"group:\", \"to\": \"any\", \"action\": \"deny\"",
			  INVAL("policy rule 1: from \"group:\": empty name"));
	expect_rule_error("\"from\": \"container:\", \"to\": \"any\", \"action\": \"deny\"",
			  INVAL("policy rule 1: from \"container:\": empty name"));
	expect_rule_error("\"from\": \"group:a\\tb\", \"to\": \"any\", \"action\": \"deny\"",
			  INVAL("policy rule 1: from \"group:a?b\": control character in name"));
	expect_rule_error("\"from\": \"cidr:10.0.0.0\", \"to\": \"any\", \"action\": \"deny\"",
			  INVAL("policy rule 1: from \"cidr:10.0.0.0\": missing /LEN"));
	expect_rule_error(
		"\"from\": \"cidr:10.0.0/8\", \"to\": \"any\", \"action\": \"deny\"",
		INVAL("policy rule 1: from \"cidr:10.0.0/8\": not an IPv4 or IPv6 address"));
	expect_rule_error(
		"\"from\": \"cidr:10.0.0.0/33\", \"to\": \"any\", \"action\": \"deny\"",
		INVAL("policy rule 1: from \"cidr:10.0.0.0/33\": prefix length must be 0 to 32"));
	expect_rule_error(
		"\"from\": \"cidr:10.0.0.0/\", \"to\": \"any\", \"action\": \"deny\"",
		INVAL("policy rule 1: from \"cidr:10.0.0.0/\": prefix length must be 0 to 32"));
	expect_rule_error(
		"\"from\": \"cidr:10.0.0.0/-8\", \"to\": \"any\", \"action\": \"deny\"",
		INVAL("policy rule 1: from \"cidr:10.0.0.0/-8\": prefix length must be 0 to 32"));
	expect_rule_error(
		"\"from\": \"cidr:fd00::/129\", \"to\": \"any\", \"action\": \"deny\"",
		INVAL("policy rule 1: from \"cidr:fd00::/129\": prefix length must be 0 to 128"));
	expect_rule_error(
		"\"from\": \"cidr:10.0.0.1/24\", \"to\": \"any\", \"action\": \"deny\"",
		INVAL("policy rule 1: from \"cidr:10.0.0.1/24\": address bits set after the prefix"));
	expect_rule_error(
		"\"from\": \"cidr:fd00::1/64\", \"to\": \"any\", \"action\": \"deny\"",
		INVAL("policy rule 1: from \"cidr:fd00::1/64\": address bits set after the prefix"));
	expect_rule_error(
		"\"from\": \"cidr:10.0.0.128/25\", \"to\": \"cidr:10.1.0.0/15\", \"action\": \"deny\"",
		INVAL("policy rule 1: to \"cidr:10.1.0.0/15\": address bits set after the prefix"));
}
END_TEST

static void expect_port_error(const char *port, const char *msg)
{
	char members[256];

	snprintf(members, sizeof(members),
		 "\"from\": \"any\", \"to\": \"any\", \"ports\": [\"tcp/1\", \"%s\"], "
		 "\"action\": \"deny\"",
		 port);
	expect_rule_error(members, msg);
}

START_TEST(test_errors_ports_apps)
{
	expect_error("{\"rules\": [{\"id\": 20, \"from\": \"any\", \"to\": \"any\", \"ports\": "
		     "[\"tcp/80\", \"tcp/99999\"], \"action\": \"deny\"}]}",
		     INVAL("policy rule 20: ports[1] \"tcp/99999\": port out of range"));
	expect_port_error("tcp/0", INVAL("policy rule 1: ports[1] \"tcp/0\": port out of range"));
	expect_port_error("udp/65536",
			  INVAL("policy rule 1: ports[1] \"udp/65536\": port out of range"));
	expect_port_error("tcp/1-65536",
			  INVAL("policy rule 1: ports[1] \"tcp/1-65536\": port out of range"));
	expect_port_error(
		"tcp/8080-8000",
		INVAL("policy rule 1: ports[1] \"tcp/8080-8000\": low port above high port"));
	expect_port_error("tcp/http",
			  INVAL("policy rule 1: ports[1] \"tcp/http\": bad port number"));
	expect_port_error("tcp/-80", INVAL("policy rule 1: ports[1] \"tcp/-80\": bad port number"));
	expect_port_error("tcp/80-", INVAL("policy rule 1: ports[1] \"tcp/80-\": bad port number"));
	expect_port_error("tcp/ 80", INVAL("policy rule 1: ports[1] \"tcp/ 80\": bad port number"));
	expect_port_error("tcp/", INVAL("policy rule 1: ports[1] \"tcp/\": bad port number"));
	expect_port_error(
		"tcp",
		INVAL("policy rule 1: ports[1] \"tcp\": missing /PORT (/any for every port)"));
	expect_port_error(
		"sctp/80",
		INVAL("policy rule 1: ports[1] \"sctp/80\": protocol must be tcp, udp or icmp"));
	expect_port_error(
		"TCP/80",
		INVAL("policy rule 1: ports[1] \"TCP/80\": protocol must be tcp, udp or icmp"));
	expect_port_error("icmp/8",
			  INVAL("policy rule 1: ports[1] \"icmp/8\": icmp takes no port number"));
	expect_rule_error(
		"\"from\": \"any\", \"to\": \"any\", \"ports\": [80], \"action\": \"deny\"",
		INVAL("policy rule 1: ports[0] must be a string"));
	expect_rule_error("\"from\": \"any\", \"to\": \"any\", \"ports\": [], \"action\": \"deny\"",
			  INVAL("policy rule 1: \"ports\" must be a non-empty array of strings"));
	expect_rule_error(
		"\"from\": \"any\", \"to\": \"any\", \"ports\": \"any\", \"action\": \"deny\"",
		INVAL("policy rule 1: \"ports\" must be a non-empty array of strings"));
	expect_rule_error("\"from\": \"any\", \"to\": \"any\", \"apps\": [\"http\", \"htp\"], "
			  "\"action\": \"deny\"",
			  INVAL("policy rule 1: apps[1] \"htp\": unknown application"));
	expect_rule_error("\"from\": \"any\", \"to\": \"any\", \"apps\": [], \"action\": \"deny\"",
			  INVAL("policy rule 1: \"apps\" must be a non-empty array of strings"));
	expect_rule_error(
		"\"from\": \"any\", \"to\": \"any\", \"apps\": [null], \"action\": \"deny\"",
		INVAL("policy rule 1: apps[0] must be a string"));
}
END_TEST

START_TEST(test_good_port_forms)
{
	static const char json[] =
		"{\"rules\": [{\"id\": 1, \"from\": \"any\", \"to\": \"any\", \"ports\": [\"tcp/1\","
		" \"tcp/65535\", \"udp/1-65535\", \"tcp/any\", \"udp/any\", \"icmp\", \"icmp/any\","
		" \"tcp/7-7\"], \"action\": \"deny\"}]}";
	struct policy *p = parse_ok(json);

	ck_assert_uint_eq(policy_rule_count(p), 1);
	policy_free(p);
}
END_TEST

START_TEST(test_threats)
{
	static const char json[] =
		"{\"threats\": {\"actions\": {\"sql_injection\": \"drop\", \"syn_flood\": \"alert\","
		" \"icmp_tunneling\": \"drop\"}, \"syn_flood_pps\": 5000, \"icmp_flood_pps\": 1}}";
	struct policy *p = parse_ok(json);

	ck_assert_int_eq(policy_threat_action(p, "sql_injection"), POLICY_THREAT_DROP);
	ck_assert_int_eq(policy_threat_action(p, "icmp_tunneling"), POLICY_THREAT_DROP);
	ck_assert_int_eq(policy_threat_action(p, "syn_flood"), POLICY_THREAT_ALERT);
	ck_assert_int_eq(policy_threat_action(p, "dns_tunneling"), POLICY_THREAT_ALERT);
	ck_assert_int_eq(policy_threat_action(p, "no_such_threat"), POLICY_THREAT_ALERT);
	ck_assert_uint_eq(policy_syn_flood_pps(p), 5000);
	ck_assert_uint_eq(policy_icmp_flood_pps(p), 1);
	policy_free(p);

	p = parse_ok("{\"threats\": {\"syn_flood_pps\": 4294967295}}");
	ck_assert_uint_eq(policy_syn_flood_pps(p), 4294967295u);
	ck_assert_uint_eq(policy_icmp_flood_pps(p), 0);
	policy_free(p);

	expect_error("{\"threats\": {\"actions\": {\"sqli\": \"drop\"}}}",
		     INVAL("policy threats: unknown threat \"sqli\""));
	expect_error("{\"threats\": {\"actions\": {\"sql_injection\": \"block\"}}}",
		     INVAL("policy threats: actions \"sql_injection\": must be alert or drop"));
	expect_error("{\"threats\": {\"actions\": {\"sql_injection\": 1}}}",
		     INVAL("policy threats: actions \"sql_injection\": must be alert or drop"));
	expect_error("{\"threats\": {\"actions\": [\"sql_injection\"]}}",
		     INVAL("policy threats: \"actions\" must be an object"));
	expect_error(
		"{\"threats\": {\"syn_flood_pps\": 0}}",
		INVAL("policy threats: \"syn_flood_pps\" must be an integer from 1 to 4294967295"));
	expect_error(
		"{\"threats\": {\"icmp_flood_pps\": -5}}",
		INVAL("policy threats: \"icmp_flood_pps\" must be an integer from 1 to 4294967295"));
	expect_error(
		"{\"threats\": {\"icmp_flood_pps\": 2.5}}",
		INVAL("policy threats: \"icmp_flood_pps\" must be an integer from 1 to 4294967295"));
	expect_error(
		"{\"threats\": {\"syn_flood_pps\": 4294967296}}",
		INVAL("policy threats: \"syn_flood_pps\" must be an integer from 1 to 4294967295"));
	expect_error("{\"threats\": {\"synflood_pps\": 10}}",
		     INVAL("policy threats: unknown key \"synflood_pps\""));
}
END_TEST

START_TEST(test_every_threat_name)
{
	/* clang-format off */
	static const char *const names[] = {
		"syn_flood", "icmp_flood", "ping_of_death", "ip_teardrop",
		"tcp_syn_data", "tcp_split_handshake", "tcp_small_window", "tcp_small_mss",
		"ssh_v1", "tls_old_version", "tls_heartbleed", "http_smuggling",
		"http_negative_length", "http_slowloris", "sql_injection", "dns_tunneling",
		"dns_zone_transfer", "dns_type_null", "icmp_tunneling", "tcp_overlap_conflict",
	};
	/* clang-format on */
	char json[128];
	struct policy *p;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(json, sizeof(json), "{\"threats\": {\"actions\": {\"%s\": \"drop\"}}}",
			 names[i]);
		p = parse_ok(json);
		for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++)
			ck_assert_int_eq(policy_threat_action(p, names[j]),
					 i == j ? POLICY_THREAT_DROP : POLICY_THREAT_ALERT);
		policy_free(p);
	}
}
END_TEST

START_TEST(test_dump)
{
	static const char json[] =
		"{\"default\": \"deny\", \"rules\": ["
		"{\"id\": 40, \"from\": \"cidr:2001:0db8:0:0::/32\", \"to\": \"container:ab12\","
		" \"ports\": [\"udp/53\", \"tcp/8000-8080\", \"icmp/any\", \"tcp/any\"], \"action\": "
		"\"allow\"},"
		"{\"id\": 3, \"from\": \"external\", \"to\": \"group:web\", \"apps\": [\"tls\","
		" \"http\", \"http\"], \"action\": \"allow\"},"
		"{\"id\": 7, \"from\": \"any\", \"to\": \"cidr:10.0.0.0/8\", \"ports\": [\"tcp/22\","
		" \"any\"], \"action\": \"deny\"},"
		"{\"id\": 50, \"from\": \"namespace:shop\", \"to\": \"pod:bank/api-0\","
		" \"action\": \"allow\"}],"
		" \"threats\": {\"actions\": {\"ssh_v1\": \"drop\"}, \"icmp_flood_pps\": 300}}";
	static const char rules[] =
		"\"rules\": ["
		"{\"id\": 3, \"from\": \"external\", \"to\": \"group:web\", \"ports\": [\"any\"],"
		" \"apps\": [\"http\", \"tls\"], \"action\": \"allow\"}, "
		"{\"id\": 7, \"from\": \"any\", \"to\": \"cidr:10.0.0.0/8\", \"ports\": [\"any\"],"
		" \"action\": \"deny\"}, "
		"{\"id\": 40, \"from\": \"cidr:2001:db8::/32\", \"to\": \"container:ab12\","
		" \"ports\": [\"udp/53\", \"tcp/8000-8080\", \"icmp\", \"tcp/any\"], \"action\": "
		"\"allow\"}, "
		"{\"id\": 50, \"from\": \"namespace:shop\", \"to\": \"pod:bank/api-0\","
		" \"ports\": [\"any\"], \"action\": \"allow\"}]";
	struct policy *p = parse_ok(json), *q;
	char *dump, *again;

	dump = policy_dump(p);
	ck_assert_ptr_nonnull(dump);
	ck_assert_msg(strncmp(dump, "{\"default\": \"deny\", ", 20) == 0, "%s", dump);
	ck_assert_msg(strstr(dump, rules), "%s", dump);
	ck_assert_ptr_nonnull(strstr(dump, "\"ssh_v1\": \"drop\""));
	ck_assert_ptr_nonnull(strstr(dump, "\"ssh_v1\": \"drop\""));
	ck_assert_ptr_nonnull(strstr(dump, "\"tls_heartbleed\": \"alert\""));
	ck_assert_ptr_nonnull(strstr(dump, "\"icmp_flood_pps\": 300"));
	ck_assert_ptr_null(strstr(dump, "syn_flood_pps"));
	/* the dump is a policy that dumps the same */
	q = parse_ok(dump);
	again = policy_dump(q);
	ck_assert_str_eq(again, dump);
	free(again);
	free(dump);
	policy_free(q);
	policy_free(p);
}
END_TEST

/* packaging/examples/policy.json, the example shipped with the sources, stays valid and meant */
START_TEST(test_example_file)
{
	struct policy_peer web = ctr("10.0.0.3", "aa11", "web1", "web");
	struct policy_peer db = ctr("10.0.0.2", "bb22", "db1", "db");
	struct policy_peer dns = ext("10.96.0.10");
	struct policy_peer admin = ext("192.168.10.7");
	struct policy_peer v6 = ext("fd00:10::5");
	struct policy *p = NULL;

	ck_assert_msg(policy_load(PC_EXAMPLE_POLICY, &p) == 0, "%s", err_msg());
	ck_assert_uint_eq(policy_rule_count(p), 9);
	expect(p, tcp(web, db, 5432), POLICY_ALLOW, 10, true);
	expect(p, with_app(tcp(web, db, 5432), APP_POSTGRESQL), POLICY_ALLOW, 10, false);
	expect(p, with_app(tcp(web, db, 5432), APP_MYSQL), POLICY_DENY, 20, false);
	expect(p, tcp(admin, db, 22), POLICY_DENY, 20, false);
	expect(p, with_app(tcp(admin, web, 22), APP_SSH), POLICY_ALLOW, 60, false);
	expect(p, with_app(tcp(web, dns, 53), APP_DNS), POLICY_ALLOW, 50, false);
	expect(p, tcp(v6, web, 8080), POLICY_ALLOW, 70, false);
	expect(p, tcp(v6, web, 8081), POLICY_DENY, 0, false);
	expect(p, with_app(tcp(web, admin, 443), APP_HTTP), POLICY_DENY, 0, false);
	ck_assert_int_eq(policy_threat_action(p, "sql_injection"), POLICY_THREAT_DROP);
	ck_assert_int_eq(policy_threat_action(p, "dns_tunneling"), POLICY_THREAT_ALERT);
	ck_assert_uint_eq(policy_syn_flood_pps(p), 20000);
	ck_assert_uint_eq(policy_icmp_flood_pps(p), 1000);
	policy_free(p);
}
END_TEST

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/pc-policy-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_load)
{
	char path[128], msg[256];
	struct policy *p = NULL;

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/policy.json", tmpdir);
	write_file(path, contract_example, strlen(contract_example));
	ck_assert_int_eq(policy_load(path, &p), 0);
	ck_assert_uint_eq(policy_rule_count(p), 2);
	policy_free(p);

	write_file(path, "{\"rulez\": []}", 13);
	ck_assert_int_eq(policy_load(path, &p), -EINVAL);
	snprintf(msg, sizeof(msg), "%s: policy: unknown key \"rulez\": Invalid argument", path);
	ck_assert_str_eq(err_msg(), msg);
	ck_assert_int_eq(unlink(path), 0);

	ck_assert_int_eq(policy_load(path, &p), -ENOENT);
	snprintf(msg, sizeof(msg), "%s: No such file or directory", path);
	ck_assert_str_eq(err_msg(), msg);
	ck_assert_int_eq(rmdir(tmpdir), 0);
}
END_TEST

START_TEST(test_size_bounds)
{
	size_t big = 4 * 1024 * 1024 + 1;
	char *json = malloc(big + 1), path[128], msg[256];
	struct policy *p = NULL;
	size_t n, i;

	ck_assert_ptr_nonnull(json);
	memset(json, ' ', big);
	json[0] = '{';
	json[big - 1] = '}';
	json[big] = '\0';
	ck_assert_int_eq(policy_parse(json, big, &p), -EFBIG);
	ck_assert_str_eq(err_msg(), "policy: larger than 4 MiB: File too large");
	ck_assert_int_eq(policy_parse(json + 1, big - 1, &p), -EINVAL); /* not an object */
	make_tmpdir();
	snprintf(path, sizeof(path), "%s/big.json", tmpdir);
	write_file(path, json, big);
	ck_assert_int_eq(policy_load(path, &p), -EFBIG);
	snprintf(msg, sizeof(msg), "%s: policy larger than 4 MiB: File too large", path);
	ck_assert_str_eq(err_msg(), msg);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(tmpdir), 0);

	/* 65537 rules: too many, although the text is small enough */
	n = (size_t)snprintf(json, big, "{\"rules\": [");
	for (i = 0; i < 65537; i++)
		n += (size_t)snprintf(json + n, big - n, "%s{}", i ? "," : "");
	n += (size_t)snprintf(json + n, big - n, "]}");
	ck_assert_int_eq(policy_parse(json, n, &p), -E2BIG);
	ck_assert_str_eq(err_msg(), "policy: more than 65536 rules: Argument list too long");
	free(json);
}
END_TEST

START_TEST(test_many_rules)
{
	/* 50000 rules (near the 4 MiB bound) in reverse id order */
	size_t cap = 50000 * 100 + 64, n, i;
	char *json = malloc(cap);
	struct policy *p;
	struct policy_peer a = ctr("10.1.2.3", "a", NULL, NULL);

	ck_assert_ptr_nonnull(json);
	n = (size_t)snprintf(json, cap, "{\"default\":\"deny\",\"rules\":[");
	for (i = 0; i < 50000; i++)
		n += (size_t)snprintf(json + n, cap - n,
				      "%s{\"id\":%zu,\"from\":\"any\",\"to\":\"any\","
				      "\"ports\":[\"tcp/%zu\"],\"action\":\"allow\"}",
				      i ? "," : "", 50000 - i, i % 49999 + 1);
	n += (size_t)snprintf(json + n, cap - n, "]}");
	ck_assert_uint_lt(n, cap);
	p = parse_ok(json);
	ck_assert_uint_eq(policy_rule_count(p), 50000);
	/* tcp/1 is in rules[0] (id 50000) and rules[49999] (id 1) */
	expect(p, tcp(a, a, 1), POLICY_ALLOW, 1, false);
	expect(p, tcp(a, a, 2), POLICY_ALLOW, 49999, false);
	expect(p, tcp(a, a, 50000), POLICY_DENY, 0, false);
	policy_free(p);
	free(json);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_contract_example);
	tcase_add_test(tc, test_selectors_any_group_external);
	tcase_add_test(tc, test_selector_container);
	tcase_add_test(tc, test_selector_cidr);
	tcase_add_test(tc, test_ports);
	tcase_add_test(tc, test_order_by_id);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_provisional);
	tcase_add_test(tc, test_provisional_after_allow_rule);
	tcase_add_test(tc, test_errors_top);
	tcase_add_test(tc, test_errors_rule_members);
	tcase_add_test(tc, test_errors_selectors);
	tcase_add_test(tc, test_selectors_k8s);
	tcase_add_test(tc, test_errors_k8s_selectors);
	tcase_add_test(tc, test_errors_ports_apps);
	tcase_add_test(tc, test_good_port_forms);
	tcase_add_test(tc, test_threats);
	tcase_add_test(tc, test_every_threat_name);
	tcase_add_test(tc, test_dump);
	tcase_add_test(tc, test_example_file);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_size_bounds);
	tcase_add_test(tc, test_many_rules);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
