/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_ERR_H
#define PORTCULLIS_ERR_H

/*
 * The error convention of portcullis, used by every module:
 *
 *  - A fallible function returns 0 (or a non-negative value) on success and a
 *    negative errno value on failure.  libnl's -NLE_* codes are never returned;
 *    nl.c translates them.
 *  - The function that detects a failure records one line of context with
 *    err_set(), which returns its code so the pattern is
 *        return err_set(-errno, "open %s", path);
 *  - A caller that adds meaning prefixes the line with err_wrap(), so the
 *    final message reads outside-in: "pull eth0: move vex42-0: File exists".
 *  - Only the top level prints err_msg(), once.
 *
 * The message lives in thread-local storage; a new err_set() replaces it.
 *
 * Cleanup, one idiom: a function that makes several changes or acquires
 * several resources undoes them with a reverse goto ladder, one label per
 * step named after what it undoes, in the opposite order of the steps:
 *
 *	ret = ring_open(&w->ring, ...);
 *	if (ret < 0)
 *		goto err_inspector;
 *	ret = quick_open(&w->quick, ...);
 *	if (ret < 0)
 *		goto err_ring;
 *	return 0;
 *     err_ring:
 *	ring_close(&w->ring);
 *     err_inspector:
 *	inspector_fini(&w->in);
 *	return ret;
 *
 * A function with one resource releases it at one exit.  Ownership moves
 * with "ret = fd; fd = -1;".  A pull's steps are journalled as well, so
 * that a process killed half-way is undone by the next one (lib/pull).
 */

#include <errno.h>
#include <stddef.h>

#define PC_ERRMSG_MAX 512

int err_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int err_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *err_msg(void);

/*
 * Untrusted text as it may stand in a one-line message: every byte that is
 * not printable ASCII becomes '?', and text longer than fits in buf[len]
 * is cut with "...".  Returns buf.
 */
#define ERR_SHOWN_MAX 64
const char *err_shown(const char *s, char *buf, size_t len);
void err_clear(void);

#endif
