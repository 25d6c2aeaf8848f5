// SPDX-License-Identifier: Apache-2.0
/* The data plane once set up: its user, an empty root, no capability, seccomp. */
#include <grp.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"
#include "lib/core/err.h"
#include "lib/core/util.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* ---- who it is, what it sees */

void sandbox_user_pick(struct sandbox_user *u)
{
	struct passwd *pw = getpwnam(SANDBOX_USER);

	if (!pw)
		pw = getpwnam("nobody");
	u->uid = pw ? pw->pw_uid : 65534;
	u->gid = pw ? pw->pw_gid : 65534;
	snprintf(u->name, sizeof(u->name), "%s", pw ? pw->pw_name : "65534");
}

/*
 * Its root becomes an empty directory that is gone: made, entered,
 * removed, then made the root.  No path leads out of it, nothing can be
 * made in a directory that no longer exists, and its mode (0700, root's)
 * lets the user it becomes not even look.  /tmp: the unit's PrivateTmp.
 */
static int enter_empty_root(void)
{
	char dir[] = "/tmp/portcullis-dp.XXXXXX";
	int ret;

	if (!mkdtemp(dir))
		return err_set(-errno, "empty root: mkdtemp %s", dir);
	if (chdir(dir) < 0) {
		ret = err_set(-errno, "empty root: chdir %s", dir);
		rmdir(dir);
		return ret;
	}
	if (rmdir(dir) < 0)
		return err_set(-errno, "empty root: rmdir %s", dir);
	if (chroot(".") < 0 || chdir("/") < 0)
		return err_set(-errno, "empty root: chroot");
	return 0;
}

/* Root no more: u's ids, real, effective and saved, and no group of root's. */
static int become(const struct sandbox_user *u, bool keep_caps)
{
	if (u->uid == 0 || u->gid == 0)
		return err_set(-EINVAL, "user %s: uid %u gid %u is root's", u->name,
			       (unsigned)u->uid, (unsigned)u->gid);
	/* CAP_BPF, when kept, outlives the change of uid only so */
	if (keep_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return err_set(-errno, "keep capabilities");
	if (setgroups(0, NULL) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0)
		return err_set(-errno, "become %s (uid %u gid %u)", u->name, (unsigned)u->uid,
			       (unsigned)u->gid);
	if (keep_caps && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return err_set(-errno, "keep capabilities");
	/* no way back */
	if (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0)
		return err_set(-EPERM, "user %s: root could be taken back", u->name);
	return 0;
}

static int caps_set(bool bpf)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	data[CAP_BPF / 32].effective = bpf ? 1u << (CAP_BPF % 32) : 0;
	data[CAP_BPF / 32].permitted = data[CAP_BPF / 32].effective;
	return syscall(SYS_capset, &hdr, data) < 0 ? err_set(-errno, "capset") : 0;
}

/* Whether bpf() works on map_fd without capabilities (6.5 and later). */
static bool map_needs_no_cap(int map_fd)
{
	unsigned char key[256]; /* at least the map's key size */
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map_fd;
	a.next_key = (uint64_t)(uintptr_t)key;
	return syscall(SYS_bpf, BPF_MAP_GET_NEXT_KEY, &a, sizeof(a)) == 0 || errno == ENOENT;
}

/* Whether the data plane needs CAP_BPF for map_fd: a key walk with no effective capability decides.
 */
static int map_wants_cap(int map_fd, bool *wants)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct had[2], none[2];

	*wants = false;
	if (map_fd < 0)
		return 0;
	if (syscall(SYS_capget, &hdr, had) < 0)
		return err_set(-errno, "capget");
	memcpy(none, had, sizeof(none));
	none[0].effective = none[1].effective = 0;
	if (syscall(SYS_capset, &hdr, none) < 0)
		return err_set(-errno, "capset");
	*wants = !map_needs_no_cap(map_fd);
	return syscall(SYS_capset, &hdr, had) < 0 ? err_set(-errno, "capset") : 0;
}

/* Ambient and bounding sets: nothing comes back at an exec, nothing can be raised. */
static int drop_bounding(bool keep_bpf)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_set(-errno, "clear ambient capabilities");
	/* this takes CAP_SETPCAP, which goes with the others after */
	for (int cap = 0; cap <= 63; cap++)
		if (!(keep_bpf && cap == CAP_BPF) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return err_set(-errno, "drop capability %d from the bounding set", cap);
	return 0;
}

