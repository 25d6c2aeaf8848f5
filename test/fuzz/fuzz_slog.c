/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the session log's line writer (dp/flow/slog.c):
 * ids, names, Kubernetes names, an SNI and evidence of any bytes, as
 * hostile runtimes, workloads and peers may make them.  The input is up to
 * eight strings separated by NUL bytes; each line written must be one JSON
 * object on one line, and a string that is well-formed UTF-8 and short
 * enough never to be cut must read back exactly.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "dp/flow/decode.h"
#include "dp/flow/session.h"
#include "dp/flow/slog.h"
#include "dp/flow/workload.h"

enum { F_ID, F_NAME, F_GROUP, F_POD, F_NS, F_CTR, F_SNI, F_EVIDENCE, F_MAX };

/* the longest string that can never be cut: six bytes per byte escaped */
#define SAFE_LEN ((SLOG_STR_MAX - 3) / 6)

/* The input's strings into f (each at most max - 1 bytes, cut there). */
static void split(const uint8_t *data, size_t size, char f[F_MAX][OCI_NAME_MAX])
{
	size_t i = 0;

	memset(f, 0, F_MAX * OCI_NAME_MAX);
	for (int k = 0; k < F_MAX && i < size; k++) {
		size_t n = 0;

		while (i < size && data[i]) {
			if (n + 1 < OCI_NAME_MAX)
				f[k][n++] = (char)data[i];
			i++;
		}
		i++;
	}
}

/* A line: one object, one newline; the member of obj (NULL: top) key, if string s, read back. */
static json_t *check_line(const char *line)
{
	size_t n = strlen(line);
	json_t *o;

	fuzz_check(n && line[n - 1] == '\n' && !memchr(line, '\n', n - 1));
	o = json_loads(line, 0, NULL);
	fuzz_check(o && json_is_object(o));
	fuzz_check(!json_object_get(o, "error"));
	return o;
}

static void check_member(json_t *obj, const char *key, const char *s)
{
	json_t *v = json_object_get(obj, key), *want;

	fuzz_check(json_is_string(v));
	want = json_string(s); /* NULL: not well-formed UTF-8 */
	if (want && strlen(s) <= SAFE_LEN)
		fuzz_check(strcmp(json_string_value(v), s) == 0);
	json_decref(want);
}

static struct session *one_session(struct session_table *t)
{
	static const uint8_t frame[] = {
		0x02, 0x70, 0,	0,  0, 1, 0x0a, 0x58, 9,  9, 9, 9, 0x08, 0x00, /* Ethernet */
		0x45, 0,    0,	40, 0, 1, 0,	0,    64, 6, 0, 0, 10,	 0,
		0,    9,    10, 0,  0, 2, /* IPv4 */
		0x9c, 0x40, 0,	80, 0, 0, 0,	1,    0,  0, 0, 0, 0x50, 0x02,
		0xfa, 0xf0, 0,	0,  0, 0,
	};
	struct flow_key k;
	struct session *s;
	struct pkt p;
	bool a;

	fuzz_check(decode_frame(frame, sizeof(frame), &p) == DECODE_OK);
	fuzz_check(session_key(&p, 1, &k, &a));
	s = session_create(t, &k, a, &p, 1, NULL, NULL);
	session_update(t, s, &p, true, 1);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char f[F_MAX][OCI_NAME_MAX];
	struct slog_clock clk = { 1795765547000000000LL, 2 };
	struct session_timeouts to;
	struct session_table *t;
	struct slog_threat th = { "syn_flood", "medium", "drop", f[F_EVIDENCE], NULL, NULL, NULL };
	struct wl_ctr *c = calloc(1, sizeof(*c));
	char line[SLOG_LINE_MAX];
	struct session *s;
	json_t *o, *ctr;

	split(data, size, f);
	session_timeouts_default(&to);
	t = session_table_new(2, &to);
	fuzz_check(t && c);
	s = one_session(t);
	atomic_init(&c->refs, 1);
	memcpy(c->id, f[F_ID], OCI_NAME_MAX);
	memcpy(c->name, f[F_NAME], OCI_NAME_MAX);
	memcpy(c->group, f[F_GROUP], OCI_NAME_MAX);
	memcpy(c->k8s_pod, f[F_POD], OCI_NAME_MAX);
	memcpy(c->k8s_namespace, f[F_NS], OCI_NAME_MAX);
	memcpy(c->k8s_container, f[F_CTR], OCI_NAME_MAX);
	s->ctr = c;
	s->sni = strdup(f[F_SNI]);
	slog_format(s, SLOG_VIOLATION, &clk, line, sizeof(line));
	o = check_line(line);
	ctr = json_object_get(o, "container");
	check_member(ctr, "id", f[F_ID]);
	check_member(ctr, "name", f[F_NAME]);
	check_member(ctr, "group", f[F_GROUP]);
	if (f[F_POD][0] || f[F_NS][0]) {
		check_member(ctr, "k8s_pod", f[F_POD]);
		check_member(ctr, "k8s_namespace", f[F_NS]);
		check_member(ctr, "k8s_container", f[F_CTR]);
	}
	if (f[F_SNI][0])
		check_member(o, "sni", f[F_SNI]);
	json_decref(o);
	th.s = s;
	th.ctr = c;
	slog_format_threat(&th, &clk, line, sizeof(line));
	o = check_line(line);
	check_member(o, "evidence", f[F_EVIDENCE]);
	json_decref(o);
	session_table_free(t, NULL, NULL);
	return 0;
}
