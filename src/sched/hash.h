/* ALBM: flow hashing helpers shared by the hashing schedulers (IPVS's folds and hashes) */
#ifndef ALBM_SCHED_HASH_H
#define ALBM_SCHED_HASH_H

#include <stdint.h>

#include "common/addr.h"

/* The kernel's GOLDEN_RATIO_32 (include/linux/hash.h). */
#define ALBM_GOLDEN_RATIO_32 0x61C88647u

/* Multiplicative (Fibonacci) hash of a 32-bit value into `bits` bits, as the
 * kernel's hash_32(); bits is 1..32. */
static inline uint32_t albm_hash_32(uint32_t val, unsigned bits)
{
	return (uint32_t)(val * ALBM_GOLDEN_RATIO_32) >> (32 - bits);
}

/*
 * An address folded to 32 bits in host order, as every IPVS hashing scheduler does:
 * IPv4 is the address itself (ntohl), IPv6 the XOR of its four 32-bit words.
 * `addr` is in network byte order (struct albm_flow's saddr/daddr layout).
 */
uint32_t albm_hash_fold(uint8_t family, const uint8_t addr[16]);
/* The same fold for a socket address (a destination's address). */
uint32_t albm_hash_fold_sockaddr(const struct albm_addr *a);

/* Key of the kernel's hsiphash (two machine words; 64-bit layout). */
struct albm_hsiphash_key {
	uint64_t key[2];
};

/*
 * hsiphash() of one 32-bit value as the kernel computes it on 64-bit machines,
 * where "HalfSipHash-1-3" is SipHash-1-3 with a 64-bit state: 1 compression round,
 * 3 finalisation rounds, the value read as a little-endian 4-byte message, the
 * result truncated to 32 bits.  (SipHash: Aumasson & Bernstein, 2012.)
 */
uint32_t albm_hsiphash_u32(uint32_t v, const struct albm_hsiphash_key *key);

#endif
