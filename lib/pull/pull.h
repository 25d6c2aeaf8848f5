/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_PULL_H
#define PORTCULLIS_PULL_H

/*
 * The port pull of one container network namespace, and its undo.
 *
 * For every port with a global address, in one synchronous netlink request
 * each (the classic eight steps of docs/design.md, reordered so that only one
 * link ever changes namespace and the container gets its port back under the
 * same ifindex):
 *   1. snapshot the port: link attributes, offloads, per-device sysctls,
 *      addresses, routes of every table, permanent neighbours;
 *   2. move it into the enforcer namespace, renamed to its exPort name (the
 *      move takes it down and drops its addresses, as the classic explicit
 *      steps did);
 *   3. create a veth pair: the container end takes the old name, ifindex,
 *      MAC, MTU, txqueuelen and queue counts; the peer, the inPort, is born
 *      up inside the enforcer namespace with the ifindex of the original
 *      host-side peer when that is free there;
 *   4. give the new port the snapshot: sysctls, offloads, flags (up),
 *      addresses, routes, neighbours;
 *   5. attach the data path between exPort and inPort, then bring exPort up.
 * Any failure undoes every step taken, newest first, so the container is
 * left exactly as it was.
 */

#include "lib/core/config.h"
#include "lib/core/state.h"
#include "lib/dpath/dpath.h"
#include "lib/net/nl.h"

#define PULL_NOTHING 1 /* no port with a global address: nothing was done */

struct pull_args {
	pid_t pid;	   /* names the enforcer ports */
	enum pc_mode mode; /* one the data path supports */
	/*
	 * Where each port's UCMAC is claimed (claim.h) for namespace
	 * claim_ino, unique among the live ports; NULL: unique in this pull
	 * only.  The caller drops the claims of a pull that fails.
	 */
	const char *claim_dir;
	unsigned long claim_ino;
	const char *journal_dir; /* where the pull keeps its journal (journal.h) */
	const char *ns_path;	 /* how a recovery reaches ctr again */
};

/*
 * Pull every eligible port of namespace ctr and attach it to the data path
 * dpath of enforcer namespace enf.  On success fills rec->ports, rec->n_ports,
 * rec->ns_ino and rec->mode (containers and paths are the caller's).
 * Returns 0, PULL_NOTHING, or a negative errno after a complete rollback.
 */
int pull_netns(struct nl_ns *ctr, struct nl_ns *enf, struct dpath *dpath, const struct pull_args *a,
	       struct state_rec *rec);

/*
 * Undo the pull of a hook that died half-way, from its journal j: every port
 * goes back to where it was before the pull (ctr NULL: the container
 * namespace is gone, and what is left in the enforcer is deleted).  The
 * caller removes the journal when this returns 0.
 */
struct journal;
int pull_recover(struct nl_ns *ctr, struct nl_ns *enf, struct dpath *dpath,
		 const struct journal *j);

/*
 * The ports of ctr that a pull would take, without changing anything: their
 * names go to names (up to max), the count is returned.
 */
int pull_candidates(struct nl_ns *ctr, char (*names)[IFNAMSIZ], size_t max);

/*
 * Undo the pull recorded in rec.  ctr NULL: the container namespace is gone
 * (or unreachable), so the enforcer-side ports are deleted, which also
 * removes the original port's host-side peer.  Otherwise each original port
 * goes back into ctr as it was, carrying the current addresses, routes and
 * settings of its replacement.  Idempotent: what is already gone counts as
 * done.  Returns 0 or the first error after doing all it could.
 */
int pull_release(struct nl_ns *ctr, struct nl_ns *enf, struct dpath *dpath,
		 const struct state_rec *rec);

/* True when rec's interception is still in place (its inPorts exist in enf). */
bool pull_is_live(struct nl_ns *enf, const struct state_rec *rec);

#endif
