/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state lock: flock(2) on STATE_DIR/lock.  Its holder writes a note
 * into the lock file (pid, command, what for, since when) and empties it
 * before letting go, so that a process that gives up waiting can say who
 * holds it; a holder that writes no note (flock(1)) is found in /proc/locks.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fsutil.h"

#define LOCK_NOTE_MAX 400

static int lock_open(const char *dir)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = fs_mkdir_p(dir, 0700);
	if (ret < 0)
		return ret;
	if ((size_t)snprintf(path, sizeof(path), "%s/lock", dir) >= sizeof(path))
		return err_set(-ENAMETOOLONG, "state dir %s", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(-errno, "open %s", path);
	return fd;
}

/* The command of pid, printable, or "?". */
static void pid_comm(pid_t pid, char *out, size_t len)
{
	char path[64], buf[32] = "";
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	err_shown(buf[0] ? buf : "?", out, len);
}

/* Empty the note; one left behind is told apart by its pid (lock_holder). */
static void note_clear(int fd)
{
	if (ftruncate(fd, 0) < 0)
		return;
}

/* The holder's note, replacing any note left behind: best effort, the lock holds without it. */
static void note_write(int fd, const char *what)
{
	char note[LOCK_NOTE_MAX], comm[32], since[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	pid_comm(getpid(), comm, sizeof(comm));
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	n = snprintf(note, sizeof(note), "pid %d (%s)%s%s, since %s\n", (int)getpid(), comm,
		     what ? ", " : "", what ? what : "", since);
	if (n < 0 || (size_t)n >= sizeof(note))
		n = (int)sizeof(note) - 1;
	note_clear(fd);
	if (pwrite(fd, note, (size_t)n, 0) < 0)
		note_clear(fd);
}

/* The pid holding the flock on fd's file, from /proc/locks; 0 when not found. */
static pid_t lock_holder_pid(int fd)
{
	unsigned maj, min;
	unsigned long ino;
	char line[256], kind[16];
	struct stat sb;
	pid_t found = 0;
	int pid;
	FILE *f;

	if (fstat(fd, &sb) < 0 || !(f = fopen("/proc/locks", "re")))
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%lu", kind, &pid, &maj, &min, &ino) ==
			    5 &&
		    strcmp(kind, "FLOCK") == 0 && ino == sb.st_ino && maj == major(sb.st_dev) &&
		    min == minor(sb.st_dev) && pid > 0)
			found = pid;
	fclose(f);
	return found;
}

/* Who holds the lock on fd's file, as one phrase: the holder's note when it is the holder's. */
static void lock_holder(int fd, char *out, size_t len)
{
	char note[LOCK_NOTE_MAX], comm[32];
	pid_t pid = lock_holder_pid(fd);
	ssize_t n = pread(fd, note, sizeof(note) - 1, 0);
	int note_pid = 0;

	note[n > 0 ? n : 0] = '\0';
	note[strcspn(note, "\n")] = '\0';
	if (note[0] && sscanf(note, "pid %d ", &note_pid) == 1 && (!pid || note_pid == pid)) {
		err_shown(note, out, len);
		return;
	}
	if (!pid) {
		snprintf(out, len, "a process not found in /proc/locks (another pid namespace?)");
		return;
	}
	pid_comm(pid, comm, sizeof(comm));
	snprintf(out, len, "pid %d (%s), which left no note", (int)pid, comm);
}

int state_lock(const char *dir)
{
	int fd = lock_open(dir), ret;

	if (fd < 0)
		return fd;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		ret = -errno;
		close(fd);
		return err_set(ret, "lock %s/lock", dir);
	}
	note_write(fd, NULL);
	return fd;
}

static long mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

int state_lock_as(const char *dir, unsigned timeout_ms, const char *what)
{
	long deadline = mono_ms() + timeout_ms;
	char holder[LOCK_NOTE_MAX];
	int fd = lock_open(dir), ret;

	if (fd < 0)
		return fd;
	/* flock has no timeout: try, and sleep a little between tries */
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = -errno;
		if (ret == -EWOULDBLOCK && mono_ms() < deadline) {
			usleep(2000);
			continue;
		}
		if (ret == -EINTR)
			continue;
		if (ret == -EWOULDBLOCK)
			lock_holder(fd, holder, sizeof(holder));
		close(fd);
		if (ret == -EWOULDBLOCK)
			return err_set(-ETIMEDOUT,
				       "state lock %s/lock still held after %u ms by %s", dir,
				       timeout_ms, holder);
		return err_set(ret, "lock %s/lock", dir);
	}
	note_write(fd, what);
	return fd;
}

int state_lock_wait(const char *dir, unsigned timeout_ms)
{
	return state_lock_as(dir, timeout_ms, NULL);
}

void state_unlock(int fd)
{
	if (fd < 0)
		return;
	note_clear(fd); /* the note goes before the lock does */
	close(fd);	/* releases the flock */
}
