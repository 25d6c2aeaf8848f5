/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What TCP stream reassembly costs per segment: 1448-byte segments handed
 * to a consumer directly (the floor: what the data plane does without
 * reassembly) and through reasm_segment, in order (the zero-copy path), with
 * a consumer that leaves a 100-byte tail each time (every segment copied
 * once), and with one segment in ten arriving after its successor (held,
 * then delivered with it in one view).  Two consumers: one that reads
 * nothing (the module's cost alone, the worst ratio) and one that sums
 * every byte (a parser's minimum).  Not run by the tests:
 *
 *     cmake --build build --target pc-reasm-bench && build/bin/pc-reasm-bench
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dp/flow/reasm.h"

#define SEG 1448
#define NSEGS 1000000u
/* each configuration's best of this many, interleaved: the least disturbed */
#define REPS 5
#define RING 1024 /* distinct segments in memory: 1.4 MB, as a ring's blocks */

static uint8_t payload[RING * SEG];
static volatile uint64_t sink_out;

struct consumer {
	bool read_all;
	size_t leave;
	uint64_t sum;
};

__attribute__((noinline)) static size_t consume(void *arg, const struct reasm_view *v)
{
	struct consumer *c = arg;

	if (c->read_all) {
		for (size_t i = 0; i < v->len; i++)
			c->sum += v->data[i];
	} else {
		c->sum += v->data[0] + v->len;
	}
	return v->len > c->leave ? v->len - c->leave : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* called through a pointer the compiler cannot see through, as reasm_segment calls it */
static reasm_sink_fn volatile direct_fn = consume;

/* the floor: each segment handed to the consumer as it is */
static double run_direct(struct consumer *c)
{
	double t = now();

	for (uint32_t i = 0; i < NSEGS; i++) {
		struct reasm_view v = {
			.data = payload + (i % RING) * SEG, .len = SEG, .seq = i * SEG, .fresh = SEG
		};

		direct_fn(c, &v);
	}
	return now() - t;
}

/* through reassembly; reorder: segments 10k+5 and 10k+6 swapped */
static double run_reasm(struct consumer *c, bool reorder, struct reasm_stats *st)
{
	struct reasm_pool pool;
	struct reasm_ctx ctx;
	struct reasm_limits lim;
	struct reasm_dir d = { 0 };
	uint32_t base = (uint32_t)-1000000; /* wraps on the way */
	double t;

	reasm_pool_init(&pool, REASM_POOL_DEFAULT);
	reasm_limits_default(&lim);
	if (reasm_ctx_init(&ctx, &pool, &lim) < 0)
		abort();
	reasm_dir_pickup(&d, base);
	t = now();
	for (uint32_t i = 0; i < NSEGS; i++) {
		uint32_t k = i;

		if (reorder && i % 10 == 5)
			k = i + 1;
		else if (reorder && i % 10 == 6)
			k = i - 1;
		reasm_segment(&ctx, &d, base + k * SEG, payload + (k % RING) * SEG, SEG, consume, c,
			      NULL);
	}
	t = now() - t;
	reasm_dir_free(&ctx, &d);
	*st = ctx.st;
	if (reasm_pool_used(&pool))
		abort();
	return t;
}

static void report(const char *what, double secs, double floor)
{
	double mb = (double)NSEGS * SEG / 1e6;

	printf("  %-34s %8.0f MB/s %7.1f ns/seg", what, mb / secs, secs * 1e9 / NSEGS);
	if (floor > 0)
		printf("  %+6.1f ns/seg vs direct", (secs - floor) * 1e9 / NSEGS);
	printf("\n");
}

static void suite(bool read_all)
{
	static const char *const names[] = { "direct (no reassembly)",
					     "reasm in order, all consumed",
					     "reasm in order, 100-byte tail kept",
					     "reasm 1 in 10 reordered" };
	double best[4] = { 1e9, 1e9, 1e9, 1e9 }, t;
	struct consumer c = { .read_all = read_all };
	struct reasm_stats st;

	for (int rep = 0; rep < REPS; rep++) {
		for (int k = 0; k < 4; k++) {
			c.leave = k == 2 ? 100 : 0;
			t = k ? run_reasm(&c, k == 3, &st) : run_direct(&c);
			if (k == 3 && (st.held != NSEGS / 10 || st.gaps_filled != NSEGS / 10))
				abort();
			if (t < best[k])
				best[k] = t;
		}
	}
	printf("consumer %s:\n", read_all ? "sums every byte" : "reads nothing");
	for (int k = 0; k < 4; k++)
		report(names[k], best[k], k ? best[0] : 0);
	sink_out = c.sum;
}

int main(void)
{
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 2654435761u >> 13);
	printf("%u segments of %u bytes, best of %d\n", NSEGS, SEG, REPS);
	suite(false);
	suite(true);
	return 0;
}
