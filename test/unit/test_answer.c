// SPDX-License-Identifier: Apache-2.0
/*
 * Identification that waits for the server's answer, through
 * inspect_frame: Redis and memcached are named when the server's reply
 * fits the client's command, and not when it does not; the issue's
 * negative controls ("hello" answered by "hello back" on a high port,
 * random bytes both ways to TCP 80 and 443, random datagrams to UDP 53)
 * stay unknown; a provisional session is decided on the answer, and one
 * whose server never answers is still cut at provisional_bytes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "inspect_env.h"

/* Data from a to b where the direction goes on; its verdict. */
static enum inspect_verdict data_n(const struct ep *a, const struct ep *b, const void *d,
				   size_t len)
{
	send_tcp(a, b,
		 &(struct seg){ .flags = TCPF_ACK | TCPF_PSH, .win = 502, .data = d, .len = len },
		 2 * SEC);
	return last.verdict;
}

static enum inspect_verdict data(const struct ep *a, const struct ep *b, const char *s)
{
	return data_n(a, b, s, strlen(s));
}

/* A UDP datagram of len bytes from a to b. */
static void datagram(const struct ep *a, const struct ep *b, const uint8_t *d, size_t len)
{
	struct frame f;
	uint8_t *u = ip4(&f, a, b, IPPROTO_UDP, 1, 0, 8 + len);

	put16(u, a->port);
	put16(u + 2, b->port);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	memcpy(u + 8, d, len);
	send_frame(&f, 2 * SEC);
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void random_bytes(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rng();
}

/* exchanges whose answer names the protocol, at a fwd and at a tap port */
static const struct {
	uint16_t port;
	const char *client, *server;
	enum app_proto app;
} exchanges[] = {
	{ 6379, "PING\r\n", "+PONG\r\n", APP_REDIS },
	{ 6379, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "$-1\r\n", APP_REDIS },
	{ 11211, "get k\r\n", "END\r\n", APP_MEMCACHED },
	{ 11211, "version\r\n", "VERSION 1.6.21\r\n", APP_MEMCACHED },
	{ 6379, "get k\r\n", "$1\r\nv\r\n", APP_REDIS },
};

START_TEST(test_named_on_the_answer)
{
	const struct ep *srvs[] = { &SRV, &TAP_SRV };

	env_up(ALLOW, false);
	for (size_t i = 0; i < 2; i++) {
		const struct ep c = { CLI.ip, (uint16_t)(41000 + _i * 2 + i), MAC_EXT };
		const struct ep s = { srvs[i]->ip, exchanges[_i].port, srvs[i]->mac };

		handshake(&c, &s, SEC);
		ck_assert_int_eq(data(&c, &s, exchanges[_i].client), INSPECT_PASS);
		ck_assert_msg(!last.session->app.done, "%s: named without an answer",
			      exchanges[_i].client);
		ck_assert_int_eq(data(&s, &c, exchanges[_i].server), INSPECT_PASS);
		ck_assert_msg(last.session->app.done && last.session->app.app == exchanges[_i].app,
			      "%s / %s: %s", exchanges[_i].client, exchanges[_i].server,
			      app_name(last.session->app.app));
	}
	env_down();
}
END_TEST

/* The same commands answered by a line of something else: not named. */
START_TEST(test_refuted_by_the_answer)
{
	env_up(ALLOW, false);
	for (size_t i = 0; i < sizeof(exchanges) / sizeof(exchanges[0]); i++) {
		const struct ep c = { CLI.ip, (uint16_t)(42000 + i), MAC_EXT };
		const struct ep s = { SRV.ip, exchanges[i].port, MAC_FWD };

		handshake(&c, &s, SEC);
		data(&c, &s, exchanges[i].client);
		data(&s, &c, "hello back\r\n");
		ck_assert_msg(last.session->app.done, "%s", exchanges[i].client);
		ck_assert_msg(last.session->app.app == APP_UNKNOWN, "%s: %s", exchanges[i].client,
			      app_name(last.session->app.app));
	}
	env_down();
}
END_TEST

/* "hello" answered by "hello back" on a high port, the answer in two pieces. */
START_TEST(test_hello_back_unknown)
{
	const struct ep c = { CLI.ip, 43000, MAC_EXT }, s = { SRV.ip, 40001, MAC_FWD };

	env_up(ALLOW, false);
	handshake(&c, &s, SEC);
	data(&c, &s, "hello\r\n");
	ck_assert(!last.session->app.done);
	data(&s, &c, "hel");
	data(&s, &c, "lo back\r\n");
	ck_assert(last.session->app.done);
	ck_assert_int_eq(last.session->app.app, APP_UNKNOWN);
	ck_assert_uint_eq(in.st.app_found[APP_UNKNOWN], 1);
	ck_assert_uint_eq(in.st.app_found[APP_REDIS], 0);
	env_down();
}
END_TEST

/* Random bytes both ways to TCP 80 and 443, and datagrams to UDP 53: unknown. */
START_TEST(test_random_unknown)
{
	static const uint16_t ports[] = { 80, 443 };
	uint8_t b[2][700];

	env_up(ALLOW, false);
	rng_state = 0x2545f4914f6cdd1dull;
	for (size_t i = 0; i < 16; i++) {
		const struct ep c = { CLI.ip, (uint16_t)(44000 + i), MAC_EXT };
		const struct ep s = { SRV.ip, ports[i % 2], MAC_FWD };

		handshake(&c, &s, SEC);
		for (int k = 0; k < 3; k++) {
			random_bytes(b[0], sizeof(b[0]));
			random_bytes(b[1], sizeof(b[1]));
			data_n(&c, &s, b[0], 1 + rng() % sizeof(b[0]));
			data_n(&s, &c, b[1], 1 + rng() % sizeof(b[1]));
		}
		ck_assert_msg(last.session->app.app == APP_UNKNOWN, "tcp/%u flow %zu: %s", s.port,
			      i, app_name(last.session->app.app));
	}
	for (size_t i = 0; i < 64; i++) {
		const struct ep c = { CLI.ip, (uint16_t)(45000 + i), MAC_EXT };
		const struct ep s = { SRV.ip, 53, MAC_FWD };

		random_bytes(b[0], sizeof(b[0]));
		random_bytes(b[1], sizeof(b[1]));
		datagram(&c, &s, b[0], 12 + rng() % 500);
		datagram(&s, &c, b[1], 12 + rng() % 500);
		ck_assert_msg(last.session->app.app == APP_UNKNOWN, "udp/53 flow %zu: %s", i,
			      app_name(last.session->app.app));
	}
	env_down();
}
END_TEST

static const char *const REDIS_ONLY =
	"{\"default\": \"deny\", \"rules\": [{\"id\": 1, \"from\": \"any\", \"to\": \"any\","
	" \"ports\": [\"tcp/6379\"], \"apps\": [\"redis\"], \"action\": \"allow\"}]}";

/*
 * A session an app rule waits for: the command passes provisionally, the
 * answer decides it (allowed by the rule, or denied and reset), and a
 * client whose server never answers is cut at provisional_bytes.
 */
START_TEST(test_provisional_decided_on_the_answer)
{
	const struct ep c = { CLI.ip, 46000, MAC_EXT }, c2 = { CLI.ip, 46001, MAC_EXT },
			c3 = { CLI.ip, 46002, MAC_EXT }, s = { SRV.ip, 6379, MAC_FWD };
	size_t passed = 0;

	env_up(REDIS_ONLY, false);
	handshake(&c, &s, SEC);
	ck_assert_int_eq(data(&c, &s, "PING\r\n"), INSPECT_PASS);
	ck_assert(last.session->provisional);
	ck_assert_int_eq(data(&s, &c, "+PONG\r\n"), INSPECT_PASS);
	ck_assert(!last.session->provisional);
	ck_assert_int_eq(last.session->verdict, VERDICT_ALLOW);
	ck_assert_int_eq(last.session->rule, 1);

	handshake(&c2, &s, SEC);
	ck_assert_int_eq(data(&c2, &s, "hello\r\n"), INSPECT_PASS);
	ck_assert_int_eq(data(&s, &c2, "hello back\r\n"), INSPECT_DROP);
	ck_assert(last.reset);
	ck_assert_int_eq(last.session->verdict, VERDICT_DENY);
	ck_assert_int_eq(last.session->app.app, APP_UNKNOWN);

	handshake(&c3, &s, SEC);
	while (passed < 2 * INSPECT_PROVISIONAL_BYTES &&
	       data(&c3, &s, "SET k 1\r\nSET k 2\r\nSET k 3\r\nSET k 4\r\n") == INSPECT_PASS)
		passed += 36;
	ck_assert_uint_le(passed, INSPECT_PROVISIONAL_BYTES);
	ck_assert(last.session->app.done);
	ck_assert_int_eq(last.session->app.app, APP_UNKNOWN);
	ck_assert_int_eq(last.session->verdict, VERDICT_DENY);
	ck_assert_uint_eq(in.st.provisional_cut, 1);
	env_down();
}
END_TEST

static Suite *answer_suite(void)
{
	Suite *s = suite_create("answer");
	TCase *tc = tcase_create("answer");

	tcase_add_loop_test(tc, test_named_on_the_answer, 0,
			    sizeof(exchanges) / sizeof(exchanges[0]));
	tcase_add_test(tc, test_refuted_by_the_answer);
	tcase_add_test(tc, test_hello_back_unknown);
	tcase_add_test(tc, test_random_unknown);
	tcase_add_test(tc, test_provisional_decided_on_the_answer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(answer_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
