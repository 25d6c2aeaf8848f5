// SPDX-License-Identifier: Apache-2.0
/*
 * The data plane's confinement, applied in children: who a confined
 * process is, what its filter lets through and what ends it (SIGSYS), and
 * the broker that opens files for it.  The files a forbidden call aims at
 * are ones the confined user could write (0666 in a 0777 folder): the
 * filter, not the permissions, must be what stops it.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dp/svc/broker.h"
#include "dp/svc/sandbox.h"
#include "lib/core/err.h"
#include "lib/core/state.h"

/*
 * The folder of a test: open to anyone, with a file anyone may write.  It
 * is made in a folder of the test case, made and removed by the runner's
 * own process, so it goes whether the test passes, fails or crashes.
 */
static char base[64], dir[96];
static int dir_fd = -1, log_fd = -1; /* log_fd: open for appending, as the session log */
static pid_t parent;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void base_make(void)
{
	strcpy(base, "/tmp/pc-sandbox-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	ck_assert_int_eq(chmod(base, 0755), 0); /* the tests' folders are reached by path too */
}

static void base_remove(void)
{
	ck_assert_int_eq(nftw(base, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/t-XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0777), 0);
	write_file("readable", "seen", 0644);
	write_file("writable", "untouched", 0666);
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dir_fd, 0);
	log_fd = openat(dir_fd, "log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	ck_assert_int_ge(log_fd, 0);
	parent = getpid();
}

static void teardown(void)
{
	close(log_fd);
	close(dir_fd);
}

/* What confining did not stop from being there: the file is as it was. */
static void assert_untouched(void)
{
	char buf[32] = "";
	int fd;

	fd = openat(dir_fd, "writable", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 9);
	close(fd);
	ck_assert_str_eq(buf, "untouched");
}

/* The data plane's confinement, in this (child) process. */
static void confine(pid_t broker)
{
	struct sandbox_user u;

	sandbox_user_pick(&u);
	if (sandbox_drop(&u, -1) < 0 || sandbox_filter(false, broker) < 0) {
		fprintf(stderr, "%s\n", err_msg());
		_exit(100);
	}
}

/* fn in a confined child; its wait status. */
static int confined(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		confine(0);
		fn();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_killed(void (*fn)(void), const char *what)
{
	int st = confined(fn);

	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "%s: child status %#x, not SIGSYS",
		      what, st);
}

/* ---- who it is */

/* The value of a /proc/PID/status line, e.g. "CapEff". */
static void status_field(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':') {
			snprintf(out, len, "%s", line + strlen(key) + 1);
			out[strcspn(out, "\n")] = '\0';
		}
	fclose(f);
	/* tabs between the values, as /proc has them; the blanks around cut */
	while (strlen(out) && (out[strlen(out) - 1] == ' ' || out[strlen(out) - 1] == '\t'))
		out[strlen(out) - 1] = '\0';
	while (out[0] == ' ' || out[0] == '\t')
		memmove(out, out + 1, strlen(out));
}

