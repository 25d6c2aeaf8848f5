// SPDX-License-Identifier: Apache-2.0
/*
 * SQL injection in one value, read the three ways an application may paste
 * it into a query: as is (a number or an expression), inside a single-
 * quoted string and inside a double-quoted one.  In the quoted readings
 * the value only becomes SQL after its first quote that is not doubled:
 * "O'Brien" turns into the SQL "Brien", harmless, while "x' OR 1=1--"
 * turns into OR 1=1 and a comment.  Values made only of word characters
 * (most parameters) are let through before any of that.
 */
#include <string.h>

#include "sqli_int.h"
#include "lib/core/util.h"

#define SQLI_SHOWN 72
#define SQLI_CONTEXT 24 /* bytes of the word before a break-out shown */

#define SQLI_SQL_CHARS 0x1 /* anything but letters, digits and . _ ~ @ - */
#define SQLI_SQUOTE 0x2
#define SQLI_DQUOTE 0x4

/* what the value holds, in one pass: whether any reading can find SQL in it */
static unsigned sqli_scan(const struct sqli_src *src)
{
	unsigned seen = 0;
	size_t pos = 0;
	int c;

	while ((c = sqli_getc(src, &pos)) >= 0) {
		if (((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '~' || c == '@' || c == '-' || c >= 0x80)
			continue;
		seen |= SQLI_SQL_CHARS;
		if (c == '\'')
			seen |= SQLI_SQUOTE;
		else if (c == '"')
			seen |= SQLI_DQUOTE;
	}
	return seen;
}

/* the first quote that is not doubled: the break-out, and what stands before it */
static bool sqli_find_quote(const struct sqli_src *src, int quote, size_t *at, size_t *after,
			    enum sqli_quote_at *where)
{
	size_t pos = 0, p = 0;
	int c, prev = -1;

	for (; (c = sqli_getc(src, &pos)) >= 0; p = pos) {
		if (c == quote && sqli_peekc(src, pos) == quote) {
			sqli_getc(src, &pos);
		} else if (c == quote) {
			*at = p;
			*after = pos;
			*where = prev < 0		       ? QUOTE_AT_START
				 : prev == ' ' || prev == '\t' ? QUOTE_AFTER_SPACE
							       : QUOTE_AFTER_TEXT;
			return true;
		}
		prev = c;
	}
	return false;
}

/* the decoded fragment [start, end) as the hit's evidence */
static void sqli_evidence(const struct sqli_src *src, size_t start, size_t end,
			  struct threat_hit *hit)
{
	uint8_t frag[SQLI_SHOWN];
	size_t n = 0, pos = start;
	int c;

	while (pos < end && n < sizeof(frag) && (c = sqli_getc(src, &pos)) >= 0)
		frag[n++] = (uint8_t)c;
	hit->id = THREAT_SQL_INJECTION;
	n = threat_text(hit->evidence, sizeof(hit->evidence) - 3, frag, n);
	if (pos < end)
		memcpy(hit->evidence + n, "...", 4);
}

/* the word before a quote broken out of right after text (admin'--) */
static size_t sqli_word_start(const struct sqli_src *src, size_t quote)
{
	size_t s = quote;

	while (s > 0 && quote - s < SQLI_CONTEXT && src->d[s - 1] != ' ' && src->d[s - 1] != '+')
		s--;
	return s;
}

static bool sqli_reading(const struct sqli_src *src, int quote, struct sqli_match *m)
{
	struct sqli_win w;
	enum sqli_quote_at where = QUOTE_NONE;
	size_t at = 0, after = 0;

	if (quote && !sqli_find_quote(src, quote, &at, &after, &where))
		return false;
	sqli_win_init(&w, src, after);
	if (!sqli_rules(&w, at, where, m))
		return false;
	if (where == QUOTE_AFTER_TEXT && m->start == at)
		m->start = sqli_word_start(src, at);
	return true;
}

bool sqli_detect(const struct sqli_src *src, struct threat_hit *hit)
{
	static const struct {
		int quote;
		unsigned needs;
	} readings[] = { { 0, 0 }, { '\'', SQLI_SQUOTE }, { '"', SQLI_DQUOTE } };
	unsigned seen = sqli_scan(src);
	struct sqli_match m;

	if (!(seen & SQLI_SQL_CHARS))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(readings); i++) {
		if ((seen & readings[i].needs) != readings[i].needs)
			continue;
		if (sqli_reading(src, readings[i].quote, &m)) {
			sqli_evidence(src, m.start, m.end, hit);
			return true;
		}
	}
	return false;
}

bool threat_sqli(const char *s, size_t len, struct threat_hit *hit)
{
	struct sqli_src src = { (const uint8_t *)s, len, SQLI_RAW };

	return sqli_detect(&src, hit);
}
