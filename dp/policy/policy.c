// SPDX-License-Identifier: Apache-2.0
/*
 * The policy file: a strict parse in the manner of lib/core/config.c.  An unknown
 * key, a wrong type or a bad value is a one-line error naming the rule and
 * the member; the result is the precomputed form of policy_int.h.
 *
 * Choices the contract leaves open:
 *  - "default" and "rules" may be left out (allow, no rules), as may a
 *    rule's "ports" (any) and "apps" (any application); a "ports" or "apps"
 *    list that is present must not be empty.
 *  - "cidr:ADDR/LEN" needs LEN (0..32 for IPv4, 0..128 for IPv6) and no
 *    address bits after the prefix: 10.0.0.1/24 is refused as ambiguous.
 *    A prefix matches addresses of its own family only (an IPv4 prefix does
 *    not match an IPv4-mapped IPv6 address).
 *  - "tcp" and "udp" need a port ("tcp/any" for all); "icmp" and "icmp/any"
 *    mean ICMP and ICMPv6 and take no port number.
 */
#include "policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "policy_int.h"
#include "lib/core/err.h"
#include "lib/core/fsutil.h"
#include "lib/core/jfield.h"
#include "lib/core/util.h"

#define POLICY_FILE_MAX (4 * 1024 * 1024)
#define POLICY_RULES_MAX 65536
#define WHERE_MAX 40

/* clang-format off */
const char *const policy_threat_names[POLICY_THREAT_COUNT] = {
	"syn_flood", "icmp_flood", "ping_of_death", "ip_teardrop",
	"tcp_syn_data", "tcp_split_handshake", "tcp_small_window", "tcp_small_mss",
	"ssh_v1", "tls_old_version", "tls_heartbleed", "http_smuggling",
	"http_negative_length", "http_slowloris", "sql_injection", "dns_tunneling",
	"dns_zone_transfer", "dns_type_null", "icmp_tunneling", "tcp_overlap_conflict",
};
/* clang-format on */

const char *const policy_class_names[] = { "", "tcp", "udp", "icmp" };

/* "<where>: <item> \"<text>\": <what>" for a bad string value */
static int bad_value(const char *where, const char *item, const char *text, const char *what)
{
	char buf[ERR_SHOWN_MAX];

	return err_set(-EINVAL, "%s: %s \"%s\": %s", where, item, err_shown(text, buf, sizeof(buf)),
		       what);
}

static int threat_index(const char *name)
{
	for (size_t i = 0; i < POLICY_THREAT_COUNT; i++)
		if (strcmp(name, policy_threat_names[i]) == 0)
			return (int)i;
	return -1;
}

/* Decimal digits only, at most max; -EINVAL for a non-number, -ERANGE above max. */
static int parse_uint(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v <= max)
			v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* ---- selectors ---- */

static int sel_name(struct sel *s, enum sel_kind kind, const char *name, const char *where,
		    const char *item, const char *text)
{
	size_t n = strlen(name);

	if (n == 0)
		return bad_value(where, item, text, "empty name");
	if (n > POLICY_NAME_MAX)
		return bad_value(where, item, text, "name longer than 255 bytes");
	for (size_t i = 0; i < n; i++)
		if (iscntrl((unsigned char)name[i]))
			return bad_value(where, item, text, "control character in name");
	s->name = strdup(name);
	if (!s->name)
		return err_set(-ENOMEM, "%s: %s", where, item);
	s->kind = kind;
	s->len = n;
	return 0;
}

/* An RFC 1123 label (dots false) or subdomain of at most max bytes, lowercase, as Kubernetes names
 * are. */
static bool k8s_name_ok(const char *s, size_t n, size_t max, bool dots)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      (dots && c == '.')))
			return false;
	}
	return s[0] != '-' && s[0] != '.' && s[n - 1] != '-' && s[n - 1] != '.';
}

#define NS_RULE "lowercase letters, digits and -, at most 63"
#define POD_RULE "lowercase letters, digits, - and ., at most 253"

