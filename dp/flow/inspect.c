// SPDX-License-Identifier: Apache-2.0
/* Per-frame inspection: decode, port, session, application, policy, verdict. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "inspect.h"
#include "dp/threat/threat.h"
#include "lib/core/err.h"
#include "lib/core/log.h"

#define NS_PER_S 1000000000ULL
#define FULL_SAY_EVERY_NS (10 * NS_PER_S)

/* Now, for a log line: NULL when sessions run on capture time. */
static const struct slog_clock *log_clock(const struct inspector *in, struct slog_clock *c)
{
	if (!in->wall_clock)
		return NULL;
	c->wall_ns = clock_wall_ns();
	c->session_ns = clock_mono_ns();
	return c;
}

/* Add the kernel's counts (a -> b, b -> a) to s; returns its latest frame's time. */
static uint64_t add_kernel_counts(struct session *s, struct pc_bypass ab, struct pc_bypass ba)
{
	const struct pc_bypass *c = s->client_is_a ? &ab : &ba, *v = s->client_is_a ? &ba : &ab;

	s->pkts[0] += c->frames;
	s->bytes[0] += c->bytes;
	s->pkts[1] += v->frames;
	s->bytes[1] += v->bytes;
	return ab.last_ns > ba.last_ns ? ab.last_ns : ba.last_ns;
}

/*
 * Take s back from the kernel: its frames reach the data plane again.  What
 * the kernel forwarded meanwhile is added to s; leaving: s is off its
 * class list (being recycled), so only its last-seen time is set.
 */
static void unbypass(struct inspector *in, struct session *s, bool leaving)
{
	struct pc_bypass got[2];
	uint64_t last;

	if (s->bypass != SB_ON)
		return;
	bypass_del(in->bypass, &s->key, s->bypass_mac, got);
	last = add_kernel_counts(s, got[0], got[1]);
	if (leaving)
		s->last_ns = last > s->last_ns ? last : s->last_ns;
	else
		session_seen(in->sessions, s, last);
	s->bypass = SB_WAS;
	in->st.bypass_ended++;
}

const struct session *inspect_live_view(const struct inspector *in, const struct session *s,
					struct session *tmp)
{
	struct pc_bypass got[2];
	uint64_t last;

	if (s->bypass != SB_ON || !bypass_on(in->bypass))
		return s;
	*tmp = *s;
	bypass_peek(in->bypass, &s->key, s->bypass_mac, got);
	last = add_kernel_counts(tmp, got[0], got[1]);
	if (last > tmp->last_ns)
		tmp->last_ns = last;
	return tmp;
}

/* Before s expires as idle: when the kernel forwarded its last frame. */
static uint64_t bypass_seen(struct session *s, void *arg)
{
	struct inspector *in = arg;

	return s->bypass == SB_ON ? bypass_last_ns(in->bypass, &s->key, s->bypass_mac) : 0;
}

/*
 * Which directions of s, seen at a tap or fwd port, are done with (BYPASS_A_TO_B,
 * BYPASS_B_TO_A; 0: none): s allowed for good, its app known, an
 * established TCP or a UDP session past the byte threshold, and no detector
 * left for that direction's payload.
 */
static unsigned bypass_ready(const struct inspector *in, const struct session *s)
{
	unsigned from_client = s->client_is_a ? BYPASS_A_TO_B : BYPASS_B_TO_A;
	unsigned from_server = s->client_is_a ? BYPASS_B_TO_A : BYPASS_A_TO_B;

	if (s->verdict != VERDICT_ALLOW || s->provisional || !s->app.done)
		return 0;
	if (s->key.proto == IPPROTO_TCP ? s->tcp_state != TS_ESTABLISHED
					: s->key.proto != IPPROTO_UDP)
		return 0;
	if (s->bytes[0] + s->bytes[1] < in->bypass->after_bytes)
		return 0;
	if (!in->threats)
		return from_client | from_server;
	return (threat_payload_done(s, true) ? from_client : 0) |
	       (threat_payload_done(s, false) ? from_server : 0);
}

