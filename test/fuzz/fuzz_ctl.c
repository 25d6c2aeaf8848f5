/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the control socket's protocol (dp/ctl/ctl_proto.c):
 * request lines as a client sends them, the line framing of what it
 * sends, and error replies quoting what it sent.
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "dp/ctl/ctl_proto.h"

/* a reply is one JSON object on one line */
static void check_reply(char *line)
{
	json_t *o;
	size_t n;

	fuzz_check(line);
	n = strlen(line);
	fuzz_check(n && line[n - 1] == '\n' && !memchr(line, '\n', n - 1));
	o = json_loads(line, 0, NULL);
	fuzz_check(o && json_is_object(o));
	json_decref(o);
	free(line);
}

static void check_request(const uint8_t *data, size_t size)
{
	struct ctl_request req, back;
	char *line;

	if (ctl_request_parse((const char *)data, size, &req) < 0)
		return;
	fuzz_check((unsigned)req.cmd < CTL_CMD_MAX);
	fuzz_check(req.cmd != CTL_SESSIONS || (req.limit >= 1 && req.limit <= CTL_SESSIONS_MAX));
	line = ctl_request_encode(&req);
	fuzz_check(line);
	fuzz_check(ctl_request_parse(line, strlen(line) - 1, &back) == 0);
	fuzz_check(back.cmd == req.cmd && (req.cmd != CTL_SESSIONS || back.limit == req.limit));
	free(line);
}

static void check_framing(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	size_t len = size;
	long n;

	memcpy(buf, data, size);
	/* each line found ends where its newline was (made a NUL), with none before it */
	while ((n = ctl_line_find(buf, len, CTL_REQ_MAX)) > 0) {
		fuzz_check((size_t)n <= len && buf[n - 1] == '\0' && !memchr(buf, '\n', (size_t)n));
		ctl_line_consume(buf, &len, (size_t)n);
	}
	fuzz_check(n == 0 || (n == -EMSGSIZE && len >= CTL_REQ_MAX));
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	check_request(data, size);
	check_framing(data, size);
	memcpy(text, data, size);
	text[size] = '\0';
	check_reply(ctl_reply_err(text));
	check_reply(ctl_reply_ok(json_pack("{so}", "echo", ctl_json_str(text))));
	free(text);
	return 0;
}
