/* SPDX-License-Identifier: Apache-2.0 */
/* ttrpc: messages cut anywhere, limits, stream ids, envelopes. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/err.h"
#include "nri/ttrpc.h"

/* Copies of the messages delivered. */
struct got {
	unsigned n;
	struct {
		uint32_t stream;
		uint8_t type, flags;
		uint8_t data[512];
		uint32_t len;
	} m[8];
};

static int keep(const struct ttrpc_msg *m, void *arg)
{
	struct got *g = arg;

	ck_assert_uint_lt(g->n, 8);
	ck_assert_uint_le(m->len, sizeof(g->m[0].data));
	g->m[g->n].stream = m->stream;
	g->m[g->n].type = m->type;
	g->m[g->n].flags = m->flags;
	g->m[g->n].len = m->len;
	memcpy(g->m[g->n].data, m->data, m->len);
	g->n++;
	return 0;
}

/* A request, an error response and an OK response with a payload, back to back. */
static size_t sample(uint8_t *buf)
{
	uint8_t *m;
	size_t n, at = 0;

	ck_assert_int_eq(ttrpc_build_request(1, "svc.A", "Get", (const uint8_t *)"\x0a\x01x", 3,
					     2000000000, &m, &n),
			 0);
	memcpy(buf + at, m, n), at += n, free(m);
	ck_assert_int_eq(
		ttrpc_build_response(1, TTRPC_UNIMPLEMENTED, "method Get", NULL, 0, &m, &n), 0);
	memcpy(buf + at, m, n), at += n, free(m);
	ck_assert_int_eq(
		ttrpc_build_response(3, TTRPC_OK, NULL, (const uint8_t *)"\x10\x07", 2, &m, &n), 0);
	memcpy(buf + at, m, n), at += n, free(m);
	return at;
}

static void check_sample(const struct got *g)
{
	struct ttrpc_msg m;
	struct ttrpc_call c;
	struct ttrpc_reply r;

	ck_assert_uint_eq(g->n, 3);
	ck_assert_uint_eq(g->m[0].type, TTRPC_REQUEST);
	ck_assert_uint_eq(g->m[0].flags, TTRPC_FLAG_REMOTE_CLOSED);
	ck_assert_uint_eq(g->m[0].stream, 1);
	m = (struct ttrpc_msg){ .stream = 1, .data = g->m[0].data, .len = g->m[0].len };
	ck_assert_int_eq(ttrpc_call_decode(&m, &c), 0);
	ck_assert_str_eq(c.service, "svc.A");
	ck_assert_str_eq(c.method, "Get");
	ck_assert_uint_eq(c.payload_len, 3);
	ck_assert_mem_eq(c.payload, "\x0a\x01x", 3);
	ck_assert_int_eq(c.timeout_nano, 2000000000);
	ttrpc_call_free(&c);

	ck_assert_uint_eq(g->m[1].type, TTRPC_RESPONSE);
	m = (struct ttrpc_msg){ .stream = 1, .data = g->m[1].data, .len = g->m[1].len };
	ck_assert_int_eq(ttrpc_reply_decode(&m, &r), 0);
	ck_assert_int_eq(r.code, TTRPC_UNIMPLEMENTED);
	ck_assert_str_eq(r.message, "method Get");
	ck_assert_uint_eq(r.payload_len, 0);
	ttrpc_reply_free(&r);

	ck_assert_uint_eq(g->m[2].stream, 3);
	m = (struct ttrpc_msg){ .stream = 3, .data = g->m[2].data, .len = g->m[2].len };
	ck_assert_int_eq(ttrpc_reply_decode(&m, &r), 0);
	ck_assert_int_eq(r.code, TTRPC_OK);
	ck_assert_uint_eq(r.payload_len, 2);
	ck_assert_mem_eq(r.payload, "\x10\x07", 2);
	ttrpc_reply_free(&r);
}

START_TEST(test_several_in_one_read)
{
	struct got g = { 0 };
	struct ttrpc_rx rx;
	uint8_t buf[512];
	size_t n = sample(buf);

	ttrpc_rx_init(&rx);
	ck_assert_int_eq(ttrpc_rx_feed(&rx, buf, n, keep, &g), 0);
	check_sample(&g);
	ttrpc_rx_free(&rx);
}
END_TEST

START_TEST(test_split_everywhere)
{
	static struct got g;
	struct ttrpc_rx rx;
	uint8_t buf[512];
	size_t n = sample(buf);

	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j++) {
			memset(&g, 0, sizeof(g));
			ttrpc_rx_init(&rx);
			ck_assert_int_eq(ttrpc_rx_feed(&rx, buf, i, keep, &g), 0);
			ck_assert_int_eq(ttrpc_rx_feed(&rx, buf + i, j - i, keep, &g), 0);
			ck_assert_int_eq(ttrpc_rx_feed(&rx, buf + j, n - j, keep, &g), 0);
			check_sample(&g);
			ck_assert_ptr_null(rx.body);
		}
	}
}
END_TEST

START_TEST(test_byte_by_byte)
{
	struct got g = { 0 };
	struct ttrpc_rx rx;
	uint8_t buf[512];
	size_t n = sample(buf);

	ttrpc_rx_init(&rx);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(ttrpc_rx_feed(&rx, buf + i, 1, keep, &g), 0);
	check_sample(&g);
}
END_TEST

