/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DEVCONF_H
#define PORTCULLIS_DEVCONF_H

/*
 * Per-device IP settings (net.ipv4.conf.DEV.*, net.ipv6.conf.DEV.*): the
 * sysctl-visible state of a port that a new or moved device does not carry
 * over by itself.  Read and written inside the namespace of the device.
 */

#include <stddef.h>

#define DEVCONF_MAX 192

struct devconf_entry {
	char family; /* '4' or '6' */
	char name[40];
	char value[72];
};

struct devconf_snapshot {
	size_t n;
	struct devconf_entry e[DEVCONF_MAX];
};

/* Every writable setting of ifname in namespace nsfd. */
int devconf_get(int nsfd, const char *ifname, struct devconf_snapshot *snap);
/*
 * Write every setting of snap that differs on ifname.  Settings the kernel
 * refuses are reported with a warning each and counted in the return value
 * (0 = all applied); a negative value is a failure to reach the device.
 */
int devconf_apply(int nsfd, const char *ifname, const struct devconf_snapshot *snap);
/* Write one setting. */
int devconf_set(int nsfd, const char *ifname, char family, const char *name, const char *value);
/* Read one setting (ifname may be "all" or "default") into buf. */
int devconf_read(int nsfd, const char *ifname, char family, const char *name, char *buf,
		 size_t len);
/* The value of name in snap, or NULL. */
const char *devconf_find(const struct devconf_snapshot *snap, char family, const char *name);

#endif
