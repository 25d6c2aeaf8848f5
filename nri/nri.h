/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_NRI_H
#define PORTCULLIS_NRI_H

/*
 * An NRI plugin (Node Resource Interface, containerd 1.7+, CRI-O 1.26+)
 * subscribed to the pod sandbox events: RUN_POD_SANDBOX, STOP_POD_SANDBOX
 * and REMOVE_POD_SANDBOX, and, when it has handlers for them, to
 * POST_CREATE_CONTAINER and REMOVE_CONTAINER.
 *
 *     struct nri *n;
 *     if (nri_open(&opts, &handlers, &n) < 0)    connect and register
 *             die(err_msg());
 *     ret = nri_run(n, stop_fd);                  serve until shutdown
 *     nri_close(n);
 *
 * Threading and time: everything happens on the thread that calls
 * nri_open() and nri_run(), one request at a time.  The handlers are
 * called synchronously, and the runtime gets its answer only when the
 * handler has returned; it waits 2 s by default (plugin_request_timeout)
 * and then drops the plugin altogether, letting the pod go on without it.
 * So a handler must finish well within that: NRI_HANDLER_BUDGET_MS is the
 * budget, and a handler that overruns it is logged with the time it took.
 * Work that can take longer is queued by the handler and done in idle()
 * between requests, one short piece per call (so that piece and handler
 * together stay within the runtime's patience).
 *
 * A handler returns 0, or a negative errno after err_set() (err.h): the
 * runtime then gets a ttrpc error status carrying err_msg().  For pod_run
 * that fails the pod's RunPodSandbox (what on_failure=closed needs); the
 * runtime only logs a failed pod_stop or pod_remove; a failed synchronize
 * makes the runtime drop the plugin.
 */

#include <stddef.h>
#include <stdint.h>

#define NRI_DEFAULT_SOCKET "/var/run/nri/nri.sock"
#define NRI_HANDLER_BUDGET_MS 1000

/* One label or annotation. */
struct nri_kv {
	const char *key;
	const char *value;
};

/*
 * A pod as the runtime describes it.  Every string is non-NULL ("" when
 * the runtime did not send it); everything is valid only during the
 * handler call.  Pids are the runtime's: when the plugin runs in another
 * PID namespace than the runtime (a container without the host's PIDs),
 * they mean nothing here and come as 0.  At STOP_POD_SANDBOX and REMOVE_POD_SANDBOX containerd
 * sends neither pid nor netns: remember them from pod_run.
 */
struct nri_pod {
	const char *id;
	const char *name;
	const char *namespace;
	const char *uid;
	const char *netns; /* path of the network namespace, e.g. /var/run/netns/cni-... */
	uint32_t pid;	   /* the sandbox process; 0 when not sent or not in our PID namespace */
	const struct nri_kv *labels;
	size_t n_labels;
	const struct nri_kv *annotations;
	size_t n_annotations;
};

/* NRI's container states */
enum nri_ctr_state {
	NRI_CTR_UNKNOWN = 0,
	NRI_CTR_CREATED,
	NRI_CTR_PAUSED,
	NRI_CTR_RUNNING,
	NRI_CTR_STOPPED,
};

/* A container as the runtime describes it; strings as in struct nri_pod. */
struct nri_ctr {
	const char *id;
	const char *pod_id; /* its pod sandbox */
	const char *name;   /* its name in the pod (Kubernetes: the container's name) */
	enum nri_ctr_state state;
	uint32_t pid; /* 0 when not sent or not in our PID namespace */
};

struct nri_handlers {
	int (*pod_run)(const struct nri_pod *pod, void *arg);
	int (*pod_stop)(const struct nri_pod *pod, void *arg);
	int (*pod_remove)(const struct nri_pod *pod, void *arg);
	/* the pods and containers that exist when the plugin registers (or re-registers) */
	int (*synchronize)(const struct nri_pod *pods, size_t n, const struct nri_ctr *ctrs,
			   size_t n_ctrs, void *arg);
	/* POST_CREATE_CONTAINER and REMOVE_CONTAINER; NULL: not subscribed to */
	int (*ctr_created)(const struct nri_pod *pod, const struct nri_ctr *ctr, void *arg);
	int (*ctr_removed)(const struct nri_pod *pod, const struct nri_ctr *ctr, void *arg);
	/*
	 * Queued work, called by nri_run() after each request and when it
	 * asked to be: do one short piece and return 0 to be called again as
	 * soon as no request waits, N > 0 to be called again in N ms (or after
	 * the next request), or -1 when nothing is left.  A request that comes
	 * meanwhile waits for the piece: keep it well within the budget.
	 */
	int (*idle)(void *arg);
	void *arg;
};

struct nri_opts {
	const char *socket; /* NULL: NRI_DEFAULT_SOCKET */
	int fd;		    /* >= 0: an already connected socket (takes precedence over socket) */
	const char *name;   /* the plugin's name */
	const char *idx;    /* its index, exactly two digits */
};

/*
 * Fill o from the environment when the runtime launched the plugin
 * (NRI_PLUGIN_SOCKET = the fd, NRI_PLUGIN_NAME, NRI_PLUGIN_IDX): returns 1
 * and sets what the environment gives, 0 when NRI_PLUGIN_SOCKET is not
 * set, or -EINVAL for a malformed one.
 */
int nri_opts_from_env(struct nri_opts *o);

struct nri;

/*
 * Connect (or adopt o->fd) and register: RegisterPlugin, answering the
 * runtime's Configure (and anything else it sends meanwhile) until the
 * registration is answered.  Handlers may already be called here.
 * Returns 0 or a negative errno with err_msg() saying what failed.
 */
int nri_open(const struct nri_opts *o, const struct nri_handlers *h, struct nri **out);

/* nri_run's outcomes besides a negative errno (connection lost, protocol error). */
enum {
	NRI_SHUTDOWN = 1, /* the runtime called Shutdown (answered) */
	NRI_STOPPED = 2,  /* stop_fd became readable */
};

/* Serve the runtime's requests; stop_fd, when >= 0, ends the loop once readable. */
int nri_run(struct nri *n, int stop_fd);

void nri_close(struct nri *n);

#endif
