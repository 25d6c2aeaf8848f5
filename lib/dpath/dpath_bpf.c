/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "bpf" data-path backend: the programs of bpf/dpath.bpf.c, loaded once
 * per enforcer namespace and pinned with their maps under
 * <bpf_pin_dir>/<basename of enforcer_netns>/.  A later hook run reuses the
 * pins, so attaching a port is three map updates and two filter attaches,
 * and a mode change is the three map updates alone.
 *
 * libbpf's TC calls open their netlink socket in the calling thread's
 * namespace: they all run inside netns_run(enf->fd, ...).
 */
#include "dpath_int.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pc_dpath.skel.h"
#include "lib/core/err.h"
#include "lib/core/fsutil.h"
#include "lib/core/log.h"
#include "lib/core/naming.h"
#include "lib/core/util.h"
#include "lib/dpath/bpf/dpath_common.h"
#include "lib/net/netns.h"
#include "lib/net/nl.h"

#define BPFFS_ROOT "/sys/fs/bpf"

enum {
	M_PORTS,
	M_UCMACS,
	M_DP,
	M_STATS,
	M_BYPASS,
	M_GUARDS,
	M_DROPS,
	P_PORT,
	P_BRIDGE,
	P_BRIDGE_EGRESS,
	N_OBJS
};

static const char *const obj_names[N_OBJS] = {
	PC_PIN_PORTS,	    PC_PIN_UCMACS,
	PC_PIN_DP,	    PC_PIN_STATS,
	PC_PIN_BYPASS,	    PC_PIN_GUARDS,
	PC_PIN_DROPS,	    PC_PIN_PROG_PORT,
	PC_PIN_PROG_BRIDGE, PC_PIN_PROG_BRIDGE_EGRESS,
};

struct bpf_dpath {
	int fd[N_OBJS];
	char dir[PATH_MAX];
};

/* libbpf talks only in verbose mode, one line per message line. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *text, *line, *save = NULL;

	if (level == LIBBPF_DEBUG || vasprintf(&text, fmt, ap) < 0)
		return 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		pr_debug("%s", line); /* libbpf prefixes its own name */
	free(text);
	return 0;
}

/* Which build of the programs this is (FNV-1a over the embedded object). */
static __u64 obj_hash(void)
{
	size_t len;
	const void *p = pc_dpath__elf_bytes(&len);

	return fnv64(FNV64_INIT, p, len);
}

/* ---- pins ---- */

static int pin_dir(const struct pc_config *cfg, char *dir, size_t len)
{
	char name[PATH_MAX];
	char *base;
	size_t n;

	snprintf(name, sizeof(name), "%s", cfg->enforcer_netns);
	for (n = strlen(name); n > 1 && name[n - 1] == '/'; n--)
		name[n - 1] = '\0';
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return err_set(-EINVAL, "no pin folder name in enforcer_netns %s",
			       cfg->enforcer_netns);
	if ((size_t)snprintf(dir, len, "%s/%s", cfg->bpf_pin_dir, base) >= len)
		return err_set(-ENAMETOOLONG, "bpf_pin_dir %s", cfg->bpf_pin_dir);
	return 0;
}

/* bpffs on /sys/fs/bpf (mounted if it is not yet), and dir on a bpffs. */
static int bpffs_ensure(const char *dir)
{
	struct statfs sfs;
	int ret;

	if (statfs(BPFFS_ROOT, &sfs) < 0 || sfs.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700") < 0)
			return err_set(-errno, "mount bpffs on %s", BPFFS_ROOT);
		pr_info("mounted bpffs on %s", BPFFS_ROOT);
	}
	ret = fs_mkdir_p(dir, 0700);
	if (ret < 0)
		return ret;
	if (statfs(dir, &sfs) < 0)
		return err_set(-errno, "statfs %s", dir);
	if (sfs.f_type != BPF_FS_MAGIC)
		return err_set(-EINVAL, "bpf_pin_dir: %s is not on a bpf filesystem", dir);
	return 0;
}

static void fds_close(struct bpf_dpath *b)
{
	for (int i = 0; i < N_OBJS; i++) {
		if (b->fd[i] >= 0)
			close(b->fd[i]);
		b->fd[i] = -1;
	}
}

