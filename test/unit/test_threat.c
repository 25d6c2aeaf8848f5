// SPDX-License-Identifier: Apache-2.0
/*
 * Threat detection through inspect_frame: each L3/L4 threat fires once
 * with its evidence and action, look-alikes stay silent, drop cuts in fwd,
 * tap logs a violation, detections are counted.
 */
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_util.h"
#include "inspect_env.h"
#include "dp/threat/threat.h"
#include "dp/threat/threat_ctx.h"

/* ---- frames ---- */

static void echo(struct frame *f, const struct ep *a, const struct ep *b, bool request, uint16_t id,
		 const uint8_t *data, size_t len)
{
	uint8_t *c = ip4(f, a, b, IPPROTO_ICMP, 7, 0, 8 + len);

	memset(c, 0, 8);
	c[0] = request ? 8 : 0;
	put16(c + 4, id);
	memcpy(c + 8, data, len);
}

/* A fragment of datagram id: len bytes at byte offset off (a multiple of 8). */
static void frag(struct frame *f, uint8_t proto, uint16_t id, uint32_t off, bool more,
		 const uint8_t *data, size_t len)
{
	uint8_t *d = ip4(f, &CLI, &SRV, proto, id, (uint16_t)((more ? 0x2000 : 0) | off / 8), len);

	memcpy(d, data, len);
}

/* An HTTP session from CLI:port to SRV whose headers never end (or do, finish). */
static void slow_session(uint16_t port, bool finish);

static void random_bytes(uint8_t *d, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		d[i] = (uint8_t)x;
	}
}

/* ---- the line ---- */

START_TEST(test_line_and_count)
{
	char line[4096];

	env_up(ALLOW, true);
	send_tcp(&CLI, &SRV,
		 &(struct seg){ .flags = TCPF_SYN, .win = 64240, .data = "hello", .len = 5 },
		 1 * SEC);
	ck_assert_int_eq(threat_lines(NULL, line, sizeof(line)), 1);
	ck_assert_str_eq(line,
			 "{\"threat\":\"tcp_syn_data\",\"severity\":\"low\",\"transport\":\"tcp\","
			 "\"src\":\"10.0.0.9\",\"sport\":40000,\"dst\":\"10.0.0.2\",\"dport\":80,"
			 "\"app\":\"unknown\",\"action\":\"alert\","
			 "\"evidence\":\"SYN with 5 bytes of payload\","
			 "\"container\":{\"id\":\"ctr1\",\"name\":\"web1\",\"group\":\"g1\"}}\n");
	ck_assert_int_eq(last.verdict, INSPECT_PASS);
	/* once per session: the retransmitted SYN is not another line */
	send_tcp(&CLI, &SRV,
		 &(struct seg){ .flags = TCPF_SYN, .win = 64240, .data = "hello", .len = 5 },
		 2 * SEC);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 1);
	ck_assert_uint_eq(in.st.threats[THREAT_TCP_SYN_DATA], 1);
	for (int i = 0; i < THREAT_MAX; i++)
		if (i != THREAT_TCP_SYN_DATA)
			ck_assert_uint_eq(in.st.threats[i], 0);
	env_down();
}
END_TEST

START_TEST(test_names_and_severities)
{
	ck_assert_str_eq(threat_name(THREAT_SYN_FLOOD), "syn_flood");
	ck_assert_str_eq(threat_name(THREAT_ICMP_TUNNELING), "icmp_tunneling");
	ck_assert_str_eq(threat_name(THREAT_TCP_OVERLAP_CONFLICT), "tcp_overlap_conflict");
	ck_assert_str_eq(threat_severity(THREAT_TCP_OVERLAP_CONFLICT), "medium");
	ck_assert_str_eq(threat_severity(THREAT_PING_OF_DEATH), "high");
	for (int i = 0; i < THREAT_MAX; i++) {
		const char *s = threat_severity(i);

		ck_assert(!strcmp(s, "low") || !strcmp(s, "medium") || !strcmp(s, "high"));
	}
}
END_TEST

START_TEST(test_off_runs_nothing)
{
	env_up(ALLOW, false);
	send_tcp(&CLI, &SRV,
		 &(struct seg){ .flags = TCPF_SYN, .win = 64240, .mss = 48, .data = "x", .len = 1 },
		 1 * SEC);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	ck_assert_uint_eq(in.st.threats[THREAT_TCP_SYN_DATA], 0);
	ck_assert_uint_eq(in.st.threats[THREAT_TCP_SMALL_MSS], 0);
	env_down();
}
END_TEST

/* ---- floods ---- */

static void syns(int n, uint16_t first_port, uint64_t now)
{
	for (int i = 0; i < n; i++) {
		struct ep c = CLI;

		c.port = (uint16_t)(first_port + i);
		send_tcp(&c, &SRV, &(struct seg){ .flags = TCPF_SYN, .win = 64240, .mss = 1460 },
			 now);
	}
}

START_TEST(test_syn_flood)
{
	char line[4096];

	env_up("{\"default\": \"allow\", \"threats\": {\"syn_flood_pps\": 10}}", true);
	syns(10, 1000, 5 * SEC);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	syns(30, 2000, 5 * SEC + 1);
	ck_assert_int_eq(threat_lines("syn_flood", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "\"severity\":\"medium\""));
	ck_assert_ptr_nonnull(strstr(line, "\"sport\":2000,"));
	ck_assert_ptr_nonnull(strstr(line, "more than 10 SYNs a second"));
	ck_assert_int_eq(last.verdict, INSPECT_PASS); /* alert */
	/* the next second: counted afresh, reported again */
	syns(10, 3000, 6 * SEC);
	ck_assert_int_eq(threat_lines("syn_flood", NULL, 0), 1);
	syns(5, 4000, 6 * SEC);
	ck_assert_int_eq(threat_lines("syn_flood", NULL, 0), 2);
	ck_assert_uint_eq(in.st.threats[THREAT_SYN_FLOOD], 2);
	env_down();
}
END_TEST

