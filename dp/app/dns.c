// SPDX-License-Identifier: Apache-2.0
/*
 * DNS over UDP, and over TCP with its 2-byte length prefix: a sane header
 * (known opcode, Z clear, one to a few questions, record counts that fit)
 * and a first question whose name is well-formed labels within the bounds,
 * followed by a type and a known class.
 */
#include "app_int.h"

#define DNS_HDR 12
#define DNS_MIN_MSG (DNS_HDR + 5) /* root name, type, class */
#define DNS_MAX_QD 4
#define DNS_MAX_COUNT 512
#define DNS_MIN_RR 11 /* root name, type, class, ttl, rdlength */
#define DNS_MAX_NAME 255
#define DNS_MAX_LABEL 63

#define DNS_QR 0x8000
#define DNS_Z 0x0040

enum { DNS_BAD = -1, DNS_CUT = 0, DNS_OK = 1 };

static bool dns_opcode_ok(unsigned opcode)
{
	/* QUERY, IQUERY, STATUS, NOTIFY, UPDATE, DSO */
	return opcode <= 2 || (opcode >= 4 && opcode <= 6);
}

static bool dns_class_ok(unsigned qclass)
{
	qclass &= 0x7fff; /* mDNS unicast-response bit */
	return qclass == 1 || qclass == 3 || qclass == 4 || qclass == 254 || qclass == 255;
}

/* the header fields among the first avail bytes; DNS_CUT when some are missing */
static int dns_header(const uint8_t *d, size_t avail)
{
	unsigned flags, qd;

	if (avail < 4)
		return DNS_CUT;
	flags = be16_at(d + 2);
	if (!dns_opcode_ok(flags >> 11 & 0xf) || (flags & DNS_Z))
		return DNS_BAD;
	if (!(flags & DNS_QR) && (flags & 0xf) != 0)
		return DNS_BAD; /* a query carries no rcode */
	if (avail < 6)
		return DNS_CUT;
	qd = be16_at(d + 4);
	if (qd < 1 || qd > DNS_MAX_QD)
		return DNS_BAD;
	for (size_t off = 6; off < DNS_HDR; off += 2) {
		if (avail < off + 2)
			return DNS_CUT;
		if (be16_at(d + off) > DNS_MAX_COUNT)
			return DNS_BAD;
	}
	return DNS_OK;
}

/* past a name at off that may end in a compression pointer; 0 if malformed */
static size_t dns_skip_name(const uint8_t *d, size_t off, size_t end)
{
	for (size_t name = 0; off < end;) {
		if (d[off] == 0)
			return off + 1;
		if ((d[off] & 0xc0) == 0xc0)
			return off + 2 <= end ? off + 2 : 0;
		if (d[off] > DNS_MAX_LABEL)
			return 0;
		name += d[off] + 1u;
		if (name > DNS_MAX_NAME)
			return 0;
		off += d[off] + 1u;
	}
	return 0;
}

/* the other questions and every record, ending exactly at the message end */
static bool dns_walk(const uint8_t *d, size_t off, size_t end)
{
	size_t qd = be16_at(d + 4) - 1u;
	size_t rr = (size_t)be16_at(d + 6) + be16_at(d + 8) + be16_at(d + 10);

	for (size_t i = 0; i < qd + rr; i++) {
		off = dns_skip_name(d, off, end);
		if (!off || off + (i < qd ? 4 : 10) > end)
			return false;
		if (i >= qd)
			off += 10 + (size_t)be16_at(d + off + 8);
		else
			off += 4;
		if (off > end)
			return false;
	}
	return off == end;
}

/* after the first question: room for the other questions and the records */
static bool dns_room(const uint8_t *d, size_t off, size_t msg_len, size_t avail)
{
	size_t rr = (size_t)be16_at(d + 6) + be16_at(d + 8) + be16_at(d + 10);

	if (avail >= msg_len)
		return dns_walk(d, off, msg_len);
	return off + 5 * (be16_at(d + 4) - 1u) + DNS_MIN_RR * rr <= msg_len;
}

/*
 * The first question of a message of msg_len bytes of which avail are in
 * the segment; no compression pointer can come before it.
 */
static int dns_question(const uint8_t *d, size_t msg_len, size_t avail)
{
	size_t off = DNS_HDR, name = 0;

	for (;;) {
		if (off >= msg_len)
			return DNS_BAD;
		if (off >= avail)
			return DNS_CUT;
		if (d[off] == 0)
			break;
		if (d[off] > DNS_MAX_LABEL)
			return DNS_BAD;
		name += d[off] + 1u;
		if (name > DNS_MAX_NAME)
			return DNS_BAD;
		for (size_t i = off + 1; i <= off + d[off] && i < avail; i++)
			if (d[i] < 0x20 || d[i] == 0x7f)
				return DNS_BAD;
		off += d[off] + 1u;
	}
	if (off + 5 > msg_len)
		return DNS_BAD;
	if (off + 5 > avail)
		return DNS_CUT;
	if (be16_at(d + off + 1) == 0 || !dns_class_ok(be16_at(d + off + 3)))
		return DNS_BAD;
	return dns_room(d, off + 5, msg_len, avail) ? DNS_OK : DNS_BAD;
}

static int dns_message(const uint8_t *d, size_t msg_len, size_t avail)
{
	int r;

	if (msg_len < DNS_MIN_MSG)
		return DNS_BAD;
	r = dns_header(d, avail);
	if (r != DNS_OK)
		return r;
	return dns_question(d, msg_len, avail);
}

static enum app_answer dns_answer(int r)
{
	return r == DNS_OK ? APP_YES : r == DNS_CUT ? APP_MAYBE : APP_NO;
}

/*
 * TCP: the length prefix and as much of the message as the segment holds.
 * A client may write the prefix alone; its next segment is then checked
 * as a bare message.
 */
static enum app_answer dns_tcp(const struct app_segment *seg)
{
	const uint8_t *d = seg->data;
	size_t len = seg->len, msg_len;
	enum app_answer a;

	if (len < 2)
		return seg->index == 0 ? APP_MAYBE : APP_NO;
	if (len > 2 && len < 2 + DNS_HDR)
		return APP_NO; /* neither the prefix alone nor a header with it */
	msg_len = be16_at(d);
	a = dns_answer(dns_message(d + 2, msg_len, len - 2));
	if (a == APP_NO && seg->index > 0 && len >= DNS_MIN_MSG)
		return dns_message(d, len, len) == DNS_OK ? APP_YES : APP_NO;
	return a;
}

enum app_answer app_dns_probe(const struct app_segment *seg, struct app_info *info)
{
	if (seg->transport == IPPROTO_UDP)
		return dns_message(seg->data, seg->len, seg->len) == DNS_OK ? APP_YES : APP_NO;
	return dns_tcp(seg);
}
