/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_TEST_FRAME_UTIL_H
#define PORTCULLIS_TEST_FRAME_UTIL_H

/* What the unit tests that build frames in memory share. */

#include <stddef.h>
#include <stdint.h>

struct frame {
	uint8_t b[2048];
	size_t len;
};

/* Network-order writers. */
static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

#endif
