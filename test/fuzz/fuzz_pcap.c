/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the pcap reader (dp/io/pcap.c): a capture handed
 * to --read-pcap.  Every record it gives is read whole (the sanitizer
 * catches a record that runs past its buffer), and its errors name the
 * file on one line.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_file.h"
#include "dp/io/pcap.h"
#include "lib/core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcap_reader *r = NULL;
	char path[PATH_MAX];
	const uint8_t *rec;
	unsigned sum = 0;
	uint64_t ts;
	size_t len;
	int ret;

	fuzz_file("input.pcap", data, size, path);
	if (pcap_open(path, &r) < 0) {
		fuzz_check(strstr(err_msg(), path) && !strchr(err_msg(), '\n'));
		return 0;
	}
	while ((ret = pcap_next(r, &rec, &len, &ts)) > 0) {
		fuzz_check(len <= 256 * 1024);
		for (size_t i = 0; i < len; i++)
			sum += rec[i];
	}
	if (ret < 0)
		fuzz_check(strstr(err_msg(), path) && !strchr(err_msg(), '\n'));
	pcap_close(r);
	return (int)(sum & 0);
}
