// SPDX-License-Identifier: Apache-2.0
/* The session log: JSON lines, one write(2) each. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "slog.h"
#include "workload.h"
#include "dp/app/app.h"
#include "lib/core/err.h"

struct slog {
	char *path; /* NULL: stdout */
	atomic_int fd;
};

static int open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	return fd < 0 ? err_set(-errno, "session log %s", path) : fd;
}

int slog_open(const char *path, struct slog **out)
{
	struct slog *l = calloc(1, sizeof(*l));
	int fd = STDOUT_FILENO;

	if (!l)
		return err_set(-ENOMEM, "session log");
	if (strcmp(path, "-") != 0) {
		l->path = strdup(path);
		fd = l->path ? open_log(path) : err_set(-ENOMEM, "session log");
		if (fd < 0) {
			free(l->path);
			free(l);
			return fd;
		}
	}
	atomic_init(&l->fd, fd);
	*out = l;
	return 0;
}

int slog_replace(struct slog *l, int fd)
{
	int ret = 0;

	/* the descriptor number stays: a worker's write goes to one file or the other */
	if (l->path && dup3(fd, atomic_load(&l->fd), O_CLOEXEC) < 0)
		ret = err_set(-errno, "session log %s: dup3", l->path);
	close(fd);
	return ret;
}

int slog_reopen(struct slog *l)
{
	int fd;

	if (!l->path)
		return 0;
	fd = open_log(l->path);
	return fd < 0 ? fd : slog_replace(l, fd);
}

void slog_close(struct slog *l)
{
	if (!l)
		return;
	if (l->path)
		close(atomic_load(&l->fd));
	free(l->path);
	free(l);
}

/* Appends to a bounded buffer; never overrun: past its end, cut is set. */
struct out {
	char *buf;
	size_t len, used;
	bool cut;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->used >= o->len) {
		o->cut = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->used) {
		o->cut = true;
		o->used = o->len;
		return;
	}
	o->used += (size_t)n;
}

/* The length of the well-formed UTF-8 sequence at p (RFC 3629), 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* no overlong forms */
	else if (c == 0xed)
		hi = 0x9f; /* no surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f; /* nothing past U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) /* a NUL stops it here: 0 is no continuation byte */
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * s as the inside of a JSON string, into dst[max + 4]: '"' and '\'
 * backslashed, control bytes and DEL as \u00XX, well-formed UTF-8 as it
 * is, any other byte as \ufffd; at most max bytes of that, cut after a
 * whole character with "..." when longer.  Every string of a log line
 * goes through here: whatever a name, an id or an SNI holds, the line
 * stays one valid JSON object.
 */
static size_t json_escape(const char *s, char *dst, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t used = 0;

	while (*p) {
		char piece[8];
		size_t n = utf8_len(p), take = n ? n : 1;

		if (*p == '"' || *p == '\\')
			n = (size_t)snprintf(piece, sizeof(piece), "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			n = (size_t)snprintf(piece, sizeof(piece), "\\u%04x", *p);
		else if (!n)
			n = (size_t)snprintf(piece, sizeof(piece), "\\ufffd");
		else
			memcpy(piece, p, n);
		if (used + n > max - 3 && (used + n > max || p[take])) {
			memcpy(dst + used, "...", 3);
			used += 3;
			break;
		}
		memcpy(dst + used, piece, n);
		used += n;
		p += take;
	}
	dst[used] = '\0';
	return used;
}

/* ,"key":"s" (sep ",", or "" for the first member), s escaped by json_escape. */
static void put_str(struct out *o, const char *sep, const char *key, const char *s)
{
	char esc[SLOG_STR_MAX + 4];

	json_escape(s, esc, SLOG_STR_MAX);
	put(o, "%s\"%s\":\"%s\"", sep, key, esc);
}

static const char *transport_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	default:
		return "icmpv6";
	}
}

static void put_endpoints(struct out *o, uint8_t family, uint8_t proto, const uint8_t *src,
			  uint16_t sport, const uint8_t *dst, uint16_t dport)
{
	char c[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, src, c, sizeof(c)))
		c[0] = '\0';
	if (!inet_ntop(family, dst, d, sizeof(d)))
		d[0] = '\0';
	put_str(o, "", "transport", transport_name(proto));
	put_str(o, ",", "src", c);
	put(o, ",\"sport\":%u", sport);
	put_str(o, ",", "dst", d);
	put(o, ",\"dport\":%u", dport);
}

/* The session's ends, its opener first. */
static void put_session_endpoints(struct out *o, const struct session *s)
{
	const struct flow_key *k = &s->key;

	put_endpoints(o, k->family, k->proto, s->client_is_a ? k->addr_a : k->addr_b,
		      s->client_is_a ? k->port_a : k->port_b,
		      s->client_is_a ? k->addr_b : k->addr_a,
		      s->client_is_a ? k->port_b : k->port_a);
}

