// SPDX-License-Identifier: Apache-2.0
/* portcullisctl's human output: aligned tables and key/value lists. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_show.h"
#include "lib/core/err.h"
#include "lib/core/util.h"

#define MAX_COLS 72

/* A table: cells kept until all widths are known. */
struct table {
	unsigned ncols;
	size_t nrows, cap;
	char **cells; /* nrows * ncols */
	size_t width[MAX_COLS];
};

static void table_init(struct table *t, unsigned ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols < MAX_COLS ? ncols : MAX_COLS;
}

/* Start a new row; its cells follow with table_cell. */
static bool table_row(struct table *t)
{
	size_t need = (t->nrows + 1) * t->ncols;

	if (need > t->cap) {
		size_t cap = need * 2;
		char **c = realloc(t->cells, cap * sizeof(*c));

		if (!c)
			return false;
		memset(c + t->cap, 0, (cap - t->cap) * sizeof(*c));
		t->cells = c;
		t->cap = cap;
	}
	t->nrows++;
	return true;
}

static void table_cell(struct table *t, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void table_cell(struct table *t, unsigned col, const char *fmt, ...)
{
	char **cell = &t->cells[(t->nrows - 1) * t->ncols + col];
	va_list ap;
	size_t len;

	if (col >= t->ncols || *cell)
		return;
	va_start(ap, fmt);
	if (vasprintf(cell, fmt, ap) < 0)
		*cell = NULL;
	va_end(ap);
	len = *cell ? strlen(*cell) : 0;
	if (len > t->width[col])
		t->width[col] = len;
}

static void table_print(struct table *t, FILE *f)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (unsigned c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			int pad = c + 1 < t->ncols ? (int)t->width[c] : 0;

			fprintf(f, "%s%-*s", c ? "  " : "", pad, s ? s : "-");
		}
		fputc('\n', f);
	}
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

static void table_header(struct table *t, const char *const *names)
{
	if (!table_row(t))
		return;
	for (unsigned c = 0; c < t->ncols && names[c]; c++)
		table_cell(t, c, "%s", names[c]);
}

/* Shorthands for members of a reply */
static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && s[0] ? s : "-";
}

static long long num(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* ---- status ---- */

static void uptime_str(long long s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%lldd%02lldh%02lldm", s / 86400, s % 86400 / 3600,
			 s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, len, "%lldh%02lldm%02llds", s / 3600, s % 3600 / 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else
		snprintf(buf, len, "%llds", s);
}

static int show_status(json_t *r, FILE *f)
{
	json_t *p = json_object_get(r, "policy");
	struct table t;
	char up[32];

	uptime_str(num(r, "uptime"), up, sizeof(up));
	table_init(&t, 2);
#define KV(k, ...)                                                                                 \
	(table_row(&t) ? table_cell(&t, 0, "%s", k), table_cell(&t, 1, __VA_ARGS__) : (void)0)
	KV("pid", "%lld", num(r, "pid"));
	KV("uptime", "%s", up);
	KV("backend", "%s", str(r, "backend"));
	KV("workers", "%lld", num(r, "workers"));
	KV("heartbeat", "%s", json_is_true(json_object_get(r, "heartbeat")) ? "on" : "off");
	KV("policy", "%s (%lld rules)", str(p, "path"), num(p, "rules"));
	KV("ports", "%lld", num(r, "ports"));
	KV("sessions", "%lld", num(r, "sessions"));
	KV("ctl_socket", "%s", str(r, "ctl_socket"));
#undef KV
	table_print(&t, f);
	return 0;
}

/* ---- ports ---- */

static void addrs_cell(struct table *t, unsigned col, json_t *addrs)
{
	char buf[1024] = "";
	size_t used = 0, i;
	json_t *a;

	json_array_foreach(addrs, i, a) {
		int n = snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? "," : "",
				 json_string_value(a) ? json_string_value(a) : "?");

		if (n < 0 || (size_t)n >= sizeof(buf) - used)
			break;
		used += (size_t)n;
	}
	table_cell(t, col, "%s", used ? buf : "-");
}

/* A container: its name when the runtime told it, else its short id. */
static void ctr_cell(struct table *t, unsigned col, json_t *c)
{
	if (json_string_length(json_object_get(c, "name")))
		table_cell(t, col, "%s", str(c, "name"));
	else
		table_cell(t, col, "%.12s", str(c, "id"));
}

static int show_ports(json_t *r, FILE *f)
{
	static const char *const hdr[] = { "UCMAC", "CONTAINER", "GROUP", "PORT",
					   "MODE",  "DROPPED",	 "ADDRS" };
	json_t *ports = json_object_get(r, "ports"), *p;
	struct table t;
	size_t i;

	table_init(&t, 7);
	table_header(&t, hdr);
	json_array_foreach(ports, i, p) {
		json_t *c = json_object_get(p, "container");

		if (!table_row(&t))
			break;
		table_cell(&t, 0, "%s", str(p, "ucmac"));
		ctr_cell(&t, 1, c);
		table_cell(&t, 2, "%s", str(c, "group"));
		table_cell(&t, 3, "%s", str(p, "ifname"));
		table_cell(&t, 4, "%s", str(p, "mode"));
		if (json_is_integer(json_object_get(p, "dropped")))
			table_cell(&t, 5, "%lld", num(p, "dropped"));
		else
			table_cell(&t, 5, "-");
		addrs_cell(&t, 6, json_object_get(p, "addrs"));
	}
	table_print(&t, f);
	return 0;
}

