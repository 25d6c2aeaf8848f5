/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_PCAP_H
#define PORTCULLIS_DP_PCAP_H

/*
 * A reader of classic pcap files (microsecond or nanosecond timestamps,
 * either byte order) with the Ethernet link type, as tcpdump -w writes
 * them.  Records are checked against the file: a caplen beyond the
 * snapshot length or the end of the file is an error naming the record.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pcap_reader;

int pcap_open(const char *path, struct pcap_reader **out);
void pcap_close(struct pcap_reader *r);

/* The next record: 1 with data, len and ts_ns filled; 0 at the end; or a negative errno. */
int pcap_next(struct pcap_reader *r, const uint8_t **data, size_t *len, uint64_t *ts_ns);

#endif