int sandbox_drop(const struct sandbox_user *u, int map_fd)
{
	bool root = u && geteuid() == 0, keep_bpf;
	int ret;

	ret = map_wants_cap(map_fd, &keep_bpf);
	if (ret == 0 && root)
		ret = enter_empty_root();
	if (ret == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		ret = err_set(-errno, "no_new_privs");
	if (ret == 0)
		ret = drop_bounding(keep_bpf);
	/* CAP_SETUID and CAP_SETGID are still effective for this */
	if (ret == 0 && root)
		ret = become(u, keep_bpf);
	if (ret == 0)
		ret = caps_set(keep_bpf);
	/* changing the uid did that already; without it: no core, no ptrace */
	if (ret == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		ret = err_set(-errno, "not dumpable");
	return ret;
}

/* ---- what it may call */

/*
 * Open flags that write, make or truncate: refused to every openat of the
 * data plane, and to the broker's but for the session log.
 */
#define WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY))

/* One call allowed when its arguments compare so (at most two). */
struct rule {
	int nr; /* < 0: a call this architecture lacks */
	unsigned n_args;
	struct scmp_arg_cmp arg[2];
};

#define ANY(call)                                                                                  \
	{                                                                                          \
		.nr = SCMP_SYS(call)                                                               \
	}
#define ARG_MASKED(i, mask, value)                                                                 \
	{                                                                                          \
		.arg = (i), .op = SCMP_CMP_MASKED_EQ, .datum_a = (mask), .datum_b = (value)        \
	}
#define ARG_EQ(i, value)                                                                           \
	{                                                                                          \
		.arg = (i), .op = SCMP_CMP_EQ, .datum_a = (uint64_t)(value)                        \
	}

/*
 * The running data plane, whatever the arguments.  Not here, so fatal:
 * socket, socketpair, connect, bind, listen (no new socket: those it needs
 * are open), clone, fork, execve (no process, no program), ptrace,
 * process_vm_*, kill, setsockopt, ioctl, prctl, set*id, mount, chroot,
 * open, openat2, creat, unlink*, rename*, link*, symlink*, mkdir*,
 * truncate, chmod*, chown*, io_uring_*, userfaultfd, and every other.
 */
static const struct rule dp_rules[] = {
	/* descriptors it holds: the rings and their packet sockets (recvmmsg,
	 * sendmmsg; sendto for the resets), the control socket's clients
	 * (accept4, recvfrom, sendto), the broker's channel (sendto, and
	 * recvmsg for the descriptors it passes), the session log and stderr
	 * (write; writev for glibc's last words), the signal, inotify and
	 * timer descriptors and the files the broker opened (read) */
	ANY(read),
	ANY(write),
	ANY(writev),
	ANY(recvfrom),
	ANY(recvmsg),
	ANY(recvmmsg),
	ANY(sendto),
	ANY(sendmmsg),
	ANY(accept4),
	ANY(getsockopt), /* PACKET_STATISTICS */
	ANY(poll),
	ANY(ppoll),
	ANY(close),
	/* a state record's size before it is read (and newfstatat below) */
	ANY(fstat),
	/* a reopened session log takes the old one's descriptor number */
	ANY(dup3),
	/* memory: the heap, and mmap, mprotect below */
	ANY(brk),
	ANY(munmap),
	ANY(mremap),
	ANY(madvise),
	/* threads and time: the workers exist already (no clone), but a new
	 * thread may register its robust futex list and rseq area only once
	 * the filter is on (pthread_create returns before the thread runs) */
	ANY(futex),
	ANY(set_robust_list),
	ANY(rseq),
	ANY(sched_yield),
	ANY(nanosleep),
	ANY(clock_nanosleep),
	ANY(clock_gettime),
	ANY(gettimeofday),
	/* signals: the mask, and abort()'s handler reset */
	ANY(rt_sigreturn),
	ANY(rt_sigprocmask),
	ANY(rt_sigaction),
	/* raise() and abort(): getpid, gettid (and tgkill below) */
	ANY(getpid),
	ANY(gettid),
	/* a session table's hash seed */
	ANY(getrandom),
	/* glibc's qsort asks for the machine's memory before sorting a large
	 * array (the workload index, once a few dozen ports are known) */
	ANY(sysinfo),
	ANY(exit),
	ANY(exit_group),
	ANY(restart_syscall),
	/* an open may only read: nothing is written, made or truncated (in
	 * an empty root, where every path fails; a library's lazy read of,
	 * say, /etc/localtime fails instead of killing) */
	{ SCMP_SYS(openat), 1, { ARG_MASKED(2, WRITE_FLAGS, 0) } },
	/* glibc's fstat is newfstatat on a descriptor ("", AT_EMPTY_PATH):
	 * never a path */
	{ SCMP_SYS(newfstatat), 1, { ARG_MASKED(3, AT_EMPTY_PATH, AT_EMPTY_PATH) } },
	/* no executable memory: nothing to run a payload from */
	{ SCMP_SYS(mmap), 1, { ARG_MASKED(2, PROT_EXEC, 0) } },
	{ SCMP_SYS(mprotect), 1, { ARG_MASKED(2, PROT_EXEC, 0) } },
	/* descriptor flags only: no F_SETOWN/F_SETSIG (signals to others), no
	 * leases, no F_DUPFD */
	{ SCMP_SYS(fcntl), 1, { ARG_EQ(1, F_GETFD) } },
	{ SCMP_SYS(fcntl), 1, { ARG_EQ(1, F_SETFD) } },
	{ SCMP_SYS(fcntl), 1, { ARG_EQ(1, F_GETFL) } },
	{ SCMP_SYS(fcntl), 1, { ARG_EQ(1, F_SETFL) } },
};

/* bpf() commands on a map descriptor already held */
static const unsigned map_cmds[] = {
	BPF_MAP_LOOKUP_ELEM, BPF_MAP_LOOKUP_AND_DELETE_ELEM, BPF_MAP_UPDATE_ELEM,
	BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY,
};

static int add_rules(scmp_filter_ctx ctx, const struct rule *r, size_t n)
{
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++)
		if (r[i].nr >= 0)
			ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, r[i].nr, r[i].n_args,
						     r[i].arg);
	return ret;
}

