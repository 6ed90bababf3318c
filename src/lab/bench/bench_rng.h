/* ALBM: albm-bench's seedable random numbers (splitmix64 streams) */
#ifndef ALBM_LAB_BENCH_RNG_H
#define ALBM_LAB_BENCH_RNG_H

#include <stdint.h>

/*
 * One independent stream per client: the sizes client i requests depend only on
 * (seed, i), never on how the clients' requests interleave, so a run with the same
 * --seed issues the same sequence per client.
 */
struct bench_rng {
	uint64_t state;
};

void bench_rng_seed(struct bench_rng *rng, uint64_t seed, uint64_t stream);
uint64_t bench_rng_next(struct bench_rng *rng);
/* Uniform in [0, n) without modulo bias; n > 0. */
uint64_t bench_rng_below(struct bench_rng *rng, uint64_t n);

#endif
