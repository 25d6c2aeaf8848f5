/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_THREAT_INT_H
#define PORTCULLIS_DP_THREAT_INT_H

/*
 * What the detectors of dp/threat/ share: byte readers whose bounds the
 * caller checks, and the writers of a hit's evidence.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/threat/app/detect.h"
#include "lib/core/util.h"

static inline uint8_t threat_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* the hit's id and its evidence from fmt, every byte outside ' '..'~' made '.' */
void threat_hit_set(struct threat_hit *hit, enum threat_id id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * n bytes of s into dst[cap] as printable ASCII, NUL-terminated; when they
 * do not fit, the copy ends in "...".  Returns the length written.
 */
size_t threat_text(char *dst, size_t cap, const uint8_t *s, size_t n);

/* whether d[0..len) starts with lit, ASCII case ignored */
bool threat_ci_prefix(const uint8_t *d, size_t len, const char *lit);

#endif
