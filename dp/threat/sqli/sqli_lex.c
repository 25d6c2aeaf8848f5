// SPDX-License-Identifier: Apache-2.0
/*
 * The SQL lexer: one pass, each byte read once (a constant number of
 * times with the lookahead of two-byte operators).  Strings in single or
 * double quotes with doubled quotes as escapes (no backslash escapes, so
 * that "\'" counts as the break-out it is in ANSI SQL), backquoted
 * identifiers, numbers (decimal, hex, exponent), words with the keywords
 * the rules know, operators, and comments: "--" and "#" to the end of the
 * line as tokens, slash-star comments as whitespace that leaves a mark on
 * the next token, and MySQL's slash-star-bang comments as code.
 */
#include <stdlib.h>
#include <string.h>

#include "sqli_int.h"
#include "lib/core/util.h"

#define SQLI_KW_MAX 16
#define SQLI_KW_LONGEST 15 /* RECEIVE_MESSAGE */

struct sqli_kw_name {
	const char *name;
	uint8_t kw;
};

/* sorted by name */
static const struct sqli_kw_name sqli_kws[] = {
	{ "ALL", SQK_ALL },
	{ "ALTER", SQK_ALTER },
	{ "AND", SQK_AND },
	{ "ASCII", SQK_ASCII },
	{ "BENCHMARK", SQK_BENCHMARK },
	{ "BY", SQK_BY },
	{ "CAST", SQK_CAST },
	{ "CHAR", SQK_CHAR },
	{ "CONCAT", SQK_CONCAT },
	{ "CONVERT", SQK_CONVERT },
	{ "CREATE", SQK_CREATE },
	{ "DATABASE", SQK_DATABASE },
	{ "DECLARE", SQK_DECLARE },
	{ "DELAY", SQK_DELAY },
	{ "DELETE", SQK_DELETE },
	{ "DISTINCT", SQK_DISTINCT },
	{ "DROP", SQK_DROP },
	{ "EXEC", SQK_EXEC },
	{ "EXECUTE", SQK_EXECUTE },
	{ "EXISTS", SQK_EXISTS },
	{ "EXTRACTVALUE", SQK_EXTRACTVALUE },
	{ "FALSE", SQK_FALSE },
	{ "FROM", SQK_FROM },
	{ "FUNCTION", SQK_FUNCTION },
	{ "GROUP", SQK_GROUP },
	{ "HAVING", SQK_HAVING },
	{ "IF", SQK_IF },
	{ "INDEX", SQK_INDEX },
	{ "INSERT", SQK_INSERT },
	{ "INTO", SQK_INTO },
	{ "LENGTH", SQK_LENGTH },
	{ "LIKE", SQK_LIKE },
	{ "LOAD_FILE", SQK_LOAD_FILE },
	{ "MID", SQK_MID },
	{ "NOT", SQK_NOT },
	{ "NULL", SQK_NULL },
	{ "OR", SQK_OR },
	{ "ORDER", SQK_ORDER },
	{ "PG_SLEEP", SQK_PG_SLEEP },
	{ "PROCEDURE", SQK_PROCEDURE },
	{ "RANDOMBLOB", SQK_RANDOMBLOB },
	{ "RECEIVE_MESSAGE", SQK_RECEIVE_MESSAGE },
	{ "REGEXP", SQK_REGEXP },
	{ "RLIKE", SQK_RLIKE },
	{ "SCHEMA", SQK_SCHEMA },
	{ "SELECT", SQK_SELECT },
	{ "SET", SQK_SET },
	{ "SHUTDOWN", SQK_SHUTDOWN },
	{ "SLEEP", SQK_SLEEP },
	{ "SUBSTR", SQK_SUBSTR },
	{ "SUBSTRING", SQK_SUBSTRING },
	{ "TABLE", SQK_TABLE },
	{ "TIME", SQK_TIME },
	{ "TRIGGER", SQK_TRIGGER },
	{ "TRUE", SQK_TRUE },
	{ "TRUNCATE", SQK_TRUNCATE },
	{ "UNION", SQK_UNION },
	{ "UPDATE", SQK_UPDATE },
	{ "UPDATEXML", SQK_UPDATEXML },
	{ "USER", SQK_USER },
	{ "VERSION", SQK_VERSION },
	{ "VIEW", SQK_VIEW },
	{ "WAITFOR", SQK_WAITFOR },
	{ "XOR", SQK_XOR },
};

