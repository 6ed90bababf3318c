/* ALBM: unit tests for src/common/log.c — plain stderr lines and the journal format */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

/* Point stderr at a fresh temp file; returns the saved stderr to restore. */
static int stderr_to_file(char *path, size_t len)
{
	int saved, fd;

	snprintf(path, len, "%s/albm-test-log-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	return saved;
}

/* Restore stderr and return what was written to path (static buffer). */
static const char *stderr_restore(int saved, const char *path)
{
	static char text[4096];
	FILE *f;
	size_t n;

	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	return text;
}

static void set_journal_stream_to_stderr(void)
{
	struct stat st;
	char v[64];

	assert_int_equal(fstat(2, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
}

/* Under systemd: "<priority>component: message", no time stamp, no program name. */
static void test_journal_format(void **state)
{
	char path[256];
	const char *out;
	int saved;
	(void)state;

	saved = stderr_to_file(path, sizeof(path));
	set_journal_stream_to_stderr();
	assert_true(albm_log_stderr_is_journal());
	albm_log_init("albm-test", ALBM_LOG_DEBUG);
	albm_log_write(ALBM_LOG_ERR, "dr", "attach failed");
	albm_log_write(ALBM_LOG_WARN, NULL, "low on %s", "descriptors");
	albm_log_write(ALBM_LOG_INFO, "agents", "up");
	albm_log_write(ALBM_LOG_DEBUG, NULL, "detail");
	out = stderr_restore(saved, path);
	assert_string_equal(out, "<3>dr: attach failed\n<4>low on descriptors\n<6>agents: up\n"
				 "<7>detail\n");
	unsetenv("JOURNAL_STREAM");
}

/* JOURNAL_STREAM inherited by a program whose stderr goes elsewhere: plain lines. */
static void test_journal_stream_elsewhere(void **state)
{
	char path[256];
	const char *out;
	int saved;
	(void)state;

	setenv("JOURNAL_STREAM", "8:12345", 1);
	saved = stderr_to_file(path, sizeof(path));
	assert_false(albm_log_stderr_is_journal());
	albm_log_init("albm-test", ALBM_LOG_INFO);
	albm_log_write(ALBM_LOG_WARN, "dr", "hello");
	out = stderr_restore(saved, path);
	/* 2026-01-02T03:04:05.678 albm-test[warn] dr: hello */
	assert_int_equal(out[4], '-');
	assert_int_equal(out[10], 'T');
	assert_non_null(strstr(out, " albm-test[warn] dr: hello\n"));
	for (const char *bad = "x:1\0"
			       "1:\0"
			       "1:2x\0"
			       "\0";
	     *bad; bad += strlen(bad) + 1) {
		setenv("JOURNAL_STREAM", bad, 1);
		assert_false(albm_log_stderr_is_journal());
	}
	unsetenv("JOURNAL_STREAM");
	assert_false(albm_log_stderr_is_journal());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_format),
		cmocka_unit_test(test_journal_stream_elsewhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
