/* ALBM: unit tests for the agent report codec (src/proto/report.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/util.h"
#include "proto/report.h"

static const uint8_t key[ALBM_KEY_LEN] = "0123456789abcdef0123456789abcde";
static const uint8_t other_key[ALBM_KEY_LEN] = "0123456789abcdef0123456789abcdX";

static struct albm_report sample_report(void)
{
	struct albm_report r = {
		.version = ALBM_REPORT_VERSION,
		.boot_id = 0x0123456789abcdefull,
		.seq = 42,
		.timestamp_ms = 1700000000123ull,
		.interval_ms = 200,
		.m = {
			.name = "web-1",
			.mem_total_bytes = 8ull << 30,
			.mem_available_bytes = 3ull << 30,
			.cpu_util = 0.4375,
			.load1 = 1.25,
			.run_queue = 3,
			.tcp_established = 1234,
			.state = ALBM_AGENT_OVERLOADED,
		},
	};
	return r;
}

/* Re-sign a datagram the way docs/protocol.md says: HMAC over all but the tag. */
static void resign(uint8_t *buf, size_t len)
{
	unsigned int tlen = 32;

	assert_non_null(
		HMAC(EVP_sha256(), key, ALBM_KEY_LEN, buf, len - 32, buf + len - 32, &tlen));
}

static int encode(const struct albm_report *r, uint8_t *buf)
{
	int n = albm_report_encode(r, key, buf, ALBM_REPORT_MAX);

	assert_true(n > 0);
	return n;
}

static void test_round_trip(void **state)
{
	struct albm_report r = sample_report(), out;
	uint8_t buf[ALBM_REPORT_MAX];
	char err[128];
	int n;
	(void)state;

	n = encode(&r, buf);
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), 0);
	assert_int_equal(out.version, ALBM_REPORT_VERSION);
	assert_true(out.boot_id == r.boot_id);
	assert_true(out.seq == r.seq);
	assert_true(out.timestamp_ms == r.timestamp_ms);
	assert_int_equal(out.interval_ms, r.interval_ms);
	assert_string_equal(out.m.name, "web-1");
	assert_true(out.m.mem_total_bytes == r.m.mem_total_bytes);
	assert_true(out.m.mem_available_bytes == r.m.mem_available_bytes);
	assert_true(out.m.cpu_util == r.m.cpu_util);
	assert_true(out.m.load1 == r.m.load1);
	assert_int_equal(out.m.run_queue, 3);
	assert_int_equal(out.m.tcp_established, 1234);
	assert_int_equal(out.m.state, ALBM_AGENT_OVERLOADED);
}

/* The offsets documented in docs/protocol.md, which the distributor relies on. */
static void test_layout(void **state)
{
	struct albm_report r = sample_report();
	uint8_t buf[ALBM_REPORT_MAX];
	int n;
	(void)state;

	n = encode(&r, buf);
	assert_int_equal(n, 80 + 5 + 32);
	assert_memory_equal(buf, "ALBR", 4);
	assert_int_equal(buf[4], 1);
	assert_int_equal(buf[5], 1);
	assert_int_equal(buf[6] << 8 | buf[7], n);
	assert_int_equal(buf[8], 0x01);  /* boot_id, big-endian */
	assert_int_equal(buf[15], 0xef);
	assert_int_equal(buf[23], 42);   /* seq */
	assert_int_equal(buf[35], 200);  /* interval_ms low byte */
	assert_int_equal(buf[36], 1);    /* state */
	assert_int_equal(buf[37], 5);    /* name_len */
	assert_memory_equal(buf + 80, "web-1", 5);
}

static void test_wrong_key(void **state)
{
	struct albm_report r = sample_report(), out;
	uint8_t buf[ALBM_REPORT_MAX];
	char err[128] = "";
	int n;
	(void)state;

	n = encode(&r, buf);
	assert_int_equal(albm_report_decode(buf, (size_t)n, other_key, &out, err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "HMAC"));
}

/* Any single changed byte, anywhere, is refused. */
static void test_tampered_byte(void **state)
{
	struct albm_report r = sample_report(), out;
	uint8_t buf[ALBM_REPORT_MAX];
	char err[128];
	int n;
	(void)state;

	n = encode(&r, buf);
	for (int i = 0; i < n; i++) {
		buf[i] ^= 0x20;
		assert_int_not_equal(
			albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), 0);
		buf[i] ^= 0x20;
	}
	/* past the header checks, a change is caught by the HMAC */
	buf[50] ^= 1;
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), -EPERM);
}

static void test_truncated(void **state)
{
	struct albm_report r = sample_report(), out;
	uint8_t buf[ALBM_REPORT_MAX + 8];
	char err[128] = "";
	int n;
	(void)state;

	n = encode(&r, buf);
	for (int len = 0; len < n; len++)
		assert_int_equal(albm_report_decode(buf, (size_t)len, key, &out, err, sizeof(err)),
				 -EBADMSG);
	assert_true(strlen(err) > 0);
	/* trailing garbage is not ignored either */
	assert_int_equal(albm_report_decode(buf, (size_t)n + 1, key, &out, err, sizeof(err)),
			 -EBADMSG);
}

