/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_DP_THREAT_SQLI_EXPR_H
#define PORTCULLIS_DP_THREAT_SQLI_EXPR_H

/* Token classes and small expressions for the injection rules (sqli_expr.c). */

#include "sqli_int.h"

enum sqli_opnd {
	OPND_NONE,
	OPND_IDENT, /* a column or variable name */
	OPND_STR,
	OPND_NUM, /* also TRUE, FALSE, NULL */
	OPND_CALL,
	OPND_KCALL, /* a call of a function injections use */
	OPND_SUBQ,  /* a parenthesized SELECT */
};

bool sqli_kw(const struct sqli_tok *t, uint8_t kw);
bool sqli_op(const struct sqli_tok *t, uint8_t op);
bool sqli_is_bool(const struct sqli_tok *t);
bool sqli_is_cmp(const struct sqli_tok *t);
bool sqli_is_end(const struct sqli_tok *t);
int sqli_first(struct sqli_win *w, const struct sqli_tok *t);
bool sqli_word_prefix(struct sqli_win *w, const struct sqli_tok *t, const char *lower);
size_t sqli_skip_parens(struct sqli_win *w, size_t i, size_t limit);
enum sqli_opnd sqli_operand(struct sqli_win *w, size_t i, size_t limit, size_t *next);
bool sqli_bool_term(struct sqli_win *w, size_t i, bool strict, size_t limit, size_t *end);
bool sqli_select_list(struct sqli_win *w, size_t k, size_t *end);

#endif
