/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Plugin service, served on connection 1: Configure, Synchronize,
 * StateChange and Shutdown for real, empty answers for the container
 * methods, an Unimplemented status for anything else.  Every request gets
 * exactly one answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nri.pb-c.h"
#include "nri_int.h"
#include "lib/core/err.h"
#include "lib/core/log.h"

/* What a method answers: code TTRPC_OK and payload, or an error code and msg. */
struct answer {
	int code;
	char msg[PC_ERRMSG_MAX];
	uint8_t *payload;
	size_t len;
};

static int fail(struct answer *a, int code, int ret)
{
	const char *m = err_msg();

	a->code = code;
	/* a handler may fail without err_set(): then its errno says it */
	snprintf(a->msg, sizeof(a->msg), "%s", strcmp(m, "unknown error") ? m : strerror(-ret));
	return ret;
}

static int pack(const ProtobufCMessage *m, struct answer *a)
{
	a->len = protobuf_c_message_get_packed_size(m);
	if (a->len == 0)
		return 0;
	a->payload = malloc(a->len);
	if (!a->payload)
		return fail(a, TTRPC_UNKNOWN, err_set(-ENOMEM, "answer of %zu bytes", a->len));
	protobuf_c_message_pack(m, a->payload);
	return 0;
}

static int bad_payload(struct answer *a, const char *what)
{
	return fail(a, TTRPC_INVALID_ARGUMENT, err_set(-EBADMSG, "cannot decode %s", what));
}

static int do_configure(struct nri *n, const struct ttrpc_call *c, struct answer *a)
{
	Pcnri__ConfigureRequest *req;
	Pcnri__ConfigureResponse rsp = PCNRI__CONFIGURE_RESPONSE__INIT;
	char name[ERR_SHOWN_MAX], version[ERR_SHOWN_MAX];
	int ret;

	req = pcnri__configure_request__unpack(NULL, c->payload_len, c->payload);
	if (!req)
		return bad_payload(a, "ConfigureRequest");
	pr_info("configured by %s %s", err_shown(req->runtime_name, name, sizeof(name)),
		err_shown(req->runtime_version, version, sizeof(version)));
	pcnri__configure_request__free_unpacked(req, NULL);
	rsp.events = NRI_EVENTS_POD;
	if (n->h.ctr_created)
		rsp.events |= NRI_EVENT_CTR_CREATED;
	if (n->h.ctr_removed)
		rsp.events |= NRI_EVENT_CTR_REMOVED;
	ret = pack(&rsp.base, a);
	if (ret == 0)
		n->configured = true;
	return ret;
}

static int do_synchronize(struct nri *n, const struct ttrpc_call *c, struct answer *a)
{
	Pcnri__SynchronizeRequest *req;
	Pcnri__SynchronizeResponse rsp = PCNRI__SYNCHRONIZE_RESPONSE__INIT;
	struct nri_pod *pods = NULL;
	struct nri_ctr *ctrs = NULL;
	struct nri_kv *kvs = NULL;
	int ret;

	req = pcnri__synchronize_request__unpack(NULL, c->payload_len, c->payload);
	if (!req)
		return bad_payload(a, "SynchronizeRequest");
	ret = pod_views(req->pods, req->n_pods, n->peer_pids, &pods, &kvs);
	if (ret >= 0)
		ret = ctr_views(req->containers, req->n_containers, n->peer_pids, &ctrs);
	if (ret < 0) {
		fail(a, TTRPC_INVALID_ARGUMENT, ret);
		goto out;
	}
	pr_debug("synchronize: %zu pods, %zu containers", req->n_pods, req->n_containers);
	err_clear();
	if (n->h.synchronize &&
	    (ret = n->h.synchronize(pods, req->n_pods, ctrs, req->n_containers, n->h.arg)) < 0) {
		fail(a, TTRPC_UNKNOWN, ret);
		goto out;
	}
	ret = pack(&rsp.base, a);
out:
	free(pods);
	free(ctrs);
	free(kvs);
	pcnri__synchronize_request__free_unpacked(req, NULL);
	return ret;
}