START_TEST(test_syn_flood_drop)
{
	env_up("{\"default\": \"allow\", \"threats\": {\"syn_flood_pps\": 10,"
	       " \"actions\": {\"syn_flood\": \"drop\"}}}",
	       true);
	syns(10, 1000, 5 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_PASS);
	syns(1, 2000, 5 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	ck_assert(!last.reset); /* a flood is dropped, not answered */
	syns(1, 2001, 5 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	ck_assert_int_eq(threat_lines("syn_flood", NULL, 0), 1);
	/* the dropped SYN's session stays cut: its retransmission too */
	syns(1, 2000, 7 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	syns(1, 5000, 7 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_PASS);
	env_down();
}
END_TEST

/* A full table of two-way sessions: the flooding SYNs get no session, and count all the same. */
START_TEST(test_syn_flood_with_full_table)
{
	char line[4096];

	env_up_max("{\"default\": \"allow\", \"threats\": {\"syn_flood_pps\": 10}}", true, 4);
	for (uint16_t i = 0; i < 4; i++)
		handshake(&(struct ep){ CLI.ip, (uint16_t)(41000 + i), MAC_EXT }, &SRV, 1 * SEC);
	syns(30, 2000, 5 * SEC);
	ck_assert_uint_eq(in.st.no_session, 30);
	ck_assert_int_eq(threat_lines("syn_flood", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "\"sport\":2010,")); /* the 11th, from its frame */
	ck_assert_ptr_nonnull(strstr(line, "\"id\":\"ctr1\"")); /* the port's container */
	env_down();
}
END_TEST

/* ---- across workers ---- */

/* A second worker beside in, the threat tables of both shared, as the service makes them. */
static struct threat_shared *shared;
static struct inspector w2;

static void two_workers(const char *policy_json)
{
	env_up(policy_json, false);
	shared = threat_shared_new();
	ck_assert_ptr_nonnull(shared);
	ck_assert_int_eq(inspect_threats_on(&in, env_log(), shared), 0);
	ck_assert_int_eq(inspector_init(&w2, 4096, pol, wl, NULL), 0);
	ck_assert_int_eq(inspect_threats_on(&w2, env_log(), shared), 0);
}

static void two_workers_down(void)
{
	inspector_fini(&w2);
	env_down();
	threat_shared_free(shared);
}

/*
 * SYNs from spoofed sources: the fanout sends half of them to each worker.
 * 6 + 6 SYNs a second against a limit of 10 is a flood of the data plane,
 * which per-worker tables (6 and 6) never saw.
 */
START_TEST(test_syn_flood_across_workers)
{
	two_workers("{\"default\": \"allow\", \"threats\": {\"syn_flood_pps\": 10}}");
	for (int i = 0; i < 12; i++) {
		cur = i % 2 ? &w2 : &in;
		syns(1, (uint16_t)(1000 + i), 5 * SEC);
	}
	ck_assert_uint_eq(in.st.threats[THREAT_SYN_FLOOD] + w2.st.threats[THREAT_SYN_FLOOD], 1);
	ck_assert_int_eq(threat_lines("syn_flood", NULL, 0), 1);
	/* reported once for the data plane, in that second */
	cur = &in;
	syns(5, 3000, 5 * SEC);
	cur = &w2;
	syns(5, 4000, 5 * SEC);
	ck_assert_int_eq(threat_lines("syn_flood", NULL, 0), 1);
	two_workers_down();
}
END_TEST

/* 20 slow sessions to one server, ten at each worker. */
START_TEST(test_slowloris_across_workers)
{
	two_workers(ALLOW);
	for (int i = 0; i < 19; i++) {
		cur = i % 2 ? &w2 : &in;
		slow_session((uint16_t)(41000 + i), false);
	}
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	cur = &w2;
	slow_session(43000, false);
	ck_assert_int_eq(threat_lines("http_slowloris", NULL, 0), 1);
	two_workers_down();
}
END_TEST

/* One worker's half of a flood, from its own thread: SYNs from ports base.. */
struct flood_half {
	struct inspector *w;
	uint16_t base;
};

static void *flood_half(void *arg)
{
	const struct flood_half *h = arg;
	struct inspect_result r;
	struct frame f;

	for (unsigned i = 0; i < 50000; i++) {
		struct ep c = { CLI.ip, (uint16_t)(h->base + i % 20000), MAC_EXT };

		tcp(&f, &c, &SRV, &(struct seg){ .flags = TCPF_SYN, .win = 64240 });
		inspect_frame(h->w, f.b, f.len, f.len, 5 * SEC, &r);
	}
	return NULL;
}

/* Two workers at once on one destination: the shared count loses nothing that matters. */
START_TEST(test_syn_flood_two_threads)
{
	struct flood_half a = { &in, 1024 }, b = { &w2, 30000 };
	pthread_t ta, tb;

	two_workers("{\"default\": \"allow\", \"threats\": {\"syn_flood_pps\": 99900}}");
	ck_assert_int_eq(pthread_create(&ta, NULL, flood_half, &a), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, flood_half, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	ck_assert_uint_eq(in.st.threats[THREAT_SYN_FLOOD] + w2.st.threats[THREAT_SYN_FLOOD], 1);
	two_workers_down();
}
END_TEST

/*
 * A destination being flooded keeps its count while a hundred thousand
 * others get a SYN each in the same second: they take entries with fewer
 * frames.  The direct-mapped table of 1024 slots gave each of them the
 * flooded destination's slot in turn.
 */
START_TEST(test_syn_flood_survives_many_destinations)
{
	char ip[32];

	env_up("{\"default\": \"allow\", \"threats\": {\"syn_flood_pps\": 1000}}", true);
	syns(600, 1000, 5 * SEC);
	for (unsigned i = 0; i < 100000; i++) {
		struct ep c = { CLI.ip, (uint16_t)(1024 + i % 60000), MAC_EXT };
		struct ep d = { ip, 80, MAC_FWD };

		snprintf(ip, sizeof(ip), "10.%u.%u.%u", 100 + i / 65536, i / 256 % 256, i % 256);
		send_tcp(&c, &d, &(struct seg){ .flags = TCPF_SYN, .win = 64240 }, 5 * SEC);
	}
	ck_assert_int_eq(threat_lines("syn_flood", NULL, 0), 0);
	syns(401, 2000, 5 * SEC);
	ck_assert_int_eq(threat_lines("syn_flood", NULL, 0), 1);
	env_down();
}
END_TEST

START_TEST(test_icmp_flood)
{
	uint8_t pat[56];
	struct frame f;

	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)i;
	env_up("{\"default\": \"allow\", \"threats\": {\"icmp_flood_pps\": 20}}", true);
	/* requests and their replies: only requests count */
	for (int i = 0; i < 20; i++) {
		echo(&f, &CLI, &SRV, true, 1, pat, sizeof(pat));
		send_frame(&f, 3 * SEC);
		echo(&f, &SRV, &CLI, false, 1, pat, sizeof(pat));
		send_frame(&f, 3 * SEC);
	}
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	for (int i = 0; i < 20; i++) {
		echo(&f, &CLI, &SRV, true, (uint16_t)(100 + i), pat, sizeof(pat));
		send_frame(&f, 3 * SEC);
	}
	ck_assert_int_eq(threat_lines("icmp_flood", NULL, 0), 1);
	ck_assert_uint_eq(in.st.threats[THREAT_ICMP_FLOOD], 1);
	env_down();
}
END_TEST

/* ---- fragments ---- */

START_TEST(test_ping_of_death)
{
	uint8_t d[1480] = { 8, 0 };
	struct frame f;
	char line[4096];

	env_up(ALLOW, true);
	frag(&f, IPPROTO_ICMP, 0x1234, 0, true, d, sizeof(d));
	send_frame(&f, 1 * SEC);
	frag(&f, IPPROTO_ICMP, 0x1234, 1480, true, d, sizeof(d));
	send_frame(&f, 1 * SEC);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	frag(&f, IPPROTO_ICMP, 0x1234, 65000, false, d, 600);
	send_frame(&f, 1 * SEC);
	ck_assert_int_eq(threat_lines("ping_of_death", line, sizeof(line)), 1);
	/* a later fragment has no session: the frame's own ends */
	ck_assert_ptr_nonnull(strstr(line,
				     "\"transport\":\"icmp\",\"src\":\"10.0.0.9\",\"sport\":0,"
				     "\"dst\":\"10.0.0.2\",\"dport\":0,\"app\":\"unknown\","
				     "\"action\":\"alert\","));
	ck_assert_ptr_nonnull(strstr(line, "offset 65000 with 600 bytes ends past 65535"));
	frag(&f, IPPROTO_ICMP, 0x1234, 65000, false, d, 600);
	send_frame(&f, 1 * SEC);
	ck_assert_int_eq(threat_lines("ping_of_death", NULL, 0), 1);
	ck_assert_uint_eq(in.st.threats[THREAT_PING_OF_DEATH], 1);
	env_down();
}
END_TEST

START_TEST(test_teardrop)
{
	uint8_t d[1480] = { 0x9c, 0x40, 0, 53 };
	struct frame f;
	char line[4096];

	env_up(ALLOW, true);
	frag(&f, IPPROTO_UDP, 77, 0, true, d, sizeof(d));
	send_frame(&f, 1 * SEC);
	frag(&f, IPPROTO_UDP, 77, 1472, false, d, 100);
	send_frame(&f, 1 * SEC);
	ck_assert_int_eq(threat_lines("ip_teardrop", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "\"severity\":\"high\""));
	ck_assert_ptr_nonnull(strstr(line, "fragment id 77 bytes 1472-1571 overlap bytes 0-1479"));
	frag(&f, IPPROTO_UDP, 77, 8, false, d, 100);
	send_frame(&f, 1 * SEC);
	ck_assert_int_eq(threat_lines("ip_teardrop", NULL, 0), 1);
	env_down();
}
END_TEST

START_TEST(test_fragments_that_fit)
{
	uint8_t d[1480] = { 0x9c, 0x40, 0, 53 };
	struct frame f;

	env_up(ALLOW, true);
	/* a big UDP datagram, in order, and another one out of order */
	for (uint32_t off = 0; off < 6 * 1480; off += 1480) {
		frag(&f, IPPROTO_UDP, 5, off, off < 5 * 1480, d, sizeof(d));
		send_frame(&f, 1 * SEC);
	}
	frag(&f, IPPROTO_UDP, 6, 2960, false, d, 400);
	send_frame(&f, 1 * SEC);
	frag(&f, IPPROTO_UDP, 6, 0, true, d, sizeof(d));
	send_frame(&f, 1 * SEC);
	frag(&f, IPPROTO_UDP, 6, 1480, true, d, sizeof(d));
	send_frame(&f, 1 * SEC);
	/* a 60000-byte ping: big, but not past 65535 */
	d[0] = 8;
	d[1] = 0;
	for (uint32_t off = 0; off < 60000; off += 1480) {
		frag(&f, IPPROTO_ICMP, 9, off, off + 1480 < 60000, d, sizeof(d));
		send_frame(&f, 1 * SEC);
	}
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	env_down();
}
END_TEST

/* ---- TCP ---- */

START_TEST(test_normal_handshake_silent)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	uint8_t body[1400];

	memset(body, 'b', sizeof(body));
	env_up(ALLOW, true);
	handshake(&CLI, &SRV, 1 * SEC);
	send_tcp(&CLI, &SRV,
		 &(struct seg){ .flags = TCPF_ACK | TCPF_PSH,
				.win = 502,
				.data = req,
				.len = sizeof(req) - 1 },
		 1 * SEC);
	for (int i = 0; i < 20; i++)
		send_tcp(&SRV, &CLI,
			 &(struct seg){
				 .flags = TCPF_ACK, .win = 509, .data = body, .len = sizeof(body) },
			 2 * SEC);
	send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_ACK | TCPF_FIN, .win = 502 }, 3 * SEC);
	send_tcp(&SRV, &CLI, &(struct seg){ .flags = TCPF_ACK | TCPF_FIN, .win = 509 }, 3 * SEC);
	send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_ACK, .win = 502 }, 3 * SEC);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	env_down();
}
END_TEST

