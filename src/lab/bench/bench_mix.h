/* ALBM: albm-bench's request mix — "1:50,5M:40,15M:10" parsing and sampling */
#ifndef ALBM_LAB_BENCH_MIX_H
#define ALBM_LAB_BENCH_MIX_H

#include <stddef.h>
#include <stdint.h>

#include "lab/bench/bench_rng.h"

#define BENCH_MIX_MAX        16            /* entries in one mix */
#define BENCH_MIX_WEIGHT_MAX 1000000u      /* per entry */
#define BENCH_SIZE_MAX       (64ull << 30) /* largest /bytes/N a mix may ask for */

struct bench_mix_entry {
	uint64_t size;   /* body bytes, fetched as /bytes/<size> */
	unsigned weight; /* relative; percent when the weights sum to 100 */
};

struct bench_mix {
	struct bench_mix_entry e[BENCH_MIX_MAX];
	size_t n;
	uint64_t total; /* sum of the weights */
};

/*
 * Parse "SIZE:WEIGHT[,SIZE:WEIGHT...]".  SIZE takes K/M/G suffixes (binary, as
 * albm_parse_size); WEIGHT is a positive integer.  Weights are relative: they need
 * not sum to 100 (then "percent" is weight / total).  A repeated size is rejected.
 * Returns 0 or -EINVAL/-ERANGE with a message naming the bad entry.
 */
int bench_mix_parse(const char *text, struct bench_mix *mix, char *err, size_t errlen);

/* Draw one size with probability weight/total. */
uint64_t bench_mix_pick(const struct bench_mix *mix, struct bench_rng *rng);

/* "1:50,5M:40,15M:10" back from a parsed mix; returns buf. */
char *bench_mix_format(const struct bench_mix *mix, char *buf, size_t len);

/* Shortest exact size text: 1, 512K, 5M, 15M, 2G. */
char *bench_size_format(uint64_t size, char *buf, size_t len);

#endif
