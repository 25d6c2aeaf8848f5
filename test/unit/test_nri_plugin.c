/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin's side of NRI against an in-process fake runtime over a
 * socketpair: registration, Configure, Synchronize, StateChange, container
 * events, queued work between requests, the container methods, unknown
 * methods and services, stream id rules, a
 * request cut into one-byte frames, Shutdown, and a runtime that refuses,
 * hangs up or sends a hostile frame.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nri.pb-c.h"
#include "lib/core/err.h"
#include "nri/mux.h"
#include "nri/nri.h"
#include "nri/ttrpc.h"

#define PLUGIN_SVC "nri.pkg.api.v1alpha1.Plugin"

/* ------------------------------------------------------------ the plugin side */

/* What the handlers saw; read by the runtime side after the answer came. */
struct seen {
	int runs, stops, removes, syncs;
	char id[64], name[64], ns[64], uid[64], netns[128];
	uint32_t pid;
	char label[64], annotation[128];
	size_t n_labels, n_annotations, n_pods;
	char pod1_id[64];
	bool fail_run;
	/* containers: with_ctrs subscribes to their events */
	bool with_ctrs;
	int created, removed;
	size_t n_ctrs;
	char ctr_id[64], ctr_pod[64], ctr_name[64], ctr_pod_seen[64];
	int ctr_state;
	uint32_t ctr_pid;
	/* queued work: with_idle; each Synchronize queues 3 pieces */
	bool with_idle;
	int queued;
	long asked_ms, first_ms; /* when a piece asked for 100 ms, when it got them */
	atomic_int idle_calls, pieces;
};

struct plugin {
	int fd;
	struct seen seen;
	int open_ret, run_ret;
	char msg[512];
};

static void copy_pod(struct seen *s, const struct nri_pod *p)
{
	snprintf(s->id, sizeof(s->id), "%s", p->id);
	snprintf(s->name, sizeof(s->name), "%s", p->name);
	snprintf(s->ns, sizeof(s->ns), "%s", p->namespace);
	snprintf(s->uid, sizeof(s->uid), "%s", p->uid);
	snprintf(s->netns, sizeof(s->netns), "%s", p->netns);
	s->pid = p->pid;
	s->n_labels = p->n_labels;
	s->n_annotations = p->n_annotations;
	if (p->n_labels)
		snprintf(s->label, sizeof(s->label), "%s=%s", p->labels[0].key, p->labels[0].value);
	if (p->n_annotations)
		snprintf(s->annotation, sizeof(s->annotation), "%s=%s", p->annotations[0].key,
			 p->annotations[0].value);
}

static int h_run(const struct nri_pod *p, void *arg)
{
	struct seen *s = arg;

	s->runs++;
	copy_pod(s, p);
	return s->fail_run ? err_set(-EPERM, "no pull for pod %s", p->id) : 0;
}

static int h_stop(const struct nri_pod *p, void *arg)
{
	struct seen *s = arg;

	s->stops++;
	copy_pod(s, p);
	return 0;
}

static int h_remove(const struct nri_pod *p, void *arg)
{
	struct seen *s = arg;

	s->removes++;
	copy_pod(s, p);
	return 0;
}

static void copy_ctr(struct seen *s, const struct nri_ctr *c)
{
	snprintf(s->ctr_id, sizeof(s->ctr_id), "%s", c->id);
	snprintf(s->ctr_pod, sizeof(s->ctr_pod), "%s", c->pod_id);
	snprintf(s->ctr_name, sizeof(s->ctr_name), "%s", c->name);
	s->ctr_state = c->state;
	s->ctr_pid = c->pid;
}

static int h_sync(const struct nri_pod *pods, size_t n, const struct nri_ctr *ctrs, size_t n_ctrs,
		  void *arg)
{
	struct seen *s = arg;

	s->syncs++;
	s->n_pods = n;
	s->n_ctrs = n_ctrs;
	s->queued += 3;
	if (n_ctrs > 0)
		copy_ctr(s, &ctrs[0]);
	if (n > 0)
		copy_pod(s, &pods[0]);
	if (n > 1)
		snprintf(s->pod1_id, sizeof(s->pod1_id), "%s", pods[1].id);
	return 0;
}

static int h_created(const struct nri_pod *p, const struct nri_ctr *c, void *arg)
{
	struct seen *s = arg;

	s->created++;
	copy_ctr(s, c);
	snprintf(s->ctr_pod_seen, sizeof(s->ctr_pod_seen), "%s", p->id);
	return 0;
}

static int h_removed(const struct nri_pod *p, const struct nri_ctr *c, void *arg)
{
	struct seen *s = arg;

	s->removed++;
	copy_ctr(s, c);
	return err_set(-EIO, "cannot forget %s", c->id);
}

static long mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