/* namespace:NAME, or pod:NAMESPACE/NAME */
static int sel_k8s(struct sel *s, enum sel_kind kind, const char *arg, const char *where,
		   const char *item, const char *text)
{
	const char *slash = strchr(arg, '/');
	size_t ns_len = kind == SEL_POD && slash ? (size_t)(slash - arg) : strlen(arg);

	if (kind == SEL_POD && !slash)
		return bad_value(where, item, text, "a pod is NAMESPACE/NAME");
	if (!k8s_name_ok(arg, ns_len, POLICY_K8S_NS_MAX, false))
		return bad_value(where, item, text, "not a Kubernetes namespace (" NS_RULE ")");
	if (kind == SEL_POD && !k8s_name_ok(slash + 1, strlen(slash + 1), POLICY_K8S_POD_MAX, true))
		return bad_value(where, item, text, "not a Kubernetes pod name (" POD_RULE ")");
	s->name = strdup(arg);
	if (!s->name)
		return err_set(-ENOMEM, "%s: %s", where, item);
	s->kind = kind;
	s->len = strlen(arg);
	s->split = ns_len;
	return 0;
}

/* Whole bytes, then the partial byte, then the rest must be zero. */
static bool host_bits_clear(const struct sel *s)
{
	size_t alen = s->family == AF_INET ? 4 : 16;

	if (s->lastmask && (s->addr[s->full] & (uint8_t)~s->lastmask))
		return false;
	for (size_t i = s->full + (s->lastmask ? 1 : 0); i < alen; i++)
		if (s->addr[i])
			return false;
	return true;
}

static int sel_cidr(struct sel *s, const char *cidr, const char *where, const char *item,
		    const char *text)
{
	const char *slash = strchr(cidr, '/');
	char addr[INET6_ADDRSTRLEN];
	unsigned plen, max;

	if (!slash)
		return bad_value(where, item, text, "missing /LEN");
	if ((size_t)(slash - cidr) >= sizeof(addr))
		return bad_value(where, item, text, "not an IPv4 or IPv6 address");
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	if (inet_pton(AF_INET, addr, s->addr) == 1)
		s->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, s->addr) == 1)
		s->family = AF_INET6;
	else
		return bad_value(where, item, text, "not an IPv4 or IPv6 address");
	max = s->family == AF_INET ? 32 : 128;
	if (parse_uint(slash + 1, strlen(slash + 1), max, &plen) < 0)
		return bad_value(where, item, text,
				 max == 32 ? "prefix length must be 0 to 32"
					   : "prefix length must be 0 to 128");
	s->kind = SEL_CIDR;
	s->plen = (uint8_t)plen;
	s->full = (uint8_t)(plen / 8);
	s->lastmask = (uint8_t)(0xff00 >> (plen % 8));
	if (!host_bits_clear(s))
		return bad_value(where, item, text, "address bits set after the prefix");
	return 0;
}

static bool starts(const char *s, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0)
		return false;
	*rest = s + n;
	return true;
}

static int sel_parse(struct sel *s, const json_t *v, const char *where, const char *item)
{
	const char *text, *rest;

	if (!json_is_string(v))
		return err_set(-EINVAL, "%s: \"%s\" must be a string", where, item);
	text = json_string_value(v);
	if (strcmp(text, "any") == 0)
		s->kind = SEL_ANY;
	else if (strcmp(text, "external") == 0)
		s->kind = SEL_EXTERNAL;
	else if (starts(text, "group:", &rest))
		return sel_name(s, SEL_GROUP, rest, where, item, text);
	else if (starts(text, "container:", &rest))
		return sel_name(s, SEL_CONTAINER, rest, where, item, text);
	else if (starts(text, "namespace:", &rest))
		return sel_k8s(s, SEL_NAMESPACE, rest, where, item, text);
	else if (starts(text, "pod:", &rest))
		return sel_k8s(s, SEL_POD, rest, where, item, text);
	else if (starts(text, "cidr:", &rest))
		return sel_cidr(s, rest, where, item, text);
	else
		return bad_value(where, item, text, "unknown selector");
	return 0;
}

/* ---- ports ---- */

static int port_class_of(const char *s, size_t n)
{
	for (size_t i = 1; i < ARRAY_SIZE(policy_class_names); i++)
		if (strlen(policy_class_names[i]) == n && strncmp(s, policy_class_names[i], n) == 0)
			return (int)i;
	return -1;
}

