// SPDX-License-Identifier: Apache-2.0
/*
 * The injection rules over the tokens of one reading of a value.
 *
 * Read after a quote it breaks out with (the value is pasted inside a
 * quoted string): right after the quote (and any closing parentheses)
 * OR/AND and a boolean term, a comparison ending the statement ('='),
 * a comment cutting the rest of the query off (admin'--), ORDER BY n,
 * HAVING, or a concatenated subquery.  A quote after a space is more
 * likely prose ("a '=' sign", "press '#'"): only OR/AND count after it.
 *
 * Read as is (pasted in a numeric context): a number, then OR/AND and a
 * comparison of literals (1 OR 1=1).
 *
 * In every reading, anywhere: UNION [ALL] SELECT with a real select list,
 * a semicolon then a statement of a real shape (stacked query), a time
 * function called as SQL calls it (SLEEP(5), BENCHMARK(n, ...),
 * pg_sleep(5), dbms_pipe.receive_message(...)), WAITFOR DELAY '...'.
 */
#include "sqli_expr.h"

#define LIMIT(i) ((i) + SQLI_LOOKAHEAD)

static void sqli_span(struct sqli_win *w, size_t start, size_t end_tok, struct sqli_match *m)
{
	const struct sqli_tok *last = sqli_at(w, end_tok - 1), *next = sqli_at(w, end_tok);

	m->start = start;
	m->end = next->type == SQ_COMMENT ? next->end : last->end;
	if (last->type == SQ_NONE || m->end < start)
		m->end = start;
}

/* a comment right after the break-out: the rest of the query is cut off */
static bool sqli_cut_off(struct sqli_win *w, size_t i, enum sqli_quote_at at, size_t *end)
{
	const struct sqli_tok *t;

	if (sqli_at(w, i)->type == SQ_SEMI)
		i++;
	t = sqli_at(w, i);
	*end = i + 1;
	if (t->type == SQ_COMMENT)
		return at == QUOTE_AFTER_TEXT || (at == QUOTE_AT_START && t->kw == '-');
	return t->type == SQ_EOF && (t->flags & SQF_BLOCK_BEFORE) && at == QUOTE_AFTER_TEXT;
}

/*
 * x'='x: a comparison whose right side takes the application's closing
 * quote (an unterminated string) or ends the statement; x'=1 would leave
 * that quote dangling, a syntax error, and is more likely text.
 */
static bool sqli_quote_cmp(struct sqli_win *w, size_t i, size_t *end)
{
	const struct sqli_tok *t;

	if (sqli_operand(w, i + 1, LIMIT(i), end) == OPND_NONE)
		return false;
	t = sqli_at(w, *end);
	if (t->type == SQ_COMMENT || t->type == SQ_SEMI)
		return true;
	t = sqli_at(w, *end - 1);
	return t->type == SQ_STR && (t->flags & SQF_UNTERMINATED);
}

static bool sqli_breakout(struct sqli_win *w, enum sqli_quote_at at, size_t *end)
{
	size_t i = 0;
	const struct sqli_tok *t;

	while (i < 4 && sqli_at(w, i)->type == SQ_RPAR)
		i++;
	t = sqli_at(w, i);
	if (sqli_is_bool(t) || sqli_kw(t, SQK_HAVING))
		return sqli_bool_term(w, i + 1, false, LIMIT(i), end);
	if (sqli_is_cmp(t) && t->type == SQ_OP && at != QUOTE_AFTER_SPACE)
		return sqli_quote_cmp(w, i, end);
	if (sqli_kw(t, SQK_ORDER) && sqli_kw(sqli_at(w, i + 1), SQK_BY) &&
	    sqli_at(w, i + 2)->type == SQ_NUM && sqli_is_end(sqli_at(w, i + 3))) {
		*end = i + 3;
		return true;
	}
	if (t->type == SQ_OP && sqli_at(w, i + 1)->type == SQ_LPAR &&
	    sqli_kw(sqli_at(w, i + 2), SQK_SELECT)) {
		*end = sqli_skip_parens(w, i + 1, LIMIT(i));
		return true;
	}
	return sqli_cut_off(w, i, at, end);
}

static bool sqli_numeric(struct sqli_win *w, size_t *end)
{
	size_t i = 0;

	if (sqli_op(sqli_at(w, 0), SQO_MINUS) || sqli_op(sqli_at(w, 0), SQO_PLUS))
		i++;
	if (sqli_at(w, i++)->type != SQ_NUM)
		return false;
	while (i < 6 && sqli_at(w, i)->type == SQ_RPAR)
		i++;
	return sqli_is_bool(sqli_at(w, i)) && sqli_bool_term(w, i + 1, true, LIMIT(i), end);
}

static bool sqli_union(struct sqli_win *w, size_t i, size_t *end)
{
	size_t j = i + 1;

	if (sqli_kw(sqli_at(w, j), SQK_ALL) || sqli_kw(sqli_at(w, j), SQK_DISTINCT))
		j++;
	while (j < i + 5 && sqli_at(w, j)->type == SQ_LPAR)
		j++;
	return sqli_kw(sqli_at(w, j), SQK_SELECT) && sqli_select_list(w, j + 1, end);
}

static bool sqli_object_kw(const struct sqli_tok *t)
{
	static const uint8_t objects[] = { SQK_TABLE,	 SQK_DATABASE, SQK_SCHEMA,
					   SQK_USER,	 SQK_VIEW,     SQK_PROCEDURE,
					   SQK_FUNCTION, SQK_TRIGGER,  SQK_INDEX };

	for (size_t i = 0; i < sizeof(objects); i++)
		if (sqli_kw(t, objects[i]))
			return true;
	return false;
}