static void put_time(struct out *o, const char *key, int64_t ns)
{
	time_t secs = (time_t)(ns / 1000000000LL);
	struct tm tm;
	char when[32];

	char stamp[48];

	if (!gmtime_r(&secs, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(when, sizeof(when), "?");
	snprintf(stamp, sizeof(stamp), "%s.%06lldZ", when,
		 (long long)(ns % 1000000000LL < 0 ? 0 : ns % 1000000000LL) / 1000);
	put_str(o, ",", key, stamp);
}

static void put_ctr(struct out *o, const struct wl_ctr *c)
{
	put(o, ",\"container\":{");
	put_str(o, "", "id", c->id);
	put_str(o, ",", "name", c->name);
	put_str(o, ",", "group", c->group);
	if (c->k8s_pod[0] || c->k8s_namespace[0]) {
		put_str(o, ",", "k8s_pod", c->k8s_pod);
		put_str(o, ",", "k8s_namespace", c->k8s_namespace);
		put_str(o, ",", "k8s_container", c->k8s_container);
	}
	put(o, "}");
}

/* A buffer of less than two bytes holds no line: an empty string, if even that. */
static size_t no_room(char *buf, size_t len)
{
	if (len)
		buf[0] = '\0';
	return 0;
}

/* Close the line: its object, a newline, a NUL; a line that did not fit becomes one that does. */
static size_t line_end(struct out *o)
{
	static const char cut[] = "{\"error\":\"log line cut\"}";

	put(o, "}");
	if (o->cut) {
		o->used = sizeof(cut) - 1 < o->len ? sizeof(cut) - 1 : 0;
		memcpy(o->buf, cut, o->used);
	}
	o->buf[o->used++] = '\n';
	o->buf[o->used] = '\0';
	return o->used;
}

size_t slog_format(const struct session *s, enum slog_event ev, const struct slog_clock *clk,
		   char *buf, size_t len)
{
	struct out o = { buf, len > 2 ? len - 2 : 0, 0, false }; /* room for "\n\0" */

	if (len < 2)
		return no_room(buf, len);
	put(&o, "{");
	put_session_endpoints(&o, s);
	put_str(&o, ",", "app", app_name(s->app.app));
	if (s->sni && s->sni[0])
		put_str(&o, ",", "sni", s->sni);
	put(&o, ",\"packets\":%llu,\"bytes\":%llu", (unsigned long long)(s->pkts[0] + s->pkts[1]),
	    (unsigned long long)(s->bytes[0] + s->bytes[1]));
	put_str(&o, ",", "verdict", s->verdict == VERDICT_DENY ? "deny" : "allow");
	put(&o, ",\"rule\":%u", s->rule);
	put_str(&o, ",", "event", ev == SLOG_VIOLATION ? "violation" : "session");
	put(&o,
	    ",\"client_packets\":%llu,\"client_bytes\":%llu,\"server_packets\":%llu,"
	    "\"server_bytes\":%llu",
	    (unsigned long long)s->pkts[0], (unsigned long long)s->bytes[0],
	    (unsigned long long)s->pkts[1], (unsigned long long)s->bytes[1]);
	if (s->key.proto == IPPROTO_TCP)
		put_str(&o, ",", "tcp_state", session_tcp_state_name(s->tcp_state));
	if (s->bypass == SB_ON || s->bypass == SB_WAS || s->bypass == SB_KEPT)
		put(&o, ",\"bypassed\":true");
	if (clk) {
		put_time(&o, "start", clk->wall_ns - (int64_t)(clk->session_ns - s->first_ns));
		put_time(&o, "last", clk->wall_ns - (int64_t)(clk->session_ns - s->last_ns));
		put_time(&o, "time", clk->wall_ns);
	}
	if (s->ctr)
		put_ctr(&o, s->ctr);
	return line_end(&o);
}

void slog_write(struct slog *l, const struct session *s, enum slog_event ev,
		const struct slog_clock *clk)
{
	char line[SLOG_LINE_MAX];
	size_t n = slog_format(s, ev, clk, line, sizeof(line));

	/* one write per line; a short write to a full disk loses the line */
	if (write(atomic_load(&l->fd), line, n) < 0)
		return;
}

size_t slog_format_threat(const struct slog_threat *t, const struct slog_clock *clk, char *buf,
			  size_t len)
{
	struct out o = { buf, len > 2 ? len - 2 : 0, 0, false }; /* room for "\n\0" */
	const struct pkt *p = t->p;

	if (len < 2)
		return no_room(buf, len);
	put(&o, "{");
	put_str(&o, "", "threat", t->threat);
	put_str(&o, ",", "severity", t->severity);
	put(&o, ",");
	if (t->s)
		put_session_endpoints(&o, t->s);
	else
		put_endpoints(&o, p->family, p->proto, p->src, p->sport, p->dst, p->dport);
	put_str(&o, ",", "app", app_name(t->s ? t->s->app.app : APP_UNKNOWN));
	put_str(&o, ",", "action", t->action);
	put_str(&o, ",", "evidence", t->evidence);
	if (clk)
		put_time(&o, "time", clk->wall_ns);
	if (t->ctr)
		put_ctr(&o, t->ctr);
	return line_end(&o);
}

void slog_write_threat(struct slog *l, const struct slog_threat *t, const struct slog_clock *clk)
{
	char line[SLOG_LINE_MAX];
	size_t n = slog_format_threat(t, clk, line, sizeof(line));

	if (write(atomic_load(&l->fd), line, n) < 0)
		return;
}
