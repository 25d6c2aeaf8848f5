/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_STATE_H
#define PORTCULLIS_STATE_H

/*
 * One record per intercepted container network namespace, as
 * STATE_DIR/netns-<inode>.json, written atomically (temporary file, fsync,
 * rename, fsync of the directory) while the caller holds the state lock.
 */

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "lib/pull/oci.h"

#define STATE_MAX_PORTS 1024 /* a netns with more is refused, whatever on_failure says */
#define STATE_MAC_STR 18
#define STATE_MAX_ADDRS 16
#define STATE_ADDR_STR 52 /* an IPv6 address, '/', a prefix length */

struct state_port {
	char name[IFNAMSIZ];	/* the container's name for it, e.g. eth0 */
	char ex_name[IFNAMSIZ]; /* the original port, now in the enforcer */
	char in_name[IFNAMSIZ]; /* peer of the new container port, in the enforcer */
	char kind[16];		/* link kind of the original port: veth, macvlan, ... */
	char mac[STATE_MAC_STR];
	char ucmac[STATE_MAC_STR]; /* its MAC towards the data plane */
	int ctr_ifindex;	   /* the new port, in the container namespace */
	int ex_ifindex;		   /* in the enforcer namespace */
	int in_ifindex;		   /* in the enforcer namespace */
	size_t n_addrs;		   /* its addresses when pulled, "10.88.0.5/16" */
	char addrs[STATE_MAX_ADDRS][STATE_ADDR_STR];
};

struct state_ctr {
	char id[OCI_ID_MAX];
	char name[OCI_NAME_MAX]; /* "" when unknown */
	pid_t pid;
	char group[OCI_NAME_MAX];
	char k8s_pod[OCI_NAME_MAX];
	char k8s_namespace[OCI_NAME_MAX];
	char k8s_container[OCI_NAME_MAX];
	/*
	 * A pod sandbox as its runtime reported it over NRI (portcullis-nri):
	 * the namespace belongs to the pod, which releases it when it stops.
	 */
	bool sandbox;
};

struct state_rec {
	unsigned long ns_ino;	/* inode of the container network namespace */
	char ns_path[PATH_MAX]; /* how it was reached: /run/netns/X or /proc/PID/ns/net */
	pid_t pid;		/* pid of the first container */
	enum pc_mode mode;
	char backend[16];
	time_t created;
	size_t n_ports;
	struct state_port *ports; /* heap, owned by the record: n_ports of them */
	size_t n_ctrs;
	struct state_ctr *ctrs; /* heap, owned by the record */
};

/* Create dir (0700, parents too) if needed and take its exclusive lock; returns the fd. */
int state_lock(const char *dir);
/*
 * The same, giving up with -ETIMEDOUT after timeout_ms of waiting for it;
 * the message then says who holds it.  The holder leaves a note in the
 * lock file while it holds it: its pid, command, what (NULL: nothing) and
 * since when.
 */
int state_lock_as(const char *dir, unsigned timeout_ms, const char *what);
int state_lock_wait(const char *dir, unsigned timeout_ms); /* what: NULL */
/* Empty the note and let go. */
void state_unlock(int fd);

/*
 * Remove the state directory dir, which holds no record any more: its lock
 * (held by the caller, who closes it after), new files of replacements cut
 * short, the claims (claim.h), and the folder.  -ENOTEMPTY, naming an entry, when anything else
 * is left in it; gone counts as done.
 */
int state_dir_remove(const char *dir);

/* The file name of a record: "netns-<ino>.json". */
void state_file_name(unsigned long ns_ino, char *out, size_t len);
/* The inode a record's file name holds, as state_file_name writes it; 0 for any other name. */
unsigned long state_record_ino(const char *name);

int state_save(const char *dir, const struct state_rec *rec);
/* -ENOENT when there is none. */
int state_load(const char *dir, unsigned long ns_ino, struct state_rec *rec);
int state_remove(const char *dir, unsigned long ns_ino);

/*
 * All records, in no particular order.  A file that does not parse is
 * skipped with a warning naming it.  *out is a heap array; free with
 * state_list_free().
 */
int state_list(const char *dir, struct state_rec **out, size_t *n);
void state_list_free(struct state_rec *recs, size_t n);

/*
 * Where state_list_from finds the records of dir, for a process that may
 * not open them itself (the confined data plane, whose broker does):
 * next() gives the next record's file name and a descriptor open on it,
 * or a negative errno in *fd when that file could not be opened (it is
 * skipped with a warning, as state_list skips a file that does not
 * parse); it returns 1 for a record, 0 at the end, a negative errno when
 * the listing failed.  state_list_from closes the descriptors.
 */
struct state_source {
	int (*next)(void *arg, char *name, size_t len, int *fd);
	void *arg;
};
int state_list_from(const char *dir, const struct state_source *src, struct state_rec **out,
		    size_t *n);

/*
 * The record holding container id.  exact: the id must match fully (poststop);
 * otherwise a unique prefix is enough (operators), and an ambiguous prefix is
 * -EINVAL.  -ENOENT when none.  *ctr_idx is set to the container's index.
 */
int state_find_ctr(const char *dir, const char *id, bool exact, struct state_rec *rec,
		   size_t *ctr_idx);

/* Append a container (copied); -EEXIST if its id is already there. */
int state_add_ctr(struct state_rec *rec, const struct state_ctr *ctr);
/* Append a container, or replace the entry of the same id. */
int state_put_ctr(struct state_rec *rec, const struct state_ctr *ctr);
/* Remove the container at index i. */
void state_del_ctr(struct state_rec *rec, size_t i);

/* n zeroed ports for rec (n_ports = n), replacing any it had; -E2BIG past STATE_MAX_PORTS. */
int state_set_ports(struct state_rec *rec, size_t n);
/* Free what rec owns (its ports and containers). */
void state_rec_free(struct state_rec *rec);

/* JSON (jansson) form, used for the files and by `status --json`. */
struct json_t;
struct json_t *state_to_json(const struct state_rec *rec);
int state_from_json(const struct json_t *obj, struct state_rec *rec);

#endif
