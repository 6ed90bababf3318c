/* ALBM fuzz target: the sync codec (decode, verify, replay window) on arbitrary datagrams */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proto/sync.h"

/*
 * Input: one mode byte, then a datagram.  Mode bit 0 set: the datagram is signed with
 * the key (00 01 02 ... 1f) first, its last 32 bytes replaced by the HMAC, so that the
 * fuzzer gets past authentication into the checks behind it (as fuzz_report does);
 * otherwise the bytes are decoded as they came from the network.  Properties:
 *   - nothing crashes, reads or writes out of bounds;
 *   - a verdict is a named one; a refused datagram yields no entry;
 *   - an accepted datagram re-encodes to exactly the same bytes (the decoder accepts
 *     nothing the encoder would not write);
 *   - the same datagram offered twice to one peer table is a replay the second time.
 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct albm_sync_msg m;
	struct albm_sync_peer peers[2] = { { .id = 1 }, { .id = 7 } };
	uint8_t key[ALBM_KEY_LEN], again[ALBM_SYNC_MAX], buf[ALBM_SYNC_MAX + 64];
	unsigned int tlen = ALBM_SYNC_TAG_LEN;
	enum albm_sync_verdict v;
	uint64_t ts;
	size_t used;
	char err[256];
	int len;

	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	for (int i = 0; i < ALBM_KEY_LEN; i++)
		key[i] = (uint8_t)i;
	memcpy(buf, data + 1, size - 1);
	if ((data[0] & 1) && size - 1 >= ALBM_SYNC_TAG_LEN)
		HMAC(EVP_sha256(), key, ALBM_KEY_LEN, buf, size - 1 - ALBM_SYNC_TAG_LEN,
		     buf + (size - 1 - ALBM_SYNC_TAG_LEN), &tlen);
	data = buf;
	size--;
	v = albm_sync_decode(data, size, key, &m, err, sizeof(err));
	if (!albm_sync_verdict_name(v) || (v && m.n))
		abort();
	if (v)
		return 0;
	if (m.type == ALBM_SYNC_T_FLOWS)
		len = albm_sync_encode(&m.h, m.flows, m.n, key, again, sizeof(again), &used);
	else if (m.type == ALBM_SYNC_T_TABLES)
		len = albm_sync_encode_tables(&m.h, m.tables, m.n, key, again, sizeof(again),
					      &used);
	else
		abort();
	if (len < 0 || (size_t)len != size || used != m.n || memcmp(again, data, size) != 0)
		abort();
	ts = m.h.timestamp_ms;
	v = albm_sync_receive(peers, 2, data, size, key, ts, 5000, &m, err, sizeof(err));
	if (v != ALBM_SYNC_OK && v != ALBM_SYNC_UNKNOWN_PEER)
		abort();
	if (v == ALBM_SYNC_OK && albm_sync_receive(peers, 2, data, size, key, ts, 5000, &m, err,
						   sizeof(err)) != ALBM_SYNC_REPLAY)
		abort();
	return 0;
}
