/* SPDX-License-Identifier: Apache-2.0 */
/* An NRI pod as lib/pull's pod_spec, by the rules of trust of spec.h. */
#include "spec.h"

#include <stdio.h>
#include <string.h>

#include "lib/core/err.h"
#include "lib/core/log.h"
#include "lib/pull/trust.h"

/* Printable ASCII only, cut to fit: what goes into records and logs. */
static void plain_copy(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < len; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[i] = ch >= ' ' && ch < 0x7f ? src[i] : '?';
	}
	dst[i] = '\0';
}

const char *spec_name(const struct nri_pod *p, char *buf, size_t len)
{
	char ns[ERR_SHOWN_MAX], name[ERR_SHOWN_MAX];

	snprintf(buf, len, "%s/%s", err_shown(p->namespace, ns, sizeof(ns)),
		 err_shown(p->name, name, sizeof(name)));
	return buf;
}

/* An id as the records and `portcullis-hook restore ID` take it: no space, slash or control. */
static int check_id(const char *id, const char *what)
{
	size_t n = strlen(id);

	if (n == 0 || n >= OCI_ID_MAX)
		return err_set(-EINVAL, "%s id of %zu bytes", what, n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] >= 0x7f || id[i] == '/')
			return err_set(-EINVAL, "%s id has a forbidden character at offset %zu",
				       what, i);
	return 0;
}

static const char *lookup(const struct nri_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

static bool group_ok(const char *g)
{
	size_t n = strlen(g);

	if (n == 0 || n > SPEC_GROUP_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    g[i]))
			return false;
	return true;
}

/* The group the pod claims, or "" (a malformed claim is said and ignored). */
static void pod_group(const struct nri_pod *p, const char *who, char *out, size_t len)
{
	const char *g = lookup(p->annotations, p->n_annotations, SPEC_GROUP_KEY);
	char shown[ERR_SHOWN_MAX];

	if (!g)
		g = lookup(p->labels, p->n_labels, SPEC_GROUP_KEY);
	out[0] = '\0';
	if (!g)
		return;
	if (group_ok(g))
		snprintf(out, len, "%s", g);
	else
		pr_warn("pod %s: %s \"%s\" ignored: not a name of 1-%d letters, digits, . _ -", who,
			SPEC_GROUP_KEY, err_shown(g, shown, sizeof(shown)), SPEC_GROUP_MAX);
}

int spec_from_pod(const struct pc_config *cfg, const struct nri_pod *p, struct spec *s)
{
	struct state_ctr *c = &s->pod.sandbox;
	char who[2 * ERR_SHOWN_MAX + 2];
	int ret;

	memset(s, 0, sizeof(*s));
	spec_name(p, who, sizeof(who));
	ret = check_id(p->id, "pod");
	if (ret < 0)
		return err_wrap(ret, "pod %s", who);
	if (strlen(p->netns) >= sizeof(s->netns))
		return err_set(-EINVAL, "pod %s: netns path of %zu bytes", who, strlen(p->netns));
	strcpy(s->netns, p->netns);
	s->pod.netns = s->netns;
	s->pod.mode = trust_mode(cfg, lookup(p->annotations, p->n_annotations, SPEC_MODE_KEY),
				 "pod", who);
	snprintf(c->id, sizeof(c->id), "%s", p->id);
	plain_copy(c->name, sizeof(c->name), p->name);
	plain_copy(c->k8s_pod, sizeof(c->k8s_pod), p->name);
	plain_copy(c->k8s_namespace, sizeof(c->k8s_namespace), p->namespace);
	c->pid = (pid_t)(p->pid <= 4194304 ? p->pid : 0);
	c->sandbox = true;
	pod_group(p, who, c->group, sizeof(c->group));
	return 0;
}

void spec_ctr(const struct nri_pod *p, const struct nri_ctr *ctr, struct state_ctr *out)
{
	memset(out, 0, sizeof(*out));
	if (check_id(ctr->id, "container") == 0)
		snprintf(out->id, sizeof(out->id), "%s", ctr->id);
	plain_copy(out->name, sizeof(out->name), ctr->name);
	plain_copy(out->k8s_container, sizeof(out->k8s_container), ctr->name);
	plain_copy(out->k8s_pod, sizeof(out->k8s_pod), p->name);
	plain_copy(out->k8s_namespace, sizeof(out->k8s_namespace), p->namespace);
	out->pid = (pid_t)(ctr->pid <= 4194304 ? ctr->pid : 0);
}
