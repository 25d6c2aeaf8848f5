/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_SERVICE_H
#define PORTCULLIS_DP_SERVICE_H

#include <stdbool.h>

#include "lib/core/config.h"

/*
 * The data-plane service: make the enforcer namespace ready, start the
 * workers on dp_port, keep the heartbeat, follow the hook's state records
 * (inotify on state_dir), load a new policy file when one appears with
 * policy_watch (inotify on its directory: polwatch.h), and reload the policy and reopen the
 * session log on SIGHUP, until SIGINT or SIGTERM.  sandbox: drop capabilities and
 * confine system calls once set up (dp/svc/sandbox.h).  ready_fd >= 0 gets one
 * byte once the service runs (daemon start-up) and is closed.  Returns 0
 * after a clean stop, or a negative errno when set-up failed.
 */
int service_run(const struct pc_config *cfg, bool sandbox, int ready_fd);

/*
 * --read-pcap: the same inspection over a capture; JSON lines on stdout.
 * threats: threat detection runs (its lines come as they happen).
 */
int service_read_pcap(const struct pc_config *cfg, const char *pcap, const char *policy,
		      bool threats);

#endif
