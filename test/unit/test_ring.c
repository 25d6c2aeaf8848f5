// SPDX-License-Identifier: Apache-2.0
/* dp/io/ring.c: walking a TPACKET_V3 block built in memory, the copy tag, bounds. */
#include <check.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dp/io/ring.h"
#include "lib/dpath/bpf/dpath_common.h"

struct walked {
	unsigned n;
	uint32_t lens[8];
	bool copy[8];
};

static void on_frame(const struct ring_frame *f, void *arg)
{
	struct walked *w = arg;

	w->copy[w->n] = f->copy;
	w->lens[w->n++] = f->len;
	ck_assert_ptr_eq(f->vnet + sizeof(struct virtio_net_hdr), f->data);
}

START_TEST(test_ring_walk)
{
	static uint8_t block[8192] __attribute__((aligned(8)));
	struct tpacket_block_desc *b = (void *)block;
	size_t off = 64, hdr = sizeof(struct tpacket3_hdr);
	struct tpacket3_hdr *h1, *h2;
	struct walked w = { 0 };

	memset(block, 0, sizeof(block));
	b->hdr.bh1.num_pkts = 3;
	b->hdr.bh1.offset_to_first_pkt = (uint32_t)off;
	for (int i = 0; i < 3; i++) {
		struct tpacket3_hdr *h = (void *)(block + off);

		h->tp_mac = (uint16_t)(hdr + 16 + sizeof(struct virtio_net_hdr));
		h->tp_snaplen = h->tp_len = (uint32_t)(60 + i);
		h->tp_next_offset = i == 2 ? 0 : 512;
		off += 512;
	}
	/* frame 1 carries the copy tag, frame 2 another VLAN tag */
	h1 = (void *)(block + 64 + 512);
	h1->tp_status = TP_STATUS_USER | TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID;
	h1->hv1.tp_vlan_tci = PC_COPY_VID;
	h1->hv1.tp_vlan_tpid = PC_COPY_TPID;
	h2 = (void *)(block + 64 + 1024);
	h2->tp_status = TP_STATUS_USER | TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID;
	h2->hv1.tp_vlan_tci = PC_COPY_VID;
	h2->hv1.tp_vlan_tpid = 0x8100;
	ck_assert_uint_eq(ring_walk(b, sizeof(block), sizeof(struct virtio_net_hdr), on_frame, &w),
			  3);
	ck_assert_uint_eq(w.lens[2], 62);
	ck_assert(!w.copy[0] && w.copy[1] && !w.copy[2]);
	h2->hv1.tp_vlan_tpid = PC_COPY_TPID;
	h2->hv1.tp_vlan_tci = 100;
	memset(&w, 0, sizeof(w));
	ring_walk(b, sizeof(block), sizeof(struct virtio_net_hdr), on_frame, &w);
	ck_assert(!w.copy[2]);

	/* a frame claiming to run past the block ends the walk there */
	((struct tpacket3_hdr *)(block + 64 + 512))->tp_snaplen = 100000;
	memset(&w, 0, sizeof(w));
	ck_assert_uint_eq(ring_walk(b, sizeof(block), sizeof(struct virtio_net_hdr), on_frame, &w),
			  1);
	/* a next offset out of the block too */
	((struct tpacket3_hdr *)(block + 64 + 512))->tp_snaplen = 61;
	((struct tpacket3_hdr *)(block + 64))->tp_next_offset = 9000;
	memset(&w, 0, sizeof(w));
	ck_assert_uint_eq(ring_walk(b, sizeof(block), sizeof(struct virtio_net_hdr), on_frame, &w),
			  1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("ring");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_ring_walk);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
