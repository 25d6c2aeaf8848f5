/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enforcer-side port names: PREFIX PID "-" ORDINAL [ "." GEN ].  Each part
 * is written without leading zeros, so every (pid, ordinal, gen) has exactly
 * one name and naming_is_port() accepts exactly the names naming_port()
 * can produce.
 */
#include "naming.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "err.h"

static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static int prefix_ok(const char *prefix)
{
	size_t n = prefix ? strlen(prefix) : 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (prefix[i] < 'a' || prefix[i] > 'z')
			return 0;
	return 1;
}

int naming_port(char out[IFNAMSIZ], const char *prefix, unsigned pid, unsigned ordinal,
		unsigned gen)
{
	char ord[3], tail[3] = "";
	int n;

	out[0] = '\0';
	if (!prefix_ok(prefix))
		return err_set(-EINVAL, "port name: prefix must be lower-case letters");
	if (pid == 0 || pid > NAMING_MAX_PID)
		return err_set(-EINVAL, "port name: pid %u is out of range (1..%u)", pid,
			       NAMING_MAX_PID);
	if (ordinal > NAMING_MAX_ORDINAL)
		return err_set(-EINVAL, "port name: port ordinal %u is larger than %u", ordinal,
			       NAMING_MAX_ORDINAL);
	if (gen > NAMING_MAX_GEN)
		return err_set(-EINVAL, "port name: generation %u is larger than %u", gen,
			       NAMING_MAX_GEN);
	if (ordinal < 36) {
		ord[0] = b36[ordinal];
		ord[1] = '\0';
	} else {
		ord[0] = b36[ordinal / 36];
		ord[1] = b36[ordinal % 36];
		ord[2] = '\0';
	}
	if (gen) {
		tail[0] = '.';
		tail[1] = b36[gen];
		tail[2] = '\0';
	}
	n = snprintf(out, IFNAMSIZ, "%s%u-%s%s", prefix, pid, ord, tail);
	if (n < 0 || n >= IFNAMSIZ) {
		out[0] = '\0';
		return err_set(-EINVAL, "port name: prefix \"%s\" leaves no room in %d bytes",
			       prefix, IFNAMSIZ - 1);
	}
	return 0;
}

static int b36_digit(char c)
{
	const char *p = c ? strchr(b36, c) : NULL;

	return p ? (int)(p - b36) : -1;
}

/* Decimal pid 1..NAMING_MAX_PID without leading zeros; returns chars used or 0. */
static size_t scan_pid(const char *s)
{
	unsigned long v = 0;
	size_t i;

	if (s[0] < '1' || s[0] > '9')
		return 0;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == 7)
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= NAMING_MAX_PID ? i : 0;
}

/* Base-36 ordinal, one or two digits, no leading zero; returns chars used or 0. */
static size_t scan_ordinal(const char *s)
{
	if (b36_digit(s[0]) < 0)
		return 0;
	if (b36_digit(s[1]) < 0)
		return 1;
	return s[0] == '0' ? 0 : 2;
}

int naming_is_port(const char *name, const char *prefix)
{
	size_t n, len;

	if (!name || !prefix_ok(prefix))
		return 0;
	len = strnlen(name, IFNAMSIZ);
	n = strlen(prefix);
	if (len >= IFNAMSIZ || strncmp(name, prefix, n) != 0)
		return 0;
	name += n;
	n = scan_pid(name);
	if (!n || name[n] != '-')
		return 0;
	name += n + 1;
	n = scan_ordinal(name);
	if (!n)
		return 0;
	name += n;
	if (name[0] == '\0')
		return 1;
	return name[0] == '.' && b36_digit(name[1]) > 0 && name[2] == '\0';
}

static int mac_taken(const unsigned char mac[6], const unsigned char (*taken)[6], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(mac, taken[i], 6) == 0)
			return 1;
	return 0;
}

int naming_ucmac(const unsigned char (*taken)[6], size_t n_taken, unsigned char out[6])
{
	for (unsigned attempt = 0; attempt < 64; attempt++) {
		if (getrandom(out + 2, 4, 0) != 4)
			return err_set(-errno, "UCMAC: getrandom");
		out[0] = 0x02; /* locally administered, unicast */
		out[1] = 0x70;
		if (!mac_taken(out, taken, n_taken))
			return 0;
	}
	return err_set(-EEXIST, "no free UCMAC");
}

void naming_mac_str(const unsigned char mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

int naming_mac_parse(const char *s, unsigned char mac[6])
{
	unsigned b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6)
		return err_set(-EINVAL, "\"%s\" is not a MAC address", s);
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)b[i];
	return 0;
}
