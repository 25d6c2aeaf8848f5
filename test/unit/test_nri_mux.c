/* SPDX-License-Identifier: Apache-2.0 */
/* NRI's connection multiplexer: frames cut anywhere, limits, sending. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/core/err.h"
#include "nri/mux.h"

/* What the decoder delivered, per connection. */
struct sink {
	uint8_t got[3][1 << 16];
	size_t len[3];
	unsigned calls;
	int fail_at; /* > 0: the fail_at-th delivery returns -EIO */
};

static int collect(uint32_t conn, const uint8_t *data, size_t len, void *arg)
{
	struct sink *s = arg;

	ck_assert_msg(conn == MUX_CONN_PLUGIN || conn == MUX_CONN_RUNTIME, "delivered conn %u",
		      conn);
	ck_assert_uint_gt(len, 0);
	if (s->fail_at && ++s->calls == (unsigned)s->fail_at)
		return -EIO;
	ck_assert_uint_le(s->len[conn] + len, sizeof(s->got[conn]));
	memcpy(s->got[conn] + s->len[conn], data, len);
	s->len[conn] += len;
	return 0;
}

static size_t put_frame(uint8_t *out, uint32_t conn, const void *data, uint32_t len)
{
	out[0] = conn >> 24, out[1] = conn >> 16, out[2] = conn >> 8, out[3] = conn;
	out[4] = len >> 24, out[5] = len >> 16, out[6] = len >> 8, out[7] = len;
	memcpy(out + 8, data, len);
	return 8 + len;
}

/*
 * A stream of frames on connections 1, 2, 7 (unknown: dropped) and an
 * empty one; conn 1 gets "hello world" in two frames, conn 2 "abc" + "xyz".
 */
static size_t sample(uint8_t *buf)
{
	size_t n = 0;

	n += put_frame(buf + n, 1, "hello ", 6);
	n += put_frame(buf + n, 2, "abc", 3);
	n += put_frame(buf + n, 7, "dropped", 7);
	n += put_frame(buf + n, 1, "", 0);
	n += put_frame(buf + n, 1, "world", 5);
	n += put_frame(buf + n, 2, "xyz", 3);
	return n;
}

static void check_sample(const struct sink *s)
{
	ck_assert_uint_eq(s->len[1], 11);
	ck_assert_mem_eq(s->got[1], "hello world", 11);
	ck_assert_uint_eq(s->len[2], 6);
	ck_assert_mem_eq(s->got[2], "abcxyz", 6);
}

START_TEST(test_whole)
{
	static struct sink s;
	struct mux_rx rx;
	uint8_t buf[256];
	size_t n = sample(buf);

	memset(&s, 0, sizeof(s));
	mux_rx_init(&rx);
	ck_assert_int_eq(mux_rx_feed(&rx, buf, n, collect, &s), 0);
	check_sample(&s);
}
END_TEST

/* Every cut into two reads, and then every cut into three. */
START_TEST(test_split_everywhere)
{
	static struct sink s;
	struct mux_rx rx;
	uint8_t buf[256];
	size_t n = sample(buf);

	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j++) {
			memset(&s, 0, sizeof(s));
			mux_rx_init(&rx);
			ck_assert_int_eq(mux_rx_feed(&rx, buf, i, collect, &s), 0);
			ck_assert_int_eq(mux_rx_feed(&rx, buf + i, j - i, collect, &s), 0);
			ck_assert_int_eq(mux_rx_feed(&rx, buf + j, n - j, collect, &s), 0);
			check_sample(&s);
			ck_assert_uint_eq(rx.hdr_have, 0); /* between frames at the end */
		}
	}
}
END_TEST

START_TEST(test_byte_by_byte)
{
	static struct sink s;
	struct mux_rx rx;
	uint8_t buf[256];
	size_t n = sample(buf);

	memset(&s, 0, sizeof(s));
	mux_rx_init(&rx);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(mux_rx_feed(&rx, buf + i, 1, collect, &s), 0);
	check_sample(&s);
}
END_TEST

