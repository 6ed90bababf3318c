/* ALBM: unit tests of the sync codec: round trip of flows and tables, batching, reject reasons,
 * replay window */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proto/sync.h"

static const uint8_t key[ALBM_KEY_LEN] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
					   12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
					   23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
#define NOW 1800000000000ull /* ms */
#define AGE 5000

static struct albm_sync_flow flow4(int i)
{
	struct albm_sync_flow f = { .family = AF_INET,
				    .sport = (uint16_t)(10000 + i),
				    .dport = 80 };

	inet_pton(AF_INET, "10.78.1.2", f.saddr);
	f.saddr[3] = (uint8_t)(2 + i % 200);
	inet_pton(AF_INET, "10.78.9.100", f.daddr);
	inet_pton(AF_INET, "10.78.0.21", f.raddr);
	f.raddr[3] = (uint8_t)(21 + i % 3);
	return f;
}

static struct albm_sync_flow flow6(int i)
{
	struct albm_sync_flow f = { .family = AF_INET6,
				    .sport = (uint16_t)(20000 + i),
				    .dport = 443 };

	inet_pton(AF_INET6, "fd78:1::2", f.saddr);
	f.saddr[15] = (uint8_t)i;
	inet_pton(AF_INET6, "fd78:9::100", f.daddr);
	inet_pton(AF_INET6, "fd78::21", f.raddr);
	return f;
}

static struct albm_sync_hdr hdr(uint64_t seq)
{
	struct albm_sync_hdr h = {
		.sender = 7, .epoch = NOW - 60000, .seq = seq, .timestamp_ms = NOW
	};
	return h;
}

/* Encode flows; assert every flow fits in one datagram. */
static size_t encode(const struct albm_sync_hdr *h, const struct albm_sync_flow *f, size_t n,
		     uint8_t *buf)
{
	size_t used = 0;
	int len = albm_sync_encode(h, f, n, key, buf, ALBM_SYNC_MAX, &used);

	assert_true(len > 0);
	assert_int_equal(used, n);
	return (size_t)len;
}

/* Re-sign buf[0..len) in place after the test changed a signed byte (a "valid sender"
 * writing a bad message: only the checks after the HMAC can catch it). */
static void resign(uint8_t *buf, size_t len)
{
	unsigned int tl = 32;

	HMAC(EVP_sha256(), key, ALBM_KEY_LEN, buf, len - 32, buf + len - 32, &tl);
}

static struct albm_sync_msg msg; /* the last decode()'s */

static enum albm_sync_verdict decode(const uint8_t *buf, size_t len, size_t *n)
{
	char err[256] = "";
	enum albm_sync_verdict v = albm_sync_decode(buf, len, key, &msg, err, sizeof(err));

	*n = msg.n;
	if (v)
		print_message("  %s: %s\n", albm_sync_verdict_name(v), err);
	return v;
}

static struct albm_sync_table table4(int i)
{
	struct albm_sync_table t = { .family = AF_INET, .port = 80, .version = NOW - 5000 };

	inet_pton(AF_INET, "10.78.9.100", t.vip);
	t.vip[3] = (uint8_t)(100 + i);
	for (int k = 0; k < ALBM_SYNC_DIGEST_LEN; k++)
		t.digest[k] = (uint8_t)(k * 7 + i);
	return t;
}

static void test_round_trip_mixed_families(void **state)
{
	struct albm_sync_flow in[3] = { flow4(1), flow6(2), flow4(3) };
	struct albm_sync_hdr h = hdr(42);
	uint8_t buf[ALBM_SYNC_MAX];
	size_t len, n;
	(void)state;

	len = encode(&h, in, 3, buf);
	assert_int_equal(len, ALBM_SYNC_HDR_LEN + 18 + 54 + 18 + ALBM_SYNC_TAG_LEN);
	assert_int_equal(decode(buf, len, &n), ALBM_SYNC_OK);
	assert_int_equal(msg.type, ALBM_SYNC_T_FLOWS);
	assert_int_equal(n, 3);
	assert_memory_equal(msg.flows, in, sizeof(in));
	assert_int_equal(msg.h.sender, h.sender);
	assert_int_equal(msg.h.epoch, h.epoch);
	assert_int_equal(msg.h.seq, h.seq);
	assert_int_equal(msg.h.timestamp_ms, h.timestamp_ms);
	/* a message without flows is valid too */
	len = encode(&h, NULL, 0, buf);
	assert_int_equal(decode(buf, len, &n), ALBM_SYNC_OK);
	assert_int_equal(n, 0);
}

