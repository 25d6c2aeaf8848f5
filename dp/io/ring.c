// SPDX-License-Identifier: Apache-2.0
/* AF_PACKET TPACKET_V3 receive ring with virtio-net headers, and fanout. */
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ring.h"
#include "lib/core/err.h"
#include "lib/core/util.h"
#include "lib/dpath/bpf/dpath_common.h"
#include "lib/net/netns.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

static int sockopt(int fd, int level, int name, const void *val, socklen_t len, const char *what)
{
	if (setsockopt(fd, level, name, val, len) < 0)
		return err_set(-errno, "packet socket: %s", what);
	return 0;
}

void ring_params_default(struct ring_params *p)
{
	memset(p, 0, sizeof(*p));
	p->block_size = 256 * 1024;
	p->block_count = 32;
	p->retire_ms = 1;
	p->tap_snap = 4096;
	p->workers = 1;
	p->quick_max = 512;
}

/* Keep tap_snap bytes of a tap copy, all of anything else. */
static int attach_snap_filter(int fd, unsigned snap)
{
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_MARK),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PC_TAP_MARK, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, snap),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
	};
	struct sock_fprog fprog;

	memset(&fprog, 0, sizeof(fprog));
	fprog.len = ARRAY_SIZE(prog);
	fprog.filter = prog;
	return sockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog), "SO_ATTACH_FILTER");
}

/*
 * Fanout: member 2w is worker w's ring socket, 2w+1 its quick socket.  The
 * worker is the XOR of source and destination addresses modulo the worker
 * count, the same both ways and for every fragment; the quick socket gets
 * IP packets of at most quick_max bytes, except copies (PC_TAP_MARK): only
 * the ring tells them apart (ring_frame.copy), and except fragments (IPv4
 * with MF or an offset, IPv6 whose first extension header is a fragment
 * header): a small last fragment on the quick path would be inspected
 * before its first fragment, still in a ring block, and dropped as an
 * orphan.  Loads are relative to the network header (SKF_NET_OFF),
 * wherever the frame's data starts; the length is the packet's from there.
 */
#define NET(k) ((__u32)(SKF_NET_OFF + (k)))
#define XOR_WORD(k)                                                                                \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NET(k)), BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),        \
		BPF_STMT(BPF_MISC | BPF_TAX, 0)

static int join_fanout(int fd, const struct ring_params *p)
{
	struct sock_filter prog[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 6),
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NET(12)),
		/* 3 */ BPF_STMT(BPF_MISC | BPF_TAX, 0),
		/* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NET(16)),
		/* 5 */ BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		/* 6 */ BPF_STMT(BPF_MISC | BPF_TAX, 0),
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JA, 24, 0, 0),			/* to 32 */
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 42), /* else to 51 */
		/* 9 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NET(8)),
		/* 10 */ BPF_STMT(BPF_MISC | BPF_TAX, 0),
		/* 11-31 */ XOR_WORD(12),
		XOR_WORD(16),
		XOR_WORD(20),
		XOR_WORD(24),
		XOR_WORD(28),
		XOR_WORD(32),
		XOR_WORD(36),
		/* 32 */ BPF_STMT(BPF_MISC | BPF_TXA, 0),
		/* 33 */ BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, p->workers ? p->workers : 1),
		/* 34 */ BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 2),
		/* 35 */ BPF_STMT(BPF_MISC | BPF_TAX, 0),
		/* 36 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_MARK),
		/* 37 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PC_TAP_MARK, 8, 0), /* copy: to 46 */
		/* 38 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
		/* 39 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 2), /* IPv6: to 42 */
		/* 40 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, NET(6)),
		/* 41 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 4, 2), /* MF, offset: to 46 */
		/* 42 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NET(6)),
		/* 43 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_FRAGMENT, 2, 0), /* to 46 */
		/* 44 */ BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		/* 45 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, p->quick_max, 0, 2),
		/* 46 */ BPF_STMT(BPF_MISC | BPF_TXA, 0),
		/* 47 */ BPF_STMT(BPF_RET | BPF_A, 0),
		/* 48 */ BPF_STMT(BPF_MISC | BPF_TXA, 0),
		/* 49 */ BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1),
		/* 50 */ BPF_STMT(BPF_RET | BPF_A, 0),
		/* 51 */ BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog fprog;
	int arg = (int)(p->fanout_group & 0xffff) | (PACKET_FANOUT_CBPF << 16);
	int ret;

	_Static_assert(ARRAY_SIZE(prog) == 52, "jump offsets assume 52 instructions");
	memset(&fprog, 0, sizeof(fprog)); /* the padding too: it goes to the kernel */
	fprog.len = ARRAY_SIZE(prog);
	fprog.filter = prog;
	ret = sockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg), "PACKET_FANOUT");
	if (ret == 0)
		ret = sockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &fprog, sizeof(fprog),
			      "PACKET_FANOUT_DATA");
	return ret;
}
#undef XOR_WORD
#undef NET

/*
 * A packet socket of the data plane, created inside nsfd: frames with their
 * virtio-net header, its own sends never read back.  Returns the fd.
 */
static int packet_socket(int nsfd, int type_flags)
{
	int one = 1, ret,
	    fd = netns_socket(nsfd, AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | type_flags, 0);

	if (fd < 0)
		return err_wrap(fd, "packet socket");
	ret = sockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one), "PACKET_VNET_HDR");
	if (ret == 0)
		ret = sockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one),
			      "PACKET_IGNORE_OUTGOING");
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

