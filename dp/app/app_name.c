// SPDX-License-Identifier: Apache-2.0
/* The application names of shared/CONTRACT.md, for logs and policy. */
#include <string.h>

#include "app.h"

static const char *const app_names[APP_MAX] = {
    [APP_UNKNOWN] = "unknown", [APP_HTTP] = "http",
    [APP_HTTP2] = "http2",     [APP_TLS] = "tls",
    [APP_SSH] = "ssh",	       [APP_DNS] = "dns",
    [APP_MYSQL] = "mysql",     [APP_POSTGRESQL] = "postgresql",
    [APP_REDIS] = "redis",     [APP_MEMCACHED] = "memcached",
    [APP_MONGODB] = "mongodb", [APP_KAFKA] = "kafka",
    [APP_NTP] = "ntp",	       [APP_DHCP] = "dhcp",
};

const char *app_name(enum app_proto app)
{
	return (unsigned)app < APP_MAX ? app_names[app] : "unknown";
}

int app_from_name(const char *name)
{
	for (int i = 0; i < APP_MAX; i++)
		if (strcmp(app_names[i], name) == 0)
			return i;
	return -1;
}
