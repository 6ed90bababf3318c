/* ALBM: unit tests of the flow-sync codec: round trip, batching, reject reasons, replay window */
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

static const uint8_t key[ALBM_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
					   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
					   31, 32 };
#define NOW 1800000000000ull /* ms */
#define AGE 5000

static struct albm_sync_flow flow4(int i)
{
	struct albm_sync_flow f = { .family = AF_INET, .sport = (uint16_t)(10000 + i), .dport = 80 };

	inet_pton(AF_INET, "10.78.1.2", f.saddr);
	f.saddr[3] = (uint8_t)(2 + i % 200);
	inet_pton(AF_INET, "10.78.9.100", f.daddr);
	inet_pton(AF_INET, "10.78.0.21", f.raddr);
	f.raddr[3] = (uint8_t)(21 + i % 3);
	return f;
}

static struct albm_sync_flow flow6(int i)
{
	struct albm_sync_flow f = { .family = AF_INET6, .sport = (uint16_t)(20000 + i), .dport = 443 };

	inet_pton(AF_INET6, "fd78:1::2", f.saddr);
	f.saddr[15] = (uint8_t)i;
	inet_pton(AF_INET6, "fd78:9::100", f.daddr);
	inet_pton(AF_INET6, "fd78::21", f.raddr);
	return f;
}