START_TEST(test_split_handshake)
{
	char line[4096];

	env_up(ALLOW, true);
	send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_SYN, .win = 64240, .mss = 1460 },
		 1 * SEC);
	send_tcp(&SRV, &CLI, &(struct seg){ .flags = TCPF_SYN, .win = 65160, .mss = 1460 },
		 1 * SEC);
	send_tcp(&SRV, &CLI, &(struct seg){ .flags = TCPF_ACK, .win = 65160 }, 1 * SEC);
	ck_assert_int_eq(threat_lines("tcp_split_handshake", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "\"src\":\"10.0.0.9\",\"sport\":40000,"));
	ck_assert_ptr_nonnull(strstr(line, "the server answered with a SYN without ACK"));
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 1);
	env_down();
}
END_TEST

START_TEST(test_small_mss)
{
	char line[4096];
	struct ep c = CLI;

	env_up(ALLOW, true);
	send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_SYN, .win = 64240, .mss = 48 }, 1 * SEC);
	ck_assert_int_eq(threat_lines("tcp_small_mss", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "client SYN with MSS 48 (under 500)"));
	/* 536, the default of a path with 576-byte datagrams, and 1460 are fine */
	c.port = 40001;
	send_tcp(&c, &SRV, &(struct seg){ .flags = TCPF_SYN, .win = 64240, .mss = 536 }, 1 * SEC);
	c.port = 40002;
	send_tcp(&c, &SRV, &(struct seg){ .flags = TCPF_SYN, .win = 64240, .mss = 1460 }, 1 * SEC);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 1);
	env_down();
}
END_TEST