/* One piece of the queued work per call; the first piece asks for 100 ms first. */
static int h_idle(void *arg)
{
	struct seen *s = arg;

	atomic_fetch_add(&s->idle_calls, 1);
	if (s->queued == 0)
		return -1;
	if (!s->asked_ms) {
		s->asked_ms = mono_ms();
		return 100;
	}
	if (!s->first_ms)
		s->first_ms = mono_ms();
	s->queued--;
	atomic_fetch_add(&s->pieces, 1);
	return s->queued > 0 ? 0 : -1;
}

static void *plugin_main(void *arg)
{
	struct plugin *pl = arg;
	struct nri_opts o = { .fd = pl->fd, .name = "unit", .idx = "07" };
	struct nri_handlers h = {
		.pod_run = h_run,
		.pod_stop = h_stop,
		.pod_remove = h_remove,
		.synchronize = h_sync,
		.ctr_created = pl->seen.with_ctrs ? h_created : NULL,
		.ctr_removed = pl->seen.with_ctrs ? h_removed : NULL,
		.idle = pl->seen.with_idle ? h_idle : NULL,
		.arg = &pl->seen,
	};
	struct nri *n;

	pl->open_ret = nri_open(&o, &h, &n);
	if (pl->open_ret < 0) {
		snprintf(pl->msg, sizeof(pl->msg), "%s", err_msg());
		return NULL;
	}
	pl->run_ret = nri_run(n, -1);
	if (pl->run_ret < 0)
		snprintf(pl->msg, sizeof(pl->msg), "%s", err_msg());
	nri_close(n);
	return NULL;
}

/* ------------------------------------------------------------ the fake runtime */

struct rmsg {
	uint32_t conn, stream;
	uint8_t type;
	uint8_t *data;
	uint32_t len;
};

struct fake {
	int fd;
	struct mux_rx mux;
	struct ttrpc_rx rx[2];
	uint32_t cur_conn;
	struct rmsg q[8];
	unsigned nq;
	uint32_t next_id; /* ours on connection 1 */
	struct plugin pl;
	pthread_t thread;
};

static int fake_msg(const struct ttrpc_msg *m, void *arg)
{
	struct fake *f = arg;
	struct rmsg *r = &f->q[f->nq++];

	ck_assert_uint_le(f->nq, 8);
	*r = (struct rmsg){
		.conn = f->cur_conn, .stream = m->stream, .type = m->type, .len = m->len
	};
	r->data = malloc(m->len + 1);
	memcpy(r->data, m->data, m->len);
	return 0;
}

static int fake_piece(uint32_t conn, const uint8_t *data, size_t len, void *arg)
{
	struct fake *f = arg;

	f->cur_conn = conn;
	return ttrpc_rx_feed(&f->rx[conn - 1], data, len, fake_msg, f);
}

/* The next message the plugin sends (within 5 s). */
static struct rmsg fake_recv(struct fake *f)
{
	struct pollfd p = { .fd = f->fd, .events = POLLIN };
	struct rmsg r;
	uint8_t buf[4096];
	ssize_t n;

	while (f->nq == 0) {
		ck_assert_msg(poll(&p, 1, 5000) == 1, "no message from the plugin within 5 s");
		n = read(f->fd, buf, sizeof(buf));
		ck_assert_msg(n > 0, "plugin closed the connection");
		ck_assert_int_eq(mux_rx_feed(&f->mux, buf, n, fake_piece, f), 0);
	}
	r = f->q[0];
	memmove(f->q, f->q + 1, --f->nq * sizeof(f->q[0]));
	return r;
}

static void send_raw(struct fake *f, uint32_t conn, const uint8_t *m, size_t n, size_t frame)
{
	for (size_t at = 0; at < n; at += frame)
		ck_assert_int_eq(mux_send(f->fd, conn, m + at, n - at < frame ? n - at : frame), 0);
}

static void send_call(struct fake *f, uint32_t stream, const char *svc, const char *method,
		      const ProtobufCMessage *body, size_t frame)
{
	size_t len = body ? protobuf_c_message_get_packed_size(body) : 0, n;
	uint8_t payload[4096], *m;

	ck_assert_uint_le(len, sizeof(payload));
	if (body)
		protobuf_c_message_pack(body, payload);
	ck_assert_int_eq(ttrpc_build_request(stream, svc, method, payload, len, 2000000000, &m, &n),
			 0);
	send_raw(f, MUX_CONN_PLUGIN, m, n, frame);
	free(m);
}

/* Call the plugin on connection 1; returns the reply (free with ttrpc_reply_free). */
static struct ttrpc_reply call(struct fake *f, const char *method, const ProtobufCMessage *body)
{
	uint32_t id = f->next_id;
	struct ttrpc_reply r;
	struct ttrpc_msg m;
	struct rmsg got;