static void test_wrong_version(void **state)
{
	struct albm_report r = sample_report(), out;
	uint8_t buf[ALBM_REPORT_MAX];
	char err[128];
	int n;
	(void)state;

	n = encode(&r, buf);
	buf[4] = 2;
	resign(buf, (size_t)n); /* correctly signed, yet a version we do not speak */
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "version 2"));
	r.version = 2;
	assert_int_equal(albm_report_encode(&r, key, buf, sizeof(buf)), -EINVAL);
}

/* Authenticated but out-of-range fields are refused: a key holder can still err. */
static void test_bad_fields(void **state)
{
	struct albm_report r = sample_report(), out;
	uint8_t buf[ALBM_REPORT_MAX];
	char err[128];
	int n;
	(void)state;

	n = encode(&r, buf);
	memcpy(buf + 56, "\x7f\xf8\0\0\0\0\0\0", 8); /* cpu_util: a big-endian NaN */
	resign(buf, (size_t)n);
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "cpu_util"));
	n = encode(&r, buf);
	buf[36] = 7; /* state */
	resign(buf, (size_t)n);
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), -EBADMSG);
	n = encode(&r, buf);
	buf[82] = ' '; /* a space inside the name */
	resign(buf, (size_t)n);
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), -EBADMSG);
	n = encode(&r, buf);
	buf[82] = '\0'; /* a NUL inside the name (found by fuzz_report) */
	resign(buf, (size_t)n);
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), -EBADMSG);
}

static void test_encode_refuses(void **state)
{
	struct albm_report r = sample_report();
	uint8_t buf[ALBM_REPORT_MAX];
	(void)state;

	assert_int_equal(albm_report_encode(&r, key, buf, 80), -ENOSPC);
	r.m.cpu_util = 1.5;
	assert_int_equal(albm_report_encode(&r, key, buf, sizeof(buf)), -EINVAL);
	r = sample_report();
	snprintf(r.m.name, sizeof(r.m.name), "two words");
	assert_int_equal(albm_report_encode(&r, key, buf, sizeof(buf)), -EINVAL);
	r.m.name[0] = '\0';
	assert_int_equal(albm_report_encode(&r, key, buf, sizeof(buf)), -EINVAL);
	r = sample_report();
	memset(r.m.name, 'a', sizeof(r.m.name) - 1); /* 63 characters: the longest name */
	assert_int_equal(albm_report_encode(&r, key, buf, sizeof(buf)), 80 + 63 + 32);
}

static void test_replayed_seq(void **state)
{
	struct albm_report r = sample_report();
	struct albm_replay st = { 0 };
	uint64_t now = r.timestamp_ms + 10;
	char err[128] = "";
	(void)state;

	assert_int_equal(albm_replay_check(&st, &r, now, 5000, err, sizeof(err)), 0);
	assert_int_equal(albm_replay_check(&st, &r, now, 5000, err, sizeof(err)), -EALREADY);
	assert_non_null(strstr(err, "replay"));
	r.seq = 41;
	assert_int_equal(albm_replay_check(&st, &r, now, 5000, err, sizeof(err)), -EALREADY);
	r.seq = 43;
	r.timestamp_ms += 200;
	assert_int_equal(albm_replay_check(&st, &r, now, 5000, err, sizeof(err)), 0);
	assert_true(st.last_seq == 43);
}

static void test_old_timestamp(void **state)
{
	struct albm_report r = sample_report();
	struct albm_replay st = { 0 };
	char err[128] = "";
	(void)state;

	assert_int_equal(albm_replay_check(&st, &r, r.timestamp_ms + 5001, 5000, err, sizeof(err)),
			 -ETIME);
	assert_non_null(strstr(err, "stale"));
	assert_int_equal(albm_replay_check(&st, &r, r.timestamp_ms - 5001, 5000, err, sizeof(err)),
			 -ETIME);
	assert_non_null(strstr(err, "future"));
	assert_int_equal(st.seen, 0); /* a refused report changes nothing */
	assert_int_equal(albm_replay_check(&st, &r, r.timestamp_ms + 5000, 5000, err, sizeof(err)),
			 0);
}

/* A restarted agent starts again at seq 1 with a new boot id: accepted; the old
 * boot's reports played back afterwards are not. */
static void test_restart_not_replay(void **state)
{
	struct albm_report old = sample_report(), newer = sample_report();
	struct albm_replay st = { 0 };
	char err[128];
	(void)state;

	old.seq = 1000;
	assert_int_equal(albm_replay_check(&st, &old, old.timestamp_ms, 5000, err, sizeof(err)), 0);
	newer.boot_id = 0xfeedull;
	newer.seq = 1;
	newer.timestamp_ms = old.timestamp_ms + 300;
	assert_int_equal(albm_replay_check(&st, &newer, newer.timestamp_ms, 5000, err, sizeof(err)),
			 0);
	assert_int_equal(albm_replay_check(&st, &old, newer.timestamp_ms, 5000, err, sizeof(err)),
			 -EALREADY);
	newer.seq = 2;
	newer.timestamp_ms += 200;
	assert_int_equal(albm_replay_check(&st, &newer, newer.timestamp_ms, 5000, err, sizeof(err)),
			 0);
}