START_TEST(test_small_window)
{
	char line[4096];

	env_up(ALLOW, true);
	handshake(&CLI, &SRV, 1 * SEC);
	for (int i = 0; i < 9; i++)
		send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_ACK, .win = i % 2 ? 0 : 10 },
			 2 * SEC);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	for (int i = 0; i < 5; i++)
		send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_ACK, .win = 0 }, 3 * SEC);
	ck_assert_int_eq(threat_lines("tcp_small_window", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(
		strstr(line, "10 client segments in a row with a window under 64 bytes (last 0)"));
	ck_assert_uint_eq(in.st.threats[THREAT_TCP_SMALL_WINDOW], 1);
	env_down();
}
END_TEST

/* Linux scales its windows (shift 7 or more): a raw 63 is some 64 KiB. */
START_TEST(test_scaled_window_silent)
{
	struct ep c = CLI;
	char line[4096];

	env_up(ALLOW, true);
	send_tcp(&CLI, &SRV,
		 &(struct seg){ .flags = TCPF_SYN, .win = 64240, .mss = 1460, .wscale = 11 },
		 1 * SEC);
	send_tcp(&SRV, &CLI,
		 &(struct seg){
			 .flags = TCPF_SYN | TCPF_ACK, .win = 65160, .mss = 1460, .wscale = 8 },
		 1 * SEC);
	for (int i = 0; i < 30; i++)
		send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_ACK, .win = 63 }, 2 * SEC);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	/* a server that does not scale: the client's raw window is the window */
	c.port = 40001;
	send_tcp(&c, &SRV,
		 &(struct seg){ .flags = TCPF_SYN, .win = 64240, .mss = 1460, .wscale = 11 },
		 3 * SEC);
	send_tcp(&SRV, &c, &(struct seg){ .flags = TCPF_SYN | TCPF_ACK, .win = 65160, .mss = 1460 },
		 3 * SEC);
	for (int i = 0; i < 10; i++)
		send_tcp(&c, &SRV, &(struct seg){ .flags = TCPF_ACK, .win = 63 }, 4 * SEC);
	ck_assert_int_eq(threat_lines("tcp_small_window", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "(last 63)"));
	env_down();
}
END_TEST

