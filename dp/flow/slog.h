/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_SLOG_H
#define PORTCULLIS_DP_SLOG_H

/*
 * The session log: one JSON object per line for every finished session and
 * every policy violation.  The members of docs/interfaces.md come first:
 *
 *   {"transport":"tcp","src":"10.0.0.3","sport":40312,"dst":"10.0.0.2",
 *    "dport":80,"app":"http","sni":"a.example","packets":12,"bytes":1830,
 *    "verdict":"allow","rule":0, ...}
 *
 * src is the side that opened the session.  After them: "event" (session
 * or violation), each direction's packets and bytes (client_packets,
 * client_bytes, server_packets, server_bytes), the time of the first and
 * the last packet ("start", "last") and of the line ("time"), the TCP state, and the container the
 * port belongs to.
 *
 * Lines go to one file descriptor with a single write(2) each, so workers
 * can share it; slog_reopen swaps a new file in (log rotation).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

struct slog;

/* path "-" is stdout. */
int slog_open(const char *path, struct slog **out);
/* Reopen the file (after rotation); stdout stays. */
int slog_reopen(struct slog *l);
/*
 * The same with a file someone else opened (the broker of a confined data
 * plane): fd, open for appending, becomes the log's file.  Takes fd;
 * stdout stays.
 */
int slog_replace(struct slog *l, int fd);
void slog_close(struct slog *l);

enum slog_event { SLOG_SESSION, SLOG_VIOLATION };

/*
 * The moment a line is written, on the wall clock and on the clock of the
 * session's first_ns/last_ns (CLOCK_MONOTONIC in the service), so the
 * session's start and last packet can be put in wall-clock time.
 */
struct slog_clock {
	int64_t wall_ns;
	uint64_t session_ns;
};

/*
 * Format one line for s into buf (NUL-terminated, ends with '\n'); its
 * length.  clk NULL: no time members (--read-pcap).
 */
size_t slog_format(const struct session *s, enum slog_event ev, const struct slog_clock *clk,
		   char *buf, size_t len);
void slog_write(struct slog *l, const struct session *s, enum slog_event ev,
		const struct slog_clock *clk);

/*
 * Every string member is escaped (control bytes, quotes, backslashes,
 * malformed UTF-8) and cut to SLOG_STR_MAX bytes of its escaped form; at
 * most eight strings a line and a few hundred bytes of the rest, so a line
 * always fits SLOG_LINE_MAX.  A line cut by a smaller buffer is replaced by
 * {"error":"log line cut"}: whatever is written is one JSON object.
 */
#define SLOG_STR_MAX 384
#define SLOG_LINE_MAX 4096

/*
 * A threat detection (dp/threat/threat.h), in the members of docs/interfaces.md:
 *
 *   {"threat":"sql_injection","severity":"high","transport":"tcp",
 *    "src":"10.0.0.3","sport":40312,"dst":"10.0.0.2","dport":80,
 *    "app":"http","action":"alert","evidence":"..."}
 *
 * then "time" (with a clock) and the container, as session lines have
 * them.  src is the session's opener, or without a session the frame's
 * source.
 */
struct slog_threat {
	const char *threat, *severity, *action, *evidence;
	const struct session *s; /* NULL: the ends are p's */
	const struct pkt *p;
	const struct wl_ctr *ctr; /* NULL: no container member */
};

size_t slog_format_threat(const struct slog_threat *t, const struct slog_clock *clk, char *buf,
			  size_t len);
void slog_write_threat(struct slog *l, const struct slog_threat *t, const struct slog_clock *clk);

#endif