	f->next_id += 2;
	send_call(f, id, PLUGIN_SVC, method, body, MUX_SEND_MAX);
	got = fake_recv(f);
	ck_assert_uint_eq(got.conn, MUX_CONN_PLUGIN);
	ck_assert_uint_eq(got.type, TTRPC_RESPONSE);
	ck_assert_uint_eq(got.stream, id);
	m = (struct ttrpc_msg){ .stream = got.stream, .data = got.data, .len = got.len };
	ck_assert_int_eq(ttrpc_reply_decode(&m, &r), 0);
	free(got.data);
	return r;
}

/* Answer the plugin's RegisterPlugin (stream id) with code/message. */
static void answer_register(struct fake *f, uint32_t id, int code, const char *msg)
{
	uint8_t *m;
	size_t n;

	ck_assert_int_eq(ttrpc_build_response(id, code, msg, NULL, 0, &m, &n), 0);
	send_raw(f, MUX_CONN_RUNTIME, m, n, MUX_SEND_MAX);
	free(m);
}

/* Receive RegisterPlugin and check it; returns its stream id. */
static uint32_t expect_register(struct fake *f)
{
	Pcnri__RegisterPluginRequest *req;
	struct rmsg got = fake_recv(f);
	struct ttrpc_msg m = { .stream = got.stream, .data = got.data, .len = got.len };
	struct ttrpc_call c;

	ck_assert_uint_eq(got.conn, MUX_CONN_RUNTIME);
	ck_assert_uint_eq(got.type, TTRPC_REQUEST);
	ck_assert_uint_eq(got.stream, 1);
	ck_assert_int_eq(ttrpc_call_decode(&m, &c), 0);
	ck_assert_str_eq(c.service, "nri.pkg.api.v1alpha1.Runtime");
	ck_assert_str_eq(c.method, "RegisterPlugin");
	req = pcnri__register_plugin_request__unpack(NULL, c.payload_len, c.payload);
	ck_assert_ptr_nonnull(req);
	ck_assert_str_eq(req->plugin_name, "unit");
	ck_assert_str_eq(req->plugin_idx, "07");
	pcnri__register_plugin_request__free_unpacked(req, NULL);
	ttrpc_call_free(&c);
	free(got.data);
	return got.stream;
}

/* Set up the fake runtime and start the plugin; with: "ctrs", "idle" or NULL. */
static void fake_start_with(struct fake *f, const char *with)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->pl.seen.with_ctrs = with && strstr(with, "ctrs");
	f->pl.seen.with_idle = with && strstr(with, "idle");
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	f->fd = sv[0];
	f->pl.fd = sv[1];
	f->next_id = 1;
	mux_rx_init(&f->mux);
	ttrpc_rx_init(&f->rx[0]);
	ttrpc_rx_init(&f->rx[1]);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, plugin_main, &f->pl), 0);
}

static void fake_start(struct fake *f)
{
	fake_start_with(f, NULL);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->fd);
	ttrpc_rx_free(&f->rx[0]);
	ttrpc_rx_free(&f->rx[1]);
}

static void expect_code(struct ttrpc_reply r, int code, const char *in_msg);

/* The handshake as containerd does it: Configure before RegisterPlugin's answer. */
static void handshake(struct fake *f)
{
	Pcnri__ConfigureRequest cfg = PCNRI__CONFIGURE_REQUEST__INIT;
	Pcnri__ConfigureResponse *rsp;
	struct ttrpc_reply r;
	uint32_t reg = expect_register(f);

	cfg.runtime_name = "fake";
	cfg.runtime_version = "v0";
	r = call(f, "Configure", &cfg.base);
	ck_assert_int_eq(r.code, TTRPC_OK);
	rsp = pcnri__configure_response__unpack(NULL, r.payload_len, r.payload);
	ck_assert_ptr_nonnull(rsp);
	/* RUN_POD_SANDBOX, STOP_POD_SANDBOX, REMOVE_POD_SANDBOX: bits 0, 1, 2; with
	 * container handlers POST_CREATE_CONTAINER and REMOVE_CONTAINER: 4 and 10 */
	ck_assert_int_eq(rsp->events, f->pl.seen.with_ctrs ? 0x417 : 0x7);
	pcnri__configure_response__free_unpacked(rsp, NULL);
	ttrpc_reply_free(&r);
	answer_register(f, reg, TTRPC_OK, NULL);
	/*
	 * One more round trip: once it is answered, the plugin has read the
	 * registration's answer, so nri_open() has returned and what comes
	 * next is read by nri_run().
	 */
	expect_code(call(f, "StopContainer", NULL), TTRPC_OK, NULL);
}

/* ------------------------------------------------------------ pods */

struct pb_pod {
	Pcnri__PodSandbox pod;
	Pcnri__LinuxPodSandbox lx;
	Pcnri__LinuxNamespace ipc, net;
	Pcnri__LinuxNamespace *nss[2];
	Pcnri__KeyValue label, annotation;
	Pcnri__KeyValue *labels[1], *annotations[1];
};