static bool map_fits(int fd, __u32 type, __u32 key_size, __u32 value_size, __u32 max_entries,
		     __u32 flags)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == type &&
	       info.key_size == key_size && info.value_size == value_size &&
	       info.max_entries == max_entries && info.map_flags == flags;
}

/* The pinned set, when it is complete, of the expected shape and of this build. */
static bool pins_get(struct bpf_dpath *b)
{
	struct pc_dp_state st;
	char path[PATH_MAX];
	__u32 zero = 0;

	for (int i = 0; i < N_OBJS; i++) {
		snprintf(path, sizeof(path), "%s/%s", b->dir, obj_names[i]);
		b->fd[i] = bpf_obj_get(path);
		if (b->fd[i] < 0) {
			pr_debug("no usable pin %s: %s", path, strerror(errno));
			return false;
		}
	}
	if (!map_fits(b->fd[M_DP], BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(st), 1,
		      BPF_F_MMAPABLE) ||
	    bpf_map_lookup_elem(b->fd[M_DP], &zero, &st) < 0 || st.obj_hash != obj_hash()) {
		pr_debug("pins in %s are from another build", b->dir);
		return false;
	}
	return true;
}

/* Pin fd at dir/name, replacing what is there in one step. */
static int pin_replace(const char *dir, const char *name, int fd)
{
	char path[PATH_MAX], tmp[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/%s__new", dir, name); /* bpffs: no dots */
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp) < 0)
		return err_set(-errno, "pin %s", tmp);
	if (rename(tmp, path) < 0) {
		int ret = err_set(-errno, "rename %s to %s", tmp, path);

		unlink(tmp);
		return ret;
	}
	return 0;
}

static int dup_fd(int fd)
{
	int ret = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	return ret < 0 ? err_set(-errno, "dup BPF object") : ret;
}

static int skel_take(struct bpf_dpath *b, struct pc_dpath *skel)
{
	int src[N_OBJS] = {
		[M_PORTS] = bpf_map__fd(skel->maps.pc_ports),
		[M_UCMACS] = bpf_map__fd(skel->maps.pc_ucmacs),
		[M_DP] = bpf_map__fd(skel->maps.pc_dp),
		[M_STATS] = bpf_map__fd(skel->maps.pc_stats),
		[M_BYPASS] = bpf_map__fd(skel->maps.pc_bypass),
		[M_GUARDS] = bpf_map__fd(skel->maps.pc_guards),
		[M_DROPS] = bpf_map__fd(skel->maps.pc_drops),
		[P_PORT] = bpf_program__fd(skel->progs.pc_port_ingress),
		[P_BRIDGE] = bpf_program__fd(skel->progs.pc_bridge_ingress),
		[P_BRIDGE_EGRESS] = bpf_program__fd(skel->progs.pc_bridge_egress),
	};

	for (int i = 0; i < N_OBJS; i++) {
		b->fd[i] = dup_fd(src[i]);
		if (b->fd[i] < 0)
			return b->fd[i];
	}
	return 0;
}

/* A map pinned by an incompatible build would fail the load: say which. */
static int pins_check(struct bpf_dpath *b, struct pc_dpath *skel)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	bool fits;
	int fd;

	bpf_object__for_each_map(map, skel->obj)
	{
		snprintf(path, sizeof(path), "%s/%s", b->dir, bpf_map__name(map));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		fits = map_fits(fd, bpf_map__type(map), bpf_map__key_size(map),
				bpf_map__value_size(map), bpf_map__max_entries(map),
				bpf_map__map_flags(map));
		close(fd);
		if (!fits)
			return err_set(-EEXIST,
				       "%s was pinned by an incompatible build: release this "
				       "namespace's containers and remove %s",
				       path, b->dir);
	}
	return 0;
}

/*
 * Load the programs.  libbpf reuses maps already pinned in b->dir (when
 * their shape matches) and pins the missing ones; the programs are pinned
 * here.  Ports attached by an earlier build keep their programs, which share
 * the maps.
 */
