/* SPDX-License-Identifier: Apache-2.0 */
/* A look into a pod's network namespace, from a forked child. */
#include "probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/core/err.h"

static int prefix_len(const struct sockaddr *mask)
{
	const uint8_t *b;
	size_t n;
	int bits = 0;

	if (!mask)
		return 0;
	if (mask->sa_family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)mask)->sin_addr;
		n = 4;
	} else {
		b = (const uint8_t *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		bits += __builtin_popcount(b[i]);
	return bits;
}

/* In the child: one "ADDR/PREFIX" line per address of ifname. */
static void child_list(int out, const char *ifname)
{
	struct ifaddrs *ifa, *i;
	char addr[INET6_ADDRSTRLEN];
	const void *a;

	if (getifaddrs(&ifa) < 0)
		_exit(3);
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname) != 0)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			a = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		else if (i->ifa_addr->sa_family == AF_INET6)
			a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		else
			continue;
		inet_ntop(i->ifa_addr->sa_family, a, addr, sizeof(addr));
		dprintf(out, "%s/%d\n", addr, prefix_len(i->ifa_netmask));
	}
	freeifaddrs(ifa);
	_exit(0);
}

static json_t *parse_lines(char *buf)
{
	json_t *arr = json_array();
	char *save, *line;

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		json_array_append_new(arr, json_string(line));
	return arr;
}

int probe_addrs(const char *path, const char *ifname, json_t **out)
{
	int nsfd, p[2], status;
	char buf[4096];
	size_t have = 0;
	ssize_t got;
	pid_t pid;

	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return err_set(-errno, "open %s", path);
	if (pipe2(p, O_CLOEXEC) < 0) {
		close(nsfd);
		return err_set(-errno, "pipe");
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(2);
		child_list(p[1], ifname);
	}
	close(nsfd);
	close(p[1]);
	while (pid > 0 && (got = read(p[0], buf + have, sizeof(buf) - 1 - have)) > 0)
		have += got;
	close(p[0]);
	if (pid < 0)
		return err_set(-errno, "fork");
	buf[have] = '\0';
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(-EINVAL, "%s: cannot enter as a network namespace", path);
	*out = parse_lines(buf);
	return 0;
}