static void make_pod(struct pb_pod *p, const char *id, const char *netns, uint32_t pid)
{
	*p = (struct pb_pod){ .pod = PCNRI__POD_SANDBOX__INIT,
			      .lx = PCNRI__LINUX_POD_SANDBOX__INIT,
			      .ipc = PCNRI__LINUX_NAMESPACE__INIT,
			      .net = PCNRI__LINUX_NAMESPACE__INIT,
			      .label = PCNRI__KEY_VALUE__INIT,
			      .annotation = PCNRI__KEY_VALUE__INIT };
	p->pod.id = (char *)id;
	p->pod.name = "web-0";
	p->pod.namespace_ = "shop";
	p->pod.uid = "0b9a1c";
	p->pod.pid = pid;
	p->label.key = "app";
	p->label.value = "web";
	p->annotation.key = "io.portcullis.group";
	p->annotation.value = "front";
	p->labels[0] = &p->label;
	p->annotations[0] = &p->annotation;
	p->pod.n_labels = p->pod.n_annotations = 1;
	p->pod.labels = p->labels;
	p->pod.annotations = p->annotations;
	p->ipc.type = "ipc";
	p->ipc.path = "/proc/1/ns/ipc";
	p->net.type = "network";
	p->net.path = (char *)netns;
	p->nss[0] = &p->ipc;
	p->nss[1] = &p->net;
	p->lx.n_namespaces = netns ? 2 : 1;
	p->lx.namespaces = p->nss;
	p->pod.linux_pod = &p->lx;
}

static struct ttrpc_reply state_change(struct fake *f, int event, Pcnri__PodSandbox *pod)
{
	Pcnri__StateChangeEvent ev = PCNRI__STATE_CHANGE_EVENT__INIT;

	ev.event = event;
	ev.pod = pod;
	return call(f, "StateChange", &ev.base);
}

static void make_ctr(Pcnri__Container *c, const char *id, const char *pod, const char *name)
{
	*c = (Pcnri__Container)PCNRI__CONTAINER__INIT;
	c->id = (char *)id;
	c->pod_sandbox_id = (char *)pod;
	c->name = (char *)name;
	c->state = PCNRI__CONTAINER_STATE__CONTAINER_CREATED;
	c->pid = 99;
}

static struct ttrpc_reply ctr_change(struct fake *f, int event, Pcnri__PodSandbox *pod,
				     Pcnri__Container *c)
{
	Pcnri__StateChangeEvent ev = PCNRI__STATE_CHANGE_EVENT__INIT;

	ev.event = event;
	ev.pod = pod;
	ev.container = c;
	return call(f, "StateChange", &ev.base);
}

static void expect_code(struct ttrpc_reply r, int code, const char *in_msg)
{
	ck_assert_int_eq(r.code, code);
	if (in_msg)
		ck_assert_msg(strstr(r.message, in_msg), "status message \"%s\" lacks \"%s\"",
			      r.message, in_msg);
	if (code == TTRPC_OK)
		ck_assert_uint_eq(r.payload_len, 0); /* Empty and the empty responses */
	ttrpc_reply_free(&r);
}

static void shutdown_plugin(struct fake *f)
{
	Pcnri__Empty e = PCNRI__EMPTY__INIT;

	expect_code(call(f, "Shutdown", &e.base), TTRPC_OK, NULL);
	fake_stop(f);
	ck_assert_int_eq(f->pl.open_ret, 0);
	ck_assert_int_eq(f->pl.run_ret, NRI_SHUTDOWN);
}

/* ------------------------------------------------------------ tests */

START_TEST(test_synchronize)
{
	Pcnri__SynchronizeRequest req = PCNRI__SYNCHRONIZE_REQUEST__INIT;
	struct pb_pod a, b;
	Pcnri__PodSandbox *pods[2] = { &a.pod, &b.pod };
	Pcnri__Container c;
	Pcnri__Container *ctrs[1] = { &c };
	static struct fake f;

	fake_start(&f);
	handshake(&f);
	make_pod(&a, "pod-a", "/var/run/netns/cni-aaaa", 4242);
	make_pod(&b, "pod-b", NULL, 0);
	make_ctr(&c, "ctr-1", "pod-a", "web");
	c.state = PCNRI__CONTAINER_STATE__CONTAINER_RUNNING;
	req.n_pods = 2;
	req.pods = pods;
	req.n_containers = 1;
	req.containers = ctrs;
	expect_code(call(&f, "Synchronize", &req.base), TTRPC_OK, NULL);
	ck_assert_int_eq(f.pl.seen.syncs, 1);
	ck_assert_uint_eq(f.pl.seen.n_pods, 2);
	ck_assert_uint_eq(f.pl.seen.n_ctrs, 1);
	ck_assert_str_eq(f.pl.seen.ctr_id, "ctr-1");
	ck_assert_str_eq(f.pl.seen.ctr_pod, "pod-a");
	ck_assert_str_eq(f.pl.seen.ctr_name, "web");
	ck_assert_int_eq(f.pl.seen.ctr_state, NRI_CTR_RUNNING);
	ck_assert_uint_eq(f.pl.seen.ctr_pid, 99);
	ck_assert_str_eq(f.pl.seen.id, "pod-a");
	ck_assert_str_eq(f.pl.seen.netns, "/var/run/netns/cni-aaaa");
	ck_assert_uint_eq(f.pl.seen.pid, 4242);
	ck_assert_str_eq(f.pl.seen.pod1_id, "pod-b");
	shutdown_plugin(&f);
}
END_TEST

