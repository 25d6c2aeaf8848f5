/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_NRI_KNOWN_H
#define PORTCULLIS_NRI_KNOWN_H

/*
 * The pods the runtime has, as far as portcullis-nri was told (Synchronize,
 * RunPodSandbox, RemovePodSandbox), with the network namespace each was
 * reported in.  Two uses: records of pods not among them are released
 * after a Synchronize, and a pod whose namespace vanished without a stop
 * event (containerd 1.7 sends none for pods older than its own start) is
 * found by looking.
 */

#include <stdbool.h>
#include <stddef.h>

struct known_pod {
	char *id, *netns;
	unsigned long ino; /* of netns when reported; 0: none, or unknown */
	bool stopped;	   /* released already (or never intercepted) */
};

struct known {
	struct known_pod *pods;
	const char **ids; /* the ids again, as pod_sweep() takes them */
	size_t n, cap;
};

/*
 * Add (or replace) pod id, reported in netns ("" for none) whose inode is
 * ino (0: as netns is now).
 */
int known_add(struct known *k, const char *id, const char *netns, unsigned long ino);
void known_del(struct known *k, const char *id);
void known_clear(struct known *k);
void known_free(struct known *k);
/* Mark pod id as released: its namespace is not watched any more. */
void known_stopped(struct known *k, const char *id);
/* A pod not marked stopped whose namespace is gone, or NULL. */
const struct known_pod *known_vanished(const struct known *k);

#endif