/* binary search over the sorted table; upper is NUL-terminated, n long */
static uint8_t sqli_keyword(const char *upper, size_t n)
{
	size_t lo = 0, hi = ARRAY_SIZE(sqli_kws);

	if (n < 2 || n > SQLI_KW_LONGEST)
		return SQK_NONE;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *k = sqli_kws[mid].name;
		size_t i = 0;

		while (upper[i] && upper[i] == k[i])
			i++;
		if (upper[i] == k[i])
			return sqli_kws[mid].kw;
		if ((uint8_t)upper[i] < (uint8_t)k[i])
			hi = mid;
		else
			lo = mid + 1;
	}
	return SQK_NONE;
}

static bool sqli_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool sqli_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool sqli_ident(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || sqli_digit(c) || c == '_' ||
	       c == '$' || c == '@' || c >= 0x80;
}

/* past the end of a slash-star comment whose text starts at pos */
static size_t sqli_block_end(const struct sqli_src *s, size_t pos)
{
	int c, prev = 0;

	while ((c = sqli_getc(s, &pos)) >= 0) {
		if (prev == '*' && c == '/')
			break;
		prev = c;
	}
	return pos;
}

/* whitespace and comments that are whitespace; the SQF_ marks they leave */
static uint8_t sqli_skip(struct sqli_lexer *lx)
{
	const struct sqli_src *s = &lx->src;
	uint8_t flags = 0;

	for (;;) {
		size_t p = lx->pos;
		int c = sqli_getc(s, &p);

		if (c == '/' && sqli_peekc(s, p) == '*') {
			sqli_getc(s, &p);
			if (sqli_peekc(s, p) == '!') {
				sqli_getc(s, &p);
				while (sqli_digit(sqli_peekc(s, p)))
					sqli_getc(s, &p);
				lx->exec_comment = true;
			} else {
				p = sqli_block_end(s, p);
				flags |= SQF_BLOCK_BEFORE;
			}
		} else if (c == '*' && lx->exec_comment && sqli_peekc(s, p) == '/') {
			sqli_getc(s, &p);
			lx->exec_comment = false;
		} else if (c < 0 || !sqli_space(c)) {
			return flags;
		}
		lx->pos = p;
	}
}

/* a quoted string or identifier; a doubled quote stands for itself */
static void sqli_quoted(struct sqli_lexer *lx, int quote, struct sqli_tok *t)
{
	int c;

	t->type = quote == '`' ? SQ_WORD : SQ_STR;
	while ((c = sqli_getc(&lx->src, &lx->pos)) >= 0) {
		if (c != quote)
			continue;
		if (sqli_peekc(&lx->src, lx->pos) != quote)
			return;
		sqli_getc(&lx->src, &lx->pos);
	}
	t->flags |= SQF_UNTERMINATED;
}

static void sqli_number(struct sqli_lexer *lx, int c, struct sqli_tok *t)
{
	const struct sqli_src *s = &lx->src;
	int n = sqli_peekc(s, lx->pos);

	t->type = SQ_NUM;
	if (c == '0' && (n == 'x' || n == 'X' || n == 'b' || n == 'B')) {
		sqli_getc(s, &lx->pos);
		while ((n = sqli_peekc(s, lx->pos)) >= 0 && sqli_hex((uint8_t)n) >= 0)
			sqli_getc(s, &lx->pos);
		return;
	}
	while (sqli_digit(n) || n == '.') {
		sqli_getc(s, &lx->pos);
		n = sqli_peekc(s, lx->pos);
	}
	if (n == 'e' || n == 'E') {
		size_t p = lx->pos;

		sqli_getc(s, &p);
		n = sqli_peekc(s, p);
		if (n == '+' || n == '-') {
			sqli_getc(s, &p);
			n = sqli_peekc(s, p);
		}
		if (!sqli_digit(n))
			return;
		while (sqli_digit(sqli_peekc(s, p)))
			sqli_getc(s, &p);
		lx->pos = p;
	}
}

static void sqli_word(struct sqli_lexer *lx, int c, struct sqli_tok *t)
{
	char up[SQLI_KW_MAX + 1];
	size_t n = 0;

	t->type = SQ_WORD;
	for (;;) {
		if (n <= SQLI_KW_MAX)
			up[n] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
		n++;
		if (!sqli_ident(sqli_peekc(&lx->src, lx->pos)))
			break;
		c = sqli_getc(&lx->src, &lx->pos);
	}
	if (n <= SQLI_KW_MAX) {
		up[n] = '\0';
		t->kw = sqli_keyword(up, n);
	}
}

