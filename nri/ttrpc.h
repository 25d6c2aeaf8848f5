/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_NRI_TTRPC_H
#define PORTCULLIS_NRI_TTRPC_H

/*
 * ttrpc, the RPC protocol NRI runs on each multiplexed connection.
 *
 * A message is a 10-byte header, u32 big-endian length (of what follows,
 * at most TTRPC_MSG_MAX), u32 big-endian stream id, u8 type, u8 flags, then
 * the body.  A call is a request (type 1) on a new stream, answered by a
 * response (type 2) on the same stream.  The caller picks the ids: odd,
 * from 1, each larger than the last.  Request and response bodies are the
 * protobuf envelopes Request and Response of nri.proto.
 */

#include <stddef.h>
#include <stdint.h>

#define TTRPC_HDR_LEN 10
#define TTRPC_MSG_MAX (4u << 20)

enum ttrpc_type { TTRPC_REQUEST = 1, TTRPC_RESPONSE = 2, TTRPC_DATA = 3 };
#define TTRPC_FLAG_REMOTE_CLOSED 0x1 /* a unary request: no data messages follow */

/* The gRPC status codes portcullis-nri sends. */
enum ttrpc_code {
	TTRPC_OK = 0,
	TTRPC_UNKNOWN = 2,
	TTRPC_INVALID_ARGUMENT = 3,
	TTRPC_UNIMPLEMENTED = 12,
};

/* One received message; data is valid only during the callback. */
struct ttrpc_msg {
	uint32_t stream;
	uint8_t type;
	uint8_t flags;
	const uint8_t *data;
	uint32_t len;
};

typedef int (*ttrpc_msg_fn)(const struct ttrpc_msg *m, void *arg);

/* The reassembly state of one connection's byte stream. */
struct ttrpc_rx {
	uint8_t hdr[TTRPC_HDR_LEN];
	size_t hdr_have;
	uint32_t len;  /* body length of the current message */
	uint8_t *body; /* allocated once the header is complete */
	size_t body_have;
};

void ttrpc_rx_init(struct ttrpc_rx *rx);
void ttrpc_rx_free(struct ttrpc_rx *rx);

/*
 * Take len more bytes of the stream, however they were cut, and hand each
 * complete message to fn.  Returns 0, fn's non-zero return, -EMSGSIZE for a
 * message over TTRPC_MSG_MAX (the stream cannot be trusted after it) or
 * -ENOMEM.
 */
int ttrpc_rx_feed(struct ttrpc_rx *rx, const uint8_t *data, size_t len, ttrpc_msg_fn fn, void *arg);

/*
 * The server's stream id rule: a request's id is odd and larger than the
 * last one accepted (*last, 0 at first).  Returns 0 and records id, or
 * -EINVAL with the reason.
 */
int ttrpc_server_check_id(uint32_t *last, uint32_t id);

/* The client's next stream id: 1, 3, 5, ... (*next starts at 0 or 1). */
uint32_t ttrpc_client_next_id(uint32_t *next);

/* A decoded request; the strings and payload belong to pb. */
struct ttrpc_call {
	const char *service;
	const char *method;
	const uint8_t *payload;
	size_t payload_len;
	int64_t timeout_nano;
	void *pb;
};

/* A decoded response; code TTRPC_OK when the status was absent. */
struct ttrpc_reply {
	int code;
	const char *message;
	const uint8_t *payload;
	size_t payload_len;
	void *pb;
};

int ttrpc_call_decode(const struct ttrpc_msg *m, struct ttrpc_call *out);
void ttrpc_call_free(struct ttrpc_call *c);
int ttrpc_reply_decode(const struct ttrpc_msg *m, struct ttrpc_reply *out);
void ttrpc_reply_free(struct ttrpc_reply *r);

/*
 * Whole messages, header included, ready for mux_send; *out is allocated.
 * A request is sent unary (TTRPC_FLAG_REMOTE_CLOSED); a response with code
 * TTRPC_OK carries payload, any other code carries message instead.
 */
int ttrpc_build_request(uint32_t stream, const char *service, const char *method,
			const uint8_t *payload, size_t len, int64_t timeout_nano, uint8_t **out,
			size_t *out_len);
int ttrpc_build_response(uint32_t stream, int code, const char *message, const uint8_t *payload,
			 size_t len, uint8_t **out, size_t *out_len);

#endif
