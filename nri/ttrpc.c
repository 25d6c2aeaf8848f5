/* SPDX-License-Identifier: Apache-2.0 */
/* ttrpc: message reassembly, stream ids, and the Request/Response envelopes. */
#include "ttrpc.h"

#include <stdlib.h>
#include <string.h>

#include "nri.pb-c.h"
#include "lib/core/err.h"
#include "lib/core/util.h"

void ttrpc_rx_init(struct ttrpc_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

void ttrpc_rx_free(struct ttrpc_rx *rx)
{
	free(rx->body);
	ttrpc_rx_init(rx);
}

/* Take header bytes; a complete header sizes the body (bounded). */
static int rx_header(struct ttrpc_rx *rx, const uint8_t *data, size_t len, size_t *used)
{
	size_t n = TTRPC_HDR_LEN - rx->hdr_have;

	if (n > len)
		n = len;
	memcpy(rx->hdr + rx->hdr_have, data, n);
	rx->hdr_have += n;
	*used = n;
	if (rx->hdr_have < TTRPC_HDR_LEN)
		return 0;
	rx->len = be32_at(rx->hdr);
	if (rx->len > TTRPC_MSG_MAX)
		return err_set(-EMSGSIZE,
			       "ttrpc message of %u bytes on stream %u: over the limit of %u",
			       rx->len, be32_at(rx->hdr + 4), TTRPC_MSG_MAX);
	rx->body = malloc(rx->len ? rx->len : 1);
	if (!rx->body)
		return err_set(-ENOMEM, "ttrpc message of %u bytes", rx->len);
	rx->body_have = 0;
	return 0;
}

/* The current message is complete: hand it over and start the next. */
static int rx_deliver(struct ttrpc_rx *rx, ttrpc_msg_fn fn, void *arg)
{
	struct ttrpc_msg m = {
		.stream = be32_at(rx->hdr + 4),
		.type = rx->hdr[8],
		.flags = rx->hdr[9],
		.data = rx->body,
		.len = rx->len,
	};
	int ret = fn(&m, arg);

	ttrpc_rx_free(rx);
	return ret;
}

int ttrpc_rx_feed(struct ttrpc_rx *rx, const uint8_t *data, size_t len, ttrpc_msg_fn fn, void *arg)
{
	size_t used;
	int ret;

	for (;;) {
		if (rx->hdr_have == TTRPC_HDR_LEN && rx->body_have == rx->len) {
			ret = rx_deliver(rx, fn, arg);
			if (ret)
				return ret;
		}
		if (len == 0)
			return 0;
		if (rx->hdr_have < TTRPC_HDR_LEN) {
			ret = rx_header(rx, data, len, &used);
			if (ret < 0)
				return ret;
		} else {
			used = rx->len - rx->body_have;
			if (used > len)
				used = len;
			memcpy(rx->body + rx->body_have, data, used);
			rx->body_have += used;
		}
		data += used;
		len -= used;
	}
}

int ttrpc_server_check_id(uint32_t *last, uint32_t id)
{
	if (id % 2 != 1)
		return err_set(-EINVAL, "ttrpc stream id %u: a client's ids are odd", id);
	if (id <= *last)
		return err_set(-EINVAL, "ttrpc stream id %u: not above the last one, %u", id,
			       *last);
	*last = id;
	return 0;
}

uint32_t ttrpc_client_next_id(uint32_t *next)
{
	uint32_t id = *next | 1;

	*next = id + 2;
	return id;
}

int ttrpc_call_decode(const struct ttrpc_msg *m, struct ttrpc_call *out)
{
	Pcnri__Request *req = pcnri__request__unpack(NULL, m->len, m->data);

	if (!req)
		return err_set(-EBADMSG, "ttrpc request on stream %u: not a Request message",
			       m->stream);
	*out = (struct ttrpc_call){
		.service = req->service,
		.method = req->method,
		.payload = req->payload.data,
		.payload_len = req->payload.len,
		.timeout_nano = req->timeout_nano,
		.pb = req,
	};
	return 0;
}

void ttrpc_call_free(struct ttrpc_call *c)
{
	if (c->pb)
		pcnri__request__free_unpacked(c->pb, NULL);
	c->pb = NULL;
}

int ttrpc_reply_decode(const struct ttrpc_msg *m, struct ttrpc_reply *out)
{
	Pcnri__Response *rsp = pcnri__response__unpack(NULL, m->len, m->data);

	if (!rsp)
		return err_set(-EBADMSG, "ttrpc response on stream %u: not a Response message",
			       m->stream);
	*out = (struct ttrpc_reply){
		.code = rsp->status ? rsp->status->code : TTRPC_OK,
		.message = rsp->status ? rsp->status->message : "",
		.payload = rsp->payload.data,
		.payload_len = rsp->payload.len,
		.pb = rsp,
	};
	return 0;
}

void ttrpc_reply_free(struct ttrpc_reply *r)
{
	if (r->pb)
		pcnri__response__free_unpacked(r->pb, NULL);
	r->pb = NULL;
}

/* Header and encoded body of one message in one new buffer. */
static int build(uint32_t stream, uint8_t type, uint8_t flags, const ProtobufCMessage *body,
		 uint8_t **out, size_t *out_len)
{
	size_t n = protobuf_c_message_get_packed_size(body);
	uint8_t *buf;

	if (n > TTRPC_MSG_MAX)
		return err_set(-EMSGSIZE, "ttrpc message of %zu bytes: over the limit of %u", n,
			       TTRPC_MSG_MAX);
	buf = malloc(TTRPC_HDR_LEN + n);
	if (!buf)
		return err_set(-ENOMEM, "ttrpc message of %zu bytes", n);
	be32_put(buf, n);
	be32_put(buf + 4, stream);
	buf[8] = type;
	buf[9] = flags;
	protobuf_c_message_pack(body, buf + TTRPC_HDR_LEN);
	*out = buf;
	*out_len = TTRPC_HDR_LEN + n;
	return 0;
}

int ttrpc_build_request(uint32_t stream, const char *service, const char *method,
			const uint8_t *payload, size_t len, int64_t timeout_nano, uint8_t **out,
			size_t *out_len)
{
	Pcnri__Request req = PCNRI__REQUEST__INIT;

	req.service = (char *)service;
	req.method = (char *)method;
	req.payload.data = (uint8_t *)payload;
	req.payload.len = len;
	req.timeout_nano = timeout_nano;
	return build(stream, TTRPC_REQUEST, TTRPC_FLAG_REMOTE_CLOSED, &req.base, out, out_len);
}

int ttrpc_build_response(uint32_t stream, int code, const char *message, const uint8_t *payload,
			 size_t len, uint8_t **out, size_t *out_len)
{
	Pcnri__Response rsp = PCNRI__RESPONSE__INIT;
	Pcnri__Status st = PCNRI__STATUS__INIT;

	if (code != TTRPC_OK) {
		st.code = code;
		st.message = (char *)(message ? message : "");
		rsp.status = &st;
	} else {
		rsp.payload.data = (uint8_t *)payload;
		rsp.payload.len = len;
	}
	return build(stream, TTRPC_RESPONSE, 0, &rsp.base, out, out_len);
}