static int load(struct bpf_dpath *b)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = b->dir);
	struct pc_dpath *skel;
	int ret;

	skel = pc_dpath__open_opts(&opts);
	if (!skel)
		return err_set(-errno, "open the BPF object");
	ret = pins_check(b, skel);
	if (ret < 0)
		goto out;
	ret = pc_dpath__load(skel);
	if (ret < 0) {
		err_set(ret, "load the BPF programs (maps in %s; -v: libbpf's log)", b->dir);
		goto out;
	}
	ret = pin_replace(b->dir, PC_PIN_PROG_PORT, bpf_program__fd(skel->progs.pc_port_ingress));
	if (ret >= 0)
		ret = pin_replace(b->dir, PC_PIN_PROG_BRIDGE,
				  bpf_program__fd(skel->progs.pc_bridge_ingress));
	if (ret >= 0)
		ret = pin_replace(b->dir, PC_PIN_PROG_BRIDGE_EGRESS,
				  bpf_program__fd(skel->progs.pc_bridge_egress));
	if (ret >= 0)
		ret = skel_take(b, skel);
	if (ret >= 0)
		pr_info("loaded the BPF data path, pinned in %s", b->dir);
out:
	pc_dpath__destroy(skel);
	return ret;
}

/* Write the hook's fields of pc_dp[0]; the data plane writes heartbeat_ns alongside. */
static int dp_state_set(struct bpf_dpath *b, const struct dpath *dpath, bool loaded)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	volatile struct pc_dp_state *st;

	st = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd[M_DP], 0);
	if (st == MAP_FAILED)
		return err_set(-errno, "mmap %s/%s", b->dir, PC_PIN_DP);
	st->bridge_ifindex = (__u32)dpath->bridge_ifindex;
	st->dp_down_closed = dpath->cfg->dp_down_closed;
	if (loaded)
		st->obj_hash = obj_hash(); /* last: the pins are complete */
	munmap((void *)st, len);
	return 0;
}

/* ---- TC, inside the enforcer namespace ---- */

struct tc_req {
	int ifindex[2];
	int n;
	int prog_fd;	/* attach it on ingress; -1: destroy the clsact hooks */
	int egress_fd;	/* and this on egress, when >= 0 */
	bool have_hook; /* see tc_attach_one() */
};

static int tc_filter_put(const struct bpf_tc_hook *hook, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PC_TC_HANDLE, .priority = PC_TC_PRIO,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);

	return bpf_tc_attach(hook, &opts);
}

/*
 * clsact (someone else's is fine) and our filter on ifindex, replacing an
 * earlier one of ours.  have_hook: the clsact is probably there already,
 * so try the filter alone first (one request instead of two).
 */
static int tc_attach_one(int ifindex, enum bpf_tc_attach_point at, int prog_fd, bool have_hook)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = at);
	int ret;

	if (have_hook && tc_filter_put(&hook, prog_fd) == 0)
		return 0;
	ret = bpf_tc_hook_create(&hook);
	if (ret < 0 && ret != -EEXIST)
		return err_set(ret, "create clsact on link %d", ifindex);
	ret = tc_filter_put(&hook, prog_fd);
	if (ret < 0)
		return err_set(ret, "attach the BPF filter to link %d", ifindex);
	return 0;
}

/* Remove clsact (and so our filter) from a port we own; gone counts as done. */
static int tc_destroy_one(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int ret = bpf_tc_hook_destroy(&hook);

	if (ret < 0 && ret != -ENOENT && ret != -ENODEV && ret != -EINVAL)
		return err_set(ret, "remove clsact from link %d", ifindex);
	return 0;
}

static int tc_in_ns(void *arg)
{
	struct tc_req *r = arg;
	int ret, first = 0;

	for (int i = 0; i < r->n; i++) {
		if (r->prog_fd >= 0) {
			ret = tc_attach_one(r->ifindex[i], BPF_TC_INGRESS, r->prog_fd,
					    r->have_hook);
			if (ret == 0 && r->egress_fd >= 0)
				ret = tc_attach_one(r->ifindex[i], BPF_TC_EGRESS, r->egress_fd,
						    true);
			if (ret < 0)
				return ret;
		} else if ((ret = tc_destroy_one(r->ifindex[i])) < 0 && !first) {
			first = ret;
		}
	}
	return first;
}

static int tc_run(struct dpath *dpath, struct tc_req *r)
{
	return netns_run(dpath->enf->fd, tc_in_ns, r);
}

/* ---- ops ---- */

