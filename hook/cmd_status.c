/* SPDX-License-Identifier: Apache-2.0 */
/* status: what is intercepted, from the state records. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "hook.h"
#include "lib/core/err.h"
#include "lib/core/log.h"
#include "lib/core/state.h"
#include "lib/dpath/dpath.h"

/* What the checks at a port dropped, -1 when not known. */
static long long dropped(const struct pc_config *cfg, const struct state_rec *r,
			 const struct state_port *sp)
{
	uint64_t n;

	return dpath_port_dropped(cfg, r->backend, sp->in_ifindex, sp->ex_ifindex, &n) == 0
		       ? (long long)n
		       : -1;
}

/* A record, and what each port's checks dropped ("dropped", when known). */
static json_t *rec_json(const struct pc_config *cfg, const struct state_rec *r)
{
	json_t *o = state_to_json(r), *ports = json_object_get(o, "ports");

	for (size_t p = 0; ports && p < r->n_ports; p++) {
		long long d = dropped(cfg, r, &r->ports[p]);

		if (d >= 0)
			json_object_set_new(json_array_get(ports, p), "dropped", json_integer(d));
	}
	return o;
}

static void print_json(const struct pc_config *cfg, const struct state_rec *recs, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, rec_json(cfg, &recs[i]));
	json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(arr);
}

static void print_table(const struct pc_config *cfg, const struct state_rec *recs, size_t n)
{
	printf("enforcer %s (%s/%s), state %s: %zu network namespace(s)\n", cfg->enforcer_netns,
	       cfg->bridge_port, cfg->dp_port, cfg->state_dir, n);
	if (n == 0)
		return;
	printf("%-12s %-8s %-5s %-8s %-24s %s\n", "NETNS", "PID", "MODE", "BACKEND", "CONTAINERS",
	       "PORTS (container: exPort/inPort)");
	for (size_t i = 0; i < n; i++) {
		const struct state_rec *r = &recs[i];
		char ctrs[64] = "-";

		if (r->n_ctrs && r->ctrs[0].sandbox) /* a pod, from portcullis-nri */
			snprintf(ctrs, sizeof(ctrs), "pod %.20s/%.20s%s", r->ctrs[0].k8s_namespace,
				 r->ctrs[0].k8s_pod, r->n_ctrs > 1 ? " +" : "");
		else if (r->n_ctrs)
			snprintf(ctrs, sizeof(ctrs), "%.*s%s", r->ctrs[0].name[0] ? 20 : 12,
				 r->ctrs[0].name[0] ? r->ctrs[0].name : r->ctrs[0].id,
				 r->n_ctrs > 1 ? " +" : "");
		if (r->n_ctrs > 1)
			snprintf(ctrs + strlen(ctrs), sizeof(ctrs) - strlen(ctrs), "%zu",
				 r->n_ctrs - 1);
		printf("%-12lu %-8d %-5s %-8s %-24s", r->ns_ino, (int)r->pid,
		       config_mode_name(r->mode), r->backend, ctrs);
		for (size_t p = 0; p < r->n_ports; p++) {
			long long d = dropped(cfg, r, &r->ports[p]);

			printf(" %s: %s/%s", r->ports[p].name, r->ports[p].ex_name,
			       r->ports[p].in_name);
			if (d > 0)
				printf(" (%lld dropped)", d);
		}
		putchar('\n');
	}
}

int cmd_status(const struct hook_opts *o)
{
	bool json = o->argc == 2 && strcmp(o->argv[1], "--json") == 0;
	struct state_rec *recs = NULL;
	size_t n = 0;
	int ret;

	if (o->argc > 2 || (o->argc == 2 && !json)) {
		pr_err("usage: status [--json]");
		return EXIT_USAGE;
	}
	ret = state_list(o->cfg->state_dir, &recs, &n);
	if (ret < 0 && ret != -ENOENT) {
		pr_err("status: %s", err_msg());
		return EXIT_FAIL;
	}
	if (json)
		print_json(o->cfg, recs, n);
	else
		print_table(o->cfg, recs, n);
	state_list_free(recs, n);
	return EXIT_OK;
}