START_TEST(test_download_with_zero_windows)
{
	uint8_t body[1400];

	memset(body, 'b', sizeof(body));
	env_up(ALLOW, true);
	handshake(&CLI, &SRV, 1 * SEC);
	for (int round = 0; round < 50; round++) {
		/* the client's buffer fills: its ACK of the data says window 0 */
		for (int i = 0; i < 4; i++) {
			send_tcp(&SRV, &CLI,
				 &(struct seg){ .flags = TCPF_ACK,
						.win = 509,
						.data = body,
						.len = sizeof(body) },
				 2 * SEC);
			send_tcp(&CLI, &SRV,
				 &(struct seg){ .flags = TCPF_ACK, .win = (round % 3) ? 0 : 3000 },
				 2 * SEC);
		}
		/* zero-window probes answered with window 0, then the window opens */
		for (int i = 0; i < 3; i++) {
			send_tcp(&SRV, &CLI, &(struct seg){ .flags = TCPF_ACK, .win = 509 },
				 2 * SEC);
			send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_ACK, .win = 0 }, 2 * SEC);
		}
		send_tcp(&CLI, &SRV, &(struct seg){ .flags = TCPF_ACK, .win = 20000 }, 2 * SEC);
	}
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	env_down();
}
END_TEST

/* ---- ICMP tunneling ---- */

static void echoes(int n, uint16_t id, size_t len, bool random, uint64_t start, uint64_t step)
{
	uint8_t d[1400];
	struct frame f;

	for (int i = 0; i < n; i++) {
		if (random) {
			random_bytes(d, len, (uint32_t)(id * 1000 + i));
		} else {
			/* ping: a timestamp, then bytes counting up */
			memset(d, 0, 8);
			put32(d, (uint32_t)i);
			for (size_t j = 8; j < len; j++)
				d[j] = (uint8_t)j;
		}
		echo(&f, &CLI, &SRV, true, id, d, len);
		send_frame(&f, start + (uint64_t)i * step);
		echo(&f, &SRV, &CLI, false, id, d, len);
		send_frame(&f, start + (uint64_t)i * step);
	}
}

