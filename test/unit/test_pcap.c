// SPDX-License-Identifier: Apache-2.0
/* dp/io/pcap.c: reading pcap files of either byte order, refusals, records cut short. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "frame_util.h"
#include "dp/flow/decode.h"
#include "dp/io/pcap.h"

static void write_pcap(const char *path, bool swapped, uint32_t linktype, int records)
{
	FILE *fp = fopen(path, "wb");
	uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, linktype };
	struct frame f;

	tcp4(&f, "10.0.0.3", 1, "10.0.0.2", 2, TCPF_SYN, 0, 0, NULL);
	if (swapped)
		for (int i = 0; i < 6; i++)
			hdr[i] = __builtin_bswap32(hdr[i]);
	fwrite(hdr, sizeof(hdr), 1, fp);
	for (int i = 0; i < records; i++) {
		uint32_t rec[4] = { 100u + (uint32_t)i, 5, (uint32_t)f.len, (uint32_t)f.len };

		if (swapped)
			for (int j = 0; j < 4; j++)
				rec[j] = __builtin_bswap32(rec[j]);
		fwrite(rec, sizeof(rec), 1, fp);
		fwrite(f.b, f.len, 1, fp);
	}
	fclose(fp);
}

START_TEST(test_pcap_read)
{
	char path[] = "/tmp/pc-pcap-XXXXXX";
	struct pcap_reader *r;
	const uint8_t *d;
	size_t len;
	uint64_t ts;
	int fd = mkstemp(path);

	close(fd);
	for (int swapped = 0; swapped < 2; swapped++) {
		write_pcap(path, swapped, 1, 2);
		ck_assert_int_eq(pcap_open(path, &r), 0);
		ck_assert_int_eq(pcap_next(r, &d, &len, &ts), 1);
		ck_assert_uint_eq(len, 54);
		ck_assert_uint_eq(ts, 100000005000ULL);
		ck_assert_int_eq(pcap_next(r, &d, &len, &ts), 1);
		ck_assert_int_eq(pcap_next(r, &d, &len, &ts), 0);
		pcap_close(r);
	}
	write_pcap(path, false, 113, 1); /* Linux cooked capture */
	ck_assert_int_eq(pcap_open(path, &r), -EINVAL);
	/* a record cut short is an error naming it */
	write_pcap(path, false, 1, 2);
	ck_assert_int_eq(truncate(path, 24 + 16 + 54 + 16 + 10), 0);
	ck_assert_int_eq(pcap_open(path, &r), 0);
	ck_assert_int_eq(pcap_next(r, &d, &len, &ts), 1);
	ck_assert_int_eq(pcap_next(r, &d, &len, &ts), -EINVAL);
	pcap_close(r);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pcap");
	TCase *tc = tcase_create("pcap");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_pcap_read);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