static void tmp_path(char *path, size_t len, const char *name)
{
	snprintf(path, len, "%s/albm-test-key-%d-%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid(), name);
	unlink(path);
}

/* A key file as an operator would write it: mode 0600 unless mode says otherwise. */
static void write_key_mode(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void write_file(const char *path, const char *text)
{
	write_key_mode(path, text, 0600);
}

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* Like ssh: a key that group or others may read or write is refused, with the chmod. */
static void test_key_permissions(void **state)
{
	static const mode_t bad[] = { 0644, 0640, 0604, 0620, 0602, 0660, 0666 };
	uint8_t k[ALBM_KEY_LEN];
	char path[256], err[512], want[300];
	(void)state;

	tmp_path(path, sizeof(path), "perm");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_key_mode(path, KEY_HEX "\n", bad[i]);
		assert_int_equal(albm_key_load(path, k, err, sizeof(err)), -EPERM);
		snprintf(want, sizeof(want), "permissions %04o are too open", (unsigned)bad[i]);
		assert_non_null(strstr(err, want));
		snprintf(want, sizeof(want), "run: chmod 600 %s", path);
		assert_non_null(strstr(err, want));
		unlink(path);
	}
	write_key_mode(path, KEY_HEX "\n", 0400); /* read-only for the owner is fine */
	assert_int_equal(albm_key_load(path, k, err, sizeof(err)), 0);
	unlink(path);
	/* not a regular file: a FIFO would block the reader, a device is not a key */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(albm_key_load(path, k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(path);
}

/* A CRLF key file (edited on Windows) is accepted; an all-zero key never is. */
static void test_key_contents(void **state)
{
	uint8_t k[ALBM_KEY_LEN];
	char path[256], err[512], text[200];
	(void)state;

	tmp_path(path, sizeof(path), "contents");
	write_file(path, KEY_HEX "\r\n");
	assert_int_equal(albm_key_load(path, k, err, sizeof(err)), 0);
	for (int i = 0; i < ALBM_KEY_LEN; i++)
		assert_int_equal(k[i], i);
	write_file(path, KEY_HEX "\r");
	assert_int_equal(albm_key_load(path, k, err, sizeof(err)), 0);

	memset(text, '0', 64);
	strcpy(text + 64, "\n");
	write_file(path, text);
	assert_int_equal(albm_key_load(path, k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "all zeros"));
	assert_non_null(strstr(err, "--gen-key"));

	/* what is wrong, said exactly */
	write_file(path, KEY_HEX "\n\n");
	assert_int_equal(albm_key_load(path, k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "found 65 characters"));
	write_file(path, " " KEY_HEX "\n");
	assert_int_equal(albm_key_load(path, k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "found 65 characters"));
	write_file(path, KEY_HEX KEY_HEX "\n");
	assert_int_equal(albm_key_load(path, k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "found more than 71"));
	write_file(path, "");
	assert_int_equal(albm_key_load(path, k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "found 0 characters"));
	unlink(path);
}

static void test_key_files(void **state)
{
	uint8_t k1[ALBM_KEY_LEN], k2[ALBM_KEY_LEN];
	char path[256], err[256] = "";
	struct stat st;
	(void)state;

	tmp_path(path, sizeof(path), "gen");
	assert_int_equal(albm_key_generate(path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 65);
	assert_int_equal(albm_key_load(path, k1, err, sizeof(err)), 0);
	assert_int_equal(albm_key_generate(path, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, path));
	unlink(path);
	assert_int_equal(albm_key_generate(path, err, sizeof(err)), 0);
	assert_int_equal(albm_key_load(path, k2, err, sizeof(err)), 0);
	assert_memory_not_equal(k1, k2, ALBM_KEY_LEN); /* random, not fixed */
	unlink(path);

	assert_int_equal(albm_key_load(path, k1, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	write_file(path, "00112233\n");
	assert_int_equal(albm_key_load(path, k1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "64 hex"));
	write_file(path, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n");
	assert_int_equal(albm_key_load(path, k1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "offset 63"));
	write_file(path, "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F");
	assert_int_equal(albm_key_load(path, k1, err, sizeof(err)), 0);
	for (int i = 0; i < ALBM_KEY_LEN; i++)
		assert_int_equal(k1[i], i);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_layout),
		cmocka_unit_test(test_wrong_key),      cmocka_unit_test(test_tampered_byte),
		cmocka_unit_test(test_truncated),      cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_bad_fields),     cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_replayed_seq),   cmocka_unit_test(test_old_timestamp),
		cmocka_unit_test(test_restart_not_replay), cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_key_permissions), cmocka_unit_test(test_key_contents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
