// SPDX-License-Identifier: Apache-2.0
/* The data plane's sandbox, applied in a child: what it allows and what ends it. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/core/err.h"
#include "dp/svc/sandbox.h"

/* The value of a /proc/self/status line, e.g. "CapEff". */
static void status_field(const char *key, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':') {
			snprintf(out, len, "%s", line + strlen(key) + 2);
			out[strcspn(out, "\n")] = '\0';
		}
	if (f)
		fclose(f);
}

/* Runs fn in a sandboxed child; its wait status. */
static int in_sandbox(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (sandbox_drop_caps(-1) < 0 || sandbox_filter(false) < 0) {
			fprintf(stderr, "%s\n", err_msg());
			_exit(3);
		}
		fn();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void allowed_calls(void)
{
	char caps[64], seccomp[8], nnp[8];
	int p[2];

	/* reading its own status file: openat, read, close */
	status_field("CapEff", caps, sizeof(caps));
	status_field("CapBnd", caps + 32, sizeof(caps) - 32);
	status_field("Seccomp", seccomp, sizeof(seccomp));
	status_field("NoNewPrivs", nnp, sizeof(nnp));
	if (strcmp(caps, "0000000000000000") || strcmp(caps + 32, "0000000000000000") ||
	    strcmp(seccomp, "2") || strcmp(nnp, "1"))
		_exit(4);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0) /* not allowed: never here */
		_exit(5);
}

static void forbidden_socket(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
	_exit(6);
}

static void forbidden_exec(void)
{
	execl("/bin/true", "true", (char *)NULL);
	_exit(7);
}

START_TEST(test_caps_gone_and_status_readable)
{
	int st = in_sandbox(allowed_calls);

	/* socketpair is not on the list: the child ends by SIGSYS after the checks */
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "child status %#x", st);
}
END_TEST

START_TEST(test_forbidden_calls_kill)
{
	int st = in_sandbox(forbidden_socket);

	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "socket(): child status %#x", st);
	st = in_sandbox(forbidden_exec);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "execve(): child status %#x", st);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("sandbox");
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		printf("SKIP: dropping the bounding set needs root\n");
		return 77;
	}
	tcase_add_test(tc, test_caps_gone_and_status_readable);
	tcase_add_test(tc, test_forbidden_calls_kill);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
