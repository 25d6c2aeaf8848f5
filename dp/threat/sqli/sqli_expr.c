// SPDX-License-Identifier: Apache-2.0
/*
 * Token classes and the small expressions the injection rules look for:
 * an operand (literal, column, function call, subquery), a comparison or
 * a boolean term after OR/AND, and the shape of a SELECT list.  Every walk
 * is bounded by SQLI_LOOKAHEAD tokens from where the rule stands.
 */
#include "sqli_expr.h"

bool sqli_kw(const struct sqli_tok *t, uint8_t kw)
{
	return t->type == SQ_WORD && t->kw == kw;
}

bool sqli_op(const struct sqli_tok *t, uint8_t op)
{
	return t->type == SQ_OP && t->kw == op;
}

bool sqli_is_bool(const struct sqli_tok *t)
{
	return sqli_kw(t, SQK_OR) || sqli_kw(t, SQK_AND) || sqli_kw(t, SQK_XOR) ||
	       sqli_op(t, SQO_OROR) || sqli_op(t, SQO_ANDAND);
}

bool sqli_is_cmp(const struct sqli_tok *t)
{
	if (t->type == SQ_OP)
		return t->kw >= SQO_EQ && t->kw <= SQO_GE;
	return sqli_kw(t, SQK_LIKE) || sqli_kw(t, SQK_RLIKE) || sqli_kw(t, SQK_REGEXP);
}

/* where a statement may end */
bool sqli_is_end(const struct sqli_tok *t)
{
	return t->type == SQ_EOF || t->type == SQ_COMMENT || t->type == SQ_SEMI;
}

static bool sqli_is_func(uint8_t kw)
{
	switch (kw) {
	case SQK_ASCII:
	case SQK_BENCHMARK:
	case SQK_CAST:
	case SQK_CHAR:
	case SQK_CONCAT:
	case SQK_CONVERT:
	case SQK_DATABASE:
	case SQK_EXISTS:
	case SQK_EXTRACTVALUE:
	case SQK_IF:
	case SQK_LENGTH:
	case SQK_LOAD_FILE:
	case SQK_MID:
	case SQK_PG_SLEEP:
	case SQK_RANDOMBLOB:
	case SQK_RECEIVE_MESSAGE:
	case SQK_SLEEP:
	case SQK_SUBSTR:
	case SQK_SUBSTRING:
	case SQK_UPDATEXML:
	case SQK_USER:
	case SQK_VERSION:
		return true;
	default:
		return false;
	}
}

/* the first decoded character of a token */
int sqli_first(struct sqli_win *w, const struct sqli_tok *t)
{
	return sqli_peekc(&w->lx.src, t->start);
}

/* whether the word's text starts with lower (lowercase ASCII), case ignored */
bool sqli_word_prefix(struct sqli_win *w, const struct sqli_tok *t, const char *lower)
{
	size_t pos = t->start;

	for (; *lower; lower++) {
		int c = pos < t->end ? sqli_getc(&w->lx.src, &pos) : -1;

		if (c < 0 || threat_lower((uint8_t)c) != (uint8_t)*lower)
			return false;
	}
	return true;
}

/* two words with the same text, case ignored */
static bool sqli_same_word(struct sqli_win *w, const struct sqli_tok *a, const struct sqli_tok *b)
{
	size_t pa = a->start, pb = b->start;

	if (a->type != SQ_WORD || b->type != SQ_WORD)
		return false;
	while (pa < a->end && pb < b->end) {
		int ca = sqli_getc(&w->lx.src, &pa), cb = sqli_getc(&w->lx.src, &pb);

		if (threat_lower((uint8_t)ca) != threat_lower((uint8_t)cb))
			return false;
	}
	return pa == a->end && pb == b->end;
}

/* past the parenthesis group opening at i, or where the input or the bound ends */
size_t sqli_skip_parens(struct sqli_win *w, size_t i, size_t limit)
{
	unsigned depth = 0;

	for (; i < limit; i++) {
		const struct sqli_tok *t = sqli_at(w, i);

		if (t->type == SQ_EOF || t->type == SQ_NONE)
			return i;
		if (t->type == SQ_LPAR)
			depth++;
		else if (t->type == SQ_RPAR && depth <= 1)
			return i + 1;
		else if (t->type == SQ_RPAR)
			depth--;
	}
	return i;
}

static enum sqli_opnd sqli_word_operand(struct sqli_win *w, size_t i, size_t limit, size_t *next)
{
	const struct sqli_tok *t = sqli_at(w, i);

