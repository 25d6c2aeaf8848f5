/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_CTL_PROTO_H
#define PORTCULLIS_DP_CTL_PROTO_H

/*
 * The control socket's protocol, shared by portcullis-dp and portcullisctl.
 * A unix stream socket; one JSON object per line each way:
 *
 *   request:  {"cmd":"status"} | {"cmd":"ports"} | {"cmd":"stats"}
 *             | {"cmd":"sessions","limit":N} | {"cmd":"policy_show"}
 *             | {"cmd":"policy_reload"}
 *   reply:    {"ok":true, ...members of the command...}
 *             {"ok":false,"error":"one line"}
 *
 * A request line is at most CTL_REQ_MAX bytes.  Several requests may follow
 * one another on a connection; each gets its reply before the next is read.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CTL_REQ_MAX 4096
#define CTL_SESSIONS_DEFAULT 1000
#define CTL_SESSIONS_MAX 100000

enum ctl_cmd {
	CTL_STATUS,
	CTL_PORTS,
	CTL_SESSIONS,
	CTL_STATS,
	CTL_POLICY_SHOW,
	CTL_POLICY_RELOAD,
	CTL_CMD_MAX
};

struct ctl_request {
	enum ctl_cmd cmd;
	size_t limit; /* sessions: at most this many (1..CTL_SESSIONS_MAX) */
};

/* "status", ... "policy_reload"; -1 for none of them. */
int ctl_cmd_from_name(const char *name);
const char *ctl_cmd_name(enum ctl_cmd cmd);

/*
 * Parse one request line (without its newline).  -EINVAL with one line in
 * err_msg() naming what is wrong: not JSON, no "cmd", an unknown command,
 * an unknown key, a bad "limit".
 */
int ctl_request_parse(const char *line, size_t len, struct ctl_request *req);

/* The request as a line ending in '\n' (caller frees); NULL without memory. */
char *ctl_request_encode(const struct ctl_request *req);

/*
 * A reply line ending in '\n' (caller frees); NULL without memory.
 * ctl_reply_ok takes body's reference (NULL: no members but "ok") and puts
 * "ok":true first; ctl_reply_err makes msg one line.
 */
char *ctl_reply_ok(json_t *body);
char *ctl_reply_err(const char *msg);

/*
 * Framing of the requests a server reads: buf holds len bytes received.
 * Returns the size of the first complete line with its newline (> 0; the
 * newline is replaced by NUL, so buf is the line as a C string), 0 when
 * no line is complete yet, or -EMSGSIZE when len reached max without a
 * newline.  ctl_line_consume drops those size bytes from the front of buf.
 */
long ctl_line_find(char *buf, size_t len, size_t max);
void ctl_line_consume(char *buf, size_t *len, size_t size);

/* A JSON string of text that may not be UTF-8 (bytes >= 0x80 become '?'). */
json_t *ctl_json_str(const char *s);

#endif