static void bypass_maybe(struct inspector *in, struct session *s, const struct workload *port,
			 const struct pkt *p, bool from_client)
{
	uint16_t watch[2] = { 0, 0 }, below;
	unsigned dirs;

	if (s->bypass == SB_ON) {
		/* a FIN or RST crossed the data plane: the rest is its too */
		if (s->key.proto == IPPROTO_TCP && s->tcp_state != TS_ESTABLISHED) {
			unbypass(in, s, false);
		} else if (in->threats && from_client && !(p->tcp_flags & (TCPF_SYN | TCPF_RST)) &&
			   p->window < threat_small_window_raw(s)) {
			/* what the kernel takes back for tcp_small_window (watch) */
			unbypass(in, s, false);
			s->bypass = SB_KEPT;
			in->st.bypass_kept++;
		}
		return;
	}
	if (s->bypass == SB_REFUSED || s->bypass == SB_KEPT || !port ||
	    (port->mode != MODE_FWD && port->mode != MODE_TAP))
		return;
	dirs = bypass_ready(in, s);
	if (!dirs)
		return;
	below = in->threats ? threat_small_window_raw(s) : 0;
	watch[s->client_is_a ? 0 : 1] = below; /* the client's segments */
	if (bypass_add(in->bypass, &s->key, port->ucmac, dirs, watch) < 0) {
		s->bypass = SB_REFUSED; /* not a system call per frame while the map is full */
		in->st.bypass_failed++;
		return;
	}
	memcpy(s->bypass_mac, port->ucmac, sizeof(s->bypass_mac));
	s->bypass = SB_ON;
	in->st.bypassed++;
}

static void session_done(struct session *s, void *arg)
{
	struct inspector *in = arg;
	struct slog_clock c;

	unbypass(in, s, true);
	reasm_dir_free(&in->reasm, &s->stream[0]);
	reasm_dir_free(&in->reasm, &s->stream[1]);
	if (in->threats)
		threat_session_end(in->threats, s);
	if (in->log)
		slog_write(in->log, s, SLOG_SESSION, log_clock(in, &c));
}

int inspector_init(struct inspector *in, size_t max_sessions, const struct policy *pol,
		   const struct workloads *wl, struct slog *log)
{
	struct session_timeouts to;

	memset(in, 0, sizeof(*in));
	session_timeouts_default(&to);
	in->sessions = session_table_new(max_sessions, &to);
	if (!in->sessions)
		return err_wrap(-ENOMEM, "session table of %zu", max_sessions);
	in->frags = fragtab_new();
	if (!in->frags) {
		session_table_free(in->sessions, NULL, NULL);
		in->sessions = NULL;
		return -ENOMEM;
	}
	in->max_sessions = max_sessions;
	in->provisional_bytes = INSPECT_PROVISIONAL_BYTES;
	inspect_stream_set(in, NULL, 0);
	in->policy = pol;
	in->wl = wl;
	in->log = log;
	return 0;
}

void inspector_fini(struct inspector *in)
{
	session_table_free(in->sessions, session_done, in);
	in->sessions = NULL;
	fragtab_free(in->frags);
	in->frags = NULL;
	threat_free(in->threats);
	in->threats = NULL;
}

int inspect_stream_set(struct inspector *in, struct reasm_pool *pool, uint32_t window)
{
	struct reasm_limits lim;

	reasm_limits_default(&lim);
	if (window)
		lim.window = window;
	if (!pool) {
		reasm_pool_init(&in->own_pool, REASM_POOL_DEFAULT);
		pool = &in->own_pool;
	}
	if (reasm_ctx_init(&in->reasm, pool, &lim) < 0)
		return err_set(-EINVAL, "reassembly window of %u bytes", window);
	in->stream = true;
	return 0;
}

int inspect_threats_on(struct inspector *in, struct slog *log, struct threat_shared *shared)
{
	if (in->threats)
		return 0;
	in->threats = threat_new(log, in->wall_clock, in->st.threats, shared);
	return in->threats ? 0 : err_set(-ENOMEM, "threat detection");
}

