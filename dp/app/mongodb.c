// SPDX-License-Identifier: Apache-2.0
/*
 * MongoDB wire protocol: the 16-byte little-endian header (messageLength
 * within bounds, a known opCode; requests carry responseTo 0), and the body
 * of OP_MSG, OP_QUERY, OP_REPLY and OP_COMPRESSED checked as far as the
 * segment holds it.
 */
#include "app_int.h"

#define MONGO_HDR 16
#define MONGO_MAX_MSG (48 * 1000 * 1000)
#define MONGO_BSON_MIN 5

#define OP_REPLY 1
#define OP_UPDATE 2001
#define OP_INSERT 2002
#define OP_QUERY 2004
#define OP_GET_MORE 2005
#define OP_DELETE 2006
#define OP_KILL_CURSORS 2007
#define OP_COMMAND 2010
#define OP_COMMANDREPLY 2011
#define OP_COMPRESSED 2012
#define OP_MSG 2013

#define MSG_FLAGS_KNOWN 0x00010003u /* checksumPresent, moreToCome, exhaustAllowed */

enum { MONGO_BAD = -1, MONGO_CUT = 0, MONGO_OK = 1 };

struct mongo_msg {
	const uint8_t *d;
	size_t mlen, avail;
};

/* n bytes at off: inside the message, and here? */
static int mongo_need(const struct mongo_msg *m, size_t off, size_t n)
{
	if (off + n > m->mlen)
		return MONGO_BAD;
	return off + n > m->avail ? MONGO_CUT : MONGO_OK;
}

static bool mongo_bson_type(uint8_t t)
{
	return (t >= 0x01 && t <= 0x13) || t == 0x7f || t == 0xff;
}

/* a BSON document's length and first element type */
static int mongo_bson(const struct mongo_msg *m, size_t off)
{
	int r = mongo_need(m, off, 4);
	uint32_t n;

	if (r != MONGO_OK)
		return r;
	n = le32_at(m->d + off);
	if (n < MONGO_BSON_MIN || n > m->mlen - off)
		return MONGO_BAD;
	if (mongo_need(m, off, 5) != MONGO_OK)
		return MONGO_CUT;
	if (n == MONGO_BSON_MIN ? m->d[off + 4] != 0 : !mongo_bson_type(m->d[off + 4]))
		return MONGO_BAD;
	if (mongo_need(m, off, n) == MONGO_OK && m->d[off + n - 1] != 0)
		return MONGO_BAD;
	return MONGO_OK;
}

static int mongo_op_msg(const struct mongo_msg *m)
{
	int r = mongo_need(m, MONGO_HDR, 5);

	if (r != MONGO_OK)
		return r;
	if (le32_at(m->d + MONGO_HDR) & ~MSG_FLAGS_KNOWN)
		return MONGO_BAD;
	if (m->d[MONGO_HDR + 4] == 0)
		return mongo_bson(m, MONGO_HDR + 5);
	if (m->d[MONGO_HDR + 4] != 1)
		return MONGO_BAD;
	r = mongo_need(m, MONGO_HDR + 5, 4); /* kind 1: a document sequence */
	if (r == MONGO_OK && le32_at(m->d + MONGO_HDR + 5) > m->mlen - MONGO_HDR - 5)
		return MONGO_BAD;
	return r;
}

/* OP_QUERY: flags, "db.collection", skip, return, query document */
static int mongo_op_query(const struct mongo_msg *m)
{
	size_t off = MONGO_HDR + 4;
	bool dot = false;
	int r = mongo_need(m, MONGO_HDR, 4);

	if (r != MONGO_OK)
		return r;
	if (le32_at(m->d + MONGO_HDR) & ~0xfeu)
		return MONGO_BAD;
	for (;; off++) {
		r = mongo_need(m, off, 1);
		if (r != MONGO_OK)
			return r;
		if (m->d[off] == 0)
			break;
		if (m->d[off] < 0x20 || m->d[off] >= 0x7f)
			return MONGO_BAD;
		dot |= m->d[off] == '.';
	}
	if (!dot)
		return MONGO_BAD;
	return mongo_bson(m, off + 1 + 8);
}

static int mongo_op_reply(const struct mongo_msg *m)
{
	int r = mongo_need(m, MONGO_HDR, 20);

	if (r != MONGO_OK)
		return r;
	if ((le32_at(m->d + MONGO_HDR) & ~0xfu) || le32_at(m->d + MONGO_HDR + 16) > 0x7fffffff)
		return MONGO_BAD;
	if (le32_at(m->d + MONGO_HDR + 16) == 0)
		return m->mlen == MONGO_HDR + 20 ? MONGO_OK : MONGO_BAD;
	return mongo_bson(m, MONGO_HDR + 20);
}

static bool mongo_opcode(uint32_t op)
{
	return op == OP_REPLY || (op >= OP_UPDATE && op <= OP_KILL_CURSORS) ||
	       (op >= OP_COMMAND && op <= OP_MSG);
}

static int mongo_op_compressed(const struct mongo_msg *m)
{
	int r = mongo_need(m, MONGO_HDR, 9);
	uint32_t op, size;

	if (r != MONGO_OK)
		return r;
	op = le32_at(m->d + MONGO_HDR);
	size = le32_at(m->d + MONGO_HDR + 4);
	if (!mongo_opcode(op) || op == OP_COMPRESSED || size == 0 || size > MONGO_MAX_MSG ||
	    m->d[MONGO_HDR + 8] > 3)
		return MONGO_BAD;
	return MONGO_OK;
}

/* the legacy operations that open with a reserved int32 zero */
static int mongo_op_legacy(const struct mongo_msg *m, uint32_t op)
{
	int r = mongo_need(m, MONGO_HDR, 4);

	if (r != MONGO_OK || op == OP_COMMAND || op == OP_COMMANDREPLY)
		return r;
	if (op == OP_INSERT)
		return le32_at(m->d + MONGO_HDR) & ~1u ? MONGO_BAD : MONGO_OK;
	return le32_at(m->d + MONGO_HDR) == 0 ? MONGO_OK : MONGO_BAD;
}

static int mongo_body(const struct mongo_msg *m, uint32_t op)
{
	switch (op) {
	case OP_MSG:
		return mongo_op_msg(m);
	case OP_QUERY:
		return mongo_op_query(m);
	case OP_REPLY:
		return mongo_op_reply(m);
	case OP_COMPRESSED:
		return mongo_op_compressed(m);
	default:
		return mongo_op_legacy(m, op);
	}
}

enum app_answer app_mongodb_probe(const struct app_segment *seg, struct app_info *info)
{
	const uint8_t *d = seg->data;
	struct mongo_msg m = { d, 0, 0 };
	uint32_t op;
	int r;

	if (seg->len < MONGO_HDR)
		return seg->index == 0 && seg->len < 4 ? APP_MAYBE : APP_NO;
	m.mlen = le32_at(d);
	m.avail = seg->len < m.mlen ? seg->len : m.mlen;
	op = le32_at(d + 12);
	if (m.mlen < MONGO_HDR + 4 || m.mlen > MONGO_MAX_MSG || !mongo_opcode(op) || op == 2003)
		return APP_NO;
	if (seg->from_client ? op == OP_REPLY || op == OP_COMMANDREPLY || le32_at(d + 8) != 0
			     : op != OP_REPLY && op != OP_COMMANDREPLY && op != OP_MSG &&
				       op != OP_COMPRESSED)
		return APP_NO;
	r = mongo_body(&m, op);
	return r == MONGO_OK ? APP_YES : r == MONGO_CUT ? APP_MAYBE : APP_NO;
}
