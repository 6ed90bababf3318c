/* ALBM: unit tests for src/common/version.c — the string and `PROG --version` */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/version.h"

/* Built by make: scripts/version.sh's output, which is safe in a Prometheus label. */
static void test_version_string(void **state)
{
	const char *v = albm_version();
	(void)state;

	assert_true(strlen(v) > 0);
	assert_string_not_equal(v, "unknown");
	assert_true(v[0] >= '0' && v[0] <= '9');
	assert_int_equal(strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789.+~-"),
			 strlen(v));
}

/* Run albm_version_exit_if_asked in a child; its stdout into out, exit status back. */
static int run_child(char **argv, int argc, char *out, size_t len)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		albm_version_exit_if_asked(argc, argv, "albm-test");
		printf("not asked\n");
		fflush(stdout);
		_exit(7);
	}
	close(p[1]);
	n = read(p[0], out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_version_option(void **state)
{
	char *asked[] = { "albm-test", "--version", NULL };
	char *other[] = { "albm-test", "list", "--version", NULL };
	char out[256], want[256];
	(void)state;

	snprintf(want, sizeof(want), "albm-test %s\n", albm_version());
	assert_int_equal(run_child(asked, 2, out, sizeof(out)), 0);
	assert_string_equal(out, want);
	/* only as the first argument: "--version" after a command is that command's */
	assert_int_equal(run_child(other, 3, out, sizeof(out)), 7);
	assert_string_equal(out, "not asked\n");
	assert_int_equal(run_child(asked, 1, out, sizeof(out)), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_string),
		cmocka_unit_test(test_version_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