/* A message with an empty body (header only) is delivered too. */
START_TEST(test_empty_body)
{
	uint8_t hdr[10] = { 0, 0, 0, 0, 0, 0, 0, 5, TTRPC_DATA, 0x5 };
	struct got g = { 0 };
	struct ttrpc_rx rx;

	ttrpc_rx_init(&rx);
	ck_assert_int_eq(ttrpc_rx_feed(&rx, hdr, sizeof(hdr), keep, &g), 0);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.m[0].stream, 5);
	ck_assert_uint_eq(g.m[0].type, TTRPC_DATA);
	ck_assert_uint_eq(g.m[0].len, 0);
}
END_TEST

START_TEST(test_hostile_length)
{
	uint8_t over[10] = { 0x00, 0x40, 0x00, 0x01, 0, 0, 0, 9, 1, 0 }; /* 4 MiB + 1 */
	uint8_t huge[10] = { 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9, 1, 0 };
	uint8_t max[10] = { 0x00, 0x40, 0x00, 0x00, 0, 0, 0, 9, 1, 0 }; /* exactly 4 MiB */
	struct got g = { 0 };
	struct ttrpc_rx rx;

	ttrpc_rx_init(&rx);
	err_clear();
	ck_assert_int_eq(ttrpc_rx_feed(&rx, over, sizeof(over), keep, &g), -EMSGSIZE);
	ck_assert_msg(strstr(err_msg(), "4194305 bytes on stream 9") &&
			      strstr(err_msg(), "over the limit"),
		      "message: %s", err_msg());
	ck_assert_ptr_null(rx.body);
	ttrpc_rx_init(&rx);
	ck_assert_int_eq(ttrpc_rx_feed(&rx, huge, sizeof(huge), keep, &g), -EMSGSIZE);
	ttrpc_rx_init(&rx);
	ck_assert_int_eq(ttrpc_rx_feed(&rx, max, sizeof(max), keep, &g), 0);
	ck_assert_ptr_nonnull(rx.body);
	ck_assert_uint_eq(g.n, 0);
	ttrpc_rx_free(&rx);
}
END_TEST

START_TEST(test_garbage_envelopes)
{
	/* field 1 (string) claims 100 bytes, 2 follow */
	static const uint8_t bad[] = { 0x0a, 100, 'a', 'b' };
	struct ttrpc_msg m = { .stream = 7, .data = bad, .len = sizeof(bad) };
	struct ttrpc_call c;
	struct ttrpc_reply r;

	ck_assert_int_eq(ttrpc_call_decode(&m, &c), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err_msg(), "stream 7"));
	ck_assert_int_eq(ttrpc_reply_decode(&m, &r), -EBADMSG);
}
END_TEST

START_TEST(test_server_ids)
{
	uint32_t last = 0;

	ck_assert_int_eq(ttrpc_server_check_id(&last, 1), 0);
	ck_assert_int_eq(ttrpc_server_check_id(&last, 3), 0);
	ck_assert_int_eq(ttrpc_server_check_id(&last, 3), -EINVAL); /* reused */
	ck_assert_ptr_nonnull(strstr(err_msg(), "not above the last one, 3"));
	ck_assert_int_eq(ttrpc_server_check_id(&last, 1), -EINVAL); /* went back */
	ck_assert_int_eq(ttrpc_server_check_id(&last, 4), -EINVAL); /* even */
	ck_assert_ptr_nonnull(strstr(err_msg(), "odd"));
	ck_assert_int_eq(ttrpc_server_check_id(&last, 0), -EINVAL);
	ck_assert_int_eq(ttrpc_server_check_id(&last, 9), 0); /* gaps are fine */
	ck_assert_uint_eq(last, 9);
}
END_TEST

START_TEST(test_client_ids)
{
	uint32_t next = 0;

	ck_assert_uint_eq(ttrpc_client_next_id(&next), 1);
	ck_assert_uint_eq(ttrpc_client_next_id(&next), 3);
	ck_assert_uint_eq(ttrpc_client_next_id(&next), 5);
	next = 1;
	ck_assert_uint_eq(ttrpc_client_next_id(&next), 1);
}
END_TEST

/* The header as documented: length, stream, type, flags, big-endian. */
START_TEST(test_header_layout)
{
	uint8_t *m;
	size_t n;

	ck_assert_int_eq(
		ttrpc_build_response(0x01020305, TTRPC_OK, NULL, (const uint8_t *)"ab", 2, &m, &n),
		0);
	ck_assert_uint_eq(n, 10 + 4); /* field 2, length 2, "ab" */
	ck_assert_mem_eq(m, "\x00\x00\x00\x04\x01\x02\x03\x05\x02\x00", 10);
	ck_assert_mem_eq(m + 10,
			 "\x12\x02"
			 "ab",
			 4);
	free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nri_ttrpc");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_several_in_one_read);
	tcase_add_test(tc, test_split_everywhere);
	tcase_add_test(tc, test_byte_by_byte);
	tcase_add_test(tc, test_empty_body);
	tcase_add_test(tc, test_hostile_length);
	tcase_add_test(tc, test_garbage_envelopes);
	tcase_add_test(tc, test_server_ids);
	tcase_add_test(tc, test_client_ids);
	tcase_add_test(tc, test_header_layout);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