/* The handler for a pod event, NULL for events nobody here handles. */
static int (*pod_handler(const struct nri *n, int event))(const struct nri_pod *, void *)
{
	switch (event) {
	case PCNRI__EVENT__RUN_POD_SANDBOX:
		return n->h.pod_run;
	case PCNRI__EVENT__STOP_POD_SANDBOX:
		return n->h.pod_stop;
	case PCNRI__EVENT__REMOVE_POD_SANDBOX:
		return n->h.pod_remove;
	}
	return NULL;
}

/* The handler for a container event, NULL for events nobody here handles. */
static int (*ctr_handler(const struct nri *n, int event))(const struct nri_pod *,
							  const struct nri_ctr *, void *)
{
	switch (event) {
	case PCNRI__EVENT__POST_CREATE_CONTAINER:
		return n->h.ctr_created;
	case PCNRI__EVENT__REMOVE_CONTAINER:
		return n->h.ctr_removed;
	}
	return NULL;
}

static int ctr_change(struct nri *n, const Pcnri__StateChangeEvent *ev, const struct nri_pod *pod,
		      struct answer *a)
{
	int (*fn)(const struct nri_pod *, const struct nri_ctr *, void *);
	struct nri_ctr *ctr = NULL;
	int ret;

	fn = ctr_handler(n, ev->event);
	if (!fn)
		return 0; /* not subscribed to: nothing to do */
	if (!ev->container)
		return fail(a, TTRPC_INVALID_ARGUMENT,
			    err_set(-EBADMSG, "container event %d without a container", ev->event));
	ret = ctr_views(&ev->container, 1, n->peer_pids, &ctr);
	if (ret < 0)
		return fail(a, TTRPC_UNKNOWN, ret);
	err_clear();
	if ((ret = fn(pod, ctr, n->h.arg)) < 0)
		fail(a, TTRPC_UNKNOWN, ret);
	free(ctr);
	return ret;
}

static int state_change(struct nri *n, const Pcnri__StateChangeEvent *ev, struct answer *a)
{
	int (*fn)(const struct nri_pod *, void *) = pod_handler(n, ev->event);
	bool is_pod = ev->event >= PCNRI__EVENT__RUN_POD_SANDBOX &&
		      ev->event <= PCNRI__EVENT__REMOVE_POD_SANDBOX;
	struct nri_pod *pod = NULL;
	struct nri_kv *kvs = NULL;
	int ret;

	if (!is_pod && !ctr_handler(n, ev->event))
		return 0; /* not subscribed to: nothing to do */
	if (!ev->pod)
		return fail(a, TTRPC_INVALID_ARGUMENT,
			    err_set(-EBADMSG, "%s event %d without a pod",
				    is_pod ? "pod" : "container", ev->event));
	ret = pod_views(&ev->pod, 1, n->peer_pids, &pod, &kvs);
	if (ret < 0)
		return fail(a, TTRPC_UNKNOWN, ret);
	err_clear();
	if (!is_pod)
		ret = ctr_change(n, ev, pod, a);
	else if (fn && (ret = fn(pod, n->h.arg)) < 0)
		fail(a, TTRPC_UNKNOWN, ret);
	free(pod);
	free(kvs);
	return ret;
}

static int do_state_change(struct nri *n, const struct ttrpc_call *c, struct answer *a)
{
	Pcnri__StateChangeEvent *ev;
	int ret;

	ev = pcnri__state_change_event__unpack(NULL, c->payload_len, c->payload);
	if (!ev)
		return bad_payload(a, "StateChangeEvent");
	pr_debug("state change: event %d, pod %s", ev->event,
		 ev->pod && ev->pod->id ? ev->pod->id : "-");
	ret = state_change(n, ev, a);
	pcnri__state_change_event__free_unpacked(ev, NULL);
	return ret; /* the answer is Empty: no payload */
}

