// SPDX-License-Identifier: Apache-2.0
/* A JSON object read into a C struct by a table of its keys. */
#include "jfield.h"

#include <string.h>

#include "err.h"

int jfield_read_str(const json_t *v, char *dst, size_t size, const char *key, const char *where)
{
	if (!json_is_string(v))
		return err_set(-EINVAL, "%s: key \"%s\" must be a string", where, key);
	if (json_string_length(v) >= size)
		return err_set(-EINVAL, "%s: key \"%s\" is longer than %zu bytes", where, key,
			       size - 1);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int read_int(char *dst, const json_t *v, const struct jfield *f, const char *where)
{
	long long n;

	if (!json_is_integer(v))
		return err_set(-EINVAL, "%s: key \"%s\" must be %s", where, f->key,
			       f->min >= 0 ? "a non-negative integer" : "an integer");
	n = json_integer_value(v);
	if (n < f->min || n > f->max)
		return err_set(-EINVAL, "%s: key \"%s\" must be between %lld and %lld", where,
			       f->key, f->min, f->max);
	if (f->size == sizeof(int)) {
		int i = (int)n;

		memcpy(dst, &i, sizeof(i));
	} else {
		long l = (long)n;

		memcpy(dst, &l, sizeof(l));
	}
	return 0;
}

static int read_one(void *base, const json_t *v, const struct jfield *f, const char *where)
{
	char *dst = (char *)base + f->off;
	int ret;

	switch (f->kind) {
	case JF_STR:
		ret = jfield_read_str(v, dst, f->size, f->key, where);
		break;
	case JF_INT:
		ret = read_int(dst, v, f, where);
		break;
	case JF_BOOL:
		if (!json_is_boolean(v))
			return err_set(-EINVAL, "%s: key \"%s\" must be true or false", where,
				       f->key);
		*(bool *)dst = json_is_true(v);
		ret = 0;
		break;
	case JF_FN:
		return f->fn(base, v, f, where);
	default:
		return err_set(-EINVAL, "%s: key \"%s\": bad field", where, f->key);
	}
	return ret < 0 || !f->fn ? ret : f->fn(base, v, f, where);
}

static const struct jfield *find(const struct jfield *fields, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].key, key) == 0)
			return &fields[i];
	return NULL;
}

int jfield_read(const json_t *obj, void *base, const struct jfield *fields, size_t n,
		unsigned flags, const char *where)
{
	char shown[ERR_SHOWN_MAX];
	const struct jfield *f;
	const char *key;
	json_t *v;
	int ret;

	if (!json_is_object(obj))
		return err_set(-EINVAL, "%s: must be an object", where);
	json_object_foreach((json_t *)obj, key, v) {
		f = find(fields, n, key);
		if (!f && (flags & JF_IGNORE_UNKNOWN))
			continue;
		if (!f)
			return err_set(-EINVAL, "%s: unknown key \"%s\"", where,
				       err_shown(key, shown, sizeof(shown)));
		ret = read_one(base, v, f, where);
		if (ret < 0)
			return ret;
	}
	for (size_t i = 0; i < n; i++)
		if (fields[i].required && !json_object_get(obj, fields[i].key))
			return err_set(-EINVAL, "%s: key \"%s\" is missing", where, fields[i].key);
	return 0;
}