static int port_number(const char *s, size_t n, uint16_t *out, const char *where, const char *item,
		       const char *text)
{
	unsigned v;
	int ret = parse_uint(s, n, 65535, &v);

	if (ret == -EINVAL)
		return bad_value(where, item, text, "bad port number");
	if (ret < 0 || v == 0)
		return bad_value(where, item, text, "port out of range");
	*out = (uint16_t)v;
	return 0;
}

/* "N", "LO-HI" or "any" after the protocol's slash */
static int port_numbers(struct port_range *r, const char *s, const char *where, const char *item,
			const char *text)
{
	const char *dash = strchr(s, '-');
	int ret;

	if (strcmp(s, "any") == 0) {
		r->lo = 0;
		r->hi = 65535;
		return 0;
	}
	if (!dash) {
		ret = port_number(s, strlen(s), &r->lo, where, item, text);
		r->hi = r->lo;
		return ret;
	}
	ret = port_number(s, (size_t)(dash - s), &r->lo, where, item, text);
	if (ret == 0)
		ret = port_number(dash + 1, strlen(dash + 1), &r->hi, where, item, text);
	if (ret == 0 && r->lo > r->hi)
		ret = bad_value(where, item, text, "low port above high port");
	return ret;
}

static int port_parse(struct port_range *r, const char *text, const char *where, const char *item)
{
	const char *slash = strchr(text, '/');
	size_t plen = slash ? (size_t)(slash - text) : strlen(text);
	int cls = port_class_of(text, plen);

	if (cls < 0)
		return bad_value(where, item, text, "protocol must be tcp, udp or icmp");
	r->cls = (uint8_t)cls;
	if (cls == PCLASS_ICMP) {
		if (slash && strcmp(slash + 1, "any") != 0)
			return bad_value(where, item, text, "icmp takes no port number");
		r->lo = 0;
		r->hi = 65535;
		return 0;
	}
	if (!slash)
		return bad_value(where, item, text, "missing /PORT (/any for every port)");
	return port_numbers(r, slash + 1, where, item, text);
}

static int rule_ports(void *target, const json_t *v, const struct jfield *f, const char *where)
{
	struct rule *r = target;
	char item[32];
	size_t i;
	json_t *e;
	int ret;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return err_set(-EINVAL, "%s: \"ports\" must be a non-empty array of strings",
			       where);
	r->ports = calloc(json_array_size(v), sizeof(*r->ports));
	if (!r->ports)
		return err_set(-ENOMEM, "%s: ports", where);
	json_array_foreach(v, i, e) {
		snprintf(item, sizeof(item), "ports[%zu]", i);
		if (!json_is_string(e))
			return err_set(-EINVAL, "%s: %s must be a string", where, item);
		if (strcmp(json_string_value(e), "any") == 0) {
			r->any_port = true;
			continue;
		}
		ret = port_parse(&r->ports[r->nports], json_string_value(e), where, item);
		if (ret < 0)
			return ret;
		r->nports++;
	}
	return 0;
}

/* ---- the other members of a rule ---- */

static int rule_apps(void *target, const json_t *v, const struct jfield *f, const char *where)
{
	struct rule *r = target;
	char item[32];
	size_t i;
	json_t *e;
	int app;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return err_set(-EINVAL, "%s: \"apps\" must be a non-empty array of strings", where);
	json_array_foreach(v, i, e) {
		snprintf(item, sizeof(item), "apps[%zu]", i);
		if (!json_is_string(e))
			return err_set(-EINVAL, "%s: %s must be a string", where, item);
		app = app_from_name(json_string_value(e));
		if (app < 0)
			return bad_value(where, item, json_string_value(e), "unknown application");
		r->apps |= 1u << app;
	}
	return 0;
}

static int parse_action(const json_t *v, const char *where, const char *item,
			enum policy_action *out)
{
	const char *s = json_string_value(v);

	if (!json_is_string(v))
		return err_set(-EINVAL, "%s: \"%s\" must be a string", where, item);
	if (strcmp(s, "allow") == 0)
		*out = POLICY_ALLOW;
	else if (strcmp(s, "deny") == 0)
		*out = POLICY_DENY;
	else
		return bad_value(where, item, s, "must be allow or deny");
	return 0;
}

