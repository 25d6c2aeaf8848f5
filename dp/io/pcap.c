// SPDX-License-Identifier: Apache-2.0
/* Classic pcap files, Ethernet link type. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pcap.h"
#include "lib/core/err.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAPNG_MAGIC 0x0a0d0d0au /* section header block, the same both ways */
#define LINKTYPE_ETHERNET 1
#define PCAP_MAX_SNAPLEN (256u * 1024u)

struct pcap_reader {
	FILE *f;
	char *path;
	bool swap, nsec;
	uint32_t snaplen;
	unsigned long record;
	uint8_t *buf;
};

static uint32_t u32(const uint8_t *b, bool swap)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static int read_header(struct pcap_reader *r)
{
	uint8_t h[24];
	uint32_t magic, link;

	if (fread(h, 1, sizeof(h), r->f) != sizeof(h))
		return err_set(-EINVAL, "%s: not a pcap file (too short)", r->path);
	memcpy(&magic, h, 4);
	r->swap = magic == __builtin_bswap32(PCAP_MAGIC_US) ||
		  magic == __builtin_bswap32(PCAP_MAGIC_NS);
	magic = u32(h, r->swap);
	if (magic == PCAPNG_MAGIC)
		return err_set(-EINVAL,
			       "%s: a pcapng file; only pcap is read (editcap -F pcap converts)",
			       r->path);
	if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS)
		return err_set(-EINVAL, "%s: not a pcap file (magic %08x)", r->path, magic);
	r->nsec = magic == PCAP_MAGIC_NS;
	r->snaplen = u32(h + 16, r->swap);
	link = u32(h + 20, r->swap) & 0x0fffffff;
	if (link != LINKTYPE_ETHERNET)
		return err_set(-EINVAL, "%s: link type %u, only Ethernet (1) is read", r->path,
			       link);
	if (r->snaplen == 0 || r->snaplen > PCAP_MAX_SNAPLEN)
		r->snaplen = PCAP_MAX_SNAPLEN;
	r->buf = malloc(r->snaplen);
	return r->buf ? 0 : err_set(-ENOMEM, "%s: buffer", r->path);
}

int pcap_open(const char *path, struct pcap_reader **out)
{
	struct pcap_reader *r = calloc(1, sizeof(*r));
	int ret;

	if (!r || !(r->path = strdup(path))) {
		free(r);
		return err_set(-ENOMEM, "%s", path);
	}
	r->f = fopen(path, "rbe");
	if (!r->f) {
		ret = err_set(-errno, "%s", path);
		pcap_close(r);
		return ret;
	}
	ret = read_header(r);
	if (ret < 0) {
		pcap_close(r);
		return ret;
	}
	*out = r;
	return 0;
}

void pcap_close(struct pcap_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	free(r->buf);
	free(r->path);
	free(r);
}

int pcap_next(struct pcap_reader *r, const uint8_t **data, size_t *len, uint64_t *ts_ns)
{
	uint8_t h[16];
	uint32_t caplen;
	size_t got = fread(h, 1, sizeof(h), r->f);

	if (got == 0 && feof(r->f))
		return 0;
	r->record++;
	if (got != sizeof(h))
		return err_set(-EINVAL, "%s: record %lu: header cut short", r->path, r->record);
	caplen = u32(h + 8, r->swap);
	if (caplen > r->snaplen)
		return err_set(-EINVAL, "%s: record %lu: %u bytes, beyond the snapshot length %u",
			       r->path, r->record, caplen, r->snaplen);
	if (fread(r->buf, 1, caplen, r->f) != caplen)
		return err_set(-EINVAL, "%s: record %lu: data cut short", r->path, r->record);
	*data = r->buf;
	*len = caplen;
	*ts_ns = (uint64_t)u32(h, r->swap) * 1000000000ULL +
		 (uint64_t)u32(h + 4, r->swap) * (r->nsec ? 1 : 1000);
	return 1;
}