static int do_shutdown(struct nri *n, const struct ttrpc_call *c, struct answer *a)
{
	pr_info("the runtime shuts the plugin down");
	n->shutdown = true;
	return 0;
}

/* CreateContainer, UpdateContainer, StopContainer: no adjustment, no update. */
static int do_nothing(struct nri *n, const struct ttrpc_call *c, struct answer *a)
{
	return 0;
}

static const struct method {
	const char *name;
	int (*fn)(struct nri *n, const struct ttrpc_call *c, struct answer *a);
} methods[] = {
	{ "Configure", do_configure },	    { "Synchronize", do_synchronize },
	{ "StateChange", do_state_change }, { "Shutdown", do_shutdown },
	{ "CreateContainer", do_nothing },  { "UpdateContainer", do_nothing },
	{ "StopContainer", do_nothing },
};

static void dispatch(struct nri *n, const struct ttrpc_call *c, struct answer *a)
{
	char shown[ERR_SHOWN_MAX];

	if (strcmp(c->service, NRI_PLUGIN_SERVICE) != 0) {
		a->code = TTRPC_UNIMPLEMENTED;
		snprintf(a->msg, sizeof(a->msg), "service %s",
			 err_shown(c->service, shown, sizeof(shown)));
		return;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (!strcmp(c->method, methods[i].name)) {
			methods[i].fn(n, c, a);
			return;
		}
	}
	a->code = TTRPC_UNIMPLEMENTED;
	snprintf(a->msg, sizeof(a->msg), "method %s", err_shown(c->method, shown, sizeof(shown)));
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A request that took longer than the budget: say so, with the runtime's patience. */
static void check_time(const struct ttrpc_call *c, long ms)
{
	char shown[ERR_SHOWN_MAX];

	if (ms <= NRI_HANDLER_BUDGET_MS)
		return;
	err_shown(c->method, shown, sizeof(shown));
	if (c->timeout_nano > 0)
		pr_warn("answering %s took %ld ms: over the budget of %d ms (the runtime waits "
			"%lld ms)",
			shown, ms, NRI_HANDLER_BUDGET_MS, (long long)(c->timeout_nano / 1000000));
	else
		pr_warn("answering %s took %ld ms: over the budget of %d ms", shown, ms,
			NRI_HANDLER_BUDGET_MS);
}

static int handle_request(struct nri *n, const struct ttrpc_msg *m)
{
	struct answer a = { .code = TTRPC_OK };
	char shown[ERR_SHOWN_MAX];
	struct ttrpc_call c;
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = ttrpc_call_decode(m, &c);
	if (ret < 0)
		return service_answer(n, m->stream, TTRPC_INVALID_ARGUMENT, err_msg(), NULL, 0);
	dispatch(n, &c, &a);
	n->requests++;
	check_time(&c, ms_since(&t0));
	if (a.code != TTRPC_OK)
		pr_warn("%s: answered with error %d: %s", err_shown(c.method, shown, sizeof(shown)),
			a.code, a.msg);
	ttrpc_call_free(&c);
	ret = service_answer(n, m->stream, a.code, a.msg, a.payload, a.len);
	free(a.payload);
	return ret;
}

int service_handle(struct nri *n, const struct ttrpc_msg *m)
{
	if (m->type != TTRPC_REQUEST) {
		/* no streaming method exists here: nothing else may come on connection 1 */
		pr_warn("connection 1: unexpected ttrpc message of type %u on stream %u", m->type,
			m->stream);
		if (m->type != TTRPC_DATA)
			return 0;
		return service_answer(n, m->stream, TTRPC_INVALID_ARGUMENT, "stream is not active",
				      NULL, 0);
	}
	if (ttrpc_server_check_id(&n->server_last, m->stream) < 0) {
		pr_warn("connection 1: %s", err_msg());
		return service_answer(n, m->stream, TTRPC_INVALID_ARGUMENT, err_msg(), NULL, 0);
	}
	return handle_request(n, m);
}
