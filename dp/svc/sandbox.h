/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_SANDBOX_H
#define PORTCULLIS_DP_SANDBOX_H

#include <stdbool.h>

/*
 * After set-up the data plane needs no privilege and few system calls: its
 * packet sockets, maps and watches are open, and what is left is reading
 * files it is allowed to read as uid 0 (state records, the policy),
 * appending to its log, polling and sending.
 *
 * sandbox_drop_caps drops every capability of the calling thread
 * (effective, permitted, inheritable, ambient and the bounding set) and
 * sets no_new_privs; capabilities are per thread, so it runs before the
 * workers are created and they inherit the empty sets.  sandbox_filter
 * then installs a seccomp allowlist on every thread of the process: any
 * other system call kills the process (SIGSYS), so a compromised parser
 * cannot open sockets, exec, fork or ptrace.
 */

/*
 * map_fd >= 0: the data plane writes that map (pc_bypass, dp/flow/bypass.h)
 * through the descriptor it holds.  CAP_BPF is kept only where the kernel
 * wants it for that (before 6.5, every bpf() call while unprivileged BPF
 * is off): a key walk on map_fd without it decides.
 */
int sandbox_drop_caps(int map_fd);
/* bpf_maps: bpf() is allowed for map lookups, updates, deletes and key walks, no other command. */
int sandbox_filter(bool bpf_maps);

#endif