/* Bind fd to ifindex and join the workers' fanout group. */
static int packet_attach(int fd, int ifindex, const struct ring_params *p)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};

	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return err_set(-errno, "packet socket: bind to ifindex %d", ifindex);
	return join_fanout(fd, p);
}

static int setup_ring(struct ring *r, const struct ring_params *p)
{
	struct tpacket_req3 req = {
		.tp_block_size = p->block_size,
		.tp_block_nr = p->block_count,
		.tp_frame_size = p->block_size, /* V3 frames are variable; this bounds one */
		.tp_frame_nr = p->block_count,
		.tp_retire_blk_tov = p->retire_ms,
	};
	int v = TPACKET_V3, one = 1, ret;

	ret = sockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v), "TPACKET_V3");
	if (ret == 0)
		ret = sockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req),
			      "PACKET_RX_RING");
	if (ret == 0)
		ret = sockopt(r->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one),
			      "PACKET_QDISC_BYPASS");
	if (ret < 0)
		return ret;
	r->block_size = p->block_size;
	r->block_count = p->block_count;
	r->map_len = (size_t)p->block_size * p->block_count;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, r->fd, 0);
	if (r->map == MAP_FAILED) /* without the lock where RLIMIT_MEMLOCK forbids it */
		r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return err_set(-errno, "packet socket: mmap %zu bytes of ring", r->map_len);
	}
	return 0;
}

int ring_open(struct ring *r, int nsfd, int ifindex, const struct ring_params *p)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->fd = packet_socket(nsfd, 0);
	if (r->fd < 0)
		return r->fd;
	ret = setup_ring(r, p);
	if (ret == 0 && p->tap_snap)
		ret = attach_snap_filter(r->fd, p->tap_snap);
	if (ret == 0)
		ret = packet_attach(r->fd, ifindex, p);
	if (ret < 0)
		ring_close(r);
	return ret;
}

void ring_close(struct ring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	r->map = NULL;
	r->fd = -1;
}

struct tpacket_block_desc *ring_block(struct ring *r)
{
	struct tpacket_block_desc *b =
		(struct tpacket_block_desc *)(r->map + (size_t)r->next * r->block_size);

	if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
		return NULL;
	return b;
}

void ring_release(struct ring *r, struct tpacket_block_desc *b)
{
	__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	r->next = (r->next + 1) % r->block_count;
}

unsigned ring_walk(const struct tpacket_block_desc *b, size_t block_size, size_t vnet_len,
		   void (*fn)(const struct ring_frame *f, void *arg), void *arg)
{
	const uint8_t *base = (const uint8_t *)b;
	size_t off = b->hdr.bh1.offset_to_first_pkt;
	unsigned n = 0, count = b->hdr.bh1.num_pkts;

	for (unsigned i = 0; i < count; i++) {
		const struct tpacket3_hdr *h = (const void *)(base + off);
		struct ring_frame f;

		if (off < sizeof(*b) || off + sizeof(*h) > block_size ||
		    h->tp_mac < vnet_len + sizeof(*h) ||
		    h->tp_mac + (size_t)h->tp_snaplen > block_size - off)
			break;
		f.data = base + off + h->tp_mac;
		f.vnet = f.data - vnet_len;
		f.len = h->tp_snaplen;
		f.wire_len = h->tp_len;
		f.copy = (h->tp_status & TP_STATUS_VLAN_VALID) &&
			 (h->hv1.tp_vlan_tci & 0x0fff) == PC_COPY_VID &&
			 (!(h->tp_status & TP_STATUS_VLAN_TPID_VALID) ||
			  h->hv1.tp_vlan_tpid == PC_COPY_TPID);
		fn(&f, arg);
		n++;
		if (h->tp_next_offset == 0)
			break;
		off += h->tp_next_offset;
	}
	return n;
}

/* ---- the quick path ---- */

int quick_open(struct quick *q, int nsfd, int ifindex, const struct ring_params *p)
{
	int ret;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->buf = malloc((size_t)QUICK_BATCH * QUICK_SLOT);
	if (!q->buf)
		return err_set(-ENOMEM, "quick socket buffers");
	/* recvmmsg only writes msg_len and msg_flags: set the rest once */
	for (unsigned i = 0; i < QUICK_BATCH; i++) {
		q->iov[i].iov_base = q->buf + (size_t)i * QUICK_SLOT;
		q->iov[i].iov_len = QUICK_SLOT;
		q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
		q->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	q->fd = packet_socket(nsfd, SOCK_NONBLOCK);
	ret = q->fd < 0 ? q->fd : packet_attach(q->fd, ifindex, p);
	if (ret < 0)
		quick_close(q);
	return ret;
}

void quick_close(struct quick *q)
{
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	q->fd = -1;
	q->buf = NULL;
}

unsigned quick_drain(struct quick *q, void (*fn)(const struct ring_frame *f, void *arg), void *arg)
{
	const size_t vlen = sizeof(struct virtio_net_hdr);
	int n = recvmmsg(q->fd, q->msgs, QUICK_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
	for (int i = 0; i < n; i++) {
		struct ring_frame f = { .vnet = q->iov[i].iov_base }; /* never a copy */
		size_t got = q->msgs[i].msg_len; /* with MSG_TRUNC: the whole length */

		if (got < vlen)
			continue;
		f.data = f.vnet + vlen;
		f.wire_len = (uint32_t)(got - vlen);
		f.len = got > QUICK_SLOT ? QUICK_SLOT - (uint32_t)vlen : f.wire_len;
		fn(&f, arg);
	}
	return n > 0 ? (unsigned)n : 0;
}
