// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP/2 over cleartext TCP (h2c with prior knowledge, gRPC): the client
 * connection preface, or the SETTINGS frame a server opens with.
 */
#include "app_int.h"

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_FRAME_HDR 9
#define H2_SETTINGS 0x4
#define H2_DEFAULT_MAX_FRAME 16384

/* a SETTINGS frame on stream 0: a whole number of 6-byte settings */
static enum app_answer h2_server_settings(const uint8_t *d, size_t len)
{
	uint32_t flen;

	if (len < H2_FRAME_HDR)
		return APP_NO;
	flen = be24_at(d);
	if (d[3] != H2_SETTINGS || d[4] != 0 || be32_at(d + 5) != 0)
		return APP_NO;
	return flen % 6 == 0 && flen <= H2_DEFAULT_MAX_FRAME ? APP_YES : APP_NO;
}

enum app_answer app_http2_probe(const struct app_segment *seg, struct app_info *info)
{
	if (seg->from_client)
		return app_prefix(seg->data, seg->len, H2_PREFACE);
	return h2_server_settings(seg->data, seg->len);
}