/* A child confined as the data plane waits for a byte on go: its identity, as seen from here. */
START_TEST(test_confined_identity)
{
	struct sandbox_user u;
	int ready[2], go[2], status;
	char v[128], want[64], root[PATH_MAX];
	ssize_t n;
	pid_t pid;

	sandbox_user_pick(&u);
	ck_assert_uint_ne(u.uid, 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char c = 0;

		confine(0);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], v, 1), 1);
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", u.uid, u.uid, u.uid, u.uid);
	status_field(pid, "Uid", v, sizeof(v));
	ck_assert_str_eq(v, want);
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", u.gid, u.gid, u.gid, u.gid);
	status_field(pid, "Gid", v, sizeof(v));
	ck_assert_str_eq(v, want);
	status_field(pid, "Groups", v, sizeof(v));
	ck_assert_str_eq(v, "");
	for (const char *const *k = (const char *const[]){ "CapInh", "CapPrm", "CapEff", "CapBnd",
							   "CapAmb", NULL };
	     *k; k++) {
		status_field(pid, *k, v, sizeof(v));
		ck_assert_msg(strcmp(v, "0000000000000000") == 0, "%s %s", *k, v);
	}
	status_field(pid, "NoNewPrivs", v, sizeof(v));
	ck_assert_str_eq(v, "1");
	status_field(pid, "Seccomp", v, sizeof(v));
	ck_assert_str_eq(v, "2");
	/* its root: an empty folder, removed */
	snprintf(want, sizeof(want), "/proc/%d/root", (int)pid);
	n = readlink(want, root, sizeof(root) - 1);
	ck_assert_int_gt(n, 0);
	root[n] = '\0';
	ck_assert_msg(strncmp(root, "/tmp/portcullis-dp.", 19) == 0 && strstr(root, " (deleted)"),
		      "root of the confined child: %s", root);
	ck_assert_int_eq(write(go[1], "", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}
END_TEST

/* ---- what it may do: each failing check is its own exit status */

static void allowed_calls(void)
{
	char buf[16] = "";
	void *m;
	int fd, log;

	/* descriptors opened before: reading a file through a folder's */
	fd = openat(dir_fd, "readable", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) != 4 || strcmp(buf, "seen") != 0)
		_exit(10);
	close(fd);
	/* a read-only open by path runs, and finds nothing in the empty root */
	if (openat(AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC) >= 0 ||
	    (errno != ENOENT && errno != EACCES))
		_exit(11);
	/* the writes it makes: to a descriptor open for appending, and one
	 * dup3 put in the place of another (a reopened session log) */
	if (write(log_fd, "one\n", 4) != 4)
		_exit(12);
	log = fcntl(log_fd, F_GETFD) >= 0 ? dup3(log_fd, 20, O_CLOEXEC) : -1;
	if (log != 20 || write(log, "two\n", 4) != 4)
		_exit(12);
	/* ordinary memory */
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m, 4096, PROT_READ) != 0 || munmap(m, 4096) != 0)
		_exit(13);
	m = malloc(1 << 20); /* glibc: mmap, then munmap */
	if (!m)
		_exit(14);
	free(m);
	/* signal 0 to itself: what raise() does */
	if (syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), 0) != 0)
		_exit(15);
}

START_TEST(test_allowed_calls_run)
{
	int st = confined(allowed_calls), fd;
	char buf[16] = "";

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	fd = openat(dir_fd, "log", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 8);
	ck_assert_str_eq(buf, "one\ntwo\n");
	close(fd);
}
END_TEST

/* ---- what ends it */

static void open_write(void)
{
	openat(dir_fd, "writable", O_WRONLY | O_CLOEXEC);
}

static void open_rdwr(void)
{
	openat(dir_fd, "writable", O_RDWR | O_CLOEXEC);
}

