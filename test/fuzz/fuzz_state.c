/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the state records (lib/core/state.c): the files of
 * state_dir, read by the hook, portcullis-nri and the data plane.  A record
 * that parses must be within its bounds and come back the same through
 * state_to_json; the workloads the data plane makes of it must be built
 * and looked up without fault (dp/flow/workload.c).
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_file.h"
#include "dp/flow/workload.h"
#include "lib/core/state.h"

static int terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_bounds(const struct state_rec *r)
{
	fuzz_check(r->n_ports <= STATE_MAX_PORTS);
	fuzz_check(r->n_ctrs == 0 || r->ctrs);
	for (size_t i = 0; i < r->n_ports; i++) {
		fuzz_check(r->ports[i].n_addrs <= STATE_MAX_ADDRS);
		fuzz_check(terminated(r->ports[i].ucmac, sizeof(r->ports[i].ucmac)));
		for (size_t a = 0; a < r->ports[i].n_addrs; a++)
			fuzz_check(terminated(r->ports[i].addrs[a], STATE_ADDR_STR));
	}
	for (size_t i = 0; i < r->n_ctrs; i++)
		fuzz_check(terminated(r->ctrs[i].id, sizeof(r->ctrs[i].id)) &&
			   terminated(r->ctrs[i].k8s_namespace, sizeof(r->ctrs[i].k8s_namespace)));
}

/* What the data plane makes of the record, written where it reads records. */
static void as_workloads(const struct state_rec *r)
{
	struct workloads *w = NULL;

	fuzz_check(state_save(fuzz_folder(), r) == 0);
	if (workloads_load(fuzz_folder(), &w) < 0)
		return;
	for (size_t i = 0; i < w->n; i++) {
		const struct workload *p;

		/* a lookup finds a port of what was asked for, or none */
		fuzz_check(workloads_by_port(w, w->ports[i].port_id) != NULL);
		p = workloads_by_ucmac(w, w->ports[i].ucmac);
		fuzz_check(!p || memcmp(p->ucmac, w->ports[i].ucmac, 6) == 0);
		for (size_t a = 0; a < w->ports[i].n_addrs; a++)
			fuzz_check(workloads_by_addr(w, w->ports[i].addrs[a].family,
						     w->ports[i].addrs[a].addr) != NULL);
		for (size_t n = 0; n < w->ports[i].ctr->n_names; n++)
			fuzz_check(w->ports[i].ctr->names[n][0]);
	}
	workloads_free(w);
	state_remove(fuzz_folder(), r->ns_ino);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_rec rec, again;
	json_t *obj, *out, *out2;

	obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!obj)
		return 0;
	if (state_from_json(obj, &rec) < 0) {
		json_decref(obj);
		return 0;
	}
	json_decref(obj);
	check_bounds(&rec);
	out = state_to_json(&rec);
	if (out) {
		fuzz_check(state_from_json(out, &again) == 0);
		out2 = state_to_json(&again);
		fuzz_check(out2 && json_equal(out, out2));
		json_decref(out2);
		state_rec_free(&again);
		json_decref(out);
		if (rec.ns_ino)
			as_workloads(&rec);
	}
	state_rec_free(&rec);
	return 0;
}
