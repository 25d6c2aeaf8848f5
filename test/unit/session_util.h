/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_TEST_SESSION_UTIL_H
#define PORTCULLIS_TEST_SESSION_UTIL_H

/* What the unit tests that run frames through a session table share. */

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include "frame_util.h"
#include "dp/flow/decode.h"
#include "dp/flow/session.h"

/* Decode f and account it to its session, created if new, as the data
 * plane does; the session (NULL: the table is full), and the direction. */
static inline struct session *feed(struct session_table *t, const struct frame *f, uint64_t now,
				   bool *from_client)
{
	struct flow_key k;
	struct session *s;
	struct pkt p;
	bool a;

	ck_assert_int_eq(decode_frame(f->b, f->len, &p), DECODE_OK);
	ck_assert(session_key(&p, 0, &k, &a));
	s = session_lookup(t, &k);
	if (!s)
		s = session_create(t, &k, a, &p, now, NULL, NULL);
	if (!s)
		return NULL;
	*from_client = session_from_client(s, a);
	session_update(t, s, &p, *from_client, now);
	return s;
}

#endif
