/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_APP_INT_H
#define PORTCULLIS_DP_APP_INT_H

/*
 * What the engine (app.c) and the parsers (app/<name>.c) share: the probe
 * type, the table entry and a few readers whose bounds the caller checks.
 * A probe sees one segment of at least one byte (seg->index already set by
 * the engine) and answers APP_NO, APP_MAYBE or APP_YES; what it leaves in
 * *info counts only when it answers APP_YES.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "lib/core/util.h"

#define APP_T_TCP 0x1
#define APP_T_UDP 0x2

/* the evidence that names a protocol (app_list.h) */
#define APP_ONE_SIDE 0	 /* either side's first bytes */
#define APP_BOTH_SIDES 1 /* the client's and the server's, each a yes */

typedef enum app_answer (*app_probe_fn)(const struct app_segment *seg, struct app_info *info);

struct app_parser {
	uint8_t proto;	    /* enum app_proto */
	uint8_t transports; /* APP_T_TCP | APP_T_UDP */
	uint8_t prio;	    /* asked in this order, lowest first */
	uint8_t sides;	    /* APP_ONE_SIDE or APP_BOTH_SIDES */
	const char *name;
	app_probe_fn probe;
};

#define APP(id, name, transports, prio, sides)                                                     \
	enum app_answer app_##name##_probe(const struct app_segment *seg, struct app_info *info);
#include "app_list.h"
#undef APP

/*
 * Compare the segment with a fixed prefix: APP_YES when it starts with all
 * of it, APP_MAYBE when it is a shorter piece of it, APP_NO otherwise.
 */
static inline enum app_answer app_prefix(const uint8_t *d, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	if (memcmp(d, prefix, len < n ? len : n) != 0)
		return APP_NO;
	return len < n ? APP_MAYBE : APP_YES;
}

/* Length of the text line at d (up to and without "\r\n" or "\n"); -1 if none. */
static inline long app_line_len(const uint8_t *d, size_t len)
{
	const uint8_t *nl = memchr(d, '\n', len);

	if (!nl)
		return -1;
	return nl > d && nl[-1] == '\r' ? nl - d - 1 : nl - d;
}

#endif
