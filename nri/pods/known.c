/* SPDX-License-Identifier: Apache-2.0 */
/* The pods the runtime has, and the namespaces they were reported in. */
#include "known.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/core/err.h"

static void pod_free(struct known_pod *kp)
{
	free(kp->id);
	free(kp->netns);
}

void known_del(struct known *k, const char *id)
{
	for (size_t i = 0; i < k->n; i++) {
		if (strcmp(k->pods[i].id, id) != 0)
			continue;
		pod_free(&k->pods[i]);
		k->pods[i] = k->pods[--k->n];
		k->ids[i] = k->pods[i].id;
		return;
	}
}

static int grow(struct known *k)
{
	size_t cap = k->cap * 2 + 16;
	struct known_pod *pods;
	const char **ids;

	pods = realloc(k->pods, cap * sizeof(*pods));
	if (!pods)
		return err_set(-ENOMEM, "pods");
	k->pods = pods;
	ids = realloc(k->ids, cap * sizeof(*ids));
	if (!ids)
		return err_set(-ENOMEM, "pods");
	k->ids = ids;
	k->cap = cap;
	return 0;
}

int known_add(struct known *k, const char *id, const char *netns, unsigned long ino)
{
	struct known_pod kp = { .id = strdup(id), .netns = strdup(netns) };
	struct stat sb;

	known_del(k, id);
	if (!kp.id || !kp.netns || (k->n == k->cap && grow(k) < 0)) {
		pod_free(&kp);
		return err_set(-ENOMEM, "pods");
	}
	kp.ino = ino;
	if (!ino && netns[0] && stat(netns, &sb) == 0)
		kp.ino = sb.st_ino;
	kp.stopped = kp.ino == 0;
	k->pods[k->n] = kp;
	k->ids[k->n] = kp.id;
	k->n++;
	return 0;
}

void known_clear(struct known *k)
{
	while (k->n)
		pod_free(&k->pods[--k->n]);
}

void known_free(struct known *k)
{
	known_clear(k);
	free(k->pods);
	free(k->ids);
}

void known_stopped(struct known *k, const char *id)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->pods[i].id, id) == 0)
			k->pods[i].stopped = true;
}

const struct known_pod *known_vanished(const struct known *k)
{
	struct stat sb;

	for (size_t i = 0; i < k->n; i++) {
		const struct known_pod *kp = &k->pods[i];

		if (kp->stopped)
			continue;
		if (stat(kp->netns, &sb) < 0 || sb.st_ino != kp->ino)
			return kp;
	}
	return NULL;
}
