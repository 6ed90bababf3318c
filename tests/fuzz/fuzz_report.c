/* ALBM: libFuzzer target for the agent report codec (decode, verify, replay check) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proto/report.h"

static const uint8_t key[ALBM_KEY_LEN] = "fuzz-key-0123456789abcdef012345";

/*
 * Input: one mode byte, then a datagram.  Mode bit 0 set: the datagram is signed
 * with the right key first (its last 32 bytes replaced by the HMAC), so that the
 * fuzzer gets past authentication and exercises the field checks; otherwise the
 * bytes are decoded as they came, as from the network.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct albm_replay st;
	uint8_t buf[ALBM_REPORT_MAX + 64], again[ALBM_REPORT_MAX];
	struct albm_report r;
	char err[256];
	int n;

	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	memcpy(buf, data + 1, size - 1);
	size--;
	if ((data[0] & 1) && size >= 32) {
		unsigned int tlen = 32;

		HMAC(EVP_sha256(), key, ALBM_KEY_LEN, buf, size - 32, buf + size - 32, &tlen);
	}
	if (albm_report_decode(buf, size, key, &r, err, sizeof(err)))
		return 0;
	/* whatever decodes must encode back to the very same bytes (but for optional
	 * fields of unknown types, which a decoder skips) */
	n = albm_report_encode(&r, key, again, sizeof(again));
	if (!r.unknown_fields && (n != (int)size || memcmp(again, buf, size)))
		abort();
	if (r.unknown_fields && n <= 0)
		abort();
	albm_replay_check(&st, &r, r.timestamp_ms + (data[0] >> 1), 5000, err, sizeof(err));
	return 0;
}
