/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_JOURNAL_H
#define PORTCULLIS_JOURNAL_H

/*
 * The journal of a pull in progress: written to state_dir before the pull's
 * first change and brought up to date as it goes, removed once the pull's
 * record is saved or its rollback is done.  It carries what the pull knows
 * only in memory - each port's snapshot (addresses, routes and neighbours
 * as netlink messages), its enforcer names, UCMAC and the indexes learned
 * so far - so that a hook killed half-way can be undone by the next one
 * (pull_recover).  Pulls hold the state lock, so a journal found by anyone
 * holding that lock belongs to a hook that died.
 *
 * The file (pull-<netns inode>.journal) is this build's private format: a
 * fixed header that names its layout, then per port the plain fields and
 * the messages.  A journal of another layout is refused, never guessed at.
 */

#include <limits.h>
#include <net/if.h>
#include <stddef.h>

#include "snapshot.h"

struct journal_port {
	char ex_name[IFNAMSIZ], in_name[IFNAMSIZ];
	unsigned char ucmac[6];
	int ex_ifindex, in_ifindex, new_ifindex; /* 0 until learned */
	struct port_snapshot snap;
};

struct journal {
	unsigned long ns_ino;
	char ns_path[PATH_MAX]; /* how to reach the container namespace */
	int mode;		/* enum pc_mode of the pull */
	size_t n;
	struct journal_port *ports; /* n of them; not owned on write */
};

/* "<dir>/pull-<ino>.journal" */
int journal_path(const char *dir, unsigned long ino, char *out, size_t len);

/* Write j atomically (a temporary file renamed over the old one). */
int journal_write(const char *dir, const struct journal *j);

/* Read path into j (ports and their objects owned by j: journal_free). */
int journal_read(const char *path, struct journal *j);
void journal_free(struct journal *j);

/* Remove the journal of ino; a missing one counts as removed. */
int journal_remove(const char *dir, unsigned long ino);

/* The journals in dir, as full paths (free each and the array); 0 when none. */
int journal_list(const char *dir, char ***paths, size_t *n);

#endif
