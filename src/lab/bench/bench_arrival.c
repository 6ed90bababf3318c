/* ALBM: albm-bench's open-loop arrivals — a seeded Poisson process of intended send times */
#include "lab/bench/bench_arrival.h"

#include <math.h>

/* Stream numbers below the clients' (0, 1, ...) and the latency reservoir's (max). */
#define ARRIVAL_STREAM_GAPS  (UINT64_MAX - 1)
#define ARRIVAL_STREAM_SIZES (UINT64_MAX - 2)

void bench_arrivals_init(struct bench_arrivals *a, uint64_t seed)
{
	*a = (struct bench_arrivals){ .rate = 0 };
	bench_rng_seed(&a->gaps, seed, ARRIVAL_STREAM_GAPS);
	bench_rng_seed(&a->sizes, seed, ARRIVAL_STREAM_SIZES);
}

uint64_t bench_exp_gap_ns(struct bench_rng *rng, double rate)
{
	/* u uniform in [0, 1) with 53 bits; -ln(1 - u) is exponential with mean 1. */
	double u = (double)(bench_rng_next(rng) >> 11) * 0x1p-53;

	return (uint64_t)llround(-log1p(-u) / rate * 1e9);
}

void bench_arrivals_set_rate(struct bench_arrivals *a, double rate, uint64_t at_ns)
{
	if (a->rate <= 0 || a->next_ns >= at_ns) {
		/* A fresh start, or the pending gap reaches past the switch: restart there. */
		a->next_ns = at_ns + bench_exp_gap_ns(&a->gaps, rate);
		a->old_rate = 0;
	} else {
		a->old_rate = a->rate; /* a backlog before at_ns keeps the old rate's times */
	}
	a->rate = rate;
	a->switch_ns = at_ns;
}

/* The arrival after one at prev_ns: the old rate before the switch, the new after. */
static uint64_t arrivals_after(struct bench_arrivals *a, uint64_t prev_ns)
{
	uint64_t next;

	if (a->old_rate <= 0 || prev_ns >= a->switch_ns)
		return prev_ns + bench_exp_gap_ns(&a->gaps, a->rate);
	next = prev_ns + bench_exp_gap_ns(&a->gaps, a->old_rate);
	if (next < a->switch_ns)
		return next;
	a->old_rate = 0;
	return a->switch_ns + bench_exp_gap_ns(&a->gaps, a->rate);
}

uint64_t bench_arrivals_take(struct bench_arrivals *a, const struct bench_mix *mix)
{
	uint64_t size = bench_mix_pick(mix, &a->sizes);

	a->next_ns = arrivals_after(a, a->next_ns);
	a->taken++;
	return size;
}

uint64_t bench_arrivals_backlog(const struct bench_arrivals *a, uint64_t now_ns)
{
	struct bench_arrivals copy = *a; /* the streams are values: peek on a copy */
	uint64_t n = 0;

	while (copy.rate > 0 && copy.next_ns <= now_ns) {
		copy.next_ns = arrivals_after(&copy, copy.next_ns);
		n++;
	}
	return n;
}

enum bench_lateness bench_arrival_lateness(uint64_t intended_ns, uint64_t sent_ns,
					   bool pool_exhausted)
{
	if (sent_ns <= intended_ns + BENCH_LATE_NS)
		return BENCH_ON_TIME;
	return pool_exhausted ? BENCH_LATE_POOL : BENCH_LATE_LOOP;
}
