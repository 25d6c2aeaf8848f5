// SPDX-License-Identifier: Apache-2.0
/* The intercepted ports as the hook's state records describe them. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "workload.h"
#include "lib/core/err.h"
#include "lib/core/naming.h"

uint32_t workload_port_id(const uint8_t mac[6])
{
	uint32_t id = (uint32_t)mac[2] << 24 | (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 |
		      mac[5];

	return id ? id : 1;
}

struct wl_ctr *wl_ctr_get(struct wl_ctr *c)
{
	if (c)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

static void ctr_free(struct wl_ctr *c)
{
	for (size_t i = 0; i < c->n_names; i++)
		free(c->names[i]);
	free(c->names);
	free(c);
}

void wl_ctr_put(struct wl_ctr *c)
{
	if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
		ctr_free(c);
}

struct workloads *workloads_empty(void)
{
	return calloc(1, sizeof(struct workloads));
}

void workloads_free(struct workloads *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_ctrs; i++)
		wl_ctr_put(w->ctrs[i]);
	free(w->ctrs);
	free(w->ports);
	free(w->by_addr);
	free(w);
}

/* "10.88.0.5/16" -> family and address; false when it is neither. */
static bool parse_addr(const char *s, struct wl_addr *a)
{
	char buf[STATE_ADDR_STR], *slash;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, a->addr) == 1)
		a->family = AF_INET6;
	return a->family != 0;
}

/* name into c's names, unless empty or there already; -ENOMEM. */
static int add_name(struct wl_ctr *c, const char *name)
{
	if (!name[0])
		return 0;
	for (size_t i = 0; i < c->n_names; i++)
		if (strcmp(c->names[i], name) == 0)
			return 0;
	c->names[c->n_names] = strdup(name);
	return c->names[c->n_names++] ? 0 : -ENOMEM;
}

/* Every name of r's containers (wl_ctr); -ENOMEM. */
static int ctr_names(struct wl_ctr *c, const struct state_rec *r)
{
	int ret = 0;

	c->names = calloc(2 * r->n_ctrs + 1, sizeof(*c->names));
	if (!c->names)
		return -ENOMEM;
	for (size_t i = 0; ret == 0 && i < r->n_ctrs; i++) {
		if (!r->ctrs[i].sandbox)
			ret = add_name(c, r->ctrs[i].name);
		if (ret == 0)
			ret = add_name(c, r->ctrs[i].k8s_container);
	}
	return ret;
}

/* The Kubernetes namespace and pod of r: of its first entry that has a namespace. */
static void ctr_k8s(struct wl_ctr *c, const struct state_rec *r)
{
	for (size_t i = 0; i < r->n_ctrs; i++)
		if (r->ctrs[i].k8s_namespace[0]) {
			snprintf(c->k8s_namespace, sizeof(c->k8s_namespace), "%s",
				 r->ctrs[i].k8s_namespace);
			snprintf(c->k8s_pod, sizeof(c->k8s_pod), "%s", r->ctrs[i].k8s_pod);
			return;
		}
}

/*
 * The record's identity (wl_ctr): its first container (a pod's sandbox),
 * the first group any has, the first Kubernetes container name any has (a
 * pod's sandbox has none: the name of the pod's first container, as
 * portcullis-nri records them), and every name.
 */
static struct wl_ctr *ctr_of(const struct state_rec *r)
{
	struct wl_ctr *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	atomic_init(&c->refs, 1);
	if (ctr_names(c, r) < 0) {
		ctr_free(c);
		return NULL;
	}
	if (r->n_ctrs == 0)
		return c;
	snprintf(c->id, sizeof(c->id), "%s", r->ctrs[0].id);
	snprintf(c->name, sizeof(c->name), "%s", r->ctrs[0].name);
	ctr_k8s(c, r);
	for (size_t i = 0; i < r->n_ctrs; i++)
		if (r->ctrs[i].group[0]) {
			snprintf(c->group, sizeof(c->group), "%s", r->ctrs[i].group);
			break;
		}
	for (size_t i = 0; !c->k8s_container[0] && i < r->n_ctrs; i++)
		snprintf(c->k8s_container, sizeof(c->k8s_container), "%s",
			 r->ctrs[i].k8s_container);
	return c;
}

static void port_of(const struct state_rec *r, const struct state_port *sp, const uint8_t mac[6],
		    struct wl_ctr *c, struct workload *w)
{
	memset(w, 0, sizeof(*w));
	w->mode = r->mode;
	w->ctr = c;
	memcpy(w->ucmac, mac, 6);
	w->port_id = workload_port_id(mac);
	snprintf(w->ifname, sizeof(w->ifname), "%s", sp->name);
	for (size_t a = 0; a < sp->n_addrs; a++)
		if (parse_addr(sp->addrs[a], &w->addrs[w->n_addrs]))
			w->n_addrs++;
}