START_TEST(test_state_changes)
{
	struct pb_pod p;
	static struct fake f;

	fake_start(&f);
	handshake(&f);
	make_pod(&p, "pod-1", "/var/run/netns/cni-1234", 777);
	expect_code(state_change(&f, PCNRI__EVENT__RUN_POD_SANDBOX, &p.pod), TTRPC_OK, NULL);
	ck_assert_int_eq(f.pl.seen.runs, 1);
	ck_assert_str_eq(f.pl.seen.id, "pod-1");
	ck_assert_str_eq(f.pl.seen.name, "web-0");
	ck_assert_str_eq(f.pl.seen.ns, "shop");
	ck_assert_str_eq(f.pl.seen.uid, "0b9a1c");
	ck_assert_str_eq(f.pl.seen.netns, "/var/run/netns/cni-1234");
	ck_assert_uint_eq(f.pl.seen.pid, 777);
	ck_assert_uint_eq(f.pl.seen.n_labels, 1);
	ck_assert_str_eq(f.pl.seen.label, "app=web");
	ck_assert_uint_eq(f.pl.seen.n_annotations, 1);
	ck_assert_str_eq(f.pl.seen.annotation, "io.portcullis.group=front");

	/* at stop, containerd sends neither pid nor netns */
	make_pod(&p, "pod-1", NULL, 0);
	expect_code(state_change(&f, PCNRI__EVENT__STOP_POD_SANDBOX, &p.pod), TTRPC_OK, NULL);
	ck_assert_int_eq(f.pl.seen.stops, 1);
	ck_assert_str_eq(f.pl.seen.netns, "");
	ck_assert_uint_eq(f.pl.seen.pid, 0);
	expect_code(state_change(&f, PCNRI__EVENT__REMOVE_POD_SANDBOX, &p.pod), TTRPC_OK, NULL);
	ck_assert_int_eq(f.pl.seen.removes, 1);

	/* events not subscribed to are answered, and reach no handler */
	expect_code(state_change(&f, PCNRI__EVENT__POST_START_CONTAINER, &p.pod), TTRPC_OK, NULL);
	expect_code(state_change(&f, PCNRI__EVENT__POST_CREATE_CONTAINER, &p.pod), TTRPC_OK, NULL);
	ck_assert_int_eq(f.pl.seen.created, 0);
	expect_code(state_change(&f, 99, NULL), TTRPC_OK, NULL);
	ck_assert_int_eq(f.pl.seen.runs + f.pl.seen.stops + f.pl.seen.removes, 3);
	/* a pod event without its pod is refused, not crashed on */
	expect_code(state_change(&f, PCNRI__EVENT__RUN_POD_SANDBOX, NULL), TTRPC_INVALID_ARGUMENT,
		    "without a pod");
	ck_assert_int_eq(f.pl.seen.runs, 1);
	shutdown_plugin(&f);
}
END_TEST

/* POST_CREATE_CONTAINER and REMOVE_CONTAINER reach their handlers with the pod and container. */
START_TEST(test_ctr_events)
{
	struct pb_pod p;
	Pcnri__Container c;
	static struct fake f;

	fake_start_with(&f, "ctrs");
	handshake(&f);
	make_pod(&p, "pod-7", NULL, 0);
	make_ctr(&c, "ctr-7", "pod-7", "sidecar");
	expect_code(ctr_change(&f, PCNRI__EVENT__POST_CREATE_CONTAINER, &p.pod, &c), TTRPC_OK,
		    NULL);
	ck_assert_int_eq(f.pl.seen.created, 1);
	ck_assert_str_eq(f.pl.seen.ctr_id, "ctr-7");
	ck_assert_str_eq(f.pl.seen.ctr_pod, "pod-7");
	ck_assert_str_eq(f.pl.seen.ctr_name, "sidecar");
	ck_assert_str_eq(f.pl.seen.ctr_pod_seen, "pod-7");
	ck_assert_int_eq(f.pl.seen.ctr_state, NRI_CTR_CREATED);
	/* a failing handler: an error status with its message */
	expect_code(ctr_change(&f, PCNRI__EVENT__REMOVE_CONTAINER, &p.pod, &c), TTRPC_UNKNOWN,
		    "cannot forget ctr-7");
	ck_assert_int_eq(f.pl.seen.removed, 1);
	/* other container events still reach nobody */
	expect_code(ctr_change(&f, PCNRI__EVENT__START_CONTAINER, &p.pod, &c), TTRPC_OK, NULL);
	/* a container event without its container, or without its pod, is refused */
	expect_code(ctr_change(&f, PCNRI__EVENT__POST_CREATE_CONTAINER, &p.pod, NULL),
		    TTRPC_INVALID_ARGUMENT, "without a container");
	expect_code(ctr_change(&f, PCNRI__EVENT__POST_CREATE_CONTAINER, NULL, &c),
		    TTRPC_INVALID_ARGUMENT, "without a pod");
	ck_assert_int_eq(f.pl.seen.created, 1);
	ck_assert_int_eq(f.pl.seen.runs + f.pl.seen.stops + f.pl.seen.removes, 0);
	shutdown_plugin(&f);
}
END_TEST

