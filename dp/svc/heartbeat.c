// SPDX-License-Identifier: Apache-2.0
/* The data plane's heartbeat in the pinned pc_dp map. */
#include <bpf/bpf.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "heartbeat.h"
#include "dp/flow/clock.h"
#include "lib/core/err.h"
#include "lib/dpath/bpf/dpath_common.h"

int heartbeat_open(struct heartbeat *hb, const char *path)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	memset(hb, 0, sizeof(*hb));
	hb->map_fd = -1;
	if (!path[0])
		return 0;
	hb->map_fd = bpf_obj_get(path);
	if (hb->map_fd < 0)
		return err_set(-errno, "heartbeat map %s", path);
	if (bpf_obj_get_info_by_fd(hb->map_fd, &info, &len) < 0 ||
	    info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(struct pc_dp_state) ||
	    !(info.map_flags & BPF_F_MMAPABLE)) {
		heartbeat_close(hb);
		return err_set(-EINVAL, "heartbeat map %s: not an mmapable pc_dp map", path);
	}
	hb->mm_len = (size_t)sysconf(_SC_PAGESIZE);
	hb->mm = mmap(NULL, hb->mm_len, PROT_READ | PROT_WRITE, MAP_SHARED, hb->map_fd, 0);
	if (hb->mm == MAP_FAILED) {
		int ret = err_set(-errno, "heartbeat map %s: mmap", path);

		hb->mm = NULL;
		heartbeat_close(hb);
		return ret;
	}
	return 0;
}

static void store(struct heartbeat *hb, uint64_t ns)
{
	struct pc_dp_state *st = hb->mm;

	if (st)
		__atomic_store_n(&st->heartbeat_ns, ns, __ATOMIC_RELEASE);
}

void heartbeat_beat(struct heartbeat *hb)
{
	store(hb, clock_mono_ns());
}

void heartbeat_stop(struct heartbeat *hb)
{
	store(hb, 0);
}

void heartbeat_close(struct heartbeat *hb)
{
	if (hb->mm)
		munmap(hb->mm, hb->mm_len);
	if (hb->map_fd >= 0)
		close(hb->map_fd);
	hb->mm = NULL;
	hb->map_fd = -1;
}
