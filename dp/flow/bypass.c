// SPDX-License-Identifier: Apache-2.0
/* Session bypass: the data plane's side of the pinned pc_bypass map. */
#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bypass.h"
#include "lib/core/err.h"
#include "lib/core/log.h"
#include "lib/dpath/dpath.h"

static int map_path(const char *heartbeat_path, char *path, size_t len)
{
	const char *slash = strrchr(heartbeat_path, '/');
	int dir = slash ? (int)(slash - heartbeat_path) : 0;

	if ((size_t)snprintf(path, len, "%.*s/%s", dir, heartbeat_path, PC_PIN_BYPASS) >= len)
		return err_set(-ENAMETOOLONG, "bypass map path beside %s", heartbeat_path);
	return 0;
}

int bypass_open(struct bypass *b, const char *heartbeat_path, unsigned after_kb)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int ret;

	b->map_fd = -1;
	b->after_bytes = after_kb ? (uint64_t)after_kb * 1024 : 0;
	if (!after_kb || !heartbeat_path[0])
		return 0;
	ret = map_path(heartbeat_path, path, sizeof(path));
	if (ret < 0)
		return ret;
	b->map_fd = bpf_obj_get(path);
	if (b->map_fd < 0)
		return err_set(-errno, "bypass map %s", path);
	if (bpf_obj_get_info_by_fd(b->map_fd, &info, &len) < 0 || info.type != BPF_MAP_TYPE_HASH ||
	    info.key_size != sizeof(struct pc_flow_key) ||
	    info.value_size != sizeof(struct pc_bypass)) {
		/* pinned by another build, whose programs still serve the ports */
		pr_warn("%s is not a pc_bypass map of this build: session bypass off until "
			"the namespace's containers are released",
			path);
		close(b->map_fd);
		b->map_fd = -1;
		return 0;
	}
	/* a predecessor's sessions are not ours */
	ret = dpath_bypass_forget(b->map_fd, NULL);
	if (ret < 0) {
		close(b->map_fd);
		b->map_fd = -1;
	}
	return ret;
}

void bypass_close(struct bypass *b)
{
	if (b->map_fd < 0)
		return;
	if (dpath_bypass_forget(b->map_fd, NULL) < 0)
		pr_warn("%s", err_msg());
	close(b->map_fd);
	b->map_fd = -1;
}

static void key_half(struct pc_flow_key *out, const struct flow_key *k, const uint8_t ucmac[6],
		     bool a_to_b)
{
	size_t alen = k->family == AF_INET ? 4 : 16;

	memset(out, 0, sizeof(*out));
	memcpy(out->ucmac, ucmac, 6);
	out->family = k->family == AF_INET ? 4 : 6;
	out->proto = k->proto;
	out->sport = htons(a_to_b ? k->port_a : k->port_b);
	out->dport = htons(a_to_b ? k->port_b : k->port_a);
	memcpy(out->saddr, a_to_b ? k->addr_a : k->addr_b, alen);
	memcpy(out->daddr, a_to_b ? k->addr_b : k->addr_a, alen);
}

void bypass_keys(const struct flow_key *k, const uint8_t ucmac[6], struct pc_flow_key out[2])
{
	key_half(&out[0], k, ucmac, true);
	key_half(&out[1], k, ucmac, false);
}

int bypass_add(const struct bypass *b, const struct flow_key *k, const uint8_t ucmac[6],
	       unsigned dirs, const uint16_t watch[2])
{
	struct pc_flow_key key[2];
	struct pc_bypass v[2] = { { .watch = watch[0] }, { .watch = watch[1] } };

	bypass_keys(k, ucmac, key);
	if ((dirs & BYPASS_A_TO_B) && bpf_map_update_elem(b->map_fd, &key[0], &v[0], BPF_ANY) < 0)
		return -errno;
	if ((dirs & BYPASS_B_TO_A) && bpf_map_update_elem(b->map_fd, &key[1], &v[1], BPF_ANY) < 0) {
		int ret = -errno;

		if (dirs & BYPASS_A_TO_B)
			bpf_map_delete_elem(b->map_fd, &key[0]);
		return ret;
	}
	return 0;
}

void bypass_del(const struct bypass *b, const struct flow_key *k, const uint8_t ucmac[6],
		struct pc_bypass got[2])
{
	struct pc_flow_key key[2];

	bypass_keys(k, ucmac, key);
	for (int i = 0; i < 2; i++)
		if (bpf_map_lookup_and_delete_elem(b->map_fd, &key[i], &got[i]) < 0)
			memset(&got[i], 0, sizeof(got[i]));
}

void bypass_peek(const struct bypass *b, const struct flow_key *k, const uint8_t ucmac[6],
		 struct pc_bypass got[2])
{
	struct pc_flow_key key[2];

	bypass_keys(k, ucmac, key);
	for (int i = 0; i < 2; i++)
		if (bpf_map_lookup_elem(b->map_fd, &key[i], &got[i]) < 0)
			memset(&got[i], 0, sizeof(got[i]));
}

uint64_t bypass_last_ns(const struct bypass *b, const struct flow_key *k, const uint8_t ucmac[6])
{
	struct pc_bypass got[2];

	bypass_peek(b, k, ucmac, got);
	return got[0].last_ns > got[1].last_ns ? got[0].last_ns : got[1].last_ns;
}
