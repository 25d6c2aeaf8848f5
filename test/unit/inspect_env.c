// SPDX-License-Identifier: Apache-2.0
/* The fixture of the suites that run frames through inspect_frame: see inspect_env.h. */
#include <arpa/inet.h>
#include <check.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect_env.h"
#include "lib/core/state.h"

/* ---- frames ---- */

uint8_t *ip4(struct frame *f, const struct ep *a, const struct ep *b, uint8_t proto, uint16_t id,
	     uint16_t frag, size_t l4_len)
{
	uint8_t *ip = f->b + 14;

	memcpy(f->b, b->mac, 6);
	memcpy(f->b + 6, a->mac, 6);
	put16(f->b + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4_len));
	put16(ip + 4, id);
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, a->ip, ip + 12);
	inet_pton(AF_INET, b->ip, ip + 16);
	f->len = 14 + 20 + l4_len;
	return ip + 20;
}

/* the directions the tests' segments went, and where each goes on */
static struct dir_seq {
	char a[16], b[16];
	uint16_t pa, pb;
	uint32_t next;
} dirs[64];
static size_t n_dirs;

static struct dir_seq *dir_of(const struct ep *a, const struct ep *b)
{
	struct dir_seq *d;

	for (size_t i = 0; i < n_dirs; i++) {
		d = &dirs[i];
		if (!strcmp(d->a, a->ip) && !strcmp(d->b, b->ip) && d->pa == a->port &&
		    d->pb == b->port)
			return d;
	}
	d = &dirs[n_dirs < 64 ? n_dirs++ : 63];
	snprintf(d->a, sizeof(d->a), "%s", a->ip);
	snprintf(d->b, sizeof(d->b), "%s", b->ip);
	d->pa = a->port;
	d->pb = b->port;
	d->next = 1001;
	return d;
}

uint32_t seq_next(const struct ep *a, const struct ep *b)
{
	return dir_of(a, b)->next;
}

/* The sequence number of s from a to b; the direction goes on after it. */
static uint32_t seq_of(const struct ep *a, const struct ep *b, const struct seg *s)
{
	struct dir_seq *d = dir_of(a, b);
	uint32_t seq = s->at ? s->seq : d->next;

	if (s->flags & TCPF_SYN) {
		seq = s->at ? s->seq : 1000;
		d->next = seq + 1;
	}
	if (!s->at && !(s->flags & TCPF_SYN))
		d->next = seq + (uint32_t)s->len;
	else if (s->flags & TCPF_SYN)
		d->next += (uint32_t)s->len;
	return seq;
}

void tcp(struct frame *f, const struct ep *a, const struct ep *b, const struct seg *s)
{
	size_t hlen = 20 + (s->mss ? 4 : 0) + (s->wscale ? 4 : 0);
	uint8_t *t = ip4(f, a, b, IPPROTO_TCP, 1, 0, hlen + s->len);

	memset(t, 0, hlen);
	put16(t, a->port);
	put16(t + 2, b->port);
	put32(t + 4, seq_of(a, b, s));
	put32(t + 8, (s->flags & TCPF_ACK) ? 2000 : 0);
	t[12] = (uint8_t)(hlen / 4) << 4;
	t[13] = s->flags;
	put16(t + 14, s->win);
	if (s->mss) {
		t[20] = 2;
		t[21] = 4;
		put16(t + 22, s->mss);
	}
	if (s->wscale) { /* NOP, then kind 3 */
		uint8_t *o = t + (s->mss ? 24 : 20);

		o[0] = 1;
		o[1] = 3;
		o[2] = 3;
		o[3] = (uint8_t)(s->wscale - 1);
	}
	if (s->len)
		memcpy(t + hlen, s->data, s->len);
}

/* ---- an inspector with two ports (10.0.0.2 fwd, 10.0.0.3 tap) and a log ---- */

struct inspector in;
struct policy *pol;
struct workloads *wl;
static struct slog *lg;
/*
 * Each env_up's state folder lives in one folder of the test program's,
 * removed when the program (not a forked test) exits: a test that fails
 * leaves its forked process without env_down.
 */
static char run_dir[] = "/tmp/pc-threat-XXXXXX";
static pid_t run_pid;
static char state_dir[sizeof(run_dir) + 16];
static char log_path[64];

static void add_port(unsigned long ino, enum pc_mode mode, const char *addr)
{
	struct state_rec rec = { .ns_ino = ino, .mode = mode };
	struct state_ctr ctr = { .pid = 7 };

	ck_assert_int_eq(state_set_ports(&rec, 1), 0);
	snprintf(rec.ports[0].name, sizeof(rec.ports[0].name), "eth0");
	snprintf(rec.ports[0].ucmac, sizeof(rec.ports[0].ucmac), "02:70:00:00:00:%02lx", ino);
	rec.ports[0].n_addrs = 1;
	snprintf(rec.ports[0].addrs[0], STATE_ADDR_STR, "%s/24", addr);
	snprintf(ctr.id, sizeof(ctr.id), "ctr%lu", ino);
	snprintf(ctr.name, sizeof(ctr.name), "web%lu", ino);
	snprintf(ctr.group, sizeof(ctr.group), "g%lu", ino);
	ck_assert_int_eq(state_add_ctr(&rec, &ctr), 0);
	ck_assert_int_eq(state_save(state_dir, &rec), 0);
	state_rec_free(&rec);
}

