// SPDX-License-Identifier: Apache-2.0
/* Claims of UCMACs among the live ports (claim.h). */
#include "claim.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fsutil.h"
#include "log.h"
#include "naming.h"
#include "state.h"

#define CLAIM_NEW CLAIM_DIR ".new"
#define KEY_PREFIX "ucmac-"
#define KEY_MAX 32

static void key_of(const unsigned char mac[6], char key[KEY_MAX])
{
	snprintf(key, KEY_MAX, KEY_PREFIX "%02x%02x%02x%02x%02x%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
}

/* STATE_DIR/SUB, or STATE_DIR/SUB/NAME */
static int path_of(const char *dir, const char *sub, const char *name, char *out, size_t len)
{
	int n = name ? snprintf(out, len, "%s/%s/%s", dir, sub, name)
		     : snprintf(out, len, "%s/%s", dir, sub);

	return n < 0 || (size_t)n >= len ? err_set(-ENAMETOOLONG, "state dir %s", dir) : 0;
}

/* The inode of the record a claim names; 0 when it names none. */
static unsigned long owner_of(const char *path)
{
	char target[NAME_MAX + 1];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n < 0)
		return 0;
	target[n] = '\0';
	return state_record_ino(target);
}

/* Make the claim path -> ino's record; 0 or -errno (-EEXIST: a claim is there). */
static int link_claim(const char *path, unsigned long ino)
{
	char target[64];

	state_file_name(ino, target, sizeof(target));
	return symlink(target, path) < 0 ? -errno : 0;
}

/* Whether the record of ino holds the UCMAC of key (a stale claim otherwise). */
static bool record_holds(const char *dir, unsigned long ino, const char *key)
{
	struct state_rec rec;
	unsigned char mac[6];
	char k[KEY_MAX];
	bool held = false;

	if (!ino || state_load(dir, ino, &rec) < 0)
		return false; /* gone, or unreadable: nothing live holds the UCMAC through it */
	for (size_t i = 0; i < rec.n_ports && !held; i++) {
		if (naming_mac_parse(rec.ports[i].ucmac, mac) < 0)
			continue;
		key_of(mac, k);
		held = strcmp(k, key) == 0;
	}
	state_rec_free(&rec);
	return held;
}

/*
 * Remove the claims of sub/ for which drop(dir, owner, name, arg) says so;
 * sub/ itself too when rmdir_after.  How many were removed, or -errno.
 */
static int walk(const char *dir, const char *sub, bool rmdir_after,
		bool (*drop)(const char *dir, unsigned long owner, const char *name,
			     const void *arg),
		const void *arg)
{
	char folder[PATH_MAX], path[PATH_MAX];
	int ret, n = 0;
	struct dirent *e;
	DIR *d;

	ret = path_of(dir, sub, NULL, folder, sizeof(folder));
	if (ret < 0)
		return ret;
	d = opendir(folder);
	if (!d)
		return errno == ENOENT ? 0 : err_set(-errno, "open %s", folder);
	while ((e = readdir(d)) && ret == 0) {
		if (strncmp(e->d_name, KEY_PREFIX, strlen(KEY_PREFIX)) != 0)
			continue;
		ret = path_of(dir, sub, e->d_name, path, sizeof(path));
		if (ret < 0 || !drop(dir, owner_of(path), e->d_name, arg))
			continue;
		if (unlink(path) < 0 && errno != ENOENT)
			ret = err_set(-errno, "remove %s", path);
		else
			n++;
	}
	closedir(d);
	if (ret == 0 && rmdir_after && rmdir(folder) < 0 && errno != ENOENT)
		ret = err_set(-errno, "remove %s", folder);
	return ret < 0 ? ret : n;
}

static bool owned_by(const char *dir, unsigned long owner, const char *name, const void *arg)
{
	(void)dir;
	(void)name;
	return owner == *(const unsigned long *)arg;
}

static bool stale(const char *dir, unsigned long owner, const char *name, const void *arg)
{
	(void)arg;
	return !record_holds(dir, owner, name);
}

