// SPDX-License-Identifier: Apache-2.0
/*
 * icmp_tunneling: data carried in echo payloads.  An echo request or reply
 * of at least TUNNEL_MIN_LEN payload bytes that look random counts; at
 * TUNNEL_RUN of them within TUNNEL_WINDOW_S seconds on one session (one
 * echo identifier) it is reported.
 *
 * "Random" is measured twice over the first TUNNEL_SAMPLE bytes: the
 * Shannon entropy of the bytes and of the differences between neighbours,
 * and the smaller counts.  ping's payload counts up (0x10, 0x11, ...), so
 * at -s 1400 every byte value is equally frequent (8 bits/byte by the
 * first measure) while its differences are all 1 (0 bits); a repeated
 * pattern (ping -p) is low by both.  Encrypted or compressed data is high
 * by both.  The bar is TUNNEL_BITS bits/byte, or for payloads under 256
 * bytes, which cannot reach that, 90% of log2 of their length.
 */
#include <math.h>
#include <netinet/in.h>

#include "dp/threat/threat_ctx.h"
#include "dp/threat/threat_int.h"

#define TUNNEL_MIN_LEN 64
#define TUNNEL_SAMPLE 1024
#define TUNNEL_BITS 6.5
#define TUNNEL_RUN 10
#define TUNNEL_WINDOW_S 10

static double entropy(const uint16_t *hist, size_t n)
{
	double e = 0;

	for (int i = 0; i < 256; i++) {
		double q;

		if (!hist[i])
			continue;
		q = (double)hist[i] / (double)n;
		e -= q * log2(q);
	}
	return e;
}

/* The lower of the byte and neighbour-difference entropies, bits/byte. */
static double randomness(const uint8_t *d, size_t n)
{
	uint16_t bytes[256] = { 0 }, diffs[256] = { 0 };

	bytes[d[0]]++;
	for (size_t i = 1; i < n; i++) {
		bytes[d[i]]++;
		diffs[(uint8_t)(d[i] - d[i - 1])]++;
	}
	return fmin(entropy(bytes, n), entropy(diffs, n - 1));
}

static bool echo(const struct pkt *p)
{
	if (p->proto == IPPROTO_ICMP)
		return p->icmp_type == 8 || p->icmp_type == 0;
	return p->icmp_type == 128 || p->icmp_type == 129;
}

void threat_icmp(struct threat_ctx *t, struct threat_pkt *tp)
{
	const struct pkt *p = tp->p;
	struct threat_sess *ts = &tp->s->threat;
	size_t n = p->payload_len < TUNNEL_SAMPLE ? p->payload_len : TUNNEL_SAMPLE;
	uint8_t now_s = (uint8_t)(tp->now_ns / NS_PER_SEC);
	struct threat_hit h;
	double bits;

	if (n < TUNNEL_MIN_LEN || !echo(p))
		return;
	bits = randomness(p->payload, n);
	if (bits < fmin(TUNNEL_BITS, 0.9 * log2((double)n)))
		return;
	/* sessions idle for 30 s end, so seconds mod 256 do not wrap inside one */
	if (!ts->run || (uint8_t)(now_s - ts->win_s) >= TUNNEL_WINDOW_S) {
		ts->run = 0;
		ts->win_s = now_s;
	}
	if (ts->run < TUNNEL_RUN)
		ts->run++;
	if (ts->run < TUNNEL_RUN)
		return;
	threat_hit_set(&h, THREAT_ICMP_TUNNELING,
		       "%u echo payloads at >= %.1f bits/byte within %u s (last %zu bytes, %.2f)",
		       TUNNEL_RUN, fmin(TUNNEL_BITS, 0.9 * log2((double)n)), TUNNEL_WINDOW_S,
		       p->payload_len, bits);
	threat_report(t, tp, &h, true);
}