/*
 * The port a frame was seen at, by direction: the source UCMAC a port
 * wrote on the way out of its container, or the destination UCMAC on the
 * way in.  A frame with a UCMAC at both ends was written by nobody's port:
 * it has no port, and is dropped (counted in unknown_port).  The bpf
 * ports drop such frames before; the tc-pedit ones, which know only
 * their own UCMAC, leave a frame to another port's to this.
 */
static const struct workload *port_of(const struct inspector *in, const struct pkt *p,
				      bool *local_is_src)
{
	const struct workload *src = workloads_by_ucmac(in->wl, p->eth_src);
	const struct workload *dst = workloads_by_ucmac(in->wl, p->eth_dst);

	*local_is_src = src != NULL;
	if (src && dst)
		return NULL;
	return src ? src : dst;
}

static void peer_fill(const struct inspector *in, const struct session *s, bool side_a,
		      struct policy_peer *pp)
{
	const struct workload *w;
	const struct wl_ctr *c = NULL;

	memset(pp, 0, sizeof(*pp));
	pp->family = s->key.family;
	memcpy(pp->addr, side_a ? s->key.addr_a : s->key.addr_b, 16);
	if (s->local == (side_a ? 1 : 2))
		c = s->ctr;
	else if ((w = workloads_by_addr(in->wl, s->key.family, pp->addr)))
		c = w->ctr;
	if (!c)
		return;
	pp->internal = true;
	pp->id = c->id;
	pp->names = (const char *const *)c->names;
	pp->n_names = c->n_names;
	pp->group = c->group[0] ? c->group : NULL;
	pp->k8s_namespace = c->k8s_namespace[0] ? c->k8s_namespace : NULL;
	pp->k8s_pod = c->k8s_pod[0] ? c->k8s_pod : NULL;
}

static void decide(struct inspector *in, struct session *s)
{
	struct policy_flow f = { .proto = s->key.proto };
	struct policy_decision d;

	if (s->threat.flags & THREAT_SESS_CUT)
		return; /* cut by a threat's drop action: stays denied */
	peer_fill(in, s, s->client_is_a, &f.from);
	peer_fill(in, s, !s->client_is_a, &f.to);
	if (s->key.proto == IPPROTO_TCP || s->key.proto == IPPROTO_UDP)
		f.port = s->client_is_a ? s->key.port_b : s->key.port_a;
	f.app = (enum app_proto)s->app.app;
	f.app_final = s->app.done;
	f.app_possible = s->app.candidates | 1u << APP_UNKNOWN;
	policy_decide(in->policy, &f, &d);
	s->verdict = d.action == POLICY_DENY ? VERDICT_DENY : VERDICT_ALLOW;
	s->rule = d.rule;
	s->provisional = d.provisional;
}

/* The payload p carried: a snapped tap copy's too, by what it was cut from. */
static size_t payload_of(const struct pkt *p)
{
	return p->payload_len + (p->wire_len > p->len ? p->wire_len - p->len : 0);
}

/* Count p's payload against the provisional bound; whether the bound is now passed. */
static bool past_provisional(const struct inspector *in, struct session *s, const struct pkt *p,
			     bool from_client)
{
	uint32_t *n = &s->unid_bytes[from_client ? 0 : 1];
	size_t add = payload_of(p);

	*n = add >= UINT32_MAX - *n ? UINT32_MAX : *n + (uint32_t)add;
	return s->provisional && *n > in->provisional_bytes;
}

/* Identification is over (found, or given up): counted, and s decided again. */
static void identified(struct inspector *in, struct session *s, const struct app_info *info)
{
	in->st.app_found[s->app.app < APP_MAX ? s->app.app : 0]++;
	if (info && info->sni[0] && !s->sni)
		s->sni = strdup(info->sni);
	decide(in, s);
}

