/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_SANDBOX_H
#define PORTCULLIS_DP_SANDBOX_H

/*
 * The data plane parses every container's traffic: a parser bug must not
 * give its author the host.  Once set up (packet sockets, maps, watches
 * and the control socket are open) it confines itself in three layers,
 * each of which alone keeps it from writing /etc/cron.d:
 *
 *  - who it is (sandbox_drop): SANDBOX_USER (a system user the package
 *    makes; nobody where there is none), no supplementary group, no
 *    capability in any set (CAP_BPF alone where a kernel before 6.5 wants
 *    it for the bypass map), no_new_privs, not dumpable;
 *  - what it sees: its root is an empty directory that no longer exists,
 *    so no path leads anywhere and nothing can be made there;
 *  - what it may call (sandbox_filter): a seccomp allowlist with argument
 *    filters (no writing open, no unlink, no executable memory, no new
 *    socket, process or program); anything else kills it (SIGSYS).
 *
 * What it still needs of the file system (the policy, the state records,
 * the session log after rotation, removing the control socket) a broker
 * does for it (broker.h), under a filter of its own
 * (sandbox_broker_filter).
 *
 * Each layer keeps a parser exploit from the host on its own: a user with
 * no capability cannot write root's files, an empty root has none to
 * name, and the filter refuses the calls that would write them.
 */

#include <fcntl.h>
#include <stdbool.h>
#include <sys/types.h>

#define SANDBOX_USER "portcullis"

/* The one open for writing the broker may make: the session log, in its directory. */
#define SANDBOX_LOG_FLAGS (O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC)

struct sandbox_user {
	uid_t uid;
	gid_t gid;
	char name[32];
};

/*
 * The user the data plane runs as once set up: SANDBOX_USER, else nobody
 * (65534 where not even nobody is known).  Before confining: it asks NSS.
 */
void sandbox_user_pick(struct sandbox_user *u);

/*
 * Confine the calling process, which must have no thread yet (its workers
 * inherit all of it): when it runs as root, an empty root and user u (u
 * NULL: root and identity stay, the broker's case); then no_new_privs, no
 * capability (the bounding set, ambient, inheritable, permitted,
 * effective), not dumpable.
 *
 * map_fd >= 0: the data plane writes that map (pc_bypass, dp/flow/bypass.h)
 * through the descriptor it holds.  CAP_BPF is kept only where the kernel
 * wants it for that (before 6.5, every bpf() call while unprivileged BPF
 * is off): a key walk on map_fd without it decides.
 */
int sandbox_drop(const struct sandbox_user *u, int map_fd);

/*
 * The data plane's seccomp allowlist, on every thread.  bpf_maps: bpf() is
 * allowed for map lookups, updates, deletes and key walks, no other
 * command.  broker > 0: the broker's pid, which it may reap.
 */
int sandbox_filter(bool bpf_maps, pid_t broker);

/*
 * The broker's seccomp allowlist: requests read from chan and answers
 * sent on it; read-only opens; the session log (re)opened in log_dir
 * with SANDBOX_LOG_FLAGS; the control socket looked at and removed in
 * ctl_dir.  -1 for a directory it has no business in.
 */
int sandbox_broker_filter(int chan, int ctl_dir, int log_dir);

#endif
