/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_SERVICE_H
#define PORTCULLIS_DP_SERVICE_H

#include <stdbool.h>

#include "lib/core/config.h"

/*
 * The data-plane service: make the enforcer namespace ready, start the
 * workers on dp_port, keep the heartbeat, follow the hook's state records
 * (inotify on state_dir), load a new policy file when one appears with
 * policy_watch (inotify on its folder: polwatch.h), and reload the policy
 * and reopen the session log on SIGHUP, until SIGINT or SIGTERM.  sandbox:
 * once set up, run as an unprivileged user in an empty root, without
 * capabilities and with its system calls confined (dp/svc/sandbox.h), its
 * files opened by a broker (dp/svc/broker.h).  ready_fd >= 0 gets one byte
 * once the service runs (daemon start-up) and is closed.  Returns 0 after a
 * clean stop, or a negative errno when set-up failed.
 */
int service_run(const struct pc_config *cfg, bool sandbox, int ready_fd);

/*
 * --prepare: make the enforcer namespace, its pair and the data path
 * ready, as service_run's set-up does, and return.  For a service manager
 * that runs the data plane in a mount namespace of its own (the unit's
 * ProtectSystem= and the like): a network namespace the data plane made
 * there would be mounted where neither the host nor the hook sees it, so
 * the unit has it made first, in the host's (ExecStartPre=+).
 */
int service_prepare(const struct pc_config *cfg);

/*
 * --read-pcap: the same inspection over a capture; JSON lines on stdout.
 * threats: threat detection runs (its lines come as they happen).
 */
int service_read_pcap(const struct pc_config *cfg, const char *pcap, const char *policy,
		      bool threats);

#endif