static int rule_action(void *target, const json_t *v, const struct jfield *f, const char *where)
{
	struct rule *r = target;
	enum policy_action a = POLICY_ALLOW;
	int ret = parse_action(v, where, "action", &a);

	r->action = (uint8_t)a;
	return ret;
}

static int rule_from(void *target, const json_t *v, const struct jfield *f, const char *where)
{
	struct rule *r = target;
	return sel_parse(&r->from, v, where, "from");
}

static int rule_to(void *target, const json_t *v, const struct jfield *f, const char *where)
{
	struct rule *r = target;
	return sel_parse(&r->to, v, where, "to");
}

static int rule_id_seen(void *target, const json_t *v, const struct jfield *f, const char *where)
{
	return 0; /* read first, to name the rule in every message */
}

/* a key of an object read by its function */
#define KEY(name, fn, required)                                                                    \
	{                                                                                          \
		name, JF_FN, 0, 0, 0, 0, fn, required                                              \
	}

static const struct jfield rule_keys[] = {
	KEY("id", rule_id_seen, true), KEY("from", rule_from, true),
	KEY("to", rule_to, true),      KEY("ports", rule_ports, false),
	KEY("apps", rule_apps, false), KEY("action", rule_action, true),
};

static int rule_parse(struct rule *r, json_t *v, size_t index)
{
	char where[WHERE_MAX];
	json_t *id = json_object_get(v, "id");

	snprintf(where, sizeof(where), "policy rules[%zu]", index);
	if (!json_is_object(v))
		return err_set(-EINVAL, "%s: must be an object", where);
	if (!id)
		return err_set(-EINVAL, "%s: key \"id\" is missing", where);
	if (!json_is_integer(id) || json_integer_value(id) < 1 ||
	    json_integer_value(id) > UINT32_MAX)
		return err_set(-EINVAL, "%s: \"id\" must be an integer from 1 to %u", where,
			       UINT32_MAX);
	r->id = (uint32_t)json_integer_value(id);
	r->index = index;
	snprintf(where, sizeof(where), "policy rule %u", r->id);
	if (!json_object_get(v, "ports"))
		r->any_port = true;
	return jfield_read(v, r, rule_keys, ARRAY_SIZE(rule_keys), 0, where);
}

static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Sort by id: the order of decision.  Ids must be unique. */
static int rules_sort(struct policy *p)
{
	qsort(p->rules, p->n, sizeof(*p->rules), rule_cmp);
	for (size_t i = 1; i < p->n; i++) {
		const struct rule *a = &p->rules[i - 1], *b = &p->rules[i];

		if (a->id == b->id)
			return err_set(-EINVAL,
				       "policy rule %u: duplicate id (rules[%zu] and rules[%zu])",
				       a->id, a->index < b->index ? a->index : b->index,
				       a->index < b->index ? b->index : a->index);
	}
	return 0;
}

static int top_rules(void *target, const json_t *v, const struct jfield *f, const char *where)
{
	struct policy *p = target;
	size_t i;
	json_t *e;
	int ret;

	if (!json_is_array(v))
		return err_set(-EINVAL, "policy: \"rules\" must be an array");
	if (json_array_size(v) > POLICY_RULES_MAX)
		return err_set(-E2BIG, "policy: more than %d rules", POLICY_RULES_MAX);
	if (json_array_size(v) == 0)
		return 0;
	p->rules = calloc(json_array_size(v), sizeof(*p->rules));
	if (!p->rules)
		return err_set(-ENOMEM, "policy: rules");
	json_array_foreach(v, i, e) {
		/* counted before parsing, so that policy_free sees a partial rule */
		p->n++;
		ret = rule_parse(&p->rules[i], e, i);
		if (ret < 0)
			return ret;
	}
	return rules_sort(p);
}

static int top_default(void *target, const json_t *v, const struct jfield *f, const char *where)
{
	struct policy *p = target;
	return parse_action(v, where, "default", &p->dflt);
}

/* ---- threats ---- */

