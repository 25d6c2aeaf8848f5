// SPDX-License-Identifier: Apache-2.0
/*
 * Kafka: a client request's header (int32 size, int16 api_key of a known
 * API, int16 small api_version, int32 correlation_id, int16 client_id
 * length that fits the size, client_id printable).  Responses carry only a
 * size and a correlation id, too little to name the protocol by.
 */
#include "app_int.h"

#define KAFKA_HDR 14 /* size, api_key, api_version, correlation_id, client_id length */
#define KAFKA_MAX_API_KEY 74
#define KAFKA_MAX_API_VERSION 20
#define KAFKA_MAX_REQUEST (100 * 1024 * 1024)

static enum app_answer kafka_client_id(const uint8_t *d, size_t len, size_t n)
{
	for (size_t i = KAFKA_HDR; i < KAFKA_HDR + n && i < len; i++)
		if (d[i] < 0x20 || d[i] >= 0x7f)
			return APP_NO;
	return APP_YES;
}

enum app_answer app_kafka_probe(const struct app_segment *seg, struct app_info *info)
{
	const uint8_t *d = seg->data;
	uint32_t size;
	int16_t key, version, id_len;

	if (!seg->from_client)
		return APP_NO;
	if (seg->len < KAFKA_HDR)
		return seg->index == 0 && seg->len < 4 ? APP_MAYBE : APP_NO;
	size = be32_at(d);
	key = (int16_t)be16_at(d + 4);
	version = (int16_t)be16_at(d + 6);
	id_len = (int16_t)be16_at(d + 12);
	if (size < KAFKA_HDR - 4 || size > KAFKA_MAX_REQUEST)
		return APP_NO;
	if (key < 0 || key > KAFKA_MAX_API_KEY || version < 0 || version > KAFKA_MAX_API_VERSION)
		return APP_NO;
	if ((int32_t)be32_at(d + 8) < 0 || id_len < -1 || (uint32_t)(id_len + 10) > size)
		return APP_NO;
	return id_len > 0 ? kafka_client_id(d, seg->len, (size_t)id_len) : APP_YES;
}
