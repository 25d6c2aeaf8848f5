/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_NRI_INT_H
#define PORTCULLIS_NRI_INT_H

/* What plugin.c (connection, registration, loop) and service.c (the Plugin service) share. */

#include <stdbool.h>

#include "mux.h"
#include "nri.h"
#include "ttrpc.h"

#define NRI_RUNTIME_SERVICE "nri.pkg.api.v1alpha1.Runtime"
#define NRI_PLUGIN_SERVICE "nri.pkg.api.v1alpha1.Plugin"

/* The events subscribed to, bit (event - 1) each: the pod events always, */
#define NRI_EVENTS_POD ((1 << (1 - 1)) | (1 << (2 - 1)) | (1 << (3 - 1)))
/* POST_CREATE_CONTAINER and REMOVE_CONTAINER with handlers for them */
#define NRI_EVENT_CTR_CREATED (1 << (5 - 1))
#define NRI_EVENT_CTR_REMOVED (1 << (11 - 1))

struct nri {
	int fd;
	struct mux_rx mux;
	struct ttrpc_rx rx[2]; /* the byte streams of connections 1 and 2 */
	uint32_t server_last;  /* the last stream id the runtime used on connection 1 */
	uint32_t client_next;  /* our next stream id on connection 2 */
	struct nri_handlers h;

	/* our one call on connection 2 (RegisterPlugin) */
	uint32_t call_id; /* 0: none outstanding */
	bool call_done;
	int call_code;
	char call_msg[256];

	bool peer_pids;	   /* the runtime's pids are ours: it is in our PID namespace */
	bool configured;   /* Configure answered */
	bool shutdown;	   /* Shutdown answered */
	unsigned requests; /* answered so far: idle() is due after each */
};

/* Answer one message of connection 1; a negative return means the link is lost. */
int service_handle(struct nri *n, const struct ttrpc_msg *m);

/* Send a response on connection 1. */
int service_answer(struct nri *n, uint32_t stream, int code, const char *msg,
		   const uint8_t *payload, size_t len);

struct Pcnri__PodSandbox;

/*
 * Plain views of n protobuf pods: *pods gets n entries, *kvs the labels
 * and annotations they point into; free both with free().  The strings
 * stay the protobuf message's; pids are kept only when pids is true.
 */
int pod_views(struct Pcnri__PodSandbox *const *pb, size_t n, bool pids, struct nri_pod **pods,
	      struct nri_kv **kvs);

struct Pcnri__Container;

/* Plain views of n protobuf containers: *ctrs gets n entries; free() it. */
int ctr_views(struct Pcnri__Container *const *pb, size_t n, bool pids, struct nri_ctr **ctrs);

#endif