/* A length over 1<<24 is refused at the header, before any payload. */
START_TEST(test_hostile_length)
{
	static struct sink s;
	uint8_t hdr[8] = { 0, 0, 0, 1, 0x01, 0x00, 0x00, 0x01 }; /* (1<<24) + 1 */
	uint8_t max[8] = { 0, 0, 0, 2, 0x01, 0x00, 0x00, 0x00 }; /* exactly 1<<24 */
	uint8_t huge[8] = { 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff };
	struct mux_rx rx;

	memset(&s, 0, sizeof(s));
	mux_rx_init(&rx);
	err_clear();
	ck_assert_int_eq(mux_rx_feed(&rx, hdr, 8, collect, &s), -EPROTO);
	ck_assert_msg(strstr(err_msg(), "16777217 bytes on connection 1") &&
			      strstr(err_msg(), "over the limit"),
		      "message: %s", err_msg());
	mux_rx_init(&rx);
	ck_assert_int_eq(mux_rx_feed(&rx, huge, 8, collect, &s), -EPROTO);
	mux_rx_init(&rx);
	ck_assert_int_eq(mux_rx_feed(&rx, max, 8, collect, &s), 0);
	ck_assert_uint_eq(rx.left, 1u << 24);
	ck_assert_uint_eq(s.len[1] + s.len[2], 0);
}
END_TEST

START_TEST(test_deliver_error_stops)
{
	static struct sink s;
	struct mux_rx rx;
	uint8_t buf[256];
	size_t n = sample(buf);

	memset(&s, 0, sizeof(s));
	s.fail_at = 2;
	mux_rx_init(&rx);
	ck_assert_int_eq(mux_rx_feed(&rx, buf, n, collect, &s), -EIO);
	ck_assert_uint_eq(s.len[1], 6);
	ck_assert_uint_eq(s.len[2], 0);
}
END_TEST

struct reader {
	int fd;
	size_t want;
	uint8_t *buf;
	size_t have;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	ssize_t n;

	while (r->have < r->want && (n = read(r->fd, r->buf + r->have, r->want - r->have)) > 0) {
		r->have += n;
		usleep(100); /* a slow reader: the writer meets a full socket */
	}
	return NULL;
}

/* mux_send cuts into frames of at most MUX_SEND_MAX, in order, whatever the socket takes. */
START_TEST(test_send_frames)
{
	size_t len = 3 * MUX_SEND_MAX + 123, frames = 4, at = 0;
	uint8_t *data = malloc(len);
	struct reader r = { .want = len + frames * MUX_HDR_LEN };
	int sv[2], small = 4096;
	pthread_t t;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	r.fd = sv[1];
	r.buf = malloc(r.want);
	pthread_create(&t, NULL, read_all, &r);
	ck_assert_int_eq(mux_send(sv[0], MUX_CONN_RUNTIME, data, len), 0);
	pthread_join(t, NULL);
	ck_assert_uint_eq(r.have, r.want);
	for (size_t f = 0, off = 0; f < frames; f++) {
		uint32_t conn = r.buf[off] << 24 | r.buf[off + 1] << 16 | r.buf[off + 2] << 8 |
				r.buf[off + 3];
		uint32_t n = r.buf[off + 4] << 24 | r.buf[off + 5] << 16 | r.buf[off + 6] << 8 |
			     r.buf[off + 7];

		ck_assert_uint_eq(conn, MUX_CONN_RUNTIME);
		ck_assert_uint_eq(n, f < 3 ? MUX_SEND_MAX : 123);
		ck_assert_mem_eq(r.buf + off + 8, data + at, n);
		at += n;
		off += 8 + n;
	}
	close(sv[0]);
	close(sv[1]);
	free(data);
	free(r.buf);
}
END_TEST

START_TEST(test_send_closed_peer)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	ck_assert_int_eq(mux_send(sv[0], 1, (const uint8_t *)"x", 1), -EPIPE);
	ck_assert_ptr_nonnull(strstr(err_msg(), "mux write"));
	close(sv[0]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nri_mux");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_whole);
	tcase_add_test(tc, test_split_everywhere);
	tcase_add_test(tc, test_byte_by_byte);
	tcase_add_test(tc, test_hostile_length);
	tcase_add_test(tc, test_deliver_error_stops);
	tcase_add_test(tc, test_send_frames);
	tcase_add_test(tc, test_send_closed_peer);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
