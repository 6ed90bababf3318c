/* ALBM: flow hashing helpers shared by the hashing schedulers (IPVS's folds and hashes) */
#include "sched/hash.h"

#include <arpa/inet.h>
#include <string.h>

uint32_t albm_hash_fold(uint8_t family, const uint8_t addr[16])
{
	uint32_t w[4];

	memcpy(w, addr, sizeof(w));
	if (family == AF_INET6)
		return ntohl(w[0] ^ w[1] ^ w[2] ^ w[3]);
	return ntohl(w[0]);
}

uint32_t albm_hash_fold_sockaddr(const struct albm_addr *a)
{
	uint8_t bytes[16] = { 0 };

	if (albm_addr_family(a) == AF_INET6) {
		memcpy(bytes, &a->u.sin6.sin6_addr, 16);
		return albm_hash_fold(AF_INET6, bytes);
	}
	memcpy(bytes, &a->u.sin.sin_addr, 4);
	return albm_hash_fold(AF_INET, bytes);
}

static inline uint64_t rol64(uint64_t x, unsigned r)
{
	return (x << r) | (x >> (64 - r));
}

/* One SipRound over the four state words. */
#define SIPROUND(v0, v1, v2, v3)                                            \
	do {                                                                \
		v0 += v1, v1 = rol64(v1, 13), v1 ^= v0, v0 = rol64(v0, 32); \
		v2 += v3, v3 = rol64(v3, 16), v3 ^= v2;                     \
		v0 += v3, v3 = rol64(v3, 21), v3 ^= v0;                     \
		v2 += v1, v1 = rol64(v1, 17), v1 ^= v2, v2 = rol64(v2, 32); \
	} while (0)

uint32_t albm_hsiphash_u32(uint32_t v, const struct albm_hsiphash_key *key)
{
	/* "somepseudorandomlygeneratedbytes", the SipHash initialisation constants */
	uint64_t v0 = 0x736f6d6570736575ull ^ key->key[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ key->key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key->key[0];
	uint64_t v3 = 0x7465646279746573ull ^ key->key[1];
	/* a 4-byte message: no full block; the last block is length << 56 | bytes */
	uint64_t b = (4ull << 56) | v;

	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return (uint32_t)((v0 ^ v1) ^ (v2 ^ v3));
}
