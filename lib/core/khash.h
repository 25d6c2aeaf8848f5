/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_KHASH_H
#define PORTCULLIS_KHASH_H

/*
 * A keyed hash for tables whose indexes an attacker chooses (flow tuples,
 * addresses, fragment ids, domain names): SipHash-1-3 under a 128-bit key
 * drawn from getrandom(2) when the table is made.  Without the key, which
 * never leaves the process, nobody can pick inputs that land in one bucket
 * or one slot, so chains stay short and slots are shared by chance only.
 *
 * SipHash-1-3 (one compression round per 8 bytes, three to finalize) is
 * the variant Rust's HashMap and CPython use against hash flooding: the
 * attacker sees no hash value, only what eviction or a longer chain does
 * to its own traffic.  khash_sip() takes the rounds as arguments so that
 * the reference vectors of SipHash-2-4 check the construction; callers use
 * khash().
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct khash_key {
	uint64_t k0, k1;
};

/* A fresh random key (getrandom, blocking only until the kernel's pool is ready); -errno. */
int khash_key_init(struct khash_key *key);

#define KHASH_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline void khash_rounds(uint64_t v[4], unsigned n)
{
	while (n--) {
		v[0] += v[1];
		v[1] = KHASH_ROTL(v[1], 13);
		v[1] ^= v[0];
		v[0] = KHASH_ROTL(v[0], 32);
		v[2] += v[3];
		v[3] = KHASH_ROTL(v[3], 16);
		v[3] ^= v[2];
		v[0] += v[3];
		v[3] = KHASH_ROTL(v[3], 21);
		v[3] ^= v[0];
		v[2] += v[1];
		v[1] = KHASH_ROTL(v[1], 17);
		v[1] ^= v[2];
		v[2] = KHASH_ROTL(v[2], 32);
	}
}

static inline uint64_t khash_le64(const uint8_t *p)
{
	uint64_t m;

	memcpy(&m, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	m = __builtin_bswap64(m);
#endif
	return m;
}

/* SipHash-c-d of len bytes at data under key. */
static inline uint64_t khash_sip(const struct khash_key *key, const void *data, size_t len,
				 unsigned c, unsigned d)
{
	uint64_t v[4] = { 0x736f6d6570736575ULL ^ key->k0, 0x646f72616e646f6dULL ^ key->k1,
			  0x6c7967656e657261ULL ^ key->k0, 0x7465646279746573ULL ^ key->k1 };
	const uint8_t *p = data, *end = p + (len & ~(size_t)7);
	uint64_t b = (uint64_t)len << 56, m;

	for (; p != end; p += 8) {
		m = khash_le64(p);
		v[3] ^= m;
		khash_rounds(v, c);
		v[0] ^= m;
	}
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[i] << (8 * i);
	v[3] ^= b;
	khash_rounds(v, c);
	v[0] ^= b;
	v[2] ^= 0xff;
	khash_rounds(v, d);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* The keyed hash of len bytes at data. */
static inline uint64_t khash(const struct khash_key *key, const void *data, size_t len)
{
	return khash_sip(key, data, len, 1, 3);
}

#endif