/* Feed data (a segment, or a stream from its start) to identification. */
static void identify_bytes(struct inspector *in, struct session *s, const uint8_t *data, size_t len,
			   bool from_client, bool stream, bool past)
{
	struct app_segment seg = {
		.data = data,
		.len = len,
		.transport = s->key.proto,
		.from_client = from_client,
		.client_port = s->client_is_a ? s->key.port_a : s->key.port_b,
		.server_port = s->client_is_a ? s->key.port_b : s->key.port_a,
		.stream = stream,
	};
	struct app_info info = { .sni = "" };
	uint16_t candidates = s->app.candidates;

	if (!app_feed(&s->app, &seg, &info)) {
		if (!past) {
			/* the parsers left may no longer include a waiting rule's app */
			if (s->provisional && s->app.candidates != candidates)
				decide(in, s);
			return;
		}
		/* what it may carry unidentified is spent: decided as if without an app */
		app_give_up(&s->app);
		in->st.provisional_cut++;
	}
	identified(in, s, &info);
}

static void identify(struct inspector *in, struct session *s, const struct pkt *p, bool from_client)
{
	bool past = past_provisional(in, s, p, from_client);

	identify_bytes(in, s, p->payload, p->payload_len, from_client, false, past);
}

/* ---- TCP streams: identification and detectors read each direction in order ---- */

#define STREAM_STARTED 0x1  /* sequence tracking started: at its SYN, or its first data */
#define STREAM_DATA 0x2	    /* a data segment was handed in */
#define STREAM_OFF 0x4	    /* nothing reads it any more: its segments go by */
#define STREAM_RESYNC 0x8   /* started over after lost bytes: the next view follows a gap */
#define STREAM_SNAPPED 0x10 /* a tap copy cut short: the gap after it never fills */
#define STREAM_GAP_AGE 64   /* segments a gap may stay open before it is crossed */

/* What the stream did with one frame, for its verdict. */
struct stream_out {
	bool streamed;	    /* its payload went to the stream (not read per segment) */
	bool drop;	    /* a detector's drop action on what the frame completed */
	bool refuse_drop;   /* fwd: new bytes not held (the limits): dropped, to come again */
	bool conflict_drop; /* fwd: known bytes resent with other content: dropped */
	uint32_t conflict;  /* bytes it resent with other content */
};

struct stream_call {
	struct inspector *in;
	struct inspect_result *r;
	struct session *s;
	bool from_client;
	uint64_t now_ns;
	struct stream_out *out;
};

/* Whether nothing reads this direction of s any more: identified, no detector left. */
static bool stream_unread(const struct inspector *in, const struct session *s, bool from_client)
{
	return s->app.done && (!in->threats || threat_payload_done(s, from_client));
}

static void stream_off(struct inspector *in, struct session *s, bool from_client)
{
	unsigned i = from_client ? 0 : 1;

	reasm_dir_stop(&in->reasm, &s->stream[i]);
	s->stream_st[i] |= STREAM_OFF;
}

/*
 * The sink of a direction: identification reads the stream from its start
 * (nothing consumed) until it is done; the detectors then read whole units
 * and consume them (threat_stream).
 */
static size_t stream_sink(void *arg, const struct reasm_view *v)
{
	struct stream_call *c = arg;
	struct inspector *in = c->in;
	struct session *s = c->s;
	struct threat_pkt tp = { .p = &c->r->pkt,
				 .s = s,
				 .from_client = c->from_client,
				 .port = c->r->port,
				 .pol = in->policy,
				 .now_ns = c->now_ns,
				 .data = v->data,
				 .len = v->len };
	uint8_t *st = &s->stream_st[c->from_client ? 0 : 1];
	unsigned flags = v->flags | ((*st & STREAM_RESYNC) ? REASM_VIEW_GAP : 0);
	size_t n;

	*st &= (uint8_t)~STREAM_RESYNC;
	if (!s->app.done && (flags & (REASM_VIEW_GAP | REASM_VIEW_TRUNCATED))) {
		/* the stream's start is lost: no parser can match from here */
		app_give_up(&s->app);
		in->st.stream_unid_cut++;
		identified(in, s, NULL);
	}
	if (!s->app.done) {
		identify_bytes(in, s, v->data, v->len, c->from_client, true, false);
		if (!s->app.done)
			return 0;
		if (stream_unread(in, s, !c->from_client))
			stream_off(in, s, !c->from_client);
	}
	if (stream_unread(in, s, c->from_client))
		return REASM_STOP;
	n = threat_stream(in->threats, &tp);
	c->out->drop |= tp.drop;
	return n == THREAT_STREAM_DONE ? REASM_STOP : n;
}

/* Cross the open gap of d: what follows it is read, the reader told.  The flags. */
static unsigned stream_skip(struct inspector *in, struct reasm_dir *d, struct stream_call *c)
{
	struct reasm_result res;
	unsigned f = reasm_skip_gap(&in->reasm, d, stream_sink, c, &res);

	if (f & REASM_GAP_SKIPPED) {
		in->st.stream_gaps_skipped++;
		in->st.stream_bytes_lost += res.lost;
	}
	return f;
}

/*
 * Count what reasm did, and act at its limits.  New bytes not held are
 * dropped at a fwd port (the sender sends them again, so no byte passes
 * unread); true elsewhere (a tap copy, a capture: they may never come
 * again).  A gap open for STREAM_GAP_AGE segments, or the one after a tap
 * copy cut short, is crossed.
 */
static bool stream_account(struct inspector *in, struct reasm_dir *d, struct stream_call *c,
			   const struct reasm_result *res)
{
	const struct workload *port = c->r->port;
	uint8_t *st = &c->s->stream_st[c->from_client ? 0 : 1];
	bool snapped = *st & STREAM_SNAPPED;

	in->st.stream_held += !!(res->flags & REASM_HELD);
	in->st.stream_dup += !!(res->flags & REASM_DUP);
	in->st.tcp_overlap += !!(res->flags & REASM_OVERLAP);
	in->st.stream_truncated += !!(res->flags & REASM_TRUNCATED);
	*st &= (uint8_t)~STREAM_SNAPPED;
	if (res->flags & REASM_CONFLICT) {
		c->out->conflict = res->conflict;
		/* the receiver may keep either version (Linux lets a later
		 * segment replace a queued one it covers): it gets none */
		c->out->conflict_drop = port && port->mode == MODE_FWD;
	}
	if (res->flags & REASM_REFUSED) {
		in->st.stream_refused++;
		if (!port || port->mode != MODE_FWD)
			return true;
		c->out->refuse_drop = true;
		return false;
	}
	if (res->gap_age > STREAM_GAP_AGE || (snapped && (res->flags & REASM_HELD)))
		stream_skip(in, d, c);
	return false;
}

/*
 * A tap copy or a capture whose new bytes the stream could not hold: they
 * may never come again.  What is held is read, then the direction starts
 * over at this segment, the reader told of the gap.
 */
static unsigned stream_restart(struct inspector *in, struct stream_call *c, uint32_t seq)
{
	const struct pkt *p = &c->r->pkt;
	struct reasm_dir *d = &c->s->stream[c->from_client ? 0 : 1];
	uint8_t *st = &c->s->stream_st[c->from_client ? 0 : 1];
	struct reasm_result res;
	unsigned f;

	do
		f = stream_skip(in, d, c);
	while ((f & REASM_GAP_SKIPPED) && !(f & REASM_STOPPED));
	if (f & REASM_STOPPED)
		return f;
	if (seq - d->next < (1u << 31))
		in->st.stream_bytes_lost += seq - d->next;
	in->st.stream_gaps_skipped++;
	reasm_dir_free(&in->reasm, d);
	reasm_dir_pickup(d, seq);
	*st |= STREAM_RESYNC;
	return reasm_segment(&in->reasm, d, seq, p->payload, p->payload_len, stream_sink, c, &res);
}

