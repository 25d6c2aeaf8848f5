/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the pull journal reader (lib/pull/journal.c): a
 * file of state_dir that the next hook trusts to undo a pull.  A journal
 * that reads must be within its bounds and read back the same once written
 * again.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_file.h"
#include "lib/pull/journal.h"

static void check_same(const struct journal *a, const struct journal *b)
{
	fuzz_check(a->ns_ino == b->ns_ino && a->mode == b->mode && a->n == b->n);
	fuzz_check(strcmp(a->ns_path, b->ns_path) == 0);
	for (size_t i = 0; i < a->n; i++) {
		const struct journal_port *x = &a->ports[i], *y = &b->ports[i];

		fuzz_check(strcmp(x->ex_name, y->ex_name) == 0 &&
			   strcmp(x->in_name, y->in_name) == 0);
		fuzz_check(memcmp(x->ucmac, y->ucmac, 6) == 0 && x->ex_ifindex == y->ex_ifindex);
		fuzz_check(x->snap.n_addrs == y->snap.n_addrs &&
			   x->snap.n_routes == y->snap.n_routes &&
			   x->snap.n_neighs == y->snap.n_neighs);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal j, j2;
	char path[PATH_MAX], again[PATH_MAX];

	fuzz_file("input.journal", data, size, path);
	memset(&j, 0, sizeof(j));
	if (journal_read(path, &j) < 0)
		return 0;
	fuzz_check(memchr(j.ns_path, '\0', sizeof(j.ns_path)) != NULL);
	fuzz_check(j.n == 0 || j.ports);
	for (size_t i = 0; i < j.n; i++)
		fuzz_check(memchr(j.ports[i].ex_name, '\0', IFNAMSIZ) &&
			   memchr(j.ports[i].in_name, '\0', IFNAMSIZ));
	if (journal_write(fuzz_folder(), &j) == 0) {
		fuzz_check(journal_path(fuzz_folder(), j.ns_ino, again, sizeof(again)) == 0);
		memset(&j2, 0, sizeof(j2));
		fuzz_check(journal_read(again, &j2) == 0);
		check_same(&j, &j2);
		journal_free(&j2);
		journal_remove(fuzz_folder(), j.ns_ino);
	}
	journal_free(&j);
	return 0;
}
