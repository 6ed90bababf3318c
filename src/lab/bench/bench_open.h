/* ALBM: albm-bench's open loop — Poisson arrivals dispatched to a pool of clients */
#ifndef ALBM_LAB_BENCH_OPEN_H
#define ALBM_LAB_BENCH_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ev.h"
#include "lab/bench/bench_arrival.h"
#include "lab/bench/bench_client.h"

/*
 * The pool is --clients clients (connections, kept alive with --keepalive).  An
 * arrival takes an idle client when it is due; when every client is busy it waits
 * (the backlog is only the arrival schedule's position: no memory per waiting
 * arrival) and goes out, in order, as soon as a client is free, its latency still
 * timed from its intended time.  Idle clients are a stack, so warm kept-alive
 * connections are reused first.
 */
struct bench_open {
	struct bench_ctx *ctx;
	struct bench_arrivals arr;
	struct evl_timer timer;     /* the next arrival is due */
	struct bench_client **idle; /* stack of idle clients */
	size_t nidle;
	bool exhausted;   /* a due arrival found no idle client (until the backlog is gone) */
	bool dispatching; /* re-entry guard: a request failing at once frees its client */
};

/* Take over `n` initialised clients (all idle); ctx->idle is set to the pool. */
void bench_open_init(struct bench_open *o, struct bench_ctx *ctx, struct bench_client *clients,
		     unsigned n, uint64_t seed);
/* Arrivals at `rate` per second from now on (the first call starts them). */
void bench_open_rate(struct bench_open *o, double rate);
/* Arrivals due by now and not sent yet. */
uint64_t bench_open_backlog(const struct bench_open *o);
/* No more arrivals (the run ends). */
void bench_open_stop(struct bench_open *o);
void bench_open_free(struct bench_open *o);

#endif