static bool bpf_available(struct dpath *dpath)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int fd;

	libbpf_set_print(libbpf_log);
	/* our pinned programs prove it, without a probe load on every hook run */
	if (pin_dir(dpath->cfg, dir, sizeof(dir)) == 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, PC_PIN_PROG_PORT);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			close(fd);
			return true;
		}
	}
	return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) == 1;
}

static bool bpf_supports(const struct dpath *dpath, enum pc_mode mode)
{
	return mode == MODE_PASS || mode == MODE_TAP || mode == MODE_FWD;
}

static void bpf_close(struct dpath *dpath)
{
	struct bpf_dpath *b = dpath->priv;

	if (!b)
		return;
	fds_close(b);
	free(b);
	dpath->priv = NULL;
}

static int bpf_open(struct dpath *dpath)
{
	struct tc_req bridge = { .ifindex = { dpath->bridge_ifindex }, .n = 1, .have_hook = true };
	struct bpf_dpath *b;
	bool loaded = false;
	int ret;

	libbpf_set_print(libbpf_log);
	if (dpath->bridge_ifindex <= 0)
		return err_set(-EINVAL, "bpf: no index for %s", dpath->cfg->bridge_port);
	b = calloc(1, sizeof(*b));
	if (!b)
		return err_set(-ENOMEM, "bpf");
	for (int i = 0; i < N_OBJS; i++)
		b->fd[i] = -1;
	dpath->priv = b;
	ret = pin_dir(dpath->cfg, b->dir, sizeof(b->dir));
	if (ret >= 0)
		ret = bpffs_ensure(b->dir);
	if (ret >= 0 && !pins_get(b)) {
		fds_close(b);
		ret = load(b);
		loaded = true;
	}
	if (ret >= 0)
		ret = dp_state_set(b, dpath, loaded);
	bridge.prog_fd = b->fd[P_BRIDGE];
	bridge.egress_fd = b->fd[P_BRIDGE_EGRESS];
	if (ret >= 0)
		ret = tc_run(dpath, &bridge);
	if (ret < 0) {
		bpf_close(dpath);
		return err_wrap(ret, "bpf");
	}
	return 0;
}

/* The map's mode for a data-path mode, or -EINVAL. */
static int port_mode(enum pc_mode mode)
{
	switch (mode) {
	case MODE_PASS:
		return PC_MODE_PASS;
	case MODE_TAP:
		return PC_MODE_TAP;
	case MODE_FWD:
		return PC_MODE_FWD;
	default:
		return err_set(-EINVAL, "no data-path mode %s", config_mode_name(mode));
	}
}

static struct pc_mac_key mac_key(const uint8_t mac[6])
{
	struct pc_mac_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.mac, mac, sizeof(k.mac));
	return k;
}

/* The UCMAC may be used only by this pair. */
static int ucmac_free_for(struct bpf_dpath *b, const struct dpath_port *p)
{
	struct pc_mac_key k = mac_key(p->ucmac);
	struct pc_ucmac u;
	char mac[18];

	if (bpf_map_lookup_elem(b->fd[M_UCMACS], &k, &u) < 0)
		return errno == ENOENT ? 0 : err_set(-errno, "look up UCMAC");
	if (u.in_ifindex == (__u32)p->in_ifindex && u.ex_ifindex == (__u32)p->ex_ifindex)
		return 0;
	naming_mac_str(p->ucmac, mac);
	return err_set(-EEXIST, "UCMAC %s is in use by inPort %u", mac, u.in_ifindex);
}

/*
 * bpf_redirect_peer keeps the far end's receive counters from 6.8 on and
 * sets its packet type (the far end's MAC may differ from the port's) from
 * 6.15 on; before, a container's counters would miss what it receives and
 * a host end that routes would drop frames as not its own.
 */
static bool kernel_redirects_peer_well(void)
{
	static int known = -1;
	struct utsname u = { 0 };
	unsigned major = 0, minor = 0;

	if (known < 0) {
		known = uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
			(major > 6 || (major == 6 && minor >= 15));
		pr_debug("kernel %s: %s",
			 known ? "forwards into a veth's far end"
			       : "forwards through the port's transmit",
			 u.release);
	}
	return known;
}