static bool any(const char *dir, unsigned long owner, const char *name, const void *arg)
{
	(void)dir;
	(void)owner;
	(void)name;
	(void)arg;
	return true;
}

/* claims/ for a folder whose records were made without it: all their claims at once. */
static int make_claims(const char *dir)
{
	char path[PATH_MAX], tmp[PATH_MAX], key[KEY_MAX];
	struct state_rec *recs = NULL;
	unsigned char mac[6];
	size_t n = 0;
	int ret;

	ret = path_of(dir, CLAIM_DIR, NULL, path, sizeof(path));
	if (ret == 0)
		ret = path_of(dir, CLAIM_NEW, NULL, tmp, sizeof(tmp));
	if (ret < 0)
		return ret;
	if (access(path, F_OK) == 0)
		return 0;
	ret = state_list(dir, &recs, &n);
	if (ret == -ENOENT)
		ret = fs_mkdir_p(dir, 0700);
	if (ret < 0)
		return ret;
	ret = walk(dir, CLAIM_NEW, true, any, NULL); /* of a hook that died making it */
	if (ret >= 0)
		ret = mkdir(tmp, 0700) < 0 ? err_set(-errno, "mkdir %s", tmp) : 0;
	for (size_t r = 0; ret == 0 && r < n; r++)
		for (size_t i = 0; ret == 0 && i < recs[r].n_ports; i++) {
			char claim[PATH_MAX];

			if (naming_mac_parse(recs[r].ports[i].ucmac, mac) < 0)
				continue;
			key_of(mac, key);
			ret = path_of(dir, CLAIM_NEW, key, claim, sizeof(claim));
			if (ret == 0)
				ret = link_claim(claim, recs[r].ns_ino);
			if (ret == -EEXIST) /* two records with one UCMAC: the first keeps it */
				ret = 0;
			else if (ret < 0)
				ret = err_set(ret, "claim %s", claim);
		}
	state_list_free(recs, n);
	if (ret == 0 && rename(tmp, path) < 0)
		ret = err_set(-errno, "rename %s", tmp);
	return ret;
}

int claim_ucmac_take(const char *dir, const unsigned char mac[6], unsigned long ino)
{
	char path[PATH_MAX], key[KEY_MAX];
	unsigned long owner;
	int ret;

	key_of(mac, key);
	ret = make_claims(dir);
	if (ret == 0)
		ret = path_of(dir, CLAIM_DIR, key, path, sizeof(path));
	if (ret < 0)
		return ret;
	ret = link_claim(path, ino);
	if (ret != -EEXIST)
		return ret < 0 ? err_set(ret, "claim %s", path) : 0;
	owner = owner_of(path);
	if (owner == ino)
		return 0;
	if (record_holds(dir, owner, key))
		return -EEXIST;
	pr_debug("claim %s: stale (netns %lu), taken over", key, owner);
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(-errno, "remove %s", path);
	ret = link_claim(path, ino);
	return ret < 0 ? err_set(ret, "claim %s", path) : 0;
}

int claim_ucmac_drop(const char *dir, const unsigned char mac[6], unsigned long ino)
{
	char path[PATH_MAX], key[KEY_MAX];
	int ret;

	key_of(mac, key);
	ret = path_of(dir, CLAIM_DIR, key, path, sizeof(path));
	if (ret < 0 || owner_of(path) != ino)
		return ret;
	return unlink(path) < 0 && errno != ENOENT ? err_set(-errno, "remove %s", path) : 0;
}

int claim_drop_ino(const char *dir, unsigned long ino)
{
	int ret = walk(dir, CLAIM_DIR, false, owned_by, &ino);

	return ret < 0 ? ret : 0;
}

int claim_sweep(const char *dir)
{
	return walk(dir, CLAIM_DIR, false, stale, NULL);
}

int claim_remove_all(const char *dir)
{
	int ret = walk(dir, CLAIM_DIR, true, any, NULL);

	if (ret >= 0)
		ret = walk(dir, CLAIM_NEW, true, any, NULL);
	return ret < 0 ? ret : 0;
}