START_TEST(test_icmp_tunneling)
{
	char line[4096];

	env_up(ALLOW, true);
	/* requests and replies count: 8 in the window, then 10 */
	echoes(4, 42, 200, true, 1 * SEC, SEC / 2);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	echoes(1, 42, 200, true, 4 * SEC, SEC / 2);
	ck_assert_int_eq(threat_lines("icmp_tunneling", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(
		strstr(line, "\"transport\":\"icmp\",\"src\":\"10.0.0.9\",\"sport\":42,"));
	ck_assert_ptr_nonnull(strstr(line, "10 echo payloads at >= 6.5 bits/byte within 10 s"));
	ck_assert_uint_eq(in.st.threats[THREAT_ICMP_TUNNELING], 1);
	env_down();
}
END_TEST

START_TEST(test_ping_silent)
{
	env_up(ALLOW, true);
	echoes(30, 1, 56, false, 1 * SEC, SEC / 5);
	echoes(30, 2, 1400, false, 1 * SEC, SEC / 5); /* ping -s 1400 */
	echoes(30, 3, 64, false, 1 * SEC, SEC / 5);
	/* random payloads, but too few a window (a request and its reply every 3 s) */
	echoes(20, 4, 1000, true, 1 * SEC, 3 * SEC);
	/* random, but short */
	echoes(30, 5, 40, true, 1 * SEC, SEC / 5);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	env_down();
}
END_TEST

/* ---- slowloris ---- */

static void slow_session(uint16_t port, bool finish)
{
	static const char start[] = "GET /?a HTTP/1.1\r\nHost: victim\r\n";
	static const char more[] = "X-a: b\r\n";
	static const char end[] = "X-b: c\r\n\r\n";
	struct ep c = CLI;

	c.port = port;
	handshake(&c, &SRV, 1 * SEC);
	send_tcp(&c, &SRV,
		 &(struct seg){ .flags = TCPF_ACK | TCPF_PSH,
				.win = 502,
				.data = start,
				.len = sizeof(start) - 1 },
		 1 * SEC);
	if (finish)
		send_tcp(&c, &SRV,
			 &(struct seg){ .flags = TCPF_ACK | TCPF_PSH,
					.win = 502,
					.data = end,
					.len = sizeof(end) - 1 },
			 2 * SEC);
	send_tcp(&c, &SRV,
		 &(struct seg){ .flags = TCPF_ACK | TCPF_PSH,
				.win = 502,
				.data = more,
				.len = sizeof(more) - 1 },
		 12 * SEC);
}

START_TEST(test_slowloris)
{
	char line[4096];

	env_up(ALLOW, true);
	for (int i = 0; i < 19; i++)
		slow_session((uint16_t)(41000 + i), false);
	for (int i = 0; i < 10; i++)
		slow_session((uint16_t)(42000 + i), true);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	slow_session(43000, false);
	ck_assert_int_eq(threat_lines("http_slowloris", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "\"sport\":43000,\"dst\":\"10.0.0.2\",\"dport\":80,"
					   "\"app\":\"http\""));
	ck_assert_ptr_nonnull(
		strstr(line, "20 sessions to this server with request headers incomplete"));
	slow_session(43001, false);
	ck_assert_int_eq(threat_lines("http_slowloris", NULL, 0), 1);
	env_down();
}
END_TEST

/* ---- actions ---- */

static const char *const SYN_DATA_DROP =
	"{\"default\": \"allow\", \"threats\": {\"actions\": {\"tcp_syn_data\": \"drop\"}}}";

START_TEST(test_drop_cuts_in_fwd)
{
	char line[4096];
	struct session_stats ss;

	env_up(SYN_DATA_DROP, true);
	send_tcp(&CLI, &SRV,
		 &(struct seg){ .flags = TCPF_SYN, .win = 64240, .data = "hello", .len = 5 },
		 1 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	ck_assert(last.reset);
	ck_assert_ptr_eq(last.port, workloads_by_ucmac(wl, MAC_FWD));
	ck_assert_int_eq(threat_lines("tcp_syn_data", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "\"action\":\"drop\""));
	ck_assert_uint_eq(in.st.resets, 1);
	ck_assert_uint_eq(in.st.violations, 0); /* the threat line says it */
	/* the rest of the session goes nowhere, reset once */
	send_tcp(&SRV, &CLI, &(struct seg){ .flags = TCPF_SYN | TCPF_ACK, .win = 65160 }, 1 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	ck_assert(!last.reset);
	/* a new policy does not undo the cut */
	inspect_set_policy(&in, pol);
	send_tcp(&CLI, &SRV,
		 &(struct seg){ .flags = TCPF_ACK,
				.win = 502,
				.data = "GET / HTTP/1.1\r\n\r\n",
				.len = 18 },
		 1 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	session_stats(in.sessions, &ss);
	ck_assert_uint_eq(ss.live, 1);
	env_down();
}
END_TEST

START_TEST(test_drop_in_tap_is_violation)
{
	char line[4096];

	env_up(SYN_DATA_DROP, true);
	send_tcp(&CLI, &TAP_SRV,
		 &(struct seg){ .flags = TCPF_SYN, .win = 64240, .data = "hello", .len = 5 },
		 1 * SEC);
	ck_assert_int_eq(threat_lines("tcp_syn_data", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "\"dst\":\"10.0.0.3\""));
	ck_assert_ptr_nonnull(strstr(line, "\"action\":\"violation\""));
	ck_assert_ptr_nonnull(strstr(line, "\"container\":{\"id\":\"ctr2\""));
	ck_assert_int_eq(last.verdict, INSPECT_PASS);
	ck_assert(!last.reset);
	env_down();
}
END_TEST

START_TEST(test_drop_fragment)
{
	uint8_t d[1480] = { 0x9c, 0x40, 0, 53 };
	struct frame f;

	env_up("{\"default\": \"allow\", \"threats\": {\"actions\": {\"ip_teardrop\": \"drop\"}}}",
	       true);
	frag(&f, IPPROTO_UDP, 77, 0, true, d, sizeof(d));
	send_frame(&f, 1 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_PASS);
	frag(&f, IPPROTO_UDP, 77, 1472, false, d, 100);
	send_frame(&f, 1 * SEC);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	ck_assert_int_eq(threat_lines("ip_teardrop", NULL, 0), 1);
	env_down();
}
END_TEST

/* ---- application-level detectors, per session app and direction ---- */

static void send_data(const struct ep *a, const struct ep *b, const void *d, size_t len,
		      uint64_t now)
{
	send_tcp(a, b,
		 &(struct seg){ .flags = TCPF_ACK | TCPF_PSH, .win = 502, .data = d, .len = len },
		 now);
}

START_TEST(test_http_every_request)
{
	static const char ok[] = "GET /item?id=12 HTTP/1.1\r\nHost: shop\r\n\r\n";
	static const char reply[] =
		"HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\n' OR '1'='1' -- hello";
	static const char bad[] =
		"GET /item?id=1%27%20OR%20%271%27%3D%271 HTTP/1.1\r\nHost: shop\r\n\r\n";
	char line[4096];

	env_up(ALLOW, true);
	handshake(&CLI, &SRV, 1 * SEC);
	send_data(&CLI, &SRV, ok, sizeof(ok) - 1, 1 * SEC);
	send_data(&SRV, &CLI, reply, sizeof(reply) - 1, 1 * SEC); /* responses are not read */
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	/* the third request on the connection, long after identification */
	send_data(&CLI, &SRV, ok, sizeof(ok) - 1, 2 * SEC);
	send_data(&CLI, &SRV, bad, sizeof(bad) - 1, 3 * SEC);
	ck_assert_int_eq(threat_lines("sql_injection", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "\"severity\":\"high\""));
	ck_assert_ptr_nonnull(strstr(line, "\"app\":\"http\""));
	ck_assert_uint_eq(in.st.threats[THREAT_SQL_INJECTION], 1);
	env_down();
}
END_TEST

START_TEST(test_http_smuggling_drop)
{
	static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";

	env_up("{\"default\": \"allow\", \"threats\": {\"actions\": {\"http_smuggling\": \"drop\"}}}",
	       true);
	handshake(&CLI, &SRV, 1 * SEC);
	send_data(&CLI, &SRV, req, sizeof(req) - 1, 1 * SEC);
	ck_assert_int_eq(threat_lines("http_smuggling", NULL, 0), 1);
	ck_assert_int_eq(last.verdict, INSPECT_DROP);
	ck_assert(last.reset);
	env_down();
}
END_TEST

/* A TLS record of type with body. */
static size_t tls_rec(uint8_t *d, uint8_t type, uint16_t version, const uint8_t *body, size_t n)
{
	d[0] = type;
	put16(d + 1, version);
	put16(d + 3, (uint16_t)n);
	memcpy(d + 5, body, n);
	return 5 + n;
}

/* A ClientHello offering version (no extensions), in a handshake record. */
static size_t client_hello(uint8_t *d, uint16_t version)
{
	uint8_t hs[4 + 2 + 32 + 1 + 4 + 2] = { 1, 0, 0, sizeof(hs) - 4 };
	uint8_t *b = hs + 4;

	put16(b, version);
	memset(b + 2, 0x42, 32);
	b[34] = 0;	  /* session id */
	put16(b + 35, 2); /* cipher suites */
	put16(b + 37, 0x002f);
	b[39] = 1; /* compression methods */
	b[40] = 0;
	return tls_rec(d, 22, 0x0301, hs, sizeof(hs));
}

START_TEST(test_tls)
{
	static const uint8_t ccs[] = { 1 }, beat[] = { 1, 0x40, 0 };
	uint8_t d[512], appdata[300];
	size_t n;
	char line[4096];
	struct ep s = SRV;

	s.port = 443;
	env_up(ALLOW, true);
	handshake(&CLI, &s, 1 * SEC);
	n = client_hello(d, 0x0303);
	send_data(&CLI, &s, d, n, 1 * SEC);
	ck_assert_uint_eq(in.st.app_found[APP_TLS], 1);
	/* both sides turn encrypted: application data is not read */
	n = tls_rec(d, 20, 0x0303, ccs, 1);
	send_data(&CLI, &s, d, n, 1 * SEC);
	send_data(&s, &CLI, d, n, 1 * SEC);
	memset(appdata, 0x18, sizeof(appdata));
	n = tls_rec(d, 23, 0x0303, appdata, sizeof(appdata));
	for (int i = 0; i < 5; i++) {
		send_data(&CLI, &s, d, n, 2 * SEC);
		send_data(&s, &CLI, appdata, sizeof(appdata), 2 * SEC);
	}
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	/* an encrypted heartbeat too short to hold its own header */
	n = tls_rec(d, 24, 0x0303, beat, sizeof(beat));
	send_data(&CLI, &s, d, n, 3 * SEC);
	ck_assert_int_eq(threat_lines("tls_heartbleed", line, sizeof(line)), 1);
	ck_assert_ptr_nonnull(strstr(line, "\"app\":\"tls\""));
	/* an old client on another connection */
	s.port = 8443;
	handshake(&CLI, &s, 4 * SEC);
	n = client_hello(d, 0x0301);
	send_data(&CLI, &s, d, n, 4 * SEC);
	ck_assert_int_eq(threat_lines("tls_old_version", NULL, 0), 1);
	env_down();
}
END_TEST

START_TEST(test_ssh)
{
	static const char v1[] = "SSH-1.5-OpenSSH_1.2.3\r\n", v2[] = "SSH-2.0-OpenSSH_9.2\r\n";
	struct ep s = SRV, c = CLI;

	s.port = 22;
	env_up(ALLOW, true);
	handshake(&CLI, &s, 1 * SEC);
	send_data(&s, &CLI, v2, sizeof(v2) - 1, 1 * SEC);
	send_data(&CLI, &s, v2, sizeof(v2) - 1, 1 * SEC);
	/* only the first segment of each direction is an identification line */
	send_data(&CLI, &s, v1, sizeof(v1) - 1, 1 * SEC);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	c.port = 40001;
	handshake(&c, &s, 2 * SEC);
	send_data(&s, &c, v1, sizeof(v1) - 1, 2 * SEC);
	ck_assert_int_eq(threat_lines("ssh_v1", NULL, 0), 1);
	env_down();
}
END_TEST

/* A DNS query for name (dotted) of qtype, over UDP from port sport. */
static void dns_query(uint16_t sport, const char *name, uint16_t qtype, uint64_t now)
{
	uint8_t q[300] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t n = 12;
	struct frame f;
	struct ep c = CLI, s = SRV;
	uint8_t *u;

	for (const char *p = name; *p;) {
		size_t l = strcspn(p, ".");

		q[n++] = (uint8_t)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + (p[l] == '.');
	}
	q[n++] = 0;
	put16(q + n, qtype);
	put16(q + n + 2, 1);
	n += 4;
	c.port = sport;
	s.port = 53;
	u = ip4(&f, &c, &s, IPPROTO_UDP, 3, 0, 8 + n);
	put16(u, sport);
	put16(u + 2, 53);
	put16(u + 4, (uint16_t)(8 + n));
	put16(u + 6, 0);
	memcpy(u + 8, q, n);
	send_frame(&f, now);
}

START_TEST(test_dns)
{
	char name[128];

	env_up(ALLOW, true);
	dns_query(5000, "www.example.com", 1, 1 * SEC);
	ck_assert_int_eq(threat_lines(NULL, NULL, 0), 0);
	dns_query(5001, "example.com", 252, 1 * SEC);
	ck_assert_int_eq(threat_lines("dns_zone_transfer", NULL, 0), 1);
	dns_query(5002, "example.com", 10, 1 * SEC);
	ck_assert_int_eq(threat_lines("dns_type_null", NULL, 0), 1);
	/* many long random names under one domain, each from its own port */
	for (int i = 0; i < 40; i++) {
		uint8_t r[40];

		random_bytes(r, sizeof(r), (uint32_t)i + 7);
		for (size_t j = 0; j < sizeof(r); j++)
			name[j] = "abcdefghijklmnopqrstuvwxyz0123456789"[r[j] % 36];
		snprintf(name + sizeof(r), sizeof(name) - sizeof(r), ".t.tunnel.example");
		dns_query((uint16_t)(6000 + i), name, 16, 2 * SEC + (uint64_t)i * (SEC / 10));
	}
	ck_assert_int_eq(threat_lines("dns_tunneling", NULL, 0), 1);
	env_down();
}
END_TEST

/* Which sessions still need their payload read, each way (session bypass waits for the rest). */
START_TEST(test_payload_done)
{
	struct session s;

	memset(&s, 0, sizeof(s));
	s.app.done = true;
	s.app.app = APP_HTTP; /* requests are read, responses not */
	ck_assert(!threat_payload_done(&s, true));
	ck_assert(threat_payload_done(&s, false));
	s.app.app = APP_DNS;
	ck_assert(!threat_payload_done(&s, true));
	ck_assert(threat_payload_done(&s, false));
	s.app.app = APP_TLS;
	ck_assert(!threat_payload_done(&s, true));
	ck_assert(!threat_payload_done(&s, false));
	s.app.app = APP_SSH;
	ck_assert(!threat_payload_done(&s, true));
	ck_assert(!threat_payload_done(&s, false));
	s.threat.flags = THREAT_SESS_DIR_C;
	ck_assert(threat_payload_done(&s, true));
	ck_assert(!threat_payload_done(&s, false));
	s.threat.flags |= THREAT_SESS_DIR_S;
	ck_assert(threat_payload_done(&s, false));
	s.app.app = APP_UNKNOWN;
	ck_assert(threat_payload_done(&s, true) && threat_payload_done(&s, false));
	s.app.app = APP_MYSQL;
	ck_assert(threat_payload_done(&s, true) && threat_payload_done(&s, false));
}
END_TEST

/* The raw window the kernel must not bypass: tcp_small_window's, unscaled. */
START_TEST(test_small_window_raw)
{
	struct session s;

	memset(&s, 0, sizeof(s));
	s.key.proto = IPPROTO_TCP;
	ck_assert_uint_eq(threat_small_window_raw(&s), 64); /* no scale agreed */
	s.threat.win_s = 1 + 1;				    /* shift 1 */
	ck_assert_uint_eq(threat_small_window_raw(&s), 32);
	s.threat.win_s = 1 + 5; /* 63 << 5 >= 64, 1 << 5 < 64 */
	ck_assert_uint_eq(threat_small_window_raw(&s), 2);
	s.threat.win_s = 1 + 7; /* Linux: only a zero window is small */
	ck_assert_uint_eq(threat_small_window_raw(&s), 1);
	s.threat.win_s = 1 + 14;
	ck_assert_uint_eq(threat_small_window_raw(&s), 1);
	s.picked_up = true; /* scale unknown: not judged */
	ck_assert_uint_eq(threat_small_window_raw(&s), 0);
	s.picked_up = false;
	s.key.proto = IPPROTO_UDP;
	ck_assert_uint_eq(threat_small_window_raw(&s), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("threat");
	SRunner *sr;
	TCase *tc;
	int failed;

	/* the line, the counts, the engine's own answers */
	tc = tcase_create("engine");
	tcase_add_test(tc, test_line_and_count);
	tcase_add_test(tc, test_names_and_severities);
	tcase_add_test(tc, test_off_runs_nothing);
	tcase_add_test(tc, test_payload_done);
	tcase_add_test(tc, test_small_window_raw);
	suite_add_tcase(s, tc);
	/* the frame detectors (dp/threat/net/) */
	tc = tcase_create("net");
	tcase_add_test(tc, test_syn_flood);
	tcase_add_test(tc, test_syn_flood_drop);
	tcase_add_test(tc, test_syn_flood_with_full_table);
	tcase_add_test(tc, test_syn_flood_across_workers);
	tcase_add_test(tc, test_slowloris_across_workers);
	tcase_add_test(tc, test_syn_flood_two_threads);
	tcase_add_test(tc, test_syn_flood_survives_many_destinations);
	tcase_add_test(tc, test_icmp_flood);
	tcase_add_test(tc, test_ping_of_death);
	tcase_add_test(tc, test_teardrop);
	tcase_add_test(tc, test_fragments_that_fit);
	tcase_add_test(tc, test_normal_handshake_silent);
	tcase_add_test(tc, test_split_handshake);
	tcase_add_test(tc, test_small_mss);
	tcase_add_test(tc, test_small_window);
	tcase_add_test(tc, test_scaled_window_silent);
	tcase_add_test(tc, test_download_with_zero_windows);
	tcase_add_test(tc, test_icmp_tunneling);
	tcase_add_test(tc, test_ping_silent);
	tcase_add_test(tc, test_slowloris);
	suite_add_tcase(s, tc);
	/* what drop does in fwd and in tap */
	tc = tcase_create("actions");
	tcase_add_test(tc, test_drop_cuts_in_fwd);
	tcase_add_test(tc, test_drop_in_tap_is_violation);
	tcase_add_test(tc, test_drop_fragment);
	suite_add_tcase(s, tc);
	/* the payload detectors (dp/threat/app/) on identified sessions */
	tc = tcase_create("app");
	tcase_add_test(tc, test_http_every_request);
	tcase_add_test(tc, test_http_smuggling_drop);
	tcase_add_test(tc, test_tls);
	tcase_add_test(tc, test_ssh);
	tcase_add_test(tc, test_dns);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