/*
 * PC_PORT_PEER_DIRECT when frames for ifindex may skip its transmit: a veth
 * whose far end is in another namespace (bpf_redirect_peer refuses one in
 * the same), on a kernel that handles it well, unless peer_redirect is off.
 * Anything else, or a lookup that fails, keeps the plain redirect.
 */
static __u8 port_flags(struct dpath *dpath, int ifindex)
{
	struct rtnl_link *l = NULL;
	const char *kind;
	int32_t nsid;
	__u8 flags = 0;

	if (!dpath->cfg->peer_redirect || !kernel_redirects_peer_well())
		return 0;
	if (nl_link_get(dpath->enf->nl, ifindex, NULL, &l) < 0) {
		err_clear();
		return 0;
	}
	kind = rtnl_link_get_type(l);
	if (kind && strcmp(kind, "veth") == 0 && rtnl_link_get_link_netnsid(l, &nsid) == 0)
		flags = PC_PORT_PEER_DIRECT;
	rtnl_link_put(l);
	return flags;
}

/* source_check as pc_port flags (dpath_common.h). */
static __u8 check_flags(const struct pc_config *cfg)
{
	switch (cfg->source_check) {
	case SOURCE_CHECK_STRICT:
		return PC_PORT_CHECK_MAC | PC_PORT_CHECK_ADDR;
	case SOURCE_CHECK_MAC:
		return PC_PORT_CHECK_MAC;
	default:
		return 0;
	}
}

/*
 * The flags of ifindex's entry: decided when the port is attached (by
 * port_flags and check_flags, for the program attached with it) and kept
 * by mode changes,
 * so that a port attached by an earlier build, whose program reads the
 * flags' byte as part of side, keeps its zero.
 */
static __u8 entry_flags(struct dpath *dpath, int ifindex, int peer, __u64 update)
{
	struct bpf_dpath *b = dpath->priv;
	__u32 key = (__u32)ifindex;
	struct pc_port v;

	if (update == BPF_EXIST)
		return bpf_map_lookup_elem(b->fd[M_PORTS], &key, &v) == 0 ? v.flags : 0;
	return port_flags(dpath, peer) | check_flags(dpath->cfg);
}

/* The pair's own addresses, and its drop count from 0. */
static int guard_put(struct bpf_dpath *b, const struct dpath_port *p)
{
	struct pc_guard g;
	__u32 key = (__u32)p->in_ifindex;

	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < p->n_addrs && i < DPATH_MAX_ADDRS; i++) {
		const struct dpath_addr *a = &p->addrs[i];

		if (a->family == AF_INET && g.n4 < PC_GUARD_V4)
			memcpy(g.v4[g.n4++], a->addr, 4);
		else if (a->family == AF_INET6 && g.n6 < PC_GUARD_V6)
			memcpy(g.v6[g.n6++], a->addr, 16);
		else
			pr_warn("inPort %d: more addresses than its checks hold; frames from "
				"the others are dropped (source_check mac accepts them)",
				p->in_ifindex);
	}
	if (bpf_map_update_elem(b->fd[M_GUARDS], &key, &g, BPF_ANY) < 0)
		return err_set(-errno, "update the guard map");
	return 0;
}

int dpath_bpf_port_dropped(const struct pc_config *cfg, int in_ifindex, uint64_t *n)
{
	char dir[PATH_MAX], path[PATH_MAX];
	__u32 key = (__u32)in_ifindex;
	struct pc_guard g;
	int fd, ret;

	ret = pin_dir(cfg, dir, sizeof(dir));
	if (ret < 0)
		return ret;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, PC_PIN_GUARDS) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -ENOENT;
	ret = bpf_map_lookup_elem(fd, &key, &g) < 0 ? -ENOENT : 0;
	close(fd);
	if (ret == 0)
		*n = g.dropped;
	return ret;
}