/* Heartbeats: the tables round trip (IPv4 and IPv6 VIPs), 28 IPv4 ones per datagram. */
static void test_tables_round_trip(void **state)
{
	static struct albm_sync_table t[40];
	struct albm_sync_hdr h = hdr(9);
	uint8_t buf[ALBM_SYNC_MAX];
	size_t used, n;
	int len;
	(void)state;

	for (int i = 0; i < 40; i++)
		t[i] = table4(i);
	t[1].family = AF_INET6;
	inet_pton(AF_INET6, "fd78:9::100", t[1].vip);
	len = albm_sync_encode_tables(&h, t, 2, key, buf, sizeof(buf), &used);
	assert_int_equal(len, ALBM_SYNC_HDR_LEN + 48 + 60 + ALBM_SYNC_TAG_LEN);
	assert_int_equal(used, 2);
	assert_int_equal(decode(buf, (size_t)len, &n), ALBM_SYNC_OK);
	assert_int_equal(msg.type, ALBM_SYNC_T_TABLES);
	assert_int_equal(n, 2);
	assert_memory_equal(msg.tables, t, 2 * sizeof(t[0]));
	t[1] = table4(1);
	len = albm_sync_encode_tables(&h, t, 40, key, buf, sizeof(buf), &used);
	assert_int_equal(used, ALBM_SYNC_MAX_TABLES);
	assert_int_equal(ALBM_SYNC_MAX_TABLES, 28);
	assert_true(len <= ALBM_SYNC_MAX);
	assert_int_equal(decode(buf, (size_t)len, &n), ALBM_SYNC_OK);
	assert_int_equal(n, 28);
	assert_memory_equal(msg.tables, t, 28 * sizeof(t[0]));
	t[0].family = 0;
	assert_int_equal(albm_sync_encode_tables(&h, t, 1, key, buf, sizeof(buf), &used), -EINVAL);
}

/* The cached HMAC context follows the key: a second key, then the first one again. */
static void test_key_change(void **state)
{
	static const uint8_t other[ALBM_KEY_LEN] = { 9, 8, 7 };
	struct albm_sync_flow f = flow4(1);
	struct albm_sync_hdr h = hdr(1);
	uint8_t a[ALBM_SYNC_MAX], b[ALBM_SYNC_MAX];
	size_t used, n;
	int la, lb;
	char err[128];
	unsigned int tl = 32;
	uint8_t tag[32];
	(void)state;

	la = albm_sync_encode(&h, &f, 1, key, a, sizeof(a), &used);
	lb = albm_sync_encode(&h, &f, 1, other, b, sizeof(b), &used);
	assert_int_equal(la, lb);
	assert_memory_not_equal(a + la - 32, b + lb - 32, 32);
	/* the tags are RFC 2104 HMAC-SHA256, as OpenSSL's one-shot HMAC() computes them */
	HMAC(EVP_sha256(), other, ALBM_KEY_LEN, b, (size_t)lb - 32, tag, &tl);
	assert_memory_equal(tag, b + lb - 32, 32);
	assert_int_equal(albm_sync_decode(b, (size_t)lb, key, &msg, err, sizeof(err)),
			 ALBM_SYNC_FORGED);
	assert_int_equal(albm_sync_decode(b, (size_t)lb, other, &msg, err, sizeof(err)),
			 ALBM_SYNC_OK);
	assert_int_equal(decode(a, (size_t)la, &n), ALBM_SYNC_OK);
	assert_int_equal(n, 1);
}

/* Batching: 76 IPv4 or 25 IPv6 flows per datagram, never more than ALBM_SYNC_MAX bytes;
 * encode says how many it took, the rest goes in the next datagram. */
static void test_batching_limits(void **state)
{
	static struct albm_sync_flow f[200];
	struct albm_sync_hdr h = hdr(1);
	uint8_t buf[ALBM_SYNC_MAX + 64];
	size_t used, done = 0, msgs = 0, n;
	int len;
	(void)state;

	assert_int_equal(ALBM_SYNC_MAX_FLOWS, 76);
	for (int i = 0; i < 200; i++)
		f[i] = flow4(i);
	while (done < 200) {
		len = albm_sync_encode(&h, f + done, 200 - done, key, buf, sizeof(buf), &used);
		assert_true(len > 0 && len <= ALBM_SYNC_MAX);
		assert_int_equal(decode(buf, (size_t)len, &n), ALBM_SYNC_OK);
		assert_int_equal(n, used);
		assert_memory_equal(msg.flows, f + done, used * sizeof(f[0]));
		done += used;
		msgs++;
		h.seq++;
	}
	assert_int_equal(msgs, 3); /* 76 + 76 + 48 */
	for (int i = 0; i < 30; i++)
		f[i] = flow6(i);
	len = albm_sync_encode(&h, f, 30, key, buf, sizeof(buf), &used);
	assert_int_equal(used, 25);
	assert_true(len <= ALBM_SYNC_MAX);
	/* a buffer too small for one flow, a bad family */
	assert_int_equal(albm_sync_encode(&h, f, 1, key, buf, 100, &used), -ENOSPC);
	f[0].family = 99;
	assert_int_equal(albm_sync_encode(&h, f, 1, key, buf, sizeof(buf), &used), -EINVAL);
}

static void test_rejects_structure(void **state)
{
	struct albm_sync_flow in[2] = { flow4(1), flow4(2) };
	struct albm_sync_hdr h = hdr(1);
	uint8_t buf[ALBM_SYNC_MAX + 8], bad[ALBM_SYNC_MAX + 8];
	size_t len, n;
	(void)state;

	len = encode(&h, in, 2, buf);
	assert_int_equal(decode(buf, 10, &n), ALBM_SYNC_TRUNCATED);
	assert_int_equal(decode(buf, len - 1, &n), ALBM_SYNC_TRUNCATED);
	memcpy(bad, buf, len);
	bad[len] = 0;
	assert_int_equal(decode(bad, len + 1, &n), ALBM_SYNC_BAD_LENGTH);
	memcpy(bad, buf, len);
	bad[0] = 'X';
	assert_int_equal(decode(bad, len, &n), ALBM_SYNC_BAD_MAGIC);
	memcpy(bad, buf, len);
	bad[4] = 2;
	assert_int_equal(decode(bad, len, &n), ALBM_SYNC_BAD_VERSION);
	memcpy(bad, buf, len);
	bad[6] = 0xff; /* length field 65xxx */
	assert_int_equal(decode(bad, len, &n), ALBM_SYNC_TRUNCATED);
	assert_int_equal(n, 0);
}

static void test_rejects_forged_and_malformed(void **state)
{
	struct albm_sync_flow in[2] = { flow4(1), flow4(2) };
	struct albm_sync_table t = table4(0);
	struct albm_sync_hdr h = hdr(1);
	uint8_t buf[ALBM_SYNC_MAX], bad[ALBM_SYNC_MAX], other[ALBM_KEY_LEN] = { 9 };
	char err[128];
	size_t len, n;
	(void)state;

	len = encode(&h, in, 2, buf);
	memcpy(bad, buf, len);
	bad[ALBM_SYNC_HDR_LEN + 6] ^= 1; /* a flipped bit in the client address */
	assert_int_equal(decode(bad, len, &n), ALBM_SYNC_FORGED);
	assert_int_equal(albm_sync_decode(buf, len, other, &msg, err, sizeof(err)),
			 ALBM_SYNC_FORGED); /* wrong key */
	assert_non_null(strstr(err, "HMAC"));
	struct {
		size_t off;
		uint8_t val;
	} cases[] = {
		{ 5, 3 },                      /* an unknown type */
		{ 5, 2 },                      /* flows read as tables: too short */
		{ 15, 1 },                     /* flags */
		{ 13, 3 },                     /* count 3, two entries */
		{ 13, 1 },                     /* count 1: bytes left over */
		{ ALBM_SYNC_HDR_LEN, 5 },      /* entry family */
		{ ALBM_SYNC_HDR_LEN + 1, 1 },  /* entry flags */
		{ ALBM_SYNC_HDR_LEN + 18, 6 }, /* second entry claims IPv6: runs past the end */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, buf, len);
		bad[cases[i].off] = cases[i].val;
		resign(bad, len);
		assert_int_equal(decode(bad, len, &n), ALBM_SYNC_MALFORMED);
		assert_int_equal(n, 0);
	}
	/* a heartbeat's table entry: bad family, flags, a count beyond its bound */
	len = (size_t)albm_sync_encode_tables(&h, &t, 1, key, buf, sizeof(buf), &n);
	assert_int_equal(decode(buf, len, &n), ALBM_SYNC_OK);
	for (size_t off = 0; off < 3; off++) {
		memcpy(bad, buf, len);
		if (off == 2)
			bad[13] = ALBM_SYNC_MAX_TABLES + 1;
		else
			bad[ALBM_SYNC_HDR_LEN + off] = 9;
		resign(bad, len);
		assert_int_equal(decode(bad, len, &n), ALBM_SYNC_MALFORMED);
	}
}

static enum albm_sync_verdict receive(struct albm_sync_peer *peers, size_t np,
				      const struct albm_sync_hdr *h, uint64_t now)
{
	struct albm_sync_flow f = flow4(1);
	uint8_t buf[ALBM_SYNC_MAX];
	char err[256] = "";
	size_t len = encode(h, &f, 1, buf);
	enum albm_sync_verdict v;

	msg.n = 99;
	v = albm_sync_receive(peers, np, buf, len, key, now, AGE, &msg, err, sizeof(err));
	assert_int_equal(msg.n, v ? 0 : 1);
	if (v)
		print_message("  %s: %s\n", albm_sync_verdict_name(v), err);
	return v;
}

static void test_unknown_peer_and_staleness(void **state)
{
	struct albm_sync_peer peers[2] = { { .id = 3 }, { .id = 7 } };
	struct albm_sync_hdr h = hdr(1);
	(void)state;

	h.sender = 8;
	assert_int_equal(receive(peers, 2, &h, NOW), ALBM_SYNC_UNKNOWN_PEER);
	h.sender = 7;
	h.timestamp_ms = NOW - AGE - 1;
	assert_int_equal(receive(peers, 2, &h, NOW), ALBM_SYNC_STALE);
	h.timestamp_ms = NOW + AGE + 1;
	assert_int_equal(receive(peers, 2, &h, NOW), ALBM_SYNC_STALE);
	assert_false(peers[1].seen); /* a refused message changes nothing */
	h.timestamp_ms = NOW + AGE;
	assert_int_equal(receive(peers, 2, &h, NOW), ALBM_SYNC_OK);
	assert_true(peers[1].seen);
	assert_false(peers[0].seen);
}

/* The window: once each, any order within 64, nothing older, nothing of an old epoch. */
static void test_replay_window(void **state)
{
	struct albm_sync_peer p = { .id = 7 };
	struct albm_sync_hdr h = hdr(100);
	static const uint64_t order[] = { 100, 103, 101, 102, 150, 120, 163 };
	(void)state;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		h.seq = order[i];
		assert_int_equal(receive(&p, 1, &h, NOW), ALBM_SYNC_OK);
		assert_int_equal(receive(&p, 1, &h, NOW), ALBM_SYNC_REPLAY); /* the same again */
	}
	h.seq = 99; /* never seen, but 64 below the top: older than the window */
	assert_int_equal(receive(&p, 1, &h, NOW), ALBM_SYNC_REPLAY);
	h.seq = 110; /* never seen, within the window: late, not replayed */
	assert_int_equal(receive(&p, 1, &h, NOW), ALBM_SYNC_OK);
	assert_int_equal(receive(&p, 1, &h, NOW), ALBM_SYNC_REPLAY);
	h.seq = 1000; /* a jump clears the window */
	assert_int_equal(receive(&p, 1, &h, NOW), ALBM_SYNC_OK);
	h.seq = 999;
	assert_int_equal(receive(&p, 1, &h, NOW), ALBM_SYNC_OK);
	h.seq = 1000 - 64;
	assert_int_equal(receive(&p, 1, &h, NOW), ALBM_SYNC_REPLAY);
	/* the peer restarted: a newer epoch starts again at 1 */
	h.epoch += 5000;
	h.seq = 1;
	assert_int_equal(receive(&p, 1, &h, NOW), ALBM_SYNC_OK);
	h.seq = 2;
	assert_int_equal(receive(&p, 1, &h, NOW), ALBM_SYNC_OK);
	/* a message of the previous epoch, however fresh its timestamp, is a replay */
	h.epoch -= 5000;
	h.seq = 5000;
	assert_int_equal(receive(&p, 1, &h, NOW), ALBM_SYNC_REPLAY);
}

static void test_verdict_names(void **state)
{
	(void)state;
	for (int v = 0; v < ALBM_SYNC_VERDICT__COUNT; v++)
		assert_non_null(albm_sync_verdict_name((enum albm_sync_verdict)v));
	assert_string_equal(albm_sync_verdict_name(ALBM_SYNC_FORGED), "forged");
	assert_null(albm_sync_verdict_name(ALBM_SYNC_VERDICT__COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_mixed_families),
		cmocka_unit_test(test_tables_round_trip),
		cmocka_unit_test(test_key_change),
		cmocka_unit_test(test_batching_limits),
		cmocka_unit_test(test_rejects_structure),
		cmocka_unit_test(test_rejects_forged_and_malformed),
		cmocka_unit_test(test_unknown_peer_and_staleness),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
