/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_BROKER_H
#define PORTCULLIS_DP_BROKER_H

/*
 * The broker: a process the data plane forks during set-up, before it
 * confines itself (sandbox.h), to open what it still needs of the file
 * system once it is an unprivileged user in an empty root: the policy
 * (SIGHUP, portcullisctl policy reload), the state records (when the
 * hook changes them) and the session log (SIGHUP, after a rotation).
 * They come to it as descriptors over a socket pair; it reads and parses
 * them itself.  The broker also removes the control socket when the data
 * plane ends, whether it stops or dies.
 *
 * The broker stays uid 0: the files it opens are root's (the hook writes
 * the state records 0600 in a 0700 directory, the tests' policies and
 * logs are in 0700 folders), and that is the only privilege it keeps: no
 * capability, no_new_privs, and a seccomp filter of its own
 * (sandbox_broker_filter) that lets it read files, write only the session
 * log and remove only in the control socket's directory.  What it is asked
 * is a number; the paths are the configuration's, fixed when it starts,
 * and it parses neither packets nor files.  It holds none of the data
 * plane's descriptors and none of its memory but the configuration (it is
 * forked before the rings and maps are opened).
 *
 * Every call comes from the data plane's service thread.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "lib/core/config.h"
#include "lib/core/state.h"

struct broker {
	int fd;	      /* the data plane's end; -1 once the broker is gone */
	pid_t pid;    /* 0: no broker */
	bool listing; /* a listing of state records is under way */
	const struct pc_config *cfg;
};

/* An unstarted broker (fd -1, pid 0). */
void broker_init(struct broker *b, const struct pc_config *cfg);
/*
 * Fork the broker and wait until it runs confined.  ctl_dev, ctl_ino: the
 * control socket file it removes at the end (ctl_disown).
 */
int broker_start(struct broker *b, dev_t ctl_dev, ino_t ctl_ino);
/* A descriptor on the policy for reading, or a negative errno (-ENOENT: no such file). */
int broker_open_policy(struct broker *b);
/* A descriptor on the session log for appending (made if missing), or a negative errno. */
int broker_open_log(struct broker *b);
/* The state records, for workloads_load_from (a missing directory has none). */
void broker_state_source(struct broker *b, struct state_source *src);
/* The broker removes the control socket and ends; reaped.  Idempotent. */
void broker_stop(struct broker *b);

#endif