/* the operator starting with c; a second character is taken when it forms one */
static uint8_t sqli_operator(struct sqli_lexer *lx, int c)
{
	static const char *const pairs[] = { "<=>", "<=", ">=", "<>", "!=", "||", "&&", "==",
					     ":=",  "::", "<<", ">>", "!<", "!>", "->" };
	static const uint8_t ops[] = { SQO_EQ,	  SQO_LE,     SQO_GE,	 SQO_NE,    SQO_NE,
				       SQO_OROR,  SQO_ANDAND, SQO_EQ,	 SQO_OTHER, SQO_OTHER,
				       SQO_OTHER, SQO_OTHER,  SQO_OTHER, SQO_OTHER, SQO_OTHER };
	int n = sqli_peekc(&lx->src, lx->pos);

	for (size_t i = 0; i < sizeof(ops); i++) {
		if (pairs[i][0] != c || pairs[i][1] != n)
			continue;
		sqli_getc(&lx->src, &lx->pos);
		if (pairs[i][2] && sqli_peekc(&lx->src, lx->pos) == pairs[i][2])
			sqli_getc(&lx->src, &lx->pos);
		else if (pairs[i][2])
			return SQO_LE; /* "<=" without its '>' */
		return ops[i];
	}
	switch (c) {
	case '=':
		return SQO_EQ;
	case '<':
		return SQO_LT;
	case '>':
		return SQO_GT;
	case '!':
		return SQO_NOT;
	case '*':
		return SQO_STAR;
	case '-':
		return SQO_MINUS;
	case '+':
		return SQO_PLUS;
	default:
		return SQO_OTHER;
	}
}

static void sqli_line_comment(struct sqli_lexer *lx, int c, struct sqli_tok *t)
{
	int n;

	t->type = SQ_COMMENT;
	t->kw = (uint8_t)c;
	while ((n = sqli_peekc(&lx->src, lx->pos)) >= 0 && n != '\n')
		sqli_getc(&lx->src, &lx->pos);
}

static uint8_t sqli_punct(int c)
{
	switch (c) {
	case '(':
		return SQ_LPAR;
	case ')':
		return SQ_RPAR;
	case ',':
		return SQ_COMMA;
	case ';':
		return SQ_SEMI;
	case '.':
		return SQ_DOT;
	default:
		return strchr("=<>!|&+-*/%^~:?", c) ? SQ_OP : SQ_OTHER;
	}
}

void sqli_lex(struct sqli_lexer *lx, struct sqli_tok *t)
{
	int c, n;

	memset(t, 0, sizeof(*t));
	t->flags = sqli_skip(lx);
	t->start = lx->pos;
	c = sqli_getc(&lx->src, &lx->pos);
	n = sqli_peekc(&lx->src, lx->pos);
	if (c < 0)
		t->type = SQ_EOF;
	else if (c == '#' || (c == '-' && n == '-'))
		sqli_line_comment(lx, c, t);
	else if (c == '\'' || c == '"' || c == '`')
		sqli_quoted(lx, c, t);
	else if (sqli_digit(c) || (c == '.' && sqli_digit(n)))
		sqli_number(lx, c, t);
	else if (sqli_ident(c))
		sqli_word(lx, c, t);
	else if ((t->type = sqli_punct(c)) == SQ_OP)
		t->kw = sqli_operator(lx, c);
	t->end = lx->pos;
}

void sqli_win_init(struct sqli_win *w, const struct sqli_src *src, size_t pos)
{
	w->lx.src = *src;
	w->lx.pos = pos;
	w->lx.exec_comment = false;
	w->filled = 0;
	w->eof = SIZE_MAX;
}

const struct sqli_tok *sqli_at(struct sqli_win *w, size_t i)
{
	static const struct sqli_tok none = { .type = SQ_NONE };

	if (i == SIZE_MAX)
		return &none;
	if (i >= w->eof)
		return &w->t[w->eof % SQLI_WIN];
	while (w->filled <= i) {
		struct sqli_tok *t = &w->t[w->filled % SQLI_WIN];

		sqli_lex(&w->lx, t);
		if (t->type == SQ_EOF) {
			w->eof = w->filled++;
			return t;
		}
		w->filled++;
	}
	if (i + SQLI_WIN < w->filled)
		return &none;
	return &w->t[i % SQLI_WIN];
}
