/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pc-bpfctl: look at the pinned maps of the BPF data path, for tests and
 * debugging.
 *
 *   pc-bpfctl DIR ports | ucmacs | stats | dp | counts
 *   pc-bpfctl DIR heartbeat [SECONDS]
 *       keep pc_dp's heartbeat fresh (0: until killed), as a data plane
 *       would, without consuming dp_port (pc-reflector does both)
 *
 * DIR is the pin folder: <bpf_pin_dir>/<basename of enforcer_netns>.  The
 * maps are reached by path, so no namespace needs joining; but run it where
 * that bpffs is mounted (`ip netns exec` remounts /sys and hides it).
 * Output is "key value ..." lines for shell tests.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/dpath/bpf/dpath_common.h"

static const char *dir;
static volatile sig_atomic_t stop;

static int map_open(const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "pc-bpfctl: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static const char *mac(const __u8 *m)
{
	static char buf[4][18];
	static int n;
	char *b = buf[n++ % 4];

	snprintf(b, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return b;
}

static const char *mode_name(__u32 m)
{
	static const char *const names[] = { "?", "pass", "tap", "fwd" };

	return names[m <= PC_MODE_FWD ? m : 0];
}

static int cmd_ports(void)
{
	int fd = map_open(PC_PIN_PORTS);
	__u32 key, *prev = NULL;
	struct pc_port v;

	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) < 0)
			continue;
		printf("port %u side %s peer %u mode %s ctr_mac %s ucmac %s to_peer %s\n", key,
		       v.side == PC_SIDE_IN ? "in" : "ex", v.peer_ifindex, mode_name(v.mode),
		       mac(v.ctr_mac), mac(v.ucmac),
		       v.flags & PC_PORT_PEER_DIRECT ? "direct" : "xmit");
	}
	return 0;
}

static int cmd_ucmacs(void)
{
	int fd = map_open(PC_PIN_UCMACS);
	struct pc_mac_key key, *prev = NULL;
	struct pc_ucmac v;

	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) < 0)
			continue;
		printf("ucmac %s in %u ex %u mode %s ctr_mac %s\n", mac(key.mac), v.in_ifindex,
		       v.ex_ifindex, mode_name(v.mode), mac(v.ctr_mac));
	}
	return 0;
}

static int cmd_stats(void)
{
	static const char *const names[PC_STAT_MAX] = { PC_STAT_NAMES };
	int ncpu = libbpf_num_possible_cpus();
	int fd = map_open(PC_PIN_STATS);
	__u64 *v = calloc(ncpu, sizeof(*v));

	for (__u32 i = 0; v && i < PC_STAT_MAX; i++) {
		unsigned long long sum = 0;

		if (bpf_map_lookup_elem(fd, &i, v) == 0)
			for (int c = 0; c < ncpu; c++)
				sum += v[c];
		printf("%s %llu\n", names[i], sum);
	}
	free(v);
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static volatile struct pc_dp_state *dp_map(void)
{
	void *p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		       map_open(PC_PIN_DP), 0);

	if (p == MAP_FAILED) {
		perror("pc-bpfctl: mmap pc_dp");
		exit(1);
	}
	return p;
}

static int cmd_dp(void)
{
	volatile struct pc_dp_state *st = dp_map();
	__u64 hb = st->heartbeat_ns, now = now_ns();

	printf("bridge_ifindex %u\ndp_down %s\n", st->bridge_ifindex,
	       st->dp_down_closed ? "closed" : "open");
	if (hb)
		printf("heartbeat_age_ms %lld\n", (long long)(now - hb) / 1000000);
	else
		printf("heartbeat_age_ms none\n");
	printf("obj_hash %016llx\n", (unsigned long long)st->obj_hash);
	return 0;
}

static int count_keys(const char *name, size_t key_size)
{
	int fd = map_open(name), n = 0;
	char key[64], prev[64];

	if (key_size > sizeof(key))
		return -1;
	for (void *p = NULL; bpf_map_get_next_key(fd, p, key) == 0; p = prev, n++)
		memcpy(prev, key, key_size);
	return n;
}

static int cmd_counts(void)
{
	printf("ports %d\nucmacs %d\n", count_keys(PC_PIN_PORTS, sizeof(__u32)),
	       count_keys(PC_PIN_UCMACS, sizeof(struct pc_mac_key)));
	return 0;
}

static void on_signal(int sig)
{
	stop = 1;
}

static void beat(volatile struct pc_dp_state *st)
{
	__atomic_store_n(&st->heartbeat_ns, now_ns(), __ATOMIC_RELAXED);
}

static int cmd_heartbeat(int secs)
{
	volatile struct pc_dp_state *st = dp_map();
	__u64 end = now_ns() + (__u64)secs * 1000000000ULL;

	while (!stop && (secs == 0 || now_ns() < end)) {
		beat(st);
		usleep(PC_DP_HEARTBEAT_INTERVAL_MS * 1000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 2 ? argv[2] : "";

	if (argc < 3) {
		fprintf(stderr,
			"usage: pc-bpfctl DIR ports|ucmacs|stats|dp|counts|heartbeat [SECS]\n");
		return 2;
	}
	dir = argv[1];
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "ports"))
		return cmd_ports();
	if (!strcmp(cmd, "ucmacs"))
		return cmd_ucmacs();
	if (!strcmp(cmd, "stats"))
		return cmd_stats();
	if (!strcmp(cmd, "dp"))
		return cmd_dp();
	if (!strcmp(cmd, "counts"))
		return cmd_counts();
	if (!strcmp(cmd, "heartbeat"))
		return cmd_heartbeat(argc > 3 ? atoi(argv[3]) : 0);
	fprintf(stderr, "pc-bpfctl: unknown command %s\n", cmd);
	return 2;
}
