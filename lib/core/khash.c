// SPDX-License-Identifier: Apache-2.0
/* The keys of keyed hashes: random, from the kernel, once per table. */
#include <errno.h>
#include <sys/random.h>

#include "err.h"
#include "khash.h"

int khash_key_init(struct khash_key *key)
{
	ssize_t n;

	/* no fallback to a guessable key: a table without a secret key is the bug */
	do
		n = getrandom(key, sizeof(*key), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*key))
		return err_set(n < 0 ? -errno : -EIO, "getrandom: a hash key");
	return 0;
}