/* Write the three entries of p with mode (flags: BPF_ANY or BPF_EXIST). */
static int entries_put(struct dpath *dpath, const struct dpath_port *p, __u32 mode, __u64 flags)
{
	struct bpf_dpath *b = dpath->priv;
	struct pc_port in = { .peer_ifindex = p->ex_ifindex,
			      .side = PC_SIDE_IN,
			      .mode = mode,
			      .flags = entry_flags(dpath, p->in_ifindex, p->ex_ifindex, flags) };
	struct pc_port ex = { .peer_ifindex = p->in_ifindex,
			      .side = PC_SIDE_EX,
			      .mode = mode,
			      .flags = entry_flags(dpath, p->ex_ifindex, p->in_ifindex, flags) };
	struct pc_ucmac u = { .in_ifindex = p->in_ifindex,
			      .ex_ifindex = p->ex_ifindex,
			      .mode = mode };
	struct pc_mac_key k = mac_key(p->ucmac);
	__u32 in_key = p->in_ifindex, ex_key = p->ex_ifindex;
	int ret = 0;

	memcpy(in.ctr_mac, p->ctr_mac, 6);
	memcpy(in.ucmac, p->ucmac, 6);
	memcpy(ex.ctr_mac, p->ctr_mac, 6);
	memcpy(ex.ucmac, p->ucmac, 6);
	memcpy(u.ctr_mac, p->ctr_mac, 6);
	/* returns accepted before frames go out in fwd; stopped before, otherwise */
	if (mode == PC_MODE_FWD)
		ret = bpf_map_update_elem(b->fd[M_UCMACS], &k, &u, flags);
	if (ret >= 0)
		ret = bpf_map_update_elem(b->fd[M_PORTS], &in_key, &in, flags);
	if (ret >= 0)
		ret = bpf_map_update_elem(b->fd[M_PORTS], &ex_key, &ex, flags);
	if (ret >= 0 && mode != PC_MODE_FWD)
		ret = bpf_map_update_elem(b->fd[M_UCMACS], &k, &u, flags);
	if (ret == -ENOENT)
		return err_set(ret, "port pair %d/%d is not attached", p->in_ifindex,
			       p->ex_ifindex);
	return ret < 0 ? err_set(ret, "update the port maps") : 0;
}

/*
 * Whether the pc_ports entry of ifindex (an in- or exPort of p with the
 * given peer) is p's.  A missing entry says nothing against it; one naming
 * another pair means the index was reused after p went: leave it alone.
 */
static bool port_is_ours(struct bpf_dpath *b, const struct dpath_port *p, int ifindex, int peer,
			 bool *present)
{
	__u32 key = (__u32)ifindex;
	struct pc_port v;

	*present = bpf_map_lookup_elem(b->fd[M_PORTS], &key, &v) == 0;
	if (!*present)
		return true;
	if (v.peer_ifindex == (__u32)peer && memcmp(v.ctr_mac, p->ctr_mac, 6) == 0)
		return true;
	pr_debug("link %d now belongs to another pair; left alone", ifindex);
	return false;
}

int dpath_bypass_forget(int map_fd, const uint8_t ucmac[6])
{
	struct pc_flow_key prev, next;
	int ret = 0;

	/* a key that is never there (a broadcast UCMAC) starts the walk */
	memset(&prev, 0xff, sizeof(prev));
	while (bpf_map_get_next_key(map_fd, &prev, &next) == 0) {
		if (!ucmac || memcmp(next.ucmac, ucmac, 6) == 0) {
			if (bpf_map_delete_elem(map_fd, &next) < 0 && errno != ENOENT) {
				ret = err_set(-errno, "delete a bypassed session from the map");
				break;
			}
			continue; /* prev stays: the walk goes on after it */
		}
		prev = next;
	}
	return ret;
}

/* Delete p's entries where they are still p's; missing counts as done. */
static int entries_del(struct bpf_dpath *b, const struct dpath_port *p)
{
	int keys[2] = { p->in_ifindex, p->ex_ifindex }, peers[2] = { p->ex_ifindex, p->in_ifindex };
	struct pc_mac_key k = mac_key(p->ucmac);
	struct pc_ucmac u;
	bool present;
	__u32 key;
	int ret = 0, ret2;

	for (int i = 0; i < 2; i++) {
		key = (__u32)keys[i];
		if (!port_is_ours(b, p, keys[i], peers[i], &present))
			continue;
		if (present && bpf_map_delete_elem(b->fd[M_PORTS], &key) < 0 && errno != ENOENT)
			ret = err_set(-errno, "delete link %d from the port map", keys[i]);
		if (i == 0 && bpf_map_delete_elem(b->fd[M_GUARDS], &key) < 0 && errno != ENOENT)
			ret = err_set(-errno, "delete link %d from the guard map", keys[i]);
	}
	if (bpf_map_lookup_elem(b->fd[M_UCMACS], &k, &u) == 0 &&
	    u.in_ifindex == (__u32)p->in_ifindex && bpf_map_delete_elem(b->fd[M_UCMACS], &k) < 0 &&
	    errno != ENOENT)
		ret = err_set(-errno, "delete a UCMAC from the map");
	/* a port released under bypassed sessions; a later pair may reuse the UCMAC */
	ret2 = dpath_bypass_forget(b->fd[M_BYPASS], p->ucmac);
	return ret < 0 ? ret : ret2;
}

