// SPDX-License-Identifier: Apache-2.0
/*
 * DNS: the first question of a query (QR=0, opcode QUERY).  Its type is
 * checked for zone transfers (AXFR, IXFR) and NULL records, a favourite of
 * DNS tunnels; its name is split into the registered domain (the last two
 * labels) and the front part before it, whose length and entropy feed the
 * tunnel tracker (dns_track.c).
 */
#include <string.h>

#include "dp/threat/threat_int.h"

#define DNS_HDR 12
#define DNS_MAX_LABEL 63
#define DNS_MAX_NAME 255
#define DNS_MAX_LABELS 128 /* every label takes at least 2 of the 255 bytes */
#define DNS_QR 0x8000
#define DNS_QTYPE_NULL 10
#define DNS_QTYPE_IXFR 251
#define DNS_QTYPE_AXFR 252
#define DNS_SHOWN 80

/* the labels of the first question's name: where each starts, where the name ends */
struct dns_name {
	const uint8_t *d;
	size_t label[DNS_MAX_LABELS];
	size_t n, end;
};

/* an uncompressed name at off; false when malformed or cut */
static bool dns_name_parse(struct dns_name *nm, const uint8_t *d, size_t len, size_t off)
{
	size_t total = 0;

	nm->d = d;
	nm->n = 0;
	while (off < len) {
		uint8_t c = d[off];

		if (c == 0) {
			nm->end = off + 1;
			return true;
		}
		total += c + 1u;
		if (c > DNS_MAX_LABEL || total > DNS_MAX_NAME || c >= len - off)
			return false;
		nm->label[nm->n++] = off;
		off += c + 1u;
	}
	return false;
}

/* labels [from, to) as dotted text into dst[cap], lowercased and printable */
static void dns_name_text(const struct dns_name *nm, size_t from, size_t to, char *dst, size_t cap)
{
	size_t w = 0;

	for (size_t i = from; i < to && w + 1 < cap; i++) {
		const uint8_t *l = nm->d + nm->label[i];

		if (i > from)
			dst[w++] = '.';
		for (size_t j = 1; j <= l[0] && w + 1 < cap; j++) {
			uint8_t c = threat_lower(l[j]);

			dst[w++] = c > ' ' && c <= '~' ? (char)c : '.';
		}
	}
	dst[w] = '\0';
}

/* the front labels' length, longest label and entropy (letters lowercased) */
static void dns_front(const struct dns_name *nm, size_t nfront, struct threat_dns_query *q)
{
	uint8_t buf[DNS_MAX_NAME];
	size_t n = 0;

	for (size_t i = 0; i < nfront; i++) {
		const uint8_t *l = nm->d + nm->label[i];

		if (l[0] > q->longest_label)
			q->longest_label = l[0];
		for (size_t j = 1; j <= l[0]; j++)
			buf[n++] = threat_lower(l[j]);
	}
	q->front_len = (uint16_t)n;
	q->entropy_milli = threat_entropy_milli(buf, n);
}

static void dns_facts(const struct dns_name *nm, uint16_t qtype, struct threat_dns_query *q)
{
	size_t nfront = nm->n > 2 ? nm->n - 2 : 0;

	q->valid = true;
	q->qtype = qtype;
	dns_name_text(nm, nfront, nm->n, q->domain, sizeof(q->domain));
	dns_front(nm, nfront, q);
}

static size_t dns_type_hits(const struct dns_name *nm, uint16_t qtype, const char *domain,
			    struct threat_hit *hits, size_t max)
{
	char name[DNS_SHOWN];

	if (max == 0)
		return 0;
	if (qtype == DNS_QTYPE_AXFR || qtype == DNS_QTYPE_IXFR) {
		dns_name_text(nm, 0, nm->n, name, sizeof(name));
		threat_hit_set(&hits[0], THREAT_DNS_ZONE_TRANSFER, "%s %s",
			       qtype == DNS_QTYPE_AXFR ? "AXFR" : "IXFR", nm->n ? name : ".");
		return 1;
	}
	if (qtype == DNS_QTYPE_NULL) {
		threat_hit_set(&hits[0], THREAT_DNS_TYPE_NULL, "NULL %s", *domain ? domain : ".");
		return 1;
	}
	return 0;
}

size_t threat_dns_message(const uint8_t *d, size_t len, bool tcp, struct threat_dns_query *q,
			  struct threat_hit *hits, size_t max)
{
	struct threat_dns_query scratch;
	struct dns_name nm;
	uint16_t flags, qtype;

	if (!q)
		q = &scratch;
	memset(q, 0, sizeof(*q));
	if (tcp) {
		if (len < 2)
			return 0;
		if (be16_at(d) < len - 2)
			len = be16_at(d) + 2u;
		d += 2;
		len -= 2;
	}
	if (len < DNS_HDR + 5)
		return 0;
	flags = be16_at(d + 2);
	if ((flags & DNS_QR) || (flags >> 11 & 0xf) != 0 || be16_at(d + 4) == 0)
		return 0;
	if (!dns_name_parse(&nm, d, len, DNS_HDR) || nm.end + 4 > len)
		return 0;
	qtype = be16_at(d + nm.end);
	dns_facts(&nm, qtype, q);
	return dns_type_hits(&nm, qtype, q->domain, hits, max);
}
