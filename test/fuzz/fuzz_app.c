/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for application identification.  The input is
 *     flags  (len_hi|dir<<7, len_lo, payload)...
 * flags bit 0 picks UDP over TCP and bits 1-3 a port pair; each segment is
 * copied to a buffer of its own size so that reads past it are caught.
 * Every segment also goes to every probe directly, so that parsers the
 * engine has already dropped still get the bytes.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "dp/app/app.h"
#include "dp/app/app_int.h"

static const app_probe_fn probes[] = {
	app_http_probe,	     app_http2_probe,	app_tls_probe,	      app_ssh_probe,
	app_dns_probe,	     app_mysql_probe,	app_postgresql_probe, app_redis_probe,
	app_memcached_probe, app_mongodb_probe, app_kafka_probe,      app_ntp_probe,
	app_dhcp_probe,
};

static const uint16_t ports[8][2] = {
	{ 40000, 80 }, { 40000, 443 }, { 40000, 53 }, { 68, 67 },
	{ 546, 547 },  { 40000, 123 }, { 123, 123 },  { 40000, 6379 },
};

static void check_info(const struct app_state *st, const struct app_info *info)
{
	size_t n = strnlen(info->sni, sizeof(info->sni));

	if (st->app >= APP_MAX || n == sizeof(info->sni))
		__builtin_trap();
	if (st->app != APP_TLS && n != 0)
		__builtin_trap();
	/* the protocols confirmed by the answer are never named on one side */
	if ((st->app == APP_REDIS || st->app == APP_MEMCACHED) && (!st->seen[0] || !st->seen[1]))
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		if (info->sni[i] <= ' ' || info->sni[i] >= 0x7f || info->sni[i] == '"')
			__builtin_trap();
}

static void probe_all(const struct app_segment *seg)
{
	struct app_segment s = *seg;
	struct app_info info;

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		for (unsigned v = 0; v < 4; v++) {
			s.from_client = v & 1;
			s.index = v >> 1;
			if ((unsigned)probes[i](&s, &info) > APP_YES)
				__builtin_trap();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct app_state st;
	struct app_info info = { 0 };
	struct app_segment seg = { 0 };
	size_t off = 1;

	if (size < 1)
		return 0;
	seg.transport = data[0] & 1 ? IPPROTO_UDP : IPPROTO_TCP;
	seg.client_port = ports[data[0] >> 1 & 7][0];
	seg.server_port = ports[data[0] >> 1 & 7][1];
	app_state_init(&st, seg.transport);
	while (off + 2 <= size) {
		size_t len = (size_t)(data[off] & 0x7f) << 8 | data[off + 1];
		uint8_t *buf;

		seg.from_client = !(data[off] & 0x80);
		off += 2;
		if (len > size - off)
			len = size - off;
		if (len == 0)
			continue;
		buf = malloc(len);
		if (!buf)
			return 0;
		memcpy(buf, data + off, len);
		off += len;
		seg.data = buf;
		seg.len = len;
		seg.index = 99; /* the engine must not use it */
		probe_all(&seg);
		if (app_feed(&st, &seg, &info))
			check_info(&st, &info);
		free(buf);
	}
	return 0;
}
