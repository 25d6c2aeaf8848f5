// SPDX-License-Identifier: Apache-2.0
/* The control socket's requests and replies: one JSON object per line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"
#include "lib/core/err.h"

static const char *const cmd_names[CTL_CMD_MAX] = {
	[CTL_STATUS] = "status",	   [CTL_PORTS] = "ports",
	[CTL_SESSIONS] = "sessions",	   [CTL_STATS] = "stats",
	[CTL_POLICY_SHOW] = "policy_show", [CTL_POLICY_RELOAD] = "policy_reload",
};

/* A request's fault is told in the words of the protocol, no errno text. */
#define bad_request(...) (err_set(0, __VA_ARGS__), -EINVAL)

int ctl_cmd_from_name(const char *name)
{
	for (int i = 0; i < CTL_CMD_MAX; i++)
		if (strcmp(name, cmd_names[i]) == 0)
			return i;
	return -1;
}

const char *ctl_cmd_name(enum ctl_cmd cmd)
{
	return cmd < CTL_CMD_MAX ? cmd_names[cmd] : "?";
}

static int parse_limit(json_t *v, struct ctl_request *req)
{
	json_int_t n;

	if (req->cmd != CTL_SESSIONS)
		return bad_request("request: \"limit\" goes with \"sessions\" only");
	if (!json_is_integer(v))
		return bad_request("request: \"limit\" must be an integer");
	n = json_integer_value(v);
	if (n < 1 || n > CTL_SESSIONS_MAX)
		return bad_request("request: \"limit\" %lld out of range 1..%d", (long long)n,
				   CTL_SESSIONS_MAX);
	req->limit = (size_t)n;
	return 0;
}

static int parse_cmd(json_t *root, struct ctl_request *req)
{
	json_t *v = json_object_get(root, "cmd");
	int cmd;

	if (!v)
		return bad_request("request: no \"cmd\"");
	if (!json_is_string(v))
		return bad_request("request: \"cmd\" must be a string");
	cmd = ctl_cmd_from_name(json_string_value(v));
	if (cmd < 0)
		return bad_request("request: unknown cmd \"%.64s\"", json_string_value(v));
	req->cmd = (enum ctl_cmd)cmd;
	return 0;
}

static int parse_object(json_t *root, struct ctl_request *req)
{
	const char *key;
	json_t *v;
	int ret;

	if (!json_is_object(root))
		return bad_request("request: not a JSON object");
	ret = parse_cmd(root, req);
	json_object_foreach(root, key, v) {
		if (ret < 0)
			break;
		if (strcmp(key, "limit") == 0)
			ret = parse_limit(v, req);
		else if (strcmp(key, "cmd") != 0)
			ret = bad_request("request: unknown key \"%.64s\"", key);
	}
	return ret;
}

int ctl_request_parse(const char *line, size_t len, struct ctl_request *req)
{
	json_error_t jerr;
	json_t *root;
	int ret;

	memset(req, 0, sizeof(*req));
	req->limit = CTL_SESSIONS_DEFAULT;
	if (len > CTL_REQ_MAX)
		return (err_set(0, "request: longer than %d bytes", CTL_REQ_MAX), -EMSGSIZE);
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return bad_request("request: not JSON: %s", jerr.text);
	ret = parse_object(root, req);
	json_decref(root);
	return ret;
}

/* obj as one compact line with a newline; obj's reference is dropped. */
static char *to_line(json_t *obj)
{
	char *s, *line;
	size_t n;

	if (!obj)
		return NULL;
	s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (!s)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

char *ctl_request_encode(const struct ctl_request *req)
{
	json_t *o = json_pack("{ss}", "cmd", ctl_cmd_name(req->cmd));

	if (o && req->cmd == CTL_SESSIONS &&
	    json_object_set_new(o, "limit", json_integer((json_int_t)req->limit)) < 0) {
		json_decref(o);
		return NULL;
	}
	return to_line(o);
}

char *ctl_reply_ok(json_t *body)
{
	json_t *o = json_pack("{sb}", "ok", 1);

	/* "ok" stays first and true whatever body holds */
	if (o && body &&
	    (json_object_update(o, body) < 0 || json_object_set_new(o, "ok", json_true()) < 0)) {
		json_decref(o);
		o = NULL;
	}
	json_decref(body);
	return to_line(o);
}

json_t *ctl_json_str(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j)
		return j;
	/* not UTF-8: keep the ASCII, mark the rest */
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (unsigned char *p = (unsigned char *)copy; *p; p++)
		if (*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

char *ctl_reply_err(const char *msg)
{
	char *one = strdup(msg), *p;
	json_t *o;

	if (!one)
		return NULL;
	for (p = one; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	o = json_pack("{sbso*}", "ok", 0, "error", ctl_json_str(one));
	free(one);
	return to_line(o);
}

long ctl_line_find(char *buf, size_t len, size_t max)
{
	char *nl = memchr(buf, '\n', len);

	if (nl) {
		*nl = '\0';
		return (long)(nl - buf) + 1;
	}
	return len >= max ? -EMSGSIZE : 0;
}

void ctl_line_consume(char *buf, size_t *len, size_t size)
{
	if (size > *len)
		size = *len;
	memmove(buf, buf + size, *len - size);
	*len -= size;
}