/* Load ctx (released), on every thread of the process. */
static int load(scmp_filter_ctx ctx, int ret)
{
	if (ret == 0)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret == 0)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret < 0 ? err_set(ret, "seccomp filter") : 0;
}

int sandbox_filter(bool bpf_maps, pid_t broker)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int ret;

	if (!ctx)
		return err_set(-ENOMEM, "seccomp_init");
	ret = add_rules(ctx, dp_rules, ARRAY_SIZE(dp_rules));
	/* abort() and raise() signal the process itself, nothing else */
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				       SCMP_A0(SCMP_CMP_EQ, (uint64_t)getpid()));
	/* the broker, once it said goodbye, and no other child */
	if (ret == 0 && broker > 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(wait4), 1,
				       SCMP_A0(SCMP_CMP_EQ, (uint64_t)broker));
	for (size_t i = 0; bpf_maps && i < ARRAY_SIZE(map_cmds) && ret == 0; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bpf), 1,
				       SCMP_A0(SCMP_CMP_EQ, map_cmds[i]));
	return load(ctx, ret);
}

int sandbox_broker_filter(int chan, int ctl_dir, int log_dir)
{
	const struct rule rules[] = {
		/* a request in, an answer (with a descriptor) out */
		{ SCMP_SYS(read), 1, { ARG_EQ(0, chan) } },
		{ SCMP_SYS(sendmsg), 1, { ARG_EQ(0, chan) } },
		/* the policy, the state directory and its records: reading */
		{ SCMP_SYS(openat), 1, { ARG_MASKED(2, WRITE_FLAGS, 0) } },
		ANY(getdents64),
		ANY(close),
		ANY(exit),
		ANY(exit_group),
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int ret;

	if (!ctx)
		return err_set(-ENOMEM, "seccomp_init");
	ret = add_rules(ctx, rules, ARRAY_SIZE(rules));
	/* the session log, in its directory, with the flags of a log: the
	 * only file it may write or make */
	if (ret == 0 && log_dir >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 2,
				       SCMP_A0(SCMP_CMP_EQ, (uint64_t)log_dir),
				       SCMP_A2(SCMP_CMP_EQ, SANDBOX_LOG_FLAGS));
	/* the control socket: is it still the data plane's, and its removal */
	if (ret == 0 && ctl_dir >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
				       SCMP_A0(SCMP_CMP_EQ, (uint64_t)ctl_dir));
	if (ret == 0 && ctl_dir >= 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(unlinkat), 2,
				       SCMP_A0(SCMP_CMP_EQ, (uint64_t)ctl_dir),
				       SCMP_A2(SCMP_CMP_EQ, 0));
	return load(ctx, ret);
}
