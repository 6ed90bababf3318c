/* ALBM: albm-bench's seedable random numbers (splitmix64 streams) */
#include "lab/bench/bench_rng.h"

/*
 * splitmix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number generators",
 * OOPSLA 2014): a Weyl sequence through a 64-bit finaliser.  Statistically strong
 * enough for picking request sizes, tiny, and trivially seeded per stream.
 */
#define SPLITMIX_GAMMA 0x9e3779b97f4a7c15ull

static uint64_t rng_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void bench_rng_seed(struct bench_rng *rng, uint64_t seed, uint64_t stream)
{
	/* Mixing the stream number keeps neighbouring streams far apart. */
	rng->state = rng_mix(seed) ^ rng_mix(stream * SPLITMIX_GAMMA + 1);
}

uint64_t bench_rng_next(struct bench_rng *rng)
{
	rng->state += SPLITMIX_GAMMA;
	return rng_mix(rng->state);
}

uint64_t bench_rng_below(struct bench_rng *rng, uint64_t n)
{
	/* Reject the top partial range so that every residue is equally likely. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = bench_rng_next(rng);
	while (x >= limit);
	return x % n;
}