/* Hand r's TCP segment to its direction's stream, while something reads it. */
static void stream_segment(struct inspector *in, struct inspect_result *r, struct session *s,
			   bool from_client, uint64_t now_ns, struct stream_out *out)
{
	const struct pkt *p = &r->pkt;
	unsigned i = from_client ? 0 : 1;
	struct reasm_dir *d = &s->stream[i];
	uint8_t *st = &s->stream_st[i];
	struct stream_call c = { in, r, s, from_client, now_ns, out };
	struct reasm_result res;
	uint32_t seq = p->seq;
	unsigned f;
	bool past;

	memset(out, 0, sizeof(*out));
	if (!in->stream || p->proto != IPPROTO_TCP || (*st & STREAM_OFF))
		return;
	if (p->tcp_flags & TCPF_SYN) {
		if (!(*st & STREAM_DATA) && reasm_dir_syn(d, p->seq) == 0)
			*st |= STREAM_STARTED;
		seq++; /* a SYN takes one sequence number; its data follows */
	}
	if (!p->payload_len || (p->tcp_flags & TCPF_RST))
		return;
	if (stream_unread(in, s, from_client)) {
		stream_off(in, s, from_client);
		return;
	}
	if (!(*st & STREAM_STARTED) && reasm_dir_pickup(d, seq) == 0)
		*st |= STREAM_STARTED;
	*st |= STREAM_DATA;
	out->streamed = true;
	past = !s->app.done && past_provisional(in, s, p, from_client);
	f = reasm_segment(&in->reasm, d, seq, p->payload, p->payload_len, stream_sink, &c, &res);
	if (stream_account(in, d, &c, &res))
		f = stream_restart(in, &c, seq);
	if (payload_of(p) > p->payload_len)
		*st |= STREAM_SNAPPED;
	if (past && !s->app.done) {
		/* what it may carry unidentified is spent: decided as if without an app */
		app_give_up(&s->app);
		in->st.provisional_cut++;
		identified(in, s, NULL);
	}
	if (f & REASM_STOPPED)
		*st |= STREAM_OFF;
}

/* A later fragment has no ports: it follows its first fragment's verdict. */
static enum inspect_verdict frag_verdict(struct inspector *in, const struct pkt *p, uint64_t now_ns)
{
	int v = fragtab_lookup(in->frags, p, now_ns);

	if (v < 0) {
		in->st.frag_orphans++;
		return INSPECT_DROP;
	}
	return v == VERDICT_DENY ? INSPECT_DROP : INSPECT_PASS;
}

/*
 * The session of r's frame, created when it opens one.  NULL with *full
 * when the table is full, NULL alone for a reset without a session: a
 * reset opens nothing (it goes on, unaccounted).
 */
static struct session *session_of(struct inspector *in, const struct inspect_result *r,
				  bool local_is_src, bool *from_client, bool *full, uint64_t now_ns)
{
	const struct pkt *p = &r->pkt;
	struct flow_key k;
	struct session *s;
	bool p_is_a;

	*full = false;
	session_key(p, r->port ? r->port->port_id : 0, &k, &p_is_a);
	s = session_lookup(in->sessions, &k);
	if (!s && p->proto == IPPROTO_TCP && (p->tcp_flags & TCPF_RST))
		return NULL;
	if (!s) {
		s = session_create(in->sessions, &k, p_is_a, p, now_ns, session_done, in);
		*full = !s;
		if (!s)
			return NULL;
		if (r->port) {
			s->ctr = wl_ctr_get(r->port->ctr);
			s->local = (local_is_src == p_is_a) ? 1 : 2;
		}
		decide(in, s);
	}
	*from_client = session_from_client(s, p_is_a);
	session_update(in->sessions, s, p, *from_client, now_ns);
	return s;
}

static enum inspect_verdict session_verdict(struct inspector *in, struct session *s,
					    struct inspect_result *r)
{
	struct slog_clock c;

	if (s->verdict != VERDICT_DENY) {
		in->st.allowed++;
		return INSPECT_PASS;
	}
	unbypass(in, s, false);
	if (!s->logged_violation) {
		s->logged_violation = true;
		in->st.violations++;
		if (in->log)
			slog_write(in->log, s, SLOG_VIOLATION, log_clock(in, &c));
		if (s->key.proto == IPPROTO_TCP && !(r->pkt.tcp_flags & TCPF_RST)) {
			r->reset = true;
			in->st.resets++;
		}
	}
	/*
	 * A bare reset only ends the connection, and it may be the one the
	 * data plane sent at the other end's port (both ends intercepted):
	 * dropped here, it would never reach its receiver, and this port,
	 * having seen a reset first, sends none of its own.
	 */
	if (s->key.proto == IPPROTO_TCP && (r->pkt.tcp_flags & TCPF_RST) && !r->pkt.payload_len) {
		in->st.allowed++;
		return INSPECT_PASS;
	}
	in->st.denied++;
	return INSPECT_DROP;
}