/* ---- sessions ---- */

static void session_row(struct table *t, json_t *s)
{
	static const char *const cols[] = { "transport", "src",	 "sport",    "dst",
					    "dport",	 "app",	 "packets",  "bytes",
					    "verdict",	 "rule", "tcp_state" };

	ctr_cell(t, 0, json_object_get(s, "container"));
	for (unsigned c = 0; c < ARRAY_SIZE(cols); c++) {
		json_t *v = json_object_get(s, cols[c]);

		if (json_is_integer(v))
			table_cell(t, c + 1, "%lld", (long long)json_integer_value(v));
		else if (json_is_string(v))
			table_cell(t, c + 1, "%s", json_string_value(v));
	}
}

static int show_sessions(json_t *r, FILE *f)
{
	static const char *const hdr[] = { "CONTAINER", "PROTO",   "SRC",  "SPORT",
					   "DST",	"DPORT",   "APP",  "PKTS",
					   "BYTES",	"VERDICT", "RULE", "STATE" };
	json_t *ss = json_object_get(r, "sessions"), *s;
	struct table t;
	size_t i;

	table_init(&t, 12);
	table_header(&t, hdr);
	json_array_foreach(ss, i, s)
		if (table_row(&t))
			session_row(&t, s);
	table_print(&t, f);
	if (json_is_true(json_object_get(r, "truncated")))
		fprintf(f, "(%zu of %lld live sessions; see --limit)\n", json_array_size(ss),
			num(r, "live"));
	return 0;
}

/* ---- stats ---- */

/*
 * One row per counter of section, or of its object sub (apps, threats:
 * only those seen), named "<label>.<counter>".
 */
static void stats_section(struct table *t, json_t *total, json_t *workers, const char *section,
			  const char *sub, const char *label)
{
	json_t *tot = json_object_get(total, section);
	const char *key;
	json_t *v, *w;
	size_t i;

	if (sub)
		tot = json_object_get(tot, sub);
	json_object_foreach(tot, key, v) {
		if (!json_is_integer(v) || (sub && json_integer_value(v) == 0))
			continue;
		if (!table_row(t))
			return;
		table_cell(t, 0, "%s.%s", label, key);
		table_cell(t, 1, "%lld", (long long)json_integer_value(v));
		json_array_foreach(workers, i, w) {
			json_t *sec = json_object_get(w, section);

			if (sub)
				sec = json_object_get(sec, sub);
			table_cell(t, 2 + (unsigned)i, "%lld", num(sec, key));
		}
	}
}

static int show_stats(json_t *r, FILE *f)
{
	json_t *total = json_object_get(r, "total"), *workers = json_object_get(r, "workers");
	unsigned ncols = 2 + (unsigned)json_array_size(workers);
	struct table t;

	table_init(&t, ncols);
	if (table_row(&t)) {
		table_cell(&t, 0, "COUNTER");
		table_cell(&t, 1, "TOTAL");
		for (unsigned c = 2; c < ncols; c++)
			table_cell(&t, c, "WORKER%u", c - 2);
	}
	stats_section(&t, total, workers, "inspect", NULL, "inspect");
	stats_section(&t, total, workers, "inspect", "app_found", "app");
	stats_section(&t, total, workers, "inspect", "threats", "threat");
	stats_section(&t, total, workers, "worker", NULL, "worker");
	stats_section(&t, total, workers, "sessions", NULL, "sessions");
	table_print(&t, f);
	return 0;
}

/* ---- policy ---- */

static int show_policy(json_t *r, FILE *f)
{
	char *s = json_dumps(json_object_get(r, "policy"), JSON_INDENT(2));

	if (!s) {
		return err_set(-EPROTO, "the reply has no policy");
	}
	fprintf(f, "%s\n", s);
	free(s);
	return 0;
}

static int show_reload(json_t *r, FILE *f)
{
	fprintf(f, "policy %s loaded: %lld rules\n", str(r, "path"), num(r, "rules"));
	return 0;
}

int ctl_show(enum ctl_cmd cmd, json_t *reply, FILE *f)
{
	static int (*const show[CTL_CMD_MAX])(json_t * r, FILE * f) = {
		[CTL_STATUS] = show_status,	 [CTL_PORTS] = show_ports,
		[CTL_SESSIONS] = show_sessions,	 [CTL_STATS] = show_stats,
		[CTL_POLICY_SHOW] = show_policy, [CTL_POLICY_RELOAD] = show_reload,
	};

	return show[cmd](reply, f);
}