	if (t->kw != SQK_NONE && !sqli_is_func(t->kw))
		return OPND_NONE;
	if (sqli_at(w, i + 1)->type == SQ_LPAR) {
		*next = sqli_skip_parens(w, i + 1, limit);
		return sqli_is_func(t->kw) ? OPND_KCALL : OPND_CALL;
	}
	for (i++;
	     i + 1 < limit && sqli_at(w, i)->type == SQ_DOT && sqli_at(w, i + 1)->type == SQ_WORD;)
		i += 2;
	*next = i;
	return OPND_IDENT;
}

/* an operand at i, after at most three prefixes (NOT ! - + ~ and opening parentheses) */
enum sqli_opnd sqli_operand(struct sqli_win *w, size_t i, size_t limit, size_t *next)
{
	const struct sqli_tok *t = sqli_at(w, i);

	for (unsigned k = 0; k < 3 && i + 1 < limit; k++, t = sqli_at(w, ++i)) {
		bool paren = t->type == SQ_LPAR && !sqli_kw(sqli_at(w, i + 1), SQK_SELECT);

		if (!paren && !sqli_kw(t, SQK_NOT) && !sqli_op(t, SQO_NOT) &&
		    !sqli_op(t, SQO_MINUS) && !sqli_op(t, SQO_PLUS))
			break;
	}
	*next = i + 1;
	switch (t->type) {
	case SQ_LPAR:
		if (!sqli_kw(sqli_at(w, i + 1), SQK_SELECT))
			return OPND_NONE;
		*next = sqli_skip_parens(w, i, limit);
		return OPND_SUBQ;
	case SQ_STR:
		return OPND_STR;
	case SQ_NUM:
		return OPND_NUM;
	case SQ_WORD:
		if (sqli_kw(t, SQK_TRUE) || sqli_kw(t, SQK_FALSE) || sqli_kw(t, SQK_NULL))
			return OPND_NUM;
		return sqli_word_operand(w, i, limit, next);
	default:
		return OPND_NONE;
	}
}

/*
 * A boolean term at i (what follows OR/AND): a subquery, a comparison or,
 * unless strict, a bare number, TRUE/FALSE or known function call ending
 * the statement.  A comparison counts when one side is more than a column
 * name (strict: both), or both sides are the same name (x=x).
 */
bool sqli_bool_term(struct sqli_win *w, size_t i, bool strict, size_t limit, size_t *end)
{
	size_t j, k;
	enum sqli_opnd a = sqli_operand(w, i, limit, &j), b;

	if (a == OPND_NONE)
		return false;
	if (a == OPND_SUBQ || !sqli_is_cmp(sqli_at(w, j))) {
		*end = j;
		if (a == OPND_SUBQ)
			return true;
		return !strict && (a == OPND_NUM || a == OPND_KCALL) &&
		       (sqli_is_end(sqli_at(w, j)) || sqli_at(w, j)->type == SQ_RPAR);
	}
	b = sqli_operand(w, j + 1, limit, &k);
	*end = k;
	if (b == OPND_NONE)
		return false;
	if (a == OPND_IDENT && b == OPND_IDENT)
		return sqli_same_word(w, sqli_at(w, i), sqli_at(w, j + 1));
	return !strict || (a != OPND_IDENT && b != OPND_IDENT);
}

/*
 * The list after SELECT at k: an item then FROM, or a first item that is
 * plainly SQL (number, string, NULL, *, @@variable, call, parenthesis)
 * followed by a comma or the end.  "select a size" is not one.
 */
bool sqli_select_list(struct sqli_win *w, size_t k, size_t *end)
{
	const struct sqli_tok *t;
	bool strong;

	if (sqli_kw(sqli_at(w, k), SQK_ALL) || sqli_kw(sqli_at(w, k), SQK_DISTINCT))
		k++;
	t = sqli_at(w, k);
	strong = t->type == SQ_NUM || t->type == SQ_STR || t->type == SQ_LPAR ||
		 sqli_kw(t, SQK_NULL) || sqli_op(t, SQO_STAR) ||
		 (t->type == SQ_WORD &&
		  (sqli_first(w, t) == '@' || sqli_at(w, k + 1)->type == SQ_LPAR));
	for (size_t n = 0; n < 12; n++) {
		t = sqli_at(w, k + n);
		*end = k + n;
		if (sqli_is_end(t) || t->type == SQ_RPAR || t->type == SQ_NONE)
			return n > 0 && strong;
		if (sqli_kw(t, SQK_FROM)) {
			*end = k + n + 1;
			return n > 0;
		}
		if (t->type == SQ_COMMA && strong)
			return true;
	}
	return false;
}
