/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the data plane's frame path: decoder, sessions,
 * application identification, policy (allow all, one rule denying TCP 81),
 * threat detection (low flood limits, two threats dropping; its lines to
 * /dev/null), resets and the session log.  The input is a sequence of frames, each
 *     len_hi len_lo bytes...
 * copied into a buffer of exactly its size, so a read past a frame is
 * caught.  Every frame goes through inspect_frame; every TCP frame also
 * through rst_build; at the end every session is formatted as a log line.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "dp/flow/inspect.h"
#include "dp/io/rst.h"

static struct policy *policy;
static struct workloads *wl;
static struct slog *threat_log;

static void format_one(const struct session *s, void *arg)
{
	char line[SLOG_LINE_MAX];
	struct slog_clock clk = { .wall_ns = 1795765547000000000LL, .session_ns = s->last_ns };

	json_t *o;

	slog_format(s, SLOG_SESSION, &clk, line, sizeof(line));
	if (line[strlen(line) - 1] != '\n')
		abort();
	/* whatever the frames held (an SNI), the line is one JSON object */
	o = json_loads(line, 0, NULL);
	if (!json_is_object(o) || json_object_get(o, "error"))
		abort();
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char rules[] =
		"{\"default\":\"allow\",\"rules\":[{\"id\":1,\"from\":\"any\",\"to\":\"any\","
		"\"ports\":[\"tcp/81\"],\"action\":\"deny\"}],\"threats\":{\"syn_flood_pps\":2,"
		"\"icmp_flood_pps\":2,\"actions\":{\"ip_teardrop\":\"drop\",\"tcp_syn_data\":\"drop\"}}}";
	struct inspector in;
	uint64_t now = 1;

	if (!policy && (policy_parse(rules, sizeof(rules) - 1, &policy) < 0 ||
			!(wl = workloads_empty()) || slog_open("/dev/null", &threat_log) < 0))
		abort();
	if (inspector_init(&in, 64, policy, wl, NULL) < 0 ||
	    inspect_threats_on(&in, threat_log, NULL) < 0)
		abort();
	while (size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];
		struct inspect_result r;
		uint8_t out[RST_FRAME_MAX];
		uint8_t *frame;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		frame = malloc(len ? len : 1);
		memcpy(frame, data, len);
		inspect_frame(&in, frame, len, len, now, &r);
		rst_build(&r.pkt, true, out, sizeof(out));
		rst_build(&r.pkt, false, out, sizeof(out));
		free(frame);
		data += len;
		size -= len;
		now += 250000000ULL; /* 4 frames a second: floods and timeouts come into play */
		inspect_tick(&in, now);
	}
	inspect_sessions_sorted(&in, format_one, NULL);
	inspector_fini(&in);
	return 0;
}
