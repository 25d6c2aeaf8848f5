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

/* Appends to a bounded buffer; the result is cut, never overrun. */
struct out {
	char *buf;
	size_t len, used;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->used >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used += (size_t)n < o->len - o->used ? (size_t)n : o->len - o->used - 1;
}

/* A JSON string of untrusted text (an SNI, a container id). */
static void put_str(struct out *o, const char *key, const char *s)
{
	put(o, ",\"%s\":\"", key);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			put(o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			put(o, "\\u%04x", c);
		else
			put(o, "%c", c);
	}
	put(o, "\"");
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

	inet_ntop(family, src, c, sizeof(c));
	inet_ntop(family, dst, d, sizeof(d));
	put(o, "\"transport\":\"%s\",\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\",\"dport\":%u",
	    transport_name(proto), c, sport, d, dport);
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

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	put(o, ",\"%s\":\"%s.%06lldZ\"", key, when, (long long)(ns % 1000000000LL) / 1000);
}

static void put_ctr(struct out *o, const struct wl_ctr *c)
{
	put(o, ",\"container\":{\"id\":\"%.64s\"", c->id);
	put_str(o, "name", c->name);
	put_str(o, "group", c->group);
	if (c->k8s_pod[0]) {
		put_str(o, "k8s_pod", c->k8s_pod);
		put_str(o, "k8s_namespace", c->k8s_namespace);
		put_str(o, "k8s_container", c->k8s_container);
	}
	put(o, "}");
}

size_t slog_format(const struct session *s, enum slog_event ev, const struct slog_clock *clk,
		   char *buf, size_t len)
{
	struct out o = { buf, len > 1 ? len - 1 : 0, 0 }; /* room for the newline */

	put(&o, "{");
	put_session_endpoints(&o, s);
	put(&o, ",\"app\":\"%s\"", app_name(s->app.app));
	if (s->sni && s->sni[0])
		put_str(&o, "sni", s->sni);
	put(&o, ",\"packets\":%llu,\"bytes\":%llu,\"verdict\":\"%s\",\"rule\":%u",
	    (unsigned long long)(s->pkts[0] + s->pkts[1]),
	    (unsigned long long)(s->bytes[0] + s->bytes[1]),
	    s->verdict == VERDICT_DENY ? "deny" : "allow", s->rule);
	put(&o, ",\"event\":\"%s\"", ev == SLOG_VIOLATION ? "violation" : "session");
	put(&o,
	    ",\"client_packets\":%llu,\"client_bytes\":%llu,\"server_packets\":%llu,"
	    "\"server_bytes\":%llu",
	    (unsigned long long)s->pkts[0], (unsigned long long)s->bytes[0],
	    (unsigned long long)s->pkts[1], (unsigned long long)s->bytes[1]);
	if (s->key.proto == IPPROTO_TCP)
		put(&o, ",\"tcp_state\":\"%s\"", session_tcp_state_name(s->tcp_state));
	if (s->bypass == SB_ON || s->bypass == SB_WAS || s->bypass == SB_KEPT)
		put(&o, ",\"bypassed\":true");
	if (clk) {
		put_time(&o, "start", clk->wall_ns - (int64_t)(clk->session_ns - s->first_ns));
		put_time(&o, "last", clk->wall_ns - (int64_t)(clk->session_ns - s->last_ns));
		put_time(&o, "time", clk->wall_ns);
	}
	if (s->ctr)
		put_ctr(&o, s->ctr);
	put(&o, "}");
	buf[o.used++] = '\n';
	buf[o.used] = '\0';
	return o.used;
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
	struct out o = { buf, len > 1 ? len - 1 : 0, 0 }; /* room for the newline */
	const struct pkt *p = t->p;

	put(&o, "{\"threat\":\"%s\",\"severity\":\"%s\",", t->threat, t->severity);
	if (t->s)
		put_session_endpoints(&o, t->s);
	else
		put_endpoints(&o, p->family, p->proto, p->src, p->sport, p->dst, p->dport);
	put(&o, ",\"app\":\"%s\",\"action\":\"%s\"", app_name(t->s ? t->s->app.app : APP_UNKNOWN),
	    t->action);
	put_str(&o, "evidence", t->evidence);
	if (clk)
		put_time(&o, "time", clk->wall_ns);
	if (t->ctr)
		put_ctr(&o, t->ctr);
	put(&o, "}");
	buf[o.used++] = '\n';
	buf[o.used] = '\0';
	return o.used;
}

void slog_write_threat(struct slog *l, const struct slog_threat *t, const struct slog_clock *clk)
{
	char line[SLOG_LINE_MAX];
	size_t n = slog_format_threat(t, clk, line, sizeof(line));

	if (write(atomic_load(&l->fd), line, n) < 0)
		return;
}