static int threat_actions(void *target, const json_t *v, const struct jfield *f, const char *where)
{
	struct policy *p = target;
	char buf[ERR_SHOWN_MAX];
	const char *name, *s;
	json_t *a;
	int t;

	if (!json_is_object(v))
		return err_set(-EINVAL, "%s: \"actions\" must be an object", where);
	json_object_foreach((json_t *)v, name, a) {
		t = threat_index(name);
		if (t < 0)
			return err_set(-EINVAL, "%s: unknown threat \"%s\"", where,
				       err_shown(name, buf, sizeof(buf)));
		s = json_string_value(a);
		if (s && strcmp(s, "alert") == 0)
			p->threat[t] = POLICY_THREAT_ALERT;
		else if (s && strcmp(s, "drop") == 0)
			p->threat[t] = POLICY_THREAT_DROP;
		else
			return err_set(-EINVAL, "%s: actions \"%s\": must be alert or drop", where,
				       name);
	}
	return 0;
}

static int parse_pps(const json_t *v, const char *where, const char *key, uint32_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > UINT32_MAX)
		return err_set(-EINVAL, "%s: \"%s\" must be an integer from 1 to %u", where, key,
			       UINT32_MAX);
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int threat_syn_pps(void *target, const json_t *v, const struct jfield *f, const char *where)
{
	struct policy *p = target;
	return parse_pps(v, where, "syn_flood_pps", &p->syn_pps);
}

static int threat_icmp_pps(void *target, const json_t *v, const struct jfield *f, const char *where)
{
	struct policy *p = target;
	return parse_pps(v, where, "icmp_flood_pps", &p->icmp_pps);
}

static const struct jfield threat_keys[] = {
	KEY("actions", threat_actions, false),
	KEY("syn_flood_pps", threat_syn_pps, false),
	KEY("icmp_flood_pps", threat_icmp_pps, false),
};

static int top_threats(void *target, const json_t *v, const struct jfield *f, const char *where)
{
	struct policy *p = target;
	if (!json_is_object(v))
		return err_set(-EINVAL, "policy: \"threats\" must be an object");
	return jfield_read(v, p, threat_keys, ARRAY_SIZE(threat_keys), 0, "policy threats");
}

static const struct jfield top_keys[] = {
	KEY("default", top_default, false),
	KEY("rules", top_rules, false),
	KEY("threats", top_threats, false),
};

/* ---- the interface ---- */

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->rules[i].ports);
		free(p->rules[i].from.name);
		free(p->rules[i].to.name);
	}
	free(p->rules);
	free(p);
}

int policy_default(struct policy **out)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return err_set(-ENOMEM, "policy");
	p->dflt = POLICY_ALLOW;
	*out = p;
	return 0;
}

int policy_parse(const char *json, size_t len, struct policy **out)
{
	struct policy *p = NULL;
	json_error_t jerr;
	json_t *root;
	int ret;

	if (len > POLICY_FILE_MAX)
		return err_set(-EFBIG, "policy: larger than 4 MiB");
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson quotes the bad token, which may hold a newline */
		for (char *c = jerr.text; *c; c++)
			if (!isprint((unsigned char)*c))
				*c = '?';
		return err_set(-EINVAL, "policy: line %d column %d: %s", jerr.line, jerr.column,
			       jerr.text);
	}
	if (!json_is_object(root))
		ret = err_set(-EINVAL, "policy: top level must be an object");
	else
		ret = policy_default(&p);
	if (ret == 0)
		ret = jfield_read(root, p, top_keys, ARRAY_SIZE(top_keys), 0, "policy");
	json_decref(root);
	if (ret < 0) {
		policy_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

int policy_load_fd(int fd, const char *path, struct policy **out)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	ret = fs_read_all(fd, POLICY_FILE_MAX, &buf, &len);
	if (ret == -EFBIG)
		return err_set(ret, "%s: policy larger than 4 MiB", path);
	if (ret < 0)
		return err_set(ret, "%s", path);
	ret = policy_parse(buf, len, out);
	free(buf);
	if (ret < 0)
		err_wrap(ret, "%s", path);
	return ret;
}

int policy_load(const char *path, struct policy **out)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_set(-errno, "%s", path);
	ret = policy_load_fd(fd, path, out);
	close(fd);
	return ret;
}
