/* ALBM: albm-bench's open-loop arrivals — a seeded Poisson process of intended send times */
#ifndef ALBM_LAB_BENCH_ARRIVAL_H
#define ALBM_LAB_BENCH_ARRIVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "lab/bench/bench_mix.h"
#include "lab/bench/bench_rng.h"

/*
 * Open loop, as wrk2 does it: requests arrive on a schedule that does not wait for
 * the answers, and every latency is timed from the request's *intended* send time.
 * A request that could not go out on time (every connection busy, or the bench
 * itself late) carries its wait in its latency instead of silently thinning the
 * load (coordinated omission).
 *
 * The schedule is a Poisson process: exponential gaps of mean 1/rate.  Gaps and
 * sizes come from two random streams of their own, so the i-th arrival's size
 * depends only on (seed, i), and the gaps only on the seed and the rates.
 */
#define BENCH_LATE_NS 10000000ull /* sent this long after its intended time: late */

struct bench_arrivals {
	struct bench_rng gaps, sizes;
	double rate;     /* requests/s from switch_ns on */
	double old_rate; /* before switch_ns (0: none) */
	uint64_t switch_ns;
	uint64_t next_ns; /* intended time of the next arrival */
	uint64_t taken;   /* arrivals taken so far */
};

void bench_arrivals_init(struct bench_arrivals *a, uint64_t seed);
/*
 * Arrivals come at `rate` per second from at_ns on.  The first call starts the
 * process at at_ns.  A later call changes the rate: the process is memoryless, so
 * a gap that reaches past at_ns restarts there at the new rate, while arrivals due
 * before at_ns (a backlog not yet taken) keep their times and are never dropped.
 */
void bench_arrivals_set_rate(struct bench_arrivals *a, double rate, uint64_t at_ns);
/* Intended time of the next arrival (ns on the monotonic clock). */
static inline uint64_t bench_arrivals_next(const struct bench_arrivals *a)
{
	return a->next_ns;
}
/* Take the next arrival: returns its size (drawn from mix); next_ns advances. */
uint64_t bench_arrivals_take(struct bench_arrivals *a, const struct bench_mix *mix);
/* How many arrivals are due by now_ns and not taken yet (none is taken). */
uint64_t bench_arrivals_backlog(const struct bench_arrivals *a, uint64_t now_ns);

/* One exponential gap of mean 1/rate seconds, in ns. */
uint64_t bench_exp_gap_ns(struct bench_rng *rng, double rate);

/* Why an arrival went out late (intended and sent times in ns). */
enum bench_lateness {
	BENCH_ON_TIME,   /* within BENCH_LATE_NS */
	BENCH_LATE_POOL, /* it waited for a connection: all of them were busy */
	BENCH_LATE_LOOP, /* a connection was free: the bench itself was late */
};
enum bench_lateness bench_arrival_lateness(uint64_t intended_ns, uint64_t sent_ns,
					   bool pool_exhausted);

#endif
