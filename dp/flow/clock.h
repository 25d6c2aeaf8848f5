/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_CLOCK_H
#define PORTCULLIS_DP_CLOCK_H

/* The data plane's clocks, in nanoseconds. */

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC: sessions, timeouts, the heartbeat (as bpf_ktime_get_ns). */
static inline uint64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* CLOCK_MONOTONIC in whole seconds: coarse timeouts (control clients). */
static inline time_t clock_mono_s(void)
{
	return (time_t)(clock_mono_ns() / 1000000000ULL);
}

/* CLOCK_REALTIME: times in log lines. */
static inline int64_t clock_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif
