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

	r.version = 1;
	r.m.present = ALBM_MET_ALL; /* version 1 carries none of them */
	r.m.oom_kills = 3;
	n = encode(&r, buf);
	assert_int_equal(n, 80 + 5 + 32);
	assert_memory_equal(buf, "ALBR", 4);
	assert_int_equal(buf[4], 1);
	assert_int_equal(buf[5], 1);
	assert_int_equal(buf[6] << 8 | buf[7], n);
	assert_int_equal(buf[8], 0x01); /* boot_id, big-endian */
	assert_int_equal(buf[15], 0xef);
	assert_int_equal(buf[23], 42);  /* seq */
	assert_int_equal(buf[35], 200); /* interval_ms low byte */
	assert_int_equal(buf[36], 1);   /* state */
	assert_int_equal(buf[37], 5);   /* name_len */
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
	buf[4] = 3;
	resign(buf, (size_t)n); /* correctly signed, yet a version we do not speak */
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "version 3"));
	buf[4] = 0;
	resign(buf, (size_t)n);
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), -EPROTO);
	r.version = 3;
	assert_int_equal(albm_report_encode(&r, key, buf, sizeof(buf)), -EINVAL);
	r.version = 0;
	assert_int_equal(albm_report_encode(&r, key, buf, sizeof(buf)), -EINVAL);
}

/* ---- version 2: the optional stall signals ---- */

static struct albm_report sample_v2(void)
{
	struct albm_report r = sample_report();

	r.version = 2;
	r.m.present = ALBM_MET_ALL;
	for (int i = 0; i < ALBM_PSI_NRES; i++) {
		r.m.host_psi[i] = (struct albm_psi){ 1.25 + i, 0.5 + i, 12.34, 100.0 };
		r.m.cg_psi[i] = (struct albm_psi){ 0.01 * i, 0, 99.99, 7.5 };
	}
	r.m.majfault_rate = 1234.5;
	r.m.oom_kills = 0x0102030405060708ull;
	return r;
}

static void test_v2_round_trip(void **state)
{
	struct albm_report r = sample_v2(), out;
	uint8_t buf[ALBM_REPORT_MAX];
	char err[128];
	int n;
	(void)state;

	n = encode(&r, buf);
	assert_int_equal(n, 80 + 5 + 6 * 10 + 2 * 10 + 32);
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), 0);
	assert_int_equal(out.version, 2);
	assert_int_equal(out.m.present, ALBM_MET_ALL);
	assert_int_equal(out.unknown_fields, 0);
	for (int i = 0; i < ALBM_PSI_NRES; i++) {
		assert_memory_equal(&out.m.host_psi[i], &r.m.host_psi[i], sizeof(struct albm_psi));
		assert_memory_equal(&out.m.cg_psi[i], &r.m.cg_psi[i], sizeof(struct albm_psi));
	}
	assert_true(out.m.majfault_rate == 1234.5);
	assert_true(out.m.oom_kills == r.m.oom_kills);
	assert_true(out.m.cpu_util == r.m.cpu_util && out.m.state == ALBM_AGENT_OVERLOADED);

	/* only what is present travels; the rest decodes as zero */
	r.m.present = ALBM_MET_CG_PSI(ALBM_PSI_MEMORY) | ALBM_MET_OOM_KILLS;
	n = encode(&r, buf);
	assert_int_equal(n, 80 + 5 + 10 + 10 + 32);
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), 0);
	assert_int_equal(out.m.present, r.m.present);
	assert_true(out.m.host_psi[0].some_avg10 == 0 && out.m.majfault_rate == 0);
	assert_true(out.m.cg_psi[0].full_pct == 7.5);
}

/* The optional fields' bytes as docs/protocol.md lays them out. */
static void test_v2_layout(void **state)
{
	struct albm_report r = sample_v2();
	uint8_t buf[ALBM_REPORT_MAX];
	int n;
	(void)state;

	r.m.present = ALBM_MET_HOST_PSI(ALBM_PSI_CPU) | ALBM_MET_MAJFAULT | ALBM_MET_OOM_KILLS;
	n = encode(&r, buf);
	assert_int_equal(n, 80 + 5 + 30 + 32);
	assert_int_equal(buf[4], 2);
	assert_int_equal(buf[38] << 8 | buf[39], 30); /* ext_len */
	/* type 2 (host cpu), length 8: 225, 150, 1234, 10000 hundredths */
	assert_memory_equal(buf + 85, "\x02\x08\x00\xe1\x00\x96\x04\xd2\x27\x10", 10);
	/* type 7, binary64 1234.5 = 0x40934a0000000000 */
	assert_memory_equal(buf + 95, "\x07\x08\x40\x93\x4a\x00\x00\x00\x00\x00", 10);
	assert_memory_equal(buf + 105, "\x08\x08\x01\x02\x03\x04\x05\x06\x07\x08", 10);
}

/* A new distributor accepts an old agent: version 1 decodes, with nothing optional. */
static void test_v1_accepted(void **state)
{
	struct albm_report r = sample_v2(), out;
	uint8_t buf[ALBM_REPORT_MAX];
	char err[128];
	int n;
	(void)state;

	r.version = 1;
	n = encode(&r, buf);
	assert_int_equal(n, 80 + 5 + 32);
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), 0);
	assert_int_equal(out.version, 1);
	assert_int_equal(out.m.present, 0);
	assert_true(out.m.oom_kills == 0);
	/* v1's reserved flags stay reserved */
	buf[39] = 1;
	resign(buf, (size_t)n);
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), -EBADMSG);
}

