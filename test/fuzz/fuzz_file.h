/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_FUZZ_FILE_H
#define PORTCULLIS_FUZZ_FILE_H

/*
 * For harnesses of readers that take a path: a folder of the process's
 * own on a tmpfs, made once and removed at exit, and the input written
 * to a file in it before each run.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[64];

static inline void fuzz_dir_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fuzz_dir);
}

/* The folder, made on first use (/dev/shm when there is one). */
static inline const char *fuzz_folder(void)
{
	if (fuzz_dir[0])
		return fuzz_dir;
	strcpy(fuzz_dir,
	       access("/dev/shm", W_OK) == 0 ? "/dev/shm/pc-fuzz-XXXXXX" : "/tmp/pc-fuzz-XXXXXX");
	if (!mkdtemp(fuzz_dir))
		abort();
	atexit(fuzz_dir_remove);
	return fuzz_dir;
}

/* data into <folder>/<rel>, made anew; its path in out[PATH_MAX]. */
static inline void fuzz_file(const char *rel, const uint8_t *data, size_t size, char *out)
{
	FILE *f;

	snprintf(out, PATH_MAX, "%s/%s", fuzz_folder(), rel);
	f = fopen(out, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
}

#define fuzz_check(cond)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#endif