static struct albm_sync_hdr hdr(uint64_t seq)
{
	struct albm_sync_hdr h = { .sender = 7, .epoch = NOW - 60000, .seq = seq,
				   .timestamp_ms = NOW };
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

static enum albm_sync_verdict decode(const uint8_t *buf, size_t len, struct albm_sync_flow *out,
				     size_t *n)
{
	struct albm_sync_hdr h;
	char err[256] = "";
	enum albm_sync_verdict v = albm_sync_decode(buf, len, key, &h, out, n, err, sizeof(err));

	if (v)
		print_message("  %s: %s\n", albm_sync_verdict_name(v), err);
	return v;
}

static void test_round_trip_mixed_families(void **state)
{
	struct albm_sync_flow in[3] = { flow4(1), flow6(2), flow4(3) }, out[ALBM_SYNC_MAX_FLOWS];
	struct albm_sync_hdr h = hdr(42), got;
	uint8_t buf[ALBM_SYNC_MAX];
	char err[128];
	size_t len, n;
	(void)state;

	len = encode(&h, in, 3, buf);
	assert_int_equal(len, ALBM_SYNC_HDR_LEN + 18 + 54 + 18 + ALBM_SYNC_TAG_LEN);
	assert_int_equal(albm_sync_decode(buf, len, key, &got, out, &n, err, sizeof(err)),
			 ALBM_SYNC_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(got.sender, h.sender);
	assert_int_equal(got.epoch, h.epoch);
	assert_int_equal(got.seq, h.seq);
	assert_int_equal(got.timestamp_ms, h.timestamp_ms);
	/* a message without flows is valid too (a heartbeat) */
	len = encode(&h, NULL, 0, buf);
	assert_int_equal(decode(buf, len, out, &n), ALBM_SYNC_OK);
	assert_int_equal(n, 0);
}

/* Batching: 76 IPv4 or 25 IPv6 flows per datagram, never more than ALBM_SYNC_MAX bytes;
 * encode says how many it took, the rest goes in the next datagram. */
static void test_batching_limits(void **state)
{
	static struct albm_sync_flow f[200], out[ALBM_SYNC_MAX_FLOWS];
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
		assert_int_equal(decode(buf, (size_t)len, out, &n), ALBM_SYNC_OK);
		assert_int_equal(n, used);
		assert_memory_equal(out, f + done, used * sizeof(*out));
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
	struct albm_sync_flow in[2] = { flow4(1), flow4(2) }, out[ALBM_SYNC_MAX_FLOWS];
	struct albm_sync_hdr h = hdr(1);
	uint8_t buf[ALBM_SYNC_MAX + 8], bad[ALBM_SYNC_MAX + 8];
	size_t len, n;
	(void)state;

	len = encode(&h, in, 2, buf);
	assert_int_equal(decode(buf, 10, out, &n), ALBM_SYNC_TRUNCATED);
	assert_int_equal(decode(buf, len - 1, out, &n), ALBM_SYNC_TRUNCATED);
	memcpy(bad, buf, len);
	bad[len] = 0;
	assert_int_equal(decode(bad, len + 1, out, &n), ALBM_SYNC_BAD_LENGTH);
	memcpy(bad, buf, len);
	bad[0] = 'X';
	assert_int_equal(decode(bad, len, out, &n), ALBM_SYNC_BAD_MAGIC);
	memcpy(bad, buf, len);
	bad[4] = 2;
	assert_int_equal(decode(bad, len, out, &n), ALBM_SYNC_BAD_VERSION);
	memcpy(bad, buf, len);
	bad[6] = 0xff; /* length field 65xxx */
	assert_int_equal(decode(bad, len, out, &n), ALBM_SYNC_TRUNCATED);
	assert_int_equal(n, 0);
}

static void test_rejects_forged_and_malformed(void **state)
{
	struct albm_sync_flow in[2] = { flow4(1), flow4(2) }, out[ALBM_SYNC_MAX_FLOWS];
	struct albm_sync_hdr h = hdr(1), got;
	uint8_t buf[ALBM_SYNC_MAX], bad[ALBM_SYNC_MAX], other[ALBM_KEY_LEN] = { 9 };
	char err[128];
	size_t len, n;
	(void)state;

	len = encode(&h, in, 2, buf);
	memcpy(bad, buf, len);
	bad[ALBM_SYNC_HDR_LEN + 6] ^= 1; /* a flipped bit in the client address */
	assert_int_equal(decode(bad, len, out, &n), ALBM_SYNC_FORGED);
	assert_int_equal(albm_sync_decode(buf, len, other, &got, out, &n, err, sizeof(err)),
			 ALBM_SYNC_FORGED); /* wrong key */
	assert_non_null(strstr(err, "HMAC"));
	struct {
		size_t off;
		uint8_t val;
	} cases[] = {
		{ 5, 2 },                       /* type */
		{ 15, 1 },                      /* flags */
		{ 13, 3 },                      /* count 3, two entries */
		{ 13, 1 },                      /* count 1: bytes left over */
		{ ALBM_SYNC_HDR_LEN, 5 },       /* entry family */
		{ ALBM_SYNC_HDR_LEN + 1, 1 },   /* entry flags */
		{ ALBM_SYNC_HDR_LEN + 18, 6 },  /* second entry claims IPv6: runs past the end */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, buf, len);
		bad[cases[i].off] = cases[i].val;
		resign(bad, len);
		assert_int_equal(decode(bad, len, out, &n), ALBM_SYNC_MALFORMED);
		assert_int_equal(n, 0);
	}
}

static enum albm_sync_verdict receive(struct albm_sync_peer *peers, size_t np,
				      const struct albm_sync_hdr *h, uint64_t now)
{
	struct albm_sync_flow f = flow4(1), out[ALBM_SYNC_MAX_FLOWS];
	struct albm_sync_hdr got;
	uint8_t buf[ALBM_SYNC_MAX];
	char err[256] = "";
	size_t len = encode(h, &f, 1, buf), n = 99;
	enum albm_sync_verdict v = albm_sync_receive(peers, np, buf, len, key, now, AGE, &got, out,
						     &n, err, sizeof(err));

	assert_int_equal(n, v ? 0 : 1);
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
		cmocka_unit_test(test_batching_limits),
		cmocka_unit_test(test_rejects_structure),
		cmocka_unit_test(test_rejects_forged_and_malformed),
		cmocka_unit_test(test_unknown_peer_and_staleness),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