/* Append raw optional-field bytes to a signed v2 report of sample_report(). */
static int v2_with(uint8_t *buf, const uint8_t *ext, size_t elen)
{
	struct albm_report r = sample_report();
	int n;

	r.version = 2;
	n = encode(&r, buf) - 32; /* without the tag */
	memcpy(buf + n, ext, elen);
	n += (int)elen + 32;
	buf[6] = (uint8_t)(n >> 8), buf[7] = (uint8_t)n;
	buf[38] = (uint8_t)(elen >> 8), buf[39] = (uint8_t)elen;
	resign(buf, (size_t)n);
	return n;
}

/* Field types this build does not know are skipped and counted (a newer agent). */
static void test_v2_unknown_fields(void **state)
{
	static const uint8_t ext[] = { 8,   8, 0, 0, 0, 0, 0, 0, 0, 5, /* oom_kills 5 */
				       9,   3, 1, 2, 3,                /* unknown */
				       200, 0 };                       /* unknown, empty */
	struct albm_report out;
	uint8_t buf[ALBM_REPORT_MAX];
	char err[128];
	int n;
	(void)state;

	n = v2_with(buf, ext, sizeof(ext));
	assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)), 0);
	assert_int_equal(out.unknown_fields, 2);
	assert_int_equal(out.m.present, ALBM_MET_OOM_KILLS);
	assert_true(out.m.oom_kills == 5);
}

static void test_v2_malformed_fields(void **state)
{
	static const struct {
		const char *what;
		uint8_t ext[24];
		size_t len;
	} cases[] = {
		{ "repeated", { 8, 8, 0, 0, 0, 0, 0, 0, 0, 1, 8, 8, 0, 0, 0, 0, 0, 0, 0, 1 }, 20 },
		{ "out of order",
		  { 8, 8, 0, 0, 0, 0, 0, 0, 0, 1, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0 },
		  20 },
		{ "type 0", { 0, 0 }, 2 },
		{ "known type, wrong length", { 8, 4, 0, 0, 0, 1 }, 6 },
		{ "length past the end", { 9, 5, 1, 2, 3 }, 5 },
		{ "half a header", { 9 }, 1 },
		{ "PSI above 100 %", { 1, 8, 0x27, 0x11, 0, 0, 0, 0, 0, 0 }, 10 },
		{ "majfault NaN", { 7, 8, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0 }, 10 },
		{ "majfault negative", { 7, 8, 0xbf, 0xf0, 0, 0, 0, 0, 0, 0 }, 10 },
	};
	struct albm_report out;
	uint8_t buf[ALBM_REPORT_MAX];
	char err[128];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = v2_with(buf, cases[i].ext, cases[i].len);

		if (albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)) != -EBADMSG)
			fail_msg("%s: accepted", cases[i].what);
	}
	/* the extension length must match the datagram */
	{
		static const uint8_t ok[] = { 8, 8, 0, 0, 0, 0, 0, 0, 0, 1 };
		int n = v2_with(buf, ok, sizeof(ok));

		buf[39]--;
		resign(buf, (size_t)n);
		assert_int_equal(albm_report_decode(buf, (size_t)n, key, &out, err, sizeof(err)),
				 -EBADMSG);
	}
}

static void test_v2_encode_refuses(void **state)
{
	struct albm_report r = sample_v2();
	uint8_t buf[ALBM_REPORT_MAX];
	(void)state;

	r.m.host_psi[1].full_pct = 100.5;
	assert_int_equal(albm_report_encode(&r, key, buf, sizeof(buf)), -EINVAL);
	r = sample_v2();
	r.m.majfault_rate = -1;
	assert_int_equal(albm_report_encode(&r, key, buf, sizeof(buf)), -EINVAL);
	r.m.present &= ~ALBM_MET_MAJFAULT; /* not present: not checked, not sent */
	assert_true(albm_report_encode(&r, key, buf, sizeof(buf)) > 0);
	r.m.present = 1u << 8; /* a bit with no field */
	assert_int_equal(albm_report_encode(&r, key, buf, sizeof(buf)), -EINVAL);
	r = sample_v2();
	memset(r.m.name, 'a', sizeof(r.m.name) - 1); /* everything: still far below 512 */
	assert_int_equal(albm_report_encode(&r, key, buf, sizeof(buf)), 80 + 63 + 80 + 32);
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
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_tampered_byte),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_replayed_seq),
		cmocka_unit_test(test_old_timestamp),
		cmocka_unit_test(test_restart_not_replay),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_key_permissions),
		cmocka_unit_test(test_key_contents),
		cmocka_unit_test(test_v2_round_trip),
		cmocka_unit_test(test_v2_layout),
		cmocka_unit_test(test_v1_accepted),
		cmocka_unit_test(test_v2_unknown_fields),
		cmocka_unit_test(test_v2_malformed_fields),
		cmocka_unit_test(test_v2_encode_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