/* What a handler queues is done piece by piece between requests, without a request to wake it. */
START_TEST(test_idle)
{
	Pcnri__SynchronizeRequest req = PCNRI__SYNCHRONIZE_REQUEST__INIT;
	Pcnri__Empty e = PCNRI__EMPTY__INIT;
	static struct fake f;
	int i;

	fake_start_with(&f, "idle");
	handshake(&f);
	expect_code(call(&f, "Synchronize", &req.base), TTRPC_OK, NULL);
	for (i = 0; i < 500 && atomic_load(&f.pl.seen.pieces) < 3; i++)
		usleep(10000);
	ck_assert_int_eq(atomic_load(&f.pl.seen.pieces), 3);
	/* asked to wait 100 ms, it was called again after them, with no request coming */
	ck_assert_int_ge(f.pl.seen.first_ms - f.pl.seen.asked_ms, 95);
	ck_assert_int_lt(f.pl.seen.first_ms - f.pl.seen.asked_ms, 1000);
	/* then it waits: no more calls while nothing is queued and nothing comes */
	i = atomic_load(&f.pl.seen.idle_calls);
	usleep(100000);
	ck_assert_int_eq(atomic_load(&f.pl.seen.idle_calls), i);
	/* a request makes it look again, once */
	expect_code(call(&f, "StopContainer", &e.base), TTRPC_OK, NULL);
	for (int k = 0; k < 100 && atomic_load(&f.pl.seen.idle_calls) == i; k++)
		usleep(10000);
	usleep(50000);
	ck_assert_int_eq(atomic_load(&f.pl.seen.idle_calls), i + 1);
	ck_assert_int_eq(atomic_load(&f.pl.seen.pieces), 3);
	shutdown_plugin(&f);
}
END_TEST

/* A failing pod_run becomes an error status carrying the handler's message. */
START_TEST(test_run_fails)
{
	struct pb_pod p;
	static struct fake f;

	fake_start(&f);
	f.pl.seen.fail_run = true;
	handshake(&f);
	make_pod(&p, "pod-x", "/var/run/netns/cni-x", 1);
	expect_code(state_change(&f, PCNRI__EVENT__RUN_POD_SANDBOX, &p.pod), TTRPC_UNKNOWN,
		    "no pull for pod pod-x");
	ck_assert_int_eq(f.pl.seen.runs, 1);
	shutdown_plugin(&f);
}
END_TEST

START_TEST(test_other_methods)
{
	static const uint8_t garbage[] = { 0x12, 0x7f, 0x01 };
	Pcnri__Empty e = PCNRI__EMPTY__INIT;
	struct ttrpc_reply r;
	struct ttrpc_msg m;
	struct rmsg got;
	uint8_t *buf;
	size_t n;
	static struct fake f;

	fake_start(&f);
	handshake(&f);
	/* the container methods: empty answers (no adjustment, no update) */
	expect_code(call(&f, "CreateContainer", &e.base), TTRPC_OK, NULL);
	expect_code(call(&f, "UpdateContainer", &e.base), TTRPC_OK, NULL);
	expect_code(call(&f, "StopContainer", &e.base), TTRPC_OK, NULL);
	/* unknown: an error status, not silence */
	expect_code(call(&f, "Frobnicate", &e.base), TTRPC_UNIMPLEMENTED, "method Frobnicate");
	send_call(&f, f.next_id, "nri.pkg.api.v1alpha1.Other", "Configure", &e.base, 4096);
	got = fake_recv(&f);
	ck_assert_uint_eq(got.stream, f.next_id);
	m = (struct ttrpc_msg){ .stream = got.stream, .data = got.data, .len = got.len };
	ck_assert_int_eq(ttrpc_reply_decode(&m, &r), 0);
	expect_code(r, TTRPC_UNIMPLEMENTED, "service nri.pkg.api.v1alpha1.Other");
	free(got.data);
	f.next_id += 2;
	/* a payload that does not decode */
	ck_assert_int_eq(ttrpc_build_request(f.next_id, PLUGIN_SVC, "StateChange", garbage,
					     sizeof(garbage), 0, &buf, &n),
			 0);
	send_raw(&f, MUX_CONN_PLUGIN, buf, n, 4096);
	free(buf);
	got = fake_recv(&f);
	m = (struct ttrpc_msg){ .stream = got.stream, .data = got.data, .len = got.len };
	ck_assert_int_eq(ttrpc_reply_decode(&m, &r), 0);
	expect_code(r, TTRPC_INVALID_ARGUMENT, "cannot decode StateChangeEvent");
	free(got.data);
	f.next_id += 2;
	shutdown_plugin(&f);
}
END_TEST