/*
 * The threat detectors on r's frame (s NULL for a later fragment); true
 * when a drop action holds.  The session is then cut as a denied one is
 * (deny verdict, resets), the detection's line standing for the
 * violation line.
 */
static bool threats(struct inspector *in, struct inspect_result *r, struct session *s,
		    bool from_client, uint64_t now_ns, const struct stream_out *so)
{
	struct threat_pkt tp = {
		.p = &r->pkt,
		.s = s,
		.from_client = from_client,
		.port = r->port,
		.pol = in->policy,
		.now_ns = now_ns,
		.streamed = so && so->streamed,
	};

	threat_frame(in->threats, &tp);
	if (so && so->conflict)
		threat_tcp_conflict(in->threats, &tp, so->conflict);
	if (so && so->drop)
		tp.drop = true;
	if (!tp.drop || !s || s->verdict == VERDICT_DENY)
		return tp.drop;
	s->verdict = VERDICT_DENY;
	s->rule = 0;
	s->provisional = false;
	s->logged_violation = true;
	s->threat.flags |= THREAT_SESS_CUT;
	if (s->key.proto == IPPROTO_TCP && !tp.no_reset && !(r->pkt.tcp_flags & TCPF_RST)) {
		r->reset = true;
		in->st.resets++;
	}
	return true;
}

/*
 * r's frame would open a session, and the table is full of sessions none
 * of which is evictable: it cannot be inspected.  Passing it would switch
 * policy off for whoever fills the table, so a fwd port drops it; a tap
 * copy is only counted.
 */
static enum inspect_verdict table_full(struct inspector *in, const struct inspect_result *r,
				       uint64_t now_ns)
{
	bool drop = !r->port || r->port->mode == MODE_FWD;

	in->st.no_session++;
	in->st.no_session_dropped += drop;
	if (!in->full_said_ns || now_ns - in->full_said_ns >= FULL_SAY_EVERY_NS) {
		in->full_said_ns = now_ns ? now_ns : 1;
		pr_warn("worker %u: session table full (%zu sessions, none evictable): new flows "
			"are dropped at fwd ports and not inspected at tap ports (%llu frames so "
			"far, %llu dropped)",
			in->worker, in->max_sessions, (unsigned long long)in->st.no_session,
			(unsigned long long)in->st.no_session_dropped);
	}
	return drop ? INSPECT_DROP : INSPECT_PASS;
}

static enum inspect_verdict other_l4(struct inspector *in, const struct pkt *p)
{
	struct policy_flow f = { .proto = p->proto, .app_final = true };
	struct policy_decision d;

	f.from.family = f.to.family = p->family;
	memcpy(f.from.addr, p->src, 16);
	memcpy(f.to.addr, p->dst, 16);
	policy_decide(in->policy, &f, &d);
	return d.action == POLICY_DENY ? INSPECT_DROP : INSPECT_PASS;
}

