/* SPDX-License-Identifier: Apache-2.0 */
#include "err.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char errbuf[PC_ERRMSG_MAX];

int err_set(int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	if (code < 0 && n >= 0 && (size_t)n < sizeof(errbuf))
		snprintf(errbuf + n, sizeof(errbuf) - n, ": %s", strerror(-code));
	return code;
}

int err_wrap(int code, const char *fmt, ...)
{
	char prefix[PC_ERRMSG_MAX / 2], old[PC_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, errbuf, sizeof(old));
	if (old[0])
		snprintf(errbuf, sizeof(errbuf), "%s: %.*s", prefix, (int)(sizeof(errbuf) / 2),
			 old);
	else
		err_set(code, "%s", prefix);
	return code;
}

const char *err_msg(void)
{
	return errbuf[0] ? errbuf : "unknown error";
}

void err_clear(void)
{
	errbuf[0] = '\0';
}

const char *err_shown(const char *s, char *buf, size_t len)
{
	size_t i;

	if (len < 4)
		return len ? (buf[0] = '\0', buf) : buf;
	for (i = 0; s[i] && i < len - 4; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}
