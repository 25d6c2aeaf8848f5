/* SPDX-License-Identifier: Apache-2.0 */
#ifndef PORTCULLIS_CORE_JFIELD_H
#define PORTCULLIS_CORE_JFIELD_H

/*
 * A JSON object read into a C struct by a table of its keys: the
 * configuration, state records, OCI annotations and the policy all read
 * their objects this way.  Each key of the object must be in the table
 * (unless JF_IGNORE_UNKNOWN), each required key of the table must be in
 * the object, and each value must be of its field's kind.  Messages read
 * "WHERE: key \"K\" must be a string", "WHERE: unknown key \"K\"", ...
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum jf_kind {
	JF_STR,	 /* a string that fits in size bytes with its NUL */
	JF_INT,	 /* an integer in [min, max], stored in size bytes (int or long) */
	JF_BOOL, /* true or false, stored as bool */
	JF_FN,	 /* read by fn */
};

struct jfield {
	const char *key;
	enum jf_kind kind;
	size_t off, size; /* where in the struct, and its size */
	long long min, max;
	/* JF_FN: reads v into base; the others: a check of the value read (may be NULL) */
	int (*fn)(void *base, const json_t *v, const struct jfield *f, const char *where);
	bool required;
};

#define JF_FIELD(type, member) offsetof(type, member), sizeof(((type *)0)->member)

/* flags */
#define JF_IGNORE_UNKNOWN 0x1 /* keys not in the table are skipped, not refused */

/* One string value v of key into dst[size]; for arrays of strings. */
int jfield_read_str(const json_t *v, char *dst, size_t size, const char *key, const char *where);

/*
 * Read obj into base by the n fields; where names the object in messages.
 * 0, or -EINVAL with the message recorded (base may be half filled).
 */
int jfield_read(const json_t *obj, void *base, const struct jfield *fields, size_t n,
		unsigned flags, const char *where);

#endif
