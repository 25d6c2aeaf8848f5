// SPDX-License-Identifier: Apache-2.0
/*
 * memcached: a text command line of the classic protocol with the right
 * number and kinds of arguments (and, for a storage command, its data block
 * ending in CRLF where the segment holds it), a known server reply line,
 * or a binary protocol header (magic 0x80 request, 0x81 response).
 *
 * memcached is named on both sides (APP_BOTH_SIDES, app_list.h): a text
 * command is a short line ("get k", "version") that plain text can be,
 * and the binary header has one magic byte and small fields; the reply
 * line or response header confirms it.  A client that sends only
 * "noreply" commands and never reads is left unknown.
 */
#include "app_int.h"

#define MC_MAX_LINE 2048
#define MC_MAX_KEY 250
#define MC_MAX_TOKENS 24
#define MC_BIN_HDR 24
#define MC_BIN_REQ 0x80
#define MC_BIN_RES 0x81
#define MC_BIN_MAX_OPCODE 0x48
#define MC_BIN_MAX_EXTRAS 32
#define MC_BIN_MAX_BODY (64u * 1024 * 1024)

struct mc_tok {
	const uint8_t *p;
	size_t n;
};

/* split the line at single or repeated spaces; the count, or -1 if too many */
static int mc_split(const uint8_t *d, size_t len, struct mc_tok *t)
{
	int n = 0;

	for (size_t i = 0; i < len;) {
		if (d[i] == ' ') {
			i++;
			continue;
		}
		if (n == MC_MAX_TOKENS)
			return -1;
		t[n].p = d + i;
		for (t[n].n = 0; i < len && d[i] != ' '; i++)
			t[n].n++;
		n++;
	}
	return n;
}

static bool mc_is(const struct mc_tok *t, const char *s)
{
	return t->n == strlen(s) && memcmp(t->p, s, t->n) == 0;
}

static bool mc_key(const struct mc_tok *t)
{
	return t->n >= 1 && t->n <= MC_MAX_KEY;
}

/* a decimal of at most 20 digits, optionally negative */
static bool mc_num(const struct mc_tok *t, bool neg_ok, unsigned long long *v)
{
	size_t i = neg_ok && t->n > 1 && t->p[0] == '-';

	if (t->n == i || t->n - i > 20)
		return false;
	for (*v = 0; i < t->n; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(t->p[i] - '0');
	}
	return true;
}

/* the trailing [noreply] after want fixed tokens */
static bool mc_argc(const struct mc_tok *t, int n, int want)
{
	return n == want || (n == want + 1 && mc_is(&t[want], "noreply"));
}

/* set/add/replace/append/prepend/cas: the data block follows the line */
static enum app_answer mc_storage(const struct mc_tok *t, int n, bool cas, const uint8_t *d,
				  size_t len, size_t data)
{
	unsigned long long flags, exptime, bytes, unique;
	int want = cas ? 6 : 5;

	if (!mc_argc(t, n, want) || !mc_key(&t[1]) || !mc_num(&t[2], false, &flags) ||
	    flags > UINT32_MAX || !mc_num(&t[3], true, &exptime) || !mc_num(&t[4], false, &bytes))
		return APP_NO;
	if (cas && !mc_num(&t[5], false, &unique))
		return APP_NO;
	if (bytes > MC_BIN_MAX_BODY || data + bytes + 2 > len)
		return APP_YES; /* the block continues past this segment */
	return d[data + bytes] == '\r' && d[data + bytes + 1] == '\n' ? APP_YES : APP_NO;
}

static enum app_answer mc_command(const struct mc_tok *t, int n, const uint8_t *d, size_t len,
				  size_t data)
{
	static const char *const storage[] = { "set", "add", "replace", "append", "prepend" };
	unsigned long long v;

	if (mc_is(&t[0], "get") || mc_is(&t[0], "gets")) {
		for (int i = 1; i < n; i++)
			if (!mc_key(&t[i]))
				return APP_NO;
		return n >= 2 ? APP_YES : APP_NO;
	}
	for (size_t i = 0; i < ARRAY_SIZE(storage); i++)
		if (mc_is(&t[0], storage[i]))
			return mc_storage(t, n, false, d, len, data);
	if (mc_is(&t[0], "cas"))
		return mc_storage(t, n, true, d, len, data);
	if (mc_is(&t[0], "delete"))
		return n >= 2 && mc_key(&t[1]) &&
				       (mc_argc(t, n, 2) || (n == 3 && mc_num(&t[2], false, &v)))
			       ? APP_YES
			       : APP_NO;
	if (mc_is(&t[0], "incr") || mc_is(&t[0], "decr") || mc_is(&t[0], "touch"))
		return n >= 3 && mc_argc(t, n, 3) && mc_key(&t[1]) &&
				       mc_num(&t[2], mc_is(&t[0], "touch"), &v)
			       ? APP_YES
			       : APP_NO;
	if (mc_is(&t[0], "flush_all"))
		return n == 1 || mc_argc(t, n, 1) || (mc_argc(t, n, 2) && mc_num(&t[1], false, &v))
			       ? APP_YES
			       : APP_NO;
	if (mc_is(&t[0], "version"))
		return n == 1 ? APP_YES : APP_NO;
	if (mc_is(&t[0], "stats"))
		return n <= 4 ? APP_YES : APP_NO;
	return APP_NO;
}