/* Stream ids the runtime must not use get an error status on that stream. */
static void expect_bad_id(struct fake *f, uint32_t id, const char *why)
{
	Pcnri__Empty e = PCNRI__EMPTY__INIT;
	struct ttrpc_reply r;
	struct ttrpc_msg m;
	struct rmsg got;

	send_call(f, id, PLUGIN_SVC, "StopContainer", &e.base, 4096);
	got = fake_recv(f);
	ck_assert_uint_eq(got.stream, id);
	m = (struct ttrpc_msg){ .stream = got.stream, .data = got.data, .len = got.len };
	ck_assert_int_eq(ttrpc_reply_decode(&m, &r), 0);
	expect_code(r, TTRPC_INVALID_ARGUMENT, why);
	free(got.data);
}

START_TEST(test_stream_ids)
{
	Pcnri__Empty e = PCNRI__EMPTY__INIT;
	static struct fake f;

	fake_start(&f);
	handshake(&f); /* Configure used id 1 */
	expect_bad_id(&f, 1, "not above the last one");
	expect_bad_id(&f, 4, "odd");
	f.next_id = 11;
	expect_code(call(&f, "StopContainer", &e.base), TTRPC_OK, NULL);
	shutdown_plugin(&f);
}
END_TEST

/* A request cut into one-byte frames, interleaved with frames for connection 9. */
START_TEST(test_one_byte_frames)
{
	Pcnri__StateChangeEvent ev = PCNRI__STATE_CHANGE_EVENT__INIT;
	struct ttrpc_reply r;
	struct ttrpc_msg m;
	struct pb_pod p;
	struct rmsg got;
	uint8_t payload[1024], *buf;
	size_t len, n;
	static struct fake f;

	fake_start(&f);
	handshake(&f);
	make_pod(&p, "pod-slow", "/var/run/netns/cni-slow", 5);
	ev.event = PCNRI__EVENT__RUN_POD_SANDBOX;
	ev.pod = &p.pod;
	len = pcnri__state_change_event__pack(&ev, payload);
	ck_assert_int_eq(ttrpc_build_request(f.next_id, PLUGIN_SVC, "StateChange", payload, len, 0,
					     &buf, &n),
			 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(mux_send(f.fd, MUX_CONN_PLUGIN, buf + i, 1), 0);
		ck_assert_int_eq(mux_send(f.fd, 9, (const uint8_t *)"noise", 5), 0);
	}
	free(buf);
	got = fake_recv(&f);
	ck_assert_uint_eq(got.stream, f.next_id);
	m = (struct ttrpc_msg){ .stream = got.stream, .data = got.data, .len = got.len };
	ck_assert_int_eq(ttrpc_reply_decode(&m, &r), 0);
	expect_code(r, TTRPC_OK, NULL);
	free(got.data);
	f.next_id += 2;
	ck_assert_str_eq(f.pl.seen.netns, "/var/run/netns/cni-slow");
	shutdown_plugin(&f);
}
END_TEST

/* Nothing the runtime sends goes unanswered: a request on connection 2, a data message. */
START_TEST(test_no_silence)
{
	static const uint8_t data_msg[10] = { 0, 0, 0, 0, 0, 0, 0, 21, TTRPC_DATA, 0 };
	Pcnri__Empty e = PCNRI__EMPTY__INIT;
	struct ttrpc_reply r;
	struct ttrpc_msg m;
	struct rmsg got;
	uint8_t *buf;
	size_t n;
	static struct fake f;

	fake_start(&f);
	handshake(&f);
	ck_assert_int_eq(ttrpc_build_request(1, "nri.pkg.api.v1alpha1.Runtime", "RegisterPlugin",
					     NULL, 0, 0, &buf, &n),
			 0);
	send_raw(&f, MUX_CONN_RUNTIME, buf, n, 4096);
	free(buf);
	got = fake_recv(&f);
	ck_assert_uint_eq(got.conn, MUX_CONN_RUNTIME);
	ck_assert_uint_eq(got.type, TTRPC_RESPONSE);
	ck_assert_uint_eq(got.stream, 1);
	m = (struct ttrpc_msg){ .stream = got.stream, .data = got.data, .len = got.len };
	ck_assert_int_eq(ttrpc_reply_decode(&m, &r), 0);
	expect_code(r, TTRPC_UNIMPLEMENTED, "serves nothing on connection 2");
	free(got.data);

	send_raw(&f, MUX_CONN_PLUGIN, data_msg, sizeof(data_msg), 4096);
	got = fake_recv(&f);
	ck_assert_uint_eq(got.conn, MUX_CONN_PLUGIN);
	ck_assert_uint_eq(got.stream, 21);
	m = (struct ttrpc_msg){ .stream = got.stream, .data = got.data, .len = got.len };
	ck_assert_int_eq(ttrpc_reply_decode(&m, &r), 0);
	expect_code(r, TTRPC_INVALID_ARGUMENT, "not active");
	free(got.data);
	/* and the plugin still serves */
	expect_code(call(&f, "StopContainer", &e.base), TTRPC_OK, NULL);
	shutdown_plugin(&f);
}
END_TEST