static int by_port_id(const void *a, const void *b)
{
	const struct workload *x = a, *y = b;

	return x->port_id < y->port_id ? -1 : x->port_id > y->port_id;
}

static int addr_cmp(const struct wl_addr *x, const struct wl_addr *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

static int by_addr(const void *a, const void *b)
{
	return addr_cmp(&((const struct wl_addr_ref *)a)->addr,
			&((const struct wl_addr_ref *)b)->addr);
}

/* Every port's addresses in one sorted array: a session's peer is a lookup. */
static int index_addrs(struct workloads *w)
{
	size_t total = 0;

	for (size_t i = 0; i < w->n; i++)
		total += w->ports[i].n_addrs;
	w->by_addr = calloc(total ? total : 1, sizeof(*w->by_addr));
	if (!w->by_addr)
		return err_set(-ENOMEM, "workloads: %zu addresses", total);
	for (size_t i = 0; i < w->n; i++)
		for (size_t a = 0; a < w->ports[i].n_addrs; a++)
			w->by_addr[w->n_addrs++] = (struct wl_addr_ref){ w->ports[i].addrs[a], i };
	qsort(w->by_addr, w->n_addrs, sizeof(*w->by_addr), by_addr);
	return 0;
}

static int fill(struct workloads *w, const struct state_rec *recs, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += recs[i].n_ports;
	w->ports = calloc(total ? total : 1, sizeof(*w->ports));
	w->ctrs = calloc(n ? n : 1, sizeof(*w->ctrs));
	if (!w->ports || !w->ctrs)
		return err_set(-ENOMEM, "workloads: %zu ports", total);
	for (size_t i = 0; i < n; i++) {
		struct wl_ctr *c = ctr_of(&recs[i]);

		if (!c)
			return err_set(-ENOMEM, "workloads: container");
		w->ctrs[w->n_ctrs++] = c;
		for (size_t p = 0; p < recs[i].n_ports; p++) {
			struct workload *wp = &w->ports[w->n];
			uint8_t mac[6];

			if (naming_mac_parse(recs[i].ports[p].ucmac, mac) < 0)
				continue; /* an off-mode port has none */
			port_of(&recs[i], &recs[i].ports[p], mac, c, wp);
			w->n++;
		}
	}
	qsort(w->ports, w->n, sizeof(*w->ports), by_port_id);
	return index_addrs(w);
}

/* The table of recs (freed here), or of none when ret says the listing failed. */
static int build(int ret, struct state_rec *recs, size_t n, struct workloads **out)
{
	struct workloads *w;

	if (ret == -ENOENT) {
		ret = 0;
		n = 0;
	}
	if (ret < 0)
		return ret;
	w = workloads_empty();
	if (!w) {
		state_list_free(recs, n);
		return err_set(-ENOMEM, "workloads");
	}
	ret = fill(w, recs, n);
	state_list_free(recs, n);
	if (ret < 0) {
		workloads_free(w);
		return ret;
	}
	*out = w;
	return 0;
}

int workloads_load(const char *state_dir, struct workloads **out)
{
	struct state_rec *recs = NULL;
	size_t n = 0;
	int ret = state_list(state_dir, &recs, &n);

	return build(ret, recs, n, out);
}

int workloads_load_from(const char *state_dir, const struct state_source *src,
			struct workloads **out)
{
	struct state_rec *recs = NULL;
	size_t n = 0;
	int ret = state_list_from(state_dir, src, &recs, &n);

	return build(ret, recs, n, out);
}

const struct workload *workloads_by_port(const struct workloads *w, uint32_t port_id)
{
	size_t lo = 0, hi = w->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->ports[mid].port_id == port_id)
			return &w->ports[mid];
		if (w->ports[mid].port_id < port_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct workload *workloads_by_ucmac(const struct workloads *w, const uint8_t mac[6])
{
	const struct workload *p;

	/* UCMACs are locally administered 02:70:xx:xx:xx:xx */
	if (mac[0] != 0x02 || mac[1] != 0x70)
		return NULL;
	p = workloads_by_port(w, workload_port_id(mac));
	return p && memcmp(p->ucmac, mac, 6) == 0 ? p : NULL;
}

const struct workload *workloads_by_addr(const struct workloads *w, uint8_t family,
					 const uint8_t addr[16])
{
	struct wl_addr key = { .family = family };
	size_t lo = 0, hi = w->n_addrs;

	memcpy(key.addr, addr, family == AF_INET ? 4 : 16);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = addr_cmp(&w->by_addr[mid].addr, &key);

		if (c == 0)
			return &w->ports[w->by_addr[mid].port];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