static enum inspect_verdict inspect_ip(struct inspector *in, struct inspect_result *r,
				       bool local_is_src, uint64_t now_ns)
{
	const struct pkt *p = &r->pkt;
	enum inspect_verdict v;
	struct stream_out so;
	struct session *s;
	bool from_client, full;

	if (p->fragment && !p->first_fragment) {
		if (in->threats && threats(in, r, NULL, false, now_ns, NULL)) {
			in->st.denied++;
			return INSPECT_DROP;
		}
		return frag_verdict(in, p, now_ns);
	}
	s = session_of(in, r, local_is_src, &from_client, &full, now_ns);
	r->session = s;
	if (!s && !full)
		return INSPECT_PASS;
	if (!s) {
		/* floods are counted all the same */
		if (in->threats)
			threats(in, r, NULL, true, now_ns, NULL);
		return table_full(in, r, now_ns);
	}
	stream_segment(in, r, s, from_client, now_ns, &so);
	if (!so.streamed && !s->app.done && p->payload_len)
		identify(in, s, p, from_client);
	if (in->threats)
		threats(in, r, s, from_client, now_ns, &so);
	if (p->first_fragment)
		in->st.frag_evicted += fragtab_remember(in->frags, p, s->verdict, now_ns);
	v = session_verdict(in, s, r);
	if (v == INSPECT_PASS && so.refuse_drop) {
		in->st.stream_refused_dropped++; /* the sender sends it again */
		return INSPECT_DROP;
	}
	if (v == INSPECT_PASS && so.conflict_drop) {
		in->st.stream_conflict_dropped++;
		return INSPECT_DROP;
	}
	if (v == INSPECT_PASS && bypass_on(in->bypass))
		bypass_maybe(in, s, r->port, p, from_client);
	return v;
}

void inspect_frame(struct inspector *in, const uint8_t *frame, size_t len, size_t wire_len,
		   uint64_t now_ns, struct inspect_result *r)
{
	enum decode_status ds = decode_frame(frame, len, &r->pkt);
	bool local_is_src = false;

	if (wire_len > len)
		r->pkt.wire_len = wire_len;
	r->verdict = INSPECT_PASS;
	r->reset = false;
	r->session = NULL;
	r->port = NULL;
	in->st.frames++;
	in->st.bytes += r->pkt.wire_len;
	switch (ds) {
	case DECODE_NOT_IP:
		in->st.not_ip++;
		return;
	case DECODE_TRUNCATED:
		in->st.truncated++;
		r->verdict = INSPECT_DROP;
		return;
	case DECODE_MALFORMED:
		in->st.malformed++;
		r->verdict = INSPECT_DROP;
		return;
	case DECODE_OTHER_L4:
		in->st.other_l4++;
		r->verdict = other_l4(in, &r->pkt);
		return;
	case DECODE_OK:
		break;
	}
	r->port = port_of(in, &r->pkt, &local_is_src);
	if (!r->port)
		in->st.unknown_port++;
	if (!r->port && local_is_src) { /* a UCMAC at both ends */
		r->verdict = INSPECT_DROP;
		return;
	}
	r->verdict = inspect_ip(in, r, local_is_src, now_ns);
}

void inspect_tick(struct inspector *in, uint64_t now_ns)
{
	session_expire(in->sessions, now_ns, bypass_seen, session_done, in);
}

/* A finished session keeps the verdict it ended under; a denied one is taken back at once. */
static void redecide(struct session *s, void *arg)
{
	struct inspector *in = arg;

	if (s->tcp_state == TS_CLOSED)
		return;
	decide(in, s);
	if (s->verdict == VERDICT_DENY || s->provisional)
		unbypass(in, s, false);
}

void inspect_set_policy(struct inspector *in, const struct policy *pol)
{
	in->policy = pol;
	session_foreach(in->sessions, redecide, in);
}

void inspect_set_workloads(struct inspector *in, const struct workloads *wl)
{
	in->wl = wl;
}

struct collect {
	const struct session **v;
	size_t n, cap;
};

static void collect_one(struct session *s, void *arg)
{
	struct collect *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		const struct session **v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = s;
}

static int by_first_seen(const void *a, const void *b)
{
	const struct session *x = *(const struct session *const *)a;
	const struct session *y = *(const struct session *const *)b;

	if (x->first_ns != y->first_ns)
		return x->first_ns < y->first_ns ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key)); /* the same order every run */
}

void inspect_sessions_sorted(struct inspector *in, void (*fn)(const struct session *s, void *arg),
			     void *arg)
{
	struct collect c = { 0 };

	session_foreach(in->sessions, collect_one, &c);
	if (c.n) /* qsort's array must not be NULL, even when empty */
		qsort(c.v, c.n, sizeof(*c.v), by_first_seen);
	for (size_t i = 0; i < c.n; i++)
		fn(c.v[i], arg);
	free(c.v);
}