/* A pod of namespace ns: its sandbox (named as the pod) and a container "app". */
static void add_pod(unsigned long ino, const char *addr, const char *ns, const char *pod)
{
	struct state_rec rec = { .ns_ino = ino, .mode = MODE_FWD };
	struct state_ctr sb = { .pid = 7, .sandbox = true }, app = { .pid = 8 };

	ck_assert_int_eq(state_set_ports(&rec, 1), 0);
	snprintf(rec.ports[0].name, sizeof(rec.ports[0].name), "eth0");
	snprintf(rec.ports[0].ucmac, sizeof(rec.ports[0].ucmac), "02:70:00:00:00:%02lx", ino);
	rec.ports[0].n_addrs = 1;
	snprintf(rec.ports[0].addrs[0], STATE_ADDR_STR, "%s/24", addr);
	snprintf(sb.id, sizeof(sb.id), "pod%lu", ino);
	snprintf(sb.name, sizeof(sb.name), "%s", pod);
	snprintf(sb.k8s_namespace, sizeof(sb.k8s_namespace), "%s", ns);
	snprintf(sb.k8s_pod, sizeof(sb.k8s_pod), "%s", pod);
	snprintf(app.id, sizeof(app.id), "app%lu", ino);
	snprintf(app.name, sizeof(app.name), "app");
	snprintf(app.k8s_container, sizeof(app.k8s_container), "app");
	snprintf(app.k8s_namespace, sizeof(app.k8s_namespace), "%s", ns);
	snprintf(app.k8s_pod, sizeof(app.k8s_pod), "%s", pod);
	ck_assert_int_eq(state_add_ctr(&rec, &sb), 0);
	ck_assert_int_eq(state_add_ctr(&rec, &app), 0);
	ck_assert_int_eq(state_save(state_dir, &rec), 0);
	state_rec_free(&rec);
}

void env_up(const char *policy_json, bool threats)
{
	env_up_max(policy_json, threats, 4096);
}

void env_up_max(const char *policy_json, bool threats, size_t max_sessions)
{
	n_dirs = 0;
	ck_assert_msg(run_dir[0], "no folder for the tests' state in /tmp");
	snprintf(state_dir, sizeof(state_dir), "%s/env-XXXXXX", run_dir);
	ck_assert_ptr_nonnull(mkdtemp(state_dir));
	add_port(1, MODE_FWD, "10.0.0.2");
	add_port(2, MODE_TAP, "10.0.0.3");
	add_pod(3, "10.0.0.4", "shop", "web-0");
	add_pod(4, "10.0.0.5", "bank", "web-0");
	ck_assert_int_eq(workloads_load(state_dir, &wl), 0);
	ck_assert_int_eq(policy_parse(policy_json, strlen(policy_json), &pol), 0);
	snprintf(log_path, sizeof(log_path), "%s/log", state_dir);
	ck_assert_int_eq(slog_open(log_path, &lg), 0);
	ck_assert_int_eq(inspector_init(&in, max_sessions, pol, wl, NULL), 0);
	cur = &in;
	if (threats)
		ck_assert_int_eq(inspect_threats_on(&in, lg, NULL), 0);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

__attribute__((constructor)) static void run_dir_make(void)
{
	run_pid = getpid();
	if (!mkdtemp(run_dir))
		run_dir[0] = '\0';
}

__attribute__((destructor)) static void run_dir_remove(void)
{
	if (getpid() == run_pid && run_dir[0])
		nftw(run_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

void env_down(void)
{
	inspector_fini(&in);
	slog_close(lg);
	policy_free(pol);
	workloads_free(wl);
	nftw(state_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

const char *const ALLOW = "{\"default\": \"allow\"}";

struct inspect_result last;
struct inspector *cur = &in;

struct slog *env_log(void)
{
	return lg;
}

void send_frame(const struct frame *f, uint64_t now)
{
	inspect_frame(cur, f->b, f->len, f->len, now, &last);
}

void send_tcp(const struct ep *a, const struct ep *b, const struct seg *s, uint64_t now)
{
	struct frame f;

	tcp(&f, a, b, s);
	send_frame(&f, now);
}

int threat_lines(const char *name, char *line, size_t size)
{
	FILE *fp = fopen(log_path, "r");
	char buf[4096], want[64];
	int n = 0;

	ck_assert_ptr_nonnull(fp);
	if (name)
		snprintf(want, sizeof(want), "{\"threat\":\"%s\"", name);
	else
		snprintf(want, sizeof(want), "{\"threat\":\"");
	while (fgets(buf, sizeof(buf), fp)) {
		if (strncmp(buf, want, strlen(want)) != 0)
			continue;
		n++;
		if (line)
			snprintf(line, size, "%s", buf);
	}
	fclose(fp);
	return n;
}

void handshake(const struct ep *c, const struct ep *s, uint64_t now)
{
	send_tcp(c, s, &(struct seg){ .flags = TCPF_SYN, .win = 64240, .mss = 1460 }, now);
	send_tcp(s, c, &(struct seg){ .flags = TCPF_SYN | TCPF_ACK, .win = 65160, .mss = 1460 },
		 now);
	send_tcp(c, s, &(struct seg){ .flags = TCPF_ACK, .win = 502 }, now);
}