static void open_create(void)
{
	openat(dir_fd, "new", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
}

static void open_truncate(void)
{
	openat(dir_fd, "writable", O_RDONLY | O_TRUNC | O_CLOEXEC);
}

static void open_append(void)
{
	openat(dir_fd, "writable", O_RDONLY | O_APPEND | O_CLOEXEC);
}

static void do_unlinkat(void)
{
	unlinkat(dir_fd, "writable", 0);
}

static void do_unlink(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/writable", dir);
	unlink(path);
}

static void do_rename(void)
{
	renameat(dir_fd, "writable", dir_fd, "moved");
}

static void mmap_exec(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void mmap_wx(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void mprotect_exec(void)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		_exit(20);
	mprotect(m, 4096, PROT_READ | PROT_EXEC);
}

static void new_socket(void)
{
	socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static void new_socketpair(void)
{
	int p[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p);
}

static void do_exec(void)
{
	execl("/bin/true", "true", (char *)NULL);
}

static void do_fork(void)
{
	fork();
}

static void signal_other(void)
{
	syscall(SYS_tgkill, parent, parent, 0); /* signal 0: it would do nothing but ask */
}

static void do_kill(void)
{
	kill(parent, 0);
}

static void fcntl_setown(void)
{
	fcntl(dir_fd, F_SETOWN, parent);
}

static void stat_path(void)
{
	struct stat st;

	fstatat(AT_FDCWD, "/", &st, 0);
}

static void take_root_back(void)
{
	(void)!setresuid(0, 0, 0);
}

static void do_ioctl(void)
{
	int n;

	ioctl(STDERR_FILENO, FIONREAD, &n);
}

static void do_prctl(void)
{
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static void do_ptrace(void)
{
	syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
}

START_TEST(test_forbidden_calls_kill)
{
	static const struct {
		void (*fn)(void);
		const char *what;
	} calls[] = {
		{ open_write, "openat O_WRONLY" },
		{ open_rdwr, "openat O_RDWR" },
		{ open_create, "openat O_CREAT" },
		{ open_truncate, "openat O_TRUNC" },
		{ open_append, "openat O_APPEND" },
		{ do_unlinkat, "unlinkat" },
		{ do_unlink, "unlink" },
		{ do_rename, "renameat" },
		{ mmap_exec, "mmap PROT_EXEC" },
		{ mmap_wx, "mmap PROT_WRITE|PROT_EXEC" },
		{ mprotect_exec, "mprotect PROT_EXEC" },
		{ new_socket, "socket" },
		{ new_socketpair, "socketpair" },
		{ do_exec, "execve" },
		{ do_fork, "fork" },
		{ signal_other, "tgkill of another process" },
		{ do_kill, "kill" },
		{ fcntl_setown, "fcntl F_SETOWN" },
		{ stat_path, "fstatat of a path" },
		{ take_root_back, "setresuid" },
		{ do_ioctl, "ioctl" },
		{ do_prctl, "prctl" },
		{ do_ptrace, "ptrace" },
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		assert_killed(calls[i].fn, calls[i].what);
	assert_untouched();
	ck_assert_int_eq(faccessat(dir_fd, "new", F_OK, 0), -1);
	ck_assert_int_eq(faccessat(dir_fd, "moved", F_OK, 0), -1);
}
END_TEST

/* ---- the broker */

/*
 * What the data plane has around the broker, as root's: a folder of 0700
 * (dir itself is opened for the test's checks), the policy and a record
 * 0600, a control socket file, a log folder.
 */
static struct pc_config cfg;
static char ctl_path[128];
static struct stat ctl_st;
static int ctl_fd = -1;

static void broker_files(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct state_rec rec;
	char path[128];

	ck_assert_int_eq(chmod(dir, 0700), 0);
	config_defaults(&cfg);
	snprintf(cfg.policy, sizeof(cfg.policy), "%s/policy.json", dir);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", dir);
	snprintf(cfg.session_log, sizeof(cfg.session_log), "%s/logs/sessions.log", dir);
	snprintf(cfg.ctl_socket, sizeof(cfg.ctl_socket), "%s/run/dp.sock", dir);
	write_file("policy.json", "{\"default\": \"deny\"}", 0600);
	ck_assert_int_eq(mkdirat(dir_fd, "state", 0700), 0);
	ck_assert_int_eq(mkdirat(dir_fd, "logs", 0700), 0);
	ck_assert_int_eq(mkdirat(dir_fd, "run", 0700), 0);
	memset(&rec, 0, sizeof(rec));
	rec.ns_ino = 4026531999;
	snprintf(rec.ns_path, sizeof(rec.ns_path), "/run/netns/pc-sandbox-test");
	rec.mode = MODE_TAP;
	ck_assert_int_eq(state_save(cfg.state_dir, &rec), 0);
	write_file("state/netns-4026532000.json", "{ not json", 0600);
	write_file("state/other.json", "{}", 0600);
	ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(ctl_fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", cfg.ctl_socket);
	snprintf(ctl_path, sizeof(ctl_path), "%s", cfg.ctl_socket);
	ck_assert_int_eq(bind(ctl_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(stat(ctl_path, &ctl_st), 0);
	snprintf(path, sizeof(path), "%s/state", dir);
	ck_assert_int_eq(chmod(path, 0700), 0);
}

static void broker_teardown(void)
{
	if (ctl_fd >= 0)
		close(ctl_fd);
	ctl_fd = -1;
	teardown();
}

static void broker_setup(void)
{
	setup();
	broker_files();
}

/* A confined data plane asks its broker for each file; each failing check is its own exit status.
 */
static void ask_broker(struct broker *b)
{
	struct state_source src;
	struct state_rec *recs;
	char buf[64] = "";
	size_t n;
	int fd;

	fd = broker_open_policy(b);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) != 19 ||
	    strcmp(buf, "{\"default\": \"deny\"}"))
		_exit(30);
	close(fd);
	broker_state_source(b, &src);
	if (state_list_from(cfg.state_dir, &src, &recs, &n) < 0 || n != 1 ||
	    recs[0].ns_ino != 4026531999 || recs[0].mode != MODE_TAP)
		_exit(31);
	state_list_free(recs, n);
	fd = broker_open_log(b);
	if (fd < 0 || write(fd, "line\n", 5) != 5)
		_exit(32);
	close(fd);
	/* twice: the log is appended to, not truncated */
	fd = broker_open_log(b);
	if (fd < 0 || write(fd, "more\n", 5) != 5)
		_exit(33);
	close(fd);
}

START_TEST(test_broker_opens_for_confined)
{
	struct broker b;
	char buf[32] = "", v[64];
	int status, fd, pids[2], go[2];
	pid_t pid, broker = 0;
	struct stat st;

	ck_assert_int_eq(pipe2(pids, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		broker_init(&b, &cfg);
		if (broker_start(&b, ctl_st.st_dev, ctl_st.st_ino) < 0) {
			fprintf(stderr, "%s\n", err_msg());
			_exit(101);
		}
		confine(b.pid);
		if (write(pids[1], &b.pid, sizeof(b.pid)) != sizeof(b.pid) ||
		    read(go[0], buf, 1) != 1)
			_exit(102);
		ask_broker(&b);
		broker_stop(&b); /* the control socket goes, the broker ends */
		_exit(0);
	}
	ck_assert_int_eq(read(pids[0], &broker, sizeof(broker)), sizeof(broker));
	/* the broker as it runs: root, no capability, its filter */
	status_field(broker, "Uid", v, sizeof(v));
	ck_assert_str_eq(v, "0\t0\t0\t0");
	status_field(broker, "CapEff", v, sizeof(v));
	ck_assert_str_eq(v, "0000000000000000");
	status_field(broker, "CapBnd", v, sizeof(v));
	ck_assert_str_eq(v, "0000000000000000");
	status_field(broker, "NoNewPrivs", v, sizeof(v));
	ck_assert_str_eq(v, "1");
	status_field(broker, "Seccomp", v, sizeof(v));
	ck_assert_str_eq(v, "2");
	ck_assert_int_eq(write(go[1], "", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	/* the broker made the log, root's, 0640, and both lines are in it */
	fd = openat(dir_fd, "logs/sessions.log", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_uid, 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 10);
	ck_assert_str_eq(buf, "line\nmore\n");
	close(fd);
	ck_assert_int_eq(access(ctl_path, F_OK), -1);
	ck_assert_int_eq(kill(broker, 0), -1); /* ended, and reaped by its parent */
	close(pids[0]);
	close(pids[1]);
	close(go[0]);
	close(go[1]);
}
END_TEST

/* The data plane dies without a word: the broker removes its control socket and ends. */
START_TEST(test_broker_cleans_up_after_a_crash)
{
	struct broker b;
	int status, pids[2];
	pid_t pid, broker = 0;

	ck_assert_int_eq(pipe2(pids, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		broker_init(&b, &cfg);
		if (broker_start(&b, ctl_st.st_dev, ctl_st.st_ino) < 0)
			_exit(101);
		confine(b.pid);
		if (write(pids[1], &b.pid, sizeof(b.pid)) != sizeof(b.pid))
			_exit(102);
		pause(); /* killed */
		_exit(103);
	}
	ck_assert_int_eq(read(pids[0], &broker, sizeof(broker)), sizeof(broker));
	ck_assert_int_eq(access(ctl_path, F_OK), 0);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	for (int i = 0; i < 200 && access(ctl_path, F_OK) == 0; i++)
		usleep(10000);
	ck_assert_int_eq(access(ctl_path, F_OK), -1);
	close(pids[0]);
	close(pids[1]);
}
END_TEST

/* A socket file at the path that is not the one made: left alone. */
START_TEST(test_broker_leaves_another_socket)
{
	struct broker b;
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		broker_init(&b, &cfg);
		/* another inode than the file at the path */
		if (broker_start(&b, ctl_st.st_dev, ctl_st.st_ino + 1) < 0)
			_exit(101);
		broker_stop(&b);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	ck_assert_int_eq(access(ctl_path, F_OK), 0);
}
END_TEST

/* ---- the broker's own filter */

static int log_dir = -1, ctl_dir = -1;

static void in_broker_filter(void)
{
	if (sandbox_drop(NULL, -1) < 0 ||
	    sandbox_broker_filter(STDIN_FILENO, ctl_dir, log_dir) < 0) {
		fprintf(stderr, "%s\n", err_msg());
		_exit(100);
	}
}

/* fn in a child under the broker's filter; its wait status. */
static int broker_filtered(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		in_broker_filter();
		fn();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void broker_allowed(void)
{
	struct stat st;
	int fd;

	fd = openat(log_dir, "sessions.log", SANDBOX_LOG_FLAGS, 0640);
	if (fd < 0)
		_exit(40);
	close(fd);
	fd = openat(AT_FDCWD, cfg.policy, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(41);
	close(fd);
	if (fstatat(ctl_dir, "dp.sock", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    unlinkat(ctl_dir, "dp.sock", 0) < 0)
		_exit(42);
}

static void broker_log_elsewhere(void)
{
	openat(ctl_dir, "sessions.log", SANDBOX_LOG_FLAGS, 0640);
}

static void broker_log_truncated(void)
{
	openat(log_dir, "sessions.log", O_WRONLY | O_TRUNC | O_CLOEXEC);
}

static void broker_write_by_path(void)
{
	openat(AT_FDCWD, cfg.policy, O_WRONLY | O_CLOEXEC);
}

static void broker_unlink_elsewhere(void)
{
	unlinkat(log_dir, "sessions.log", 0);
}

static void broker_rmdir(void)
{
	unlinkat(ctl_dir, "x", AT_REMOVEDIR);
}

START_TEST(test_broker_filter)
{
	static const struct {
		void (*fn)(void);
		const char *what;
	} forbidden[] = {
		{ broker_log_elsewhere, "the log's open in another folder" },
		{ broker_log_truncated, "an open with O_TRUNC in the log's folder" },
		{ broker_write_by_path, "a writing open by path" },
		{ broker_unlink_elsewhere, "unlinkat outside the control socket's folder" },
		{ broker_rmdir, "unlinkat AT_REMOVEDIR" },
		{ new_socket, "socket" },
		{ do_exec, "execve" },
		{ do_fork, "fork" },
		{ do_kill, "kill" },
		{ mmap_exec, "mmap PROT_EXEC" },
	};
	int st;

	log_dir = openat(dir_fd, "logs", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ctl_dir = openat(dir_fd, "run", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(log_dir, 0);
	ck_assert_int_ge(ctl_dir, 0);
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		st = broker_filtered(forbidden[i].fn);
		ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
			      "%s: child status %#x, not SIGSYS", forbidden[i].what, st);
	}
	ck_assert_int_eq(access(ctl_path, F_OK), 0);
	st = broker_filtered(broker_allowed);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	ck_assert_int_eq(access(ctl_path, F_OK), -1);
	close(log_dir);
	close(ctl_dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("sandbox"), *tb = tcase_create("broker");
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		printf("SKIP: the sandbox changes user and root, and drops the bounding set: "
		       "needs root\n");
		return 77;
	}
	tcase_add_unchecked_fixture(tc, base_make, base_remove);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_confined_identity);
	tcase_add_test(tc, test_allowed_calls_run);
	tcase_add_test(tc, test_forbidden_calls_kill);
	suite_add_tcase(s, tc);
	tcase_add_unchecked_fixture(tb, base_make, base_remove);
	tcase_add_checked_fixture(tb, broker_setup, broker_teardown);
	tcase_add_test(tb, test_broker_opens_for_confined);
	tcase_add_test(tb, test_broker_cleans_up_after_a_crash);
	tcase_add_test(tb, test_broker_leaves_another_socket);
	tcase_add_test(tb, test_broker_filter);
	tcase_set_timeout(tb, 30);
	suite_add_tcase(s, tb);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