START_TEST(test_register_refused)
{
	static struct fake f;

	fake_start(&f);
	answer_register(&f, expect_register(&f), TTRPC_INVALID_ARGUMENT, "invalid plugin index");
	fake_stop(&f);
	ck_assert_int_eq(f.pl.open_ret, -ECONNREFUSED);
	ck_assert_msg(
		strstr(f.pl.msg, "register as 07-unit") &&
			strstr(f.pl.msg, "refused the registration (3: invalid plugin index)"),
		"message: %s", f.pl.msg);
}
END_TEST

START_TEST(test_runtime_hangs_up)
{
	static struct fake f;

	fake_start(&f);
	handshake(&f);
	shutdown(f.fd, SHUT_RDWR);
	fake_stop(&f);
	ck_assert_int_eq(f.pl.open_ret, 0);
	ck_assert_int_eq(f.pl.run_ret, -ECONNRESET);
	ck_assert_ptr_nonnull(strstr(f.pl.msg, "closed the connection"));
}
END_TEST

START_TEST(test_hostile_frame)
{
	static const uint8_t hdr[8] = { 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff };
	static struct fake f;

	fake_start(&f);
	handshake(&f);
	ck_assert_int_eq(write(f.fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	fake_stop(&f);
	ck_assert_int_eq(f.pl.run_ret, -EPROTO);
	ck_assert_ptr_nonnull(strstr(f.pl.msg, "over the limit"));
}
END_TEST

START_TEST(test_hostile_message)
{
	/* a ttrpc header claiming 64 MiB inside a valid frame */
	static const uint8_t msg[10] = { 0x04, 0, 0, 0, 0, 0, 0, 3, 1, 1 };
	static struct fake f;

	fake_start(&f);
	handshake(&f);
	send_raw(&f, MUX_CONN_PLUGIN, msg, sizeof(msg), 4096);
	fake_stop(&f);
	ck_assert_int_eq(f.pl.run_ret, -EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(f.pl.msg, "67108864 bytes on stream 3"));
}
END_TEST

START_TEST(test_bad_options)
{
	struct nri_handlers h = { 0 };
	struct nri_opts o = { .fd = -1, .name = "x", .idx = "1" };
	struct nri *n;

	ck_assert_int_eq(nri_open(&o, &h, &n), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err_msg(), "two digits"));
	o.idx = "10";
	o.socket = "/nonexistent/nri.sock";
	ck_assert_int_eq(nri_open(&o, &h, &n), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err_msg(), "connect /nonexistent/nri.sock"));
}
END_TEST

START_TEST(test_env)
{
	struct nri_opts o = { .fd = -1, .name = "portcullis", .idx = "10" };

	unsetenv("NRI_PLUGIN_SOCKET");
	ck_assert_int_eq(nri_opts_from_env(&o), 0);
	ck_assert_int_eq(o.fd, -1);
	setenv("NRI_PLUGIN_SOCKET", "3", 1);
	setenv("NRI_PLUGIN_NAME", "pc", 1);
	setenv("NRI_PLUGIN_IDX", "42", 1);
	ck_assert_int_eq(nri_opts_from_env(&o), 1);
	ck_assert_int_eq(o.fd, 3);
	ck_assert_str_eq(o.name, "pc");
	ck_assert_str_eq(o.idx, "42");
	setenv("NRI_PLUGIN_SOCKET", "3x", 1);
	ck_assert_int_eq(nri_opts_from_env(&o), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nri_plugin");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_synchronize);
	tcase_add_test(tc, test_state_changes);
	tcase_add_test(tc, test_run_fails);
	tcase_add_test(tc, test_ctr_events);
	tcase_add_test(tc, test_idle);
	tcase_add_test(tc, test_other_methods);
	tcase_add_test(tc, test_stream_ids);
	tcase_add_test(tc, test_one_byte_frames);
	tcase_add_test(tc, test_no_silence);
	tcase_add_test(tc, test_register_refused);
	tcase_add_test(tc, test_runtime_hangs_up);
	tcase_add_test(tc, test_hostile_frame);
	tcase_add_test(tc, test_hostile_message);
	tcase_add_test(tc, test_bad_options);
	tcase_add_test(tc, test_env);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