static int bpf_attach(struct dpath *dpath, const struct dpath_port *p)
{
	struct bpf_dpath *b = dpath->priv;
	struct tc_req tc = { .ifindex = { p->in_ifindex, p->ex_ifindex }, .n = 2, .egress_fd = -1 };
	int mode, ret;

	mode = port_mode(p->mode);
	if (mode < 0)
		return mode;
	ret = ucmac_free_for(b, p);
	if (ret >= 0)
		ret = guard_put(b, p);
	if (ret < 0)
		return ret;
	ret = entries_put(dpath, p, (__u32)mode, BPF_ANY);
	if (ret < 0)
		goto err_entries;
	tc.prog_fd = b->fd[P_PORT];
	ret = tc_run(dpath, &tc);
	if (ret < 0)
		goto err_tc;
	return 0;

err_tc:
	tc.prog_fd = -1;
	tc_run(dpath, &tc);
err_entries:
	entries_del(b, p);
	return ret;
}

static int bpf_set_mode(struct dpath *dpath, const struct dpath_port *p, enum pc_mode mode)
{
	int m = port_mode(mode);

	return m < 0 ? m : entries_put(dpath, p, (__u32)m, BPF_EXIST);
}

static int bpf_detach(struct dpath *dpath, const struct dpath_port *p)
{
	struct tc_req tc = { .prog_fd = -1, .egress_fd = -1 };
	bool present;
	int ret, ret2;

	/* clsact goes with our filter: only from ports that are still p's */
	if (port_is_ours(dpath->priv, p, p->in_ifindex, p->ex_ifindex, &present))
		tc.ifindex[tc.n++] = p->in_ifindex;
	if (port_is_ours(dpath->priv, p, p->ex_ifindex, p->in_ifindex, &present))
		tc.ifindex[tc.n++] = p->ex_ifindex;
	ret = tc.n ? tc_run(dpath, &tc) : 0;
	ret2 = entries_del(dpath->priv, p);
	return ret < 0 ? ret : ret2;
}

int dpath_bpf_unpin(const struct pc_config *cfg)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int ret = pin_dir(cfg, dir, sizeof(dir));

	for (int i = 0; ret >= 0 && i < N_OBJS; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, obj_names[i]) >=
		    sizeof(path))
			return err_set(-ENAMETOOLONG, "pin path in %s", dir);
		if (unlink(path) < 0 && errno != ENOENT)
			ret = err_set(-errno, "remove %s", path);
	}
	if (ret >= 0 && rmdir(dir) < 0 && errno != ENOENT)
		ret = err_set(-errno, "remove %s", dir);
	/* the folder of every enforcer's pins goes with the last of them */
	if (ret >= 0 && rmdir(cfg->bpf_pin_dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		ret = err_set(-errno, "remove %s", cfg->bpf_pin_dir);
	return ret;
}

static int bpf_heartbeat_path(const struct dpath *dpath, char *path, size_t len)
{
	char dir[PATH_MAX];
	int ret = pin_dir(dpath->cfg, dir, sizeof(dir));

	if (ret < 0)
		return ret;
	if ((size_t)snprintf(path, len, "%s/%s", dir, PC_PIN_DP) >= len)
		return err_set(-ENAMETOOLONG, "pin path in %s", dir);
	return 0;
}

const struct dpath_ops dpath_bpf_ops = {
	.name = "bpf",
	.available = bpf_available,
	.supports = bpf_supports,
	.open = bpf_open,
	.close = bpf_close,
	.attach = bpf_attach,
	.set_mode = bpf_set_mode,
	.detach = bpf_detach,
	.heartbeat_path = bpf_heartbeat_path,
};
