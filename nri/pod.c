/* SPDX-License-Identifier: Apache-2.0 */
/* NRI's PodSandbox and Container messages as plain struct nri_pod and nri_ctr. */
#include <stdlib.h>
#include <string.h>

#include "nri.pb-c.h"
#include "nri_int.h"
#include "lib/core/err.h"

static const char *str(const char *s)
{
	return s ? s : "";
}

/* The path of the pod's network namespace, "" when it has none. */
static const char *pod_netns(const Pcnri__PodSandbox *pb)
{
	const Pcnri__LinuxPodSandbox *l = pb->linux_pod;

	for (size_t i = 0; l && i < l->n_namespaces; i++) {
		if (l->namespaces[i] && l->namespaces[i]->type &&
		    !strcmp(l->namespaces[i]->type, "network"))
			return str(l->namespaces[i]->path);
	}
	return "";
}

static size_t copy_kvs(Pcnri__KeyValue *const *src, size_t n, struct nri_kv *dst)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!src[i])
			continue;
		dst[k].key = str(src[i]->key);
		dst[k].value = str(src[i]->value);
		k++;
	}
	return k;
}

static void pod_view(const Pcnri__PodSandbox *pb, bool pids, struct nri_pod *p, struct nri_kv *kv)
{
	*p = (struct nri_pod){
		.id = str(pb->id),
		.name = str(pb->name),
		.namespace = str(pb->namespace_),
		.uid = str(pb->uid),
		.netns = pod_netns(pb),
		.pid = pids ? pb->pid : 0,
		.labels = kv,
	};
	p->n_labels = copy_kvs(pb->labels, pb->n_labels, kv);
	p->annotations = kv + p->n_labels;
	p->n_annotations = copy_kvs(pb->annotations, pb->n_annotations, kv + p->n_labels);
}

int pod_views(struct Pcnri__PodSandbox *const *pb, size_t n, bool pids, struct nri_pod **pods,
	      struct nri_kv **kvs)
{
	size_t total = 0, at = 0;

	for (size_t i = 0; i < n; i++) {
		if (!pb[i])
			return err_set(-EBADMSG, "pod %zu of %zu is empty", i, n);
		total += pb[i]->n_labels + pb[i]->n_annotations;
	}
	*pods = calloc(n ? n : 1, sizeof(**pods));
	*kvs = calloc(total ? total : 1, sizeof(**kvs));
	if (!*pods || !*kvs) {
		free(*pods);
		free(*kvs);
		return err_set(-ENOMEM, "%zu pods", n);
	}
	for (size_t i = 0; i < n; i++) {
		pod_view(pb[i], pids, &(*pods)[i], *kvs + at);
		at += (*pods)[i].n_labels + (*pods)[i].n_annotations;
	}
	return 0;
}

static enum nri_ctr_state ctr_state(int pb)
{
	return pb >= NRI_CTR_UNKNOWN && pb <= NRI_CTR_STOPPED ? (enum nri_ctr_state)pb
							      : NRI_CTR_UNKNOWN;
}

int ctr_views(struct Pcnri__Container *const *pb, size_t n, bool pids, struct nri_ctr **ctrs)
{
	*ctrs = calloc(n ? n : 1, sizeof(**ctrs));
	if (!*ctrs)
		return err_set(-ENOMEM, "%zu containers", n);
	for (size_t i = 0; i < n; i++) {
		if (!pb[i]) {
			free(*ctrs);
			*ctrs = NULL;
			return err_set(-EBADMSG, "container %zu of %zu is empty", i, n);
		}
		(*ctrs)[i] = (struct nri_ctr){
			.id = str(pb[i]->id),
			.pod_id = str(pb[i]->pod_sandbox_id),
			.name = str(pb[i]->name),
			.state = ctr_state(pb[i]->state),
			.pid = pids ? pb[i]->pid : 0,
		};
	}
	return 0;
}