/* after a semicolon at i: a statement of a recognisable shape */
static bool sqli_stacked(struct sqli_win *w, size_t i, size_t *end)
{
	const struct sqli_tok *t = sqli_at(w, i + 1), *a = sqli_at(w, i + 2);

	*end = i + 3;
	switch (t->type == SQ_WORD ? t->kw : SQK_NONE) {
	case SQK_SELECT:
		return sqli_select_list(w, i + 2, end);
	case SQK_DROP:
	case SQK_CREATE:
	case SQK_ALTER:
		return sqli_object_kw(a);
	case SQK_INSERT:
		return sqli_kw(a, SQK_INTO);
	case SQK_DELETE:
		return sqli_kw(a, SQK_FROM);
	case SQK_TRUNCATE:
		return sqli_kw(a, SQK_TABLE);
	case SQK_UPDATE:
		*end = i + 4;
		return a->type == SQ_WORD && sqli_kw(sqli_at(w, i + 3), SQK_SET);
	case SQK_EXEC:
	case SQK_EXECUTE:
		return a->type == SQ_WORD &&
		       (sqli_word_prefix(w, a, "xp_") || sqli_word_prefix(w, a, "sp_") ||
			sqli_word_prefix(w, a, "master"));
	case SQK_DECLARE:
		return a->type == SQ_WORD && sqli_first(w, a) == '@';
	case SQK_SHUTDOWN:
		*end = i + 2;
		return sqli_is_end(a);
	default:
		return false;
	}
}

/*
 * What may stand before a time function called in injected SQL.  Right
 * after a break-out quote ('sleep(5)) is not SQL; at the start of a value
 * read as is (a numeric context), it is.
 */
static bool sqli_call_context(const struct sqli_tok *p, uint8_t kw, enum sqli_quote_at at)
{
	switch (p->type) {
	case SQ_NONE:
		return at == QUOTE_NONE;
	case SQ_OP:
	case SQ_LPAR:
	case SQ_COMMA:
	case SQ_SEMI:
		return true;
	case SQ_DOT:
		return kw == SQK_RECEIVE_MESSAGE;
	case SQ_WORD:
		return sqli_is_bool(p) || sqli_kw(p, SQK_SELECT) || sqli_kw(p, SQK_NOT);
	default:
		return false;
	}
}

/* what may follow it: the end, an operator, a closing parenthesis... not prose */
static bool sqli_call_follow(const struct sqli_tok *t)
{
	return sqli_is_end(t) || t->type == SQ_OP || t->type == SQ_RPAR || t->type == SQ_COMMA ||
	       sqli_is_bool(t);
}

static bool sqli_time_call(struct sqli_win *w, size_t i, enum sqli_quote_at at, size_t *end)
{
	const struct sqli_tok *t = sqli_at(w, i);
	const struct sqli_tok *arg = sqli_at(w, i + 2), *after = sqli_at(w, i + 3);

	if (!sqli_call_context(sqli_at(w, i ? i - 1 : SIZE_MAX), t->kw, at) ||
	    sqli_at(w, i + 1)->type != SQ_LPAR)
		return false;
	switch (t->kw) {
	case SQK_SLEEP:
	case SQK_PG_SLEEP:
	case SQK_RANDOMBLOB:
		if (arg->type != SQ_NUM || after->type != SQ_RPAR)
			return false;
		*end = i + 4;
		break;
	case SQK_BENCHMARK:
		if (arg->type != SQ_NUM || after->type != SQ_COMMA)
			return false;
		*end = sqli_skip_parens(w, i + 1, LIMIT(i));
		break;
	case SQK_RECEIVE_MESSAGE:
		*end = sqli_skip_parens(w, i + 1, LIMIT(i));
		break;
	default:
		return false;
	}
	return sqli_call_follow(sqli_at(w, *end));
}

static bool sqli_waitfor(struct sqli_win *w, size_t i, size_t *end)
{
	const struct sqli_tok *t = sqli_at(w, i + 1);

	*end = i + 3;
	return (sqli_kw(t, SQK_DELAY) || sqli_kw(t, SQK_TIME)) && sqli_at(w, i + 2)->type == SQ_STR;
}

/* the rules that hold anywhere; the index of the first token matched in *at */
static bool sqli_anywhere(struct sqli_win *w, enum sqli_quote_at at, size_t *first, size_t *end)
{
	for (size_t i = 0;; i++) {
		const struct sqli_tok *t = sqli_at(w, i);
		bool hit = false;

		if (t->type == SQ_EOF)
			return false;
		if (t->type == SQ_SEMI)
			hit = sqli_stacked(w, i, end);
		else if (sqli_kw(t, SQK_UNION))
			hit = sqli_union(w, i, end);
		else if (sqli_kw(t, SQK_WAITFOR))
			hit = sqli_waitfor(w, i, end);
		else if (t->type == SQ_WORD && t->kw != SQK_NONE)
			hit = sqli_time_call(w, i, at, end);
		if (hit) {
			*first = i;
			return true;
		}
	}
}

bool sqli_rules(struct sqli_win *w, size_t quote, enum sqli_quote_at at, struct sqli_match *m)
{
	size_t end, first;

	if (at == QUOTE_NONE && sqli_numeric(w, &end)) {
		sqli_span(w, sqli_at(w, 0)->start, end, m);
		return true;
	}
	if (at != QUOTE_NONE && sqli_breakout(w, at, &end)) {
		sqli_span(w, quote, end, m);
		return true;
	}
	if (!sqli_anywhere(w, at, &first, &end))
		return false;
	sqli_span(w, sqli_at(w, first)->start, end, m);
	return true;
}