static enum app_answer mc_reply(const struct mc_tok *t, int n)
{
	static const char *const bare[] = { "STORED",  "NOT_STORED", "EXISTS", "NOT_FOUND",
					    "DELETED", "TOUCHED",    "END" };
	unsigned long long v;

	for (size_t i = 0; i < ARRAY_SIZE(bare); i++)
		if (mc_is(&t[0], bare[i]))
			return n == 1 ? APP_YES : APP_NO;
	if (mc_is(&t[0], "VALUE"))
		return (n == 4 || n == 5) && mc_key(&t[1]) && mc_num(&t[2], false, &v) &&
				       mc_num(&t[3], false, &v) &&
				       (n == 4 || mc_num(&t[4], false, &v))
			       ? APP_YES
			       : APP_NO;
	if (mc_is(&t[0], "STAT"))
		return n >= 3 ? APP_YES : APP_NO;
	if (mc_is(&t[0], "VERSION"))
		return n == 2 ? APP_YES : APP_NO;
	return APP_NO;
}

/* a line cut before its end: does it start like a command or a reply? */
static bool mc_word_start(const uint8_t *d, size_t len)
{
	static const char *const words[] = {
		"get ",	     "gets ",	"set ",	   "add ",     "replace ", "append ",	 "prepend ",
		"cas ",	     "delete ", "incr ",   "decr ",    "touch ",   "stats",	 "version",
		"flush_all", "VALUE ",	"STAT ",   "VERSION ", "STORED",   "NOT_STORED", "EXISTS",
		"NOT_FOUND", "DELETED", "TOUCHED", "END",
	};
	size_t n;

	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		n = strlen(words[i]);
		if (memcmp(d, words[i], len < n ? len : n) == 0)
			return true;
	}
	return false;
}

static enum app_answer mc_text(const struct app_segment *seg)
{
	const uint8_t *d = seg->data;
	long line = app_line_len(d, seg->len < MC_MAX_LINE ? seg->len : MC_MAX_LINE);
	long end = line < 0 ? (long)seg->len - (d[seg->len - 1] == '\r') : line;
	struct mc_tok t[MC_MAX_TOKENS];
	int n;

	/* a cut line may end in its CR, the LF still to come */
	for (long i = 0; i < end && i < MC_MAX_LINE; i++)
		if (d[i] <= 0x20 ? d[i] != ' ' : d[i] >= 0x7f)
			return APP_NO;
	if (line < 0)
		return seg->len < MC_MAX_LINE && mc_word_start(d, seg->len) ? APP_MAYBE : APP_NO;
	n = mc_split(d, (size_t)line, t);
	if (n <= 0)
		return APP_NO;
	if (seg->from_client)
		return mc_command(t, n, d, seg->len, (size_t)line + (d[line] == '\r' ? 2 : 1));
	return mc_reply(t, n);
}

static bool mc_bin_status(unsigned s)
{
	return s <= 0x09 || (s >= 0x20 && s <= 0x24) || (s >= 0x81 && s <= 0x86);
}

static enum app_answer mc_binary(const struct app_segment *seg)
{
	const uint8_t *d = seg->data;
	uint32_t body;
	unsigned key, extras;

	if (seg->len < MC_BIN_HDR)
		return seg->index == 0 && seg->len < 2 ? APP_MAYBE : APP_NO;
	key = be16_at(d + 2);
	extras = d[4];
	body = be32_at(d + 8);
	if (d[1] > MC_BIN_MAX_OPCODE || d[5] != 0 || extras > MC_BIN_MAX_EXTRAS ||
	    key > MC_MAX_KEY || body < key + extras || body > MC_BIN_MAX_BODY)
		return APP_NO;
	if (d[0] == MC_BIN_RES && !mc_bin_status(be16_at(d + 6)))
		return APP_NO;
	return APP_YES;
}

enum app_answer app_memcached_probe(const struct app_segment *seg, struct app_info *info)
{
	uint8_t magic = seg->from_client ? MC_BIN_REQ : MC_BIN_RES;

	if (seg->data[0] == magic)
		return mc_binary(seg);
	return mc_text(seg);
}
