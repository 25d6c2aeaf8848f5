// SPDX-License-Identifier: Apache-2.0
/* Capabilities dropped, seccomp allowlist: the data plane after set-up. */
#include <linux/bpf.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"
#include "lib/core/err.h"
#include "lib/core/util.h"

/* What a running data plane calls: I/O on descriptors it holds, files it
 * reads (policy, state records), its log, threads' futexes and time. */
static const int allowed[] = {
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(readv),
	SCMP_SYS(writev),
	SCMP_SYS(openat),
	SCMP_SYS(close),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(statx),
	SCMP_SYS(lseek),
	SCMP_SYS(getdents64),
	SCMP_SYS(fcntl),
	SCMP_SYS(dup3),
	SCMP_SYS(flock),
	SCMP_SYS(unlink),
	SCMP_SYS(unlinkat),
	SCMP_SYS(mmap),
	SCMP_SYS(munmap),
	SCMP_SYS(mprotect),
	SCMP_SYS(mremap),
	SCMP_SYS(brk),
	SCMP_SYS(madvise),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(sendto),
	SCMP_SYS(sendmsg),
	SCMP_SYS(sendmmsg),
	SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg),
	SCMP_SYS(recvmmsg),
	SCMP_SYS(accept4),
	SCMP_SYS(shutdown),
	SCMP_SYS(getsockopt),
	SCMP_SYS(futex),
	SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq),
	SCMP_SYS(sched_yield),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(getrandom),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(tgkill),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(restart_syscall),
	/* glibc's qsort asks for the machine's memory before sorting a large
	 * array (the workload index, once a few dozen ports are known) */
	SCMP_SYS(sysinfo),
};

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int caps_set(uint32_t effective_bpf, uint32_t permitted_bpf)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	data[CAP_BPF / 32].effective = effective_bpf ? 1u << (CAP_BPF % 32) : 0;
	data[CAP_BPF / 32].permitted = permitted_bpf ? 1u << (CAP_BPF % 32) : 0;
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

int sandbox_drop_caps(int map_fd)
{
	bool keep = false;
	int ret;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_set(-errno, "no_new_privs");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_set(-errno, "clear ambient capabilities");
	/* the bounding set first: that takes CAP_SETPCAP, dropped next */
	for (int cap = 0; cap <= 63; cap++)
		if (!(map_fd >= 0 && cap == CAP_BPF) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return err_set(-errno, "drop capability %d from the bounding set", cap);
	if (map_fd >= 0) {
		ret = caps_set(0, 1);
		if (ret < 0)
			return ret;
		keep = !map_needs_no_cap(map_fd);
	}
	return caps_set(keep, keep);
}

/* bpf() commands on a map descriptor already held */
static const unsigned map_cmds[] = {
	BPF_MAP_LOOKUP_ELEM, BPF_MAP_LOOKUP_AND_DELETE_ELEM, BPF_MAP_UPDATE_ELEM,
	BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY,
};

int sandbox_filter(bool bpf_maps)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int ret = 0;

	if (!ctx)
		return err_set(-ENOMEM, "seccomp_init");
	for (size_t i = 0; i < ARRAY_SIZE(allowed) && ret == 0; i++)
		if (allowed[i] >= 0) /* a call this architecture lacks */
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	for (size_t i = 0; bpf_maps && i < ARRAY_SIZE(map_cmds) && ret == 0; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bpf), 1,
				       SCMP_A0(SCMP_CMP_EQ, map_cmds[i]));
	if (ret == 0)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret == 0)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret < 0 ? err_set(ret, "seccomp filter") : 0;
}
