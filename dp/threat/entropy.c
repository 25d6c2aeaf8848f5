// SPDX-License-Identifier: Apache-2.0
/*
 * Shannon entropy of a buffer in bits per byte, times 1000:
 * H = log2(n) - (1/n) * sum(c * log2(c)) over the byte counts c.
 */
#include <math.h>
#include <string.h>

#include "threat_int.h"

uint16_t threat_entropy_milli(const uint8_t *d, size_t len)
{
	uint32_t count[256];
	double sum = 0, n = (double)len, h;

	if (len < 2)
		return 0;
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < len; i++)
		count[d[i]]++;
	for (size_t b = 0; b < 256; b++)
		if (count[b] > 1)
			sum += count[b] * log2(count[b]);
	h = log2(n) - sum / n;
	if (h <= 0)
		return 0;
	return (uint16_t)lround(h * 1000);
}
