/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_THREAT_SQLI_INT_H
#define PORTCULLIS_DP_THREAT_SQLI_INT_H

/*
 * The SQL injection detector's parts: a source that decodes a value on the
 * fly (as is, URL percent-decoding, or form decoding with '+' as space), a
 * lexer that turns it into SQL tokens, a window of tokens for lookahead,
 * and the rules over token sequences (sqli_rules.c).  Token positions are
 * raw offsets into the source, so that evidence is decoded again from them.
 */

#include "dp/threat/threat_int.h"

enum sqli_mode { SQLI_RAW, SQLI_URL, SQLI_FORM };

struct sqli_src {
	const uint8_t *d;
	size_t len;
	enum sqli_mode mode;
};

static inline int sqli_hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* the decoded byte at raw offset *pos, *pos moved past it; -1 at the end */
static inline int sqli_getc(const struct sqli_src *s, size_t *pos)
{
	size_t p = *pos;
	uint8_t c;

	if (p >= s->len)
		return -1;
	c = s->d[p];
	*pos = p + 1;
	if (s->mode == SQLI_RAW)
		return c;
	if (c == '+' && s->mode == SQLI_FORM)
		return ' ';
	if (c == '%' && s->len - p > 2 && sqli_hex(s->d[p + 1]) >= 0 &&
	    sqli_hex(s->d[p + 2]) >= 0) {
		*pos = p + 3;
		return sqli_hex(s->d[p + 1]) << 4 | sqli_hex(s->d[p + 2]);
	}
	return c;
}

static inline int sqli_peekc(const struct sqli_src *s, size_t pos)
{
	return sqli_getc(s, &pos);
}

enum sqli_type {
	SQ_NONE = 0, /* before the start, or out of the window */
	SQ_EOF,
	SQ_STR,
	SQ_NUM,
	SQ_WORD,
	SQ_OP,
	SQ_LPAR,
	SQ_RPAR,
	SQ_COMMA,
	SQ_SEMI,
	SQ_DOT,
	SQ_COMMENT, /* -- or # to the end of the line */
	SQ_OTHER,
};

/* keywords the rules know; SQK_NONE for any other word */
enum sqli_kw {
	SQK_NONE = 0,
	SQK_ALL,
	SQK_ALTER,
	SQK_AND,
	SQK_ASCII,
	SQK_BENCHMARK,
	SQK_BY,
	SQK_CAST,
	SQK_CHAR,
	SQK_CONCAT,
	SQK_CONVERT,
	SQK_CREATE,
	SQK_DATABASE,
	SQK_DECLARE,
	SQK_DELAY,
	SQK_DELETE,
	SQK_DISTINCT,
	SQK_DROP,
	SQK_EXEC,
	SQK_EXECUTE,
	SQK_EXISTS,
	SQK_EXTRACTVALUE,
	SQK_FALSE,
	SQK_FROM,
	SQK_FUNCTION,
	SQK_GROUP,
	SQK_HAVING,
	SQK_IF,
	SQK_INDEX,
	SQK_INSERT,
	SQK_INTO,
	SQK_LENGTH,
	SQK_LIKE,
	SQK_LOAD_FILE,
	SQK_MID,
	SQK_NOT,
	SQK_NULL,
	SQK_OR,
	SQK_ORDER,
	SQK_PG_SLEEP,
	SQK_PROCEDURE,
	SQK_RANDOMBLOB,
	SQK_RECEIVE_MESSAGE,
	SQK_REGEXP,
	SQK_RLIKE,
	SQK_SCHEMA,
	SQK_SELECT,
	SQK_SET,
	SQK_SHUTDOWN,
	SQK_SLEEP,
	SQK_SUBSTR,
	SQK_SUBSTRING,
	SQK_TABLE,
	SQK_TIME,
	SQK_TRIGGER,
	SQK_TRUE,
	SQK_TRUNCATE,
	SQK_UNION,
	SQK_UPDATE,
	SQK_UPDATEXML,
	SQK_USER,
	SQK_VERSION,
	SQK_VIEW,
	SQK_WAITFOR,
	SQK_XOR,
};

enum sqli_op {
	SQO_OTHER = 0,
	SQO_EQ, /* = <=> */
	SQO_NE, /* != <> */
	SQO_LT,
	SQO_GT,
	SQO_LE,
	SQO_GE,
	SQO_OROR,   /* || */
	SQO_ANDAND, /* && */
	SQO_NOT,    /* ! */
	SQO_STAR,
	SQO_MINUS,
	SQO_PLUS,
};

#define SQF_UNTERMINATED 0x1 /* a string or block comment running to the end */
#define SQF_BLOCK_BEFORE 0x2 /* a slash-star comment just before the token */

struct sqli_tok {
	uint8_t type; /* enum sqli_type */
	uint8_t kw;   /* enum sqli_kw of a word, enum sqli_op of an operator */
	uint8_t flags;
	size_t start, end; /* raw offsets */
};

struct sqli_lexer {
	struct sqli_src src;
	size_t pos;
	bool exec_comment; /* inside a MySQL slash-star-bang comment, whose text is code */
};

/* the next token from *lx (SQ_EOF at the end, for ever) */
void sqli_lex(struct sqli_lexer *lx, struct sqli_tok *t);

/* a sliding window of tokens: index i is the i-th token from the start */
#define SQLI_WIN 32
#define SQLI_LOOKAHEAD 24 /* the furthest a rule looks ahead of where it stands */

struct sqli_win {
	struct sqli_lexer lx;
	struct sqli_tok t[SQLI_WIN];
	size_t filled; /* tokens lexed so far */
	size_t eof;    /* index of the SQ_EOF token, or SIZE_MAX */
};

void sqli_win_init(struct sqli_win *w, const struct sqli_src *src, size_t pos);
/* token i; SQ_NONE when it has left the window (and for i == SIZE_MAX, "before the start") */
const struct sqli_tok *sqli_at(struct sqli_win *w, size_t i);

/* A match: raw offsets of the fragment to show. */
struct sqli_match {
	size_t start, end;
};

/* Where the quote a reading breaks out with stands in the value. */
enum sqli_quote_at {
	QUOTE_NONE,	   /* no quote: the value read as is, as in a numeric context */
	QUOTE_AT_START,	   /* 'x */
	QUOTE_AFTER_SPACE, /* a 'x, more like prose */
	QUOTE_AFTER_TEXT,  /* a'x */
};

/*
 * The rules over one reading of the value, its tokens from index 0 of w:
 * quote is the raw offset of the quote it breaks out with (the tokens
 * start right after it), unused when at is QUOTE_NONE.
 */
bool sqli_rules(struct sqli_win *w, size_t quote, enum sqli_quote_at at, struct sqli_match *m);

/* the whole detector over one source; hit filled when it returns true */
bool sqli_detect(const struct sqli_src *src, struct threat_hit *hit);

#endif
